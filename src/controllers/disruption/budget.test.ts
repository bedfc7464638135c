// The budget arithmetic against Kubernetes' documented behaviour ("Specifying a Disruption
// Budget for your Application"): integers are taken as given, percentages of the owners'
// scale round up, and disruptionsAllowed = currentHealthy - desiredHealthy, never below 0.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/types.js';
import { countHealthyPods, disruptionsAllowed, expectedPodCount, pruneDisruptedPods } from './budget.js';

const now = Date.parse('2026-01-01T00:10:00Z');
const pod = (name: string, ready: boolean, extra: Record<string, unknown> = {}): KubeObject =>
  ({ metadata: { name, ...extra }, status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] } }) as KubeObject;
const pods = (ready: number, notReady = 0) => [...Array.from({ length: ready }, (_, i) => pod(`r${i}`, true)), ...Array.from({ length: notReady }, (_, i) => pod(`n${i}`, false))];
const pdb = (spec: Record<string, unknown>, status: Record<string, unknown> = {}) => ({ metadata: { name: 'b' }, spec, status }) as KubeObject;

describe('PodDisruptionBudget arithmetic', () => {
  const table: { name: string; spec: Record<string, unknown>; scale: number; ready: number; notReady?: number; expected: number; desired: number; allowed: number }[] = [
    { name: 'minAvailable 2 of 3 ready', spec: { minAvailable: 2 }, scale: 3, ready: 3, expected: 3, desired: 2, allowed: 1 },
    { name: 'minAvailable 1 of 2 ready (the drain case)', spec: { minAvailable: 1 }, scale: 2, ready: 2, expected: 2, desired: 1, allowed: 1 },
    { name: 'minAvailable counts matching pods, not scale', spec: { minAvailable: 2 }, scale: 5, ready: 2, notReady: 1, expected: 3, desired: 2, allowed: 0 },
    { name: 'minAvailable 50% of 7 rounds up to 4', spec: { minAvailable: '50%' }, scale: 7, ready: 7, expected: 7, desired: 4, allowed: 3 },
    { name: 'maxUnavailable 50% of 7 rounds up to 4 unavailable', spec: { maxUnavailable: '50%' }, scale: 7, ready: 7, expected: 7, desired: 3, allowed: 4 },
    { name: 'maxUnavailable 34% of 3 is 2 (1.02 rounds up)', spec: { maxUnavailable: '34%' }, scale: 3, ready: 3, expected: 3, desired: 1, allowed: 2 },
    { name: 'maxUnavailable 1 with one pod already down', spec: { maxUnavailable: 1 }, scale: 3, ready: 2, notReady: 1, expected: 3, desired: 2, allowed: 0 },
    { name: 'maxUnavailable 0 allows nothing', spec: { maxUnavailable: 0 }, scale: 3, ready: 3, expected: 3, desired: 3, allowed: 0 },
    { name: 'minAvailable 100% allows nothing', spec: { minAvailable: '100%' }, scale: 4, ready: 4, expected: 4, desired: 4, allowed: 0 },
    { name: 'minAvailable 0 allows every healthy pod', spec: { minAvailable: 0 }, scale: 3, ready: 3, expected: 3, desired: 0, allowed: 3 },
    { name: 'maxUnavailable larger than scale floors desiredHealthy at 0', spec: { maxUnavailable: 5 }, scale: 3, ready: 3, expected: 3, desired: 0, allowed: 3 },
    { name: 'no matching pods', spec: { minAvailable: 1 }, scale: 0, ready: 0, expected: 0, desired: 1, allowed: 0 },
    { name: 'maxUnavailable with a scaled-to-zero owner', spec: { maxUnavailable: 1 }, scale: 0, ready: 1, expected: 0, desired: 0, allowed: 0 },
  ];
  for (const row of table) {
    test(row.name, () => {
      const matched = pods(row.ready, row.notReady);
      const counts = expectedPodCount(pdb(row.spec), matched, () => row.scale);
      assert.deepEqual(counts, { expectedPods: row.expected, desiredHealthy: row.desired });
      const healthy = countHealthyPods(matched, {}, now);
      assert.equal(healthy, row.ready);
      assert.equal(disruptionsAllowed(healthy, counts.desiredHealthy, counts.expectedPods), row.allowed);
    });
  }

  test('an integer minAvailable never asks the owners for their scale', () => {
    assert.deepEqual(expectedPodCount(pdb({ minAvailable: 1 }), pods(1), () => assert.fail('scale consulted')), { expectedPods: 1, desiredHealthy: 1 });
    assert.throws(() => expectedPodCount(pdb({ minAvailable: '50%' }), pods(1), () => { throw new Error('found no controllers for pod "r0"'); }), /found no controllers/);
  });

  test('pods being deleted and pods evicted in the last two minutes are not healthy', () => {
    const matched = [pod('a', true), pod('b', true, { deletionTimestamp: '2026-01-01T00:09:00Z' }), pod('c', true), pod('d', true)];
    const budget = pdb({ minAvailable: 1 }, { disruptedPods: { b: '2026-01-01T00:09:00Z', c: '2026-01-01T00:09:30Z', d: '2026-01-01T00:07:59Z' } });
    const pruned = pruneDisruptedPods(budget, matched, now);
    // b is being deleted (the eviction took effect); d was evicted over two minutes ago and is still here.
    assert.deepEqual(pruned.disruptedPods, { c: '2026-01-01T00:09:30Z' });
    assert.deepEqual(pruned.expired.map((p) => p.metadata.name), ['d']);
    assert.equal(pruned.recheckAtMs, Date.parse('2026-01-01T00:11:30Z'));
    assert.equal(countHealthyPods(matched, pruned.disruptedPods, now), 2);
    // Once c's two minutes are up it counts again.
    assert.equal(countHealthyPods(matched, pruned.disruptedPods, Date.parse('2026-01-01T00:11:31Z')), 3);
  });
});
