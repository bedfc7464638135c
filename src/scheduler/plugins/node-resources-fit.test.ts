import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSnapshot } from '../node-info.js';
import { filterResults, makeNode, makePod, scoreResults } from '../testing.js';
import { nodeResourcesFit } from './node-resources-fit.js';
import { balancedAllocation } from './balanced-allocation.js';

describe('NodeResourcesFit filter', () => {
  const cases: { name: string; node: Parameters<typeof makeNode>[1]; existing?: Parameters<typeof makePod>[1][]; pod: Parameters<typeof makePod>[1]; want: string }[] = [
    { name: 'fits', node: { cpu: '2', memory: '2Gi' }, pod: { cpu: '1', memory: '1Gi' }, want: '' },
    { name: 'exactly fits', node: { cpu: '2' }, existing: [{ cpu: '1' }], pod: { cpu: '1' }, want: '' },
    { name: 'cpu over by existing pods', node: { cpu: '2' }, existing: [{ cpu: '1500m' }], pod: { cpu: '1' }, want: 'Insufficient cpu' },
    { name: 'memory', node: { memory: '1Gi' }, pod: { memory: '2Gi' }, want: 'Insufficient memory' },
    { name: 'both', node: { cpu: '1', memory: '1Gi' }, pod: { cpu: '2', memory: '2Gi' }, want: 'Insufficient cpu, Insufficient memory' },
    { name: 'pod count', node: { pods: 1 }, existing: [{}], pod: {}, want: 'Too many pods' },
    { name: 'best-effort pod only needs a pod slot', node: { cpu: '0' }, pod: {}, want: '' },
    { name: 'extended resource missing on node', node: {}, pod: { extended: { 'example.com/gpu': '1' } }, want: 'Insufficient example.com/gpu' },
    { name: 'extended resource available', node: { extended: { 'example.com/gpu': '2' } }, existing: [{ extended: { 'example.com/gpu': '1' } }], pod: { extended: { 'example.com/gpu': '1' } }, want: '' },
    { name: 'extended resource used up', node: { extended: { 'example.com/gpu': '1' } }, existing: [{ extended: { 'example.com/gpu': '1' } }], pod: { extended: { 'example.com/gpu': '1' } }, want: 'Insufficient example.com/gpu' },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const snapshot = buildSnapshot([makeNode('n', c.node)], (c.existing ?? []).map((o, i) => makePod(`e${i}`, { ...o, nodeName: 'n' })));
      assert.equal(filterResults(nodeResourcesFit(), snapshot, makePod('p', c.pod)).n, c.want);
    });
  }

  test('pod overhead counts', () => {
    const snapshot = buildSnapshot([makeNode('n', { cpu: '1' })]);
    const pod = makePod('p', { cpu: '1', spec: { overhead: { cpu: '100m' } } });
    pod.spec.containers[0].resources = { requests: { cpu: '1' } };
    assert.equal(filterResults(nodeResourcesFit(), snapshot, pod).n, 'Insufficient cpu');
  });

  test('ignored extended resources are left to others', () => {
    const snapshot = buildSnapshot([makeNode('n')]);
    assert.equal(filterResults(nodeResourcesFit({ ignoredResources: ['example.com/gpu'] }), snapshot, makePod('p', { extended: { 'example.com/gpu': '1' } })).n, '');
  });
});

describe('NodeResourcesFit scoring', () => {
  // Kubernetes' documented LeastAllocated example: node1 4000m/10000 with pod 3000m/5000 → (25 + 50) / 2 = 37.
  const nodes = [makeNode('node1', { cpu: '4', memory: '10000' }), makeNode('node2', { cpu: '6', memory: '10000' })];
  const pod = makePod('p', { cpu: '3', memory: '5000' });
  test('LeastAllocated', () => {
    assert.deepEqual(scoreResults(nodeResourcesFit(), buildSnapshot(nodes), pod), { node1: 37, node2: 50 });
  });
  test('MostAllocated', () => {
    assert.deepEqual(scoreResults(nodeResourcesFit({ scoringStrategy: { type: 'MostAllocated' } }), buildSnapshot(nodes), pod), { node1: 62, node2: 50 });
  });
  test('RequestedToCapacityRatio with a bin-packing shape', () => {
    const plugin = nodeResourcesFit({ scoringStrategy: { type: 'RequestedToCapacityRatio', shape: [{ utilization: 0, score: 0 }, { utilization: 100, score: 10 }] } });
    assert.deepEqual(scoreResults(plugin, buildSnapshot(nodes), pod), { node1: 62, node2: 50 });
  });
  test('containers without requests score with the non-zero defaults', () => {
    const snapshot = buildSnapshot([makeNode('n', { cpu: '1', memory: '1000Mi' })]);
    // 100m of 1000m → 90; 200Mi of 1000Mi → 80; average 85.
    assert.deepEqual(scoreResults(nodeResourcesFit(), snapshot, makePod('p')), { n: 85 });
  });
  test('BalancedAllocation prefers equal cpu and memory fractions', () => {
    const snapshot = buildSnapshot([makeNode('balanced', { cpu: '4', memory: '4Gi' }), makeNode('skewed', { cpu: '4', memory: '16Gi' })]);
    const scores = scoreResults(balancedAllocation(), snapshot, makePod('p', { cpu: '2', memory: '2Gi' }));
    assert.equal(scores.balanced, 100);
    // cpu 0.5, memory 0.125 → std 0.1875 → 81.
    assert.equal(scores.skewed, 81);
  });
});
