// VolumeBinding and DefaultPreemption's pure dry run.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Framework, schedulePod } from '../framework.js';
import { buildSnapshot, newPodInfo } from '../node-info.js';
import { filterResults, makeNode, makePod } from '../testing.js';
import { defaultPluginConfigs } from './index.js';
import { dryRunPreemption } from './default-preemption.js';
import { volumeBinding } from './volume-binding.js';

const pvc = (name: string, spec: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, namespace: 'default', uid: `uid-${name}` }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, ...spec } });
const localPV = (name: string, node: string, size = '5Gi', className = 'local') => ({
  apiVersion: 'v1',
  kind: 'PersistentVolume',
  metadata: { name },
  spec: {
    capacity: { storage: size },
    accessModes: ['ReadWriteOnce'],
    storageClassName: className,
    nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] }] } },
  },
  status: { phase: 'Available' },
});
const sc = (name: string, provisioner: string, extra: Record<string, unknown> = {}) => ({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name }, provisioner, volumeBindingMode: 'WaitForFirstConsumer', ...extra });
const withClaim = (claim: string) => makePod('p', { spec: { volumes: [{ name: 'data', persistentVolumeClaim: { claimName: claim } }] } });
const storage = (objs: { pvcs?: any[]; pvs?: any[]; scs?: any[] }) => ({
  pvcs: new Map((objs.pvcs ?? []).map((o) => [`default/${o.metadata.name}`, o])),
  pvs: new Map((objs.pvs ?? []).map((o) => [o.metadata.name, o])),
  storageClasses: new Map((objs.scs ?? []).map((o) => [o.metadata.name, o])),
});

describe('VolumeBinding', () => {
  const nodes = () => [makeNode('a', { labels: { zone: 'z1' } }), makeNode('b', { labels: { zone: 'z2' } })];
  test('a bound claim pins the pod to its PV nodeAffinity', () => {
    const snapshot = buildSnapshot(nodes(), [], storage({ pvcs: [pvc('data', { volumeName: 'pv-a', storageClassName: 'local' })], pvs: [localPV('pv-a', 'a')] }));
    assert.deepEqual(filterResults(volumeBinding(), snapshot, withClaim('data')), { a: '', b: 'node(s) had volume node affinity conflict' });
  });
  test('a claim bound to a missing PV', () => {
    const snapshot = buildSnapshot(nodes(), [], storage({ pvcs: [pvc('data', { volumeName: 'gone' })] }));
    assert.equal(filterResults(volumeBinding(), snapshot, withClaim('data')).a, 'node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)');
  });
  test('WaitForFirstConsumer with static local PVs: only nodes with a fitting PV', () => {
    const s = storage({ pvcs: [pvc('data', { storageClassName: 'local' })], pvs: [localPV('pv-b', 'b'), localPV('pv-tiny', 'a', '100Mi')], scs: [sc('local', 'kubernetes.io/no-provisioner')] });
    assert.deepEqual(filterResults(volumeBinding(), buildSnapshot(nodes(), [], s), withClaim('data')), { a: "node(s) didn't find available persistent volumes to bind", b: '' });
  });
  test('WaitForFirstConsumer with a provisioner: allowedTopologies decide', () => {
    const s = storage({
      pvcs: [pvc('data', { storageClassName: 'fast' })],
      scs: [sc('fast', 'example.com/csi', { allowedTopologies: [{ matchLabelExpressions: [{ key: 'zone', values: ['z2'] }] }] })],
    });
    assert.deepEqual(filterResults(volumeBinding(), buildSnapshot(nodes(), [], s), withClaim('data')), { a: "node(s) didn't find available persistent volumes to bind", b: '' });
  });
  test('unbound Immediate claims and missing claims fail PreFilter', () => {
    const s = storage({ pvcs: [pvc('data', { storageClassName: 'std' })], scs: [{ ...sc('std', 'x'), volumeBindingMode: 'Immediate' }] });
    assert.equal(filterResults(volumeBinding(), buildSnapshot(nodes(), [], s), withClaim('data')).a, 'prefilter: pod has unbound immediate PersistentVolumeClaims');
    assert.equal(filterResults(volumeBinding(), buildSnapshot(nodes(), [], s), withClaim('nope')).a, 'prefilter: persistentvolumeclaim "nope" not found');
  });
});

