// Ingress and LoadBalancer Services with the real kubectl: an all-in-one server with its runc node
// agent, busybox httpd pods behind a Service and an Ingress, reached through the built-in ingress
// proxy listening on 127.0.0.1 (plain and TLS with a certificate from a test CA).
// Traffic stays on this machine: 127.0.0.1 and pod IPs on the test server's own bridge.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startServer, type TestServer, eventually } from './harness.js';
import { createCertificateAuthority, issueServingCertificate } from '../../src/apiserver/auth/pki.js';


function request(port: number, host: string, path: string, tls?: { ca: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const options = { host: '127.0.0.1', port, path, headers: { host }, timeout: 5000 };
    const done = (res: http.IncomingMessage) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    };
    const req = tls ? https.request({ ...options, ca: tls.ca, servername: host }, done) : http.request(options, done);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

const httpdPod = (name: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels: { app: 'web' } },
  spec: {
    terminationGracePeriodSeconds: 1,
    containers: [
      {
        name: 'httpd',
        image: 'busybox',
        command: ['sh', '-c', 'mkdir -p /www && echo "hello from $(hostname)" > /www/index.html && exec httpd -f -p 8080 -h /www'],
        ports: [{ containerPort: 8080, name: 'http' }],
        readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
      },
    ],
  },
});

describe('ingress and LoadBalancer Services with the real kubectl', { skip: process.getuid?.() !== 0 ? 'needs root (runc, network namespaces)' : false }, () => {
  let server: TestServer;
  let httpPort: number;
  let httpsPort: number;
  let caPem: string;
  const files = mkdtempSync(join(tmpdir(), 'navarch-ingress-e2e-'));

  before(async () => {
    httpPort = await freePort();
    httpsPort = await freePort();
    server = await startServer({
      agent: true,
      ingress: true,
      extraArgs: [
        '--runtime', 'runc', '--cluster-cidr', '10.246.0.0/16', '--service-cidr', '10.247.0.0/16', '--cluster-dns', '10.247.0.10', '--node-name', 'e2e-ingress',
        '--ingress-bind-address', '127.0.0.1', '--ingress-http-port', String(httpPort), '--ingress-https-port', String(httpsPort),
      ],
    });
    await eventually(() => /\sReady\s/.test(server.kubectl(['get', 'nodes']).stdout), 'node Ready');
    const ca = await createCertificateAuthority({ commonName: 'ingress-e2e-ca' });
    caPem = ca.certPem;
    const cert = await issueServingCertificate(ca, { hostNames: ['web.test'], commonName: 'web.test' });
    writeFileSync(join(files, 'tls.crt'), cert.certPem);
    writeFileSync(join(files, 'tls.key'), cert.keyPem);
  });
  after(async () => {
    if (server) {
      server.kubectl(['delete', 'pods', '--all', '--now'], { allowFail: true });
      await server.stop();
    }
    rmSync(files, { recursive: true, force: true });
  });

  test('IngressClass navarch exists and is the default', () => {
    const cls = JSON.parse(server.kubectl(['get', 'ingressclass', 'navarch', '-o', 'json']).stdout);
    assert.equal(cls.spec.controller, 'navarch.io/ingress');
    assert.equal(cls.metadata.annotations['ingressclass.kubernetes.io/is-default-class'], 'true');
  });

  test('busybox httpd pods behind an Ingress: host/path routing over both pods, TLS by SNI, 503 and 404', async () => {
    for (const name of ['web-1', 'web-2']) server.kubectl(['apply', '-f', '-'], { input: JSON.stringify(httpdPod(name)) });
    server.kubectl(['create', 'service', 'clusterip', 'web', '--tcp=80:8080']);
    server.kubectl(['create', 'service', 'clusterip', 'idle', '--tcp=80:8080']);
    server.kubectl(['create', 'secret', 'tls', 'web-tls', '--cert', join(files, 'tls.crt'), '--key', join(files, 'tls.key')]);
    server.kubectl(['create', 'ingress', 'web', '--rule=web.test/*=web:80,tls=web-tls', '--rule=web.test/idle=idle:80']);

    const seen = new Set<string>();
    await eventually(async () => {
      const answer = await request(httpPort, 'web.test', '/');
      if (answer.status === 200) seen.add(answer.body.trim());
      return seen.size === 2;
    }, 'both pods answering through the ingress');
    assert.deepEqual([...seen].sort(), ['hello from web-1', 'hello from web-2']);

    const secure = await request(httpsPort, 'web.test', '/', { ca: caPem });
    assert.equal(secure.status, 200);
    assert.match(secure.body, /hello from web-[12]/);

    const idle = await request(httpPort, 'web.test', '/idle');
    assert.equal(idle.status, 503);
    assert.match(idle.body, /No ready endpoints for service default\/idle/);
    assert.equal((await request(httpPort, 'elsewhere.test', '/')).status, 404);

    const address = await eventually(() => {
      const ing = JSON.parse(server.kubectl(['get', 'ingress', 'web', '-o', 'json']).stdout);
      return ing.status?.loadBalancer?.ingress?.[0]?.ip as string | undefined;
    }, 'ingress address');
    assert.match(server.kubectl(['get', 'ingress', 'web']).stdout, new RegExp(`web\\s+\\S+\\s+web\\.test\\s+${address.replace(/\./g, '\\.')}\\s+80, 443`));
  });

  test('a LoadBalancer Service shows the node address as EXTERNAL-IP at once', async () => {
    server.kubectl(['create', 'service', 'loadbalancer', 'web-lb', '--tcp=8081:8080']);
    const line = await eventually(() => {
      const out = server.kubectl(['get', 'service', 'web-lb', '--no-headers']).stdout;
      return /<pending>/.test(out) ? undefined : out;
    }, 'EXTERNAL-IP', 10_000);
    const node = JSON.parse(server.kubectl(['get', 'node', 'e2e-ingress', '-o', 'json']).stdout);
    const internalIP = node.status.addresses.find((a: { type: string }) => a.type === 'InternalIP').address;
    assert.match(line, new RegExp(`web-lb\\s+LoadBalancer\\s+\\S+\\s+${internalIP.replace(/\./g, '\\.')}\\s+8081:\\d+/TCP`));
    const events = JSON.parse(server.kubectl(['get', 'events', '--field-selector', 'involvedObject.name=web-lb', '-o', 'json']).stdout).items.map((e: { reason: string }) => e.reason);
    assert.ok(events.includes('EnsuredLoadBalancer'), events.join(','));
  });
});
