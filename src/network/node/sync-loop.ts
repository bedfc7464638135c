// A level-triggered sync runner: any number of kicks while a sync runs collapse into one more
// sync afterwards; failures retry with backoff; a periodic resync repairs what others changed
// (someone flushing iptables or deleting a route).
import type { Logger } from '../../client/informer.js';

export interface SyncLoopOptions {
  name: string;
  sync(): Promise<void>;
  /** Minimum gap between two syncs, so an informer burst costs one sync. */
  minIntervalMs?: number;
  resyncMs?: number;
  logger: Logger;
  signal: AbortSignal;
}

export interface SyncLoop {
  kick(): void;
  /** Resolves after the first successful sync (false if stopped before). */
  firstSync: Promise<boolean>;
  /** Resolves when the loop has stopped and no sync is running. */
  stopped: Promise<void>;
  syncCount(): number;
}

export function startSyncLoop(o: SyncLoopOptions): SyncLoop {
  const minInterval = o.minIntervalMs ?? 100;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let dirty = false;
  let lastEnd = 0;
  let failures = 0;
  let count = 0;
  let resolveFirst!: (ok: boolean) => void;
  const firstSync = new Promise<boolean>((r) => (resolveFirst = r));

  const schedule = (delay: number) => {
    if (timer || o.signal.aborted) return;
    timer = setTimeout(() => {
      timer = undefined;
      run();
    }, delay);
  };
  const run = () => {
    if (running) {
      dirty = true;
      return;
    }
    dirty = false;
    running = o
      .sync()
      .then(() => {
        failures = 0;
        count++;
        resolveFirst(true);
      })
      .catch((e) => {
        failures++;
        o.logger('error', 'sync failed', { component: o.name, failures, error: e instanceof Error ? e.message : String(e) });
        dirty = true;
      })
      .finally(() => {
        running = undefined;
        lastEnd = Date.now();
        if (dirty) schedule(failures > 0 ? Math.min(30_000, 500 * 2 ** Math.min(failures, 6)) : minInterval);
      });
  };
  const kick = () => {
    if (o.signal.aborted) return;
    if (running) {
      dirty = true;
      return;
    }
    schedule(Math.max(0, minInterval - (Date.now() - lastEnd)));
  };
  const resync = setInterval(kick, o.resyncMs ?? 30_000);
  resync.unref();
  const stopped = new Promise<void>((resolve) => {
    const stop = async () => {
      clearInterval(resync);
      if (timer) clearTimeout(timer);
      timer = undefined;
      resolveFirst(false);
      while (running) await running;
      resolve();
    };
    if (o.signal.aborted) void stop();
    else o.signal.addEventListener('abort', () => void stop(), { once: true });
  });
  return { kick, firstSync, stopped, syncCount: () => count };
}
