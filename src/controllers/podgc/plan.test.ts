import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/types.js';
import { planPodGc } from './plan.js';

const pod = (name: string, minute: number, extra: { phase?: string; reason?: string; nodeName?: string; deleting?: boolean } = {}): KubeObject =>
  ({
    metadata: { name, namespace: 'default', creationTimestamp: `2026-01-01T00:${String(minute).padStart(2, '0')}:00Z`, ...(extra.deleting ? { deletionTimestamp: '2026-01-01T01:00:00Z' } : {}) },
    spec: { nodeName: extra.nodeName },
    status: { phase: extra.phase ?? 'Running', reason: extra.reason },
  }) as KubeObject;
const names = (pods: KubeObject[]) => pods.map((p) => p.metadata.name);
const allNodes = () => true;

describe('pod gc plan', () => {
  const finished = [pod('s3', 3, { phase: 'Succeeded', nodeName: 'n' }), pod('f1', 1, { phase: 'Failed', nodeName: 'n' }), pod('s2', 2, { phase: 'Succeeded', nodeName: 'n' }), pod('e9', 9, { phase: 'Failed', reason: 'Evicted', nodeName: 'n' })];
  const running = [pod('r0', 0, { nodeName: 'n' }), pod('r5', 5, { nodeName: 'n' })];

  test('finished pods within the threshold stay; running pods never count', () => {
    assert.deepEqual(names(planPodGc([...finished, ...running], allNodes, 4).terminated), []);
    assert.deepEqual(names(planPodGc([...finished, ...running], allNodes, 5).terminated), []);
  });
  test('over the threshold: evicted first, then oldest first, just enough to get back to it', () => {
    assert.deepEqual(names(planPodGc([...finished, ...running], allNodes, 3).terminated), ['e9']);
    assert.deepEqual(names(planPodGc([...finished, ...running], allNodes, 1).terminated), ['e9', 'f1', 's2']);
  });
  test('a threshold of 0 or less turns collection of finished pods off', () => {
    assert.deepEqual(names(planPodGc(finished, allNodes, 0).terminated), []);
    assert.deepEqual(names(planPodGc(finished, allNodes, -1).terminated), []);
  });
  test('pods on missing nodes are orphans; unscheduled pods being deleted are collected; others are left', () => {
    const plan = planPodGc(
      [pod('on-gone', 1, { nodeName: 'gone' }), pod('on-here', 1, { nodeName: 'here' }), pod('pending', 1), pod('pending-deleting', 1, { deleting: true }), pod('bound-deleting', 1, { nodeName: 'here', deleting: true })],
      (n) => n === 'here',
      12500,
    );
    assert.deepEqual(names(plan.orphaned), ['on-gone']);
    assert.deepEqual(names(plan.unscheduledTerminating), ['pending-deleting']);
    assert.deepEqual(plan.terminated, []);
  });
});
