// The cluster autoscaler against the in-process API server on a fake clock. Node groups here
// create and delete Node objects directly (what a cloud plus its kubelets would end up doing),
// so each test controls exactly which nodes exist; simulated.test.ts covers real hollow kubelets.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/types.js';
import type { Client } from '../../client/client.js';
import { podDisruptionBudgetsResource } from '../disruption/controller.js';
import { configMapsResource, podsResource } from '../framework/resources.js';
import { nodesResource } from '../nodelifecycle/controller.js';
import { eventsFor, eventually, pods, startHarness, type Harness } from '../testing.js';
import { createClusterAutoscaler, type ClusterAutoscaler } from './autoscaler.js';
import { nodeGroupLabel, parseNodeGroupSpec, type NodeGroup, type NodeGroupProvider, type NodeGroupSpec } from './node-group.js';
import { simulatedTemplateNode } from './simulated.js';

/** A group whose "machines" register instantly: Node objects with the template's status. */
class DirectNodeGroup implements NodeGroup {
  members: string[] = [];
  private next = 1;
  constructor(readonly spec: NodeGroupSpec, private readonly client: Client) {}
  get name() { return this.spec.name; }
  get minSize() { return this.spec.minSize; }
  get maxSize() { return this.spec.maxSize; }
  targetSize() { return this.members.length; }
  memberNames() { return [...this.members]; }
  templateNode() { return simulatedTemplateNode(this.spec); }
  async increaseSize(delta: number) {
    assert.ok(this.targetSize() + delta <= this.maxSize, 'never asked past maxSize');
    for (let i = 0; i < delta; i++) {
      const name = `${this.name}-${this.next++}`;
      this.members.push(name);
      const template = this.templateNode();
      const labels = { ...template.metadata.labels, 'kubernetes.io/hostname': name };
      const created = await this.client.resource(nodesResource).create(undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name, labels }, spec: template.spec } as KubeObject);
      await this.client.resource(nodesResource).updateStatus({ ...created, status: template.status });
    }
  }
  async deleteNodes(nodes: KubeObject[]) {
    assert.ok(this.targetSize() - nodes.length >= this.minSize, 'never asked below minSize');
    for (const n of nodes) {
      this.members = this.members.filter((m) => m !== n.metadata.name);
      await this.client.resource(nodesResource).delete(undefined, n.metadata.name!);
    }
  }
}

function providerOf(groups: DirectNodeGroup[]): NodeGroupProvider {
  return {
    name: 'direct',
    nodeGroups: () => groups,
    nodeGroupForNode: (node) => groups.find((g) => g.members.includes(node.metadata.name!)),
  };
}

interface Setup {
  h: Harness;
  ca: ClusterAutoscaler;
  group: DirectNodeGroup;
}

async function withAutoscaler(spec: string, fn: (s: Setup) => Promise<void>, extra: { scaleDownUnneededTimeMs?: number } = {}) {
  const h = await startHarness();
  const group = new DirectNodeGroup(parseNodeGroupSpec(spec), h.client);
  const ca = createClusterAutoscaler({ client: h.client, informerFactory: h.factory, clock: h.clock, recorder: h.recorder, provider: providerOf([group]), ...extra });
  try {
    // Informers only: the test drives the loop itself with runOnce.
    h.factory.start(h.signal);
    await h.factory.waitForCacheSync(h.signal);
    await fn({ h, ca, group });
  } finally {
    await h.close();
  }
}

const replicaSetOwner = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-abc', uid: '00000000-0000-0000-0000-000000000001', controller: true }];

async function unschedulablePod(h: Harness, name: string, cpu: string): Promise<KubeObject> {
  const pod = await pods(h.client).create('default', { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 'web' }, ownerReferences: replicaSetOwner }, spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu, memory: '100Mi' } } }] } } as KubeObject);
  return pods(h.client).updateStatus({ ...pod, status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/0 nodes are available.' }] } });
}

async function runningPod(h: Harness, name: string, node: string, cpu: string): Promise<KubeObject> {
  const pod = await pods(h.client).create('default', { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 'web' }, ownerReferences: replicaSetOwner }, spec: { nodeName: node, containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu, memory: '100Mi' } } }] } } as KubeObject);
  return pods(h.client).updateStatus({ ...pod, status: { phase: 'Running', conditions: [{ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: 'True' }] } });
}

/** Waits until the autoscaler's caches hold what the API holds (by resourceVersion). */
async function cachesSynced(h: Harness): Promise<void> {
  for (const ref of [podsResource, nodesResource, podDisruptionBudgetsResource]) {
    const list = await h.client.resource(ref).list(undefined);
    const want = new Map(list.items.map((o) => [o.metadata.uid, o.metadata.resourceVersion]));
    await eventually(h.clock, () => {
      const have = h.factory.forResource(ref).getIndexer().list() as KubeObject[];
      return have.length === want.size && have.every((o) => want.get(o.metadata.uid) === o.metadata.resourceVersion);
    }, `cache of ${ref.resource}`, { advanceMs: 0 });
  }
}

