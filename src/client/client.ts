// A dynamic resource client speaking Kubernetes REST: the same paths, verbs, query
// parameters and content types kubectl and client-go use, so it works against navarch's
// API server and against a real Kubernetes one alike.
import type { KubeObject } from '../api/types.js';
import type { Clock } from './clock.js';
import { jitter, sleep, systemClock } from './clock.js';
import { ApiError, isConflict, retryAfterSeconds } from './errors.js';
import type { Transport, TransportRequest, WatchEvent, WatchHandle } from './transport.js';

/** Which resource a ResourceClient addresses (a ResourceDefinition from api/ fits). */
export interface ResourceRef {
  /** '' for the core group. */
  group: string;
  version: string;
  /** Plural resource name: "pods", "deployments". */
  resource: string;
  namespaced: boolean;
  /** Kind, when known: lets list items be stamped with apiVersion/kind. */
  kind?: string;
}

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  /** "NotOlderThan" | "Exact" — meaningful with resourceVersion. */
  resourceVersionMatch?: string;
  timeoutSeconds?: number;
}

export interface WatchOptions {
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  allowWatchBookmarks?: boolean;
  /** Server closes the stream cleanly after this long. */
  timeoutSeconds?: number;
  /** Ask for a synthetic ADDED per existing object followed by a bookmark (WatchList). */
  sendInitialEvents?: boolean;
  resourceVersionMatch?: string;
}

export interface WriteOptions {
  /** Server runs admission and validation but persists nothing. */
  dryRun?: boolean;
  fieldManager?: string;
  /** "Strict" | "Warn" | "Ignore". */
  fieldValidation?: string;
}

export type PatchType = 'merge' | 'json' | 'strategic' | 'apply';

export interface PatchOptions extends WriteOptions {
  /** Server-side apply: take ownership of conflicting fields. */
  force?: boolean;
}

export interface Preconditions {
  uid?: string;
  resourceVersion?: string;
}

export interface DeleteOptions {
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  gracePeriodSeconds?: number;
  preconditions?: Preconditions;
  dryRun?: boolean;
}

export interface ObjectList<T extends KubeObject = KubeObject> {
  apiVersion?: string;
  kind?: string;
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  items: T[];
}

const patchContentTypes: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
};

export function apiVersionOf(ref: Pick<ResourceRef, 'group' | 'version'>): string {
  return ref.group ? `${ref.group}/${ref.version}` : ref.version;
}

/**
 * The REST path of a resource: /api/v1/namespaces/{ns}/pods/{name}/{subresource} for the
 * core group, /apis/{group}/{version}/... for the others. Omitting the namespace of a
 * namespaced resource addresses it across all namespaces (list/watch only).
 */
export function resourcePath(ref: ResourceRef, namespace?: string, name?: string, subresource?: string): string {
  let path = ref.group ? `/apis/${ref.group}/${ref.version}` : `/api/${ref.version}`;
  if (ref.namespaced && namespace) path += `/namespaces/${encodeURIComponent(namespace)}`;
  path += `/${ref.resource}`;
  if (name !== undefined) {
    if (name === '') throw new Error(`resource name may not be empty (${ref.resource})`);
    path += `/${encodeURIComponent(name)}`;
    if (subresource) path += `/${subresource}`;
  }
  return path;
}

function writeQuery(options: WriteOptions | undefined): Record<string, string> {
  const query: Record<string, string> = {};
  if (options?.dryRun) query.dryRun = 'All';
  if (options?.fieldManager) query.fieldManager = options.fieldManager;
  if (options?.fieldValidation) query.fieldValidation = options.fieldValidation;
  return query;
}

function listQuery(options: ListOptions | WatchOptions | undefined): Record<string, string> {
  const query: Record<string, string> = {};
  if (!options) return query;
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined || value === null || value === '') continue;
    query[key] = String(value);
  }
  return query;
}

