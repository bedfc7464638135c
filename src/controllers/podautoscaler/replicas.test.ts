import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/types.js';
import { resourceAverageValueReplicas, resourceUtilizationReplicas, type PodMetrics } from './replicas.js';
import { BehaviorState } from './behavior.js';

const now = Date.parse('2026-01-01T01:00:00Z');
const longAgo = new Date(now - 3600_000).toISOString();

function pod(name: string, opts: { cpuRequest?: string; ready?: boolean; phase?: string; deleting?: boolean; startTime?: string; readySince?: string } = {}): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: 'default', ...(opts.deleting ? { deletionTimestamp: longAgo } : {}) },
    spec: { containers: [{ name: 'app', resources: { requests: { cpu: opts.cpuRequest ?? '1', memory: '100Mi' } } }] },
    status: { phase: opts.phase ?? 'Running', startTime: opts.startTime ?? longAgo, conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True', lastTransitionTime: opts.readySince ?? longAgo }] },
  };
}

/** Usage in millicores per pod name. */
function usage(values: Record<string, number>): PodMetrics {
  return new Map(Object.entries(values).map(([k, v]) => [k, { value: v, timestamp: now - 1000, windowMs: 10_000 }]));
}

describe('replicas for cpu utilization (Kubernetes HPA docs)', () => {
  const cases: { name: string; current: number; target: number; pods: KubeObject[]; metrics: PodMetrics; want: number; utilization?: number }[] = [
    // docs: currentMetricValue 200m, desired 100m → double
    { name: 'doubles at 200% of target', current: 1, target: 50, pods: [pod('a')], metrics: usage({ a: 1000 }), want: 2, utilization: 100 },
    // docs: 50m against 100m → halve
    { name: 'halves at half the target', current: 4, target: 50, pods: ['a', 'b', 'c', 'd'].map((n) => pod(n)), metrics: usage({ a: 250, b: 250, c: 250, d: 250 }), want: 2, utilization: 25 },
    { name: 'within the 10% tolerance nothing changes', current: 3, target: 50, pods: ['a', 'b', 'c'].map((n) => pod(n)), metrics: usage({ a: 540, b: 540, c: 540 }), want: 3, utilization: 54 },
    { name: 'just past the tolerance scales', current: 3, target: 50, pods: ['a', 'b', 'c'].map((n) => pod(n)), metrics: usage({ a: 560, b: 560, c: 560 }), want: 4, utilization: 56 },
    { name: 'kubectl autoscale example: 35% of 50% scales 4 → 3', current: 4, target: 50, pods: ['a', 'b', 'c', 'd'].map((n) => pod(n)), metrics: usage({ a: 350, b: 350, c: 350, d: 350 }), want: 3, utilization: 35 },
    // missing metrics on scale down count as 100% of request
    { name: 'missing pod counts as 100% when scaling down', current: 3, target: 50, pods: ['a', 'b', 'c'].map((n) => pod(n)), metrics: usage({ a: 100, b: 100 }), want: 3, utilization: 10 },
    // missing metrics on scale up count as 0%
    { name: 'missing pod counts as 0% when scaling up', current: 3, target: 50, pods: ['a', 'b', 'c'].map((n) => pod(n)), metrics: usage({ a: 900, b: 900 }), want: 4, utilization: 90 },
    // unready pods count as 0% when scaling up
    { name: 'unready pod counts as 0% when scaling up', current: 3, target: 50, pods: [pod('a'), pod('b'), pod('c', { ready: false, startTime: new Date(now - 60_000).toISOString(), readySince: new Date(now - 60_000).toISOString() })], metrics: usage({ a: 1000, b: 1000, c: 1000 }), want: 4, utilization: 100 },
    { name: 'deleting and failed pods are ignored', current: 2, target: 50, pods: [pod('a'), pod('b', { deleting: true }), pod('c', { phase: 'Failed' })], metrics: usage({ a: 1000, b: 0, c: 0 }), want: 2, utilization: 100 },
    { name: 'filling in may dampen but never reverse the direction', current: 2, target: 50, pods: [pod('a'), pod('b'), pod('c', { phase: 'Pending' })], metrics: usage({ a: 600, b: 600 }), want: 2, utilization: 60 },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const r = resourceUtilizationReplicas({ currentReplicas: c.current, targetUtilization: c.target, resource: 'cpu', pods: c.pods, metrics: c.metrics, nowMs: now });
      assert.equal(r.replicas, c.want);
      if (c.utilization !== undefined) assert.equal(r.utilization, c.utilization);
    });
  }

  test('a container without a request is an error', () => {
    const p = pod('a');
    delete p.spec.containers[0].resources.requests.cpu;
    assert.throws(() => resourceUtilizationReplicas({ currentReplicas: 1, targetUtilization: 50, resource: 'cpu', pods: [p], metrics: usage({ a: 100 }), nowMs: now }), /missing request for cpu in container app of Pod a/);
  });

  test('no metrics at all is an error', () => {
    assert.throws(() => resourceUtilizationReplicas({ currentReplicas: 1, targetUtilization: 50, resource: 'cpu', pods: [pod('a')], metrics: new Map(), nowMs: now }), /no metrics returned/);
  });
});

