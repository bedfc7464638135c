// The real kubectl against a real navarch server: the control-plane verbs a user types first.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer, kubectlBinaries } from './harness.js';

describe('kubectl against navarch server', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server?.stop();
  });

  for (const binary of kubectlBinaries) {
    const version = binary.split('/').pop();
    test(`${version}: get namespaces lists the system namespaces`, () => {
      const { stdout } = server.kubectl(['get', 'ns'], { binary });
      const lines = stdout.trim().split('\n');
      assert.match(lines[0], /^NAME\s+STATUS\s+AGE$/);
      for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
        assert.ok(lines.some((l) => new RegExp(`^${ns}\\s+Active\\s+\\d+s$`).test(l)), `missing ${ns} in:\n${stdout}`);
      }
    });
  }

  test('create, get, label, patch, delete a ConfigMap', () => {
    server.kubectl(['create', 'configmap', 'settings', '--from-literal=color=blue']);
    const got = JSON.parse(server.kubectl(['get', 'configmap', 'settings', '-o', 'json']).stdout);
    assert.equal(got.data.color, 'blue');
    assert.match(got.metadata.uid, /^[0-9a-f-]{36}$/);
    assert.match(got.metadata.resourceVersion, /^\d+$/);
    server.kubectl(['label', 'configmap', 'settings', 'tier=web']);
    server.kubectl(['patch', 'configmap', 'settings', '--type=merge', '-p', '{"data":{"size":"L"}}']);
    const patched = JSON.parse(server.kubectl(['get', 'cm', 'settings', '-o', 'json']).stdout);
    assert.deepEqual(patched.data, { color: 'blue', size: 'L' });
    assert.equal(patched.metadata.labels.tier, 'web');
    assert.ok(Number(patched.metadata.resourceVersion) > Number(got.metadata.resourceVersion));
    const selected = server.kubectl(['get', 'cm', '-l', 'tier=web', '-o', 'name']).stdout.trim();
    assert.equal(selected, 'configmap/settings');
    const deleted = server.kubectl(['delete', 'configmap', 'settings']).stdout;
    assert.match(deleted, /configmap "settings" deleted/);
    const missing = server.kubectl(['get', 'configmap', 'settings'], { allowFail: true });
    assert.notEqual(missing.status, 0);
    assert.match(missing.stderr, /Error from server \(NotFound\): configmaps "settings" not found/);
  });

  test('apply twice with a changed field updates in place', () => {
    const manifest = (color: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\n  namespace: default\ndata:\n  color: ${color}\n`;
    assert.match(server.kubectl(['apply', '-f', '-'], { input: manifest('red') }).stdout, /configmap\/applied created/);
    assert.match(server.kubectl(['apply', '-f', '-'], { input: manifest('green') }).stdout, /configmap\/applied configured/);
    assert.match(server.kubectl(['apply', '-f', '-'], { input: manifest('green') }).stdout, /configmap\/applied unchanged/);
    const got = JSON.parse(server.kubectl(['get', 'cm', 'applied', '-o', 'json']).stdout);
    assert.equal(got.data.color, 'green');
    assert.ok(got.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']);
  });

  test('a stale update is refused with 409 Conflict', () => {
    server.kubectl(['create', 'configmap', 'stale', '--from-literal=a=1']);
    const obj = JSON.parse(server.kubectl(['get', 'cm', 'stale', '-o', 'json']).stdout);
    server.kubectl(['patch', 'cm', 'stale', '--type=merge', '-p', '{"data":{"a":"2"}}']);
    obj.data.a = '3';
    const result = server.kubectl(['replace', '-f', '-'], { input: JSON.stringify(obj), allowFail: true });
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /Operation cannot be fulfilled on configmaps "stale": the object has been modified; please apply your changes to the latest version and try again/);
  });

  test('api-resources and api-versions come from discovery', () => {
    const resources = server.kubectl(['api-resources']).stdout;
    assert.match(resources, /^NAME\s+SHORTNAMES\s+APIVERSION\s+NAMESPACED\s+KIND/);
    assert.match(resources, /\ndeployments\s+deploy\s+apps\/v1\s+true\s+Deployment/);
    assert.match(resources, /\npods\s+po\s+v1\s+true\s+Pod/);
    const versions = server.kubectl(['api-versions']).stdout;
    assert.match(versions, /^apps\/v1$/m);
    assert.match(versions, /^batch\/v1$/m);
  });

  test('namespaced objects need an existing namespace', () => {
    const r = server.kubectl(['create', 'configmap', 'x', '-n', 'nope'], { allowFail: true });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /namespaces "nope" not found/);
  });
});
