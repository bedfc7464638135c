// Shared informers: a local, indexed cache of one resource kept current by list + watch,
// and event handlers that tell controllers what changed.
//
// The reflector loop follows client-go's:
//   list (paged)  →  replace the cache  →  watch from the list's resourceVersion with
//   allowWatchBookmarks=true and a randomised timeoutSeconds  →  on a clean end of stream,
//   watch again from the last seen resourceVersion; on 410 Gone/Expired, relist at once;
//   on an ERROR event or a failed list, relist after an exponential backoff (800 ms … 30 s);
//   on a dropped connection, re-watch after the backoff (a 410 then forces the relist).
// A relist delivers onUpdate for objects still present and onDelete with a
// DeletedFinalStateUnknown tombstone for objects that vanished while we were not watching.
//
// Objects in the cache are shared by every handler and every controller in the process:
// never mutate them — copy first (structuredClone) and write through the API.
import type { KubeObject } from '../api/types.js';
import type { Clock, TimerHandle } from './clock.js';
import { jitter, sleep, systemClock } from './clock.js';
import type { Client, ObjectList, ResourceClient, ResourceRef } from './client.js';
import { apiVersionOf, objectKey } from './client.js';
import { ApiError, isGone } from './errors.js';
import { getMaxListeners, setMaxListeners } from 'node:events';
import type { WatchEvent, WatchHandle } from './transport.js';

/** Final state of an object deleted while the informer was not watching (seen on relist). */
export class DeletedFinalStateUnknown<T = KubeObject> {
  constructor(
    readonly key: string,
    readonly obj: T,
  ) {}
}

/** The object behind a delete notification, whether it came with a tombstone or not. */
export function objectFromDeleted<T>(obj: T | DeletedFinalStateUnknown<T>): T {
  return obj instanceof DeletedFinalStateUnknown ? obj.obj : obj;
}

export interface ResourceEventHandler<T = KubeObject> {
  /** `isInInitialList` is true for objects delivered by the first list. */
  onAdd?(obj: T, isInInitialList: boolean): void;
  /** Also called on relist and periodic resync, possibly with old === new. */
  onUpdate?(oldObj: T, newObj: T): void;
  onDelete?(obj: T | DeletedFinalStateUnknown<T>): void;
}

export type IndexFunc<T = KubeObject> = (obj: T) => string[];

