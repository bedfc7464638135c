// Objects every cluster has from its first start: the system namespaces (and, as they are
// built, default RBAC policy and the `kubernetes` Service). Idempotent: existing objects are kept,
// except default RBAC roles and bindings, which gain what a newer version adds (reconcileRbacDefault).
import type { KubeObject } from '../api/types.js';
import type { ApiServer } from './index.js';
import { ApiError } from './errors.js';
import { deepEqual } from '../util/json.js';

const systemUser = { username: 'system:apiserver', groups: ['system:masters', 'system:authenticated'] };

export const systemNamespaces = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export async function ensureObject(api: ApiServer, group: string, version: string, resource: string, object: KubeObject): Promise<void> {
  const served = api.registry.lookup(group, version, resource);
  if (!served) throw new Error(`bootstrap: ${group}/${version}/${resource} is not served`);
  const namespace = object.metadata.namespace ?? '';
  const context = () => ({ user: systemUser, warnings: [] as string[], fieldManager: 'navarch-bootstrap' });
  try {
    await api.resources.create(served, namespace, object, context());
  } catch (e) {
    if (!(e instanceof ApiError && e.code === 409)) throw e;
    if (group !== rbacGroup) return;
    // An existing default role or binding: a newer navarch may need more than an older one
    // granted (kube-apiserver reconciles its bootstrap policy at every start the same way).
    for (let attempt = 0; attempt < 5; attempt++) {
      const existing = await api.resources.get(served, namespace, object.metadata.name!);
      const reconciled = reconcileRbacDefault(existing, object);
      if (!reconciled) return;
      try {
        await api.resources.update(served, namespace, object.metadata.name!, reconciled, context());
        return;
      } catch (conflict) {
        if (!(conflict instanceof ApiError && conflict.code === 409)) throw conflict;
      }
    }
  }
}

const rbacGroup = 'rbac.authorization.k8s.io';

/** A rule or subject without its empty lists (`resourceNames: []` means the same as none). */
function withoutEmptyLists(value: unknown): unknown {
  if (!value || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => !(Array.isArray(v) && v.length === 0)));
}
const autoupdateAnnotation = 'rbac.authorization.kubernetes.io/autoupdate';

/**
 * Kubernetes' reconciliation of a bootstrap role or binding that already exists: unless an
 * administrator set `rbac.authorization.kubernetes.io/autoupdate: "false"` on it, missing rules
 * (or subjects) are added and nothing is taken away. Aggregated roles are left to the
 * aggregation controller. Returns the object to write, or undefined when it already covers the default.
 */
export function reconcileRbacDefault(existing: KubeObject, wanted: KubeObject): KubeObject | undefined {
  if (existing.metadata.annotations?.[autoupdateAnnotation] === 'false') return undefined;
  const same = (a: unknown, b: unknown) => deepEqual(withoutEmptyLists(a), withoutEmptyLists(b));
  if (wanted.kind === 'ClusterRole' || wanted.kind === 'Role') {
    if (wanted.aggregationRule) return undefined;
    const have: unknown[] = existing.rules ?? [];
    const missing = (wanted.rules ?? []).filter((r: unknown) => !have.some((h) => same(h, r)));
    return missing.length ? { ...existing, rules: [...have, ...missing] } : undefined;
  }
  if (wanted.kind === 'ClusterRoleBinding' || wanted.kind === 'RoleBinding') {
    if (!same(existing.roleRef, wanted.roleRef)) return undefined;
    const have: unknown[] = existing.subjects ?? [];
    const missing = (wanted.subjects ?? []).filter((s: unknown) => !have.some((h) => same(h, s)));
    return missing.length ? { ...existing, subjects: [...have, ...missing] } : undefined;
  }
  return undefined;
}

export async function bootstrapClusterObjects(api: ApiServer, extra: { group: string; version: string; resource: string; object: KubeObject }[] = []): Promise<void> {
  await Promise.all(systemNamespaces.map((name) => ensureObject(api, '', 'v1', 'namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } })));
  // Concurrent creates share storage commits (one fsync for many objects): start-up stays fast.
  await Promise.all(extra.map((e) => ensureObject(api, e.group, e.version, e.resource, e.object)));
}

/**
 * kube-public/cluster-info: the cluster's CA and address, readable by anyone (as kubeadm
 * publishes it), so a joining node can check the CA against the hash in its join token.
 */
export function clusterInfoObjects(caPem: string, serverUrl: string, renderKubeconfig: (o: { server: string; caPem: string }) => string): { group: string; version: string; resource: string; object: KubeObject }[] {
  return [
    {
      group: '',
      version: 'v1',
      resource: 'configmaps',
      object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cluster-info', namespace: 'kube-public' }, data: { kubeconfig: renderKubeconfig({ server: serverUrl, caPem }) } },
    },
    {
      group: 'rbac.authorization.k8s.io',
      version: 'v1',
      resource: 'roles',
      object: {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name: 'navarch:bootstrap-signer-clusterinfo', namespace: 'kube-public' },
        rules: [{ apiGroups: [''], resources: ['configmaps'], resourceNames: ['cluster-info'], verbs: ['get'] }],
      },
    },
    {
      group: 'rbac.authorization.k8s.io',
      version: 'v1',
      resource: 'rolebindings',
      object: {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'navarch:bootstrap-signer-clusterinfo', namespace: 'kube-public' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'navarch:bootstrap-signer-clusterinfo' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'system:anonymous' }],
      },
    },
  ];
}
