// The request pipeline shared by the HTTP server and the in-process transport:
// path → RequestInfo → authorization → resource lookup → verb → generic REST semantics.
import { randomUUID } from 'node:crypto';
import YAML from 'yaml';
import type { KubeObject } from '../api/types.js';
import type { UserInfo } from './admission.js';
import {
  aggregatedDiscovery,
  apiGroupDocument,
  apiGroupList,
  apiResourceList,
  apiVersions,
} from './discovery.js';
import {
  ApiError,
  badRequest,
  forbidden,
  methodNotAllowed,
  notAcceptable,
  notFoundPath,
  toApiError,
  unsupportedMediaType,
} from './errors.js';
import { parseRequestInfo, isTrue, type RequestInfo } from './request-info.js';
import { apiVersionOf, type ResourceRegistry, type ServedResource } from './registry.js';
import type { DeleteOptions, ListOptions, PatchType, RequestContext, ResourceStore, WatchEventOut } from './resource-store.js';
import { negotiate, partialObjectMetadata, toTable, type IncludeObject } from './table.js';
import type { Clock } from '../util/clock.js';
import type { Auditor, RequestAudit } from './audit/index.js';
import { kubernetesVersion } from '../util/version.js';

export interface ApiRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  /** Lower-case header names. */
  headers: Record<string, string | undefined>;
  /** Raw body (HTTP) or an already-parsed value (in-process). */
  body?: Buffer | unknown;
  user: UserInfo;
  /** The client's address (HTTP only): the audit log's sourceIPs. */
  remoteAddress?: string;
}

export interface WatchSink {
  send(event: WatchEventOut): void;
  /** Ends the stream (e.g. timeoutSeconds). */
  close(): void;
}

export interface ApiResponse {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** Content type of `body`; JSON when absent. */
  contentType?: string;
  /** Streaming response: called once with a sink; returns a function that stops the stream. */
  stream?: (sink: WatchSink) => Promise<() => void>;
  /** Raw upgrade/stream handlers (exec, attach, portforward, proxy) are served by the HTTP layer. */
  connect?: { resource: ServedResource; info: RequestInfo };
  /** For `connect` responses: the serving layer calls this once the connection has ended. */
  onClose?: () => void;
}

export interface AuthorizationAttributes {
  user: UserInfo;
  verb: string;
  namespace: string;
  apiGroup: string;
  apiVersion: string;
  resource: string;
  subresource: string;
  name: string;
  path: string;
  resourceRequest: boolean;
}

export interface Authorizer {
  authorize(attributes: AuthorizationAttributes): Promise<{ allowed: boolean; reason: string }> | { allowed: boolean; reason: string };
}

/** Endpoints that are not resources (health, metrics, OpenAPI) plug in here. */
export type NonResourceHandler = (request: ApiRequest) => Promise<ApiResponse | undefined> | ApiResponse | undefined;

/** Custom verbs on subresources (binding, eviction, scale, token…) plug in here, keyed by "<group>/<resource>/<subresource>". */
export type SubresourceHandler = (request: ApiRequest, resource: ServedResource, info: RequestInfo, context: RequestContext) => Promise<ApiResponse>;

export interface ApiHandlerDeps {
  registry: ResourceRegistry;
  resources: ResourceStore;
  authorizer: Authorizer;
  clock: Clock;
  serverAddress: () => string;
  nonResource?: NonResourceHandler[];
  subresources?: Record<string, SubresourceHandler>;
  /** Called after each request, for metrics and audit. */
  observe?: (info: RequestInfo, status: number, seconds: number, request: ApiRequest) => void;
  /** Audit logging (--audit-policy-file); absent = off, at no cost beyond the Audit-Id header. */
  audit?: Auditor;
}

const patchTypes: Record<string, PatchType> = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
  'application/apply-patch+yaml': 'apply',
  'application/apply-patch+cbor': 'apply',
};

/**
 * A list or watch narrowed to one object by `fieldSelector=metadata.name=X` is authorized as a
 * request for X, as Kubernetes' RequestInfoFactory does — so a role with `resourceNames` can
 * watch just its own object (as an informer on one ConfigMap does).
 */
