// The API server's watch cache: one storage watch over all of /registry/ feeds an in-memory
// copy of every resource plus a window of recent events, so thousands of watchers and
// informer lists never each read storage. Consistent reads wait until the cache has caught
// up with the storage revision current at the time of the request.
import type { Store, WatchEvent as StoreEvent, KeyValue } from '../storage/types.js';
import { CompactedError } from '../storage/types.js';
import type { KubeObject } from '../api/types.js';

export interface CachedObject {
  key: string;
  object: KubeObject; // with metadata.resourceVersion set
  revision: number;
}

export interface CacheEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  key: string;
  object: KubeObject;
  /** The object before this event (for MODIFIED/DELETED), used to tell watchers whose filter it left. */
  previous?: KubeObject;
  revision: number;
}

export interface CacheWatcher {
  /** Return false to signal the watcher is gone. */
  deliver(events: CacheEvent[]): void;
}

class PrefixCache {
  readonly objects = new Map<string, CachedObject>();
  readonly history: CacheEvent[] = [];
  readonly watchers = new Set<CacheWatcher>();
  /** Oldest revision from which a watch can resume without a gap. */
  oldestResumable = 0;
  constructor(readonly prefix: string, readonly historyLimit: number) {}

  record(event: CacheEvent): void {
    this.history.push(event);
    // Trim in chunks: splicing one event off the front of a full window on every write moved
    // the whole array each time. The window keeps at least historyLimit events either way.
    if (this.history.length > this.historyLimit + Math.ceil(this.historyLimit / 4)) {
      const dropped = this.history.splice(0, this.history.length - this.historyLimit);
      this.oldestResumable = dropped[dropped.length - 1].revision;
    }
  }
}

export class WatchCache {
  private readonly caches = new Map<string, PrefixCache>();
  private revision = 0;
  private startRevision = 0;
  private storeWatch?: { cancel(): void };
  private waiters: { revision: number; resolve: () => void; reject: (e: Error) => void }[] = [];
  private failed?: Error;
  private restarting = false;

  constructor(
    private readonly store: Store,
    private readonly decode: (kv: KeyValue) => KubeObject,
    private readonly options: { historyLimit?: number; onError?: (e: Error) => void } = {},
  ) {}

  /** Revision the cache reflects. */
  get currentRevision(): number {
    return this.revision;
  }

  async start(): Promise<void> {
    const all = await this.store.range('/registry/');
    for (const cache of this.caches.values()) cache.objects.clear();
    for (const kv of all.kvs) {
      const cache = this.cacheFor(kv.key);
      if (!cache) continue;
      cache.objects.set(kv.key, { key: kv.key, object: this.decode(kv), revision: kv.modRevision });
    }
    this.revision = all.revision;
    this.startRevision = all.revision;
    for (const cache of this.caches.values()) cache.oldestResumable = all.revision;
    this.storeWatch = this.store.watch(
      '/registry/',
      { startRevision: all.revision + 1 },
      (events) => this.apply(events),
      (error) => this.onWatchError(error),
    );
  }

  stop(): void {
    this.storeWatch?.cancel();
    for (const w of this.waiters) w.reject(new Error('watch cache stopped'));
    this.waiters = [];
  }

  private onWatchError(error: Error): void {
    // The storage watch broke (compaction raced us, etcd restarted): relist and resume.
    // Watchers cannot know what they missed, so they are told to relist (410).
    this.options.onError?.(error);
    if (this.restarting) return;
    this.restarting = true;
    this.storeWatch?.cancel();
    const watchers = [...this.caches.values()].flatMap((c) => [...c.watchers]);
    for (const cache of this.caches.values()) {
      cache.watchers.clear();
      cache.history.length = 0;
    }
    for (const w of watchers) (w as CacheWatcher & { expire?: () => void }).expire?.();
    const retry = () => {
      this.start()
        .then(() => (this.restarting = false))
        .catch((e) => {
          this.options.onError?.(e);
          setTimeout(retry, 1000).unref();
        });
    };
    retry();
  }

