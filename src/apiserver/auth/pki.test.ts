import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import {
  createCertificateAuthority,
  createCertificateRequest,
  issueClientCertificate,
  issueServingCertificate,
  needsRenewal,
  pemDecode,
  pemEncode,
  readCertificate,
  signCertificateRequest,
  certificateFingerprint,
  type CertificateAuthority,
} from './pki.js';
import { clusterSecretBundle, ensureClusterPki, renewLeafCertificates } from './cluster-pki.js';
import { writeKubeconfig } from './kubeconfig.js';
import { sealSecrets, unsealSecrets } from './seal.js';
import { joinTokenMatches, parseJoinToken } from './join-token.js';

const run = promisify(execFile);
const DAY = 24 * 60 * 60 * 1000;

/** A loopback HTTPS server that asks for client certificates and reports who presented one. */
async function startServer(serving: { certPem: string; keyPem: string }, caPem: string) {
  const server = https.createServer(
    { key: serving.keyPem, cert: serving.certPem, ca: caPem, requestCert: true, rejectUnauthorized: false },
    (req, res) => {
      const socket = req.socket as TLSSocket;
      const peer = socket.getPeerCertificate();
      res.setHeader('content-type', 'application/json');
      if (!socket.authorized) {
        res.statusCode = 401;
        res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Unauthorized', code: 401 }));
        return;
      }
      res.setHeader('x-client-cn', String(peer.subject?.CN ?? ''));
      res.end('{}');
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

function get(port: number, options: https.RequestOptions): Promise<{ status: number; cn?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, path: '/', ...options }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, cn: res.headers['x-client-cn'] as string | undefined, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('pki', () => {
  let ca: CertificateAuthority;
  before(async () => {
    ca = await createCertificateAuthority();
  });

  test('CA is a 10-year ECDSA CA', () => {
    const info = readCertificate(ca.certPem);
    assert.equal(info.isCertificateAuthority, true);
    const years = (info.notAfter.getTime() - info.notBefore.getTime()) / (365 * DAY);
    assert.ok(years > 9.9 && years < 10.1, `validity ${years} years`);
    assert.match(ca.keyPem, /^-----BEGIN PRIVATE KEY-----/);
  });

  test('serving certificate carries the Kubernetes service names and the given host names and IPs', async () => {
    const serving = await issueServingCertificate(ca, { hostNames: ['Node-A.example'], ips: ['192.0.2.10', '2001:db8::1'] });
    const info = readCertificate(serving.certPem);
    for (const name of ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local', 'node-a.example']) {
      assert.ok(info.dnsNames.includes(name), `missing DNS SAN ${name}`);
    }
    for (const ip of ['127.0.0.1', '::1', '10.43.0.1', '192.0.2.10', '2001:db8::1']) {
      assert.ok(info.ipAddresses.includes(ip), `missing IP SAN ${ip}: ${info.ipAddresses.join(',')}`);
    }
    assert.equal(info.isCertificateAuthority, false);
  });

  test('client certificate puts the user in CN and groups in O', async () => {
    const client = await issueClientCertificate(ca, { user: 'jane', groups: ['dev', 'system:masters'] });
    const info = readCertificate(client.certPem);
    assert.equal(info.commonName, 'jane');
    assert.deepEqual(info.organizations, ['dev', 'system:masters']);
  });

  test('PEM round trip', () => {
    const der = pemDecode(ca.certPem, 'CERTIFICATE');
    assert.equal(pemEncode('CERTIFICATE', der).trim(), ca.certPem.trim());
    assert.throws(() => pemDecode('garbage', 'CERTIFICATE'), /no PEM block/);
  });

  test('signing a CSR keeps its subject and SANs and honours usages and expirationSeconds', async () => {
    const csr = await createCertificateRequest({ commonName: 'system:node:worker-1', organizations: ['system:nodes'], dnsNames: ['worker-1'], ipAddresses: ['192.0.2.7'] });
    const now = new Date('2030-01-01T00:00:00Z');
    const certPem = await signCertificateRequest(ca, csr.csrPem, { usages: ['digital signature', 'key encipherment', 'server auth'], expirationSeconds: 3600, now });
    const info = readCertificate(certPem);
    assert.equal(info.commonName, 'system:node:worker-1');
    assert.deepEqual(info.organizations, ['system:nodes']);
    assert.deepEqual(info.dnsNames, ['worker-1']);
    assert.deepEqual(info.ipAddresses, ['192.0.2.7']);
    assert.equal(info.notAfter.getTime(), now.getTime() + 3600 * 1000);
    await assert.rejects(signCertificateRequest(ca, csr.csrPem, { usages: ['digital signature'] }), /client auth/);
  });

  test('a tampered CSR is refused', async () => {
    const csr = await createCertificateRequest({ commonName: 'mallory' });
    const der = pemDecode(csr.csrPem);
    der[der.length - 5] ^= 0xff; // inside the signature
    await assert.rejects(signCertificateRequest(ca, pemEncode('CERTIFICATE REQUEST', der)));
  });

  test('leaf certificates never outlive the CA', async () => {
    const caInfo = readCertificate(ca.certPem);
    const leaf = await issueClientCertificate(ca, { user: 'x', now: new Date(caInfo.notAfter.getTime() - 10 * DAY) });
    assert.equal(readCertificate(leaf.certPem).notAfter.getTime(), caInfo.notAfter.getTime());
  });

  test('needsRenewal within 90 days of expiry', async () => {
    const leaf = await issueClientCertificate(ca, { user: 'x', validityDays: 100 });
    assert.equal(needsRenewal(leaf.certPem, new Date()), false);
    assert.equal(needsRenewal(leaf.certPem, new Date(Date.now() + 11 * DAY)), true);
  });

  test('Node https server with the serving cert accepts a CA-signed client cert and flags a foreign one', async () => {
    const serving = await issueServingCertificate(ca);
    const client = await issueClientCertificate(ca, { user: 'alice', groups: ['dev'] });
    const otherCa = await createCertificateAuthority();
    const stranger = await issueClientCertificate(otherCa, { user: 'eve' });
    const { server, port } = await startServer(serving, ca.certPem);
    try {
      // servername "kubernetes.default.svc" checks the SAN the in-cluster clients use.
      const ok = await get(port, { ca: ca.certPem, cert: client.certPem, key: client.keyPem, servername: 'kubernetes.default.svc' });
      assert.equal(ok.status, 200);
      assert.equal(ok.cn, 'alice');
      const foreign = await get(port, { ca: ca.certPem, cert: stranger.certPem, key: stranger.keyPem });
      assert.equal(foreign.status, 401);
      await assert.rejects(get(port, { ca: otherCa.certPem }), /self.signed|unable to verify|certificate/i);
    } finally {
      server.close();
    }
  });
});

describe('cluster PKI on disk', () => {
  let dataDir: string;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'navarch-pki-'));
  });
  after(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  test('first start creates files, restart loads the same ones', async () => {
    const first = await ensureClusterPki(dataDir, { hostNames: ['server-1'], ips: ['192.0.2.1'] });
    for (const path of Object.values(first.paths)) if (path !== first.paths.tlsDir) assert.ok(existsSync(path), path);
    assert.equal((await stat(first.paths.caKey)).mode & 0o777, 0o600);
    assert.equal((await stat(first.paths.token)).mode & 0o777, 0o600);
    assert.match(first.token, /^K10[0-9a-f]{64}::server:[0-9a-f]{32}$/);
    assert.equal(parseJoinToken(first.token).caHash, certificateFingerprint(first.ca.certPem));
    assert.match(first.serviceAccountKeyPem, /BEGIN PRIVATE KEY/);
    assert.deepEqual(readCertificate(first.admin.certPem).organizations, ['system:masters']);

    const second = await ensureClusterPki(dataDir, { hostNames: ['server-1'], ips: ['192.0.2.1'] });
    assert.equal(second.ca.certPem, first.ca.certPem);
    assert.equal(second.serving.certPem, first.serving.certPem);
    assert.equal(second.token, first.token);
  });

  test('a new IP re-issues the serving certificate, keeping the old names', async () => {
    const pki = await ensureClusterPki(dataDir, { hostNames: ['server-1'], ips: ['192.0.2.1', '192.0.2.99'] });
    const info = readCertificate(pki.serving.certPem);
    assert.ok(info.ipAddresses.includes('192.0.2.99'));
    assert.ok(info.dnsNames.includes('server-1'));
    assert.equal(await readFile(pki.paths.serverCert, 'utf8'), pki.serving.certPem);
  });

  test('renewal re-issues leaf certificates within 90 days of expiry, never the CA', async () => {
    const pki = await ensureClusterPki(dataDir);
    const caBefore = pki.ca.certPem;
    const fresh = await renewLeafCertificates(pki, { now: new Date() });
    assert.deepEqual(fresh.renewed, []);
    const later = new Date(Date.now() + 300 * DAY);
    const result = await renewLeafCertificates(pki, { now: later });
    assert.deepEqual(result.renewed.sort(), ['admin', 'server']);
    assert.equal(pki.ca.certPem, caBefore);
    assert.ok(readCertificate(pki.serving.certPem).notAfter.getTime() > later.getTime() + 300 * DAY);
  });

  test('a second server joins with the sealed bundle and the same token', async () => {
    const first = await ensureClusterPki(dataDir);
    const sealed = sealSecrets(clusterSecretBundle(first), first.token);
    assert.ok(!sealed.includes('PRIVATE KEY'));
    assert.throws(() => unsealSecrets(sealed, 'K10' + '0'.repeat(64) + '::server:wrong'), /token does not match/);
    // the bare secret (what a user types as --token) unseals too
    const bundle = unsealSecrets(sealed, parseJoinToken(first.token).secret);
    const otherDir = await mkdtemp(join(tmpdir(), 'navarch-pki-ha-'));
    try {
      const second = await ensureClusterPki(otherDir, { bundle, token: first.token, hostNames: ['server-2'] });
      assert.equal(second.ca.certPem, first.ca.certPem);
      assert.equal(second.serviceAccountKeyPem, first.serviceAccountKeyPem);
      assert.equal(second.token, first.token);
      assert.notEqual(second.serving.certPem, first.serving.certPem);
      assert.ok(joinTokenMatches(first.token, second.token));
      // a data dir that already holds another cluster's CA must not be silently overwritten
      await ensureClusterPki(join(otherDir, 'x'));
      await assert.rejects(ensureClusterPki(join(otherDir, 'x'), { bundle }), /different cluster/);
    } finally {
      await rm(otherDir, { recursive: true, force: true });
    }
  });

  test('real kubectl accepts the generated kubeconfig against a loopback https server', { skip: !existsSync('/usr/bin/kubectl') }, async () => {
    const pki = await ensureClusterPki(dataDir);
    const { server, port } = await startServer(pki.serving, pki.ca.certPem);
    const kubeconfig = join(dataDir, 'kubeconfig.yaml');
    try {
      await writeKubeconfig(kubeconfig, {
        server: `https://127.0.0.1:${port}`,
        caPem: pki.ca.certPem,
        clientCertPem: pki.admin.certPem,
        clientKeyPem: pki.admin.keyPem,
        contextName: 'navarch',
      });
      const parsed = parse(await readFile(kubeconfig, 'utf8'));
      assert.equal(parsed['current-context'], 'navarch');
      assert.equal((await stat(kubeconfig)).mode & 0o777, 0o600);
      const { stdout } = await run('/usr/bin/kubectl', ['--kubeconfig', kubeconfig, 'get', '--raw', '/'], { timeout: 20_000 });
      assert.equal(stdout.trim(), '{}');
      // and the same kubectl refuses a kubeconfig whose CA does not match
      const other = await createCertificateAuthority();
      await writeFile(kubeconfig, (await readFile(kubeconfig, 'utf8')).replace(Buffer.from(pki.ca.certPem).toString('base64'), Buffer.from(other.certPem).toString('base64')));
      await assert.rejects(run('/usr/bin/kubectl', ['--kubeconfig', kubeconfig, 'get', '--raw', '/'], { timeout: 20_000 }), /certificate/);
    } finally {
      server.close();
    }
  });
});