test('average value target: 300m per pod against 100m triples', () => {
  const r = resourceAverageValueReplicas({ currentReplicas: 2, targetAverageValue: 100, resource: 'cpu', pods: [pod('a'), pod('b')], metrics: usage({ a: 300, b: 300 }), nowMs: now });
  assert.equal(r.replicas, 6);
  assert.equal(r.rawAverageValue, 300);
});

describe('behavior', () => {
  const key = 'default/web';
  test('scale-down waits out the default 300 s stabilization window', () => {
    const state = new BehaviorState();
    const t0 = now;
    let d = state.normalize(key, { currentReplicas: 4, desiredReplicas: 4, minReplicas: 1, maxReplicas: 10, behavior: undefined, nowMs: t0 });
    assert.equal(d.replicas, 4);
    d = state.normalize(key, { currentReplicas: 4, desiredReplicas: 1, minReplicas: 1, maxReplicas: 10, behavior: undefined, nowMs: t0 + 60_000 });
    assert.equal(d.replicas, 4);
    assert.equal(d.ableToScale.reason, 'ScaleDownStabilized');
    d = state.normalize(key, { currentReplicas: 4, desiredReplicas: 1, minReplicas: 1, maxReplicas: 10, behavior: undefined, nowMs: t0 + 301_000 });
    assert.equal(d.replicas, 1);
  });

  test('default scale-up policy: at most max(+4 pods, +100%) per 15 s', () => {
    const state = new BehaviorState();
    let d = state.normalize(key, { currentReplicas: 2, desiredReplicas: 20, minReplicas: 1, maxReplicas: 30, behavior: undefined, nowMs: now });
    assert.equal(d.replicas, 6);
    assert.deepEqual([d.scalingLimited.status, d.scalingLimited.reason], ['True', 'ScaleUpLimit']);
    state.recordScale(key, { from: 2, to: 6, behavior: undefined, nowMs: now });
    d = state.normalize(key, { currentReplicas: 6, desiredReplicas: 20, minReplicas: 1, maxReplicas: 30, behavior: undefined, nowMs: now + 5000 });
    assert.equal(d.replicas, 6, 'the period started at 2 replicas');
    d = state.normalize(key, { currentReplicas: 6, desiredReplicas: 20, minReplicas: 1, maxReplicas: 30, behavior: undefined, nowMs: now + 16_000 });
    assert.equal(d.replicas, 12);
  });

  test('maxReplicas and minReplicas limit with TooManyReplicas / TooFewReplicas', () => {
    const state = new BehaviorState();
    let d = state.normalize(key, { currentReplicas: 4, desiredReplicas: 7, minReplicas: 1, maxReplicas: 5, behavior: undefined, nowMs: now });
    assert.deepEqual([d.replicas, d.scalingLimited.reason], [5, 'TooManyReplicas']);
    const down = { scaleDown: { stabilizationWindowSeconds: 0 } };
    d = new BehaviorState().normalize(key, { currentReplicas: 4, desiredReplicas: 1, minReplicas: 2, maxReplicas: 5, behavior: down, nowMs: now });
    assert.deepEqual([d.replicas, d.scalingLimited.reason], [2, 'TooFewReplicas']);
  });

  test('scale-down Pods policy and disabled scale-up', () => {
    const behavior = { scaleDown: { stabilizationWindowSeconds: 0, policies: [{ type: 'Pods' as const, value: 1, periodSeconds: 60 }] }, scaleUp: { selectPolicy: 'Disabled' as const } };
    const state = new BehaviorState();
    let d = state.normalize(key, { currentReplicas: 5, desiredReplicas: 1, minReplicas: 1, maxReplicas: 10, behavior, nowMs: now });
    assert.deepEqual([d.replicas, d.scalingLimited.reason], [4, 'ScaleDownLimit']);
    d = state.normalize(key, { currentReplicas: 5, desiredReplicas: 9, minReplicas: 1, maxReplicas: 10, behavior, nowMs: now });
    assert.equal(d.replicas, 5);
  });
});
