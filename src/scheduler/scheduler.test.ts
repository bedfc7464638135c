// The scheduler against a real in-process API server: bindings, events, status and preemption.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApiServer, type TestApiServer } from '../apiserver/testing.js';
import type { KubeObject } from '../api/types.js';
import { waitFor } from '../client/testing/wait.js';
import { createScheduler } from './scheduler.js';
import { makeNode, makePod } from './testing.js';

const podsRef = { group: '', version: 'v1', resource: 'pods', namespaced: true, kind: 'Pod' };
const nodesRef = { group: '', version: 'v1', resource: 'nodes', namespaced: false, kind: 'Node' };
const eventsRef = { group: '', version: 'v1', resource: 'events', namespaced: true, kind: 'Event' };

function apiPod(pod: KubeObject): KubeObject {
  // The server assigns uid and timestamps.
  const { uid: _uid, creationTimestamp: _ct, ...metadata } = pod.metadata;
  const { status: _status, ...rest } = pod;
  return { ...rest, metadata };
}

describe('scheduler against the API server', () => {
  let server: TestApiServer;
  let abort: AbortController;
  let started: Promise<void>;
  const pods = () => server.client.resource(podsRef);
  const nodes = () => server.client.resource(nodesRef);
  const events = async (podName: string) => (await server.client.resource(eventsRef).list('default')).items.filter((e) => e.involvedObject?.name === podName);
  const podOf = (name: string) => pods().get('default', name);

  before(async () => {
    server = await startTestApiServer();
    for (const node of [
      makeNode('control-plane', { cpu: '8', taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] }),
      makeNode('node-a', { cpu: '1' }),
      makeNode('node-b', { cpu: '1' }),
    ]) {
      await nodes().create(undefined, node);
    }
    abort = new AbortController();
    const scheduler = createScheduler({ transport: server.transport(), podInitialBackoffMs: 100, podMaxBackoffMs: 200 });
    started = scheduler.start(abort.signal);
    await waitFor(() => scheduler.hasSynced(), 3000, 'scheduler synced');
  });

  after(async () => {
    abort.abort();
    await started;
    await server.close();
  });

  test('binds a pod and reports Scheduled', async () => {
    await pods().create('default', apiPod(makePod('web-1', { cpu: '100m' })));
    let bound: KubeObject | undefined;
    await waitForAsync(async () => !!(bound = await podOf('web-1')).spec?.nodeName);
    assert.ok(['node-a', 'node-b'].includes(bound!.spec.nodeName), `bound to ${bound!.spec.nodeName}`);
    assert.equal(bound!.status.conditions.find((c: any) => c.type === 'PodScheduled')?.status, 'True');
    await waitForAsync(async () => (await events('web-1')).some((e) => e.reason === 'Scheduled'));
    const scheduled = (await events('web-1')).find((e) => e.reason === 'Scheduled')!;
    assert.equal(scheduled.message, `Successfully assigned default/web-1 to ${bound!.spec.nodeName}`);
    assert.equal(scheduled.type, 'Normal');
    assert.equal(scheduled.source.component, 'default-scheduler');
  });

  test('an unschedulable pod gets FailedScheduling and PodScheduled=False, then binds when a node fits', async () => {
    await pods().create('default', apiPod(makePod('big', { cpu: '2' })));
    await waitForAsync(async () => (await podOf('big')).status?.conditions?.some((c: any) => c.type === 'PodScheduled'));
    const pod = await podOf('big');
    const condition = pod.status.conditions.find((c: any) => c.type === 'PodScheduled');
    const expected =
      '0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu. ' +
      'preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod..';
    assert.deepEqual({ status: condition.status, reason: condition.reason, message: condition.message }, { status: 'False', reason: 'Unschedulable', message: expected });
    await waitForAsync(async () => (await events('big')).some((e) => e.reason === 'FailedScheduling'));
    const failed = (await events('big')).find((e) => e.reason === 'FailedScheduling')!;
    assert.equal(failed.type, 'Warning');
    assert.equal(failed.message, expected);

    await nodes().create(undefined, makeNode('node-large', { cpu: '4' }));
    await waitForAsync(async () => (await podOf('big')).spec.nodeName === 'node-large');
  });

  test('preemption: a higher-priority pod evicts a lower one and is nominated, then binds', async () => {
    await server.client.resource({ group: 'scheduling.k8s.io', version: 'v1', resource: 'priorityclasses', namespaced: false, kind: 'PriorityClass' }).create(undefined, {
      apiVersion: 'scheduling.k8s.io/v1',
      kind: 'PriorityClass',
      metadata: { name: 'urgent' },
      value: 1000,
    });
    await nodes().create(undefined, makeNode('node-p', { cpu: '1', labels: { pool: 'p' } }));
    await pods().create('default', apiPod(makePod('victim', { cpu: '1', nodeName: 'node-p' })));
    const preemptor = makePod('urgent', { cpu: '1', spec: { priorityClassName: 'urgent', nodeSelector: { pool: 'p' } } });
    await pods().create('default', apiPod(preemptor));
    await waitForAsync(async () => (await podOf('urgent')).status?.nominatedNodeName === 'node-p');
    const victim = await podOf('victim');
    assert.ok(victim.metadata.deletionTimestamp, 'victim is being deleted');
    assert.equal(victim.status.conditions.find((c: any) => c.type === 'DisruptionTarget')?.reason, 'PreemptionByScheduler');
    await waitForAsync(async () => (await events('victim')).some((e) => e.reason === 'Preempted'));
    // The kubelet would finish the graceful deletion; do it for it.
    await pods().delete('default', 'victim', { gracePeriodSeconds: 0 });
    await waitForAsync(async () => (await podOf('urgent')).spec.nodeName === 'node-p');
  });

  test('gated pods report SchedulingGated and are scheduled once the gates go', async () => {
    await pods().create('default', apiPod(makePod('gated', { spec: { schedulingGates: [{ name: 'example.com/quota' }] } })));
    await waitForAsync(async () => (await podOf('gated')).status?.conditions?.some((c: any) => c.reason === 'SchedulingGated'));
    assert.equal((await podOf('gated')).spec.nodeName, undefined);
    await pods().patch('default', 'gated', 'merge', { spec: { schedulingGates: null } });
    await waitForAsync(async () => !!(await podOf('gated')).spec.nodeName);
  });

  test('pods for another scheduler are left alone', async () => {
    await pods().create('default', apiPod(makePod('other', { spec: { schedulerName: 'my-scheduler' } })));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal((await podOf('other')).spec.nodeName, undefined);
  });

  test('WaitForFirstConsumer: the claim is annotated with the selected node', async () => {
    await server.client.resource({ group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses', namespaced: false, kind: 'StorageClass' }).create(undefined, {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name: 'local-path' },
      provisioner: 'example.com/local-path',
      volumeBindingMode: 'WaitForFirstConsumer',
    });
    const pvcs = server.client.resource({ group: '', version: 'v1', resource: 'persistentvolumeclaims', namespaced: true, kind: 'PersistentVolumeClaim' });
    await pvcs.create('default', {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'data' },
      spec: { storageClassName: 'local-path', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    });
    await pods().create('default', apiPod(makePod('db', { spec: { volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }] } })));
    await waitForAsync(async () => !!(await podOf('db')).spec.nodeName);
    const claim = await pvcs.get('default', 'data');
    assert.equal(claim.metadata.annotations?.['volume.kubernetes.io/selected-node'], (await podOf('db')).spec.nodeName);
  });
});

