// Runs the shared contract against real runc containers. Needs root and runc: without them
// the suite fails with the reason (it never passes silently).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { runRuntimeContract, waitFor } from '../contract.js';
import { OciRuntime, preflight } from './oci-runtime.js';
import { ImageStore } from '../images/store.js';
import { busyboxArchive } from '../images/testing.js';

const execFileP = promisify(execFile);
const roots: string[] = [];
after(async () => { for (const r of roots) await fsp.rm(r, { recursive: true, force: true }); });

async function setUp() {
  preflight('runc');
  const root = await fsp.mkdtemp(path.join(os.tmpdir(), 'navarch-oci-rt-'));
  roots.push(root);
  const images = new ImageStore(path.join(root, 'images'));
  await images.importArchive(await busyboxArchive());
  const make = () => new OciRuntime({ root: path.join(root, 'state'), images, runtimeStateRoot: path.join(root, 'runc'), cgroupRoot: `/navarch-test-${path.basename(root)}` });
  return { root, images, make };
}

runRuntimeContract('oci (runc)', async () => {
  const { root, make } = await setUp();
  let current = make();
  return {
    runtime: current,
    image: 'busybox',
    logRoot: path.join(root, 'logs'),
    async restart() { current = make(); return current; },
    async cleanup() { for (const s of await current.listPodSandbox()) await current.removePodSandbox(s.id); },
  };
});

test('oci: memory limit exceeded is reported as OOMKilled (137)', async () => {
  const { root, make } = await setUp();
  const rt = make();
  const sc = { metadata: { name: 'oom', uid: 'oom-uid', namespace: 'default' }, logDirectory: path.join(root, 'logs') };
  const sb = await rt.runPodSandbox(sc);
  try {
    const id = await rt.createContainer(sb, {
      metadata: { name: 'hog' }, image: { image: 'busybox' }, logPath: 'hog.log',
      // tail buffers its whole input in memory: /dev/zero has no newline, so it grows until killed.
      command: ['sh', '-c', 'tail /dev/zero'],
      linux: { resources: { memoryLimitInBytes: 16 << 20 } },
    }, sc);
    await rt.startContainer(id);
    const s = await waitFor('OOM kill', async () => { const st = await rt.containerStatus(id); return st.state === 'CONTAINER_EXITED' && st; }, 20_000);
    assert.equal(s.reason, 'OOMKilled');
    assert.equal(s.exitCode, 137);
  } finally { await rt.removePodSandbox(sb); }
});

test('oci: the pod network namespace is exposed, isolated, and port-forward reaches into it', async () => {
  const { root, make } = await setUp();
  const rt = make();
  const sc = { metadata: { name: 'web', uid: 'web-uid', namespace: 'default' }, hostname: 'web-0', logDirectory: path.join(root, 'logs') };
  const sb = await rt.runPodSandbox(sc);
  try {
    const st = await rt.podSandboxStatus(sb);
    assert.match(st.network!.namespacePath!, /^\/run\/netns\/navarch-/);
    const { stdout } = await execFileP('ip', ['netns', 'exec', path.basename(st.network!.namespacePath!), 'ip', '-o', 'link']);
    assert.deepEqual(stdout.trim().split('\n').map((l) => l.split(':')[1].trim()), ['lo'], 'only loopback until CNI adds an interface');
    const id = await rt.createContainer(sb, {
      metadata: { name: 'httpd' }, image: { image: 'busybox' }, logPath: 'httpd.log',
      command: ['sh', '-c', 'echo -n "hello from $(hostname)" > /var/www/index.html && exec httpd -f -p 127.0.0.1:8080 -h /var/www'],
    }, sc);
    await rt.startContainer(id);
    const body = await waitFor('http answer through port-forward', async () => {
      const sock = await rt.portForward(sb, 8080);
      const chunks: Buffer[] = [];
      sock.on('data', (d: Buffer) => chunks.push(d));
      sock.write('GET / HTTP/1.0\r\n\r\n');
      await new Promise((r) => sock.on('end', r));
      const text = Buffer.concat(chunks).toString();
      return text.includes('200 OK') && text.split('\r\n\r\n')[1];
    }, 5000);
    assert.equal(body, 'hello from web-0');
  } finally { await rt.removePodSandbox(sb); }
});
