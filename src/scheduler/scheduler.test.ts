// The scheduler: plugin decisions on in-memory snapshots (table-driven), and the component
// against a real in-process API server (binding, FailedScheduling events and conditions).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../api/types.js';
import { startTestApiServer } from '../apiserver/testing.js';
import { newNodeInfo, schedulePod } from './framework.js';
import { defaultFramework } from './plugins/index.js';
import { podRequests } from './resources.js';
import { createScheduler } from './scheduler.js';

function node(name: string, extra: { cpu?: string; memory?: string; pods?: string; labels?: Record<string, string>; taints?: object[]; unschedulable?: boolean } = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...(extra.labels ?? {}) } },
    spec: { taints: extra.taints, unschedulable: extra.unschedulable },
    status: { allocatable: { cpu: extra.cpu ?? '2', memory: extra.memory ?? '4Gi', pods: extra.pods ?? '110' }, conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

function pod(name: string, spec: Record<string, unknown> = {}, requests?: Record<string, string>): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'busybox', resources: requests ? { requests } : {} }], ...spec } };
}

describe('scheduling decisions', () => {
  const cases: { name: string; nodes: KubeObject[]; existing?: [string, KubeObject][]; pod: KubeObject; expect: string | RegExp }[] = [
    { name: 'fits the only node', nodes: [node('a')], pod: pod('p'), expect: 'a' },
    { name: 'no nodes', nodes: [], pod: pod('p'), expect: /^no nodes available to schedule pods$/ },
    { name: 'insufficient cpu everywhere', nodes: [node('a', { cpu: '1' }), node('b', { cpu: '1' })], pod: pod('p', {}, { cpu: '1500m' }), expect: /^0\/2 nodes are available: 2 Insufficient cpu\. preemption: 0\/2 nodes are available: 2 No preemption victims found for incoming pod\.$/ },
    { name: 'taint blocks one, resources the other', nodes: [node('a', { taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] }), node('b', { memory: '100Mi' })], pod: pod('p', {}, { memory: '1Gi' }), expect: /^0\/2 nodes are available: 1 Insufficient memory, 1 node\(s\) had untolerated taint \{node-role\.kubernetes\.io\/control-plane: \}\. preemption: 0\/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling\.$/ },
    { name: 'toleration lets it onto the tainted node', nodes: [node('a', { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] })], pod: pod('p', { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'db', effect: 'NoSchedule' }] }), expect: 'a' },
    { name: 'nodeSelector picks the labelled node', nodes: [node('a'), node('b', { labels: { disk: 'ssd' } })], pod: pod('p', { nodeSelector: { disk: 'ssd' } }), expect: 'b' },
    { name: 'required affinity with NotIn', nodes: [node('a', { labels: { zone: 'x' } }), node('b', { labels: { zone: 'y' } })], pod: pod('p', { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['x'] }] }] } } } }), expect: 'b' },
    { name: 'cordoned node is skipped', nodes: [node('a', { unschedulable: true }), node('b')], pod: pod('p'), expect: 'b' },
    { name: 'least allocated wins', nodes: [node('a'), node('b')], existing: [['a', pod('busy', {}, { cpu: '1500m', memory: '3Gi' })]], pod: pod('p', {}, { cpu: '100m' }), expect: 'b' },
    { name: 'host port conflict', nodes: [node('a'), node('b')], existing: [['a', { ...pod('web'), spec: { containers: [{ name: 'c', image: 'x', ports: [{ containerPort: 80, hostPort: 8080 }] }] } }]], pod: { ...pod('p'), spec: { containers: [{ name: 'c', image: 'x', ports: [{ containerPort: 80, hostPort: 8080 }] }] } }, expect: 'b' },
    { name: 'too many pods', nodes: [node('a', { pods: '1' })], existing: [['a', pod('x')]], pod: pod('p'), expect: /1 Too many pods/ },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const infos = c.nodes.map((n) => newNodeInfo(n, (c.existing ?? []).filter(([on]) => on === n.metadata.name).map(([, p]) => p)));
      const result = schedulePod({ nodes: infos }, c.pod, defaultFramework(), () => 0.5);
      if (typeof c.expect === 'string') assert.deepEqual('node' in result ? result.node : result.failure.message, c.expect);
      else assert.match('failure' in result ? result.failure.message : `bound to ${result.node}`, c.expect);
    });
  }

  test('effective requests: max of init containers vs sum of app containers, plus overhead', () => {
    const r = podRequests({
      metadata: {},
      spec: {
        initContainers: [{ name: 'i', resources: { requests: { cpu: '2' } } }],
        containers: [{ name: 'a', resources: { requests: { cpu: '500m', memory: '1Gi' } } }, { name: 'b', resources: { requests: { cpu: '250m' } } }],
        overhead: { cpu: '100m' },
      },
    });
    assert.equal(r.milliCpu, 2100);
    assert.equal(r.memory, 2 ** 30);
  });
});

describe('scheduler component', () => {
  test('binds pending pods and reports the ones that fit nowhere', async () => {
    const server = await startTestApiServer();
    const controller = new AbortController();
    try {
      const nodes = server.client.resource({ group: '', version: 'v1', resource: 'nodes', namespaced: false });
      const pods = server.client.resource({ group: '', version: 'v1', resource: 'pods', namespaced: true });
      await nodes.create(undefined, node('small', { cpu: '1' }));
      const scheduler = createScheduler({ client: server.client, unschedulableRetryMs: 100 });
      void scheduler.start(controller.signal);
      await pods.create('default', pod('fits', {}, { cpu: '500m' }));
      await pods.create('default', pod('too-big', {}, { cpu: '4' }));
      const wait = async (check: () => Promise<boolean>, what: string) => {
        const deadline = Date.now() + 5000;
        while (!(await check())) {
          if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
          await new Promise((r) => setTimeout(r, 20));
        }
      };
      await wait(async () => (await pods.get('default', 'fits')).spec.nodeName === 'small', 'fits bound to small');
      await wait(async () => (await pods.get('default', 'too-big')).status?.conditions?.some((c: { type: string; status: string }) => c.type === 'PodScheduled' && c.status === 'False'), 'too-big Unschedulable');
      const big = await pods.get('default', 'too-big');
      const condition = big.status.conditions.find((c: { type: string }) => c.type === 'PodScheduled');
      assert.equal(condition.reason, 'Unschedulable');
      assert.match(condition.message, /^0\/1 nodes are available: 1 Insufficient cpu\./);
      const events = await server.client.resource({ group: '', version: 'v1', resource: 'events', namespaced: true }).list('default');
      const reasons = events.items.map((e) => `${e.reason} ${e.involvedObject.name}`);
      await wait(async () => {
        const items = (await server.client.resource({ group: '', version: 'v1', resource: 'events', namespaced: true }).list('default')).items;
        return items.some((e) => e.reason === 'Scheduled' && e.involvedObject.name === 'fits') && items.some((e) => e.reason === 'FailedScheduling' && e.involvedObject.name === 'too-big');
      }, `events (saw ${reasons.join(', ')})`);
      // A bigger node arrives: the waiting pod is retried and lands there.
      await nodes.create(undefined, node('large', { cpu: '8' }));
      await wait(async () => (await pods.get('default', 'too-big')).spec.nodeName === 'large', 'too-big bound to large');
    } finally {
      controller.abort();
      await server.close();
    }
  });
});
