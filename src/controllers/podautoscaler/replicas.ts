// The HPA's replica arithmetic, after Kubernetes' replica_calculator.go: desired =
// ceil(current × currentMetric / target) over the ready pods, no change within the tolerance,
// and the documented handling of pods that are unready (counted at 0% when scaling up) or
// missing metrics (counted at 100% of target when scaling down, 0% when scaling up), where
// filling them in may only soften the change, never reverse it. All values are milli-units
// (Quantity.MilliValue), so cpu and memory share one code path.
import { podCondition } from '../framework/pods.js';
import type { KubeObject } from '../../api/types.js';
import { parseQuantity } from '../../api/validation/quantity.js';

export const defaultTolerance = 0.1;
/** --horizontal-pod-autoscaler-cpu-initialization-period */
export const cpuInitializationPeriodMs = 5 * 60_000;
/** --horizontal-pod-autoscaler-initial-readiness-delay */
export const initialReadinessDelayMs = 30_000;

export interface PodMetric {
  /** milli-units: millicores for cpu, millibytes for memory. */
  value: number;
  timestamp: number;
  windowMs: number;
}

export type PodMetrics = Map<string, PodMetric>;

export interface ReplicaCalculation {
  replicas: number;
  /** Average utilization in percent of request (Utilization targets only). */
  utilization?: number;
  /** Average usage per pod, milli-units. */
  rawAverageValue: number;
  timestamp: number;
}

export class MetricsError extends Error {}

interface PodGroups {
  readyPodCount: number;
  unready: Set<string>;
  missing: Set<string>;
  ignored: Set<string>;
}

/** Sorts the selected pods as groupPods does. Only cpu has the start-up grace for unready pods. */
export function groupPods(pods: KubeObject[], metrics: PodMetrics, resource: string, nowMs: number): PodGroups {
  const groups: PodGroups = { readyPodCount: 0, unready: new Set(), missing: new Set(), ignored: new Set() };
  for (const pod of pods) {
    const name = pod.metadata.name!;
    if (pod.metadata.deletionTimestamp || pod.status?.phase === 'Failed') {
      groups.ignored.add(name);
      continue;
    }
    if (pod.status?.phase === 'Pending') {
      groups.unready.add(name);
      continue;
    }
    const metric = metrics.get(name);
    if (!metric) {
      groups.missing.add(name);
      continue;
    }
    if (resource === 'cpu') {
      const ready = podCondition(pod, 'Ready');
      const startTime = Date.parse(pod.status?.startTime ?? '');
      let unready: boolean;
      if (!ready || Number.isNaN(startTime)) unready = true;
      else {
        const transition = Date.parse(ready.lastTransitionTime ?? '') || startTime;
        if (startTime + cpuInitializationPeriodMs > nowMs) {
          // Still starting: a sample taken before the pod became ready includes start-up cost.
          unready = ready.status !== 'True' || metric.timestamp < transition + metric.windowMs;
        } else {
          // Never became ready since start: treat as unready.
          unready = ready.status === 'False' && startTime + initialReadinessDelayMs > transition;
        }
      }
      if (unready) {
        groups.unready.add(name);
        continue;
      }
    }
    groups.readyPodCount++;
  }
  return groups;
}

/** Sum of the containers' requests for `resource` in milli-units; throws when a container has none. */
export function podRequests(pod: KubeObject, resource: string, container?: string): number {
  let total = 0;
  for (const c of pod.spec?.containers ?? []) {
    if (container && c.name !== container) continue;
    const request = parseQuantity(c.resources?.requests?.[resource]);
    if (request === undefined) throw new MetricsError(`missing request for ${resource} in container ${c.name} of Pod ${pod.metadata.name}`);
    total += Math.round(request * 1000);
  }
  return total;
}

function withoutPods(metrics: PodMetrics, ...sets: Set<string>[]): PodMetrics {
  const out = new Map(metrics);
  for (const s of sets) for (const name of s) out.delete(name);
  return out;
}

function latest(metrics: PodMetrics): number {
  let t = 0;
  for (const m of metrics.values()) t = Math.max(t, m.timestamp);
  return t;
}

/**
 * Shared tail of both calculations: given the ratio over the ready pods, fill in missing and
 * unready pods and make sure they only dampen the change.
 */
