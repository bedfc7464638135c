// The ReplicaSet / ReplicationController controller against a real in-process API server.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createEventRecorder } from '../framework/events.js';
import { replicaSetsResource, replicationControllersResource } from '../framework/resources.js';
import { eventsFor, eventually, gatedWatches, listPods, setPodRunning, startHarness, type Harness } from '../testing.js';
import { createReplicaSetController, createReplicationController } from './controller.js';
import { createClient } from '../../client/client.js';

function replicaSet(name: string, replicas: number, extra: Record<string, any> = {}) {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
      ...extra,
    },
  };
}

async function withController(fn: (h: Harness) => Promise<void>, transport?: Parameters<typeof startHarness>[0]) {
  const h = await startHarness(transport);
  try {
    await h.start(createReplicaSetController({ client: h.client, informerFactory: h.factory, clock: h.clock, recorder: h.recorder }));
    await fn(h);
  } finally {
    await h.close();
  }
}

describe('replicaset controller', () => {
  test('creates pods named after the ReplicaSet, owned by it, and reports status and events', () =>
    withController(async (h) => {
      const rsClient = h.client.resource(replicaSetsResource);
      const rs = await rsClient.create('default', replicaSet('web', 3));
      const created = await eventually(h.clock, async () => {
        const pods = await listPods(h.client, 'default', 'app=web');
        return pods.length === 3 && pods;
      }, '3 pods');
      for (const pod of created) {
        assert.match(pod.metadata.name!, /^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
        assert.deepEqual(pod.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: rs.metadata.uid, controller: true, blockOwnerDeletion: true }]);
      }
      const status = await eventually(h.clock, async () => {
        const s = (await rsClient.get('default', 'web')).status;
        return s?.replicas === 3 && s;
      }, 'status.replicas=3');
      assert.deepEqual(status, { replicas: 3, fullyLabeledReplicas: 3, observedGeneration: 1 });
      await h.recorder.flush();
      const events = await eventsFor(h.client, 'default', 'web');
      assert.deepEqual(events.map((e) => `${e.type} ${e.reason} ${e.message}`).sort(), created.map((p) => `Normal SuccessfulCreate Created pod: ${p.metadata.name}`).sort());

      // Ready pods are counted; with no minReadySeconds they are available at once.
      await setPodRunning(h.client, h.clock, created[0]!);
      await setPodRunning(h.client, h.clock, created[1]!, false);
      await eventually(h.clock, async () => {
        const s = (await rsClient.get('default', 'web')).status;
        return s?.readyReplicas === 1 && s.availableReplicas === 1;
      }, 'one ready');

      // Scale down to 1: the unscheduled pod goes first, then the running-but-not-ready one.
      const current = await rsClient.get('default', 'web');
      await rsClient.update({ ...current, spec: { ...current.spec, replicas: 1 } });
      const remaining = await eventually(h.clock, async () => {
        // The scheduled pod is deleted gracefully: with no kubelet it stays, Terminating.
        const pods = (await listPods(h.client, 'default', 'app=web')).filter((p) => !p.metadata.deletionTimestamp);
        return pods.length === 1 && pods;
      }, 'scaled down to 1');
      assert.equal(remaining[0]!.metadata.name, created[0]!.metadata.name);
      await eventually(h.clock, async () => (await rsClient.get('default', 'web')).status?.observedGeneration === 2, 'observedGeneration 2');
      await h.recorder.flush();
      const deletes = (await eventsFor(h.client, 'default', 'web')).filter((e) => e.reason === 'SuccessfulDelete').map((e) => e.message).sort();
      assert.deepEqual(deletes, [`Deleted pod: ${created[1]!.metadata.name}`, `Deleted pod: ${created[2]!.metadata.name}`].sort());
    }));

  test('adopts matching orphans and releases pods whose labels stop matching', () =>
    withController(async (h) => {
      const podClient = h.client.resource({ group: '', version: 'v1', resource: 'pods', namespaced: true });
      await podClient.create('default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'orphan', labels: { app: 'api' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
      const rs = await h.client.resource(replicaSetsResource).create('default', replicaSet('api', 2));
      const pods = await eventually(h.clock, async () => {
        const list = await listPods(h.client, 'default', 'app=api');
        return list.length === 2 && list.every((p) => p.metadata.ownerReferences?.[0]?.uid === rs.metadata.uid) && list;
      }, 'orphan adopted plus one created');
      assert.ok(pods.some((p) => p.metadata.name === 'orphan'));

      // Relabel the adopted pod: it is released (ownerReference removed) and replaced.
      const orphan = await podClient.get('default', 'orphan');
      await podClient.update({ ...orphan, metadata: { ...orphan.metadata, labels: { app: 'other' } } });
      await eventually(h.clock, async () => !(await podClient.get('default', 'orphan')).metadata.ownerReferences, 'released');
      await eventually(h.clock, async () => (await listPods(h.client, 'default', 'app=api')).length === 2, 'replacement created');
    }));

  test('minReadySeconds: a ready pod becomes available only after the delay', () =>
    withController(async (h) => {
      const rsClient = h.client.resource(replicaSetsResource);
      await rsClient.create('default', replicaSet('slow', 1, { minReadySeconds: 30 }));
      const [pod] = await eventually(h.clock, async () => {
        const list = await listPods(h.client, 'default', 'app=slow');
        return list.length === 1 && list;
      }, 'pod');
      await setPodRunning(h.client, h.clock, pod!);
      await eventually(h.clock, async () => (await rsClient.get('default', 'slow')).status?.readyReplicas === 1, 'ready', { advanceMs: 0 });
      assert.equal((await rsClient.get('default', 'slow')).status.availableReplicas, undefined, 'omitted while zero');
      await h.clock.advance(31_000);
      await eventually(h.clock, async () => (await rsClient.get('default', 'slow')).status?.availableReplicas === 1, 'available after 30s');
    }));

  test('a cache that lags behind its own writes never creates duplicates (expectations)', async () => {
    const gate = gatedWatches((path) => path.endsWith('/pods'));
    const h = await startHarness({ transport: gate.wrap });
    try {
      const controller = createReplicaSetController({ client: h.client, informerFactory: h.factory, clock: h.clock, recorder: h.recorder });
      // Informers only: reconcile is driven by hand so nothing else can run in between.
      h.factory.start(h.signal);
      await h.factory.waitForCacheSync(h.signal);
      const rsClient = h.client.resource(replicaSetsResource);
      await rsClient.create('default', replicaSet('dup', 3));
      await eventually(h.clock, () => controller.hasSynced() && h.factory.list().some((i) => i.getIndexer().getByName('default', 'dup')), 'rs in cache');
      gate.hold();
      await controller.reconcile('default/dup');
      await controller.reconcile('default/dup');
      assert.equal((await listPods(h.client, 'default', 'app=dup')).length, 3);
      gate.release();
      await eventually(h.clock, () => h.factory.list().find((i) => i.ref.resource === 'pods')!.getIndexer().size() === 3, 'cache caught up');
      await controller.reconcile('default/dup');
      assert.equal((await listPods(h.client, 'default', 'app=dup')).length, 3);
    } finally {
      await h.close();
    }
  });

  test('ReplicationControllers are managed by the same code', async () => {
    const h = await startHarness();
    try {
      await h.start(createReplicationController({ client: h.client, informerFactory: h.factory, clock: h.clock, recorder: createEventRecorder({ client: createClient(h.server.transport()), component: 'replication-controller', clock: h.clock }) }));
      const rcClient = h.client.resource(replicationControllersResource);
      const rc = await rcClient.create('default', {
        apiVersion: 'v1', kind: 'ReplicationController', metadata: { name: 'legacy' },
        spec: { replicas: 2, selector: { app: 'legacy' }, template: { metadata: { labels: { app: 'legacy' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
      });
      const pods = await eventually(h.clock, async () => {
        const list = await listPods(h.client, 'default', 'app=legacy');
        return list.length === 2 && list;
      }, 'rc pods');
      assert.equal(pods[0]!.metadata.ownerReferences![0]!.kind, 'ReplicationController');
      assert.equal(pods[0]!.metadata.ownerReferences![0]!.uid, rc.metadata.uid);
      await eventually(h.clock, async () => (await rcClient.get('default', 'legacy')).status?.replicas === 2, 'rc status');
    } finally {
      await h.close();
    }
  });
});
