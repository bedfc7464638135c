// The StatefulSet controller against a real in-process API server; the test plays the
// scheduler and kubelet (bind + Running/Ready) one step at a time so ordering is observable.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/types.js';
import { eventsFor, eventually, listPods, pods, setPodRunning, startHarness, type Harness } from '../testing.js';
import { controllerRevisionsResource } from '../daemonset/history.js';
import { createStatefulSetController, ordinalOf, persistentVolumeClaimsResource, statefulSetsResource } from './controller.js';

function statefulSet(name: string, spec: Record<string, any> = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name },
    spec: {
      serviceName: name,
      replicas: 3,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'cassandra:1' }] } },
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
      ...spec,
    },
  };
}

async function withSets(fn: (h: Harness) => Promise<void>) {
  const h = await startHarness();
  try {
    await h.start(createStatefulSetController({ client: h.client, informerFactory: h.factory, clock: h.clock, recorder: h.recorder }));
    await fn(h);
  } finally {
    await h.close();
  }
}

const sets = (h: Harness) => h.client.resource(statefulSetsResource);
const names = (list: KubeObject[]) => list.map((p) => p.metadata.name!).sort((a, b) => Number(a.split('-').pop()) - Number(b.split('-').pop()));
const setPods = async (h: Harness, name: string) => (await listPods(h.client, 'default', `app=${name}`)).filter((p) => !p.metadata.deletionTimestamp);

/** Waits until exactly `expected` pods exist (not terminating), finishing deletions as a kubelet would. */
async function expectPods(h: Harness, name: string, expected: string[]) {
  return eventually(h.clock, async () => {
    for (const p of await listPods(h.client, 'default', `app=${name}`)) if (p.metadata.deletionTimestamp) await pods(h.client).delete('default', p.metadata.name!, { gracePeriodSeconds: 0 }).catch(() => undefined);
    const list = await setPods(h, name);
    return JSON.stringify(names(list)) === JSON.stringify(expected) && list;
  }, `pods ${expected.join(',')}`, { advanceMs: 0 });
}

async function makeReady(h: Harness, podName: string) {
  const pod = await pods(h.client).get('default', podName);
  await setPodRunning(h.client, h.clock, pod, true, 'node-a');
}

/** Runs pods one at a time, asserting after each that nothing beyond the next ordinal was created. */
async function bringUpInOrder(h: Harness, name: string, from: number, to: number) {
  for (let i = from; i < to; i++) {
    const expected = Array.from({ length: i + 1 }, (_, k) => `${name}-${k}`);
    await expectPods(h, name, expected);
    // Give the controller a chance to misbehave before the pod becomes Ready.
    await h.clock.advance(10);
    assert.deepEqual(names(await setPods(h, name)), expected, `only up to ${name}-${i} before it is Ready`);
    await makeReady(h, `${name}-${i}`);
  }
}

const claimNames = async (h: Harness) => (await h.client.resource(persistentVolumeClaimsResource).list('default')).items.map((c) => c.metadata.name!).sort();

describe('ordinalOf', () => {
  const set = statefulSet('web');
  for (const [pod, want] of [['web-0', 0], ['web-12', 12], ['web-01', undefined], ['web-x', undefined], ['webby-1', undefined], ['web-', undefined]] as const) {
    test(`${pod} → ${want}`, () => assert.equal(ordinalOf(set, { metadata: { name: pod } }), want));
  }
});

