import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/types.js';
import { computeTemplateHash, safeEncodeString } from './hash.js';
import { maxSurge, maxUnavailable, newReplicaSetReplicas, proportionalSizes, resolveFenceposts, scaledValue } from './rolling.js';

test('maxSurge rounds up, maxUnavailable rounds down, never both zero', () => {
  const cases: [number | string | undefined, number | string | undefined, number, [number, number]][] = [
    [undefined, undefined, 4, [1, 1]],
    ['25%', '25%', 3, [1, 0]],
    ['25%', '25%', 10, [3, 2]],
    [0, 0, 5, [0, 1]],
    ['0%', '0%', 5, [0, 1]],
    ['30%', '30%', 10, [3, 3]],
    [1, '0%', 1, [1, 0]],
    ['50%', 2, 3, [2, 2]],
  ];
  for (const [surge, unavailable, desired, expected] of cases) {
    assert.deepEqual(resolveFenceposts(surge, unavailable, desired), expected, `${surge}/${unavailable} of ${desired}`);
  }
  assert.throws(() => scaledValue('abc', 10, true), /not a percentage/);
});

const deployment = (replicas: number, surge: number | string = '25%', unavailable: number | string = '25%', status: any = {}): KubeObject => ({
  metadata: { name: 'd' },
  spec: { replicas, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: surge, maxUnavailable: unavailable } } },
  status,
});
const rs = (name: string, replicas: number, created: string, annotations: Record<string, string> = {}): KubeObject => ({
  metadata: { name, creationTimestamp: created, annotations },
  spec: { replicas },
});

test('maxUnavailable is capped at replicas and zero for Recreate or zero replicas', () => {
  assert.equal(maxUnavailable(deployment(2, 0, 5)), 2);
  assert.equal(maxUnavailable(deployment(0, 0, 5)), 0);
  assert.equal(maxUnavailable({ metadata: {}, spec: { replicas: 3, strategy: { type: 'Recreate' } } }), 0);
  assert.equal(maxSurge({ metadata: {}, spec: { replicas: 3, strategy: { type: 'Recreate' } } }), 0);
});

test('the new ReplicaSet grows only within maxSurge', () => {
  const d = deployment(10, 3, 2);
  const old = rs('old', 10, '2026-01-01T00:00:00Z');
  const fresh = rs('new', 0, '2026-01-01T00:01:00Z');
  assert.equal(newReplicaSetReplicas(d, [old, fresh], fresh), 3);
  const grown = rs('new', 3, '2026-01-01T00:01:00Z');
  assert.equal(newReplicaSetReplicas(d, [old, grown], grown), 3);
  const shrunk = rs('old', 6, '2026-01-01T00:00:00Z');
  assert.equal(newReplicaSetReplicas(d, [shrunk, grown], grown), 7);
});

test('proportional scaling splits a resize across ReplicaSets by size (Kubernetes docs example)', () => {
  // 10 replicas, maxSurge 3, a rollout stuck at old=8 new=5, then scaled to 15: +3 old, +2 new.
  const d = deployment(15, 3, 2, { replicas: 13 });
  const annotations = { 'deployment.kubernetes.io/max-replicas': '13' };
  const sizes = proportionalSizes(d, [rs('old', 8, '2026-01-01T00:00:00Z', annotations), rs('new', 5, '2026-01-01T00:01:00Z', annotations)]);
  assert.deepEqual(Object.fromEntries(sizes), { old: 11, new: 7 });
  // Scaling down to 0 removes everything.
  const zero = proportionalSizes(deployment(0, 3, 2, { replicas: 13 }), [rs('old', 8, '2026-01-01T00:00:00Z', annotations), rs('new', 5, '2026-01-01T00:01:00Z', annotations)]);
  assert.deepEqual(Object.fromEntries(zero), { old: 0, new: 0 });
});

test('pod-template-hash is stable, safe-encoded and changes with the template or collisionCount', () => {
  const template = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx:1' }] } };
  const reordered = { spec: { containers: [{ image: 'nginx:1', name: 'c' }] }, metadata: { labels: { app: 'web' } } };
  const hash = computeTemplateHash(template);
  assert.match(hash, /^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
  assert.equal(computeTemplateHash(reordered), hash);
  assert.notEqual(computeTemplateHash({ ...template, spec: { containers: [{ name: 'c', image: 'nginx:2' }] } }), hash);
  assert.notEqual(computeTemplateHash(template, 1), hash);
  assert.equal(safeEncodeString('0123456789'), '456789bcdf');
});