export type Logger = (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;

/** Structured JSON lines on stderr; components pass their own logger in. */
export const stderrLogger: Logger = (level, message, fields) => {
  if (level === 'info') return;
  process.stderr.write(JSON.stringify({ level, msg: message, ...fields }) + '\n');
};

export const namespaceIndex = 'namespace';

/** client-go's MetaNamespaceIndexFunc: cluster-scoped objects index under "". */
export function metaNamespaceIndexFunc(obj: KubeObject): string[] {
  return [obj.metadata?.namespace ?? ''];
}

/** A thread-safe store in client-go; here simply a keyed map with secondary indices. */
export class Indexer<T extends KubeObject = KubeObject> {
  private items = new Map<string, T>();
  private indexers = new Map<string, IndexFunc<T>>();
  private indices = new Map<string, Map<string, Set<string>>>();

  constructor(
    indexers: Record<string, IndexFunc<T>> = { [namespaceIndex]: metaNamespaceIndexFunc as IndexFunc<T> },
    readonly keyFunc: (obj: T) => string = objectKey,
  ) {
    this.addIndexers(indexers);
  }

  /** Adds indexers; existing items are indexed right away, so this is safe at any time. */
  addIndexers(indexers: Record<string, IndexFunc<T>>): void {
    for (const [name, fn] of Object.entries(indexers)) {
      if (this.indexers.has(name)) {
        if (this.indexers.get(name) === fn) continue;
        throw new Error(`indexer "${name}" already exists`);
      }
      this.indexers.set(name, fn);
      const index = new Map<string, Set<string>>();
      this.indices.set(name, index);
      for (const [key, obj] of this.items) this.indexInto(index, fn, key, obj);
    }
  }

  private indexInto(index: Map<string, Set<string>>, fn: IndexFunc<T>, key: string, obj: T): void {
    for (const value of fn(obj)) {
      let keys = index.get(value);
      if (!keys) index.set(value, (keys = new Set()));
      keys.add(key);
    }
  }

  private unindex(key: string, obj: T): void {
    for (const [name, fn] of this.indexers) {
      const index = this.indices.get(name)!;
      for (const value of fn(obj)) {
        const keys = index.get(value);
        if (!keys) continue;
        keys.delete(key);
        if (keys.size === 0) index.delete(value);
      }
    }
  }

  /** Adds or replaces; returns the previous object under the same key. */
  upsert(obj: T): T | undefined {
    const key = this.keyFunc(obj);
    const old = this.items.get(key);
    if (old) this.unindex(key, old);
    this.items.set(key, obj);
    for (const [name, fn] of this.indexers) this.indexInto(this.indices.get(name)!, fn, key, obj);
    return old;
  }

  deleteKey(key: string): T | undefined {
    const old = this.items.get(key);
    if (!old) return undefined;
    this.unindex(key, old);
    this.items.delete(key);
    return old;
  }

  get(key: string): T | undefined {
    return this.items.get(key);
  }

  /** Lookup by namespace and name (namespace ignored for cluster-scoped objects when undefined). */
  getByName(namespace: string | undefined, name: string): T | undefined {
    return this.items.get(namespace ? `${namespace}/${name}` : name);
  }

  list(): T[] {
    return [...this.items.values()];
  }

  listKeys(): string[] {
    return [...this.items.keys()];
  }

  size(): number {
    return this.items.size;
  }

  byIndex(indexName: string, value: string): T[] {
    return this.indexKeys(indexName, value).map((key) => this.items.get(key)!);
  }

  indexKeys(indexName: string, value: string): string[] {
    const index = this.indices.get(indexName);
    if (!index) throw new Error(`index "${indexName}" does not exist`);
    return [...(index.get(value) ?? [])];
  }

  listIndexFuncValues(indexName: string): string[] {
    const index = this.indices.get(indexName);
    if (!index) throw new Error(`index "${indexName}" does not exist`);
    return [...index.keys()];
  }

  /** All objects in a namespace (uses the namespace index). */
  listByNamespace(namespace: string): T[] {
    return this.byIndex(namespaceIndex, namespace);
  }
}

export interface InformerOptions<T extends KubeObject = KubeObject> {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Default resync period for handlers; 0 = never. */
  resyncPeriodMs?: number;
  indexers?: Record<string, IndexFunc<T>>;
  /** Page size of the list (client-go uses 500). 0 = unpaged. */
  pageSize?: number;
  /** Watches ask the server to end after [min, 2·min) seconds, spreading reconnects over time. */
  minWatchTimeoutSeconds?: number;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /**
   * Applied to every object before it enters the cache, e.g. to drop metadata.managedFields
   * (often half an object's size) from a 30,000-pod cache. Must not depend on anything but the object.
   */
  transform?: (obj: T) => T;
  clock?: Clock;
  random?: () => number;
  logger?: Logger;
}

/** A transform for informers whose users never read managedFields (most of them). */
export function dropManagedFields<T extends KubeObject>(obj: T): T {
  if (obj?.metadata?.managedFields) delete obj.metadata.managedFields;
  return obj;
}

interface Registration<T> {
  handler: ResourceEventHandler<T>;
  resyncPeriodMs: number;
  timer?: TimerHandle;
}

export interface HandlerRegistration {
  remove(): void;
  /** True once the handler has been told about every object of the initial list. */
  hasSynced(): boolean;
}

export class SharedIndexInformer<T extends KubeObject = KubeObject> {
  private readonly indexer: Indexer<T>;
  private readonly registrations = new Set<Registration<T>>();
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly logger: Logger;
  private synced = false;
  private syncWaiters: Array<() => void> = [];
  private resourceVersion = '';
  private running: AbortSignal | undefined;
  private failures = 0;
  private watchHandle: WatchHandle | undefined;
  /** Counts relists, for metrics and tests. */
  listCount = 0;

  constructor(
    readonly client: ResourceClient<T>,
    readonly options: InformerOptions<T> = {},
  ) {
    this.clock = options.clock ?? systemClock();
    this.random = options.random ?? Math.random;
    this.logger = options.logger ?? stderrLogger;
    this.indexer = new Indexer<T>({ [namespaceIndex]: metaNamespaceIndexFunc as IndexFunc<T>, ...options.indexers });
  }

  get ref(): ResourceRef {
    return this.client.ref;
  }

  getIndexer(): Indexer<T> {
    return this.indexer;
  }

  addIndexers(indexers: Record<string, IndexFunc<T>>): void {
    this.indexer.addIndexers(indexers);
  }

  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves true once the first list is in the cache, false if `signal` aborts first. */
  waitForSync(signal?: AbortSignal): Promise<boolean> {
    if (this.synced) return Promise.resolve(true);
    if (signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onAbort = () => resolve(false);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.syncWaiters.push(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve(true);
      });
    });
  }

  lastSyncResourceVersion(): string {
    return this.resourceVersion;
  }

  isRunning(): boolean {
    return this.running !== undefined && !this.running.aborted;
  }

  /**
   * Registers a handler. One added after the informer has synced is first told about
   * every cached object (onAdd), so late handlers see the same world as early ones.
   */
  addEventHandler(handler: ResourceEventHandler<T>, resyncPeriodMs?: number): HandlerRegistration {
    const registration: Registration<T> = { handler, resyncPeriodMs: resyncPeriodMs ?? this.options.resyncPeriodMs ?? 0 };
    this.registrations.add(registration);
    if (this.synced) for (const obj of this.indexer.list()) this.call(registration, 'onAdd', obj, true);
    if (this.isRunning()) this.scheduleResync(registration);
    return {
      remove: () => {
        if (registration.timer) this.clock.clearTimeout(registration.timer);
        this.registrations.delete(registration);
      },
      hasSynced: () => this.synced,
    };
  }

  private call(registration: Registration<T>, event: 'onAdd' | 'onUpdate' | 'onDelete', ...args: any[]): void {
    const fn = registration.handler[event] as ((...a: any[]) => void) | undefined;
    if (!fn) return;
    try {
      fn.apply(registration.handler, args);
    } catch (err) {
      // One broken handler must not starve the others or kill the watch.
      this.logger('error', 'informer event handler failed', { resource: this.ref.resource, event, error: String(err) });
    }
  }

  private distribute(event: 'onAdd' | 'onUpdate' | 'onDelete', ...args: any[]): void {
    for (const registration of [...this.registrations]) this.call(registration, event, ...args);
  }

  private scheduleResync(registration: Registration<T>): void {
    if (registration.resyncPeriodMs <= 0 || !this.registrations.has(registration) || !this.isRunning()) return;
    registration.timer = this.clock.setTimeout(() => {
      registration.timer = undefined;
      if (!this.isRunning() || !this.registrations.has(registration)) return;
      // Resync re-delivers the cache, not the server: it exists to retry reconciles whose
      // earlier outcome depended on something outside the API (a timer, an external system).
      if (this.synced) for (const obj of this.indexer.list()) this.call(registration, 'onUpdate', obj, obj);
      this.scheduleResync(registration);
    }, registration.resyncPeriodMs);
  }

  private stamp(obj: T): T {
    if (this.ref.kind && obj && typeof obj === 'object') {
      obj.apiVersion ??= apiVersionOf(this.ref);
      obj.kind ??= this.ref.kind;
    }
    return this.options.transform && obj?.metadata ? this.options.transform(obj) : obj;
  }

  /** Runs the reflector until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    if (this.running && !this.running.aborted) throw new Error(`informer for ${this.ref.resource} is already running`);
    this.running = signal;
    for (const registration of this.registrations) this.scheduleResync(registration);
    const onAbort = () => {
      this.watchHandle?.stop();
      for (const registration of this.registrations) {
        if (registration.timer) this.clock.clearTimeout(registration.timer);
        registration.timer = undefined;
      }
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      let needList = true;
      while (!signal.aborted) {
        let outcome: WatchOutcome;
        try {
          if (needList) await this.listAndReplace(signal);
          if (signal.aborted) break;
          outcome = await this.watchOnce(signal);
        } catch (err) {
          outcome = { kind: 'error', err: err as Error, relist: true };
        }
        if (signal.aborted) break;
        switch (outcome.kind) {
          case 'closed':
            // A watch that ran to its timeout proves the server healthy again.
            this.failures = 0;
            needList = false;
            break;
          case 'expired':
            this.logger('info', 'watch expired, relisting', { resource: this.ref.resource, resourceVersion: this.resourceVersion });
            needList = true;
            break;
          case 'error':
            this.logger('warn', 'list/watch failed', { resource: this.ref.resource, error: String(outcome.err?.message ?? outcome.err) });
            needList = outcome.relist || !this.synced;
            await sleep(this.clock, this.nextBackoff(), signal);
            break;
        }
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      onAbort();
    }
  }

  private nextBackoff(): number {
    const initial = this.options.backoffInitialMs ?? 800;
    const max = this.options.backoffMaxMs ?? 30_000;
    const base = Math.min(max, initial * Math.pow(2, this.failures));
    this.failures++;
    return Math.min(max, jitter(base, 1, this.random));
  }

  private async listAndReplace(signal: AbortSignal): Promise<void> {
    this.listCount++;
    const query = {
      labelSelector: this.options.labelSelector,
      fieldSelector: this.options.fieldSelector,
    };
    const pageSize = this.options.pageSize ?? 500;
    let list: ObjectList<T>;
    try {
      list = await this.client.listAll(this.options.namespace, { ...query, limit: pageSize || undefined });
    } catch (err) {
      // The snapshot behind a continue token can be compacted mid-list: take it in one go.
      if (!isGone(err) || !pageSize) throw err;
      list = await this.client.list(this.options.namespace, query);
    }
    if (signal.aborted) return;
    this.replace(list.items.map((item) => this.stamp(item)), !this.synced);
    this.resourceVersion = list.metadata.resourceVersion ?? '';
    this.failures = 0;
    if (!this.synced) {
      this.synced = true;
      for (const resolve of this.syncWaiters.splice(0)) resolve();
    }
  }

  private replace(items: T[], initial: boolean): void {
    const seen = new Set<string>();
    for (const obj of items) {
      const key = this.indexer.keyFunc(obj);
      seen.add(key);
      const old = this.indexer.upsert(obj);
      if (old) this.distribute('onUpdate', old, obj);
      else this.distribute('onAdd', obj, initial);
    }
    for (const key of this.indexer.listKeys()) {
      if (seen.has(key)) continue;
      const old = this.indexer.deleteKey(key)!;
      this.distribute('onDelete', new DeletedFinalStateUnknown(key, old));
    }
  }

  private watchOnce(signal: AbortSignal): Promise<WatchOutcome> {
    const minTimeout = this.options.minWatchTimeoutSeconds ?? 300;
    const timeoutSeconds = Math.floor(minTimeout * (1 + this.random()));
    const startedAt = this.clock.now();
    let received = 0;
    return new Promise((resolve) => {
      let settled = false;
      const finish = (outcome: WatchOutcome) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        this.watchHandle?.stop();
        this.watchHandle = undefined;
        resolve(outcome);
      };
      const onAbort = () => finish({ kind: 'closed' });
      signal.addEventListener('abort', onAbort, { once: true });
      this.watchHandle = this.client.watch(
        this.options.namespace,
        {
          resourceVersion: this.resourceVersion,
          allowWatchBookmarks: true,
          timeoutSeconds,
          labelSelector: this.options.labelSelector,
          fieldSelector: this.options.fieldSelector,
        },
        (event) => {
          if (settled) return;
          received++;
          const outcome = this.handleEvent(event);
          if (outcome) finish(outcome);
        },
        (err) => {
          if (!err) {
            // A stream that ends at once with nothing in it is a server in trouble; do not spin.
            if (received === 0 && this.clock.now() - startedAt < 1000) {
              finish({ kind: 'error', err: new Error('watch closed immediately'), relist: false });
            } else {
              finish({ kind: 'closed' });
            }
          } else if (isGone(err)) {
            finish({ kind: 'expired' });
          } else {
            finish({ kind: 'error', err, relist: err instanceof ApiError });
          }
        },
      );
    });
  }

  private handleEvent(event: WatchEvent): WatchOutcome | undefined {
    if (event.type === 'ERROR') {
      const error = new ApiError(event.object ?? {});
      if (isGone(error)) return { kind: 'expired' };
      return { kind: 'error', err: error, relist: true };
    }
    if (event.type === 'BOOKMARK') {
      const bookmarkVersion = event.object?.metadata?.resourceVersion;
      if (bookmarkVersion) this.resourceVersion = bookmarkVersion;
      return undefined;
    }
    const obj = this.stamp(event.object as T);
    const resourceVersion = obj?.metadata?.resourceVersion;
    if (!obj?.metadata) return { kind: 'error', err: new Error(`watch event ${event.type} without an object`), relist: true };
    switch (event.type) {
      case 'ADDED':
      case 'MODIFIED': {
        const old = this.indexer.upsert(obj);
        if (old) this.distribute('onUpdate', old, obj);
        else this.distribute('onAdd', obj, false);
        break;
      }
      case 'DELETED': {
        const old = this.indexer.deleteKey(this.indexer.keyFunc(obj));
        this.distribute('onDelete', obj ?? old);
        break;
      }
      default:
        return { kind: 'error', err: new Error(`unknown watch event type ${String(event.type)}`), relist: true };
    }
    if (resourceVersion) this.resourceVersion = resourceVersion;
    this.failures = 0;
    return undefined;
  }
}

type WatchOutcome = { kind: 'closed' } | { kind: 'expired' } | { kind: 'error'; err: Error; relist: boolean };

export interface InformerRequest<T extends KubeObject = KubeObject> {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  resyncPeriodMs?: number;
  indexers?: Record<string, IndexFunc<T>>;
}

/**
 * One informer per (resource, namespace, selectors) per process: the scheduler, the
 * controllers and the kubelet in an all-in-one server share one pod cache and one watch.
 * Informers requested after start() start at once.
 */
