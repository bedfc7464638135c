// The metrics API against a real kubelet's /stats/summary over mutual TLS (fake runtime with
// configured usage, so the numbers are known).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startTestApiServer } from '../testing.js';
import { createCertificateAuthority, issueClientCertificate, issueServingCertificate } from '../auth/pki.js';
import { FakeNode, FakeRuntime, fakeAnnotations } from '../../runtime/fake/fake-runtime.js';
import { waitFor } from '../../runtime/contract.js';
import { createKubelet } from '../../kubelet/kubelet.js';
import { noopPodNetwork } from '../../kubelet/network.js';
import { TestImageService, withImages } from '../../kubelet/testing.js';
import { createMetricsApi, kubeletSummaryClient } from './metrics-api.js';

test('pod and node metrics from a kubelet summary fetched with the API server client certificate', async () => {
  const ca = await createCertificateAuthority();
  const kubeletCert = await issueServingCertificate(ca, { ips: ['127.0.0.1'], commonName: 'node-a' });
  const apiClientCert = await issueClientCertificate(ca, { user: 'kube-apiserver-kubelet-client', groups: ['system:masters'] });
  const server = await startTestApiServer();
  // the kubelet mounts the projected service-account volume, which needs the root CA ConfigMap
  await server.client.resource({ group: '', version: 'v1', resource: 'configmaps', namespaced: true }).create('default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-root-ca.crt' }, data: { 'ca.crt': 'x' } } as any);
  const dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'kubelet-metrics-'));
  const runtime = withImages(new FakeRuntime(new FakeNode()), new TestImageService(new Set(['busybox:1.36'])));
  const kubelet = createKubelet({
    transport: server.transport(), nodeName: 'node-a', runtime, network: noopPodNetwork({ nodeIP: '127.0.0.1' }), dataDir, nodeIP: '127.0.0.1', canMount: false, relistPeriodMs: 100, log: () => {},
    serving: { certPem: kubeletCert.certPem, keyPem: kubeletCert.keyPem, clientCaPem: ca.certPem, host: '127.0.0.1' },
  });
  await kubelet.start();
  const pods = server.client.resource({ group: '', version: 'v1', resource: 'pods', namespaced: true });
  const nodes = server.client.resource({ group: '', version: 'v1', resource: 'nodes', namespaced: false });
  const metrics = createMetricsApi({
    listNodes: async () => (await nodes.list()).items,
    listPods: async (ns) => (await pods.list(ns)).items,
    fetchSummary: kubeletSummaryClient({ caPem: ca.certPem, clientCertPem: apiClientCert.certPem, clientKeyPem: apiClientCert.keyPem }),
    now: () => Date.now(),
    cacheTtlMs: 0,
  });
  try {
    await pods.create('default', {
      apiVersion: 'v1', kind: 'Pod',
      metadata: { name: 'busy', annotations: { [fakeAnnotations.cpuNanoCores]: '250000000', [fakeAnnotations.memoryBytes]: String(34 * 1024 * 1024) } },
      spec: { nodeName: 'node-a', containers: [{ name: 'c', image: 'busybox:1.36' }] },
    } as any);
    await waitFor('running', async () => ((await pods.get('default', 'busy')) as any).status?.phase === 'Running');
    await waitFor('node ready', async () => (await metrics.nodeMetrics()).length === 1);
    const podMetrics = await metrics.podMetrics('default');
    assert.deepEqual(podMetrics.map((p) => [p.metadata.name, p.containers]), [['busy', [{ name: 'c', usage: { cpu: '250m', memory: '34Mi' } }]]]);
    const [node] = await metrics.nodeMetrics();
    assert.equal(node!.metadata.name, 'node-a');
    assert.match(node!.usage.memory, /^\d+(Ki|Mi|Gi)?$/);
    assert.ok(Number.parseInt(node!.usage.memory) > 0, 'the node reports the host memory working set');
  } finally {
    await kubelet.stop();
    await server.close();
    await fsp.rm(dataDir, { recursive: true, force: true });
  }
});
