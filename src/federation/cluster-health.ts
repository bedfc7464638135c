// The cluster health controller (kubefed's cluster controller): probes every member's
// /healthz each period and records the result as KubeFedCluster status conditions. A
// change of state is recorded only after `failureThreshold` consecutive failed probes (or
// `successThreshold` good ones), so one slow answer does not pull a member's workloads.
import type { Client } from '../client/client.js';
import { ApiError } from '../client/errors.js';
import { retryOnConflict } from '../client/client.js';
import { sleep, type Clock } from '../client/clock.js';
import type { Logger } from '../client/informer.js';
import { federationSystemNamespace, kubeFedClustersResource, type FederationCondition, type KubeFedCluster } from './api.js';
import type { MemberCluster, MemberClusters } from './members.js';

export type ProbeResult = 'Ready' | 'NotReady' | 'Offline';

export interface ClusterHealthOptions {
  host: Client;
  members: MemberClusters;
  clock: Clock;
  logger?: Logger;
  /** kubefed's clusterHealthCheckConfig defaults: period 10 s, failureThreshold 3, successThreshold 1, timeout 3 s. */
  periodMs?: number;
  failureThreshold?: number;
  successThreshold?: number;
  timeoutMs?: number;
}

export interface ClusterHealthController {
  /** One round of probes of every member (what each period runs). */
  probeAll(): Promise<void>;
  /** Resolves when `signal` aborts. */
  run(signal: AbortSignal): Promise<void>;
}

/** The state a KubeFedCluster's conditions record, or undefined before its first probe. */
export function recordedResult(cluster: KubeFedCluster): ProbeResult | undefined {
  const conditions = cluster.status?.conditions ?? [];
  if (conditions.some((c) => c.type === 'Offline' && c.status === 'True')) return 'Offline';
  const ready = conditions.find((c) => c.type === 'Ready');
  if (!ready) return undefined;
  return ready.status === 'True' ? 'Ready' : ready.status === 'False' ? 'NotReady' : 'Offline';
}

/** The conditions for `result` at `now`, keeping lastTransitionTime of conditions whose status did not change. */
export function healthConditions(result: ProbeResult, previous: FederationCondition[], now: string): FederationCondition[] {
  const wanted: Omit<FederationCondition, 'lastProbeTime' | 'lastTransitionTime'>[] =
    result === 'Ready'
      ? [{ type: 'Ready', status: 'True', reason: 'ClusterReady', message: '/healthz responded with ok' }]
      : result === 'NotReady'
        ? [{ type: 'Ready', status: 'False', reason: 'ClusterNotReady', message: '/healthz responded without ok' }]
        : [
            { type: 'Ready', status: 'Unknown', reason: 'ClusterNotReachable', message: 'cluster is not reachable' },
            { type: 'Offline', status: 'True', reason: 'ClusterNotReachable', message: 'cluster is not reachable' },
          ];
  return wanted.map((condition) => {
    const before = previous.find((c) => c.type === condition.type);
    const lastTransitionTime = before && before.status === condition.status && before.lastTransitionTime ? before.lastTransitionTime : now;
    return { ...condition, lastProbeTime: now, lastTransitionTime };
  });
}

function withTimeout<T>(promise: Promise<T>, clock: Clock, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = clock.setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clock.clearTimeout(timer);
        resolve(value);
      },
      (err) => {
        clock.clearTimeout(timer);
        reject(err);
      },
    );
  });
}

export function createClusterHealthController(options: ClusterHealthOptions): ClusterHealthController {
  const periodMs = options.periodMs ?? 10_000;
  const failureThreshold = Math.max(1, options.failureThreshold ?? 3);
  const successThreshold = Math.max(1, options.successThreshold ?? 1);
  const timeoutMs = options.timeoutMs ?? 3_000;
  const logger = options.logger ?? (() => {});
  const clusters = options.host.resource<KubeFedCluster>(kubeFedClustersResource);
  /** Consecutive probes that disagreed with the recorded state, per member. */
  const streaks = new Map<string, { result: ProbeResult; count: number }>();

  async function probe(member: MemberCluster): Promise<ProbeResult> {
    try {
      const body = await withTimeout(member.client.getPath('/healthz'), options.clock, timeoutMs);
      return String(body ?? '').trim().toLowerCase() === 'ok' ? 'Ready' : 'NotReady';
    } catch (err) {
      // The server answered, but not with 2xx: reachable and unhealthy.
      if (err instanceof ApiError) return 'NotReady';
      return 'Offline';
    }
  }

  async function probeAndRecord(member: MemberCluster): Promise<void> {
    const observed = await probe(member);
    const recorded = recordedResult(member.cluster);
    let result = observed;
    if (recorded !== undefined && observed !== recorded) {
      const streak = streaks.get(member.name);
      const count = streak && streak.result === observed ? streak.count + 1 : 1;
      streaks.set(member.name, { result: observed, count });
      if (count < (observed === 'Ready' ? successThreshold : failureThreshold)) result = recorded;
    }
    if (result === observed) streaks.delete(member.name);
    const now = new Date(options.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
    await retryOnConflict(async () => {
      const current = await clusters.get(federationSystemNamespace, member.name);
      const conditions = healthConditions(result, current.status?.conditions ?? [], now);
      await clusters.updateStatus({ ...current, status: { ...current.status, conditions } });
    });
    if (result !== recorded) logger('info', 'member cluster health changed', { component: 'federation', cluster: member.name, from: recorded ?? 'unprobed', to: result });
  }

  async function probeAll(): Promise<void> {
    await Promise.all(
      options.members.list().map((member) =>
        probeAndRecord(member).catch((err) =>
          logger('warn', 'recording member cluster health failed', { component: 'federation', cluster: member.name, error: (err as Error).message }),
        ),
      ),
    );
  }

  return {
    probeAll,
    async run(signal) {
      while (!signal.aborted) {
        await probeAll();
        if (!(await sleep(options.clock, periodMs, signal))) return;
      }
    },
  };
}
