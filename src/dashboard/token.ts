// CLI side of the dashboard sign-in: makes sure the admin service account exists and asks the
// TokenRequest API for a short-lived token to paste into the dashboard. `navarch dashboard`
// calls these with a client built from the user's kubeconfig.
import type { Client } from '../client/client.js';
import { isAlreadyExists } from '../client/errors.js';
import {
  DASHBOARD_ADMIN_NAME,
  DASHBOARD_ADMIN_NAMESPACE,
  dashboardAdminClusterRoleBinding,
  dashboardAdminServiceAccount,
} from './rbac.js';

const serviceAccounts = { group: '', version: 'v1', resource: 'serviceaccounts', kind: 'ServiceAccount', namespaced: true };
const clusterRoleBindings = { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterrolebindings', kind: 'ClusterRoleBinding', namespaced: false };

/** One day: long enough for a working session, short enough that a leaked token soon dies. */
export const DEFAULT_DASHBOARD_TOKEN_SECONDS = 24 * 60 * 60;

export interface DashboardToken {
  token: string;
  expirationTimestamp: string;
  serviceAccount: { namespace: string; name: string };
}

/** Creates kube-system/navarch-dashboard-admin and its cluster-admin binding; existing ones are kept as they are. */
export async function ensureDashboardAdmin(client: Client): Promise<void> {
  for (const [ref, object] of [
    [serviceAccounts, dashboardAdminServiceAccount()],
    [clusterRoleBindings, dashboardAdminClusterRoleBinding()],
  ] as const) {
    try {
      await client.resource(ref).create(object.metadata.namespace, object);
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
    }
  }
}

/** POST serviceaccounts/<name>/token (authentication.k8s.io/v1 TokenRequest), as `kubectl create token` does. */
export async function requestServiceAccountToken(
  client: Client,
  namespace: string,
  name: string,
  options: { expirationSeconds?: number; audiences?: string[] } = {},
): Promise<DashboardToken> {
  const spec: Record<string, unknown> = { expirationSeconds: options.expirationSeconds ?? DEFAULT_DASHBOARD_TOKEN_SECONDS };
  if (options.audiences?.length) spec.audiences = options.audiences;
  const review = await client.resource(serviceAccounts).createSubresource(namespace, name, 'token', {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    metadata: { name, namespace },
    spec,
  });
  const token = review?.status?.token;
  if (typeof token !== 'string' || !token) throw new Error(`the API server returned no token for service account ${namespace}/${name}`);
  return { token, expirationTimestamp: review.status.expirationTimestamp ?? '', serviceAccount: { namespace, name } };
}

/** What `navarch dashboard` does: the admin account (created once) and a fresh token for it. */
export async function createDashboardToken(client: Client, options: { expirationSeconds?: number } = {}): Promise<DashboardToken> {
  await ensureDashboardAdmin(client);
  return requestServiceAccountToken(client, DASHBOARD_ADMIN_NAMESPACE, DASHBOARD_ADMIN_NAME, options);
}

/** The URL users open: the API server's own address with /dashboard/. */
export function dashboardUrl(serverUrl: string): string {
  return `${serverUrl.replace(/\/+$/, '')}/dashboard/`;
}

/** Text printed by `navarch dashboard`. */
export function dashboardLoginInstructions(serverUrl: string, token?: DashboardToken): string {
  const lines = [`Dashboard: ${dashboardUrl(serverUrl)}`, ''];
  if (token) {
    lines.push(
      `Sign in with this token (service account ${token.serviceAccount.namespace}/${token.serviceAccount.name}, cluster-admin${token.expirationTimestamp ? `, valid until ${token.expirationTimestamp}` : ''}):`,
      '',
      token.token,
      '',
    );
  } else {
    lines.push('Sign in with a service account token, for example:', '', `  kubectl -n ${DASHBOARD_ADMIN_NAMESPACE} create token ${DASHBOARD_ADMIN_NAME}`, '');
  }
  lines.push(
    'The browser will warn about the certificate unless it trusts the cluster CA (<data-dir>/tls/ca.crt).',
    'The token stays in that browser tab only; run `navarch dashboard` again for a new one.',
  );
  return `${lines.join('\n')}\n`;
}