  /** Storage keys look like /registry/<group>/<resource>/...; the cache is per group+resource. */
  private prefixOf(key: string): string | undefined {
    // Apiserver-internal state (Service IP/port reservations), not API objects: never cached.
    if (key.startsWith('/registry/ranges/')) return undefined;
    const parts = key.split('/');
    // ['', 'registry', group, resource, ...]
    if (parts.length < 5) return undefined;
    return `/${parts[1]}/${parts[2]}/${parts[3]}/`;
  }

  private cacheFor(key: string): PrefixCache | undefined {
    const prefix = this.prefixOf(key);
    if (!prefix) return undefined;
    let cache = this.caches.get(prefix);
    if (!cache) {
      cache = new PrefixCache(prefix, this.options.historyLimit ?? 5000);
      cache.oldestResumable = this.startRevision;
      this.caches.set(prefix, cache);
    }
    return cache;
  }

  private apply(events: StoreEvent[]): void {
    const byCache = new Map<PrefixCache, CacheEvent[]>();
    let maxRevision = this.revision;
    for (const event of events) {
      const revision = event.kv.modRevision;
      if (revision > maxRevision) maxRevision = revision;
      const cache = this.cacheFor(event.kv.key);
      if (!cache) continue;
      const previous = cache.objects.get(event.kv.key);
      let cacheEvent: CacheEvent;
      if (event.type === 'PUT') {
        const object = this.decode(event.kv);
        cache.objects.set(event.kv.key, { key: event.kv.key, object, revision });
        cacheEvent = { type: previous ? 'MODIFIED' : 'ADDED', key: event.kv.key, object, previous: previous?.object, revision };
      } else {
        cache.objects.delete(event.kv.key);
        const last = previous?.object ?? (event.prevKv ? this.decode(event.prevKv) : undefined);
        if (!last) continue;
        // A deleted object is reported with the revision of its deletion.
        const object = { ...last, metadata: { ...last.metadata, resourceVersion: String(revision) } };
        cacheEvent = { type: 'DELETED', key: event.kv.key, object, previous: last, revision };
      }
      cache.record(cacheEvent);
      let list = byCache.get(cache);
      if (!list) byCache.set(cache, (list = []));
      list.push(cacheEvent);
    }
    this.revision = maxRevision;
    for (const [cache, list] of byCache) {
      for (const watcher of cache.watchers) watcher.deliver(list);
    }
    this.waiters = this.waiters.filter((w) => {
      if (w.revision <= this.revision) {
        w.resolve();
        return false;
      }
      return true;
    });
  }

  /** Resolves once the cache reflects `revision` (for consistent reads from cache). */
  waitForRevision(revision: number, timeoutMs = 3000): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    if (revision <= this.revision) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(new Error(`Too large resource version: ${revision}, current: ${this.revision}`));
      }, timeoutMs);
      timer.unref();
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.waiters.push({ revision, resolve: done, reject });
    });
  }

  /** Consistent read: wait until the cache has every write acknowledged before this call. */
  async syncToStorage(): Promise<void> {
    const current = await this.store.currentRevision();
    await this.waitForRevision(current);
  }

  list(prefix: string): CachedObject[] {
    const cache = this.caches.get(prefix);
    if (!cache) return [];
    return [...cache.objects.values()];
  }

  get(key: string): CachedObject | undefined {
    return this.caches.get(this.prefixOf(key) ?? '')?.objects.get(key);
  }

  /**
   * Watch a prefix from a revision: replays history after `fromRevision`, then live events.
   * Throws CompactedError when the history window no longer reaches back that far.
   */
  watch(prefix: string, fromRevision: number, watcher: CacheWatcher): () => void {
    let cache = this.caches.get(prefix);
    if (!cache) {
      cache = new PrefixCache(prefix, this.options.historyLimit ?? 5000);
      cache.oldestResumable = this.startRevision;
      this.caches.set(prefix, cache);
    }
    if (fromRevision < cache.oldestResumable) throw new CompactedError(fromRevision, cache.oldestResumable);
    const replay = cache.history.filter((e) => e.revision > fromRevision);
    if (replay.length > 0) watcher.deliver(replay);
    cache.watchers.add(watcher);
    const c = cache;
    return () => c.watchers.delete(watcher);
  }

  watcherCount(): number {
    let n = 0;
    for (const c of this.caches.values()) n += c.watchers.size;
    return n;
  }
}