function nameFromFieldSelector(verb: string, query: URLSearchParams): string {
  if (verb !== 'list' && verb !== 'watch') return '';
  const selector = query.get('fieldSelector');
  if (!selector) return '';
  const terms = selector.split(',');
  if (terms.length !== 1) return '';
  const m = /^metadata\.name(==?)(.+)$/.exec(terms[0]!.trim());
  return m ? m[2]!.trim() : '';
}

export class ApiHandler {
  constructor(private readonly deps: ApiHandlerDeps) {}

  async handle(request: ApiRequest): Promise<ApiResponse> {
    const started = process.hrtime.bigint();
    // Kubernetes answers every request with an Audit-Id, the client's own when it sent one.
    const auditID = request.headers['audit-id'] || randomUUID();
    let info: RequestInfo | undefined;
    let response: ApiResponse;
    let audit: RequestAudit | undefined;
    try {
      info = parseRequestInfo(request.method, request.path, request.query);
      if (this.deps.audit) audit = this.deps.audit.begin(request, info, auditID);
      response = await this.dispatch(request, info, audit);
    } catch (e) {
      const error = toApiError(e);
      if (error.code >= 500) console.error(JSON.stringify({ component: 'apiserver', level: 'error', path: request.path, method: request.method, error: (e as Error)?.stack ?? String(e) }));
      response = { status: error.code, body: error.toStatus() };
      if (audit && error.code >= 500 && !(e instanceof ApiError)) {
        audit.panic(e);
        audit = undefined;
      }
    }
    if (audit) response = audit.respond(response);
    response = { ...response, headers: response.headers ? { ...response.headers, 'Audit-Id': auditID } : { 'Audit-Id': auditID } };
    if (info && this.deps.observe) {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.deps.observe(info, response.status, seconds, request);
    }
    return response;
  }

  private async dispatch(request: ApiRequest, info: RequestInfo, audit: RequestAudit | undefined): Promise<ApiResponse> {
    if (request.headers['impersonate-user'] || request.headers['impersonate-group'] || request.headers['impersonate-uid']) {
      request = { ...request, user: await this.impersonate(request) };
      audit?.impersonated(request.user);
    }
    if (!info.isResourceRequest) {
      await this.authorizeOrThrow({ user: request.user, verb: request.method.toLowerCase(), namespace: '', apiGroup: '', apiVersion: '', resource: '', subresource: '', name: '', path: request.path, resourceRequest: false }, audit);
      for (const h of this.deps.nonResource ?? []) {
        const r = await h(request);
        if (r) return r;
      }
      return this.discovery(request, info);
    }
    const resource = this.deps.registry.lookup(info.group, info.version, info.resource);
    await this.authorizeOrThrow({
      user: request.user,
      verb: info.verb,
      namespace: info.namespace,
      apiGroup: info.group,
      apiVersion: info.version,
      resource: info.resource,
      subresource: info.subresource,
      name: info.name || nameFromFieldSelector(info.verb, request.query),
      path: request.path,
      resourceRequest: true,
    }, audit);
    if (!resource) throw notFoundPath();
    if (info.parts.length > 3) throw notFoundPath();
    if (info.subresource && !(resource.subresources ?? []).includes(info.subresource)) throw notFoundPath();
    const context: RequestContext = {
      user: request.user,
      dryRun: request.query.getAll('dryRun').includes('All'),
      fieldManager: request.query.get('fieldManager') ?? undefined,
      fieldValidation: (request.query.get('fieldValidation') as RequestContext['fieldValidation']) ?? undefined,
      warnings: [],
    };
    if (request.query.getAll('dryRun').some((d) => d !== 'All')) {
      throw badRequest(`Invalid dry run value: ${request.query.getAll('dryRun').join(',')}; must be "All"`);
    }
    if (context.fieldValidation && !['Strict', 'Warn', 'Ignore'].includes(context.fieldValidation)) {
      throw badRequest(`fieldValidation parameter unsupported: ${context.fieldValidation}`);
    }
    if (!context.fieldManager) context.fieldManager = managerFromUserAgent(request.headers['user-agent'], info.verb);
    const response = await this.resourceRequest(request, info, resource, context);
    if (context.warnings.length) {
      response.headers = { ...(response.headers ?? {}), warning: context.warnings.map((w) => `299 - ${JSON.stringify(w)}`).join(', ') };
    }
    return response;
  }

