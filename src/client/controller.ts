// The shape every navarch controller takes (after controller-runtime): informers feed keys
// into a rate-limited work queue; workers call reconcile(key) — "namespace/name" — and the
// result decides what happens to the key next. A reconcile must be level-triggered: it reads
// the current state from informer caches and never depends on which event woke it, so
// coalesced, duplicated or missed events do not matter.
import type { KubeObject, OwnerReference } from '../api/types.js';
import type { Clock } from './clock.js';
import { systemClock } from './clock.js';
import { objectKey } from './client.js';
import type { DeletedFinalStateUnknown, Logger, SharedIndexInformer } from './informer.js';
import { objectFromDeleted, stderrLogger } from './informer.js';
import type { RateLimiter } from './workqueue.js';
import { RateLimitingQueue } from './workqueue.js';

export interface ReconcileResult {
  /** Reconcile this key again after this long (e.g. to re-check a deadline). Resets the failure backoff. */
  requeueAfterMs?: number;
  /** Reconcile again soon, with the rate limiter's backoff, without counting as an error log. */
  requeue?: boolean;
}

export interface Reconciler {
  /** `signal` aborts when the controller shuts down. Throwing requeues the key with backoff. */
  reconcile(key: string, signal: AbortSignal): Promise<ReconcileResult | void>;
}

export interface ControllerOptions {
  /** Used in logs: "deployment", "replicaset", "endpointslice". */
  name: string;
  reconciler: Reconciler;
  /** Concurrent reconciles (of different keys — one key is never reconciled twice at once). */
  workers?: number;
  clock?: Clock;
  rateLimiter?: RateLimiter<string>;
  logger?: Logger;
}

export interface ControllerWatchOptions<T extends KubeObject> {
  /** Skip objects this returns false for. */
  filter?(obj: T): boolean;
  /** Keys to reconcile for an object; defaults to the object's own "namespace/name". */
  mapToKeys?(obj: T): string[];
}

export interface OwnerSelector {
  /** Kind of the owner, e.g. "ReplicaSet". */
  kind: string;
  /** API group of the owner ('' for core); the version is ignored, as in controller-runtime. */
  group: string;
  /** Owners are namespaced (in the dependent's namespace) unless this is false. */
  namespaced?: boolean;
  /** Follow only the ownerReference with controller: true (default) or all matching ones. */
  onlyController?: boolean;
}

function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

/** Keys of the owners of `obj` that match `owner`. */
export function ownerKeys(obj: KubeObject, owner: OwnerSelector): string[] {
  const refs: OwnerReference[] = obj.metadata?.ownerReferences ?? [];
  const keys: string[] = [];
  for (const ref of refs) {
    if (ref.kind !== owner.kind || groupOf(ref.apiVersion) !== owner.group) continue;
    if ((owner.onlyController ?? true) && !ref.controller) continue;
    const namespaced = owner.namespaced ?? true;
    keys.push(namespaced && obj.metadata.namespace ? `${obj.metadata.namespace}/${ref.name}` : ref.name);
  }
  return keys;
}

export class Controller {
  readonly name: string;
  readonly queue: RateLimitingQueue<string>;
  private readonly reconciler: Reconciler;
  private readonly workers: number;
  private readonly logger: Logger;
  private readonly informers = new Set<SharedIndexInformer<any>>();
  private ready = false;
  private started = false;

  constructor(options: ControllerOptions) {
    this.name = options.name;
    this.reconciler = options.reconciler;
    this.workers = Math.max(1, options.workers ?? 1);
    this.logger = options.logger ?? stderrLogger;
    const clock = options.clock ?? systemClock();
    this.queue = new RateLimitingQueue<string>({ clock, rateLimiter: options.rateLimiter });
  }

  /** Reconciles the object's key (or mapped keys) whenever it is added, changed, deleted or resynced. */
  watch<T extends KubeObject>(informer: SharedIndexInformer<T>, options: ControllerWatchOptions<T> = {}): this {
    this.informers.add(informer);
    const keysOf = options.mapToKeys ?? ((obj: T) => [objectKey(obj)]);
    const enqueue = (obj: T) => {
      if (!obj?.metadata || (options.filter && !options.filter(obj))) return;
      for (const key of keysOf(obj)) if (key) this.queue.add(key);
    };
    informer.addEventHandler({
      onAdd: (obj) => enqueue(obj),
      onUpdate: (oldObj, newObj) => {
        // The old object may map to keys the new one no longer does (a changed selector or owner).
        if (options.mapToKeys && oldObj !== newObj) enqueue(oldObj);
        enqueue(newObj);
      },
      onDelete: (obj: T | DeletedFinalStateUnknown<T>) => enqueue(objectFromDeleted(obj)),
    });
    return this;
  }

  /** Reconciles the owner when an owned object changes: a ReplicaSet controller watching Pods. */
  watchOwned<T extends KubeObject>(informer: SharedIndexInformer<T>, owner: OwnerSelector): this {
    return this.watch(informer, { mapToKeys: (obj) => ownerKeys(obj, owner) });
  }

  enqueue(key: string): void {
    this.queue.add(key);
  }

  enqueueAfter(key: string, delayMs: number): void {
    this.queue.addAfter(key, delayMs);
  }

  /** True once all watched informers have synced and workers are running (for /readyz). */
  isReady(): boolean {
    return this.ready;
  }

  /**
   * Waits for the caches, then runs the workers until `signal` aborts; resolves after the
   * reconciles in flight have finished. Informers are started by their factory, not here.
   */
  async start(signal: AbortSignal): Promise<void> {
    if (this.started) throw new Error(`controller ${this.name} already started`);
    this.started = true;
    const onAbort = () => this.queue.shutDown();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const synced = await Promise.all([...this.informers].map((i) => i.waitForSync(signal)));
      if (signal.aborted || !synced.every(Boolean)) return;
      this.ready = true;
      this.logger('info', 'controller started', { controller: this.name, workers: this.workers });
      await Promise.all(Array.from({ length: this.workers }, () => this.worker(signal)));
    } finally {
      this.ready = false;
      signal.removeEventListener('abort', onAbort);
      this.queue.shutDown();
    }
  }

  private async worker(signal: AbortSignal): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        const result = await this.reconciler.reconcile(key, signal);
        if (result && result.requeueAfterMs !== undefined && result.requeueAfterMs > 0) {
          this.queue.forget(key);
          this.queue.addAfter(key, result.requeueAfterMs);
        } else if (result?.requeue) {
          this.queue.addRateLimited(key);
        } else {
          this.queue.forget(key);
        }
      } catch (err) {
        this.logger('error', 'reconcile failed', {
          controller: this.name,
          key,
          retries: this.queue.numRequeues(key),
          error: err instanceof Error ? err.message : String(err),
        });
        this.queue.addRateLimited(key);
      } finally {
        this.queue.done(key);
      }
    }
  }
}

export function createController(options: ControllerOptions): Controller {
  return new Controller(options);
}
