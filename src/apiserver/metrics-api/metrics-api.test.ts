import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/types.js';
import { startTestApiServer } from '../testing.js';
import { createMetricsApi, type Summary } from './metrics-api.js';
import { formatCpu, formatMemory } from './quantity.js';

test('quantities are canonical like resource.Quantity', () => {
  assert.equal(formatCpu(12_000_000), '12m');
  assert.equal(formatCpu(1_283_047), '1283047n');
  assert.equal(formatCpu(1_500_000), '1500u');
  assert.equal(formatCpu(2e9), '2');
  assert.equal(formatCpu(0), '0');
  assert.equal(formatMemory(34 * 1024 * 1024), '34Mi');
  assert.equal(formatMemory(19400 * 1024), '19400Ki');
  assert.equal(formatMemory(1023), '1023');
});

const node = (name: string, ready = true): KubeObject => ({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { role: 'worker' } }, status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] } });
const pod = (name: string, uid: string, labels: Record<string, string> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid, labels } });
const time = '2026-01-01T00:00:00Z';

function summaryOf(nodeName: string, busyNanoCores: number): Summary {
  return {
    node: { nodeName, cpu: { time, usageNanoCores: 250_000_000 }, memory: { time, workingSetBytes: 512 * 1024 * 1024 } },
    pods: [
      { podRef: { name: 'web', namespace: 'default', uid: 'u1' }, containers: [{ name: 'app', cpu: { time, usageNanoCores: busyNanoCores }, memory: { time, workingSetBytes: 34 * 1024 * 1024 } }] },
      // a pod the API no longer has: left out, as metrics-server does
      { podRef: { name: 'gone', namespace: 'default', uid: 'u9' }, containers: [{ name: 'app', cpu: { time, usageNanoCores: 1 }, memory: { time, workingSetBytes: 1 } }] },
    ],
  };
}

test('node and pod metrics come from Ready nodes’ summaries, cached for the TTL', async () => {
  let now = 0;
  const fetched: string[] = [];
  let busy = 12_000_000;
  const api = createMetricsApi({
    listNodes: async () => [node('a'), node('b', false)],
    listPods: async () => [pod('web', 'u1', { app: 'web' }), pod('other', 'u2')],
    fetchSummary: async (n) => (fetched.push(n.metadata.name!), summaryOf(n.metadata.name!, busy)),
    now: () => now,
  });
  const nodes = await api.nodeMetrics();
  assert.deepEqual(nodes.map((n) => [n.metadata.name, n.usage, n.window]), [['a', { cpu: '250m', memory: '512Mi' }, '10s']]);
  const pods = await api.podMetrics('default');
  assert.deepEqual(pods.map((p) => [p.metadata.name, p.containers]), [['web', [{ name: 'app', usage: { cpu: '12m', memory: '34Mi' } }]]]);
  assert.deepEqual(fetched, ['a'], 'one scrape serves both reads; NotReady nodes are not scraped');
  busy = 40_000_000;
  now = 11_000;
  assert.equal((await api.podMetrics('default'))[0]!.containers[0]!.usage.cpu, '40m');
  assert.deepEqual(fetched, ['a', 'a']);
});

test('served through the API server: discovery, list with selectors, get, NotFound', async () => {
  const metrics = createMetricsApi({
    listNodes: async () => [node('a')],
    listPods: async () => [pod('web', 'u1', { app: 'web' })],
    fetchSummary: async (n) => summaryOf(n.metadata.name!, 5_000_000),
    now: () => Date.parse(time),
  });
  const server = await startTestApiServer({ subresources: metrics.handlers });
  try {
    const groups = await server.client.getPath('/apis');
    assert.ok(groups.groups.some((g: any) => g.name === 'metrics.k8s.io' && g.preferredVersion.version === 'v1beta1'));
    const resources = await server.client.getPath('/apis/metrics.k8s.io/v1beta1');
    assert.deepEqual(resources.resources.map((r: any) => [r.name, r.kind, r.namespaced, r.verbs]), [['nodes', 'NodeMetrics', false, ['get', 'list']], ['pods', 'PodMetrics', true, ['get', 'list']]]);
    const list = await server.client.getPath('/apis/metrics.k8s.io/v1beta1/namespaces/default/pods', { labelSelector: 'app=web' });
    assert.equal(list.kind, 'PodMetricsList');
    assert.deepEqual(list.items.map((p: any) => p.containers[0].usage), [{ cpu: '5m', memory: '34Mi' }]);
    const none = await server.client.getPath('/apis/metrics.k8s.io/v1beta1/namespaces/default/pods', { labelSelector: 'app=db' });
    assert.deepEqual(none.items, []);
    const one = await server.client.getPath('/apis/metrics.k8s.io/v1beta1/nodes/a');
    assert.equal(one.kind, 'NodeMetrics');
    assert.equal(one.usage.cpu, '250m');
    await assert.rejects(server.client.getPath('/apis/metrics.k8s.io/v1beta1/nodes/zz'), (err: any) => err.code === 404 || err.status === 404 || /not found/.test(String(err.message)));
  } finally {
    await server.close();
  }
});
