// The ingress controller against a real in-process API server, with plain Node HTTP servers on
// 127.0.0.x standing in for pods (the EndpointSlices are written by the test).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { startTestApiServer, type TestApiServer } from '../../apiserver/testing.js';
import type { ResourceRef } from '../../client/client.js';
import { createCertificateAuthority, issueServingCertificate, type CertificateAuthority } from '../../apiserver/auth/pki.js';
import { ingressBootstrapObjects, ingressesRef, startIngressController, type RunningIngressController } from './controller.js';

const servicesRef: ResourceRef = { group: '', version: 'v1', resource: 'services', namespaced: true, kind: 'Service' };
const slicesRef: ResourceRef = { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', namespaced: true, kind: 'EndpointSlice' };
const secretsRef: ResourceRef = { group: '', version: 'v1', resource: 'secrets', namespaced: true, kind: 'Secret' };
const classesRef: ResourceRef = { group: 'networking.k8s.io', version: 'v1', resource: 'ingressclasses', namespaced: false, kind: 'IngressClass' };
const quiet = () => {};

interface Pod {
  ip: string;
  port: number;
  close(): Promise<void>;
}

/** An HTTP server that answers with who it is and what it received (and speaks websocket). */
async function startPod(name: string, ip: string): Promise<Pod> {
  const server = http.createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ pod: name, url: req.url, headers: req.headers }));
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (socket) => socket.on('message', (data) => socket.send(`${name}:${data}`)));
  await new Promise<void>((r) => server.listen(0, ip, r));
  return {
    ip,
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((r) => {
      wss.close();
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

interface Answer {
  status: number;
  body: string;
  json?: any;
  peerCN?: string;
}

function get(port: number, host: string, path = '/', options: { tls?: { ca: string; servername?: string }; agent?: http.Agent; headers?: Record<string, string> } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const common = { host: '127.0.0.1', port, path, headers: { host, ...options.headers }, agent: options.agent };
    const onResponse = (res: http.IncomingMessage) => {
      // Read while the socket is attached: it is released (or pooled) once the body ends.
      const peer = (res.socket as any).getPeerCertificate?.();
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => {
        let json: any;
        try {
          json = JSON.parse(body);
        } catch {}
        resolve({ status: res.statusCode!, body, json, peerCN: peer?.subjectaltname });
      });
    };
    const req = options.tls ? https.request({ ...common, ca: options.tls.ca, servername: options.tls.servername }, onResponse) : http.request(common, onResponse);
    req.on('error', reject);
    req.end();
  });
}

