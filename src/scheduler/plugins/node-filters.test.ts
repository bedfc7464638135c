// NodeAffinity, TaintToleration, NodeUnschedulable, NodeName, NodePorts, ImageLocality.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSnapshot } from '../node-info.js';
import { filterResults, makeNode, makePod, scoreResults } from '../testing.js';
import { nodeAffinity } from './node-affinity.js';
import { taintToleration, toleratesTaint } from './taint-toleration.js';
import { nodeUnschedulable } from './node-unschedulable.js';
import { nodeName } from './node-name.js';
import { nodePorts } from './node-ports.js';
import { imageLocality } from './image-locality.js';

const affinityMiss = "node(s) didn't match Pod's node affinity/selector";

describe('NodeAffinity', () => {
  const nodes = [
    makeNode('a', { labels: { zone: 'z1', gen: '3', disk: 'ssd' } }),
    makeNode('b', { labels: { zone: 'z2', gen: '5' } }),
    makeNode('c', { labels: {} }),
  ];
  const required = (...matchExpressions: any[]) => ({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions }] } } } });
  const cases: [string, Record<string, unknown>, string[]][] = [
    ['nodeSelector', { nodeSelector: { zone: 'z1' } }, ['a']],
    ['In', required({ key: 'zone', operator: 'In', values: ['z1', 'z2'] }), ['a', 'b']],
    ['NotIn (matches nodes without the label)', required({ key: 'zone', operator: 'NotIn', values: ['z1'] }), ['b', 'c']],
    ['Exists', required({ key: 'disk', operator: 'Exists' }), ['a']],
    ['DoesNotExist', required({ key: 'disk', operator: 'DoesNotExist' }), ['b', 'c']],
    ['Gt', required({ key: 'gen', operator: 'Gt', values: ['4'] }), ['b']],
    ['Lt', required({ key: 'gen', operator: 'Lt', values: ['4'] }), ['a']],
    ['expressions in a term are ANDed', required({ key: 'zone', operator: 'Exists' }, { key: 'gen', operator: 'Gt', values: ['4'] }), ['b']],
    [
      'terms are ORed',
      { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['z1'] }] }, { matchExpressions: [{ key: 'gen', operator: 'In', values: ['5'] }] }] } } } },
      ['a', 'b'],
    ],
    ['matchFields metadata.name', { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['c'] }] }] } } } }, ['c']],
    ['an empty term matches nothing', { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{}] } } } }, []],
    ['nodeSelector and affinity must both match', { nodeSelector: { zone: 'z2' }, ...required({ key: 'disk', operator: 'Exists' }) }, []],
  ];
  for (const [name, spec, fits] of cases) {
    test(name, () => {
      const results = filterResults(nodeAffinity(), buildSnapshot(nodes), makePod('p', { spec }));
      for (const node of ['a', 'b', 'c']) assert.equal(results[node], fits.includes(node) ? '' : affinityMiss, `node ${node}`);
    });
  }
  test('preferred terms score by weight, normalized', () => {
    const spec = {
      affinity: {
        nodeAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            { weight: 2, preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['z1'] }] } },
            { weight: 6, preference: { matchExpressions: [{ key: 'gen', operator: 'Exists' }] } },
          ],
        },
      },
    };
    assert.deepEqual(scoreResults(nodeAffinity(), buildSnapshot(nodes), makePod('p', { spec })), { a: 100, b: 75, c: 0 });
  });
});

