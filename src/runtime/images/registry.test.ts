// Pulls from Debian's real `docker-registry` on loopback, fed by skopeo, directly, through a
// mirror, over HTTPS, and through an auth front (bearer realm flow and basic auth).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { NodeImageService } from './image-service.js';
import { busyboxArchive } from './testing.js';
import { parseWwwAuthenticate } from './registry.js';
import type { PullProgress } from '../types.js';

const execFileP = promisify(execFile);
let dir: string;
let port: number;
let tlsPort: number;
let caPem: string;
const children: ChildProcess[] = [];
const servers: http.Server[] = [];

async function freePort(): Promise<number> {
  return new Promise((resolve) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => resolve(p)); }); });
}

async function startRegistry(name: string, p: number, tls?: { cert: string; key: string }): Promise<void> {
  const cfg = path.join(dir, `${name}.yml`);
  await fsp.writeFile(cfg, [
    'version: 0.1', 'log:', '  level: error', 'storage:', '  filesystem:', `    rootdirectory: ${path.join(dir, 'registry-data')}`,
    'http:', `  addr: 127.0.0.1:${p}`, ...(tls ? ['  tls:', `    certificate: ${tls.cert}`, `    key: ${tls.key}`] : []), '',
  ].join('\n'));
  const child = spawn('docker-registry', ['serve', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d) => { stderr += d; });
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => { const s = net.connect(p, '127.0.0.1', () => { s.end(); resolve(true); }); s.on('error', () => resolve(false)); });
    if (ok) return;
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`docker-registry did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

before(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'navarch-registry-'));
  port = await freePort();
  tlsPort = await freePort();
  await execFileP('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
    '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')]);
  caPem = await fsp.readFile(path.join(dir, 'cert.pem'), 'utf8');
  await startRegistry('plain', port);
  await startRegistry('tls', tlsPort, { cert: path.join(dir, 'cert.pem'), key: path.join(dir, 'key.pem') });
  const archive = await busyboxArchive();
  const oci = path.join(dir, 'busybox-oci.tar');
  await execFileP('skopeo', ['copy', '-q', `docker-archive:${archive}`, `oci-archive:${oci}:busybox:latest`]);
  await execFileP('skopeo', ['copy', '-q', '--dest-tls-verify=false', `oci-archive:${oci}`, `docker://127.0.0.1:${port}/busybox:latest`]);
  await execFileP('skopeo', ['copy', '-q', '--dest-tls-verify=false', `docker-archive:${archive}`, `docker://127.0.0.1:${port}/library/busybox:latest`]);
  // The same image as a Docker v2 manifest (a different manifest and config digest) in the same repository.
  await execFileP('skopeo', ['copy', '-q', '--dest-tls-verify=false', `docker-archive:${archive}`, `docker://127.0.0.1:${port}/busybox:docker`]);
});

after(async () => {
  for (const c of children) c.kill();
  for (const s of servers) s.close();
  await fsp.rm(dir, { recursive: true, force: true });
});

const service = async (name: string, extra: Partial<ConstructorParameters<typeof NodeImageService>[0]> = {}) =>
  new NodeImageService({ root: path.join(dir, 'stores', name), ...extra });

