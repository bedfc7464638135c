// The in-process test server behaves like the real one: it is what controller tests build on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApiServer } from './testing.js';

test('in-process API server: create, list, watch, conflict, binding', async () => {
  const server = await startTestApiServer();
  try {
    const pods = server.client.resource({ group: '', version: 'v1', resource: 'pods', namespaced: true });
    const events: string[] = [];
    const handle = server.transport().watch({ path: '/api/v1/namespaces/default/pods', query: { resourceVersion: '0' } }, (e) => events.push(`${e.type} ${e.object.metadata.name}`), () => undefined);
    const created = await pods.create('default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p1' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
    assert.equal(created.status.phase, 'Pending');
    assert.equal(created.spec.serviceAccountName, 'default');
    await pods.bind('default', 'p1', 'node-a');
    const bound = await pods.get('default', 'p1');
    assert.equal(bound.spec.nodeName, 'node-a');
    assert.equal(bound.status.conditions.find((c: { type: string }) => c.type === 'PodScheduled').status, 'True');
    await assert.rejects(pods.bind('default', 'p1', 'node-b'), /already assigned/);
    await assert.rejects(pods.update({ ...created, metadata: { ...created.metadata, labels: { a: 'b' } } }), (e: { code: number }) => e.code === 409);
    const list = await pods.list('default');
    assert.deepEqual(list.items.map((p) => p.metadata.name), ['p1']);
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(events, ['ADDED p1', 'MODIFIED p1']);
    handle.stop();
  } finally {
    await server.close();
  }
});
