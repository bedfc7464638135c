// Which pods a ReplicaSet deletes first when scaling down: Kubernetes' ActivePodsWithRanks
// ordering (pkg/controller/controller_utils.go), with LogarithmicScaleDown and PodDeletionCost.
import type { KubeObject } from '../../api/types.js';
import { isPodReady, podCondition } from '../framework/pods.js';

export const podDeletionCostAnnotation = 'controller.kubernetes.io/pod-deletion-cost';

const phaseOrder: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

function deletionCost(pod: KubeObject): number {
  const raw = pod.metadata.annotations?.[podDeletionCostAnnotation];
  if (raw === undefined) return 0;
  const n = Number(raw);
  return Number.isInteger(n) ? n : 0;
}

function maxContainerRestarts(pod: KubeObject): number {
  let max = 0;
  for (const s of pod.status?.containerStatuses ?? []) max = Math.max(max, s.restartCount ?? 0);
  return max;
}

function readyTime(pod: KubeObject): number | undefined {
  const ready = podCondition(pod, 'Ready');
  if (ready?.status !== 'True' || !ready.lastTransitionTime) return undefined;
  return Date.parse(ready.lastTransitionTime);
}

/** Buckets ages by powers of two (in nanoseconds, as Go's Duration) so pods of similar age tie. */
function logarithmicRank(t: number, now: number): number {
  const nanos = (now - t) * 1e6;
  return nanos > 0 ? Math.floor(Math.log2(nanos)) : -1;
}

/**
 * Negative when pod `a` should be deleted before pod `b`. `rankA`/`rankB` count the related
 * pods sharing each pod's node: doubled-up pods go first.
 */
export function comparePodsForDeletion(a: KubeObject, rankA: number, b: KubeObject, rankB: number, now: number): number {
  // 1. Unassigned before assigned.
  const assignedA = a.spec?.nodeName ? 1 : 0;
  const assignedB = b.spec?.nodeName ? 1 : 0;
  if (assignedA !== assignedB) return assignedA - assignedB;
  // 2. Pending < Unknown < Running.
  const phaseA = phaseOrder[a.status?.phase ?? 'Pending'] ?? 0;
  const phaseB = phaseOrder[b.status?.phase ?? 'Pending'] ?? 0;
  if (phaseA !== phaseB) return phaseA - phaseB;
  // 3. Not ready before ready.
  const readyA = isPodReady(a) ? 1 : 0;
  const readyB = isPodReady(b) ? 1 : 0;
  if (readyA !== readyB) return readyA - readyB;
  // 4. Lower pod-deletion-cost first.
  const costA = deletionCost(a);
  const costB = deletionCost(b);
  if (costA !== costB) return costA - costB;
  // 5. More pods on the same node first.
  if (rankA !== rankB) return rankB - rankA;
  // 6. Ready for less time first (log-scaled).
  if (readyA && readyB) {
    const tA = readyTime(a);
    const tB = readyTime(b);
    if (tA !== undefined && tB !== undefined) {
      const diff = logarithmicRank(tA, now) - logarithmicRank(tB, now);
      if (diff !== 0) return diff;
    } else if (tA !== tB) {
      return tA === undefined ? -1 : 1;
    }
  }
  // 7. More restarts first.
  const restartsA = maxContainerRestarts(a);
  const restartsB = maxContainerRestarts(b);
  if (restartsA !== restartsB) return restartsB - restartsA;
  // 8. Newer first (log-scaled); a missing creation time counts as newest.
  const cA = a.metadata.creationTimestamp ? Date.parse(a.metadata.creationTimestamp) : undefined;
  const cB = b.metadata.creationTimestamp ? Date.parse(b.metadata.creationTimestamp) : undefined;
  if (cA === undefined || cB === undefined) return cA === cB ? 0 : cA === undefined ? -1 : 1;
  return logarithmicRank(cA, now) - logarithmicRank(cB, now);
}

/**
 * The `count` pods to delete: ranked by how many related pods (those of the same owner,
 * including sibling ReplicaSets of one Deployment) share their node.
 */
export function podsToDelete(pods: KubeObject[], relatedPods: KubeObject[], count: number, now: number): KubeObject[] {
  if (count >= pods.length) return pods.slice(0, count);
  const perNode = new Map<string, number>();
  for (const p of relatedPods) {
    const node = p.spec?.nodeName;
    if (node && !p.metadata.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed') perNode.set(node, (perNode.get(node) ?? 0) + 1);
  }
  const ranked = pods.map((pod) => ({ pod, rank: pod.spec?.nodeName ? perNode.get(pod.spec.nodeName) ?? 0 : 0 }));
  ranked.sort((x, y) => comparePodsForDeletion(x.pod, x.rank, y.pod, y.rank, now));
  return ranked.slice(0, count).map((r) => r.pod);
}