function deleteBody(options: DeleteOptions | undefined): Record<string, unknown> | undefined {
  if (!options) return undefined;
  const body: Record<string, unknown> = { apiVersion: 'v1', kind: 'DeleteOptions' };
  if (options.propagationPolicy) body.propagationPolicy = options.propagationPolicy;
  if (options.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = options.gracePeriodSeconds;
  if (options.preconditions) body.preconditions = options.preconditions;
  if (options.dryRun) body.dryRun = ['All'];
  return body;
}

export interface ClientOptions {
  clock?: Clock;
  /**
   * How often a request answered 429 TooManyRequests is retried after the server's
   * Retry-After (client-go retries up to 10 times). The server refused it before doing
   * anything, so this is safe for every verb.
   */
  maxThrottleRetries?: number;
}

export class ResourceClient<T extends KubeObject = KubeObject> {
  constructor(
    private readonly transport: Transport,
    readonly ref: ResourceRef,
    private readonly options: ClientOptions = {},
  ) {}

  private namespaceOf(namespace: string | undefined, verb: string): string | undefined {
    if (!this.ref.namespaced) return undefined;
    if (!namespace) throw new Error(`${verb} ${this.ref.resource}: a namespace is required`);
    return namespace;
  }

  private call(method: string, path: string, init: { query?: Record<string, string>; body?: unknown; contentType?: string } = {}): Promise<any> {
    return send(this.transport, this.options, { method, path, ...init });
  }

  async get(namespace: string | undefined, name: string, options: { resourceVersion?: string } = {}): Promise<T> {
    return this.call('GET', resourcePath(this.ref, this.namespaceOf(namespace, 'get'), name), {
      query: listQuery(options),
    });
  }

  /** Lists one page (or everything when no limit). Items are stamped with apiVersion/kind when the kind is known, as informers expect. */
  async list(namespace?: string, options: ListOptions = {}): Promise<ObjectList<T>> {
    const list: ObjectList<T> = await this.call('GET', resourcePath(this.ref, namespace), { query: listQuery(options) });
    const kind = this.ref.kind ?? (list.kind?.endsWith('List') ? list.kind.slice(0, -4) : undefined);
    if (kind) {
      const apiVersion = apiVersionOf(this.ref);
      for (const item of list.items ?? []) {
        item.apiVersion ??= apiVersion;
        item.kind ??= kind;
      }
    }
    list.items ??= [];
    list.metadata ??= {};
    return list;
  }

  /** Follows `continue` tokens until the list is complete. */
  async listAll(namespace?: string, options: Omit<ListOptions, 'continue'> = {}): Promise<ObjectList<T>> {
    const first = await this.list(namespace, options);
    let page = first;
    while (page.metadata.continue) {
      page = await this.list(namespace, { ...options, continue: page.metadata.continue, resourceVersion: undefined });
      first.items.push(...page.items);
    }
    first.metadata = { resourceVersion: first.metadata.resourceVersion };
    return first;
  }

  watch(
    namespace: string | undefined,
    options: WatchOptions,
    onEvent: (ev: WatchEvent) => void,
    onClose: (err?: Error) => void,
  ): WatchHandle {
    return this.transport.watch({ path: resourcePath(this.ref, namespace), query: listQuery(options) }, onEvent, onClose);
  }

  async create(namespace: string | undefined, obj: T, options?: WriteOptions): Promise<T> {
    const ns = this.ref.namespaced ? namespace || obj.metadata?.namespace : undefined;
    return this.call('POST', resourcePath(this.ref, this.namespaceOf(ns, 'create')), {
      query: writeQuery(options),
      body: obj,
    });
  }

  /** PUT of the whole object; metadata.resourceVersion, when set, is the optimistic-concurrency precondition. */
  async update(obj: T, options?: WriteOptions): Promise<T> {
    return this.call('PUT', resourcePath(this.ref, this.namespaceOf(obj.metadata.namespace, 'update'), obj.metadata.name!), {
      query: writeQuery(options),
      body: obj,
    });
  }

  async updateStatus(obj: T, options?: WriteOptions): Promise<T> {
    return this.updateSubresource(obj.metadata.namespace, obj.metadata.name!, 'status', obj, options);
  }

  async patch(namespace: string | undefined, name: string, type: PatchType, body: unknown, options: PatchOptions = {}): Promise<T> {
    return this.patchSubresource(namespace, name, '', type, body, options);
  }

  async patchStatus(namespace: string | undefined, name: string, type: PatchType, body: unknown, options: PatchOptions = {}): Promise<T> {
    return this.patchSubresource(namespace, name, 'status', type, body, options);
  }

  /** Returns the server's answer: the deleted object, the object with deletionTimestamp set (finalizers, graceful deletion) or a Status. */
  async delete(namespace: string | undefined, name: string, options?: DeleteOptions): Promise<T | any> {
    return this.call('DELETE', resourcePath(this.ref, this.namespaceOf(namespace, 'delete'), name), {
      body: deleteBody(options),
    });
  }

  async deleteCollection(namespace: string | undefined, listOptions: ListOptions = {}, options?: DeleteOptions): Promise<any> {
    return this.call('DELETE', resourcePath(this.ref, namespace), {
      query: listQuery(listOptions),
      body: deleteBody(options),
    });
  }

  async getSubresource(namespace: string | undefined, name: string, subresource: string, query?: Record<string, string>): Promise<any> {
    return this.call('GET', resourcePath(this.ref, this.namespaceOf(namespace, 'get'), name, subresource), { query });
  }

  async createSubresource(namespace: string | undefined, name: string, subresource: string, body: unknown, options?: WriteOptions): Promise<any> {
    return this.call('POST', resourcePath(this.ref, this.namespaceOf(namespace, 'create'), name, subresource), {
      query: writeQuery(options),
      body,
    });
  }

  async updateSubresource(namespace: string | undefined, name: string, subresource: string, body: unknown, options?: WriteOptions): Promise<any> {
    return this.call('PUT', resourcePath(this.ref, this.namespaceOf(namespace, 'update'), name, subresource), {
      query: writeQuery(options),
      body,
    });
  }

  async patchSubresource(
    namespace: string | undefined,
    name: string,
    subresource: string,
    type: PatchType,
    body: unknown,
    options: PatchOptions = {},
  ): Promise<any> {
    if (type === 'apply' && !options.fieldManager) {
      throw new Error('server-side apply requires a fieldManager');
    }
    const query = writeQuery(options);
    if (options.force) query.force = 'true';
    return this.call('PATCH', resourcePath(this.ref, this.namespaceOf(namespace, 'patch'), name, subresource || undefined), {
      query,
      body,
      contentType: patchContentTypes[type],
    });
  }

  /** autoscaling/v1 Scale of a workload (deployments, replicasets, statefulsets, replicationcontrollers). */
  async getScale(namespace: string | undefined, name: string): Promise<any> {
    return this.getSubresource(namespace, name, 'scale');
  }

  async updateScale(namespace: string | undefined, name: string, scale: any, options?: WriteOptions): Promise<any> {
    return this.updateSubresource(namespace, name, 'scale', scale, options);
  }

  /** POST pods/{name}/binding: what the scheduler does to place a pod. */
  async bind(namespace: string | undefined, podName: string, nodeName: string, options?: WriteOptions): Promise<any> {
    return this.createSubresource(
      namespace,
      podName,
      'binding',
      {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name: podName, namespace },
        target: { apiVersion: 'v1', kind: 'Node', name: nodeName },
      },
      options,
    );
  }

  /** POST pods/{name}/eviction: a delete that honours PodDisruptionBudgets (429 when it would violate one). */
  async evict(namespace: string | undefined, podName: string, deleteOptions?: DeleteOptions): Promise<any> {
    const eviction: Record<string, unknown> = {
      apiVersion: 'policy/v1',
      kind: 'Eviction',
      metadata: { name: podName, namespace },
    };
    const body = deleteBody(deleteOptions);
    if (body) eviction.deleteOptions = body;
    return this.createSubresource(namespace, podName, 'eviction', eviction);
  }
}

