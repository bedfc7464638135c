// The node lifecycle controller on a fake clock: a node whose Lease stops renewing goes
// Ready=Unknown after the grace period, is tainted unreachable, its pods turn not Ready and
// are evicted at their tolerationSeconds; it recovers when the kubelet reports again.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/types.js';
import { formatTime } from '../framework/events.js';
import { eventsFor, eventually, pods, setPodRunning, startHarness, type Harness } from '../testing.js';
import { createNodeLifecycleController, leasesResource, nodesResource } from './controller.js';

async function withController(fn: (h: Harness) => Promise<void>) {
  const h = await startHarness();
  try {
    await h.start(createNodeLifecycleController({ client: h.client, informerFactory: h.factory, clock: h.clock, recorder: h.recorder }));
    await fn(h);
  } finally {
    await h.close();
  }
}

const nodes = (h: Harness) => h.client.resource(nodesResource);
const leases = (h: Harness) => h.client.resource(leasesResource);

/** What a kubelet does on start and every heartbeat: Ready=True and a renewed Lease. */
async function heartbeat(h: Harness, name: string): Promise<void> {
  const now = formatTime(h.clock.now());
  let node: KubeObject;
  try {
    node = await nodes(h).get(undefined, name);
  } catch {
    node = await nodes(h).create(undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name } } as KubeObject);
  }
  const previous = (node.status?.conditions ?? []).find((c: any) => c.type === 'Ready');
  const ready = { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now, lastTransitionTime: previous?.status === 'True' ? previous.lastTransitionTime : now };
  await nodes(h).updateStatus({ ...node, status: { ...node.status, conditions: [ready] } });
  const renewTime = new Date(h.clock.now()).toISOString().replace('Z', '000Z');
  try {
    const lease = await leases(h).get('kube-node-lease', name);
    await leases(h).update({ ...lease, spec: { ...lease.spec, renewTime } });
  } catch {
    await leases(h).create('kube-node-lease', { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name }, spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime } } as KubeObject);
  }
}

