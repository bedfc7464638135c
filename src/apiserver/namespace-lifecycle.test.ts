// Creating in a namespace is checked against the watch cache first (like Kubernetes'
// NamespaceLifecycle admission); these pin the outcomes that check must keep.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApiServer } from './testing.js';

const configMap = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { a: 'b' } });

test('create needs an existing, non-terminating namespace, including one created a moment ago', async () => {
  const server = await startTestApiServer();
  try {
    const namespaces = server.client.resource({ group: '', version: 'v1', resource: 'namespaces', namespaced: false });
    const configMaps = server.client.resource({ group: '', version: 'v1', resource: 'configmaps', namespaced: true });
    await assert.rejects(configMaps.create('missing', configMap('a')), (e: { code: number; message: string }) => e.code === 404 && /namespaces "missing" not found/.test(e.message));

    // No await between the two: the watch cache may not have the namespace yet, storage has.
    await namespaces.create('', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'fresh' } });
    const created = await configMaps.create('fresh', configMap('a'));
    assert.equal(created.metadata.namespace, 'fresh');

    await namespaces.create('', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'going', finalizers: ['example.com/hold'] } });
    await configMaps.create('going', configMap('a'));
    await namespaces.delete('', 'going');
    // The namespace is now Terminating (its finalizer holds it): wait for the cache to see it.
    const deadline = Date.now() + 2000;
    for (;;) {
      try {
        await configMaps.create('going', configMap(`b-${Date.now()}`));
      } catch (e) {
        assert.equal((e as { code: number }).code, 403);
        assert.match((e as Error).message, /because it is being terminated/);
        break;
      }
      assert.ok(Date.now() < deadline, 'creates in a terminating namespace were still accepted after 2 s');
      await new Promise((r) => setTimeout(r, 10));
    }
  } finally {
    await server.close();
  }
});