export class SharedInformerFactory {
  private readonly informers = new Map<string, SharedIndexInformer<any>>();
  private signal: AbortSignal | undefined;
  private readonly runs: Promise<void>[] = [];

  constructor(
    readonly client: Client,
    readonly options: Omit<InformerOptions, 'namespace' | 'labelSelector' | 'fieldSelector' | 'indexers' | 'transform'> & {
      namespace?: string;
      /** Applied by every informer of the factory (e.g. dropManagedFields). */
      transform?: <O extends KubeObject>(obj: O) => O;
    } = {},
  ) {}

  forResource<T extends KubeObject = KubeObject>(ref: ResourceRef, request: InformerRequest<T> = {}): SharedIndexInformer<T> {
    const namespace = request.namespace ?? this.options.namespace;
    const key = [ref.group, ref.version, ref.resource, namespace ?? '', request.labelSelector ?? '', request.fieldSelector ?? ''].join('|');
    let informer = this.informers.get(key) as SharedIndexInformer<T> | undefined;
    if (!informer) {
      informer = new SharedIndexInformer<T>(this.client.resource<T>(ref), {
        ...this.options,
        namespace,
        labelSelector: request.labelSelector,
        fieldSelector: request.fieldSelector,
        resyncPeriodMs: request.resyncPeriodMs ?? this.options.resyncPeriodMs,
      });
      this.informers.set(key, informer);
      if (this.signal && !this.signal.aborted) {
        expectListeners(this.signal, this.informers.size);
        this.runInformer(informer, this.signal);
      }
    }
    if (request.indexers) informer.addIndexers(request.indexers);
    return informer;
  }

