// The loop every controller runs: wait for its informers' caches, then workers take keys
// from a rate-limited queue and reconcile them one at a time per key. A failed reconcile is
// retried with per-key exponential backoff; a reconcile may ask to be run again later.
import type { SharedIndexInformer, Logger } from '../../client/informer.js';
import type { RateLimitingQueue } from '../../client/workqueue.js';

export interface ReconcileResult {
  requeueAfterMs?: number;
}

export type Reconcile = (key: string) => Promise<ReconcileResult | void>;

export interface Controller {
  readonly name: string;
  start(signal: AbortSignal): Promise<void>;
  hasSynced(): boolean;
  /** Reconciles one "namespace/name" key now (what the workers call). */
  reconcile: Reconcile;
}

export async function runController(options: {
  name: string;
  queue: RateLimitingQueue<string>;
  informers: SharedIndexInformer<any>[];
  reconcile: Reconcile;
  workers: number;
  signal: AbortSignal;
  logger?: Logger;
}): Promise<void> {
  const { queue, signal } = options;
  const log = options.logger ?? (() => undefined);
  const stop = () => queue.shutDown();
  if (signal.aborted) return;
  signal.addEventListener('abort', stop, { once: true });
  const synced = await Promise.all(options.informers.map((i) => i.waitForSync(signal)));
  if (!synced.every(Boolean)) return;
  const worker = async () => {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      try {
        const result = await options.reconcile(key);
        queue.forget(key);
        if (result?.requeueAfterMs !== undefined) queue.addAfter(key, result.requeueAfterMs);
      } catch (err) {
        log('warn', 'reconcile failed', { controller: options.name, key, error: String((err as Error)?.message ?? err) });
        queue.addRateLimited(key);
      } finally {
        queue.done(key);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.workers) }, worker));
}

/**
 * The Controller of a queue-driven reconcile loop: synced when its informers are, started by
 * runController; a loop that stops with an error is logged (the other controllers go on).
 */
export function queueController(options: { name: string; queue: RateLimitingQueue<string>; informers: SharedIndexInformer<any>[]; reconcile: Reconcile; workers: number; logger: Logger }): Controller {
  const { name, informers, reconcile, logger } = options;
  return {
    name,
    reconcile,
    hasSynced: () => informers.every((i) => i.hasSynced()),
    start: (signal) =>
      runController({ ...options, signal }).catch((err) => {
        logger('error', 'controller stopped', { controller: name, error: String(err) });
      }),
  };
}
