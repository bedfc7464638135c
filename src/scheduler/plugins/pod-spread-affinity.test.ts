// PodTopologySpread and InterPodAffinity, from the examples in Kubernetes' documentation.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSnapshot } from '../node-info.js';
import { filterResults, makeNode, makePod, scoreResults } from '../testing.js';
import { podTopologySpread } from './pod-topology-spread.js';
import { interPodAffinity } from './inter-pod-affinity.js';

const zoneNodes = () => [
  makeNode('n1', { labels: { zone: 'zoneA' } }),
  makeNode('n2', { labels: { zone: 'zoneA' } }),
  makeNode('n3', { labels: { zone: 'zoneB' } }),
  makeNode('n4', { labels: { zone: 'zoneB' } }),
];
const fooPod = (name: string, nodeName?: string) => makePod(name, { labels: { foo: 'bar' }, nodeName });
const spread = (extra: Record<string, unknown> = {}) => ({
  topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { foo: 'bar' } }, ...extra }],
});

describe('PodTopologySpread', () => {
  test('the documented 3-pods-in-zoneA example: the 4th goes to zoneB', () => {
    // zoneA holds 2 matching pods, zoneB 1 (n3) — placing in zoneA gives skew 3 - 1 = 2 > 1.
    const snapshot = buildSnapshot(zoneNodes(), [fooPod('p1', 'n1'), fooPod('p2', 'n2'), fooPod('p3', 'n3')]);
    const results = filterResults(podTopologySpread(), snapshot, makePod('new', { labels: { foo: 'bar' }, spec: spread() }));
    const skewed = "node(s) didn't match pod topology spread constraints";
    assert.deepEqual(results, { n1: skewed, n2: skewed, n3: '', n4: '' });
  });
  test('nodes without the topology key are unresolvable', () => {
    const snapshot = buildSnapshot([...zoneNodes(), makeNode('bare')]);
    const results = filterResults(podTopologySpread(), snapshot, makePod('new', { labels: { foo: 'bar' }, spec: spread() }));
    assert.equal(results.bare, "node(s) didn't match pod topology spread constraints (missing required label)");
    assert.equal(results.n1, '');
  });
  test('minDomains: with fewer domains than required, the global minimum is 0', () => {
    const snapshot = buildSnapshot(zoneNodes(), [fooPod('p1', 'n1'), fooPod('p3', 'n3')]);
    const pod = makePod('new', { labels: { foo: 'bar' }, spec: spread({ minDomains: 3 }) });
    const skewed = "node(s) didn't match pod topology spread constraints";
    // each zone has 1; a 2nd in either zone gives 2 - 0 = 2 > 1.
    assert.deepEqual(filterResults(podTopologySpread(), snapshot, pod), { n1: skewed, n2: skewed, n3: skewed, n4: skewed });
  });
  test('nodeAffinityPolicy Honor leaves out domains the pod cannot use', () => {
    const snapshot = buildSnapshot([...zoneNodes(), makeNode('n5', { labels: { zone: 'zoneC' } })], [fooPod('p1', 'n1'), fooPod('p3', 'n3')]);
    const base = { ...spread(), nodeSelector: { zone: 'zoneA' } };
    // Honor (default): zoneC is not a domain for this pod, min is 1 → zoneA gets 2 - 1 = 1 ≤ 1.
    assert.equal(filterResults(podTopologySpread(), snapshot, makePod('new', { labels: { foo: 'bar' }, spec: base })).n1, '');
    // Ignore: empty zoneC counts, min 0 → skew 2.
    const ignore = { ...spread({ nodeAffinityPolicy: 'Ignore' }), nodeSelector: { zone: 'zoneA' } };
    assert.equal(filterResults(podTopologySpread(), snapshot, makePod('new', { labels: { foo: 'bar' }, spec: ignore })).n1, "node(s) didn't match pod topology spread constraints");
  });
  test('nodeTaintsPolicy Honor leaves out tainted domains', () => {
    const nodes = [...zoneNodes(), makeNode('n5', { labels: { zone: 'zoneC' }, taints: [{ key: 'x', effect: 'NoSchedule' }] })];
    const snapshot = buildSnapshot(nodes, [fooPod('p1', 'n1'), fooPod('p3', 'n3')]);
    assert.equal(filterResults(podTopologySpread(), snapshot, makePod('new', { labels: { foo: 'bar' }, spec: spread({ nodeTaintsPolicy: 'Honor' }) })).n1, '');
    assert.notEqual(filterResults(podTopologySpread(), snapshot, makePod('new', { labels: { foo: 'bar' }, spec: spread() })).n1, '');
  });
  test('ScheduleAnyway scores emptier domains higher', () => {
    const snapshot = buildSnapshot(zoneNodes(), [fooPod('p1', 'n1'), fooPod('p2', 'n2'), fooPod('p3', 'n3')]);
    const pod = makePod('new', { labels: { foo: 'bar' }, spec: spread({ whenUnsatisfiable: 'ScheduleAnyway' }) });
    const scores = scoreResults(podTopologySpread(), snapshot, pod);
    assert.ok(scores.n3 > scores.n1 && scores.n4 === scores.n3 && scores.n1 === scores.n2, JSON.stringify(scores));
  });
  test('system default spreading for ReplicaSet pods prefers less loaded hosts', () => {
    const owned = (name: string, nodeName?: string) => {
      const p = makePod(name, { labels: { app: 'web' }, nodeName });
      p.metadata.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-1', uid: 'rs', controller: true }];
      return p;
    };
    const nodes = zoneNodes().map((n) => ({ ...n, metadata: { ...n.metadata, labels: { ...n.metadata.labels, 'topology.kubernetes.io/zone': n.metadata.labels!.zone } } }));
    const snapshot = buildSnapshot(nodes, [owned('a', 'n1'), owned('b', 'n1')]);
    const scores = scoreResults(podTopologySpread(), snapshot, owned('new'));
    assert.ok(scores.n1 < scores.n2 && scores.n2 < scores.n3, JSON.stringify(scores));
  });
});

