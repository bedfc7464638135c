// RBAC the dashboard needs: anonymous users may fetch the static files under /dashboard/ (they
// hold no cluster data; every API call the page makes carries the user's own token), and the
// optional admin service account `navarch dashboard` hands out tokens for.
import type { KubeObject } from '../api/types.js';

const RBAC_API_VERSION = 'rbac.authorization.k8s.io/v1';

export const DASHBOARD_STATIC_ROLE = 'system:navarch:dashboard-static';
export const DASHBOARD_ADMIN_NAMESPACE = 'kube-system';
export const DASHBOARD_ADMIN_NAME = 'navarch-dashboard-admin';

const bootstrapMetadata = {
  labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' },
  annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' },
};

/** GET (and HEAD) on /dashboard and everything below it, and nothing else. */
export function dashboardStaticClusterRole(): KubeObject {
  return {
    apiVersion: RBAC_API_VERSION,
    kind: 'ClusterRole',
    metadata: { name: DASHBOARD_STATIC_ROLE, ...structuredClone(bootstrapMetadata) },
    rules: [{ verbs: ['get', 'head'], nonResourceURLs: ['/dashboard', '/dashboard/*'] }],
  } as KubeObject;
}

/** Binds the static-files role to everyone, signed in or not (like system:public-info-viewer). */
export function dashboardStaticClusterRoleBinding(): KubeObject {
  return {
    apiVersion: RBAC_API_VERSION,
    kind: 'ClusterRoleBinding',
    metadata: { name: DASHBOARD_STATIC_ROLE, ...structuredClone(bootstrapMetadata) },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: DASHBOARD_STATIC_ROLE },
    subjects: [
      { apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:authenticated' },
      { apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:unauthenticated' },
    ],
  } as KubeObject;
}

/** In the shape of security.ts' defaultRbacObjects(), for bootstrapClusterObjects. */
export function dashboardRbacObjects(): { group: string; version: string; resource: string; object: KubeObject }[] {
  return [
    { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterroles', object: dashboardStaticClusterRole() },
    { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterrolebindings', object: dashboardStaticClusterRoleBinding() },
  ];
}

export function dashboardAdminServiceAccount(): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: DASHBOARD_ADMIN_NAME, namespace: DASHBOARD_ADMIN_NAMESPACE, labels: { 'app.kubernetes.io/name': 'navarch-dashboard' } },
  } as KubeObject;
}

export function dashboardAdminClusterRoleBinding(): KubeObject {
  return {
    apiVersion: RBAC_API_VERSION,
    kind: 'ClusterRoleBinding',
    metadata: { name: DASHBOARD_ADMIN_NAME, labels: { 'app.kubernetes.io/name': 'navarch-dashboard' } },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
    subjects: [{ kind: 'ServiceAccount', name: DASHBOARD_ADMIN_NAME, namespace: DASHBOARD_ADMIN_NAMESPACE }],
  } as KubeObject;
}
