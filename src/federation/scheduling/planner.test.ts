// KubeFed's replica planner semantics, table-driven (weights, min/max, "*", tie-break by name,
// rebalance keeping what runs).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { planReplicas, type ClusterPreferences } from './planner.js';

interface Case {
  name: string;
  total: number;
  prefs?: Record<string, ClusterPreferences>;
  ready: string[];
  current?: Record<string, number>;
  rebalance?: boolean;
  want: Record<string, number>;
}

const cases: Case[] = [
  { name: 'no preferences spreads evenly, the remainder to the first name', total: 9, ready: ['b', 'a'], want: { a: 5, b: 4 } },
  { name: 'equal weights round up in name order', total: 50, prefs: { '*': { weight: 1 } }, ready: ['a', 'b', 'c'], want: { a: 17, b: 17, c: 16 } },
  { name: 'a single replica goes to the first ranked cluster', total: 1, prefs: { '*': { weight: 1 } }, ready: ['c', 'b', 'a'], want: { a: 1, b: 0, c: 0 } },
  { name: 'weights 2:1', total: 9, prefs: { a: { weight: 2 }, b: { weight: 1 } }, ready: ['a', 'b'], want: { a: 6, b: 3 } },
  { name: 'higher weight ranks before name', total: 1, prefs: { a: { weight: 1 }, z: { weight: 3 } }, ready: ['a', 'z'], want: { a: 0, z: 1 } },
  { name: 'weight 0 gets only its minimum', total: 50, prefs: { '*': { minReplicas: 2, weight: 0 } }, ready: ['a', 'b', 'c'], want: { a: 2, b: 2, c: 2 } },
  { name: 'minimums larger than the total are served in rank order', total: 50, prefs: { '*': { minReplicas: 20 } }, ready: ['a', 'b', 'c'], want: { a: 20, b: 20, c: 10 } },
  { name: 'maxReplicas caps, the rest is not placed', total: 50, prefs: { '*': { weight: 1, maxReplicas: 3 } }, ready: ['a', 'b', 'c'], want: { a: 3, b: 3, c: 3 } },
  { name: 'a capped cluster leaves its share to the others', total: 10, prefs: { a: { weight: 1, maxReplicas: 2 }, b: { weight: 1 } }, ready: ['a', 'b'], want: { a: 2, b: 8 } },
  {
    name: 'minimum first, then weights',
    total: 9,
    prefs: { a: { minReplicas: 4, weight: 1 }, b: { weight: 1 } },
    ready: ['a', 'b'],
    // a: 4 + ceil(5/2)=3 → 7, b: min(3, 2) → 2
    want: { a: 7, b: 2 },
  },
  { name: 'named clusters only: an unnamed ready cluster gets nothing', total: 4, prefs: { a: { weight: 1 } }, ready: ['a', 'b'], want: { a: 4 } },
  { name: 'the named entry wins over "*"', total: 6, prefs: { '*': { weight: 1 }, b: { weight: 2 } }, ready: ['a', 'b'], want: { a: 2, b: 4 } },
  { name: 'a cluster that is not ready is not planned', total: 9, prefs: { a: { weight: 1 }, b: { weight: 1 } }, ready: ['b'], want: { b: 9 } },
  { name: 'no ready cluster, empty plan', total: 9, ready: [], want: {} },
  { name: 'zero replicas', total: 0, ready: ['a', 'b'], want: { a: 0, b: 0 } },
  // rebalance false: keep what runs.
  { name: 'failover without rebalance: the lost replicas go where the plan wants more', total: 9, ready: ['b', 'c'], current: { a: 5, b: 4 }, want: { b: 5, c: 4 } },
  { name: 'a cluster coming back gets nothing without rebalance', total: 9, ready: ['a', 'b', 'c'], current: { b: 5, c: 4 }, want: { a: 0, b: 5, c: 4 } },
  { name: 'a cluster coming back gets its share with rebalance', total: 9, ready: ['a', 'b', 'c'], current: { b: 5, c: 4 }, rebalance: true, want: { a: 3, b: 3, c: 3 } },
  { name: 'scale up without rebalance fills toward the plan', total: 12, ready: ['a', 'b'], current: { a: 5, b: 4 }, want: { a: 6, b: 6 } },
  { name: 'scale down without rebalance removes where more runs than planned', total: 5, ready: ['a', 'b'], current: { a: 5, b: 4 }, want: { a: 3, b: 2 } },
  { name: 'scale down below the plan of some cluster removes from the lowest ranked', total: 2, prefs: { a: { weight: 1 }, b: { weight: 1 } }, ready: ['a', 'b'], current: { a: 1, b: 8 }, want: { a: 1, b: 1 } },
  { name: 'an unbalanced placement is kept without rebalance', total: 9, ready: ['a', 'b'], current: { a: 9 }, want: { a: 9, b: 0 } },
  { name: 'and spread again with rebalance', total: 9, ready: ['a', 'b'], current: { a: 9 }, rebalance: true, want: { a: 5, b: 4 } },
  { name: 'current above a new maximum is cut to it', total: 9, prefs: { a: { weight: 1, maxReplicas: 3 }, b: { weight: 1 } }, ready: ['a', 'b'], current: { a: 9 }, want: { a: 3, b: 6 } },
];

describe('planReplicas', () => {
  for (const c of cases) {
    test(c.name, () => {
      const plan = planReplicas(c.total, c.prefs, c.ready, c.current, c.rebalance ?? false);
      assert.deepEqual(plan, c.want);
      if (Object.keys(c.want).length) assert.ok(Object.values(plan).reduce((a, b) => a + b, 0) <= c.total, 'never more than the total');
    });
  }

  test('deterministic whatever the order of ready clusters', () => {
    const a = planReplicas(7, { '*': { weight: 1 } }, ['c', 'a', 'b'], undefined, true);
    const b = planReplicas(7, { '*': { weight: 1 } }, ['b', 'c', 'a'], undefined, true);
    assert.deepEqual(a, b);
    assert.deepEqual(a, { a: 3, b: 3, c: 1 });
  });
});
