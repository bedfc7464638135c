// The TTL-after-finished controller: deletes a finished Job (Complete or Failed) once
// `ttlSecondsAfterFinished` has passed since it finished, with foreground propagation so
// its pods go first. Before deleting it re-reads the Job live: the TTL may have been changed
// or the Job recreated since the cache saw it.
import type { KubeObject } from '../../api/types.js';
import type { Client } from '../../client/client.js';
import { objectKey, splitObjectKey } from '../../client/client.js';
import type { Clock } from '../../client/clock.js';
import { isNotFound } from '../../client/errors.js';
import type { Logger, SharedInformerFactory } from '../../client/informer.js';
import { RateLimitingQueue } from '../../client/workqueue.js';
import { runController, type Controller, type ReconcileResult } from '../framework/controller.js';
import { jobsResource } from '../framework/resources.js';

export interface TtlAfterFinishedOptions {
  client: Client;
  informerFactory: SharedInformerFactory;
  clock: Clock;
  workers?: number;
  logger?: Logger;
}

/** When the Job finished: completionTime, else the Complete/Failed condition's transition time. */
export function finishedAt(job: KubeObject): number | undefined {
  const cond = (job.status?.conditions ?? []).find((c: { type: string; status: string }) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
  if (!cond) return undefined;
  const at = Date.parse(job.status?.completionTime ?? cond.lastTransitionTime ?? '');
  return Number.isNaN(at) ? undefined : at;
}

/** Milliseconds until the Job expires (≤ 0: expired), or undefined when it has no TTL or is not finished. */
export function msUntilExpiry(job: KubeObject, nowMs: number): number | undefined {
  const ttl = job.spec?.ttlSecondsAfterFinished;
  if (ttl === undefined || ttl === null || job.metadata.deletionTimestamp) return undefined;
  const at = finishedAt(job);
  return at === undefined ? undefined : at + ttl * 1000 - nowMs;
}

export function createTtlAfterFinishedController(options: TtlAfterFinishedOptions): Controller {
  const { client, clock } = options;
  const log = options.logger ?? (() => undefined);
  const jobs = options.informerFactory.forResource(jobsResource);
  const jobClient = client.resource(jobsResource);
  const queue = new RateLimitingQueue<string>({ clock });
  const consider = (job: KubeObject) => msUntilExpiry(job, clock.now()) !== undefined && queue.add(objectKey(job));
  jobs.addEventHandler({ onAdd: consider, onUpdate: (_o, j) => consider(j) });

  async function reconcile(key: string): Promise<ReconcileResult | void> {
    const { namespace, name } = splitObjectKey(key);
    const cached = jobs.getIndexer().getByName(namespace, name);
    if (!cached) return;
    const remaining = msUntilExpiry(cached, clock.now());
    if (remaining === undefined) return;
    if (remaining > 0) return { requeueAfterMs: remaining };
    let live: KubeObject;
    try {
      live = await jobClient.get(namespace, name);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    const liveRemaining = msUntilExpiry(live, clock.now());
    if (liveRemaining === undefined) return;
    if (liveRemaining > 0) return { requeueAfterMs: liveRemaining };
    try {
      await jobClient.delete(namespace, name, { propagationPolicy: 'Foreground', preconditions: { uid: live.metadata.uid, resourceVersion: live.metadata.resourceVersion } });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  return {
    name: 'ttl-after-finished',
    reconcile,
    hasSynced: () => jobs.hasSynced(),
    start: (signal) =>
      runController({ name: 'ttl-after-finished', queue, informers: [jobs], reconcile, workers: options.workers ?? 2, signal, logger: log }).catch((err) => {
        log('error', 'controller stopped', { controller: 'ttl-after-finished', error: String(err) });
      }),
  };
}
