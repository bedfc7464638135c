// Which pods the pod garbage collector removes in one pass (k8s.io/kubernetes/pkg/controller/podgc),
// as a pure function of the cached pods and nodes so it can be tested as a table.
import type { KubeObject } from '../../api/types.js';

export interface PodGcPlan {
  /** Finished pods over the threshold, evicted ones first, then oldest first. */
  terminated: KubeObject[];
  /** Pods bound to a node that is not in the cache (to be confirmed gone before deleting). */
  orphaned: KubeObject[];
  /** Pods being deleted that were never scheduled: no kubelet will ever finish them. */
  unscheduledTerminating: KubeObject[];
}

export const isTerminated = (pod: KubeObject) => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';

const created = (pod: KubeObject) => Date.parse(pod.metadata.creationTimestamp ?? '') || 0;

/** byEvictionAndCreationTimestamp: pods the kubelet evicted go first, then by creation, then by name for a stable order. */
function gcOrder(a: KubeObject, b: KubeObject): number {
  const evicted = (p: KubeObject) => (p.status?.reason === 'Evicted' ? 0 : 1);
  return evicted(a) - evicted(b) || created(a) - created(b) || `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`);
}

/** `terminatedPodThreshold` ≤ 0 turns collection of finished pods off, as --terminated-pod-gc-threshold does. */
export function planPodGc(pods: KubeObject[], nodeExists: (name: string) => boolean, terminatedPodThreshold: number): PodGcPlan {
  const plan: PodGcPlan = { terminated: [], orphaned: [], unscheduledTerminating: [] };
  if (terminatedPodThreshold > 0) {
    const terminated = pods.filter(isTerminated);
    const excess = terminated.length - terminatedPodThreshold;
    if (excess > 0) plan.terminated = terminated.sort(gcOrder).slice(0, excess);
  }
  const chosen = new Set(plan.terminated);
  for (const pod of pods) {
    if (chosen.has(pod)) continue;
    const node = pod.spec?.nodeName;
    if (node && !nodeExists(node)) plan.orphaned.push(pod);
    else if (!node && pod.metadata.deletionTimestamp) plan.unscheduledTerminating.push(pod);
  }
  return plan;
}
