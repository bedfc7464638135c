import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/types.js';
import { comparePodsForDeletion, podsToDelete } from './ranking.js';
import { slowStartBatch, slowStartBatchSizes } from '../framework/slow-start.js';

const now = Date.parse('2026-01-01T12:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

function pod(name: string, o: { node?: string; phase?: string; ready?: boolean; readySince?: number; created?: number; restarts?: number; cost?: string } = {}): KubeObject {
  return {
    metadata: { name, creationTimestamp: iso(o.created ?? now - 3600_000), ...(o.cost ? { annotations: { 'controller.kubernetes.io/pod-deletion-cost': o.cost } } : {}) },
    spec: { nodeName: o.node },
    status: {
      phase: o.phase ?? 'Pending',
      conditions: o.ready === undefined ? [] : [{ type: 'Ready', status: o.ready ? 'True' : 'False', lastTransitionTime: iso(o.readySince ?? now - 3600_000) }],
      containerStatuses: [{ restartCount: o.restarts ?? 0 }],
    },
  };
}

test('deletion order follows Kubernetes ActivePods ranking', () => {
  const cases: [string, KubeObject, KubeObject][] = [
    ['unassigned before assigned', pod('a'), pod('b', { node: 'n1' })],
    ['Pending before Unknown', pod('a', { node: 'n', phase: 'Pending' }), pod('b', { node: 'n', phase: 'Unknown' })],
    ['Unknown before Running', pod('a', { node: 'n', phase: 'Unknown' }), pod('b', { node: 'n', phase: 'Running' })],
    ['not ready before ready', pod('a', { node: 'n', phase: 'Running', ready: false }), pod('b', { node: 'n', phase: 'Running', ready: true })],
    ['lower deletion cost first', pod('a', { node: 'n', phase: 'Running', ready: true, cost: '-5' }), pod('b', { node: 'n', phase: 'Running', ready: true })],
    ['ready for less time first', pod('a', { node: 'n', phase: 'Running', ready: true, readySince: now - 10_000 }), pod('b', { node: 'n', phase: 'Running', ready: true, readySince: now - 3600_000 })],
    ['more restarts first', pod('a', { node: 'n', phase: 'Running', restarts: 5 }), pod('b', { node: 'n', phase: 'Running', restarts: 1 })],
    ['newer first', pod('a', { created: now - 10_000 }), pod('b', { created: now - 3600_000 })],
  ];
  for (const [name, first, second] of cases) {
    assert.ok(comparePodsForDeletion(first, 0, second, 0, now) < 0, name);
    assert.ok(comparePodsForDeletion(second, 0, first, 0, now) > 0, `${name} (reversed)`);
  }
  // Ages within the same power of two tie (LogarithmicScaleDown), falling through to creation time.
  const a = pod('a', { node: 'n', phase: 'Running', ready: true, readySince: now - 3000_000, created: now - 3600_000 });
  const b = pod('b', { node: 'n', phase: 'Running', ready: true, readySince: now - 3100_000, created: now - 3600_000 });
  assert.equal(comparePodsForDeletion(a, 0, b, 0, now), 0);
});

test('doubled-up pods are deleted first', () => {
  const p1 = pod('p1', { node: 'n1', phase: 'Running', ready: true });
  const p2 = pod('p2', { node: 'n1', phase: 'Running', ready: true });
  const p3 = pod('p3', { node: 'n2', phase: 'Running', ready: true });
  const chosen = podsToDelete([p3, p1, p2], [p1, p2, p3], 1, now);
  assert.ok(['p1', 'p2'].includes(chosen[0]!.metadata.name!));
});

test('slow start batches grow 1, 2, 4, … and stop at the first failing batch', async () => {
  assert.deepEqual(slowStartBatchSizes(10, 1), [1, 2, 4, 3]);
  assert.deepEqual(slowStartBatchSizes(1, 1), [1]);
  assert.deepEqual(slowStartBatchSizes(0, 1), []);
  let calls = 0;
  const result = await slowStartBatch(10, 1, async (i) => {
    calls++;
    if (i === 2) throw new Error('quota exceeded');
  });
  assert.equal(calls, 3);
  assert.equal(result.successes, 2);
  assert.match(String(result.error), /quota/);
});