function finish(
  currentReplicas: number,
  groups: PodGroups,
  metrics: PodMetrics,
  usageRatio: number,
  tolerance: number,
  fillMissing: (name: string, scaleDown: boolean) => number,
  ratioOf: (metrics: PodMetrics) => number,
): number {
  const scaleUpWithUnready = groups.unready.size > 0 && usageRatio > 1;
  if (!scaleUpWithUnready && groups.missing.size === 0) {
    if (Math.abs(1 - usageRatio) <= tolerance) return currentReplicas;
    return Math.ceil(usageRatio * groups.readyPodCount);
  }
  const filled = new Map(metrics);
  for (const name of groups.missing) filled.set(name, { value: fillMissing(name, usageRatio < 1), timestamp: 0, windowMs: 0 });
  if (scaleUpWithUnready) for (const name of groups.unready) filled.set(name, { value: 0, timestamp: 0, windowMs: 0 });
  const newRatio = ratioOf(filled);
  if (Math.abs(1 - newRatio) <= tolerance || (usageRatio < 1 && newRatio > 1) || (usageRatio > 1 && newRatio < 1)) return currentReplicas;
  const newReplicas = Math.ceil(newRatio * filled.size);
  if ((newRatio < 1 && newReplicas > currentReplicas) || (newRatio > 1 && newReplicas < currentReplicas)) return currentReplicas;
  return newReplicas;
}

function checkInputs(pods: KubeObject[], metrics: PodMetrics, resource: string): void {
  if (pods.length === 0) throw new MetricsError('no pods returned by selector while calculating replica count');
  if (metrics.size === 0) throw new MetricsError(`unable to get metrics for resource ${resource}: no metrics returned from resource metrics API`);
}

/** A Resource metric with a Utilization target (percent of the pods' requests). */
export function resourceUtilizationReplicas(args: {
  currentReplicas: number;
  targetUtilization: number;
  resource: string;
  pods: KubeObject[];
  metrics: PodMetrics;
  nowMs: number;
  container?: string;
  tolerance?: number;
}): ReplicaCalculation {
  const { pods, resource } = args;
  checkInputs(pods, args.metrics, resource);
  const tolerance = args.tolerance ?? defaultTolerance;
  const groups = groupPods(pods, args.metrics, resource, args.nowMs);
  const metrics = withoutPods(args.metrics, groups.ignored, groups.unready);
  const requests = new Map<string, number>();
  for (const pod of pods) requests.set(pod.metadata.name!, podRequests(pod, resource, args.container));
  if (metrics.size === 0) throw new MetricsError('did not receive metrics for targeted pods (pods might be unready)');
  const ratioOf = (m: PodMetrics) => {
    let usage = 0;
    let requested = 0;
    for (const [name, metric] of m) {
      const request = requests.get(name);
      if (request === undefined) continue; // metrics of pods the selector no longer matches
      usage += metric.value;
      requested += request;
    }
    if (requested === 0) throw new MetricsError(`no metrics returned matched known pods`);
    return { utilization: Math.trunc((usage * 100) / requested), rawAverage: usage / m.size };
  };
  const first = ratioOf(metrics);
  const usageRatio = first.utilization / args.targetUtilization;
  const replicas = finish(args.currentReplicas, groups, metrics, usageRatio, tolerance, (name, scaleDown) => (scaleDown ? requests.get(name)! : 0), (m) => ratioOf(m).utilization / args.targetUtilization);
  return { replicas, utilization: first.utilization, rawAverageValue: Math.trunc(first.rawAverage), timestamp: latest(args.metrics) };
}

/** A Resource metric with an AverageValue target (milli-units per pod). */
export function resourceAverageValueReplicas(args: {
  currentReplicas: number;
  targetAverageValue: number;
  resource: string;
  pods: KubeObject[];
  metrics: PodMetrics;
  nowMs: number;
  tolerance?: number;
}): ReplicaCalculation {
  const { pods, resource } = args;
  checkInputs(pods, args.metrics, resource);
  const tolerance = args.tolerance ?? defaultTolerance;
  const groups = groupPods(pods, args.metrics, resource, args.nowMs);
  const metrics = withoutPods(args.metrics, groups.ignored, groups.unready);
  if (metrics.size === 0) throw new MetricsError('did not receive metrics for targeted pods (pods might be unready)');
  const average = (m: PodMetrics) => [...m.values()].reduce((n, x) => n + x.value, 0) / m.size;
  const usageRatio = average(metrics) / args.targetAverageValue;
  const replicas = finish(args.currentReplicas, groups, metrics, usageRatio, tolerance, (_name, scaleDown) => (scaleDown ? args.targetAverageValue : 0), (m) => average(m) / args.targetAverageValue);
  return { replicas, rawAverageValue: Math.trunc(average(metrics)), timestamp: latest(args.metrics) };
}
