// Objects every cluster has from its first start: the system namespaces (and, as they are
// built, default RBAC policy and the `kubernetes` Service). Idempotent: existing objects are kept.
import type { KubeObject } from '../api/types.js';
import type { ApiServer } from './index.js';
import { ApiError } from './errors.js';

const systemUser = { username: 'system:apiserver', groups: ['system:masters', 'system:authenticated'] };

export const systemNamespaces = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export async function ensureObject(api: ApiServer, group: string, version: string, resource: string, object: KubeObject): Promise<void> {
  const served = api.registry.lookup(group, version, resource);
  if (!served) throw new Error(`bootstrap: ${group}/${version}/${resource} is not served`);
  try {
    await api.resources.create(served, object.metadata.namespace ?? '', object, { user: systemUser, warnings: [], fieldManager: 'navarch-bootstrap' });
  } catch (e) {
    if (e instanceof ApiError && e.code === 409) return;
    throw e;
  }
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