describe('InterPodAffinity', () => {
  const term = (labels: Record<string, string>, topologyKey = 'zone') => ({ labelSelector: { matchLabels: labels }, topologyKey });
  test('required affinity: only domains that hold a matching pod', () => {
    const snapshot = buildSnapshot(zoneNodes(), [makePod('cache', { labels: { app: 'cache' }, nodeName: 'n3' })]);
    const pod = makePod('web', { spec: { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'cache' })] } } } });
    const miss = "node(s) didn't match pod affinity rules";
    assert.deepEqual(filterResults(interPodAffinity(), snapshot, pod), { n1: miss, n2: miss, n3: '', n4: '' });
  });
  test('the first pod of a self-affine group may go anywhere', () => {
    const snapshot = buildSnapshot(zoneNodes());
    const pod = makePod('web', { labels: { app: 'web' }, spec: { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'web' })] } } } });
    assert.deepEqual(Object.values(filterResults(interPodAffinity(), snapshot, pod)), ['', '', '', '']);
  });
  test('required anti-affinity of the incoming pod', () => {
    const snapshot = buildSnapshot(zoneNodes(), [makePod('w1', { labels: { app: 'web' }, nodeName: 'n1' })]);
    const pod = makePod('w2', { labels: { app: 'web' }, spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'web' }, 'kubernetes.io/hostname')] } } } });
    assert.deepEqual(filterResults(interPodAffinity(), snapshot, pod), { n1: "node(s) didn't match pod anti-affinity rules", n2: '', n3: '', n4: '' });
  });
  test("existing pods' anti-affinity keeps the incoming pod out of their zone", () => {
    const loner = makePod('loner', { nodeName: 'n1', spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'noisy' })] } } } });
    const snapshot = buildSnapshot(zoneNodes(), [loner]);
    const refused = "node(s) didn't satisfy existing pods anti-affinity rules";
    assert.deepEqual(filterResults(interPodAffinity(), snapshot, makePod('n', { labels: { app: 'noisy' } })), { n1: refused, n2: refused, n3: '', n4: '' });
    assert.deepEqual(Object.values(filterResults(interPodAffinity(), snapshot, makePod('q', { labels: { app: 'quiet' } }))), ['', '', '', '']);
  });
  test('namespaces: terms look only in the pod namespace unless told otherwise', () => {
    const snapshot = buildSnapshot(zoneNodes(), [makePod('cache', { namespace: 'other', labels: { app: 'cache' }, nodeName: 'n3' })]);
    const miss = "node(s) didn't match pod affinity rules";
    const own = makePod('web', { spec: { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'cache' })] } } } });
    // No matching pod in "default": the pod does not match its own term either, so nowhere fits.
    assert.deepEqual(Object.values(filterResults(interPodAffinity(), snapshot, own)), [miss, miss, miss, miss]);
    const all = makePod('web', { spec: { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ ...term({ app: 'cache' }), namespaceSelector: {} }] } } } });
    assert.deepEqual(filterResults(interPodAffinity(), snapshot, all), { n1: miss, n2: miss, n3: '', n4: '' });
  });
  test('preferred affinity and anti-affinity score domains', () => {
    const snapshot = buildSnapshot(zoneNodes(), [makePod('cache', { labels: { app: 'cache' }, nodeName: 'n1' }), makePod('batch', { labels: { app: 'batch' }, nodeName: 'n3' })]);
    const pod = makePod('web', {
      spec: {
        affinity: {
          podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, podAffinityTerm: term({ app: 'cache' }) }] },
          podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 5, podAffinityTerm: term({ app: 'batch' }) }] },
        },
      },
    });
    assert.deepEqual(scoreResults(interPodAffinity(), snapshot, pod), { n1: 100, n2: 100, n3: 0, n4: 0 });
  });
});
