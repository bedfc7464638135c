import { test } from 'node:test';
import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { startTestApiServer } from '../../apiserver/testing.js';
import { createCertificateAuthority, issueClientCertificate, issueServingCertificate } from '../../apiserver/auth/pki.js';
import { parseRequestInfo } from '../../apiserver/request-info.js';
import { createStreamingProxy } from '../../apiserver/streaming-proxy.js';
import { FakeNode, FakeRuntime } from '../../runtime/fake/fake-runtime.js';
import { waitFor } from '../../runtime/contract.js';
import { createKubelet } from '../kubelet.js';
import { noopPodNetwork } from '../network.js';
import { TestImageService, withImages } from '../testing.js';

test('logs and exec (WebSocket v5.channel.k8s.io) through the API server proxy to the kubelet', async () => {
  const ca = await createCertificateAuthority();
  const kubeletCert = await issueServingCertificate(ca, { ips: ['127.0.0.1'], commonName: 'node-a' });
  const apiClientCert = await issueClientCertificate(ca, { user: 'kube-apiserver-kubelet-client', groups: ['system:masters'] });
  const frontCert = await issueServingCertificate(ca, { ips: ['127.0.0.1'] });
  const server = await startTestApiServer();
  await server.client.resource({ group: '', version: 'v1', resource: 'configmaps', namespaced: true }).create('default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-root-ca.crt' }, data: { 'ca.crt': 'x' } } as any);
  const dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'kubelet-stream-'));
  const runtime = withImages(new FakeRuntime(new FakeNode()), new TestImageService(new Set(['busybox:1.36'])));
  const kubelet = createKubelet({
    transport: server.transport(), nodeName: 'node-a', runtime, network: noopPodNetwork({ nodeIP: '127.0.0.1' }), dataDir, nodeIP: '127.0.0.1', canMount: false, relistPeriodMs: 100, log: () => {},
    serving: { certPem: kubeletCert.certPem, keyPem: kubeletCert.keyPem, clientCaPem: ca.certPem, host: '127.0.0.1' },
  });
  await kubelet.start();
  const get = (ref: any) => async (ns: string | undefined, name: string) => { try { return await server.client.resource(ref).get(ns, name); } catch { return undefined; } };
  const getPod = get({ group: '', version: 'v1', resource: 'pods', namespaced: true });
  const getNode = get({ group: '', version: 'v1', resource: 'nodes', namespaced: false });
  const proxy = createStreamingProxy({ getPod: (ns, n) => getPod(ns, n), getNode: (n) => getNode(undefined, n), caPem: ca.certPem, clientCertPem: apiClientCert.certPem, clientKeyPem: apiClientCert.keyPem });
  // The front server stands in for the API server's HTTPS layer: it hands connect requests to the proxy.
  const front = https.createServer({ cert: frontCert.certPem, key: frontCert.keyPem });
  const connect = (req: any, extra: any) => {
    const url = new URL(req.url, 'https://x');
    const info = parseRequestInfo(req.method, url.pathname, url.searchParams);
    return proxy({ method: req.method, path: url.pathname, query: url.searchParams, headers: {}, user: { username: 'admin', groups: [] } }, { status: 0, connect: { resource: {} as any, info } }, { req, ...extra });
  };
  front.on('request', (req, res) => void connect(req, { res }));
  front.on('upgrade', (req, socket, head) => void connect(req, { socket, head }));
  await new Promise<void>((r) => front.listen(0, '127.0.0.1', () => r()));
  const port = (front.address() as any).port;
  try {
    const pods = server.client.resource({ group: '', version: 'v1', resource: 'pods', namespaced: true });
    await pods.create('default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'talk' }, spec: { nodeName: 'node-a', containers: [{ name: 'c', image: 'busybox:1.36', command: ['sh', '-c', 'echo first line; echo second line; sleep 3600'] }] } } as any);
    await waitFor('running', async () => ((await pods.get('default', 'talk')) as any).status?.phase === 'Running');

    const fetchText = (p: string) => new Promise<{ status: number; body: string }>((resolve, reject) => {
      https.get({ host: '127.0.0.1', port, path: p, ca: ca.certPem }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      }).on('error', reject);
    });
    await waitFor('log written', async () => (await fetchText('/api/v1/namespaces/default/pods/talk/log')).body.includes('second line'));
    assert.equal((await fetchText('/api/v1/namespaces/default/pods/talk/log')).body, 'first line\nsecond line\n');
    assert.equal((await fetchText('/api/v1/namespaces/default/pods/talk/log?tailLines=1')).body, 'second line\n');
    assert.match((await fetchText('/api/v1/namespaces/default/pods/talk/log?timestamps=true&tailLines=1')).body, /^\d{4}-\d\d-\d\dT[\d:.]+Z second line\n$/);
    assert.equal((await fetchText('/api/v1/namespaces/default/pods/talk/log?limitBytes=5')).body, 'first');
    const bad = await fetchText('/api/v1/namespaces/default/pods/talk/log?container=nope');
    assert.equal(bad.status, 400);

    const exec = (command: string[]) => new Promise<{ stdout: string; stderr: string; status: any; protocol: string }>((resolve, reject) => {
      const q = command.map((c) => `command=${encodeURIComponent(c)}`).join('&');
      const ws = new WebSocket(`wss://127.0.0.1:${port}/api/v1/namespaces/default/pods/talk/exec?${q}&stdout=true&stderr=true`, ['v5.channel.k8s.io', 'v4.channel.k8s.io'], { ca: ca.certPem });
      let stdout = '';
      let stderr = '';
      let status: any;
      ws.on('message', (data: Buffer) => {
        const channel = data[0];
        const text = data.subarray(1).toString();
        if (channel === 1) stdout += text;
        else if (channel === 2) stderr += text;
        else if (channel === 3) status = JSON.parse(text);
      });
      ws.on('close', () => resolve({ stdout, stderr, status, protocol: ws.protocol }));
      ws.on('error', reject);
    });
    const ok = await exec(['echo', 'hello from exec']);
    assert.equal(ok.protocol, 'v5.channel.k8s.io');
    assert.equal(ok.stdout, 'hello from exec\n');
    assert.deepEqual(ok.status, { metadata: {}, status: 'Success' });
    const failed = await exec(['sh', '-c', 'echo oops >&2; exit 7']);
    assert.equal(failed.stderr, 'oops\n');
    assert.equal(failed.status.reason, 'NonZeroExitCode');
    assert.deepEqual(failed.status.details.causes, [{ reason: 'ExitCode', message: '7' }]);
  } finally {
    front.close();
    await kubelet.stop();
    for (const s of await runtime.listPodSandbox()) await runtime.removePodSandbox(s.id);
    await server.close();
    await fsp.rm(dataDir, { recursive: true, force: true });
  }
});
