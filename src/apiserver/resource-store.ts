// Generic REST semantics over the Store, for every kind: the equivalent of Kubernetes'
// generic registry. Handlers (HTTP or in-process) parse requests and call these methods.
import { randomUUID } from 'node:crypto';
import type { KubeObject, ManagedFieldsEntry, SchemaNode } from '../api/types.js';
import type { Store, KeyValue, WriteResult } from '../storage/types.js';
import { CompactedError } from '../storage/types.js';
import { deepClone, deepEqual } from '../util/json.js';
import { AdmissionTransaction, type AdmissionChain, type UserInfo } from './admission.js';
import {
  ApiError,
  alreadyExists,
  badRequest,
  conflict,
  gone,
  invalid,
  notFound,
  objectModifiedMessage,
  successStatus,
} from './errors.js';
import { pruneUnknownFields } from './prune.js';
import { apiVersionOf, type ResourceRegistry, type ServedResource } from './registry.js';
import { specChanged, strategyFor } from './strategy.js';
import { convertObject } from './conversion.js';
import type { WatchCache, CacheEvent } from './watch-cache.js';
import type { Clock } from '../util/clock.js';

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

/** The patch engines (src/apiserver/patch/), injected so this file stays about storage semantics. */
export interface PatchEngines {
  json(document: unknown, operations: unknown): unknown;
  merge(document: unknown, patch: unknown): unknown;
  strategic(document: unknown, patch: unknown, schema: SchemaNode | undefined): unknown;
  apply(
    live: KubeObject | null,
    applied: KubeObject,
    manager: string,
    options: { force: boolean; apiVersion: string; schema?: SchemaNode; now: string },
  ): { object: KubeObject; conflicts?: { manager: string; field: string }[] };
  /** managedFields after a non-apply write by `manager` changed `oldObject` into `newObject`. */
  trackUpdate(
    oldObject: KubeObject | null,
    newObject: KubeObject,
    manager: string,
    options: { apiVersion: string; schema?: SchemaNode; now: string; subresource?: string },
  ): ManagedFieldsEntry[] | undefined;
}

export interface LabelSelectorMatcher {
  matches(labels: Record<string, string>): boolean;
}
export interface FieldRequirement {
  field: string;
  operator: '=' | '==' | '!=';
  value: string;
}

/** Label/field selector parsing (src/api/selectors/), injected. Parse errors are thrown as Error with Kubernetes' message. */
export interface SelectorParsers {
  labelSelector(text: string): LabelSelectorMatcher;
  fieldSelector(text: string): FieldRequirement[];
}

export interface RequestContext {
  user: UserInfo;
  dryRun?: boolean;
  fieldManager?: string;
  fieldValidation?: 'Strict' | 'Warn' | 'Ignore';
  /** Warnings to return in `Warning:` headers. */
  warnings: string[];
  /** Set internally when server-side apply already computed managedFields. */
  managedFieldsDone?: boolean;
}

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
}

export interface DeleteOptions {
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  orphanDependents?: boolean;
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: string[];
}

export interface ListResult {
  items: KubeObject[];
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
}

export interface WatchEventOut {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: unknown;
}

export interface ResourceStoreDeps {
  store: Store;
  registry: ResourceRegistry;
  cache: WatchCache;
  admission: AdmissionChain;
  patch: PatchEngines;
  selectors: SelectorParsers;
  clock: Clock;
  newUid?: () => string;
  /** Random suffix for generateName. */
  randomSuffix?: () => string;
}

const generateNameAlphabet = 'bcdfghjklmnpqrstvwxz2456789';

export function storageKey(resource: ServedResource, namespace: string, name: string): string {
  return resource.namespaced ? `${resource.storagePrefix}${namespace}/${name}` : `${resource.storagePrefix}${name}`;
}

export class ResourceStore {
  /** Revision of this server's latest write per kind (storage prefix); see listForAdmission. */
  private readonly lastWriteRevision = new Map<string, number>();

  constructor(private readonly deps: ResourceStoreDeps) {}

  private noteWrite(resource: ServedResource, result: WriteResult): WriteResult {
    if (result.succeeded && result.revision > (this.lastWriteRevision.get(resource.storagePrefix) ?? 0)) this.lastWriteRevision.set(resource.storagePrefix, result.revision);
    return result;
  }

  /**
   * What an admission plugin sees of a kind (LimitRanges, ResourceQuotas, PriorityClasses …): the
   * watch cache once it holds this server's own latest write of that kind, without the storage
   * round trip of a consistent list — Kubernetes' admission plugins read informer listers the
   * same way. Writes made through another server of an HA pair show up when their watch event
   * arrives, as with Kubernetes' informers.
   */
  async listForAdmission(resource: ServedResource, namespace: string): Promise<KubeObject[]> {
    const ownWrite = this.lastWriteRevision.get(resource.storagePrefix);
    return (await this.list(resource, namespace, { resourceVersion: ownWrite ? String(ownWrite) : '0' })).items;
  }

  /** The raw store, for apiserver-internal state that is not an API object (Service IP/port reservations). */
  get store(): Store {
    return this.deps.store;
  }

  decode(kv: KeyValue): KubeObject {
    const object = JSON.parse(kv.value) as KubeObject;
    object.metadata.resourceVersion = String(kv.modRevision);
    return object;
  }

