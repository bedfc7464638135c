import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHttpTransport, fromKubeconfig, type WatchEvent } from './transport.js';

/**
 * A throwaway CA with a serving and a client certificate, made with the openssl CLI.
 * (@peculiar/x509 cannot load here: it needs a Reflect metadata polyfill that is not installed.)
 */
function makeCertificates() {
  const dir = mkdtempSync(join(tmpdir(), 'navarch-tls-'));
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  try {
    openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=navarch-test-ca', '-days', '1',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
    const sign = (name: string, subject: string, extensions: string) => {
      writeFileSync(join(dir, `${name}.ext`), extensions);
      openssl('req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
      openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '1', '-extfile', `${name}.ext`);
      return { certPem: readFileSync(join(dir, `${name}.crt`), 'utf8'), keyPem: readFileSync(join(dir, `${name}.key`), 'utf8') };
    };
    const serving = sign('server', '/CN=kube-apiserver', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
    const client = sign('client', '/O=system:masters/CN=admin', 'extendedKeyUsage=clientAuth\n');
    return { caPem: readFileSync(join(dir, 'ca.crt'), 'utf8'), serving, client };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('HTTPS transport', () => {
  let server: https.Server;
  let url = '';
  let caPem = '';
  let client: { certPem: string; keyPem: string };
  let connections = 0;
  const seen: Array<{ path: string; commonName?: string; authorization?: string; userAgent?: string }> = [];

  before(async () => {
    const certificates = makeCertificates();
    const serving = certificates.serving;
    client = certificates.client;
    caPem = certificates.caPem;
    server = https.createServer(
      { cert: serving.certPem, key: serving.keyPem, ca: caPem, requestCert: true, rejectUnauthorized: false },
      (req, res) => {
        const socket = req.socket as TLSSocket;
        const peer = socket.authorized ? socket.getPeerCertificate() : undefined;
        seen.push({ path: req.url!, commonName: peer?.subject?.CN as string | undefined, authorization: req.headers.authorization, userAgent: req.headers['user-agent'] });
        if (req.url!.startsWith('/hang')) {
          // Headers, then silence: what a half-open connection looks like from the client.
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.flushHeaders();
          return;
        }
        if (req.url!.includes('watch=true')) {
          res.writeHead(200, { 'Content-Type': 'application/json' });
          const events = [
            { type: 'ADDED', object: { metadata: { name: 'a', resourceVersion: '2' } } },
            { type: 'MODIFIED', object: { metadata: { name: 'a', resourceVersion: '3' } } },
            { type: 'BOOKMARK', object: { metadata: { resourceVersion: '4' } } },
          ];
          const text = events.map((e) => JSON.stringify(e) + '\n').join('');
          // Chunk boundaries fall mid-event and between events, as they do on a real network.
          const cuts = [0, 17, text.indexOf('\n') + 1 + 5, text.length - 3, text.length];
          let i = 0;
          const next = () => {
            if (i + 1 >= cuts.length) return res.end();
            res.write(text.slice(cuts[i], cuts[i + 1]));
            i++;
            setTimeout(next, 2);
          };
          next();
          return;
        }
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ kind: 'Pod', apiVersion: 'v1', metadata: { name: 'x' } }));
      },
    );
    server.on('secureConnection', () => connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  test('mutual TLS with keep-alive: the server sees the client certificate, one connection serves many requests', async () => {
    const transport = createHttpTransport({ server: url, caPem, clientCertPem: client.certPem, clientKeyPem: client.keyPem, userAgent: 'navarch-kubelet/0.1.0' });
    const before = connections;
    for (let i = 0; i < 3; i++) {
      const response = await transport.request({ method: 'GET', path: '/api/v1/namespaces/default/pods/x' });
      assert.equal(response.status, 200);
      assert.equal(response.body.metadata.name, 'x');
    }
    assert.equal(connections - before, 1);
    assert.equal(seen.at(-1)!.commonName, 'admin');
    assert.equal(seen.at(-1)!.userAgent, 'navarch-kubelet/0.1.0');
  });

  test('an untrusted server certificate is refused', async () => {
    const transport = createHttpTransport({ server: url });
    await assert.rejects(transport.request({ method: 'GET', path: '/api/v1/pods' }), /certificate/);
  });

  test('bearer tokens are sent as Authorization', async () => {
    const transport = createHttpTransport({ server: url, caPem, bearerToken: 'abc.def' });
    await transport.request({ method: 'GET', path: '/version' });
    assert.equal(seen.at(-1)!.authorization, 'Bearer abc.def');
    assert.equal(seen.at(-1)!.commonName, undefined);
  });

  test('watch reassembles newline-delimited events split across chunks', async () => {
    const transport = createHttpTransport({ server: url, caPem });
    const events: WatchEvent[] = [];
    const closed = await new Promise<Error | undefined>((resolve) => {
      transport.watch({ path: '/api/v1/pods', query: { resourceVersion: '1' } }, (ev) => events.push(ev), resolve);
    });
    assert.equal(closed, undefined);
    assert.deepEqual(events.map((e) => e.type), ['ADDED', 'MODIFIED', 'BOOKMARK']);
    assert.equal(events[2]!.object.metadata.resourceVersion, '4');
    assert.match(seen.at(-1)!.path, /^\/api\/v1\/pods\?resourceVersion=1&watch=true$/);
  });

  test('stop() ends a watch without a close callback', async () => {
    const transport = createHttpTransport({ server: url, caPem });
    let closes = 0;
    const handle = transport.watch({ path: '/api/v1/pods' }, () => handle.stop(), () => closes++);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(closes, 0);
  });

  test('a watch silent past its timeoutSeconds is presumed dead and closed with an error', async () => {
    const transport = createHttpTransport({ server: url, caPem, watchDeadConnectionGraceMs: 20 });
    const started = Date.now();
    const closed = await new Promise<Error | undefined>((resolve) => {
      transport.watch({ path: '/hang', query: { timeoutSeconds: '1' } }, () => {}, resolve);
    });
    assert.match(String(closed), /presumed dead/);
    assert.ok(Date.now() - started >= 1000);
  });

  test('requestTimeoutMs aborts a request that never answers', async () => {
    const transport = createHttpTransport({ server: url, caPem, requestTimeoutMs: 50 });
    await assert.rejects(transport.request({ method: 'GET', path: '/hang' }), /timed out/);
  });

  test('fromKubeconfig reaches the server with inline credentials', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'navarch-kubeconfig-'));
    try {
      const b64 = (s: string) => Buffer.from(s).toString('base64');
      writeFileSync(
        join(dir, 'config'),
        `apiVersion: v1
kind: Config
current-context: test
clusters:
- name: test
  cluster:
    server: ${url}
    certificate-authority-data: ${b64(caPem)}
users:
- name: admin
  user:
    client-certificate-data: ${b64(client.certPem)}
    client-key-data: ${b64(client.keyPem)}
contexts:
- name: test
  context: { cluster: test, user: admin }
`,
      );
      const response = await fromKubeconfig(join(dir, 'config')).request({ method: 'GET', path: '/api/v1/namespaces/default/pods/x' });
      assert.equal(response.status, 200);
      assert.equal(seen.at(-1)!.commonName, 'admin');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
