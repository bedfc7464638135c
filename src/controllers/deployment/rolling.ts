// Deployment arithmetic from k8s.io/kubernetes/pkg/controller/deployment/util: maxSurge /
// maxUnavailable resolution (surge rounds up, unavailable rounds down, never both zero), how
// far a rolling update may scale the new ReplicaSet, and proportional scaling shares.
import type { KubeObject } from '../../api/types.js';

export const revisionAnnotation = 'deployment.kubernetes.io/revision';
export const revisionHistoryAnnotation = 'deployment.kubernetes.io/revision-history';
export const desiredReplicasAnnotation = 'deployment.kubernetes.io/desired-replicas';
export const maxReplicasAnnotation = 'deployment.kubernetes.io/max-replicas';
export const podTemplateHashLabel = 'pod-template-hash';

/** intstr.GetScaledValueFromIntOrPercent. */
export function scaledValue(value: number | string | undefined, total: number, roundUp: boolean): number {
  if (value === undefined || value === null) return 0;
  if (typeof value === 'number') return value;
  const match = /^(-?\d+)%$/.exec(value);
  if (!match) {
    if (/^-?\d+$/.test(value)) return Number(value);
    throw new Error(`invalid value for IntOrString: invalid type: string is not a percentage`);
  }
  const scaled = (Number(match[1]) * total) / 100;
  return roundUp ? Math.ceil(scaled) : Math.floor(scaled);
}

/** ResolveFenceposts: [maxSurge, maxUnavailable] for `desired` replicas. */
export function resolveFenceposts(maxSurge: number | string | undefined, maxUnavailable: number | string | undefined, desired: number): [number, number] {
  const surge = scaledValue(maxSurge ?? '25%', desired, true);
  let unavailable = scaledValue(maxUnavailable ?? '25%', desired, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return [surge, unavailable];
}

export function isRollingUpdate(d: KubeObject): boolean {
  return (d.spec?.strategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
}

export function replicasOf(obj: KubeObject | undefined): number {
  return obj?.spec?.replicas ?? (obj ? 1 : 0);
}

export function maxSurge(d: KubeObject): number {
  if (!isRollingUpdate(d)) return 0;
  const ru = d.spec?.strategy?.rollingUpdate ?? {};
  return resolveFenceposts(ru.maxSurge, ru.maxUnavailable, replicasOf(d))[0];
}

export function maxUnavailable(d: KubeObject): number {
  const replicas = replicasOf(d);
  if (!isRollingUpdate(d) || replicas === 0) return 0;
  const ru = d.spec?.strategy?.rollingUpdate ?? {};
  const unavailable = resolveFenceposts(ru.maxSurge, ru.maxUnavailable, replicas)[1];
  return Math.min(unavailable, replicas);
}

export const sumSpecReplicas = (rss: (KubeObject | undefined)[]) => rss.reduce((n, rs) => n + (rs ? rs.spec?.replicas ?? 0 : 0), 0);
export const sumStatus = (rss: (KubeObject | undefined)[], field: string) => rss.reduce((n, rs) => n + (rs?.status?.[field] ?? 0), 0);

/** NewRSNewReplicas: the size the new ReplicaSet may grow to now. */
export function newReplicaSetReplicas(d: KubeObject, allRSs: KubeObject[], newRS: KubeObject): number {
  if (!isRollingUpdate(d)) return replicasOf(d);
  const replicas = replicasOf(d);
  const newSize = newRS.spec?.replicas ?? 0;
  const current = sumSpecReplicas(allRSs);
  const maxTotal = replicas + maxSurge(d);
  if (current >= maxTotal) return newSize;
  const scaleUp = Math.min(maxTotal - current, replicas - newSize);
  return newSize + scaleUp;
}

/** Go's math.Round: half away from zero. */
export function roundHalfAwayFromZero(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/** getReplicaSetFraction: this ReplicaSet's share of a resize, from its max-replicas annotation. */
export function replicaSetFraction(rs: KubeObject, d: KubeObject): number {
  const size = rs.spec?.replicas ?? 0;
  if (replicasOf(d) === 0) return -size;
  const deploymentReplicas = replicasOf(d) + maxSurge(d);
  const raw = rs.metadata.annotations?.[maxReplicasAnnotation];
  const annotated = raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : d.status?.replicas ?? 0;
  if (annotated === 0) return 0;
  return roundHalfAwayFromZero((size * deploymentReplicas) / annotated) - size;
}

/** GetProportion. */
export function proportion(rs: KubeObject, d: KubeObject, toAdd: number, added: number): number {
  if ((rs.spec?.replicas ?? 0) === 0 || toAdd === 0 || toAdd === added) return 0;
  const fraction = replicaSetFraction(rs, d);
  const allowed = toAdd - added;
  return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
}

const created = (rs: KubeObject) => Date.parse(rs.metadata.creationTimestamp ?? '') || 0;

export function byCreation(a: KubeObject, b: KubeObject): number {
  return created(a) - created(b) || (a.metadata.name! < b.metadata.name! ? -1 : a.metadata.name! > b.metadata.name! ? 1 : 0);
}

/**
 * Proportional scaling (the `scale` step of Kubernetes' sync): distributes a change of
 * deployment size across the active ReplicaSets in proportion to their current sizes.
 * Returns the new size of each ReplicaSet by name.
 */
export function proportionalSizes(d: KubeObject, active: KubeObject[]): Map<string, number> {
  const total = sumSpecReplicas(active);
  const allowed = replicasOf(d) > 0 ? replicasOf(d) + maxSurge(d) : 0;
  const toAdd = allowed - total;
  const sorted = [...active].sort((a, b) => {
    const diff = (b.spec?.replicas ?? 0) - (a.spec?.replicas ?? 0);
    if (diff !== 0) return diff;
    // Ties: newer first when growing, older first when shrinking.
    return toAdd > 0 ? byCreation(b, a) : byCreation(a, b);
  });
  const sizes = new Map<string, number>();
  let added = 0;
  for (const rs of sorted) {
    const share = toAdd !== 0 ? proportion(rs, d, toAdd, added) : 0;
    sizes.set(rs.metadata.name!, (rs.spec?.replicas ?? 0) + share);
    added += share;
  }
  if (toAdd !== 0 && sorted.length) {
    const first = sorted[0]!.metadata.name!;
    sizes.set(first, Math.max(0, sizes.get(first)! + (toAdd - added)));
  }
  return sizes;
}

export function revisionOf(rs: KubeObject): number {
  const raw = rs.metadata.annotations?.[revisionAnnotation];
  return raw && /^\d+$/.test(raw) ? Number(raw) : 0;
}