test('WWW-Authenticate challenges parse', () => {
  assert.deepEqual(parseWwwAuthenticate('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"'),
    { scheme: 'bearer', params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull,push' } });
  assert.equal(parseWwwAuthenticate('Basic realm="x"').scheme, 'basic');
});

test('pulls over HTTP from a loopback registry, with progress; a second pull fetches nothing', async () => {
  const svc = await service('plain');
  const progress: PullProgress[] = [];
  const ref = `127.0.0.1:${port}/busybox:latest`;
  const id = await svc.pullImage(ref, undefined, (p) => progress.push(p));
  const img = await svc.imageStatus(ref);
  assert.equal(img?.id, id);
  assert.deepEqual(img?.repoTags, [ref]);
  assert.match(img!.repoDigests[0], new RegExp(`^127\\.0\\.0\\.1:${port}/busybox@sha256:[a-f0-9]{64}$`));
  assert.deepEqual(img?.spec?.Cmd, ['sh']);
  const last = progress.at(-1)!;
  assert.equal(last.bytesDone, last.bytesTotal);
  assert.equal(last.layersDone, 1);
  const { layers } = await svc.store.rootfsOf(ref);
  await fsp.access(path.join(layers[0].fsDir, 'bin/busybox'));
  assert.equal(await svc.pullImage(ref), id);
  assert.equal((await svc.imageStatus(img!.repoDigests[0]))?.id, id, 'found by repo digest');
  const fsInfo = await svc.imageFsInfo();
  assert.ok(fsInfo[0].usedBytes > 1_000_000);
  await svc.removeImage(ref);
  assert.equal(await svc.imageStatus(ref), null);
  await assert.rejects(svc.pullImage(`127.0.0.1:${port}/nothere:latest`), /not found|manifest unknown/);
});

test('a mirror serves docker.io references; manifest lists resolve to linux/amd64', async () => {
  const svc = await service('mirror', { mirrors: { 'docker.io': [`http://127.0.0.1:${port}`] } });
  await svc.pullImage('busybox');
  assert.deepEqual((await svc.imageStatus('busybox'))?.repoTags, ['docker.io/library/busybox:latest']);
  // Publish an OCI index: amd64 → the OCI manifest of busybox:latest, arm64 → the Docker one of busybox:docker.
  const describe = async (tag: string) => {
    const man = await fetch(`http://127.0.0.1:${port}/v2/busybox/manifests/${tag}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' } });
    const body = Buffer.from(await man.arrayBuffer());
    return { mediaType: man.headers.get('content-type')!, digest: man.headers.get('docker-content-digest')!, size: body.length, config: JSON.parse(body.toString()).config.digest };
  };
  const amd64 = await describe('latest');
  const arm64 = await describe('docker');
  assert.notEqual(amd64.config, arm64.config);
  const index = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [
    { mediaType: arm64.mediaType, digest: arm64.digest, size: arm64.size, platform: { os: 'linux', architecture: 'arm64' } },
    { mediaType: amd64.mediaType, digest: amd64.digest, size: amd64.size, platform: { os: 'linux', architecture: 'amd64' } },
  ] };
  const put = await fetch(`http://127.0.0.1:${port}/v2/busybox/manifests/multi`, { method: 'PUT', headers: { 'content-type': index.mediaType }, body: JSON.stringify(index) });
  assert.equal(put.status, 201, await put.text());
  const plain = await service('multi');
  const id = await plain.pullImage(`127.0.0.1:${port}/busybox:multi`);
  assert.equal(id, amd64.config);
  const img = await plain.imageStatus(`127.0.0.1:${port}/busybox:multi`);
  assert.ok(img?.repoDigests.some((d) => !d.endsWith(amd64.digest)), 'the repo digest is the index digest');
});

test('HTTPS with a CA, and refused without one', async () => {
  const ref = `127.0.0.1:${tlsPort}/busybox:latest`;
  const withCa = await service('tls', { ca: caPem });
  await withCa.pullImage(ref);
  assert.ok(await withCa.imageStatus(ref));
  await assert.rejects((await service('tls-noca')).pullImage(ref), /self.signed|certificate/i);
  const insecure = await service('tls-insecure', { insecureRegistries: [`127.0.0.1:${tlsPort}`] });
  await insecure.pullImage(ref);
});

function authFront(mode: 'bearer' | 'basic'): Promise<number> {
  const creds = `Basic ${Buffer.from('alice:s3cret').toString('base64')}`;
  const server = http.createServer((req, res) => {
    const self = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    if (req.url!.startsWith('/token')) {
      if (req.headers.authorization !== creds) { res.writeHead(401).end('bad credentials'); return; }
      const scope = new URL(req.url!, self).searchParams.get('scope');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: `tok:${scope}` }));
      return;
    }
    const ok = mode === 'bearer' ? req.headers.authorization === 'Bearer tok:repository:busybox:pull' : req.headers.authorization === creds;
    if (!ok) {
      res.writeHead(401, { 'www-authenticate': mode === 'bearer' ? `Bearer realm="${self}/token",service="front",scope="repository:busybox:pull"` : 'Basic realm="front"' }).end();
      return;
    }
    const up = http.request({ host: '127.0.0.1', port, path: req.url, method: req.method, headers: { accept: req.headers.accept ?? '*/*' } }, (r) => { res.writeHead(r.statusCode!, r.headers); r.pipe(res); });
    up.on('error', () => res.destroy());
    up.end();
  });
  servers.push(server);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
}

test('bearer token realm flow and basic auth', async () => {
  for (const mode of ['bearer', 'basic'] as const) {
    const front = await authFront(mode);
    const ref = `127.0.0.1:${front}/busybox:latest`;
    const svc = await service(`auth-${mode}`);
    await assert.rejects(svc.pullImage(ref, { username: 'alice', password: 'wrong' }), /failed to pull/);
    await svc.pullImage(ref, { username: 'alice', password: 's3cret' });
    assert.ok(await svc.imageStatus(ref), mode);
  }
});