  /**
   * Impersonate-User / -Group / -Uid / -Extra-* headers (kubectl --as, --as-group): the caller
   * must be allowed to "impersonate" each; the request then runs as that user.
   */
  private async impersonate(request: ApiRequest): Promise<UserInfo> {
    const h = request.headers;
    const username = h['impersonate-user'];
    if (!username) throw forbidden('requested impersonation of groups or uid without impersonating a user');
    const groups = (h['impersonate-group'] ?? '').split(',').map((g) => g.trim()).filter(Boolean);
    const base = { user: request.user, apiVersion: 'v1', subresource: '', path: request.path, resourceRequest: true };
    const sa = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(username);
    const check = async (apiGroup: string, resource: string, name: string, namespace = '') => {
      const decision = await this.deps.authorizer.authorize({ ...base, verb: 'impersonate', apiGroup, resource, name, namespace });
      if (!decision.allowed) {
        const what = sa && resource === 'serviceaccounts' ? `serviceaccounts "${name}"` : `${resource} "${name}"`;
        throw forbidden(`${what} is forbidden: User "${request.user.username}" cannot impersonate resource "${resource}" in API group "${apiGroup}"${namespace ? ` in the namespace "${namespace}"` : ' at the cluster scope'}`);
      }
    };
    if (sa) await check('', 'serviceaccounts', sa[2], sa[1]);
    else await check('', 'users', username);
    for (const g of groups) await check('', 'groups', g);
    const uid = h['impersonate-uid'];
    if (uid) await check('authentication.k8s.io', 'uids', uid);
    const extra: Record<string, string[]> = {};
    for (const [k, v] of Object.entries(h)) {
      if (!k.startsWith('impersonate-extra-') || v === undefined) continue;
      const key = decodeURIComponent(k.slice('impersonate-extra-'.length));
      extra[key] = v.split(',').map((x) => x.trim());
      for (const value of extra[key]) await check('authentication.k8s.io', `userextras/${key}`, value);
    }
    const allGroups = [...groups];
    if (sa) allGroups.push('system:serviceaccounts', `system:serviceaccounts:${sa[1]}`);
    if (username !== 'system:anonymous' && !allGroups.includes('system:authenticated')) allGroups.push('system:authenticated');
    return { username, uid, groups: allGroups, extra: Object.keys(extra).length ? extra : undefined };
  }

  private async authorizeOrThrow(attributes: AuthorizationAttributes, audit: RequestAudit | undefined): Promise<void> {
    const decision = await this.deps.authorizer.authorize(attributes);
    audit?.authorized(decision);
    if (decision.allowed) return;
    const user = attributes.user.username;
    if (!attributes.resourceRequest) {
      throw forbidden(`forbidden: User "${user}" cannot ${attributes.verb} path "${attributes.path}"${decision.reason ? `: ${decision.reason}` : ''}`);
    }
    const resourceName = attributes.subresource ? `${attributes.resource}/${attributes.subresource}` : attributes.resource;
    const groupResource = attributes.apiGroup ? `${attributes.resource}.${attributes.apiGroup}` : attributes.resource;
    const what = attributes.name ? `${groupResource} "${attributes.name}"` : groupResource;
    const scope = attributes.namespace ? ` in the namespace "${attributes.namespace}"` : ' at the cluster scope';
    const apiGroupText = `in API group "${attributes.apiGroup}"`;
    throw forbidden(`${what} is forbidden: User "${user}" cannot ${attributes.verb} resource "${resourceName}" ${apiGroupText}${scope}${decision.reason ? `: ${decision.reason}` : ''}`, {
      name: attributes.name || undefined,
      group: attributes.apiGroup || undefined,
      kind: attributes.resource,
    });
  }