  /** Serialized in the resource's storage version. */
  private encode(object: KubeObject, resource: ServedResource): string {
    const stored = convertObject(object, apiVersionOf(resource.group, resource.storageVersion), resource.kind);
    const { resourceVersion: _rv, ...metadata } = stored.metadata;
    return JSON.stringify({ ...stored, metadata });
  }

  /** Objects are stored in the resource's storage version and served in the requested one. */
  private toVersion(object: KubeObject, resource: ServedResource): KubeObject {
    return convertObject(object, apiVersionOf(resource.group, resource.version), resource.kind);
  }

  private nowSecond = NaN;
  private nowText = '';

  /** RFC 3339 at second precision; formatted once per second, since every write asks for it (often twice). */
  private now(): string {
    const second = Math.floor(this.deps.clock.now() / 1000);
    if (second !== this.nowSecond) {
      this.nowSecond = second;
      this.nowText = new Date(second * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    }
    return this.nowText;
  }

  // ---------- reads ----------

  async get(resource: ServedResource, namespace: string, name: string): Promise<KubeObject> {
    const { kv } = await this.deps.store.get(storageKey(resource, namespace, name));
    if (!kv) throw notFound(resource.group, resource.resource, name);
    return this.toVersion(this.decode(kv), resource);
  }

  private prefixFor(resource: ServedResource, namespace: string): string {
    return resource.namespaced && namespace ? `${resource.storagePrefix}${namespace}/` : resource.storagePrefix;
  }

  private filterFor(resource: ServedResource, options: { labelSelector?: string; fieldSelector?: string }): (o: KubeObject) => boolean {
    let labelMatcher: LabelSelectorMatcher | undefined;
    let fieldRequirements: FieldRequirement[] = [];
    try {
      if (options.labelSelector) labelMatcher = this.deps.selectors.labelSelector(options.labelSelector);
      if (options.fieldSelector) fieldRequirements = this.deps.selectors.fieldSelector(options.fieldSelector);
    } catch (e) {
      throw badRequest((e as Error).message);
    }
    for (const r of fieldRequirements) {
      if (r.field !== 'metadata.name' && r.field !== 'metadata.namespace' && !resource.fieldSelectors?.[r.field]) {
        throw badRequest(`"${r.field}" is not a known field selector: only "metadata.name", "metadata.namespace"`);
      }
    }
    return (o) => {
      if (labelMatcher && !labelMatcher.matches(o.metadata.labels ?? {})) return false;
      for (const r of fieldRequirements) {
        const actual =
          r.field === 'metadata.name'
            ? o.metadata.name
            : r.field === 'metadata.namespace'
              ? o.metadata.namespace
              : resource.fieldSelectors![r.field](o);
        const equal = (actual ?? '') === r.value;
        if (r.operator === '!=' ? equal : !equal) return false;
      }
      return true;
    };
  }

  async list(resource: ServedResource, namespace: string, options: ListOptions): Promise<ListResult> {
    const filter = this.filterFor(resource, options);
    const prefix = this.prefixFor(resource, namespace);
    const limit = options.limit && options.limit > 0 ? options.limit : 0;
    const rv = options.resourceVersion;
    const exact = options.resourceVersionMatch === 'Exact';
    if (options.resourceVersionMatch && !['Exact', 'NotOlderThan'].includes(options.resourceVersionMatch)) {
      throw badRequest(`resourceVersionMatch: Unsupported value: "${options.resourceVersionMatch}"`);
    }
    if (options.resourceVersionMatch && !rv) throw badRequest('resourceVersionMatch is forbidden unless resourceVersion is provided');
    if (options.continue && rv) throw badRequest('specifying resource version is not allowed when using continue');

    // Served from the watch cache: rv=0 ("any"), rv=N NotOlderThan, or a full consistent list without paging.
    const fromCache = !options.continue && !exact && (rv === '0' || (!limit && !!rv) || (!limit && !rv));
    if (fromCache) {
      if (rv && rv !== '0') {
        const wanted = parseResourceVersion(rv);
        try {
          await this.deps.cache.waitForRevision(wanted);
        } catch {
          throw new ApiError(504, 'Timeout', `Too large resource version: ${wanted}, current: ${this.deps.cache.currentRevision}`, { retryAfterSeconds: 1 });
        }
      } else if (!rv) {
        await this.deps.cache.syncToStorage();
      }
      const items = this.deps.cache
        .list(resource.storagePrefix)
        .filter((c) => c.key.startsWith(prefix))
        .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
        .map((c) => c.object)
        .filter(filter)
        .map((o) => this.toVersion(o, resource));
      return { items, resourceVersion: String(this.deps.cache.currentRevision) };
    }

    // Served from storage, paged.
    let revision: number | undefined;
    let startKey = prefix;
    if (options.continue) {
      const token = decodeContinue(options.continue);
      revision = token.rv;
      startKey = prefix + token.start;
    } else if (exact && rv) {
      revision = parseResourceVersion(rv);
    }
    const items: KubeObject[] = [];
    let more = false;
    let lastKey = '';
    let served = revision ?? 0;
    let remaining = 0;
    try {
      for (;;) {
        const batchSize = limit ? Math.max(limit - items.length, 1) : 0;
        const result = await this.deps.store.range(prefix, { startKey, limit: batchSize, revision });
        served = result.revision;
        if (revision === undefined) revision = result.revision;
        for (const kv of result.kvs) {
          lastKey = kv.key;
          const o = this.decode(kv);
          if (filter(o)) items.push(this.toVersion(o, resource));
          if (limit && items.length >= limit) break;
        }
        const cutShort = limit > 0 && items.length >= limit && lastKey !== result.kvs[result.kvs.length - 1]?.key;
        more = result.more || cutShort;
        if (!limit || items.length >= limit || !result.more) {
          if (more) remaining = Math.max(result.count - result.kvs.length, 0);
          break;
        }
        startKey = lastKey + '\x00';
      }
    } catch (e) {
      if (e instanceof CompactedError && options.continue) {
        const fresh = encodeContinue(0, startKey.slice(prefix.length));
        throw new ApiError(
          410,
          'Expired',
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
          { causes: [{ reason: 'ResourceVersionTooOld', message: fresh }] },
        );
      }
      if (e instanceof CompactedError) throw gone(`too old resource version: ${e.requested} (${e.compacted})`);
      throw e;
    }
    const result: ListResult = { items, resourceVersion: String(served) };
    if (more && lastKey) {
      result.continue = encodeContinue(served, lastKey.slice(prefix.length) + '\x00');
      // Only known without filters, as in Kubernetes.
      if (!options.labelSelector && !options.fieldSelector && remaining > 0) result.remainingItemCount = remaining;
    }
    return result;
  }

  /**
   * Watch: `send` receives events until the returned function is called.
   * rv unset or "0": synthetic ADDED events for the current state first.
   */
  async watch(
    resource: ServedResource,
    namespace: string,
    options: ListOptions & { allowWatchBookmarks?: boolean; sendInitialEvents?: boolean; name?: string },
    send: (event: WatchEventOut) => void,
  ): Promise<() => void> {
    const fieldSelector = [options.fieldSelector, options.name ? `metadata.name=${options.name}` : ''].filter(Boolean).join(',');
    const filter = this.filterFor(resource, { labelSelector: options.labelSelector, fieldSelector });
    const prefix = this.prefixFor(resource, namespace);
    const rv = options.resourceVersion;
    let fromRevision: number;
    const initial = options.sendInitialEvents ?? (!rv || rv === '0');
    if (!rv || rv === '0') {
      if (!rv) await this.deps.cache.syncToStorage();
      fromRevision = this.deps.cache.currentRevision;
    } else {
      fromRevision = parseResourceVersion(rv);
      if (options.sendInitialEvents) await this.deps.cache.waitForRevision(fromRevision).catch(() => undefined);
      if (options.sendInitialEvents) fromRevision = this.deps.cache.currentRevision;
    }
    if (initial) {
      const current = this.deps.cache
        .list(resource.storagePrefix)
        .filter((c) => c.key.startsWith(prefix) && filter(c.object))
        .sort((a, b) => a.revision - b.revision);
      for (const c of current) send({ type: 'ADDED', object: this.toVersion(c.object, resource) });
      if (options.sendInitialEvents && options.allowWatchBookmarks) {
        send({ type: 'BOOKMARK', object: this.bookmark(resource, fromRevision, true) });
      }
    }
    let lastRevision = fromRevision;
    const deliver = (events: CacheEvent[]) => {
      for (const e of events) {
        if (!e.key.startsWith(prefix)) continue;
        lastRevision = e.revision;
        const now = filter(e.object);
        const before = e.previous ? filter(e.previous) : false;
        if (e.type === 'DELETED') {
          if (before || now) send({ type: 'DELETED', object: this.toVersion(e.object, resource) });
        } else if (now) {
          send({ type: e.type === 'MODIFIED' && !before ? 'ADDED' : e.type, object: this.toVersion(e.object, resource) });
        } else if (before) {
          // It left the selection: watchers see it as deleted.
          send({ type: 'DELETED', object: this.toVersion(e.object, resource) });
        }
      }
    };
    const watcher = {
      deliver,
      expire: () => send({ type: 'ERROR', object: gone('too old resource version: watch cache was reset').toStatus() }),
    };
    let cancel: () => void;
    try {
      cancel = this.deps.cache.watch(resource.storagePrefix, fromRevision, watcher);
    } catch (e) {
      if (e instanceof CompactedError) {
        send({ type: 'ERROR', object: gone(`too old resource version: ${e.requested} (${e.compacted})`).toStatus() });
        return () => undefined;
      }
      throw e;
    }
    let bookmarkTimer: NodeJS.Timeout | undefined;
    if (options.allowWatchBookmarks) {
      bookmarkTimer = setInterval(() => {
        lastRevision = Math.max(lastRevision, this.deps.cache.currentRevision);
        send({ type: 'BOOKMARK', object: this.bookmark(resource, lastRevision, false) });
      }, 30_000);
      bookmarkTimer.unref();
    }
    return () => {
      cancel();
      if (bookmarkTimer) clearInterval(bookmarkTimer);
    };
  }

  private bookmark(resource: ServedResource, revision: number, initialEventsEnd: boolean): KubeObject {
    const metadata: KubeObject['metadata'] = { resourceVersion: String(revision) };
    if (initialEventsEnd) metadata.annotations = { 'k8s.io/initial-events-end': 'true' };
    return { apiVersion: apiVersionOf(resource.group, resource.version), kind: resource.kind, metadata };
  }

  // ---------- writes ----------

  private checkBody(resource: ServedResource, object: unknown, namespace: string): KubeObject {
    if (typeof object !== 'object' || object === null || Array.isArray(object)) throw badRequest('the body of the request must be a JSON object');
    const o = object as KubeObject;
    if (!o.metadata || typeof o.metadata !== 'object') o.metadata = {};
    const expected = apiVersionOf(resource.group, resource.version);
    if (o.apiVersion !== undefined && o.apiVersion !== expected && !this.deps.registry.lookupByApiVersionKind(String(o.apiVersion), String(o.kind ?? ''))) {
      throw badRequest(`the API version in the data (${o.apiVersion}) does not match the expected API version (${expected})`);
    }
    if (o.kind !== undefined && o.kind !== resource.kind) {
      throw badRequest(`the kind in the data (${o.kind}) does not match the expected kind (${resource.kind})`);
    }
    o.apiVersion = expected;
    o.kind = resource.kind;
    if (resource.namespaced) {
      if (o.metadata.namespace && namespace && o.metadata.namespace !== namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      if (namespace) o.metadata.namespace = namespace;
    } else {
      delete o.metadata.namespace;
    }
    return o;
  }

  private validate(resource: ServedResource, object: KubeObject, old?: KubeObject): void {
    const semantics = this.deps.registry.semantics;
    const errors = resource.custom
      ? (resource.custom.validate?.(object) ?? [])
      : old
        ? semantics.validateUpdate(resource.groupKind, object, old)
        : semantics.validateObject(resource.groupKind, object);
    if (errors.length > 0) {
      throw invalid(resource.groupKind, resource.group, resource.kind, object.metadata.name ?? object.metadata.generateName ?? '', errors);
    }
  }

  private defaults(resource: ServedResource, object: KubeObject): void {
    if (resource.custom) resource.custom.applyDefaults?.(object);
    else this.deps.registry.semantics.applyDefaults(resource.groupKind, object);
  }

  private handleUnknownFields(resource: ServedResource, object: KubeObject, context: RequestContext): void {
    if (resource.custom?.preserveUnknownFields) return;
    const schema = this.deps.registry.schema(resource);
    if (!schema) return;
    const unknown = pruneUnknownFields(object, schema);
    if (unknown.length === 0) return;
    const mode = context.fieldValidation ?? 'Warn';
    if (mode === 'Strict') {
      const messages = unknown.map((p) => `unknown field "${p}"`);
      throw badRequest(`strict decoding error: ${messages.join(', ')}`);
    }
    if (mode === 'Warn') for (const p of unknown) context.warnings.push(`unknown field "${p}"`);
  }

  private async namespaceCheck(resource: ServedResource, namespace: string): Promise<void> {
    if (!resource.namespaced) return;
    if (!namespace) throw badRequest('the server could not find the requested resource');
    const namespaces = this.deps.registry.lookup('', 'v1', 'namespaces')!;
    const key = storageKey(namespaces, '', namespace);
    // Like Kubernetes' NamespaceLifecycle admission: answer from the watch cache, and read
    // storage only when the cache does not know the namespace (it may have just been created).
    let ns = this.deps.cache.get(key)?.object;
    if (!ns) {
      const { kv } = await this.deps.store.get(key);
      if (!kv) throw notFound('', 'namespaces', namespace);
      ns = this.decode(kv);
    }
    if (ns.metadata.deletionTimestamp || ns.status?.phase === 'Terminating') {
      throw new ApiError(403, 'Forbidden', `${resource.kind.toLowerCase() === 'event' ? 'events' : resource.resource} "${''}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`, {
        kind: resource.resource,
        causes: [{ reason: 'NamespaceTerminating', message: `namespace ${namespace} is being terminated`, field: 'metadata.namespace' }],
      });
    }
  }

  async create(resource: ServedResource, namespace: string, body: unknown, context: RequestContext): Promise<KubeObject> {
    const object = this.checkBody(resource, deepClone(body), namespace);
    const strategy = strategyFor(resource);
    const meta = object.metadata;
    if (!meta.name && meta.generateName) {
      meta.name = meta.generateName + (this.deps.randomSuffix?.() ?? randomSuffix());
    }
    this.handleUnknownFields(resource, object, context);
    await this.namespaceCheck(resource, namespace);
    meta.uid = this.deps.newUid?.() ?? randomUUID();
    meta.creationTimestamp = this.now();
    // Kinds with a spec/status split track spec changes in generation; plain data kinds (ConfigMap…) do not.
    if (strategy.statusSubresource || resource.custom) meta.generation = 1;
    else delete meta.generation;
    delete meta.resourceVersion;
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    delete meta.selfLink;
    if (strategy.statusSubresource && strategy.prepareForCreate === undefined && resource.groupKind !== 'Node') delete object.status;
    strategy.prepareForCreate?.(object);
    this.defaults(resource, object);
    const transaction = new AdmissionTransaction();
    const admissionAttributes = { operation: 'CREATE' as const, resource, subresource: '', namespace, name: meta.name ?? '', object, user: context.user, dryRun: !!context.dryRun, transaction };
    try {
      await this.deps.admission.admit(admissionAttributes);
      this.validate(resource, object);
      await this.deps.admission.validate(admissionAttributes);
      if (!context.managedFieldsDone) {
        const manager = context.fieldManager ?? managerFromUser(context.user);
        const managed = this.deps.patch.trackUpdate(null, object, manager, { apiVersion: object.apiVersion!, schema: this.deps.registry.schema(resource), now: this.now() });
        if (managed) meta.managedFields = managed;
      }
      if (context.dryRun) return object;
      const result = this.noteWrite(resource, await this.deps.store.create(storageKey(resource, namespace, meta.name!), this.encode(object, resource)));
      if (!result.succeeded) throw alreadyExists(resource.group, resource.resource, meta.name!);
      object.metadata.resourceVersion = String(result.revision);
      await transaction.commit(object);
      return this.toVersion(object, resource);
    } finally {
      // Anything admission reserved for a write that did not land is given back.
      await transaction.revert();
    }
  }

  /**
   * Read-modify-write with optimistic concurrency. `mutate` receives the current object (or null)
   * and returns the desired one; retried on storage conflicts unless the caller pinned a resourceVersion.
   */
  private async guaranteedUpdate(
    resource: ServedResource,
    namespace: string,
    name: string,
    context: RequestContext,
    subresource: string,
    mutate: (current: KubeObject | null) => Promise<{ object: KubeObject; pinnedResourceVersion?: string; operation?: 'Apply' }>,
  ): Promise<{ object: KubeObject; created: boolean }> {
    return retryWithTransactions((attempt, transaction) => this.guaranteedUpdateAttempt(resource, namespace, name, context, subresource, mutate, attempt, transaction));
  }

  /** One read-modify-write; undefined when the compare-and-swap lost and the caller should retry. */
  private async guaranteedUpdateAttempt(
    resource: ServedResource,
    namespace: string,
    name: string,
    context: RequestContext,
    subresource: string,
    mutate: (current: KubeObject | null) => Promise<{ object: KubeObject; pinnedResourceVersion?: string; operation?: 'Apply' }>,
    attempt: number,
    transaction: AdmissionTransaction,
  ): Promise<{ object: KubeObject; created: boolean } | undefined> {
    const key = storageKey(resource, namespace, name);
    const strategy = strategyFor(resource);
    {
      const { kv } = await this.deps.store.get(key);
      const current = kv ? this.decode(kv) : null;
      const { object, pinnedResourceVersion, operation } = await mutate(current ? deepClone(current) : null);
      // Server-side apply computed managedFields itself; an Update entry must not be added on top.
      const writeContext = operation === 'Apply' ? { ...context, managedFieldsDone: true } : context;
      if (pinnedResourceVersion && current && pinnedResourceVersion !== current.metadata.resourceVersion) {
        throw conflict(resource.group, resource.resource, name, objectModifiedMessage);
      }
      if (!current) {
        if (pinnedResourceVersion) throw notFound(resource.group, resource.resource, name);
        if (!strategy.allowCreateOnUpdate && operation !== 'Apply') throw notFound(resource.group, resource.resource, name);
        const created = await this.create(resource, namespace, object, writeContext);
        return { object: created, created: true };
      }
      const updated = await this.prepareUpdate(resource, namespace, subresource, object, current, writeContext, transaction);
      if (deepEqual(stripVolatile(updated), stripVolatile(current))) {
        return { object: this.toVersion(current, resource), created: false }; // no-op: no new revision
      }
      if (context.dryRun) return { object: this.toVersion(updated, resource), created: false };
      // Last finalizer gone from an object being deleted with no grace left: it goes now.
      if (updated.metadata.deletionTimestamp && !(updated.metadata.finalizers?.length) && !updated.metadata.deletionGracePeriodSeconds && !strategy.pendingDeletion?.(updated)) {
        const del = this.noteWrite(resource, await this.deps.store.delete(key, kv!.modRevision));
        if (del.succeeded) {
          updated.metadata.resourceVersion = String(del.revision);
          await transaction.commit(null);
          return { object: this.toVersion(updated, resource), created: false };
        }
      } else {
        const result = this.noteWrite(resource, await this.deps.store.update(key, this.encode(updated, resource), kv!.modRevision));
        if (result.succeeded) {
          updated.metadata.resourceVersion = String(result.revision);
          await transaction.commit(updated);
          return { object: this.toVersion(updated, resource), created: false };
        }
      }
      if (pinnedResourceVersion || attempt > 20) throw conflict(resource.group, resource.resource, name, objectModifiedMessage);
      return undefined;
    }
  }

  private async prepareUpdate(
    resource: ServedResource,
    namespace: string,
    subresource: string,
    object: KubeObject,
    current: KubeObject,
    context: RequestContext,
    transaction: AdmissionTransaction,
  ): Promise<KubeObject> {
    const strategy = strategyFor(resource);
    const incoming = this.checkBody(resource, object, namespace);
    if (incoming.metadata.name !== undefined && incoming.metadata.name !== current.metadata.name) {
      throw badRequest(`the name of the object (${incoming.metadata.name}) does not match the name on the URL (${current.metadata.name})`);
    }
    this.handleUnknownFields(resource, incoming, context);
    let updated: KubeObject;
    if (subresource === 'status') {
      // Through /status only status and annotations change (Kubernetes' status strategies
      // keep spec, labels, finalizers and owners; controllers record annotations this way).
      updated = deepClone(current);
      updated.status = incoming.status;
      updated.apiVersion = incoming.apiVersion;
      if (incoming.metadata.annotations !== undefined) updated.metadata.annotations = incoming.metadata.annotations;
      else delete updated.metadata.annotations;
    } else {
      updated = incoming;
      if (strategy.statusSubresource) updated.status = current.status;
    }
    const meta = updated.metadata;
    const old = current.metadata;
    meta.name = old.name;
    meta.uid = old.uid;
    meta.creationTimestamp = old.creationTimestamp;
    if (resource.namespaced) meta.namespace = old.namespace;
    meta.deletionTimestamp = old.deletionTimestamp;
    meta.deletionGracePeriodSeconds = old.deletionGracePeriodSeconds;
    if (meta.deletionTimestamp === undefined) delete meta.deletionTimestamp;
    if (meta.deletionGracePeriodSeconds === undefined) delete meta.deletionGracePeriodSeconds;
    if (old.generation !== undefined) meta.generation = old.generation;
    else delete meta.generation;
    delete meta.selfLink;
    if (old.deletionTimestamp) {
      // New finalizers may not be added to an object being deleted.
      const added = (meta.finalizers ?? []).filter((f) => !(old.finalizers ?? []).includes(f));
      if (added.length) {
        throw invalid(resource.groupKind, resource.group, resource.kind, old.name!, [
          { type: 'FieldValueForbidden', field: 'metadata.finalizers', message: `Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{${added.map((f) => JSON.stringify(f)).join(', ')}}` },
        ]);
      }
    }
    strategy.prepareForUpdate?.(updated, current, subresource);
    this.defaults(resource, updated);
    if (old.generation !== undefined && subresource !== 'status' && specChanged(updated, current)) meta.generation = old.generation + 1;
    const admissionAttributes = { operation: 'UPDATE' as const, resource, subresource, namespace, name: old.name!, object: updated, oldObject: current, user: context.user, dryRun: !!context.dryRun, transaction };
    await this.deps.admission.admit(admissionAttributes);
    this.validate(resource, updated, current);
    await this.deps.admission.validate(admissionAttributes);
    if (!context.managedFieldsDone) {
      const manager = context.fieldManager ?? managerFromUser(context.user);
      const managed = this.deps.patch.trackUpdate(current, updated, manager, {
        apiVersion: updated.apiVersion!,
        schema: this.deps.registry.schema(resource),
        now: this.now(),
        subresource: subresource || undefined,
      });
      if (managed) meta.managedFields = managed;
      else if (current.metadata.managedFields && meta.managedFields === undefined) meta.managedFields = current.metadata.managedFields;
    }
    return updated;
  }

  /**
   * A storage-level read-modify-write for writes with their own rules (pods/binding): no
   * validation or admission of the whole object, only metadata bookkeeping and optimistic retries.
   */
  async mutate(resource: ServedResource, namespace: string, name: string, change: (current: KubeObject) => void, context: RequestContext): Promise<KubeObject> {
    const key = storageKey(resource, namespace, name);
    for (let attempt = 0; attempt < 20; attempt++) {
      const { kv } = await this.deps.store.get(key);
      if (!kv) throw notFound(resource.group, resource.resource, name);
      const object = this.decode(kv);
      change(object);
      if (context.dryRun) return this.toVersion(object, resource);
      const result = this.noteWrite(resource, await this.deps.store.update(key, this.encode(object, resource), kv.modRevision));
      if (result.succeeded) {
        object.metadata.resourceVersion = String(result.revision);
        return this.toVersion(object, resource);
      }
    }
    throw conflict(resource.group, resource.resource, name, objectModifiedMessage);
  }

  async update(resource: ServedResource, namespace: string, name: string, body: unknown, context: RequestContext, subresource = ''): Promise<{ object: KubeObject; created: boolean }> {
    const incoming = body as KubeObject;
    if (!incoming || typeof incoming !== 'object') throw badRequest('the body of the request must be a JSON object');
    if (incoming.metadata?.name && incoming.metadata.name !== name) {
      throw badRequest(`the name of the object (${incoming.metadata.name}) does not match the name on the URL (${name})`);
    }
    const pinned = incoming.metadata?.resourceVersion;
    const strategy = strategyFor(resource);
    if (!pinned && !strategy.allowUnconditionalUpdate) {
      throw invalid(resource.groupKind, resource.group, resource.kind, name, [{ type: 'FieldValueRequired', field: 'metadata.resourceVersion', message: 'Invalid value: 0x0: must be specified for an update' }]);
    }
    return this.guaranteedUpdate(resource, namespace, name, context, subresource, async () => ({
      object: { ...deepClone(incoming), metadata: { ...deepClone(incoming.metadata ?? {}), name } },
      pinnedResourceVersion: pinned || undefined,
    }));
  }

  async patch(
    resource: ServedResource,
    namespace: string,
    name: string,
    type: PatchType,
    patchBody: unknown,
    context: RequestContext,
    options: { subresource?: string; force?: boolean } = {},
  ): Promise<{ object: KubeObject; created: boolean }> {
    const subresource = options.subresource ?? '';
    const schema = this.deps.registry.schema(resource);
    if (type === 'strategic' && resource.custom) {
      throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`);
    }
    if (type === 'apply' && !context.fieldManager) {
      throw badRequest('PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
    }
    return this.guaranteedUpdate(resource, namespace, name, context, subresource, async (current) => {
      if (type === 'apply') {
        const applied = deepClone(patchBody) as KubeObject;
        if (!applied || typeof applied !== 'object') throw badRequest('the body of the request must be a JSON or YAML object');
        const result = this.deps.patch.apply(current ? this.toVersion(current, resource) : null, applied, context.fieldManager!, {
          force: !!options.force,
          apiVersion: apiVersionOf(resource.group, resource.version),
          schema,
          now: this.now(),
        });
        if (result.conflicts && result.conflicts.length > 0) throw applyConflict(resource, name, result.conflicts);
        const object = result.object;
        if (!current) {
          object.metadata = { ...(object.metadata ?? {}), name };
          return { object, operation: 'Apply' as const };
        }
        return { object, pinnedResourceVersion: applied.metadata?.resourceVersion, operation: 'Apply' as const };
      }
      if (!current) throw notFound(resource.group, resource.resource, name);
      const original = this.toVersion(current, resource);
      let patched: unknown;
      try {
        if (type === 'json') patched = this.deps.patch.json(original, patchBody);
        else if (type === 'merge') patched = this.deps.patch.merge(original, patchBody);
        else patched = this.deps.patch.strategic(original, patchBody, schema);
      } catch (e) {
        if (e instanceof ApiError) throw e;
        throw new ApiError(422, 'Invalid', (e as Error).message);
      }
      const object = patched as KubeObject;
      if (!object || typeof object !== 'object' || !object.metadata) throw badRequest('the patch removed the object metadata');
      const pinned = object.metadata.resourceVersion !== current.metadata.resourceVersion ? object.metadata.resourceVersion : undefined;
      if (object.metadata.uid !== undefined && object.metadata.uid !== current.metadata.uid) {
        throw conflict(resource.group, resource.resource, name, `Precondition failed: UID in precondition: ${object.metadata.uid}, UID in object meta: ${current.metadata.uid}`);
      }
      return { object, pinnedResourceVersion: pinned };
    });
  }

  async delete(resource: ServedResource, namespace: string, name: string, options: DeleteOptions, context: RequestContext): Promise<{ status: number; body: unknown }> {
    return retryWithTransactions((attempt, transaction) => this.deleteAttempt(resource, namespace, name, options, context, attempt, transaction));
  }

  /** One delete attempt; undefined when the compare-and-swap lost and the caller should retry. */
  private async deleteAttempt(
    resource: ServedResource,
    namespace: string,
    name: string,
    options: DeleteOptions,
    context: RequestContext,
    attempt: number,
    transaction: AdmissionTransaction,
  ): Promise<{ status: number; body: unknown } | undefined> {
    const key = storageKey(resource, namespace, name);
    const strategy = strategyFor(resource);
    {
      const { kv } = await this.deps.store.get(key);
      if (!kv) throw notFound(resource.group, resource.resource, name);
      const current = this.decode(kv);
      const meta = current.metadata;
      if (options.preconditions?.uid && options.preconditions.uid !== meta.uid) {
        throw conflict(resource.group, resource.resource, name, `Precondition failed: UID in precondition: ${options.preconditions.uid}, UID in object meta: ${meta.uid}`);
      }
      if (options.preconditions?.resourceVersion && options.preconditions.resourceVersion !== meta.resourceVersion) {
        throw conflict(resource.group, resource.resource, name, `Precondition failed: ResourceVersion in precondition: ${options.preconditions.resourceVersion}, ResourceVersion in object meta: ${meta.resourceVersion}`);
      }
      await this.deps.admission.validate({ operation: 'DELETE', resource, subresource: '', namespace, name, oldObject: current, user: context.user, dryRun: !!context.dryRun, transaction });
      const propagation = options.propagationPolicy ?? (options.orphanDependents === true ? 'Orphan' : options.orphanDependents === false ? 'Background' : strategy.defaultPropagation);
      if (!['Orphan', 'Background', 'Foreground'].includes(propagation)) {
        throw invalid('DeleteOptions.meta.k8s.io', 'meta.k8s.io', 'DeleteOptions', '', [{ type: 'FieldValueNotSupported', field: 'propagationPolicy', message: `Unsupported value: "${propagation}": supported values: "Foreground", "Background", "Orphan"` }]);
      }
      const grace = strategy.gracePeriod ? strategy.gracePeriod(current, options.gracePeriodSeconds) : 0;
      const updated = deepClone(current);
      const finalizers = new Set(updated.metadata.finalizers ?? []);
      if (propagation === 'Orphan') {
        finalizers.add('orphan');
        finalizers.delete('foregroundDeletion');
      } else if (propagation === 'Foreground') {
        finalizers.add('foregroundDeletion');
        finalizers.delete('orphan');
      } else if (options.propagationPolicy === 'Background' || options.orphanDependents === false) {
        finalizers.delete('orphan');
        finalizers.delete('foregroundDeletion');
      }
      const graceful = finalizers.size > 0 || grace > 0 || !!strategy.pendingDeletion?.(current);
      if (!graceful) {
        if (context.dryRun) return { status: 200, body: this.toVersion(current, resource) };
        const result = this.noteWrite(resource, await this.deps.store.delete(key, kv.modRevision));
        if (!result.succeeded) {
          if (attempt > 20) throw conflict(resource.group, resource.resource, name, objectModifiedMessage);
          return undefined;
        }
        await transaction.commit(null);
        if (resource.groupKind === 'Pod' || resource.custom) {
          const deleted = this.toVersion(current, resource);
          deleted.metadata.resourceVersion = String(result.revision);
          return { status: 200, body: deleted };
        }
        return { status: 200, body: successStatus({ name, group: resource.group || undefined, kind: resource.resource, uid: meta.uid }) };
      }
      if (finalizers.size > 0) updated.metadata.finalizers = [...finalizers];
      const existingGrace = meta.deletionGracePeriodSeconds;
      if (meta.deletionTimestamp) {
        // Already being deleted: only a shorter grace period changes anything.
        if (existingGrace !== undefined && grace < existingGrace) {
          updated.metadata.deletionGracePeriodSeconds = grace;
          updated.metadata.deletionTimestamp = new Date(this.deps.clock.now() + grace * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
        }
      } else {
        updated.metadata.deletionTimestamp = new Date(this.deps.clock.now() + grace * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
        updated.metadata.deletionGracePeriodSeconds = grace;
      }
      if (resource.groupKind === 'Namespace' && updated.status) updated.status.phase = 'Terminating';
      if (deepEqual(updated, current)) return { status: 202, body: this.toVersion(current, resource) };
      if (context.dryRun) return { status: 202, body: this.toVersion(updated, resource) };
      // With no finalizers left and grace reduced to 0, the object goes now.
      if (!(updated.metadata.finalizers?.length) && updated.metadata.deletionGracePeriodSeconds === 0 && !strategy.pendingDeletion?.(updated)) {
        const result = this.noteWrite(resource, await this.deps.store.delete(key, kv.modRevision));
        if (!result.succeeded) return undefined;
        await transaction.commit(null);
        const deleted = this.toVersion(updated, resource);
        deleted.metadata.resourceVersion = String(result.revision);
        return { status: 200, body: deleted };
      }
      const result = this.noteWrite(resource, await this.deps.store.update(key, this.encode(updated, resource), kv.modRevision));
      if (!result.succeeded) {
        if (attempt > 20) throw conflict(resource.group, resource.resource, name, objectModifiedMessage);
        return undefined;
      }
      updated.metadata.resourceVersion = String(result.revision);
      await transaction.commit(updated);
      return { status: grace > 0 ? 200 : 202, body: this.toVersion(updated, resource) };
    }
  }

  async deleteCollection(resource: ServedResource, namespace: string, listOptions: ListOptions, options: DeleteOptions, context: RequestContext): Promise<ListResult> {
    const { items, resourceVersion } = await this.list(resource, namespace, { labelSelector: listOptions.labelSelector, fieldSelector: listOptions.fieldSelector });
    const deleted: KubeObject[] = [];
    for (const item of items) {
      try {
        await this.delete(resource, item.metadata.namespace ?? '', item.metadata.name!, options, context);
        deleted.push(item);
      } catch (e) {
        if (e instanceof ApiError && e.code === 404) continue;
        throw e;
      }
    }
    return { items: deleted, resourceVersion };
  }
}

function stripVolatile(o: KubeObject): KubeObject {
  const { managedFields: _m, resourceVersion: _r, ...metadata } = o.metadata;
  return { ...o, metadata };
}

function applyConflict(resource: ServedResource, name: string, conflicts: { manager: string; field: string }[]): ApiError {
  const apiVersion = apiVersionOf(resource.group, resource.version);
  const lines = conflicts.map((c) => `conflict with "${c.manager}" using ${apiVersion}: ${c.field}`);
  const message =
    conflicts.length === 1 ? `Apply failed with 1 conflict: ${lines[0]}` : `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
  return new ApiError(409, 'Conflict', message, {
    name,
    group: resource.group || undefined,
    kind: resource.resource,
    causes: conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with "${c.manager}" using ${apiVersion}`, field: c.field })),
  });
}

/** Kubernetes names the manager after the client's user agent ("kubectl-client-side-apply", "kubectl-edit"…); without one, after the user. */
export function managerFromUser(user: UserInfo): string {
  return user.username || 'unknown';
}

function randomSuffix(): string {
  let s = '';
  for (let i = 0; i < 5; i++) s += generateNameAlphabet[Math.floor(Math.random() * generateNameAlphabet.length)];
  return s;
}

export function parseResourceVersion(rv: string): number {
  const n = Number(rv);
  if (!/^\d+$/.test(rv) || !Number.isSafeInteger(n)) throw badRequest(`invalid resource version: ${rv}`);
  return n;
}

function encodeContinue(rv: number, start: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start })).toString('base64url');
}

function decodeContinue(token: string): { rv: number | undefined; start: string } {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (parsed.v !== 'meta.k8s.io/v1' || typeof parsed.start !== 'string') throw new Error('bad');
    return { rv: parsed.rv > 0 ? parsed.rv : undefined, start: parsed.start };
  } catch {
    throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  }
}

/**
 * Runs compare-and-swap attempts until one returns a result; each attempt gets its own admission
 * transaction, reverted (reservations released) unless the attempt committed it.
 */
async function retryWithTransactions<T>(attempt: (n: number, transaction: AdmissionTransaction) => Promise<T | undefined>): Promise<T> {
  for (let n = 0; ; n++) {
    const transaction = new AdmissionTransaction();
    try {
      const done = await attempt(n, transaction);
      if (done) return done;
    } finally {
      await transaction.revert();
    }
  }
}
