// The DaemonSet controller against a real in-process API server on a three-node cluster
// (nodes created through the API); the test plays the scheduler and kubelet by binding each
// pod to the node its matchFields affinity names and marking it Running and Ready.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/types.js';
import { eventsFor, eventually, listPods, pods, setPodRunning, startHarness, type Harness } from '../testing.js';
import { createDaemonSetController, daemonSetsResource, nodeOfDaemonPod, nodeShouldRunDaemonPod, nodesResource } from './controller.js';
import { controllerRevisionsResource } from './history.js';

const node = (name: string, labels: Record<string, string> = {}, taints: any[] = []): KubeObject => ({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } }, spec: taints.length ? { taints } : {} });

function daemonSet(name: string, spec: Record<string, any> = {}, podSpec: Record<string, any> = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name },
    spec: { selector: { matchLabels: { app: name } }, ...spec, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'busybox:1' }], ...podSpec } } },
  };
}

async function withCluster(fn: (h: Harness) => Promise<void>) {
  const h = await startHarness();
  try {
    for (const n of ['node-1', 'node-2', 'node-3']) await h.client.resource(nodesResource).create(undefined, node(n, { zone: n === 'node-3' ? 'b' : 'a' }));
    await h.start(createDaemonSetController({ client: h.client, informerFactory: h.factory, clock: h.clock, recorder: h.recorder }));
    await fn(h);
  } finally {
    await h.close();
  }
}

const live = (list: KubeObject[]) => list.filter((p) => !p.metadata.deletionTimestamp);
const dsPods = async (h: Harness, name: string) => live(await listPods(h.client, 'default', `app=${name}`));
const nodesOf = (list: KubeObject[]) => list.map(nodeOfDaemonPod).sort();

/** Scheduler + kubelet: bind pending pods where their affinity says, make them Ready; finish deletions. */
async function runPods(h: Harness) {
  for (const pod of await listPods(h.client, 'default')) {
    if (pod.metadata.deletionTimestamp) {
      await pods(h.client).delete('default', pod.metadata.name!, { gracePeriodSeconds: 0 }).catch(() => undefined);
    } else if (pod.status?.phase !== 'Running') {
      await setPodRunning(h.client, h.clock, pod, true, nodeOfDaemonPod(pod)).catch(() => undefined);
    }
  }
}

async function podsOnNodes(h: Harness, name: string, expected: string[], run = true) {
  return eventually(h.clock, async () => {
    if (run) await runPods(h);
    const list = await dsPods(h, name);
    return JSON.stringify(nodesOf(list)) === JSON.stringify(expected) && list;
  }, `${name} pods on ${expected.join(',')}`, { advanceMs: 0 });
}

describe('nodeShouldRunDaemonPod', () => {
  const ds = daemonSet('x');
  const cases: { name: string; node: KubeObject; ds?: KubeObject; want: [boolean, boolean] }[] = [
    { name: 'plain node', node: node('n'), want: [true, true] },
    { name: 'not-ready NoExecute tolerated automatically', node: node('n', {}, [{ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }]), want: [true, true] },
    { name: 'unreachable NoExecute tolerated automatically', node: node('n', {}, [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }]), want: [true, true] },
    { name: 'cordoned node still runs daemons', node: node('n', {}, [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }]), want: [true, true] },
    { name: 'disk-pressure tolerated', node: node('n', {}, [{ key: 'node.kubernetes.io/disk-pressure', effect: 'NoSchedule' }]), want: [true, true] },
    { name: 'network-unavailable only for hostNetwork', node: node('n', {}, [{ key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' }]), want: [false, true] },
    { name: 'network-unavailable, hostNetwork', node: node('n', {}, [{ key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' }]), ds: daemonSet('x', {}, { hostNetwork: true }), want: [true, true] },
    { name: 'user NoSchedule taint: no new pod, existing stays', node: node('n', {}, [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }]), want: [false, true] },
    { name: 'user NoExecute taint: evicted', node: node('n', {}, [{ key: 'dedicated', value: 'db', effect: 'NoExecute' }]), want: [false, false] },
    { name: 'tolerated user taint', node: node('n', {}, [{ key: 'dedicated', value: 'db', effect: 'NoExecute' }]), ds: daemonSet('x', {}, { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'db' }] }), want: [true, true] },
    { name: 'nodeSelector mismatch', node: node('n', { disk: 'hdd' }), ds: daemonSet('x', {}, { nodeSelector: { disk: 'ssd' } }), want: [false, false] },
    { name: 'nodeSelector match', node: node('n', { disk: 'ssd' }), ds: daemonSet('x', {}, { nodeSelector: { disk: 'ssd' } }), want: [true, true] },
    {
      name: 'required node affinity mismatch',
      node: node('n', { zone: 'a' }),
      ds: daemonSet('x', {}, { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['b'] }] }] } } } }),
      want: [false, false],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const got = nodeShouldRunDaemonPod(c.node, c.ds ?? ds);
      assert.deepEqual([got.shouldRun, got.shouldContinueRunning], c.want);
    });
  }
});

