// Authentication and authorization as kubectl users meet them: tokens from the TokenRequest
// API, RBAC from default roles and bindings, impersonation, 401 for bad credentials.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { startServer, type TestServer } from './harness.js';

describe('auth with the real kubectl', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server?.stop();
  });

  const asToken = (token: string, args: string[]) => {
    const r = spawnSync('/usr/bin/kubectl', ['--server', server.url, '--insecure-skip-tls-verify', '--token', token, ...args], { encoding: 'utf8' });
    return { stdout: r.stdout, stderr: r.stderr, status: r.status };
  };

  test('a service account token authenticates; RBAC decides what it may do', () => {
    server.kubectl(['create', 'serviceaccount', 'robot']);
    const token = server.kubectl(['create', 'token', 'robot']).stdout.trim();
    const whoami = asToken(token, ['auth', 'whoami']);
    assert.equal(whoami.status, 0, whoami.stderr);
    assert.match(whoami.stdout, /system:serviceaccount:default:robot/);
    const denied = asToken(token, ['get', 'pods']);
    assert.notEqual(denied.status, 0);
    assert.match(denied.stderr, /Error from server \(Forbidden\): pods is forbidden: User "system:serviceaccount:default:robot" cannot list resource "pods" in API group "" in the namespace "default"/);
    server.kubectl(['create', 'rolebinding', 'robot-view', '--clusterrole=view', '--serviceaccount=default:robot']);
    const allowed = asToken(token, ['get', 'pods']);
    assert.equal(allowed.status, 0, allowed.stderr);
    const stillDenied = asToken(token, ['delete', 'pod', 'x']);
    assert.match(stillDenied.stderr, /Forbidden/);
  });

  test('a bad token is 401 Unauthorized', () => {
    const r = asToken('not-a-token', ['get', 'pods']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /You must be logged in to the server \(Unauthorized\)/);
  });

  test('kubectl auth can-i, with impersonation', () => {
    assert.equal(server.kubectl(['auth', 'can-i', 'create', 'deployments']).stdout.trim(), 'yes');
    server.kubectl(['create', 'serviceaccount', 'viewer']);
    server.kubectl(['create', 'clusterrolebinding', 'viewer-view', '--clusterrole=view', '--serviceaccount=default:viewer']);
    const as = ['--as', 'system:serviceaccount:default:viewer'];
    assert.equal(server.kubectl(['auth', 'can-i', 'list', 'pods', '-A', ...as]).stdout.trim(), 'yes');
    const no = server.kubectl(['auth', 'can-i', 'delete', 'pods', ...as], { allowFail: true });
    assert.equal(no.stdout.trim(), 'no');
    assert.equal(server.kubectl(['auth', 'can-i', 'list', 'secrets', ...as], { allowFail: true }).stdout.trim(), 'no');
  });

  test('anonymous users reach health and version, not resources', async () => {
    const get = (path: string) => spawnSync('curl', ['-sk', '-o', '/dev/null', '-w', '%{http_code}', `${server.url}${path}`], { encoding: 'utf8' }).stdout;
    assert.equal(get('/readyz'), '200');
    assert.equal(get('/version'), '200');
    assert.equal(get('/api/v1/namespaces'), '403');
  });
});
