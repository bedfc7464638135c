// The pod garbage collector: every 20 s it deletes (with grace period 0, since no kubelet will
// act on them) finished pods beyond --terminated-pod-gc-threshold (12500), pods bound to nodes
// that no longer exist, and unscheduled pods that are being deleted. A node missing from the
// cache is only believed gone after a quarantine (40 s) and a live GET that answers NotFound,
// so a node the informer has not caught up with yet never costs its pods.
import type { KubeObject } from '../../api/types.js';
import type { Client } from '../../client/client.js';
import type { Clock } from '../../client/clock.js';
import { isNotFound } from '../../client/errors.js';
import type { Logger, SharedInformerFactory } from '../../client/informer.js';
import { RateLimitingQueue } from '../../client/workqueue.js';
import { runController, type Controller, type ReconcileResult } from '../framework/controller.js';
import { formatTime } from '../framework/events.js';
import { podsResource } from '../framework/resources.js';
import { nodesResource } from '../nodelifecycle/controller.js';
import { isTerminated, planPodGc } from './plan.js';

export interface PodGcOptions {
  client: Client;
  informerFactory: SharedInformerFactory;
  clock: Clock;
  /** --terminated-pod-gc-threshold; ≤ 0 disables collecting finished pods. */
  terminatedPodThreshold?: number;
  /** How often a pass runs (gcCheckPeriod). */
  periodMs?: number;
  /** How long a node must be missing from the cache before its pods count as orphaned. */
  orphanQuarantineMs?: number;
  logger?: Logger;
}

const passKey = 'pod-gc';

export function createPodGarbageCollector(options: PodGcOptions): Controller {
  const { client, clock } = options;
  const log = options.logger ?? (() => undefined);
  const threshold = options.terminatedPodThreshold ?? 12500;
  const periodMs = options.periodMs ?? 20_000;
  const quarantineMs = options.orphanQuarantineMs ?? 40_000;
  const pods = options.informerFactory.forResource(podsResource);
  const nodes = options.informerFactory.forResource(nodesResource);
  const podClient = client.resource(podsResource);
  const nodeClient = client.resource(nodesResource);
  const queue = new RateLimitingQueue<string>({ clock });
  /** Node name → when it was first found missing from the cache. */
  const missingSince = new Map<string, number>();

  async function forceDelete(pod: KubeObject): Promise<void> {
    try {
      await podClient.delete(pod.metadata.namespace, pod.metadata.name!, { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid } });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /** Orphans are marked Failed with the reason first, so their owners (e.g. Jobs) count them correctly. */
  async function failAndDelete(pod: KubeObject, message: string): Promise<void> {
    if (!isTerminated(pod)) {
      const now = formatTime(clock.now());
      const patch = { status: { phase: 'Failed', conditions: [{ type: 'DisruptionTarget', status: 'True', reason: 'DeletionByPodGC', message, lastTransitionTime: now }] } };
      try {
        await podClient.patchStatus(pod.metadata.namespace, pod.metadata.name!, 'strategic', patch);
      } catch (err) {
        if (isNotFound(err)) return;
        log('warn', 'could not mark pod failed before deleting it', { pod: `${pod.metadata.namespace}/${pod.metadata.name}`, error: String(err) });
      }
    }
    await forceDelete(pod);
  }

  async function nodeIsGone(name: string, now: number): Promise<boolean> {
    const since = missingSince.get(name);
    if (since === undefined) {
      missingSince.set(name, now);
      return false;
    }
    if (now - since < quarantineMs) return false;
    try {
      await nodeClient.get(undefined, name);
      missingSince.delete(name);
      return false;
    } catch (err) {
      if (isNotFound(err)) return true;
      throw err;
    }
  }

  async function reconcile(): Promise<ReconcileResult | void> {
    const now = clock.now();
    const nodeIndexer = nodes.getIndexer();
    const plan = planPodGc(pods.getIndexer().list(), (name) => !!nodeIndexer.getByName(undefined, name), threshold);
    for (const name of [...missingSince.keys()]) if (nodeIndexer.getByName(undefined, name)) missingSince.delete(name);
    let failures = 0;
    const attempt = async (fn: () => Promise<void>) => {
      try {
        await fn();
      } catch (err) {
        failures++;
        log('warn', 'pod gc delete failed', { error: String(err) });
      }
    };
    for (const pod of plan.terminated) await attempt(() => forceDelete(pod));
    const gone = new Map<string, boolean>();
    for (const pod of plan.orphaned) {
      const node = pod.spec.nodeName as string;
      if (!gone.has(node)) gone.set(node, await nodeIsGone(node, now).catch(() => false));
      if (gone.get(node)) await attempt(() => failAndDelete(pod, 'PodGC: node no longer exists'));
    }
    for (const pod of plan.unscheduledTerminating) await attempt(() => failAndDelete(pod, 'PodGC: pod is terminating and unscheduled'));
    if (failures) log('warn', 'pod gc pass incomplete', { failures });
    // The pass repeats on its own period; failures are simply retried next time.
    const nextQuarantine = [...missingSince.values()].map((since) => since + quarantineMs - now).filter((ms) => ms > 0);
    return { requeueAfterMs: Math.min(periodMs, ...nextQuarantine.map((ms) => ms + 1)) };
  }

  return {
    name: 'podgc',
    reconcile,
    hasSynced: () => pods.hasSynced() && nodes.hasSynced(),
    start(signal) {
      queue.add(passKey);
      return runController({ name: 'podgc', queue, informers: [pods, nodes], reconcile, workers: 1, signal, logger: log }).catch((err) => {
        log('error', 'controller stopped', { controller: 'podgc', error: String(err) });
      });
    },
  };
}
