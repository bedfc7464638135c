// The pod garbage collector against a real in-process API server on a fake clock.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/types.js';
import { eventually, listPods, pods, setPodPhase, setPodRunning, startHarness, type Harness } from '../testing.js';
import { nodesResource } from '../nodelifecycle/controller.js';
import { createPodGarbageCollector } from './controller.js';

async function withController(fn: (h: Harness) => Promise<void>) {
  const h = await startHarness();
  try {
    await fn(h);
  } finally {
    await h.close();
  }
}

const newPod = (h: Harness, name: string) =>
  pods(h.client).create('default', { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } as KubeObject);
const podNames = async (h: Harness) => (await listPods(h.client, 'default')).map((p) => p.metadata.name).sort();

describe('pod garbage collector', () => {
  test('deletes the oldest finished pods over the threshold, and pods of nodes that are gone after the quarantine', () =>
    withController(async (h) => {
      await h.client.resource(nodesResource).create(undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'here' } } as KubeObject);
      for (const [i, name] of ['done-a', 'done-b', 'done-c', 'done-d'].entries()) {
        const pod = await setPodRunning(h.client, h.clock, await newPod(h, name), true, 'here');
        await setPodPhase(h.client, pod, i % 2 ? 'Failed' : 'Succeeded');
        await h.clock.advance(60_000);
      }
      await setPodRunning(h.client, h.clock, await newPod(h, 'running'), true, 'here');
      await setPodRunning(h.client, h.clock, await newPod(h, 'orphan'), true, 'gone');

      const gc = createPodGarbageCollector({ client: h.client, informerFactory: h.factory, clock: h.clock, terminatedPodThreshold: 2 });
      await h.start(gc);
      await eventually(h.clock, async () => (await podNames(h)).join() === 'done-c,done-d,orphan,running', 'two oldest finished pods deleted', { advanceMs: 0 });
      // The node is missing from the cache but only believed gone after 40 s.
      await h.clock.advance(39_000);
      await new Promise((r) => setTimeout(r, 50));
      assert.ok((await podNames(h)).includes('orphan'), 'orphan kept during the quarantine');
      await h.clock.advance(2_000);
      await eventually(h.clock, async () => !(await podNames(h)).includes('orphan'), 'orphan deleted', { advanceMs: 0 });
      assert.deepEqual(await podNames(h), ['done-c', 'done-d', 'running']);
    }));

  test('an unscheduled pod held by a finalizer while being deleted is force-deleted and marked Failed', () =>
    withController(async (h) => {
      await pods(h.client).create('default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'held', finalizers: ['example.com/hold'] }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } as KubeObject);
      await pods(h.client).delete('default', 'held');
      await h.start(createPodGarbageCollector({ client: h.client, informerFactory: h.factory, clock: h.clock }));
      const pod = await eventually(h.clock, async () => {
        const p = await pods(h.client).get('default', 'held');
        return p.status?.phase === 'Failed' && p;
      }, 'marked Failed');
      assert.equal(pod.metadata.deletionGracePeriodSeconds, 0);
      assert.equal(pod.status.conditions.find((c: any) => c.type === 'DisruptionTarget')?.reason, 'DeletionByPodGC');
      // The finalizer's owner releases it: the pod is gone at once.
      await pods(h.client).patch('default', 'held', 'merge', { metadata: { finalizers: null } });
      await eventually(h.clock, async () => (await podNames(h)).length === 0, 'gone');
    }));
});