function post(port: number, host: string, path: string, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: 'POST', headers: { host, 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function service(name: string, ports: { name?: string; port: number }[]): any {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { ports: ports.map((p) => ({ ...p, protocol: 'TCP' })) } };
}

/** One slice per pod: the stand-in pods listen on different ports, and a slice carries one port list. */
function slices(serviceName: string, portName: string | undefined, pods: Pod[], ready = true): any[] {
  return pods.map((pod, i) => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${serviceName}-${i}`, namespace: 'default', labels: { 'kubernetes.io/service-name': serviceName } },
    addressType: 'IPv4',
    ports: [{ name: portName ?? '', port: pod.port, protocol: 'TCP' }],
    endpoints: [{ addresses: [pod.ip], conditions: { ready } }],
  }));
}

function tlsSecret(name: string, pair: { certPem: string; keyPem: string }): any {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: 'default' },
    type: 'kubernetes.io/tls',
    data: { 'tls.crt': Buffer.from(pair.certPem).toString('base64'), 'tls.key': Buffer.from(pair.keyPem).toString('base64') },
  };
}

describe('ingress controller', () => {
  let api: TestApiServer;
  let ca: CertificateAuthority;
  const pods: Pod[] = [];
  let a1: Pod, a2: Pod, b: Pod, c: Pod;
  const stop = new AbortController();
  let ingress: RunningIngressController;
  let httpPort: number;
  let httpsPort: number;

  before(async () => {
    api = await startTestApiServer();
    ca = await createCertificateAuthority({ commonName: 'ingress-test-ca' });
    [a1, a2, b, c] = await Promise.all([startPod('a1', '127.0.0.2'), startPod('a2', '127.0.0.3'), startPod('b', '127.0.0.4'), startPod('c', '127.0.0.5')]);
    pods.push(a1, a2, b, c);
    for (const { object } of ingressBootstrapObjects()) await api.client.resource<any>(classesRef).create(undefined, object);
    const svc = api.client.resource<any>(servicesRef);
    const sliceClient = api.client.resource<any>(slicesRef);
    await svc.create('default', service('app-a', [{ port: 80 }]));
    for (const s of slices('app-a', undefined, [a1, a2])) await sliceClient.create('default', s);
    await svc.create('default', service('app-b', [{ name: 'web', port: 8080 }, { name: 'metrics', port: 9090 }]));
    for (const s of slices('app-b', 'web', [b])) await sliceClient.create('default', s);
    await svc.create('default', service('app-c', [{ port: 80 }]));
    for (const s of slices('app-c', undefined, [c])) await sliceClient.create('default', s);
    // An endpoint whose pod is gone (nothing listens) next to a live one.
    const gone = await startPod('gone', '127.0.0.6');
    await gone.close();
    await svc.create('default', service('flaky', [{ port: 80 }]));
    for (const s of slices('flaky', undefined, [gone, c])) await sliceClient.create('default', s);
    await svc.create('default', service('not-ready', [{ port: 80 }]));
    for (const s of slices('not-ready', undefined, [c], false)) await sliceClient.create('default', s);
    const [certA, certWild] = await Promise.all([issueServingCertificate(ca, { hostNames: ['a.test'] }), issueServingCertificate(ca, { hostNames: ['*.wild.test'] })]);
    await api.client.resource<any>(secretsRef).create('default', tlsSecret('a-tls', certA));
    await api.client.resource<any>(secretsRef).create('default', tlsSecret('wild-tls', certWild));
    await api.client.resource<any>(ingressesRef).create('default', {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'web' },
      spec: {
        tls: [{ hosts: ['a.test'], secretName: 'a-tls' }, { hosts: ['*.wild.test'], secretName: 'wild-tls' }],
        rules: [
          {
            host: 'a.test',
            http: {
              paths: [
                { path: '/', pathType: 'Prefix', backend: { service: { name: 'app-a', port: { number: 80 } } } },
                { path: '/api', pathType: 'Prefix', backend: { service: { name: 'app-b', port: { name: 'web' } } } },
                { path: '/flaky', pathType: 'Prefix', backend: { service: { name: 'flaky', port: { number: 80 } } } },
                { path: '/down', pathType: 'Exact', backend: { service: { name: 'not-ready', port: { number: 80 } } } },
                { path: '/missing', pathType: 'Exact', backend: { service: { name: 'nope', port: { number: 80 } } } },
              ],
            },
          },
          { host: '*.wild.test', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'app-c', port: { number: 80 } } } }] } },
        ],
      },
    });
    // Another controller's class: must be ignored.
    await api.client.resource<any>(ingressesRef).create('default', {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'not-ours' },
      spec: { ingressClassName: 'nginx', rules: [{ host: 'nginx.test', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'app-a', port: { number: 80 } } } }] } }] },
    });
    ingress = await startIngressController(
      { transport: api.transport({ username: 'system:navarch:ingress', groups: ['system:authenticated'] }), http: { host: '127.0.0.1', port: 0 }, https: { host: '127.0.0.1', port: 0 }, statusAddresses: ['192.0.2.10'], logger: quiet },
      stop.signal,
    );
    httpPort = ingress.addresses.http!.port;
    httpsPort = ingress.addresses.https!.port;
  });

  after(async () => {
    stop.abort();
    await ingress?.stopped;
    await Promise.all(pods.map((p) => p.close()));
    await api?.close();
  });

  test('host and path rules route to the right Service; round-robin over ready endpoints', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const answer = await get(httpPort, 'a.test', '/');
      assert.equal(answer.status, 200, answer.body);
      seen.add(answer.json.pod);
    }
    assert.deepEqual([...seen].sort(), ['a1', 'a2']);
    const api = await get(httpPort, 'a.test', '/api/users?x=1');
    assert.equal(api.json.pod, 'b');
    assert.equal(api.json.url, '/api/users?x=1');
    assert.equal((await get(httpPort, 'a.test', '/apiary')).json.pod.startsWith('a'), true);
    assert.equal((await get(httpPort, 'x.wild.test:8443', '/z')).json.pod, 'c');
  });

  test('a GET whose endpoint refuses the connection is retried on the next endpoint; a POST is not', async () => {
    for (let i = 0; i < 4; i++) {
      const answer = await get(httpPort, 'a.test', '/flaky');
      assert.equal(answer.status, 200, answer.body);
      assert.equal(answer.json.pod, 'c');
    }
    const statuses = new Set<number>();
    for (let i = 0; i < 2; i++) statuses.add((await post(httpPort, 'a.test', '/flaky', 'x')).status);
    assert.deepEqual([...statuses].sort(), [200, 502]);
  });

  test('X-Forwarded-* headers and the original Host reach the pod', async () => {
    const answer = await get(httpPort, 'a.test', '/api', { headers: { 'x-forwarded-for': '198.51.100.7' } });
    assert.equal(answer.json.headers.host, 'a.test');
    assert.equal(answer.json.headers['x-forwarded-host'], 'a.test');
    assert.equal(answer.json.headers['x-forwarded-proto'], 'http');
    assert.equal(answer.json.headers['x-forwarded-for'], '198.51.100.7, 127.0.0.1');
  });

  test('404 when no rule matches (including another class’s hosts); 503 with a page when nothing is ready', async () => {
    const none = await get(httpPort, 'other.test', '/');
    assert.equal(none.status, 404);
    assert.match(none.body, /No Ingress rule matches host other.test/);
    assert.equal((await get(httpPort, 'nginx.test', '/')).status, 404);
    const down = await get(httpPort, 'a.test', '/down');
    assert.equal(down.status, 503);
    assert.match(down.body, /<h1>503 Service Unavailable<\/h1>/);
    assert.match(down.body, /No ready endpoints for service default\/not-ready/);
    const missing = await get(httpPort, 'a.test', '/missing');
    assert.equal(missing.status, 503);
    assert.match(missing.body, /service default\/nope not found/);
  });

  test('HTTPS picks the certificate by SNI (exact and wildcard) and sets X-Forwarded-Proto', async () => {
    const exact = await get(httpsPort, 'a.test', '/api', { tls: { ca: ca.certPem, servername: 'a.test' } });
    assert.match(exact.peerCN!, /DNS:a\.test\b/);
    assert.doesNotMatch(exact.peerCN!, /wild/);
    assert.equal(exact.json.pod, 'b');
    assert.equal(exact.json.headers['x-forwarded-proto'], 'https');
    const wild = await get(httpsPort, 'x.wild.test', '/', { tls: { ca: ca.certPem, servername: 'x.wild.test' } });
    assert.match(wild.peerCN!, /DNS:\*\.wild\.test/);
    assert.equal(wild.json.pod, 'c');
  });

  test('a client without SNI gets the fallback certificate (the first TLS entry)', async () => {
    const noSni = await get(httpsPort, 'a.test', '/api', { tls: { ca: ca.certPem, servername: '' } });
    assert.match(noSni.peerCN!, /DNS:a\.test\b/);
    assert.equal(noSni.json.pod, 'b');
  });

  test('websocket upgrades pass through', async () => {
    const socket = new WebSocket(`ws://127.0.0.1:${httpPort}/api/ws`, { headers: { host: 'a.test' } });
    const reply = await new Promise<string>((resolve, reject) => {
      socket.on('open', () => socket.send('hello'));
      socket.on('message', (data) => resolve(String(data)));
      socket.on('error', reject);
    });
    socket.close();
    assert.equal(reply, 'b:hello');
  });

  test('handled Ingresses get status.loadBalancer.ingress; others are left alone', async () => {
    const web = await eventually(() => api.client.resource<any>(ingressesRef).get('default', 'web'), (i) => !!i.status?.loadBalancer?.ingress, 'status');
    assert.deepEqual(web.status.loadBalancer.ingress, [{ ip: '192.0.2.10' }]);
    assert.equal((await api.client.resource<any>(ingressesRef).get('default', 'not-ours')).status?.loadBalancer?.ingress, undefined);
  });

  test('changes apply without dropping a kept-alive connection; endpoint changes apply at once', async () => {
    const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });
    let closed = 0;
    const before = await get(httpPort, 'new.test', '/', { agent: keepAlive });
    assert.equal(before.status, 404);
    const socketsBefore = keepAlive.freeSockets;
    assert.equal(Object.values(socketsBefore).flat().length, 1);
    const firstSocket = Object.values(socketsBefore).flat()[0];
    firstSocket!.on('close', () => closed++);
    const reloads = ingress.reloads();
    await api.client.resource<any>(ingressesRef).create('default', {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'late' },
      spec: { ingressClassName: 'navarch', rules: [{ host: 'new.test', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'app-c', port: { number: 80 } } } }] } }] },
    });
    await eventually(async () => ingress.reloads(), (n) => n > reloads, 'reload');
    const afterReload = await get(httpPort, 'new.test', '/', { agent: keepAlive });
    assert.equal(afterReload.json.pod, 'c');
    assert.equal(closed, 0, 'the kept-alive connection survived the reload');
    assert.equal(Object.values(keepAlive.freeSockets).flat()[0], firstSocket);
    keepAlive.destroy();

    // Endpoints are read at request time: the not-ready Service recovers without a reload.
    const current = await api.client.resource<any>(slicesRef).get('default', 'not-ready-0');
    await api.client.resource<any>(slicesRef).update({ ...current, endpoints: current.endpoints.map((e: any) => ({ ...e, conditions: { ready: true } })) });
    await eventually(() => get(httpPort, 'a.test', '/down'), (a) => a.status === 200, 'endpoint ready');
  });
});