async function loop(h: Harness, ca: ClusterAutoscaler): Promise<void> {
  await cachesSynced(h);
  await ca.runOnce();
  await h.recorder.flush();
}

const nodeNames = async (h: Harness) => (await h.client.resource(nodesResource).list(undefined)).items.map((n) => n.metadata.name!).sort();

describe('cluster autoscaler: scale-up', () => {
  const cases: { name: string; group: string; pods: string[]; existing?: number; nodes: number; helped: number; notTriggered: RegExp[] }[] = [
    { name: 'one pod, one node', group: 'max=5', pods: ['1'], nodes: 1, helped: 1, notTriggered: [] },
    { name: 'binpacks three 1-cpu pods onto two 2-cpu nodes', group: 'max=5', pods: ['1', '1', '1'], nodes: 2, helped: 3, notTriggered: [] },
    { name: 'binpacks four 600m pods three to a node', group: 'max=5', pods: ['600m', '600m', '600m', '600m'], nodes: 2, helped: 4, notTriggered: [] },
    { name: 'largest first: 1500m + 500m share a node, 1500m + 500m another', group: 'max=5', pods: ['500m', '1500m', '500m', '1500m'], nodes: 2, helped: 4, notTriggered: [] },
    { name: 'bounded by maxSize', group: 'max=2', pods: ['1', '1', '1', '1', '1'], nodes: 2, helped: 4, notTriggered: [/pod didn't trigger scale-up: 1 max node group size reached/] },
    { name: 'already at maxSize', group: 'max=1', existing: 1, pods: ['1500m'], nodes: 0, helped: 0, notTriggered: [/max node group size reached/] },
    { name: 'a pod no template fits', group: 'max=5', pods: ['3'], nodes: 0, helped: 0, notTriggered: [/pod didn't trigger scale-up: 1 Insufficient cpu/] },
  ];
  for (const c of cases) {
    test(c.name, () =>
      withAutoscaler(`group=pool,min=0,${c.group},cpu=2,memory=4Gi`, async ({ h, ca, group }) => {
        if (c.existing) {
          await group.increaseSize(c.existing);
          await runningPod(h, 'filler', 'pool-1', '1');
        }
        const before = group.targetSize();
        const created = [];
        for (const [i, cpu] of c.pods.entries()) created.push(await unschedulablePod(h, `p${i}`, cpu));
        await loop(h, ca);
        assert.equal(group.targetSize() - before, c.nodes);
        let triggered = 0;
        const notTriggered: string[] = [];
        for (const p of created) {
          for (const e of await eventsFor(h.client, 'default', p.metadata.name!)) {
            if (e.reason === 'TriggeredScaleUp') {
              triggered++;
              assert.equal(e.message, `pod triggered scale-up: [{pool ${before}->${before + c.nodes} (max: ${group.maxSize})}]`);
            }
            if (e.reason === 'NotTriggerScaleUp') notTriggered.push(e.message);
          }
        }
        assert.equal(triggered, c.helped);
        assert.equal(notTriggered.length, c.notTriggered.length, notTriggered.join('; '));
        for (const [i, re] of c.notTriggered.entries()) assert.match(notTriggered[i], re);
        // The next loop sees the new nodes (the pods fit there now): no second scale-up.
        const after = group.targetSize();
        await loop(h, ca);
        assert.equal(group.targetSize(), after);
      }));
  }

  test('pods that fit on an existing node do not trigger a scale-up', () =>
    withAutoscaler('group=pool,min=0,max=5,cpu=2,memory=4Gi', async ({ h, ca, group }) => {
      await group.increaseSize(1);
      await unschedulablePod(h, 'waiting', '1');
      await loop(h, ca);
      assert.equal(group.targetSize(), 1);
      assert.deepEqual(await eventsFor(h.client, 'default', 'waiting'), []);
    }));

  test('a node selector only some group satisfies', () =>
    withAutoscaler('group=pool,min=0,max=5,cpu=2,memory=4Gi,label=disk=ssd', async ({ h, ca, group }) => {
      const pod = await pods(h.client).create('default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'hdd' }, spec: { nodeSelector: { disk: 'hdd' }, containers: [{ name: 'c', image: 'busybox' }] } } as KubeObject);
      await pods(h.client).updateStatus({ ...pod, status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' }] } });
      await unschedulablePod(h, 'any', '1');
      await loop(h, ca);
      assert.equal(group.targetSize(), 1);
      const [event] = await eventsFor(h.client, 'default', 'hdd');
      assert.equal(event.reason, 'NotTriggerScaleUp');
      assert.match(event.message, /didn't match Pod's node affinity\/selector/);
      const node = await h.client.resource(nodesResource).get(undefined, 'pool-1');
      assert.equal(node.metadata.labels!.disk, 'ssd');
      assert.equal(node.metadata.labels![nodeGroupLabel], 'pool');
    }));
});

describe('cluster autoscaler: scale-down', () => {
  test('an empty node goes after scale-down-unneeded-time, not before; the status ConfigMap tells', () =>
    withAutoscaler('group=pool,min=0,max=5,cpu=2,memory=4Gi', async ({ h, ca, group }) => {
      await group.increaseSize(1);
      await loop(h, ca);
      assert.ok(ca.unneededNodes().has('pool-1'));
      const status = (await h.client.resource(configMapsResource).get('kube-system', 'cluster-autoscaler-status')).data.status;
      assert.match(status, /scaleDown:\n\s+status: CandidatesPresent\n\s+candidates: 1/);
      assert.match(status, /cloudProviderTarget: 1/);
      await h.clock.advance(9 * 60_000);
      await loop(h, ca);
      assert.deepEqual(await nodeNames(h), ['pool-1']);
      await h.clock.advance(61_000);
      await loop(h, ca);
      assert.deepEqual(await nodeNames(h), []);
      assert.equal(group.targetSize(), 0);
    }));

  test('a busy node stays', () =>
    withAutoscaler('group=pool,min=0,max=5,cpu=2,memory=4Gi', async ({ h, ca, group }) => {
      await group.increaseSize(2);
      await runningPod(h, 'big', 'pool-1', '1200m');
      await loop(h, ca);
      assert.deepEqual([...ca.unneededNodes().keys()], ['pool-2']);
    }));

  test('minSize is respected', () =>
    withAutoscaler('group=pool,min=1,max=5,cpu=2,memory=4Gi', async ({ h, ca, group }) => {
      await group.increaseSize(2);
      await loop(h, ca);
      await h.clock.advance(11 * 60_000);
      await loop(h, ca);
      await h.clock.advance(60_000);
      await loop(h, ca);
      assert.equal((await nodeNames(h)).length, 1);
      assert.equal(group.targetSize(), 1);
    }));

  test('a PodDisruptionBudget blocks scale-down; once it allows, the node is tainted, drained through eviction and removed', () =>
    withAutoscaler('group=pool,min=0,max=5,cpu=2,memory=4Gi', async ({ h, ca, group }) => {
      await group.increaseSize(2);
      await runningPod(h, 'a', 'pool-1', '500m');
      await runningPod(h, 'b', 'pool-2', '500m');
      const pdbs = h.client.resource(podDisruptionBudgetsResource);
      const pdb = await pdbs.create('default', { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web' }, spec: { minAvailable: 2, selector: { matchLabels: { app: 'web' } } } } as KubeObject);
      const budgetStatus = (allowed: number) => ({ observedGeneration: 1, disruptionsAllowed: allowed, currentHealthy: 2, desiredHealthy: 2 - allowed, expectedPods: 2 });
      await pdbs.updateStatus({ ...pdb, status: budgetStatus(0) });
      await loop(h, ca);
      await h.clock.advance(11 * 60_000);
      await loop(h, ca);
      assert.deepEqual(await nodeNames(h), ['pool-1', 'pool-2']);
      assert.equal(ca.unneededNodes().size, 0);

      const current = await pdbs.get('default', 'web');
      await pdbs.updateStatus({ ...current, status: budgetStatus(1) });
      await loop(h, ca);
      await h.clock.advance(11 * 60_000);
      await loop(h, ca);
      // pool-1 (first by name at equal utilization) is being drained.
      const node = await h.client.resource(nodesResource).get(undefined, 'pool-1');
      assert.ok(node.spec.taints.some((t: any) => t.key === 'ToBeDeletedByClusterAutoscaler' && t.effect === 'NoSchedule'));
      const evicted = await pods(h.client).get('default', 'a');
      assert.ok(evicted.metadata.deletionTimestamp, 'pod a evicted');
      assert.ok((await eventsFor(h.client, 'default', 'a')).some((e) => e.reason === 'ScaleDown' && e.message === 'deleting pod for node scale down'));
      // What the kubelet would do once the container stopped.
      await pods(h.client).delete('default', 'a', { gracePeriodSeconds: 0 });
      await h.clock.advance(10_000);
      await loop(h, ca);
      assert.deepEqual(await nodeNames(h), ['pool-2']);
      assert.equal(group.targetSize(), 1);
    }));
});

describe('--cluster-autoscaler flag', () => {
  test('parses a group', () => {
    const spec = parseNodeGroupSpec('group=gpu,min=1,max=5,cpu=2,memory=4Gi,label=accel=t4,label=zone=a,taint=gpu=true:NoSchedule');
    assert.equal(spec.name, 'gpu');
    assert.equal(spec.minSize, 1);
    assert.equal(spec.maxSize, 5);
    assert.equal(spec.cpu, 2);
    assert.equal(spec.memoryBytes, 4 * 2 ** 30);
    assert.deepEqual(spec.labels, { accel: 't4', zone: 'a' });
    assert.deepEqual(spec.taints, [{ key: 'gpu', value: 'true', effect: 'NoSchedule' }]);
  });
  for (const bad of ['min=0,max=5,cpu=2,memory=4Gi', 'group=x,min=3,max=2,cpu=2,memory=4Gi', 'group=x,max=2,memory=4Gi', 'group=x,max=2,cpu=2,memory=4Gi,colour=blue', 'group=X,max=2,cpu=2,memory=1Gi']) {
    test(`rejects ${bad}`, () => assert.throws(() => parseNodeGroupSpec(bad)));
  }
});
