// Admission plugins read the kinds they consult (ResourceQuotas, LimitRanges, PriorityClasses …)
// from the watch cache, as Kubernetes' plugins read informer listers: a create costs no extra
// storage round trip, yet a quota or limit range this server just wrote is already enforced.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMemoryStore } from '../storage/memory/memory-store.js';
import type { Store } from '../storage/types.js';
import { startTestApiServer } from './testing.js';

function countingRevisionReads(store: Store): { store: Store; reads: () => number } {
  let reads = 0;
  const counted = Object.create(store) as Store;
  counted.currentRevision = () => {
    reads++;
    return store.currentRevision();
  };
  return { store: counted, reads: () => reads };
}

test('creates go through quota and limit-range admission without a consistent list each, and see this server’s own writes at once', async () => {
  const { store, reads } = countingRevisionReads(createMemoryStore());
  const server = await startTestApiServer({ store });
  try {
    const configMaps = server.client.resource({ group: '', version: 'v1', resource: 'configmaps', namespaced: true });
    const quotas = server.client.resource({ group: '', version: 'v1', resource: 'resourcequotas', namespaced: true });
    const limitRanges = server.client.resource({ group: '', version: 'v1', resource: 'limitranges', namespaced: true });
    const pods = server.client.resource({ group: '', version: 'v1', resource: 'pods', namespaced: true });

    const before = reads();
    for (let i = 0; i < 20; i++) await configMaps.create('default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}` } });
    assert.equal(reads() - before, 0, 'admission made consistent (storage) reads for plain creates');

    // Written a moment ago through this server: enforced on the very next create.
    await limitRanges.create('default', { apiVersion: 'v1', kind: 'LimitRange', metadata: { name: 'lr' }, spec: { limits: [{ type: 'Container', defaultRequest: { cpu: '100m' }, default: { cpu: '200m' } }] } });
    const pod = await pods.create('default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
    assert.deepEqual(pod.spec.containers[0].resources, { requests: { cpu: '100m' }, limits: { cpu: '200m' } });

    await quotas.create('default', { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'q' }, spec: { hard: { configmaps: '0' } }, status: {} });
    // The quota controller is not running here: with no status.used yet Kubernetes refuses with "status unknown".
    await assert.rejects(configMaps.create('default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'after-quota' } }), (err: any) => err.code === 403 && /quota/.test(err.message));
  } finally {
    await server.close();
  }
});
