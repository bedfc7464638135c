// A real server (in this process, so the rotation can be driven directly): the expiry gauge is
// on /metrics and a re-issued serving certificate is served without a restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import https from 'node:https';
import { X509Certificate } from 'node:crypto';
import { startServer, type ServerConfig } from '../server.js';
import { loadKubeconfig } from '../../client/transport.js';
import { forceRotateLeafCertificates } from './cert-rotation.js';

function get(url: string, path: string, kube: ReturnType<typeof loadKubeconfig>): Promise<{ status: number; body: string; serial: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(new URL(path, url), { ca: kube.caPem, cert: kube.clientCertPem, key: kube.clientKeyPem, agent: false }, (res) => {
      let body = '';
      const serial = (res.socket as import('node:tls').TLSSocket).getPeerCertificate().serialNumber;
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, serial }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('certificate expiry gauge and in-place serving certificate reload', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'navarch-ops-'));
  const config: ServerConfig = {
    dataDir, port: 0, bindAddress: '127.0.0.1', datastore: 'sqlite', etcdEndpoints: [], nodeName: 'ops-test', disableAgent: true,
    disable: ['ingress', 'controllers', 'scheduler', 'dns', 'dashboard'], runtime: 'fake', nodeIP: '127.0.0.1', clusterCidr: '10.42.0.0/16',
    serviceCidr: '10.43.0.0/16', clusterDns: '10.43.0.10', nodeLabels: {}, nodeTaints: [], kubeletPort: 0, networkName: 'navops',
    clusterDnsNodePort: 0, ingressHttpPort: 0, ingressHttpsPort: 0, ingressBindAddress: '127.0.0.1',
  };
  const server = await startServer(config);
  try {
    const url = `https://127.0.0.1:${new URL(server.url).port}`;
    const kube = loadKubeconfig(server.kubeconfigPath);
    const metrics = await get(url, '/metrics', kube);
    assert.equal(metrics.status, 200);
    const line = (label: string) => metrics.body.split('\n').find((l) => l.startsWith(`navarch_certificate_expiry_seconds{certificate="${label}"}`));
    for (const label of ['server', 'admin', 'ca']) assert.ok(line(label), `gauge for ${label} in:\n${metrics.body.slice(0, 500)}`);
    const serverExpiry = Number(line('server')!.split(' ')[1]);
    const before = await get(url, '/readyz', kube);
    assert.equal(before.status, 200);

    // As `navarch certificate rotate` does it: new files on disk, then the running server adopts them.
    const { pki: rotated, renewed } = await forceRotateLeafCertificates(dataDir);
    assert.deepEqual(renewed.sort(), ['admin', 'server']);
    const newSerial = new X509Certificate(rotated.serving.certPem).serialNumber;
    assert.notEqual(newSerial, before.serial);
    const result = await server.rotateCertificates();
    assert.deepEqual(result.renewed.sort(), ['admin', 'server']);

    // The kubeconfig was rewritten with the new admin certificate, and it still authenticates.
    const kubeAfter = loadKubeconfig(server.kubeconfigPath);
    assert.equal(kubeAfter.clientCertPem, rotated.admin.certPem);
    const after = await get(url, '/readyz', kubeAfter);
    assert.equal(after.status, 200);
    assert.equal(after.serial.toUpperCase(), newSerial.toUpperCase());
    const metricsAfter = await get(url, '/metrics', kubeAfter);
    const serverExpiryAfter = Number(metricsAfter.body.split('\n').find((l) => l.startsWith('navarch_certificate_expiry_seconds{certificate="server"}'))!.split(' ')[1]);
    assert.ok(serverExpiryAfter >= serverExpiry);

    // A second pass with nothing new on disk and nothing due changes nothing.
    assert.deepEqual((await server.rotateCertificates()).renewed, []);
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