describe('statefulset controller', () => {
  test('0→3 in order with stable identity and one claim per ordinal; then 3→5→2 in order, claims retained', () =>
    withSets(async (h) => {
      await sets(h).create('default', statefulSet('cassandra'));
      await bringUpInOrder(h, 'cassandra', 0, 3);
      const list = await setPods(h, 'cassandra');
      for (const pod of list) {
        const ordinal = ordinalOf({ metadata: { name: 'cassandra' } }, pod)!;
        assert.equal(pod.spec.hostname, pod.metadata.name);
        assert.equal(pod.spec.subdomain, 'cassandra');
        assert.equal(pod.metadata.labels!['statefulset.kubernetes.io/pod-name'], pod.metadata.name);
        assert.equal(pod.metadata.labels!['apps.kubernetes.io/pod-index'], String(ordinal));
        assert.ok(pod.metadata.labels!['controller-revision-hash']);
        assert.deepEqual(pod.spec.volumes.filter((v: any) => v.name === 'data'), [{ name: 'data', persistentVolumeClaim: { claimName: `data-cassandra-${ordinal}` } }]);
      }
      assert.deepEqual(await claimNames(h), ['data-cassandra-0', 'data-cassandra-1', 'data-cassandra-2']);
      const ready = await eventually(h.clock, async () => {
        const s = await sets(h).get('default', 'cassandra');
        return s.status?.readyReplicas === 3 && s;
      }, 'readyReplicas 3', { advanceMs: 0 });
      assert.equal(ready.status.replicas, 3);
      assert.equal(ready.status.currentReplicas, 3);
      assert.equal(ready.status.updatedReplicas, 3);
      assert.equal(ready.status.availableReplicas, 3);
      assert.equal(ready.status.currentRevision, ready.status.updateRevision);
      assert.equal(ready.status.observedGeneration, ready.metadata.generation);

      // kubectl scale statefulset cassandra --replicas=5
      await sets(h).patch('default', 'cassandra', 'merge', { spec: { replicas: 5 } });
      await bringUpInOrder(h, 'cassandra', 3, 5);
      assert.deepEqual(await claimNames(h), [0, 1, 2, 3, 4].map((i) => `data-cassandra-${i}`));

      // --replicas=2: cassandra-4 goes first, then 3, then 2 — one at a time.
      await sets(h).patch('default', 'cassandra', 'merge', { spec: { replicas: 2 } });
      for (const gone of [4, 3, 2]) {
        const terminating = await eventually(h.clock, async () => {
          const all = await listPods(h.client, 'default', 'app=cassandra');
          const t = all.filter((p) => p.metadata.deletionTimestamp);
          return t.length > 0 && t;
        }, `cassandra-${gone} terminating`, { advanceMs: 0 });
        assert.deepEqual(terminating.map((p) => p.metadata.name), [`cassandra-${gone}`], 'one at a time, highest first');
        await pods(h.client).delete('default', `cassandra-${gone}`, { gracePeriodSeconds: 0 });
      }
      await expectPods(h, 'cassandra', ['cassandra-0', 'cassandra-1']);
      assert.deepEqual(await claimNames(h), [0, 1, 2, 3, 4].map((i) => `data-cassandra-${i}`), 'claims kept on scale-down (Retain)');
      await eventually(h.clock, async () => (await sets(h).get('default', 'cassandra')).status?.replicas === 2, 'status replicas 2', { advanceMs: 0 });
      await h.recorder.flush();
      const events = await eventsFor(h.client, 'default', 'cassandra');
      assert.ok(events.some((e) => e.reason === 'SuccessfulCreate' && e.message === 'create Pod cassandra-0 in StatefulSet cassandra successful'));
      assert.ok(events.some((e) => e.reason === 'SuccessfulCreate' && e.message === 'create Claim data-cassandra-0 Pod cassandra-0 in StatefulSet cassandra success'));
      assert.ok(events.some((e) => e.reason === 'SuccessfulDelete' && e.message === 'delete Pod cassandra-4 in StatefulSet cassandra successful'));

      // Scaling back up reuses the retained claim.
      await sets(h).patch('default', 'cassandra', 'merge', { spec: { replicas: 3 } });
      const again = await expectPods(h, 'cassandra', ['cassandra-0', 'cassandra-1', 'cassandra-2']);
      assert.equal(again.find((p) => p.metadata.name === 'cassandra-2')!.spec.volumes[0].persistentVolumeClaim.claimName, 'data-cassandra-2');
    }));

  test('Parallel creates and removes all at once', () =>
    withSets(async (h) => {
      await sets(h).create('default', statefulSet('par', { podManagementPolicy: 'Parallel', replicas: 4, volumeClaimTemplates: [] }));
      const all = await expectPods(h, 'par', ['par-0', 'par-1', 'par-2', 'par-3']);
      // Parallel does not wait for readiness; bound pods make deletion graceful, so it is visible.
      for (const p of all) await makeReady(h, p.metadata.name!);
      await sets(h).patch('default', 'par', 'merge', { spec: { replicas: 1 } });
      const terminating = await eventually(h.clock, async () => {
        const t = (await listPods(h.client, 'default', 'app=par')).filter((p) => p.metadata.deletionTimestamp);
        return t.length === 3 && t;
      }, 'three terminating together', { advanceMs: 0 });
      assert.deepEqual(names(terminating), ['par-1', 'par-2', 'par-3']);
    }));

  test('RollingUpdate with partition: only ordinals ≥ partition move, highest first; then the rest', () =>
    withSets(async (h) => {
      await sets(h).create('default', statefulSet('web', { volumeClaimTemplates: [], updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1 } } }));
      await bringUpInOrder(h, 'web', 0, 3);
      const before = await eventually(h.clock, async () => {
        const s = await sets(h).get('default', 'web');
        return s.status?.readyReplicas === 3 && s;
      }, 'ready', { advanceMs: 0 });
      const oldRevision = before.status.currentRevision;
      await sets(h).patch('default', 'web', 'merge', { spec: { template: { spec: { containers: [{ name: 'c', image: 'cassandra:2' }] } } } });
      const image = async (n: string) => (await pods(h.client).get('default', n)).spec.containers[0].image;
      // web-2 first.
      await eventually(h.clock, async () => (await listPods(h.client, 'default', 'app=web')).some((p) => p.metadata.name === 'web-2' && p.metadata.deletionTimestamp), 'web-2 terminating', { advanceMs: 0 });
      assert.ok(!(await listPods(h.client, 'default', 'app=web')).some((p) => p.metadata.name === 'web-1' && p.metadata.deletionTimestamp), 'web-1 waits');
      await pods(h.client).delete('default', 'web-2', { gracePeriodSeconds: 0 });
      await eventually(h.clock, async () => (await image('web-2').catch(() => '')) === 'cassandra:2', 'web-2 updated', { advanceMs: 0 });
      await makeReady(h, 'web-2');
      await eventually(h.clock, async () => (await listPods(h.client, 'default', 'app=web')).some((p) => p.metadata.name === 'web-1' && p.metadata.deletionTimestamp), 'web-1 terminating', { advanceMs: 0 });
      await pods(h.client).delete('default', 'web-1', { gracePeriodSeconds: 0 });
      await eventually(h.clock, async () => (await image('web-1').catch(() => '')) === 'cassandra:2', 'web-1 updated', { advanceMs: 0 });
      await makeReady(h, 'web-1');
      const partial = await eventually(h.clock, async () => {
        const s = await sets(h).get('default', 'web');
        return s.status?.updatedReplicas === 2 && s.status?.readyReplicas === 3 && s;
      }, 'two updated', { advanceMs: 0 });
      assert.equal(await image('web-0'), 'cassandra:1', 'below the partition stays');
      assert.equal(partial.status.currentRevision, oldRevision);
      assert.notEqual(partial.status.updateRevision, oldRevision);
      assert.equal(partial.status.currentReplicas, 1);
      assert.equal(partial.status.updatedReplicas, 2);

      await sets(h).patch('default', 'web', 'merge', { spec: { updateStrategy: { rollingUpdate: { partition: 0 } } } });
      await eventually(h.clock, async () => (await listPods(h.client, 'default', 'app=web')).some((p) => p.metadata.name === 'web-0' && p.metadata.deletionTimestamp), 'web-0 terminating', { advanceMs: 0 });
      await pods(h.client).delete('default', 'web-0', { gracePeriodSeconds: 0 });
      await eventually(h.clock, async () => (await image('web-0').catch(() => '')) === 'cassandra:2', 'web-0 updated', { advanceMs: 0 });
      await makeReady(h, 'web-0');
      const done = await eventually(h.clock, async () => {
        const s = await sets(h).get('default', 'web');
        return s.status?.currentRevision === s.status?.updateRevision && s.status?.updatedReplicas === 3 && s;
      }, 'rollout complete', { advanceMs: 0 });
      assert.equal(done.status.currentReplicas, 3);
      const revisions = (await h.client.resource(controllerRevisionsResource).list('default')).items;
      assert.deepEqual(revisions.map((r) => r.revision).sort(), [1, 2]);
    }));

  test('OnDelete: pods keep their revision until deleted', () =>
    withSets(async (h) => {
      await sets(h).create('default', statefulSet('od', { replicas: 2, podManagementPolicy: 'Parallel', volumeClaimTemplates: [], updateStrategy: { type: 'OnDelete' } }));
      const first = await expectPods(h, 'od', ['od-0', 'od-1']);
      for (const p of first) await makeReady(h, p.metadata.name!);
      await sets(h).patch('default', 'od', 'merge', { spec: { template: { spec: { containers: [{ name: 'c', image: 'cassandra:2' }] } } } });
      await eventually(h.clock, async () => (await sets(h).get('default', 'od')).status?.observedGeneration === 2, 'observed', { advanceMs: 0 });
      assert.ok((await setPods(h, 'od')).every((p) => p.spec.containers[0].image === 'cassandra:1'));
      await pods(h.client).delete('default', 'od-1', { gracePeriodSeconds: 0 });
      await eventually(h.clock, async () => (await pods(h.client).get('default', 'od-1').catch(() => undefined))?.spec.containers[0].image === 'cassandra:2', 'od-1 recreated new', { advanceMs: 0 });
      assert.equal((await pods(h.client).get('default', 'od-0')).spec.containers[0].image, 'cassandra:1');
    }));

  test('persistentVolumeClaimRetentionPolicy Delete: claims owned by the set, and by the pod on scale-down', () =>
    withSets(async (h) => {
      const created = await sets(h).create('default', statefulSet('db', { replicas: 2, podManagementPolicy: 'Parallel', persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Delete' } }));
      const list = await expectPods(h, 'db', ['db-0', 'db-1']);
      for (const p of list) await makeReady(h, p.metadata.name!);
      const claims = h.client.resource(persistentVolumeClaimsResource);
      const claim = await claims.get('default', 'data-db-1');
      assert.deepEqual(claim.metadata.ownerReferences!.map((r) => [r.kind, r.uid]), [['StatefulSet', created.metadata.uid]]);
      await sets(h).patch('default', 'db', 'merge', { spec: { replicas: 1 } });
      const pod1 = list.find((p) => p.metadata.name === 'db-1')!;
      await eventually(h.clock, async () => (await claims.get('default', 'data-db-1')).metadata.ownerReferences?.some((r) => r.kind === 'Pod' && r.uid === pod1.metadata.uid), 'claim follows condemned pod', { advanceMs: 0 });
      assert.ok(!(await claims.get('default', 'data-db-0')).metadata.ownerReferences!.some((r) => r.kind === 'Pod'));
    }));
});