  private runInformer(informer: SharedIndexInformer<any>, signal: AbortSignal): void {
    this.runs.push(
      informer.run(signal).catch((err) => {
        (this.options.logger ?? stderrLogger)('error', 'informer stopped', { resource: informer.ref.resource, error: String(err) });
      }),
    );
  }

  /** Starts every informer not yet running; they stop when `signal` aborts. */
  start(signal: AbortSignal): void {
    this.signal = signal;
    expectListeners(signal, this.informers.size);
    for (const informer of this.informers.values()) if (!informer.isRunning()) this.runInformer(informer, signal);
  }

  /** Resolves true when every informer created so far has synced (false if `signal` aborts first). */
  async waitForCacheSync(signal?: AbortSignal): Promise<boolean> {
    if (signal) expectListeners(signal, this.informers.size);
    const results = await Promise.all([...this.informers.values()].map((i) => i.waitForSync(signal)));
    return results.every(Boolean);
  }

  /** Resolves once all informers have stopped (after the start signal aborted). */
  async shutdown(): Promise<void> {
    await Promise.all(this.runs);
  }

  list(): SharedIndexInformer<any>[] {
    return [...this.informers.values()];
  }
}

/**
 * Each informer keeps a few abort listeners on the signal it runs under (its list/watch, a
 * sync waiter), all removed when done: many informers on one signal is expected, not a leak.
 */
function expectListeners(signal: AbortSignal, informers: number): void {
  const needed = 4 * informers + 10;
  if (getMaxListeners(signal) < needed) setMaxListeners(needed, signal);
}
