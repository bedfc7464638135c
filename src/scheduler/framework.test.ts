import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Framework, fitErrorMessage, numFeasibleNodesToFind, schedulePod, status, type Status } from './framework.js';
import { buildSnapshot, newPodInfo } from './node-info.js';
import { defaultPluginConfigs } from './plugins/index.js';
import { makeNode, makePod } from './testing.js';
import { podRequests } from './resources.js';

const framework = () => new Framework(defaultPluginConfigs());

describe('schedulePod', () => {
  test('places a pod on the least allocated node', () => {
    const snapshot = buildSnapshot(
      [makeNode('busy', { cpu: '4' }), makeNode('idle', { cpu: '4' })],
      [makePod('existing', { cpu: '3', memory: '1Gi', nodeName: 'busy' })],
    );
    const result = schedulePod(snapshot, newPodInfo(makePod('web', { cpu: '500m', memory: '512Mi' })), framework());
    assert.ok('node' in result);
    assert.equal(result.node, 'idle');
  });

  test('reports a Kubernetes-shaped message when nothing fits', () => {
    const snapshot = buildSnapshot([
      makeNode('cp', { cpu: '8', taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] }),
      makeNode('a', { cpu: '1' }),
      makeNode('b', { cpu: '1' }),
    ]);
    const result = schedulePod(snapshot, newPodInfo(makePod('big', { cpu: '2' })), framework());
    assert.ok('failure' in result);
    assert.equal(result.failure.message, '0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu.');
    assert.deepEqual([...result.failure.unschedulablePlugins].sort(), ['NodeResourcesFit', 'TaintToleration']);
    assert.equal(result.failure.statuses.get('cp')?.code, 'UnschedulableAndUnresolvable');
    assert.equal(result.failure.statuses.get('a')?.code, 'Unschedulable');
  });

  test('no nodes at all', () => {
    const result = schedulePod(buildSnapshot([]), newPodInfo(makePod('p')), framework());
    assert.ok('failure' in result);
    assert.equal(result.failure.message, '0/0 nodes are available:');
  });

  test('a node counts every reason it has', () => {
    const snapshot = buildSnapshot([makeNode('a', { cpu: '1', memory: '1Gi' })]);
    const result = schedulePod(snapshot, newPodInfo(makePod('p', { cpu: '2', memory: '2Gi' })), framework());
    assert.ok('failure' in result);
    assert.equal(result.failure.message, '0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory.');
  });

  test('PreFilter failure is reported once, not per node', () => {
    const snapshot = buildSnapshot([makeNode('a'), makeNode('b')]);
    const pod = makePod('p', { spec: { volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'missing' } }] } });
    const result = schedulePod(snapshot, newPodInfo(pod), framework());
    assert.ok('failure' in result);
    assert.equal(result.failure.message, '0/2 nodes are available: persistentvolumeclaim "missing" not found.');
  });

  test('round-robins the start node and stops once enough feasible nodes are found', () => {
    const nodes = Array.from({ length: 200 }, (_, i) => makeNode(`n${i}`));
    const snapshot = buildSnapshot(nodes);
    const cursor = { nextStartNodeIndex: 0 };
    const r1 = schedulePod(snapshot, newPodInfo(makePod('p1')), framework(), { cursor });
    assert.ok('node' in r1);
    assert.equal(r1.evaluatedNodes, 100); // 200 nodes → 48% → 96, raised to the 100 minimum
    assert.equal(cursor.nextStartNodeIndex, 100);
    const r2 = schedulePod(snapshot, newPodInfo(makePod('p2')), framework(), { cursor });
    assert.ok('node' in r2);
    assert.equal(cursor.nextStartNodeIndex, 0);
  });

  test('ties are broken by the injected random source', () => {
    const snapshot = buildSnapshot([makeNode('a'), makeNode('b'), makeNode('c')]);
    const pick = (r: number) => {
      const res = schedulePod(snapshot, newPodInfo(makePod('p')), framework(), { random: () => r });
      assert.ok('node' in res);
      return res.node;
    };
    assert.equal(pick(0.99), 'a');
    assert.equal(pick(0), 'c');
  });
});

