// Kubernetes audit logging seen from outside: `navarch server --audit-policy-file … --audit-log-path …`
// driven by the real kubectl; the log must hold what kube-apiserver's would.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { eventually, startServer, type TestServer } from './harness.js';

const policy = `
apiVersion: audit.k8s.io/v1
kind: Policy
rules:
  - level: None
    verbs: [get, list, watch]
    resources: [{group: "", resources: [events]}]
  - level: None
    userGroups: [system:nodes]
  - level: Metadata
    resources: [{group: "", resources: [secrets]}]
  - level: RequestResponse
    resources: [{group: "", resources: [configmaps]}]
  - level: Metadata
`;

interface LoggedEvent {
  auditID: string;
  stage: string;
  level: string;
  verb: string;
  user: { username: string; groups?: string[] };
  impersonatedUser?: { username: string };
  objectRef?: { resource?: string; namespace?: string; name?: string };
  responseStatus?: { code: number; reason?: string };
  requestObject?: unknown;
  responseObject?: unknown;
  annotations?: Record<string, string>;
  stageTimestamp: string;
}

describe('audit log with the real kubectl', () => {
  let server: TestServer;
  let dir: string;
  let logPath: string;
  const events = (): LoggedEvent[] =>
    existsSync(logPath)
      ? readFileSync(logPath, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as LoggedEvent)
      : [];
  const find = (what: string, match: (e: LoggedEvent) => boolean) => eventually(() => events().find(match), what, 10_000, 100);
  const isFor = (resource: string, verb: string, name: string) => (e: LoggedEvent) =>
    e.stage === 'ResponseComplete' && e.verb === verb && e.objectRef?.resource === resource && e.objectRef?.name === name && e.objectRef?.namespace === 'audit-e2e';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'navarch-audit-e2e-'));
    logPath = join(dir, 'log', 'audit.log');
    writeFileSync(join(dir, 'policy.yaml'), policy);
    server = await startServer({ extraArgs: ['--audit-policy-file', join(dir, 'policy.yaml'), '--audit-log-path', logPath, '--audit-log-maxsize', '10', '--audit-log-maxbackup', '2'] });
    server.kubectl(['create', 'namespace', 'audit-e2e']);
  });
  after(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('configmaps at RequestResponse, secrets at Metadata', async () => {
    server.kubectl(['-n', 'audit-e2e', 'create', 'configmap', 'settings', '--from-literal=color=blue']);
    server.kubectl(['-n', 'audit-e2e', 'create', 'secret', 'generic', 'token', '--from-literal=password=hunter2']);
    server.kubectl(['-n', 'audit-e2e', 'get', 'configmap', 'settings']);
    server.kubectl(['-n', 'audit-e2e', 'delete', 'configmap', 'settings']);
    server.kubectl(['-n', 'audit-e2e', 'delete', 'secret', 'token']);

    const cmCreate = await find('the configmap create', isFor('configmaps', 'create', 'settings'));
    assert.equal(cmCreate.level, 'RequestResponse');
    assert.equal(cmCreate.responseStatus?.code, 201);
    assert.deepEqual((cmCreate.requestObject as { data: unknown }).data, { color: 'blue' });
    assert.deepEqual((cmCreate.responseObject as { data: unknown }).data, { color: 'blue' });
    assert.ok((cmCreate.responseObject as { metadata: { uid?: string } }).metadata.uid);
    assert.equal(cmCreate.annotations?.['authorization.k8s.io/decision'], 'allow');
    assert.match(cmCreate.stageTimestamp, /\.\d{6}Z$/);
    const received = events().filter((e) => e.auditID === cmCreate.auditID).map((e) => e.stage);
    assert.deepEqual(received, ['RequestReceived', 'ResponseComplete']);

    const secretCreate = await find('the secret create', isFor('secrets', 'create', 'token'));
    assert.equal(secretCreate.level, 'Metadata');
    assert.equal(secretCreate.requestObject, undefined);
    assert.equal(secretCreate.responseObject, undefined);
    assert.equal(JSON.stringify(events()).includes('hunter2'), false, 'no secret data in the log');
    assert.equal(JSON.stringify(events()).includes(Buffer.from('hunter2').toString('base64')), false);

    const cmGet = await find('the configmap get', isFor('configmaps', 'get', 'settings'));
    assert.equal(cmGet.responseStatus?.code, 200);
    await find('the configmap delete', isFor('configmaps', 'delete', 'settings'));
    await find('the secret delete', isFor('secrets', 'delete', 'token'));
  });

  test('a forbidden request: decision forbid, code 403, the impersonated user named', async () => {
    const r = server.kubectl(['-n', 'audit-e2e', 'get', 'secrets', '--as', 'mallory'], { allowFail: true });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /Forbidden/);
    const denied = await find('the forbidden list', (e) => e.stage === 'ResponseComplete' && e.impersonatedUser?.username === 'mallory' && e.objectRef?.resource === 'secrets');
    assert.equal(denied.verb, 'list');
    assert.equal(denied.responseStatus?.code, 403);
    assert.equal(denied.responseStatus?.reason, 'Forbidden');
    assert.equal(denied.annotations?.['authorization.k8s.io/decision'], 'forbid');
  });

  test('the Audit-Id response header names the request\'s events', async () => {
    const kubeconfig = YAML.parse(readFileSync(server.kubeconfig, 'utf8'));
    const user = kubeconfig.users[0].user;
    const get = (headers: Record<string, string>) =>
      new Promise<{ status: number; auditID: string }>((resolve, reject) => {
        const req = https.request(
          {
            host: '127.0.0.1',
            port: server.port,
            path: '/api/v1/namespaces/audit-e2e/configmaps',
            headers,
            ca: Buffer.from(kubeconfig.clusters[0].cluster['certificate-authority-data'], 'base64'),
            cert: Buffer.from(user['client-certificate-data'], 'base64'),
            key: Buffer.from(user['client-key-data'], 'base64'),
            servername: 'localhost',
            checkServerIdentity: () => undefined,
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode!, auditID: String(res.headers['audit-id']) }));
          },
        );
        req.on('error', reject);
        req.end();
      });
    const generated = await get({});
    assert.equal(generated.status, 200);
    assert.match(generated.auditID, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const listed = await find('the list by its Audit-Id', (e) => e.auditID === generated.auditID && e.stage === 'ResponseComplete');
    assert.equal(listed.verb, 'list');
    assert.equal(listed.level, 'RequestResponse');

    const chosen = await get({ 'Audit-Id': 'e2e-chosen-audit-id' });
    assert.equal(chosen.auditID, 'e2e-chosen-audit-id');
    await find('the list by the client\'s Audit-Id', (e) => e.auditID === 'e2e-chosen-audit-id');
  });

  test('controllers inside the server are audited too; None rules leave no trace', async () => {
    // The service account controller makes "default" in every new namespace, through the API.
    const controllerCreate = await find('the controller creating the default service account', (e) => e.stage === 'ResponseComplete' && e.verb === 'create' && e.objectRef?.resource === 'serviceaccounts' && e.objectRef?.namespace === 'audit-e2e');
    const admin = (await find('the namespace create', (e) => e.verb === 'create' && e.objectRef?.resource === 'namespaces')).user.username;
    assert.notEqual(controllerCreate.user.username, admin);
    server.kubectl(['-n', 'audit-e2e', 'get', 'events']);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(events().some((e) => e.objectRef?.resource === 'events' && ['get', 'list', 'watch'].includes(e.verb)), false);
  });
});