  private discovery(request: ApiRequest, info: RequestInfo): ApiResponse {
    const segments = request.path.split('/').filter(Boolean);
    const accept = request.headers['accept'] ?? '';
    const aggregated = accept.includes('g=apidiscovery.k8s.io') ? (accept.includes('v=v2beta1') && !accept.includes('v=v2;') && !/v=v2(,|$)/.test(accept) ? 'v2beta1' : 'v2') : undefined;
    if (segments.length === 1 && (segments[0] === 'api' || segments[0] === 'apis')) {
      if (aggregated) {
        return {
          status: 200,
          body: aggregatedDiscovery(this.deps.registry, segments[0] === 'api', aggregated),
          contentType: `application/json;g=apidiscovery.k8s.io;v=${aggregated};as=APIGroupDiscoveryList`,
        };
      }
      return { status: 200, body: segments[0] === 'api' ? apiVersions(this.deps.serverAddress()) : apiGroupList(this.deps.registry) };
    }
    if (segments[0] === 'apis' && segments.length === 2) {
      const doc = apiGroupDocument(this.deps.registry, segments[1]);
      if (doc) return { status: 200, body: doc };
    }
    if (info.apiPrefix && info.version && !info.isResourceRequest) {
      const list = apiResourceList(this.deps.registry, info.group, info.version);
      if (list) return { status: 200, body: list };
    }
    if (request.path === '/version' || request.path === '/version/') {
      return {
        status: 200,
        body: {
          major: kubernetesVersion.major,
          minor: kubernetesVersion.minor,
          gitVersion: kubernetesVersion.gitVersion,
          gitCommit: 'navarch',
          gitTreeState: 'clean',
          buildDate: '2026-01-01T00:00:00Z',
          goVersion: `node${process.versions.node}`,
          compiler: 'tsc',
          platform: `linux/${process.arch === 'x64' ? 'amd64' : process.arch}`,
        },
      };
    }
    throw notFoundPath();
  }

  private parseBody(request: ApiRequest, allowYaml: boolean): unknown {
    const body = request.body;
    if (body === undefined || body === null) return undefined;
    if (!Buffer.isBuffer(body)) return body;
    if (body.length === 0) return undefined;
    const contentType = (request.headers['content-type'] ?? 'application/json').split(';')[0].trim();
    const text = body.toString('utf8');
    try {
      if (contentType.endsWith('yaml') || (allowYaml && contentType === 'application/apply-patch+yaml')) return YAML.parse(text);
      return JSON.parse(text);
    } catch (e) {
      if (contentType.includes('protobuf')) throw unsupportedMediaType(contentType);
      throw badRequest(`error decoding request body: ${(e as Error).message}`);
    }
  }

  private listOptions(query: URLSearchParams): ListOptions {
    const limit = query.get('limit');
    return {
      labelSelector: query.get('labelSelector') ?? undefined,
      fieldSelector: query.get('fieldSelector') ?? undefined,
      limit: limit ? Number(limit) : undefined,
      continue: query.get('continue') ?? undefined,
      resourceVersion: query.get('resourceVersion') ?? undefined,
      resourceVersionMatch: query.get('resourceVersionMatch') ?? undefined,
    };
  }

