// PodDisruptionBudget arithmetic from k8s.io/kubernetes/pkg/controller/disruption: how many
// pods a budget expects, how many must stay healthy, and how many may be disrupted now.
// Pure functions over plain objects so the documented table can be tested directly.
import type { KubeObject } from '../../api/types.js';
import { scaledValue } from '../deployment/rolling.js';
import { isPodReady } from '../framework/pods.js';

/** How long an eviction may take to show up as a deletionTimestamp before the budget stops waiting for it. */
export const deletionTimeoutMs = 2 * 60 * 1000;

export interface BudgetCounts {
  expectedPods: number;
  desiredHealthy: number;
}

/**
 * getExpectedPodCount. `expectedScale` sums the scale of the controllers owning `pods`; it is
 * only consulted when the budget needs it (maxUnavailable, or a percentage minAvailable), and
 * throws when a pod has no controller whose scale is known.
 */
export function expectedPodCount(pdb: KubeObject, pods: KubeObject[], expectedScale: () => number): BudgetCounts {
  const { maxUnavailable, minAvailable } = pdb.spec ?? {};
  if (maxUnavailable !== undefined && maxUnavailable !== null) {
    const expectedPods = expectedScale();
    const unavailable = scaledValue(maxUnavailable, expectedPods, true);
    return { expectedPods, desiredHealthy: Math.max(0, expectedPods - unavailable) };
  }
  if (minAvailable !== undefined && minAvailable !== null) {
    if (typeof minAvailable === 'number') return { expectedPods: pods.length, desiredHealthy: minAvailable };
    const expectedPods = expectedScale();
    return { expectedPods, desiredHealthy: scaledValue(minAvailable, expectedPods, true) };
  }
  return { expectedPods: 0, desiredHealthy: 0 };
}

/** disruptionTime as recorded by the eviction subresource (RFC 3339), in ms; NaN if unreadable. */
function disruptionTimeOf(pdb: KubeObject, podName: string): number | undefined {
  const value = pdb.status?.disruptedPods?.[podName];
  return value === undefined ? undefined : Date.parse(value);
}

export interface DisruptedPods {
  /** The entries still awaiting their pod's deletion. */
  disruptedPods: Record<string, string>;
  /** Evicted pods that were never deleted within the timeout (Kubernetes warns "NotDeleted"). */
  expired: KubeObject[];
  /** When the earliest remaining entry expires, so the budget can be recomputed then. */
  recheckAtMs?: number;
}

/**
 * buildDisruptedPodMap: an entry stays while its pod exists without a deletionTimestamp and
 * the timeout has not passed; entries for pods that are gone or going are dropped.
 */
export function pruneDisruptedPods(pdb: KubeObject, pods: KubeObject[], nowMs: number): DisruptedPods {
  const result: DisruptedPods = { disruptedPods: {}, expired: [] };
  for (const pod of pods) {
    if (pod.metadata.deletionTimestamp) continue;
    const at = disruptionTimeOf(pdb, pod.metadata.name!);
    if (at === undefined || Number.isNaN(at)) continue;
    const expectedDeletion = at + deletionTimeoutMs;
    if (expectedDeletion < nowMs) {
      result.expired.push(pod);
      continue;
    }
    result.disruptedPods[pod.metadata.name!] = pdb.status.disruptedPods[pod.metadata.name!];
    if (result.recheckAtMs === undefined || expectedDeletion < result.recheckAtMs) result.recheckAtMs = expectedDeletion;
  }
  return result;
}

/** countHealthyPods: Ready pods that are neither being deleted nor recently evicted. */
export function countHealthyPods(pods: KubeObject[], disruptedPods: Record<string, string>, nowMs: number): number {
  let healthy = 0;
  for (const pod of pods) {
    if (pod.metadata.deletionTimestamp) continue;
    const at = disruptedPods[pod.metadata.name!];
    if (at !== undefined && Date.parse(at) + deletionTimeoutMs > nowMs) continue;
    if (isPodReady(pod)) healthy++;
  }
  return healthy;
}

/** disruptionsAllowed never goes negative, and is 0 while nothing is expected. */
export function disruptionsAllowed(currentHealthy: number, desiredHealthy: number, expectedPods: number): number {
  const allowed = currentHealthy - desiredHealthy;
  return expectedPods <= 0 || allowed <= 0 ? 0 : allowed;
}