describe('DefaultPreemption dry run', () => {
  const framework = new Framework(defaultPluginConfigs());
  const run = (nodes: any[], pods: any[], preemptor: any, pdbs: any[] = []) => {
    const snapshot = buildSnapshot(nodes, pods);
    const info = newPodInfo(preemptor);
    const result = schedulePod(snapshot, info, framework);
    assert.ok('failure' in result, 'the preemptor must not fit without preemption');
    return dryRunPreemption(result.state, info, result.failure.statuses, framework, pdbs);
  };

  test('evicts the fewest, lowest-priority pods', () => {
    const r = run(
      [makeNode('a', { cpu: '2' }), makeNode('b', { cpu: '2' })],
      [
        makePod('a-low', { cpu: '1', priority: 10, nodeName: 'a' }),
        makePod('a-mid', { cpu: '1', priority: 50, nodeName: 'a' }),
        makePod('b-mid1', { cpu: '1', priority: 50, nodeName: 'b' }),
        makePod('b-mid2', { cpu: '1', priority: 50, nodeName: 'b' }),
      ],
      makePod('urgent', { cpu: '1', priority: 100 }),
    );
    assert.equal(r.candidate?.nodeName, 'a');
    assert.deepEqual(r.candidate?.victims.map((v) => v.pod.metadata.name), ['a-low']);
  });

  test('never evicts pods of equal or higher priority', () => {
    const r = run([makeNode('a', { cpu: '1' })], [makePod('peer', { cpu: '1', priority: 100, nodeName: 'a' })], makePod('urgent', { cpu: '1', priority: 100 }));
    assert.equal(r.candidate, undefined);
    assert.equal(r.message, '0/1 nodes are available: 1 No preemption victims found for incoming pod.');
  });

  test('unresolvable nodes are not helped; victims that are not enough report the filter reason', () => {
    const r = run(
      [makeNode('tainted', { cpu: '8', taints: [{ key: 'x', effect: 'NoSchedule' }] }), makeNode('small', { cpu: '1' })],
      [makePod('low', { cpu: '500m', priority: 0, nodeName: 'small' })],
      makePod('big', { cpu: '2', priority: 100 }),
    );
    assert.equal(r.message, '0/2 nodes are available: 1 Insufficient cpu, 1 Preemption is not helpful for scheduling.');
  });

  test('preemptionPolicy Never', () => {
    const preemptor = makePod('polite', { cpu: '1', priority: 100, spec: { preemptionPolicy: 'Never' } });
    const r = run([makeNode('a', { cpu: '1' })], [makePod('low', { cpu: '1', priority: 0, nodeName: 'a' })], preemptor);
    assert.equal(r.message, 'not eligible due to preemptionPolicy=Never.');
  });

  test('prefers nodes whose victims do not violate a PodDisruptionBudget', () => {
    const pdb = { metadata: { name: 'guard', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'db' } } }, status: { disruptionsAllowed: 0 } };
    const r = run(
      [makeNode('a', { cpu: '1' }), makeNode('b', { cpu: '1' })],
      [makePod('db', { cpu: '1', priority: 0, labels: { app: 'db' }, nodeName: 'a' }), makePod('batch', { cpu: '1', priority: 5, nodeName: 'b' })],
      makePod('urgent', { cpu: '1', priority: 100 }),
      [pdb],
    );
    assert.equal(r.candidate?.nodeName, 'b');
    assert.equal(r.candidate?.pdbViolations, 0);
  });
});

describe('preemption with inter-pod constraints', () => {
  const framework = new Framework(defaultPluginConfigs());
  test("evicting the pod whose anti-affinity refuses the preemptor makes room", () => {
    const refuser = makePod('refuser', {
      priority: 0,
      nodeName: 'a',
      spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'kubernetes.io/hostname' }] } } },
    });
    const snapshot = buildSnapshot([makeNode('a')], [refuser]);
    const info = newPodInfo(makePod('web', { labels: { app: 'web' }, priority: 100 }));
    const result = schedulePod(snapshot, info, framework);
    assert.ok('failure' in result);
    assert.equal(result.failure.message, "0/1 nodes are available: 1 node(s) didn't satisfy existing pods anti-affinity rules.");
    const r = dryRunPreemption(result.state, info, result.failure.statuses, framework, []);
    assert.deepEqual(r.candidate?.victims.map((v) => v.pod.metadata.name), ['refuser']);
  });
  test('a nominated pod counts toward topology spread of lower-priority pods', () => {
    const nodes = [makeNode('a', { labels: { zone: 'z1' } }), makeNode('b', { labels: { zone: 'z2' } })];
    const snapshot = buildSnapshot(nodes, [makePod('b1', { labels: { app: 'w' }, nodeName: 'b' })]);
    const spreadSpec = { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'w' } } }] };
    snapshot.setNominated(newPodInfo(makePod('held', { labels: { app: 'w' }, priority: 100, spec: spreadSpec })), 'a');
    const result = schedulePod(snapshot, newPodInfo(makePod('low', { labels: { app: 'w' }, priority: 0, spec: spreadSpec })), framework);
    // With the nominated pod in z1 both zones hold one; a second in z1 (2 − 1) still fits, as does z2.
    assert.ok('node' in result);
    snapshot.setNominated(newPodInfo(makePod('held2', { labels: { app: 'w' }, priority: 100 })), 'a');
    const crowded = schedulePod(snapshot, newPodInfo(makePod('low2', { labels: { app: 'w' }, priority: 0, spec: spreadSpec })), framework);
    // z1 would hold 3 against 1 with both nominated pods; z2 fails the pass without them (2 against 0).
    assert.ok('failure' in crowded);
    assert.equal(crowded.failure.statuses.get('a')?.reasons[0], "node(s) didn't match pod topology spread constraints");
  });
});