describe('scheduler with static local volumes', () => {
  test('binds the PV on the node it lives on and lands the pod there', async () => {
    const server = await startTestApiServer();
    const abort = new AbortController();
    try {
      const c = server.client;
      for (const n of ['node-a', 'node-b']) await c.resource(nodesRef).create(undefined, makeNode(n));
      await c.resource({ group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses', namespaced: false, kind: 'StorageClass' }).create(undefined, {
        apiVersion: 'storage.k8s.io/v1',
        kind: 'StorageClass',
        metadata: { name: 'local' },
        provisioner: 'kubernetes.io/no-provisioner',
        volumeBindingMode: 'WaitForFirstConsumer',
      });
      const pvs = c.resource({ group: '', version: 'v1', resource: 'persistentvolumes', namespaced: false, kind: 'PersistentVolume' });
      await pvs.create(undefined, {
        apiVersion: 'v1',
        kind: 'PersistentVolume',
        metadata: { name: 'pv-b' },
        spec: {
          capacity: { storage: '10Gi' },
          accessModes: ['ReadWriteOnce'],
          storageClassName: 'local',
          local: { path: '/mnt/disk' },
          nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['node-b'] }] }] } },
        },
      });
      const pvcs = c.resource({ group: '', version: 'v1', resource: 'persistentvolumeclaims', namespaced: true, kind: 'PersistentVolumeClaim' });
      await pvcs.create('default', {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name: 'data' },
        spec: { storageClassName: 'local', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
      });
      const scheduler = createScheduler({ transport: server.transport() });
      const running = scheduler.start(abort.signal);
      await c.resource(podsRef).create('default', apiPod(makePod('db', { spec: { volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }] } })));
      await waitForAsync(async () => !!(await c.resource(podsRef).get('default', 'db')).spec.nodeName);
      assert.equal((await c.resource(podsRef).get('default', 'db')).spec.nodeName, 'node-b');
      assert.equal((await pvs.get(undefined, 'pv-b')).spec.claimRef?.name, 'data');
      assert.equal((await pvcs.get('default', 'data')).spec.volumeName, 'pv-b');
      abort.abort();
      await running;
    } finally {
      abort.abort();
      await server.close();
    }
  });
});

async function waitForAsync(condition: () => Promise<boolean | undefined>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