describe('numFeasibleNodesToFind', () => {
  for (const [nodes, pct, want] of [
    [50, 0, 50],
    [100, 0, 100],
    [1000, 0, 420],
    [5000, 0, 500],
    [6000, 0, 300],
    [1000, 10, 100],
    [1000, 100, 1000],
    [150, 10, 100],
  ] as const) {
    test(`${nodes} nodes at ${pct}% → ${want}`, () => assert.equal(numFeasibleNodesToFind(nodes, pct), want));
  }
});

describe('fitErrorMessage', () => {
  test('sorts the histogram as strings and appends the PostFilter message', () => {
    const statuses = new Map<string, Status>([
      ['a', status('Unschedulable', 'Insufficient cpu')],
      ['b', status('Unschedulable', 'Insufficient cpu')],
      ['c', status('UnschedulableAndUnresolvable', "node(s) didn't match Pod's node affinity/selector")],
    ]);
    assert.equal(
      fitErrorMessage(3, statuses, undefined, 'preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.'),
      "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod..",
    );
  });
});

describe('podRequests', () => {
  const container = (cpu: string, extra: Record<string, unknown> = {}) => ({ name: `c${cpu}`, image: 'x', resources: { requests: { cpu } }, ...extra });
  test('max of init containers vs the sum of app containers, plus overhead', () => {
    const pod = makePod('p', { spec: { containers: [container('100m'), container('200m')], initContainers: [container('500m')], overhead: { cpu: '50m' } } });
    assert.equal(podRequests(pod).milliCPU, 550);
  });
  test('sidecars (restartable init containers) run alongside later init containers and the app', () => {
    const pod = makePod('p', {
      spec: { containers: [container('100m')], initContainers: [container('200m', { restartPolicy: 'Always' }), container('300m')] },
    });
    // init phase: sidecar 200m + init 300m = 500m; run phase: app 100m + sidecar 200m = 300m.
    assert.equal(podRequests(pod).milliCPU, 500);
  });
  test('non-zero defaults apply to containers without requests', () => {
    const pod = makePod('p');
    assert.equal(podRequests(pod).milliCPU, 0);
    assert.equal(podRequests(pod, true).milliCPU, 100);
    assert.equal(podRequests(pod, true).memory, 200 * 1024 * 1024);
  });
  test('limits stand in for missing requests', () => {
    const pod = makePod('p', { spec: { containers: [{ name: 'a', image: 'x', resources: { limits: { cpu: '1', memory: '1Gi' } } }] } });
    assert.equal(podRequests(pod).milliCPU, 1000);
    assert.equal(podRequests(pod).memory, 1024 ** 3);
  });
});

describe('nominated pods', () => {
  test('a lower-priority pod cannot take room held for a nominated pod', () => {
    const snapshot = buildSnapshot([makeNode('a', { cpu: '1' }), makeNode('b', { cpu: '1' })], [makePod('busy', { cpu: '1', nodeName: 'b' })]);
    snapshot.setNominated(newPodInfo(makePod('preemptor', { cpu: '1', priority: 100 })), 'a');
    const low = schedulePod(snapshot, newPodInfo(makePod('low', { cpu: '500m', priority: 0 })), framework());
    assert.ok('failure' in low);
    assert.equal(low.failure.statuses.get('a')?.reasons[0], 'Insufficient cpu');
    const preemptor = schedulePod(snapshot, newPodInfo(makePod('preemptor', { cpu: '1', priority: 100 })), framework());
    assert.ok('node' in preemptor);
    assert.equal(preemptor.node, 'a');
    const higher = schedulePod(snapshot, newPodInfo(makePod('higher', { cpu: '500m', priority: 200 })), framework());
    assert.ok('node' in higher, 'higher-priority pods are not held back');
  });
});
