// Versions of one stored resource read and write each other's objects without loss.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApiServer } from './testing.js';

test('an HPA written as autoscaling/v1 reads back as v2 and round-trips', async () => {
  const server = await startTestApiServer();
  try {
    const v1 = server.client.resource({ group: 'autoscaling', version: 'v1', resource: 'horizontalpodautoscalers', namespaced: true });
    const v2 = server.client.resource({ group: 'autoscaling', version: 'v2', resource: 'horizontalpodautoscalers', namespaced: true });
    await v1.create('default', { apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web' }, spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 5, targetCPUUtilizationPercentage: 50 } });
    const asV2 = await v2.get('default', 'web');
    assert.equal(asV2.apiVersion, 'autoscaling/v2');
    assert.deepEqual(asV2.spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }]);
    const back = await v1.get('default', 'web');
    assert.equal(back.spec.targetCPUUtilizationPercentage, 50);
    assert.equal(back.spec.metrics, undefined);
  } finally {
    await server.close();
  }
});

test('a core Event reads as events.k8s.io/v1 with regarding and note', async () => {
  const server = await startTestApiServer();
  try {
    const core = server.client.resource({ group: '', version: 'v1', resource: 'events', namespaced: true });
    const eventsV1 = server.client.resource({ group: 'events.k8s.io', version: 'v1', resource: 'events', namespaced: true });
    await core.create('default', { apiVersion: 'v1', kind: 'Event', metadata: { name: 'e1' }, involvedObject: { kind: 'Pod', name: 'p', namespace: 'default' }, reason: 'Started', message: 'Started container c', type: 'Normal', source: { component: 'kubelet' }, count: 2, firstTimestamp: '2026-01-01T00:00:00Z', lastTimestamp: '2026-01-01T00:01:00Z' });
    const e = await eventsV1.get('default', 'e1');
    assert.equal(e.apiVersion, 'events.k8s.io/v1');
    assert.deepEqual(e.regarding, { kind: 'Pod', name: 'p', namespace: 'default' });
    assert.equal(e.note, 'Started container c');
    assert.equal(e.deprecatedCount, 2);
    assert.equal(e.involvedObject, undefined);
    const listed = await core.list('default');
    assert.equal(listed.items[0].message, 'Started container c');
  } finally {
    await server.close();
  }
});