describe('TaintToleration', () => {
  const taint = (key: string, effect: string, value?: string) => ({ key, value, effect });
  test('toleration matching', () => {
    const t = taint('dedicated', 'NoSchedule', 'gpu');
    assert.equal(toleratesTaint({ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }, t), true);
    assert.equal(toleratesTaint({ key: 'dedicated', value: 'gpu' }, t), true, 'empty effect matches all effects, operator defaults to Equal');
    assert.equal(toleratesTaint({ key: 'dedicated', operator: 'Exists' }, t), true);
    assert.equal(toleratesTaint({ operator: 'Exists' }, t), true, 'empty key with Exists tolerates everything');
    assert.equal(toleratesTaint({ key: 'dedicated', value: 'cpu' }, t), false);
    assert.equal(toleratesTaint({ key: 'dedicated', operator: 'Exists', effect: 'NoExecute' }, t), false);
  });
  test('NoSchedule and NoExecute filter, PreferNoSchedule does not', () => {
    const snapshot = buildSnapshot([
      makeNode('ns', { taints: [taint('node-role.kubernetes.io/control-plane', 'NoSchedule')] }),
      makeNode('ne', { taints: [taint('dedicated', 'NoExecute', 'db')] }),
      makeNode('pref', { taints: [taint('spot', 'PreferNoSchedule', 'true')] }),
    ]);
    assert.deepEqual(filterResults(taintToleration(), snapshot, makePod('p')), {
      ns: 'node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }',
      ne: 'node(s) had untolerated taint {dedicated: db}',
      pref: '',
    });
    const tolerant = makePod('t', { spec: { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'db', effect: 'NoExecute' }] } });
    assert.equal(filterResults(taintToleration(), snapshot, tolerant).ne, '');
  });
  test('PreferNoSchedule lowers the score', () => {
    const snapshot = buildSnapshot([makeNode('clean'), makeNode('one', { taints: [taint('a', 'PreferNoSchedule')] }), makeNode('two', { taints: [taint('a', 'PreferNoSchedule'), taint('b', 'PreferNoSchedule')] })]);
    assert.deepEqual(scoreResults(taintToleration(), snapshot, makePod('p')), { clean: 100, one: 50, two: 0 });
  });
});

describe('NodeUnschedulable, NodeName, NodePorts', () => {
  test('cordoned nodes take only pods tolerating the unschedulable taint', () => {
    const snapshot = buildSnapshot([makeNode('cordoned', { unschedulable: true }), makeNode('ok')]);
    assert.deepEqual(filterResults(nodeUnschedulable(), snapshot, makePod('p')), { cordoned: 'node(s) were unschedulable', ok: '' });
    const ds = makePod('ds', { spec: { tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] } });
    assert.equal(filterResults(nodeUnschedulable(), snapshot, ds).cordoned, '');
  });
  test('NodeName', () => {
    const snapshot = buildSnapshot([makeNode('a'), makeNode('b')]);
    assert.deepEqual(filterResults(nodeName(), snapshot, makePod('p', { nodeName: 'b' })), { a: "node(s) didn't match the requested node name", b: '' });
  });
  test('host ports conflict on protocol and port, with 0.0.0.0 matching any address', () => {
    const withPort = (name: string, port: number, o: { ip?: string; protocol?: string; nodeName?: string } = {}) =>
      makePod(name, { nodeName: o.nodeName, spec: { containers: [{ name: 'c', image: 'x', ports: [{ containerPort: 80, hostPort: port, hostIP: o.ip, protocol: o.protocol }] }] } });
    const snapshot = buildSnapshot(
      [makeNode('a'), makeNode('b'), makeNode('c')],
      [withPort('e1', 8080, { nodeName: 'a' }), withPort('e2', 8080, { nodeName: 'b', protocol: 'UDP' }), withPort('e3', 8080, { nodeName: 'c', ip: '10.0.0.1' })],
    );
    const busy = "node(s) didn't have free ports for the requested pod ports";
    assert.deepEqual(filterResults(nodePorts(), snapshot, withPort('p', 8080)), { a: busy, b: '', c: busy });
    assert.deepEqual(filterResults(nodePorts(), snapshot, withPort('q', 8080, { ip: '10.0.0.2' })), { a: busy, b: '', c: '' });
  });
});

describe('ImageLocality', () => {
  test('nodes holding a large image score higher', () => {
    const image = { names: ['docker.io/library/nginx:latest'], sizeBytes: 500 * 1024 * 1024 };
    const snapshot = buildSnapshot([makeNode('has', { images: [image] }), makeNode('lacks')]);
    const scores = scoreResults(imageLocality(), snapshot, makePod('p', { image: 'nginx' }));
    assert.equal(scores.lacks, 0);
    // 500 MiB spread over half the nodes → 250 MiB; (250 - 23) / (1000 - 23) of 100 → 23.
    assert.equal(scores.has, 23);
  });
});