describe('daemonset controller', () => {
  test('one pod per node, pinned by matchFields affinity with daemon tolerations; status; new node gets a pod', () =>
    withCluster(async (h) => {
      await h.client.resource(daemonSetsResource).create('default', daemonSet('agent'));
      const list = await podsOnNodes(h, 'agent', ['node-1', 'node-2', 'node-3'], false);
      for (const pod of list) {
        const terms = pod.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms;
        assert.deepEqual(terms, [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeOfDaemonPod(pod)] }] }]);
        assert.equal(pod.spec.nodeName, undefined, 'left to the scheduler to bind');
        assert.ok(pod.spec.tolerations.some((t: any) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoExecute'));
        assert.match(pod.metadata.labels!['controller-revision-hash']!, /^[a-z0-9]+$/);
        assert.equal(pod.metadata.ownerReferences![0]!.kind, 'DaemonSet');
      }
      const ds = await eventually(h.clock, async () => {
        await runPods(h);
        const d = await h.client.resource(daemonSetsResource).get('default', 'agent');
        return d.status?.numberAvailable === 3 && d;
      }, 'all available', { advanceMs: 0 });
      assert.deepEqual(
        [ds.status.desiredNumberScheduled, ds.status.currentNumberScheduled, ds.status.numberReady, ds.status.updatedNumberScheduled, ds.status.numberMisscheduled, ds.status.observedGeneration],
        [3, 3, 3, 3, 0, ds.metadata.generation],
      );
      const revisions = (await h.client.resource(controllerRevisionsResource).list('default')).items;
      assert.deepEqual(revisions.map((r) => [r.metadata.name, r.revision]), [[`agent-${list[0]!.metadata.labels!['controller-revision-hash']}`, 1]]);

      await h.client.resource(nodesResource).create(undefined, node('node-4'));
      await podsOnNodes(h, 'agent', ['node-1', 'node-2', 'node-3', 'node-4']);
      await h.recorder.flush();
      const events = await eventsFor(h.client, 'default', 'agent');
      assert.equal(events.filter((e) => e.reason === 'SuccessfulCreate').length, 4);
    }));

  test('node label change and node removal delete the pod; a NoSchedule-tainted node gets none', () =>
    withCluster(async (h) => {
      const nodesApi = h.client.resource(nodesResource);
      await nodesApi.patch(undefined, 'node-2', 'merge', { spec: { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] } });
      await h.client.resource(daemonSetsResource).create('default', daemonSet('zonal', {}, { nodeSelector: { zone: 'a' } }));
      await podsOnNodes(h, 'zonal', ['node-1']);
      // The tainted node is not counted as desired; the zone-b node not at all.
      await eventually(h.clock, async () => (await h.client.resource(daemonSetsResource).get('default', 'zonal')).status?.desiredNumberScheduled === 1, 'desired 1', { advanceMs: 0 });
      await nodesApi.patch(undefined, 'node-3', 'merge', { metadata: { labels: { zone: 'a' } } });
      await podsOnNodes(h, 'zonal', ['node-1', 'node-3']);
      await nodesApi.patch(undefined, 'node-1', 'merge', { metadata: { labels: { zone: 'b' } } });
      await podsOnNodes(h, 'zonal', ['node-3']);
      await nodesApi.delete(undefined, 'node-3');
      await podsOnNodes(h, 'zonal', []);
      await h.recorder.flush();
      assert.ok((await eventsFor(h.client, 'default', 'zonal')).some((e) => e.reason === 'SuccessfulDelete'));
      // A NoExecute taint evicts an existing daemon pod.
      await nodesApi.patch(undefined, 'node-2', 'merge', { spec: { taints: null } });
      await nodesApi.patch(undefined, 'node-2', 'merge', { metadata: { labels: { zone: 'a' } } });
      await podsOnNodes(h, 'zonal', ['node-2']);
      await nodesApi.patch(undefined, 'node-2', 'merge', { spec: { taints: [{ key: 'dedicated', value: 'db', effect: 'NoExecute' }] } });
      await podsOnNodes(h, 'zonal', []);
    }));

  test('RollingUpdate maxUnavailable 1: never more than one node without an available pod; new revision', () =>
    withCluster(async (h) => {
      const api = h.client.resource(daemonSetsResource);
      await api.create('default', daemonSet('roll', { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } } }));
      const before = await podsOnNodes(h, 'roll', ['node-1', 'node-2', 'node-3']);
      const oldHash = before[0]!.metadata.labels!['controller-revision-hash'];
      await eventually(h.clock, async () => {
        await runPods(h);
        return (await api.get('default', 'roll')).status?.numberAvailable === 3;
      }, 'available', { advanceMs: 0 });
      await api.patch('default', 'roll', 'merge', { spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox:2' }] } } } });
      // Step the kubelet by hand: at every point at most one node lacks an available pod.
      await eventually(h.clock, async () => {
        const all = await listPods(h.client, 'default', 'app=roll');
        const availableNodes = new Set(all.filter((p) => !p.metadata.deletionTimestamp && p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True')).map(nodeOfDaemonPod));
        assert.ok(availableNodes.size >= 2, `at most one unavailable, saw ${[...availableNodes]}`);
        await runPods(h);
        const now = await dsPods(h, 'roll');
        return now.length === 3 && now.every((p) => p.metadata.labels!['controller-revision-hash'] !== oldHash && p.status?.phase === 'Running') && now;
      }, 'all pods on the new revision', { advanceMs: 0 });
      const ds = await eventually(h.clock, async () => {
        const d = await api.get('default', 'roll');
        return d.status?.updatedNumberScheduled === 3 && d.status?.numberAvailable === 3 && d;
      }, 'status updated', { advanceMs: 0 });
      assert.equal(ds.status.observedGeneration, 2);
      const revisions = (await h.client.resource(controllerRevisionsResource).list('default')).items.sort((a, b) => a.revision - b.revision);
      assert.deepEqual(revisions.map((r) => r.revision), [1, 2]);
      assert.equal(revisions[0]!.metadata.name, `roll-${oldHash}`);
    }));

  test('RollingUpdate maxSurge 1: the new pod starts beside the old one, which goes once the new one is available', () =>
    withCluster(async (h) => {
      const api = h.client.resource(daemonSetsResource);
      await api.create('default', daemonSet('surge', { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } } }));
      await podsOnNodes(h, 'surge', ['node-1', 'node-2', 'node-3']);
      await eventually(h.clock, async () => {
        await runPods(h);
        return (await api.get('default', 'surge')).status?.numberAvailable === 3;
      }, 'available', { advanceMs: 0 });
      await api.patch('default', 'surge', 'merge', { spec: { template: { metadata: { labels: { app: 'surge', v: '2' } } } } });
      const both = await eventually(h.clock, async () => {
        const list = await dsPods(h, 'surge');
        return list.length === 4 && list;
      }, 'one surge pod', { advanceMs: 0 });
      const surgeNode = both.find((p) => p.metadata.labels!.v === '2')!;
      assert.equal(both.filter((p) => nodeOfDaemonPod(p) === nodeOfDaemonPod(surgeNode)).length, 2, 'old and new side by side');
      await eventually(h.clock, async () => {
        await runPods(h);
        const list = await dsPods(h, 'surge');
        assert.ok(list.length <= 4, 'never more than one surge pod');
        return list.length === 3 && list.every((p) => p.metadata.labels!.v === '2' && p.status?.phase === 'Running');
      }, 'rolled', { advanceMs: 0 });
    }));

  test('OnDelete: a template change replaces a pod only after it is deleted', () =>
    withCluster(async (h) => {
      const api = h.client.resource(daemonSetsResource);
      await api.create('default', daemonSet('manual', { updateStrategy: { type: 'OnDelete' } }));
      const before = await podsOnNodes(h, 'manual', ['node-1', 'node-2', 'node-3']);
      await api.patch('default', 'manual', 'merge', { spec: { template: { metadata: { labels: { app: 'manual', v: '2' } } } } });
      await eventually(h.clock, async () => (await h.client.resource(controllerRevisionsResource).list('default')).items.length === 2, 'second revision', { advanceMs: 0 });
      await eventually(h.clock, async () => (await api.get('default', 'manual')).status?.observedGeneration === 2, 'observed', { advanceMs: 0 });
      assert.deepEqual((await dsPods(h, 'manual')).map((p) => p.metadata.name).sort(), before.map((p) => p.metadata.name).sort(), 'nothing replaced by itself');
      const victim = before.find((p) => nodeOfDaemonPod(p) === 'node-2')!;
      await pods(h.client).delete('default', victim.metadata.name!, { gracePeriodSeconds: 0 });
      const after = await podsOnNodes(h, 'manual', ['node-1', 'node-2', 'node-3']);
      assert.equal(after.find((p) => nodeOfDaemonPod(p) === 'node-2')!.metadata.labels!.v, '2');
      assert.equal(after.filter((p) => p.metadata.labels!.v === '2').length, 1);
    }));
  test('adopts a matching orphan on its node instead of creating a second pod there; releases a pod whose labels stop matching', () =>
    withCluster(async (h) => {
      const orphan = await pods(h.client).create('default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'hand-made', labels: { app: 'agent' } }, spec: { nodeName: 'node-2', containers: [{ name: 'c', image: 'busybox:1' }] } });
      // OnDelete: the adopted pod has no controller-revision-hash, so a RollingUpdate would replace it.
      const ds = await h.client.resource(daemonSetsResource).create('default', daemonSet('agent', { updateStrategy: { type: 'OnDelete' } }));
      const list = await podsOnNodes(h, 'agent', ['node-1', 'node-2', 'node-3']);
      assert.equal(list.find((p) => nodeOfDaemonPod(p) === 'node-2')!.metadata.name, 'hand-made', 'no second pod on node-2');
      const adopted = await pods(h.client).get('default', 'hand-made');
      assert.equal(adopted.metadata.uid, orphan.metadata.uid);
      assert.deepEqual(adopted.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'agent', uid: ds.metadata.uid, controller: true, blockOwnerDeletion: true }]);

      // Relabelled out of the selector: released, and node-2 gets a daemon pod of its own.
      await pods(h.client).patch('default', 'hand-made', 'merge', { metadata: { labels: { app: 'mine' } } });
      await eventually(h.clock, async () => !(await pods(h.client).get('default', 'hand-made')).metadata.ownerReferences, 'released', { advanceMs: 0 });
      const after = await podsOnNodes(h, 'agent', ['node-1', 'node-2', 'node-3']);
      assert.ok(!after.some((p) => p.metadata.name === 'hand-made'));
      assert.ok(after.every((p) => p.metadata.ownerReferences?.[0]?.uid === ds.metadata.uid));
    }));
});