async function runningPod(h: Harness, name: string, node: string, tolerations?: unknown[]): Promise<KubeObject> {
  const pod = await pods(h.client).create('default', { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', image: 'busybox' }], ...(tolerations ? { tolerations } : {}) } } as KubeObject);
  return setPodRunning(h.client, h.clock, pod, true, node);
}

const readyOf = (obj: KubeObject) => (obj.status?.conditions ?? []).find((c: any) => c.type === 'Ready');
const taintsOf = async (h: Harness, name: string) => ((await nodes(h).get(undefined, name)).spec?.taints ?? []).map((t: any) => `${t.key}:${t.effect}`).sort();
const isGoing = async (h: Harness, name: string) => {
  try {
    return !!(await pods(h.client).get('default', name)).metadata.deletionTimestamp;
  } catch {
    return true;
  }
};

describe('node lifecycle controller', () => {
  test('lease expiry → Ready=Unknown and unreachable taints → eviction at tolerationSeconds → recovery', () =>
    withController(async (h) => {
      const start = h.clock.now();
      await heartbeat(h, 'n1');
      // DefaultTolerationSeconds gives "default" 300 s; "short" tolerates unreachable for 30 s; "forever" for ever.
      await runningPod(h, 'default', 'n1');
      await runningPod(h, 'short', 'n1', [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 }]);
      await runningPod(h, 'forever', 'n1', [{ operator: 'Exists' }]);
      assert.deepEqual((await pods(h.client).get('default', 'default')).spec.tolerations.map((t: any) => `${t.key}=${t.tolerationSeconds}`), ['node.kubernetes.io/not-ready=300', 'node.kubernetes.io/unreachable=300']);

      // A renewal at 20 s restarts the 40 s grace period.
      await h.clock.advance(20_000);
      await heartbeat(h, 'n1');
      await h.clock.advance(35_000);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(readyOf(await nodes(h).get(undefined, 'n1')).status, 'True', 'still within the grace period at 55 s');
      assert.deepEqual(await taintsOf(h, 'n1'), []);

      await h.clock.advance(6_000);
      const node = await eventually(h.clock, async () => {
        const n = await nodes(h).get(undefined, 'n1');
        return readyOf(n).status === 'Unknown' && (n.spec.taints ?? []).length === 2 && n;
      }, 'node Unknown and tainted');
      const taintedAt = h.clock.now();
      const ready = readyOf(node);
      assert.equal(ready.reason, 'NodeStatusUnknown');
      assert.equal(ready.message, 'Kubelet stopped posting node status.');
      assert.deepEqual(await taintsOf(h, 'n1'), ['node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/unreachable:NoSchedule']);
      const noExecute = node.spec.taints.find((t: any) => t.effect === 'NoExecute');
      assert.ok(Math.abs(Date.parse(noExecute.timeAdded) - taintedAt) <= 1000, `timeAdded ${noExecute.timeAdded}`);
      assert.ok(taintedAt - start >= 60_000 && taintedAt - start < 62_000);
      for (const name of ['default', 'short', 'forever']) {
        await eventually(h.clock, async () => readyOf(await pods(h.client).get('default', name)).status === 'False', `${name} not Ready`);
      }
      await h.recorder.flush();
      assert.ok((await eventsFor(h.client, 'default', 'n1')).some((e) => e.reason === 'NodeNotReady' && e.message === 'Node n1 status is now: NodeNotReady'));

      // tolerationSeconds counts from the taint's timeAdded.
      const timeAdded = Date.parse(noExecute.timeAdded);
      await h.clock.advance(timeAdded + 29_000 - h.clock.now());
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(await isGoing(h, 'short'), false, 'short survives 29 s');
      await h.clock.advance(1_500);
      await eventually(h.clock, () => isGoing(h, 'short'), 'short evicted at 30 s', { advanceMs: 0 });
      assert.equal(await isGoing(h, 'default'), false);
      await h.clock.advance(timeAdded + 299_000 - h.clock.now());
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(await isGoing(h, 'default'), false, 'default survives 299 s');
      await h.clock.advance(1_500);
      await eventually(h.clock, () => isGoing(h, 'default'), 'default evicted at 300 s', { advanceMs: 0 });
      assert.equal(await isGoing(h, 'forever'), false);
      const evicted = await pods(h.client).get('default', 'default');
      assert.equal(evicted.status.conditions.find((c: any) => c.type === 'DisruptionTarget')?.reason, 'DeletionByTaintManager');
      await h.recorder.flush();
      assert.ok((await eventsFor(h.client, 'default', 'short')).some((e) => e.reason === 'TaintManagerEviction' && e.message === 'Marking for deletion Pod default/short'));

      // The kubelet comes back: the taints go.
      await heartbeat(h, 'n1');
      await eventually(h.clock, async () => (await taintsOf(h, 'n1')).length === 0, 'taints removed');
      await h.clock.advance(100_000);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(await isGoing(h, 'forever'), false);
    }));

  test('Ready=False gives not-ready taints; cordon mirrors the unschedulable taint; untolerated NoExecute evicts at once', () =>
    withController(async (h) => {
      await heartbeat(h, 'n2');
      await runningPod(h, 'plain', 'n2');
      const node = await nodes(h).get(undefined, 'n2');
      await nodes(h).updateStatus({ ...node, status: { conditions: [{ ...readyOf(node), status: 'False', reason: 'KubeletNotReady' }] } });
      await eventually(h.clock, async () => (await taintsOf(h, 'n2')).join() === 'node.kubernetes.io/not-ready:NoExecute,node.kubernetes.io/not-ready:NoSchedule', 'not-ready taints');
      await heartbeat(h, 'n2');
      await eventually(h.clock, async () => (await taintsOf(h, 'n2')).length === 0, 'ready again');

      let current = await nodes(h).get(undefined, 'n2');
      await nodes(h).update({ ...current, spec: { ...current.spec, unschedulable: true } });
      await eventually(h.clock, async () => (await taintsOf(h, 'n2')).join() === 'node.kubernetes.io/unschedulable:NoSchedule', 'cordoned');
      current = await nodes(h).get(undefined, 'n2');
      await nodes(h).update({ ...current, spec: { ...current.spec, unschedulable: false, taints: [...current.spec.taints, { key: 'dedicated', value: 'db', effect: 'NoExecute' }] } });
      await eventually(h.clock, async () => (await taintsOf(h, 'n2')).join() === 'dedicated:NoExecute', 'uncordoned, user taint kept');
      await eventually(h.clock, () => isGoing(h, 'plain'), 'untolerating pod evicted at once', { advanceMs: 0 });
    }));

  test('a node that never reported goes Unknown from its creation time', () =>
    withController(async (h) => {
      await nodes(h).create(undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'silent' } } as KubeObject);
      await h.clock.advance(39_000);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal((await nodes(h).get(undefined, 'silent')).status?.conditions, undefined);
      await h.clock.advance(2_000);
      const ready = await eventually(h.clock, async () => readyOf(await nodes(h).get(undefined, 'silent')), 'Ready condition');
      assert.deepEqual([ready.status, ready.reason, ready.message], ['Unknown', 'NodeStatusNeverUpdated', 'Kubelet never posted node status.']);
    }));
});
