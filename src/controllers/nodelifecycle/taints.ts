// Taints and tolerations as Kubernetes matches them (k8s.io/api/core/v1 toleration.go), and the
// taints the node lifecycle controller owns: which ones a node's conditions and
// spec.unschedulable call for, and when a NoExecute taint evicts a pod.
import type { KubeObject } from '../../api/types.js';

export interface Taint {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
  timeAdded?: string;
}

export interface Toleration {
  key?: string;
  operator?: 'Exists' | 'Equal';
  value?: string;
  effect?: string;
  tolerationSeconds?: number | null;
}

export const notReadyTaintKey = 'node.kubernetes.io/not-ready';
export const unreachableTaintKey = 'node.kubernetes.io/unreachable';
export const unschedulableTaintKey = 'node.kubernetes.io/unschedulable';

/** Conditions that, when True, the scheduler must see as a NoSchedule taint (TaintNodesByCondition). */
const pressureTaints: Record<string, string> = {
  MemoryPressure: 'node.kubernetes.io/memory-pressure',
  DiskPressure: 'node.kubernetes.io/disk-pressure',
  PIDPressure: 'node.kubernetes.io/pid-pressure',
  NetworkUnavailable: 'node.kubernetes.io/network-unavailable',
};

/** Every taint key this controller adds and removes; taints with other keys belong to users. */
export const managedTaintKeys = new Set([notReadyTaintKey, unreachableTaintKey, unschedulableTaintKey, ...Object.values(pressureTaints)]);

export function tolerates(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  if (toleration.key && toleration.key !== taint.key) return false;
  if (toleration.operator === 'Exists') return true;
  // An empty key with operator Equal is invalid; it tolerates nothing.
  if (!toleration.key) return false;
  return (toleration.value ?? '') === (taint.value ?? '');
}

function readyStatus(node: KubeObject): string | undefined {
  return (node.status?.conditions ?? []).find((c: { type: string }) => c.type === 'Ready')?.status;
}

/** The managed taints a node should carry now (timeAdded left for the caller to fill). */
export function desiredManagedTaints(node: KubeObject): Taint[] {
  const taints: Taint[] = [];
  const ready = readyStatus(node);
  const readyKey = ready === 'False' ? notReadyTaintKey : ready === 'Unknown' ? unreachableTaintKey : undefined;
  if (readyKey) taints.push({ key: readyKey, effect: 'NoSchedule' }, { key: readyKey, effect: 'NoExecute' });
  for (const c of node.status?.conditions ?? []) {
    if (c.status === 'True' && pressureTaints[c.type]) taints.push({ key: pressureTaints[c.type]!, effect: 'NoSchedule' });
  }
  if (node.spec?.unschedulable) taints.push({ key: unschedulableTaintKey, effect: 'NoSchedule' });
  return taints;
}

const sameTaint = (a: Taint, b: Taint) => a.key === b.key && a.effect === b.effect && (a.value ?? '') === (b.value ?? '');

/**
 * The node's taints with the managed ones replaced by `desired`: user taints untouched, a
 * managed taint already present keeps its timeAdded (eviction deadlines count from it), a new
 * NoExecute taint is stamped `now`. Returns undefined when nothing changes.
 */
export function reconcileTaints(current: Taint[], desired: Taint[], now: string): Taint[] | undefined {
  const kept = current.filter((t) => !managedTaintKeys.has(t.key) || desired.some((d) => sameTaint(d, t)));
  const added = desired.filter((d) => !current.some((t) => sameTaint(d, t))).map((d) => (d.effect === 'NoExecute' ? { ...d, timeAdded: now } : d));
  if (added.length === 0 && kept.length === current.length) return undefined;
  return [...kept, ...added];
}

/**
 * When the NoExecute taints on a node evict `pod`: undefined when it tolerates them all
 * forever, otherwise the time in ms (≤ now: at once). A taint the pod does not tolerate evicts
 * at once; otherwise the shortest tolerationSeconds among the tolerations used (the first matching one per taint), counted from
 * the taint's timeAdded.
 */
export function evictionTime(pod: KubeObject, taints: Taint[], nowMs: number): number | undefined {
  const tolerations: Toleration[] = pod.spec?.tolerations ?? [];
  let at: number | undefined;
  for (const taint of taints) {
    if (taint.effect !== 'NoExecute') continue;
    // As GetMatchingTolerations: the first toleration that matches is the one used for this taint.
    const used = tolerations.find((t) => tolerates(t, taint));
    if (!used) return nowMs;
    if (used.tolerationSeconds === undefined || used.tolerationSeconds === null) continue;
    const seconds = Math.max(0, used.tolerationSeconds);
    const added = taint.timeAdded ? Date.parse(taint.timeAdded) : nowMs;
    const taintAt = (Number.isNaN(added) ? nowMs : added) + seconds * 1000;
    if (at === undefined || taintAt < at) at = taintAt;
  }
  return at;
}
