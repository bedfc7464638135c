// The StatefulSet controller against a real in-process API server; the test plays the
// scheduler and kubelet (bind + Running/Ready) one step at a time so ordering is observable.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/types.js';
import { eventsFor, eventually, listPods, pods, setPodRunning, startHarness, type Harness } from '../testing.js';
import { controllerRevisionsResource } from '../daemonset/history.js';
import { createStatefulSetController, ordinalOf, statefulSetMaxUnavailable, persistentVolumeClaimsResource, statefulSetsResource } from './controller.js';

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

describe('statefulSetMaxUnavailable', () => {
  for (const [value, replicas, want] of [[undefined, 5, 1], [2, 5, 2], ['50%', 5, 2], ['10%', 5, 1], ['100%', 4, 4], ['3', 10, 3]] as const) {
    test(`${value} of ${replicas} → ${want}`, () => assert.equal(statefulSetMaxUnavailable(value, replicas), want));
  }
});

const terminatingNames = async (h: Harness, app: string) => names((await listPods(h.client, 'default', `app=${app}`)).filter((p) => p.metadata.deletionTimestamp));

/** Updates the image and waits for the first wave of terminations, which must be exactly `wave`. */
async function expectWave(h: Harness, app: string, wave: string[]) {
  const got = await eventually(h.clock, async () => {
    const t = await terminatingNames(h, app);
    return t.length >= wave.length && t;
  }, `${wave.join(',')} terminating`, { advanceMs: 0 });
  // Let the controller run again: nothing beyond the wave may start while it is unavailable.
  await h.clock.advance(10);
  assert.deepEqual(await terminatingNames(h, app), wave);
  assert.deepEqual(got, wave);
}

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
  test('maxUnavailable 50% of 4 with partition 1: two pods at a time from the top, never below the partition', () =>
    withSets(async (h) => {
      await sets(h).create('default', statefulSet('mu', { replicas: 4, podManagementPolicy: 'Parallel', volumeClaimTemplates: [], updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1, maxUnavailable: '50%' } } }));
      for (const p of await expectPods(h, 'mu', ['mu-0', 'mu-1', 'mu-2', 'mu-3'])) await makeReady(h, p.metadata.name!);
      await eventually(h.clock, async () => (await sets(h).get('default', 'mu')).status?.readyReplicas === 4, 'ready', { advanceMs: 0 });
      await sets(h).patch('default', 'mu', 'merge', { spec: { template: { spec: { containers: [{ name: 'c', image: 'cassandra:2' }] } } } });
      await expectWave(h, 'mu', ['mu-2', 'mu-3']);
      for (const n of ['mu-2', 'mu-3']) await pods(h.client).delete('default', n, { gracePeriodSeconds: 0 });
      const image = async (n: string) => (await pods(h.client).get('default', n).catch(() => undefined))?.spec.containers[0].image;
      await eventually(h.clock, async () => (await image('mu-2')) === 'cassandra:2' && (await image('mu-3')) === 'cassandra:2', 'mu-2, mu-3 recreated', { advanceMs: 0 });
      // Still unavailable: the budget is spent, mu-1 waits.
      await h.clock.advance(10);
      assert.deepEqual(await terminatingNames(h, 'mu'), []);
      await makeReady(h, 'mu-2');
      // One of two back: one slot free, so mu-1 (the last one above the partition) goes.
      await expectWave(h, 'mu', ['mu-1']);
      await pods(h.client).delete('default', 'mu-1', { gracePeriodSeconds: 0 });
      await eventually(h.clock, async () => (await image('mu-1')) === 'cassandra:2', 'mu-1 recreated', { advanceMs: 0 });
      for (const n of ['mu-1', 'mu-3']) await makeReady(h, n);
      const s = await eventually(h.clock, async () => {
        const got = await sets(h).get('default', 'mu');
        return got.status?.updatedReplicas === 3 && got.status?.readyReplicas === 4 && got;
      }, 'three updated', { advanceMs: 0 });
      assert.equal(await image('mu-0'), 'cassandra:1', 'below the partition stays');
      assert.equal(s.status.currentReplicas, 1);
    }));

  test('maxUnavailable 1 (default) with Parallel: an unready pod anywhere holds the update', () =>
    withSets(async (h) => {
      await sets(h).create('default', statefulSet('one', { replicas: 3, podManagementPolicy: 'Parallel', volumeClaimTemplates: [] }));
      const list = await expectPods(h, 'one', ['one-0', 'one-1', 'one-2']);
      for (const p of list) await makeReady(h, p.metadata.name!);
      await setPodRunning(h.client, h.clock, await pods(h.client).get('default', 'one-0'), false, 'node-a');
      await eventually(h.clock, async () => (await sets(h).get('default', 'one')).status?.readyReplicas === 2, 'one-0 unready', { advanceMs: 0 });
      await sets(h).patch('default', 'one', 'merge', { spec: { template: { spec: { containers: [{ name: 'c', image: 'cassandra:2' }] } } } });
      await eventually(h.clock, async () => (await sets(h).get('default', 'one')).status?.observedGeneration === 2, 'observed', { advanceMs: 0 });
      await h.clock.advance(10);
      assert.deepEqual(await terminatingNames(h, 'one'), [], 'the unavailable one-0 uses the whole budget');
      await makeReady(h, 'one-0');
      await expectWave(h, 'one', ['one-2']);
    }));

  test('adopts an orphan named <set>-<ordinal> that matches the selector, not one with another name; releases it when relabelled', () =>
    withSets(async (h) => {
      const podSpec = { containers: [{ name: 'c', image: 'cassandra:1' }] };
      const orphan = await pods(h.client).create('default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'db-1', labels: { app: 'db' } }, spec: podSpec });
      await pods(h.client).create('default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'stray', labels: { app: 'db' } }, spec: podSpec });
      const set = await sets(h).create('default', statefulSet('db', { replicas: 2, podManagementPolicy: 'Parallel', volumeClaimTemplates: [], updateStrategy: { type: 'OnDelete' } }));
      await eventually(h.clock, async () => (await pods(h.client).get('default', 'db-1')).metadata.ownerReferences?.length === 1, 'db-1 adopted', { advanceMs: 0 });
      const adopted = await pods(h.client).get('default', 'db-1');
      assert.equal(adopted.metadata.uid, orphan.metadata.uid, 'the same pod, not a replacement');
      assert.deepEqual(adopted.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db', uid: set.metadata.uid, controller: true, blockOwnerDeletion: true }]);
      await eventually(h.clock, async () => (await pods(h.client).get('default', 'db-0').catch(() => undefined))?.metadata.ownerReferences?.[0]?.uid === set.metadata.uid, 'db-0 created', { advanceMs: 0 });
      assert.equal((await pods(h.client).get('default', 'stray')).metadata.ownerReferences, undefined, 'not a member of the set');
      await eventually(h.clock, async () => (await sets(h).get('default', 'db')).status?.replicas === 2, 'status counts the adopted pod', { advanceMs: 0 });
      await pods(h.client).patch('default', 'db-1', 'merge', { metadata: { labels: { app: 'mine' } } });
      await eventually(h.clock, async () => !(await pods(h.client).get('default', 'db-1')).metadata.ownerReferences, 'released', { advanceMs: 0 });
    }));
  test('retention policy: a claim made before the set gets the set ownerReference under whenDeleted=Delete and loses it under Retain', () =>
    withSets(async (h) => {
      const claims = h.client.resource(persistentVolumeClaimsResource);
      const pre = await claims.create('default', { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data-kept-0' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } });
      const set = await sets(h).create('default', statefulSet('kept', { replicas: 1, persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete' } }));
      await expectPods(h, 'kept', ['kept-0']);
      const owned = await eventually(h.clock, async () => {
        const c = await claims.get('default', 'data-kept-0');
        return c.metadata.ownerReferences?.length === 1 && c;
      }, 'claim owned by the set', { advanceMs: 0 });
      assert.equal(owned.metadata.uid, pre.metadata.uid, 'the existing claim, not a new one');
      assert.deepEqual(owned.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'kept', uid: set.metadata.uid, controller: false, blockOwnerDeletion: true }]);
      await sets(h).patch('default', 'kept', 'merge', { spec: { persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain' } } });
      await eventually(h.clock, async () => !(await claims.get('default', 'data-kept-0')).metadata.ownerReferences, 'set reference removed', { advanceMs: 0 });
    }));
});
