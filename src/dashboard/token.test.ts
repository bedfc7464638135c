import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { decodeJwt } from 'jose';
import { startTestApiServer, type TestApiServer } from '../apiserver/testing.js';
import { createServiceAccountTokenIssuer } from '../apiserver/auth/service-account-token.js';
import { createClient } from '../client/client.js';
import type { Transport } from '../client/transport.js';
import { createDashboardToken, dashboardLoginInstructions, dashboardUrl, ensureDashboardAdmin } from './token.js';

describe('navarch dashboard token', () => {
  let server: TestApiServer;
  before(async () => {
    server = await startTestApiServer();
  });
  after(async () => server.close());

  test('ensureDashboardAdmin creates the service account and its cluster-admin binding, and is idempotent', async () => {
    await ensureDashboardAdmin(server.client);
    await ensureDashboardAdmin(server.client);
    const sa = await server.client.resource({ group: '', version: 'v1', resource: 'serviceaccounts', namespaced: true }).get('kube-system', 'navarch-dashboard-admin');
    assert.equal(sa.metadata.namespace, 'kube-system');
    const binding = await server.client.resource({ group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterrolebindings', namespaced: false }).get(undefined, 'navarch-dashboard-admin');
    assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' });
    assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'navarch-dashboard-admin', namespace: 'kube-system' }]);
  });

  test('createDashboardToken posts a TokenRequest for the admin account and returns its token', async () => {
    // The API server answers everything; TokenRequest is answered here with the real token issuer
    // in case this server build does not serve serviceaccounts/token yet.
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const issuer = createServiceAccountTokenIssuer({ privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() });
    const inner = server.transport();
    const tokenRequests: any[] = [];
    const transport: Transport = {
      async request(req) {
        const match = /^\/api\/v1\/namespaces\/([^/]+)\/serviceaccounts\/([^/]+)\/token$/.exec(req.path);
        if (req.method === 'POST' && match) {
          const served = await inner.request(req);
          if (served.status !== 405) return served;
          tokenRequests.push(req.body);
          const sa = (await inner.request({ method: 'GET', path: `/api/v1/namespaces/${match[1]}/serviceaccounts/${match[2]}` })).body;
          const issued = await issuer.issueServiceAccountToken({ namespace: match[1], name: match[2], uid: sa.metadata.uid, expirationSeconds: (req.body as any).spec.expirationSeconds });
          return { status: 201, body: { ...(req.body as object), status: issued } };
        }
        return inner.request(req);
      },
      watch: (...args) => inner.watch(...args),
    };
    const token = await createDashboardToken(createClient(transport), { expirationSeconds: 7200 });
    assert.deepEqual(token.serviceAccount, { namespace: 'kube-system', name: 'navarch-dashboard-admin' });
    const claims = decodeJwt(token.token);
    assert.equal(claims.sub, 'system:serviceaccount:kube-system:navarch-dashboard-admin');
    assert.equal((claims.exp ?? 0) - (claims.iat ?? 0), 7200);
    assert.ok(token.expirationTimestamp);
    if (tokenRequests.length) {
      assert.equal(tokenRequests[0].kind, 'TokenRequest');
      assert.equal(tokenRequests[0].apiVersion, 'authentication.k8s.io/v1');
      assert.equal(tokenRequests[0].spec.expirationSeconds, 7200);
    }
  });

  test('login instructions name the URL and the token', () => {
    assert.equal(dashboardUrl('https://127.0.0.1:6443/'), 'https://127.0.0.1:6443/dashboard/');
    const text = dashboardLoginInstructions('https://10.0.0.1:6443', { token: 'tok.en', expirationTimestamp: '2030-01-01T00:00:00Z', serviceAccount: { namespace: 'kube-system', name: 'navarch-dashboard-admin' } });
    assert.match(text, /Dashboard: https:\/\/10\.0\.0\.1:6443\/dashboard\//);
    assert.match(text, /^tok\.en$/m);
    assert.match(text, /valid until 2030-01-01T00:00:00Z/);
    assert.match(dashboardLoginInstructions('https://h:6443'), /kubectl -n kube-system create token navarch-dashboard-admin/);
  });
});
