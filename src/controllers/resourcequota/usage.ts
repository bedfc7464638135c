// What an object charges against a ResourceQuota (k8s.io/kubernetes/pkg/quota/v1/evaluator/core):
// counts per kind, and for pods the compute requests and limits of the containers. Shared by
// the controller (status.used from all objects) and the admission plugin (the delta of one).
import type { KubeObject } from '../../api/types.js';
import { parseQuantity } from '../../api/validation/quantity.js';

/** Resource name → amount, in base units (cores, bytes, objects). */
export type Usage = Record<string, number>;

/** The kinds quota counts, by "resource.group" as `count/<resource>.<group>` spells them. */
export const countedResources: Record<string, { group: string; resource: string; kind: string; legacyName?: string }> = {
  pods: { group: '', resource: 'pods', kind: 'Pod', legacyName: 'pods' },
  services: { group: '', resource: 'services', kind: 'Service', legacyName: 'services' },
  configmaps: { group: '', resource: 'configmaps', kind: 'ConfigMap', legacyName: 'configmaps' },
  secrets: { group: '', resource: 'secrets', kind: 'Secret', legacyName: 'secrets' },
  persistentvolumeclaims: { group: '', resource: 'persistentvolumeclaims', kind: 'PersistentVolumeClaim', legacyName: 'persistentvolumeclaims' },
  replicationcontrollers: { group: '', resource: 'replicationcontrollers', kind: 'ReplicationController', legacyName: 'replicationcontrollers' },
  resourcequotas: { group: '', resource: 'resourcequotas', kind: 'ResourceQuota', legacyName: 'resourcequotas' },
  'deployments.apps': { group: 'apps', resource: 'deployments', kind: 'Deployment' },
  'replicasets.apps': { group: 'apps', resource: 'replicasets', kind: 'ReplicaSet' },
  'statefulsets.apps': { group: 'apps', resource: 'statefulsets', kind: 'StatefulSet' },
  'jobs.batch': { group: 'batch', resource: 'jobs', kind: 'Job' },
};

/** The counted-resource key ("pods", "deployments.apps") of an object's kind. */
export function countKeyOf(group: string, kind: string): string | undefined {
  return Object.entries(countedResources).find(([, r]) => r.group === group && r.kind === kind)?.[0];
}

const computeResources = ['cpu', 'memory', 'ephemeral-storage'];

/** A pod stops using quota once it is finished (Kubernetes' QuotaV1Pod). */
export function podChargesQuota(pod: KubeObject): boolean {
  return pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed';
}

/** The pod's effective requests or limits: max(sum of containers, largest init container), plus overhead. */
function podAmounts(pod: KubeObject, field: 'requests' | 'limits'): Record<string, number> {
  const total: Record<string, number> = {};
  for (const c of pod.spec?.containers ?? []) {
    for (const [name, value] of Object.entries(c.resources?.[field] ?? {})) total[name] = (total[name] ?? 0) + (parseQuantity(value) ?? 0);
  }
  for (const c of pod.spec?.initContainers ?? []) {
    for (const [name, value] of Object.entries(c.resources?.[field] ?? {})) total[name] = Math.max(total[name] ?? 0, parseQuantity(value) ?? 0);
  }
  for (const [name, value] of Object.entries(pod.spec?.overhead ?? {})) if (name in total) total[name] = total[name]! + (parseQuantity(value) ?? 0);
  return total;
}

/** Everything `obj` (of `countKey`'s kind) charges; only the resources it touches appear. */
export function usageOf(countKey: string, obj: KubeObject): Usage {
  const usage: Usage = {};
  const info = countedResources[countKey];
  if (!info) return usage;
  if (countKey === 'pods' && !podChargesQuota(obj)) return usage;
  usage[`count/${countKey}`] = 1;
  if (info.legacyName) usage[info.legacyName] = 1;
  if (countKey === 'pods') {
    const requests = podAmounts(obj, 'requests');
    const limits = podAmounts(obj, 'limits');
    for (const name of computeResources) {
      if (requests[name] !== undefined) usage[`requests.${name}`] = usage[name] = requests[name]!;
      if (limits[name] !== undefined) usage[`limits.${name}`] = limits[name]!;
    }
  }
  if (countKey === 'services') {
    const type = obj.spec?.type;
    if (type === 'LoadBalancer') usage['services.loadbalancers'] = 1;
    if (type === 'NodePort' || type === 'LoadBalancer') usage['services.nodeports'] = (obj.spec?.ports ?? []).length;
  }
  if (countKey === 'persistentvolumeclaims') {
    const storage = parseQuantity(obj.spec?.resources?.requests?.storage);
    if (storage !== undefined) usage['requests.storage'] = storage;
  }
  return usage;
}

export function addUsage(into: Usage, more: Usage): Usage {
  for (const [name, value] of Object.entries(more)) into[name] = (into[name] ?? 0) + value;
  return into;
}

const isCpu = (name: string) => name === 'cpu' || name.endsWith('.cpu');
const isBytes = (name: string) => /(^|\.)(memory|storage|ephemeral-storage)$/.test(name);

/** A quantity as Kubernetes would print the sum: cores or millicores, bytes in the largest exact binary unit. */
export function formatQuantity(name: string, value: number): string {
  if (isCpu(name)) {
    const milli = Math.round(value * 1000);
    return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
  }
  if (isBytes(name) && value > 0) {
    for (const [suffix, unit] of [['Ei', 2 ** 60], ['Pi', 2 ** 50], ['Ti', 2 ** 40], ['Gi', 2 ** 30], ['Mi', 2 ** 20], ['Ki', 2 ** 10]] as const) {
      if (value % unit === 0) return `${value / unit}${suffix}`;
    }
  }
  return String(Math.round(value));
}

/** The quota keys `usage` should report for a quota with these hard limits (zero when nothing uses them). */
export function usedFor(hard: Record<string, unknown>, usage: Usage): Record<string, string> {
  const used: Record<string, string> = {};
  for (const name of Object.keys(hard)) used[name] = formatQuantity(name, usage[name] ?? 0);
  return used;
}
