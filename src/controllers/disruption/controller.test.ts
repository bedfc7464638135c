// The disruption controller against a real in-process API server: status follows the pods,
// and the eviction subresource then enforces the budget it computed.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/types.js';
import { createClient } from '../../client/client.js';
import { isTooManyRequests } from '../../client/errors.js';
import { deploymentsResource, replicaSetsResource } from '../framework/resources.js';
import { eventsFor, eventually, pods, setPodRunning, startHarness, type Harness } from '../testing.js';
import { createDisruptionController, podDisruptionBudgetsResource } from './controller.js';

async function withController(fn: (h: Harness) => Promise<void>) {
  const h = await startHarness();
  try {
    await h.start(createDisruptionController({ client: h.client, informerFactory: h.factory, clock: h.clock, recorder: h.recorder }));
    await fn(h);
  } finally {
    await h.close();
  }
}

/** A Deployment of `replicas` with one ReplicaSet and `podCount` pods owned by it (no workload controllers run). */
async function deploymentWithPods(h: Harness, name: string, replicas: number, podCount: number): Promise<KubeObject[]> {
  const template = { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } };
  const deployment = await h.client.resource(deploymentsResource).create('default', {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name }, spec: { replicas, selector: { matchLabels: { app: name } }, template },
  } as KubeObject);
  const rs = await h.client.resource(replicaSetsResource).create('default', {
    apiVersion: 'apps/v1', kind: 'ReplicaSet',
    metadata: { name: `${name}-rs`, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name, uid: deployment.metadata.uid!, controller: true }] },
    spec: { replicas, selector: { matchLabels: { app: name } }, template },
  } as KubeObject);
  const created: KubeObject[] = [];
  for (let i = 0; i < podCount; i++) {
    const pod = await pods(h.client).create('default', {
      apiVersion: 'v1', kind: 'Pod',
      metadata: { name: `${name}-${i}`, labels: { app: name }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs.metadata.name!, uid: rs.metadata.uid!, controller: true }] },
      spec: template.spec,
    } as KubeObject);
    created.push(await setPodRunning(h.client, h.clock, pod));
  }
  return created;
}

const budgets = (h: Harness) => h.client.resource(podDisruptionBudgetsResource);
const pdb = (name: string, app: string, spec: Record<string, unknown>) =>
  ({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name }, spec: { selector: { matchLabels: { app } }, ...spec } }) as KubeObject;

describe('disruption controller', () => {
  test('minAvailable: status counts ready pods; evictions stop at the budget', () =>
    withController(async (h) => {
      const created = await deploymentWithPods(h, 'web', 2, 2);
      await budgets(h).create('default', pdb('web', 'web', { minAvailable: 1 }));
      const status = await eventually(h.clock, async () => {
        const s = (await budgets(h).get('default', 'web')).status;
        return s?.observedGeneration === 1 && s;
      }, 'status observed');
      assert.equal(status.currentHealthy, 2);
      assert.equal(status.desiredHealthy, 1);
      assert.equal(status.expectedPods, 2);
      assert.equal(status.disruptionsAllowed, 1);
      assert.equal(status.disruptedPods, undefined);
      const condition = status.conditions.find((c: { type: string }) => c.type === 'DisruptionAllowed');
      assert.equal(condition.status, 'True');
      assert.equal(condition.reason, 'SufficientPods');

      // Like kubectl drain, see each 429 instead of sleeping through Retry-After.
      const evictor = pods(createClient(h.server.transport(), { maxThrottleRetries: 0 }));
      await evictor.evict('default', created[0]!.metadata.name!);
      await assert.rejects(evictor.evict('default', created[1]!.metadata.name!), (err) => isTooManyRequests(err) && /disruption budget web needs 1 healthy pods and has 1 currently|violate the pod's disruption budget/.test(String((err as Error).message)));
      // The evicted pod is Terminating (no kubelet): it is no longer healthy, and its disruptedPods entry is dropped.
      const after = await eventually(h.clock, async () => {
        const s = (await budgets(h).get('default', 'web')).status;
        return s?.currentHealthy === 1 && s.disruptedPods === undefined && s;
      }, 'one healthy, no disruptedPods');
      assert.equal(after.disruptionsAllowed, 0);
      assert.equal(after.conditions.find((c: { type: string }) => c.type === 'DisruptionAllowed').reason, 'InsufficientPods');
      await assert.rejects(evictor.evict('default', created[1]!.metadata.name!), (err) => isTooManyRequests(err));
    }));

  test('percentages use the owning Deployment\'s scale; a pod not deleted after an eviction counts again after two minutes', () =>
    withController(async (h) => {
      // Scale 4 with only 3 pods present: maxUnavailable 50% of 4 = 2, so 2 must stay healthy.
      const created = await deploymentWithPods(h, 'api', 4, 3);
      await budgets(h).create('default', pdb('api', 'api', { maxUnavailable: '50%' }));
      const status = await eventually(h.clock, async () => {
        const s = (await budgets(h).get('default', 'api')).status;
        return s?.observedGeneration === 1 && s;
      }, 'status observed');
      assert.deepEqual([status.expectedPods, status.desiredHealthy, status.currentHealthy, status.disruptionsAllowed], [4, 2, 3, 1]);

      // An eviction was recorded but the pod was never deleted (as if the delete failed).
      const current = await budgets(h).get('default', 'api');
      const evictedAt = new Date(h.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
      await budgets(h).updateStatus({ ...current, status: { ...current.status, disruptionsAllowed: 0, disruptedPods: { [created[0]!.metadata.name!]: evictedAt } } });
      await eventually(h.clock, async () => {
        const s = (await budgets(h).get('default', 'api')).status;
        return s?.currentHealthy === 2 && s.disruptionsAllowed === 0 && s.disruptedPods?.[created[0]!.metadata.name!] === evictedAt;
      }, 'the evicted pod is not counted');
      await h.clock.advance(2 * 60 * 1000 + 1000);
      await eventually(h.clock, async () => {
        const s = (await budgets(h).get('default', 'api')).status;
        return s?.currentHealthy === 3 && s.disruptionsAllowed === 1 && s.disruptedPods === undefined;
      }, 'the entry expired');
      await h.recorder.flush();
      const events = await eventsFor(h.client, 'default', created[0]!.metadata.name!);
      assert.ok(events.some((e) => e.type === 'Warning' && e.reason === 'NotDeleted' && e.message === "Pod was expected by PDB default/api to be deleted but it wasn't"), JSON.stringify(events));
    }));

  test('a percentage over pods without a controller fails safe with no disruptions allowed', () =>
    withController(async (h) => {
      const bare = await pods(h.client).create('default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'bare', labels: { app: 'bare' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } as KubeObject);
      await setPodRunning(h.client, h.clock, bare);
      await budgets(h).create('default', pdb('bare', 'bare', { minAvailable: '50%' }));
      const status = await eventually(h.clock, async () => {
        const s = (await budgets(h).get('default', 'bare')).status;
        return s?.observedGeneration === 1 && s;
      }, 'status observed');
      assert.equal(status.disruptionsAllowed, 0);
      const condition = status.conditions.find((c: { type: string }) => c.type === 'DisruptionAllowed');
      assert.deepEqual([condition.status, condition.reason, condition.message], ['False', 'SyncFailed', 'found no controller ref for pod "bare"']);
      await h.recorder.flush();
      const events = await eventsFor(h.client, 'default', 'bare');
      assert.ok(events.some((e) => e.reason === 'CalculateExpectedPodCountFailed' && e.message === 'Failed to calculate the number of expected pods: found no controller ref for pod "bare"'));
    }));
});