/** One request: non-2xx becomes an ApiError; 429 is retried after Retry-After. */
async function send(transport: Transport, options: ClientOptions, req: TransportRequest): Promise<any> {
  const maxRetries = options.maxThrottleRetries ?? 10;
  for (let attempt = 0; ; attempt++) {
    const response = await transport.request(req);
    if (response.status >= 200 && response.status <= 299) return response.body;
    const error = ApiError.fromResponse(response.status, response.body);
    if (response.status !== 429 || attempt >= maxRetries) throw error;
    const header = Number(response.headers?.['retry-after']);
    const seconds = Number.isFinite(header) && header > 0 ? header : retryAfterSeconds(error) ?? 1;
    await sleep(options.clock ?? systemClock(), Math.min(seconds, 60) * 1000);
  }
}

export class Client {
  constructor(
    readonly transport: Transport,
    readonly options: ClientOptions = {},
  ) {}

  resource<T extends KubeObject = KubeObject>(ref: ResourceRef): ResourceClient<T> {
    return new ResourceClient<T>(this.transport, ref, this.options);
  }

  /** Raw GET of any path (discovery, /version, /readyz). */
  getPath(path: string, query?: Record<string, string>): Promise<any> {
    return send(this.transport, this.options, { method: 'GET', path, query });
  }
}

export function createClient(transport: Transport, options: ClientOptions = {}): Client {
  return new Client(transport, options);
}

export interface RetryBackoff {
  steps: number;
  durationMs: number;
  factor: number;
  jitter: number;
}

/** client-go's retry.DefaultRetry: 5 tries, 10 ms apart, a little jitter. */
export const defaultRetry: RetryBackoff = { steps: 5, durationMs: 10, factor: 1, jitter: 0.1 };

/**
 * Runs `fn` again while it fails with a Conflict, as client-go's retry.RetryOnConflict.
 * `fn` must re-read the object each time: the retry exists because its copy was stale.
 */
export async function retryOnConflict<R>(
  fn: () => Promise<R>,
  backoff: RetryBackoff = defaultRetry,
  clock: Clock = systemClock(),
): Promise<R> {
  let delay = backoff.durationMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isConflict(err) || attempt >= backoff.steps) throw err;
    }
    await sleep(clock, backoff.jitter > 0 ? jitter(delay, backoff.jitter) : delay);
    delay *= backoff.factor;
  }
}

/** "namespace/name", or "name" for cluster-scoped objects: client-go's MetaNamespaceKeyFunc. */
export function objectKey(obj: { metadata?: { namespace?: string; name?: string } }): string {
  const ns = obj.metadata?.namespace;
  return ns ? `${ns}/${obj.metadata?.name ?? ''}` : obj.metadata?.name ?? '';
}

export function splitObjectKey(key: string): { namespace?: string; name: string } {
  const slash = key.indexOf('/');
  return slash < 0 ? { name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