  private async resourceRequest(request: ApiRequest, info: RequestInfo, resource: ServedResource, context: RequestContext): Promise<ApiResponse> {
    const { registry, resources } = this.deps;
    const verb = info.verb;
    const media = negotiate(request.headers['accept']);
    if (media.protobufOnly) throw notAcceptable('only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf');
    const namespace = resource.namespaced ? info.namespace : '';
    if (resource.namespaced && !namespace && ['create', 'update', 'patch', 'delete', 'get'].includes(verb) && resource.resource !== 'namespaces') {
      throw notFoundPath();
    }

    if (info.subresource && !['status'].includes(info.subresource)) {
      const key = `${resource.group}/${resource.resource}/${info.subresource}`;
      const handler = this.deps.subresources?.[key] ?? this.deps.subresources?.[`*/*/${info.subresource}`];
      if (handler) return handler(request, resource, info, context);
      if (['exec', 'attach', 'portforward', 'proxy', 'log'].includes(info.subresource)) return { status: 0, connect: { resource, info } };
      throw methodNotAllowed();
    }

    const allowed = (v: string) => resource.verbs.includes(v);
    // Resources computed rather than stored (metrics.k8s.io) serve their reads through a handler
    // keyed "<group>/<resource>/"; create-only reviews use the same key for create below.
    const computed = this.deps.subresources?.[`${resource.group}/${resource.resource}/`];
    if (computed && !resource.createOnly && (verb === 'get' || verb === 'list')) {
      if (!allowed(verb)) throw methodNotAllowed();
      const response = await computed(request, resource, info, context);
      if (media.as === 'Table' && response.status === 200 && response.body && typeof response.body === 'object') {
        const body = response.body as { items?: KubeObject[] };
        const items = verb === 'list' ? (body.items ?? []) : [response.body as KubeObject];
        return { status: 200, body: toTable(registry.printer(resource), items, {}, includeObject(request.query), media.version ?? 'v1', new Date(this.deps.clock.now())) };
      }
      return response;
    }
    const objectResponse = (status: number, object: unknown): ApiResponse => {
      if (media.as === 'Table' && object && typeof object === 'object' && (object as KubeObject).metadata && (object as KubeObject).kind !== 'Status') {
        const o = object as KubeObject;
        const body = toTable(registry.printer(resource), [o], { resourceVersion: o.metadata.resourceVersion }, includeObject(request.query), media.version ?? 'v1', new Date(this.deps.clock.now()));
        return { status, body };
      }
      if (media.as === 'PartialObjectMetadata' && object && (object as KubeObject).metadata) return { status, body: partialObjectMetadata(object as KubeObject) };
      return { status, body: object };
    };

    switch (verb) {
      case 'get': {
        if (!allowed('get')) throw methodNotAllowed();
        return objectResponse(200, await resources.get(resource, namespace, info.name));
      }
      case 'list': {
        if (!allowed('list')) throw methodNotAllowed();
        const result = await resources.list(resource, namespace, this.listOptions(request.query));
        const listMeta: Record<string, unknown> = { resourceVersion: result.resourceVersion };
        if (result.continue) listMeta.continue = result.continue;
        if (result.remainingItemCount !== undefined) listMeta.remainingItemCount = result.remainingItemCount;
        if (media.as === 'Table') {
          return { status: 200, body: toTable(registry.printer(resource), result.items, listMeta, includeObject(request.query), media.version ?? 'v1', new Date(this.deps.clock.now())) };
        }
        if (media.as === 'PartialObjectMetadataList' || media.as === 'PartialObjectMetadata') {
          return { status: 200, body: { kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata: listMeta, items: result.items.map(partialObjectMetadata) } };
        }
        return { status: 200, body: { kind: `${resource.kind}List`, apiVersion: apiVersionOf(resource.group, resource.version), metadata: listMeta, items: result.items } };
      }
      case 'watch': {
        if (!allowed('watch')) throw methodNotAllowed();
        const options = {
          ...this.listOptions(request.query),
          allowWatchBookmarks: isTrue(request.query.get('allowWatchBookmarks')),
          sendInitialEvents: request.query.has('sendInitialEvents') ? isTrue(request.query.get('sendInitialEvents')) : undefined,
          name: info.name || undefined,
        };
        const timeoutSeconds = Number(request.query.get('timeoutSeconds') ?? 0);
        const now = () => new Date(this.deps.clock.now());
        const printer = registry.printer(resource);
        const include = includeObject(request.query);
        // Validate selectors and resourceVersion before the stream starts, so errors are plain HTTP errors.
        if (options.resourceVersion && options.resourceVersion !== '0' && !/^\d+$/.test(options.resourceVersion)) throw badRequest(`invalid resource version: ${options.resourceVersion}`);
        return {
          status: 200,
          contentType: 'application/json',
          stream: async (sink) => {
            let first = true;
            const send = (event: WatchEventOut) => {
              if (media.as === 'Table' && event.type !== 'ERROR' && event.type !== 'BOOKMARK') {
                const table = toTable(printer, [event.object as KubeObject], { resourceVersion: (event.object as KubeObject).metadata.resourceVersion }, include, media.version ?? 'v1', now()) as { columnDefinitions: unknown[] };
                if (!first) table.columnDefinitions = [];
                first = false;
                sink.send({ type: event.type, object: table });
              } else if ((media.as === 'PartialObjectMetadata' || media.as === 'PartialObjectMetadataList') && event.type !== 'ERROR') {
                sink.send({ type: event.type, object: partialObjectMetadata(event.object as KubeObject) });
              } else {
                sink.send(event);
              }
            };
            const stop = await resources.watch(resource, namespace, options, send);
            let timer: NodeJS.Timeout | undefined;
            if (timeoutSeconds > 0) {
              timer = setTimeout(() => {
                stop();
                sink.close();
              }, timeoutSeconds * 1000);
              timer.unref();
            }
            return () => {
              if (timer) clearTimeout(timer);
              stop();
            };
          },
        };
      }
      case 'create': {
        if (!allowed('create')) throw methodNotAllowed();
        if (info.name && !info.subresource) throw methodNotAllowed();
        const body = this.parseBody(request, false);
        if (resource.createOnly) {
          const handler = this.deps.subresources?.[`${resource.group}/${resource.resource}/`];
          if (handler) return handler(request, resource, info, context);
        }
        const created = await resources.create(resource, namespace, body, context);
        return objectResponse(201, created);
      }
      case 'update': {
        if (!allowed('update') && info.subresource !== 'status') throw methodNotAllowed();
        const body = this.parseBody(request, false);
        const { object, created } = await resources.update(resource, namespace, info.name, body, context, info.subresource);
        return objectResponse(created ? 201 : 200, object);
      }
      case 'patch': {
        if (!allowed('patch') && info.subresource !== 'status') throw methodNotAllowed();
        const contentType = (request.headers['content-type'] ?? '').split(';')[0].trim();
        const type = patchTypes[contentType];
        if (!type) throw unsupportedMediaType(contentType);
        const body = this.parseBody(request, true);
        const force = isTrue(request.query.get('force'));
        if (type !== 'apply' && request.query.has('force')) throw badRequest('force: Forbidden: may not be specified for non-apply patch');
        const { object, created } = await resources.patch(resource, namespace, info.name, type, body, context, { subresource: info.subresource, force });
        return objectResponse(created ? 201 : 200, object);
      }
      case 'delete': {
        if (!allowed('delete')) throw methodNotAllowed();
        const options = this.deleteOptions(request);
        const { status, body } = await resources.delete(resource, namespace, info.name, options, context);
        return objectResponse(status, body);
      }
      case 'deletecollection': {
        if (!allowed('deletecollection')) throw methodNotAllowed();
        const options = this.deleteOptions(request);
        const result = await resources.deleteCollection(resource, namespace, this.listOptions(request.query), options, context);
        return { status: 200, body: { kind: `${resource.kind}List`, apiVersion: apiVersionOf(resource.group, resource.version), metadata: { resourceVersion: result.resourceVersion }, items: result.items } };
      }
      default:
        throw methodNotAllowed();
    }
  }

  private deleteOptions(request: ApiRequest): DeleteOptions {
    const body = (this.parseBody(request, false) ?? {}) as DeleteOptions & { kind?: string };
    const q = request.query;
    const options: DeleteOptions = { ...body };
    if (q.has('propagationPolicy')) options.propagationPolicy = q.get('propagationPolicy') as DeleteOptions['propagationPolicy'];
    if (q.has('gracePeriodSeconds')) options.gracePeriodSeconds = Number(q.get('gracePeriodSeconds'));
    if (q.has('orphanDependents')) options.orphanDependents = isTrue(q.get('orphanDependents'));
    if (options.gracePeriodSeconds !== undefined && (!Number.isInteger(options.gracePeriodSeconds) || options.gracePeriodSeconds < 0)) {
      // Kubernetes treats negative grace as "use 1 second".
      options.gracePeriodSeconds = options.gracePeriodSeconds < 0 ? 1 : Math.floor(options.gracePeriodSeconds);
    }
    return options;
  }
}

function includeObject(query: URLSearchParams): IncludeObject {
  const v = query.get('includeObject');
  return v === 'None' || v === 'Object' ? v : 'Metadata';
}

/** kubectl identifies itself as "kubectl/v1.31.0 (linux/amd64) kubernetes/abc"; Kubernetes names the manager "kubectl-<command>" or the binary name. */
export function managerFromUserAgent(userAgent: string | undefined, verb: string): string | undefined {
  if (!userAgent) return undefined;
  const name = userAgent.split('/')[0].split(' ')[0];
  if (!name) return undefined;
  if (name === 'kubectl' && verb === 'create') return 'kubectl-create';
  if (name === 'kubectl' && verb === 'update') return 'kubectl-edit';
  if (name === 'kubectl' && verb === 'patch') return 'kubectl-patch';
  return name;
}

export { ApiError };
