import { test } from 'node:test';
import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runRuntimeContract, waitFor } from '../contract.js';
import { FakeNode, FakeRuntime, fakeAnnotations } from './fake-runtime.js';

runRuntimeContract('fake', async () => {
  const root = await fsp.mkdtemp(path.join(os.tmpdir(), 'navarch-fake-rt-'));
  const node = new FakeNode();
  return {
    runtime: new FakeRuntime(node),
    image: 'busybox',
    logRoot: root,
    async restart() { return new FakeRuntime(node); },
    async cleanup() { await fsp.rm(root, { recursive: true, force: true }); },
  };
});

test('fake: annotations script exit, OOM and reported usage', async () => {
  const rt = new FakeRuntime(new FakeNode({ writeLogs: false }));
  const sc = { metadata: { name: 'p', uid: 'u', namespace: 'd' } };
  const sb = await rt.runPodSandbox(sc);
  const oom = await rt.createContainer(sb, { metadata: { name: 'c' }, image: { image: 'nginx' }, annotations: { [fakeAnnotations.exitAfterSeconds]: '0.05', [fakeAnnotations.oomKill]: 'true' } }, sc);
  const busy = await rt.createContainer(sb, { metadata: { name: 'd' }, image: { image: 'nginx' }, annotations: { [fakeAnnotations.memoryBytes]: '1000' } }, sc);
  await rt.startContainer(oom);
  await rt.startContainer(busy);
  const s = await waitFor('oom', async () => { const st = await rt.containerStatus(oom); return st.state === 'CONTAINER_EXITED' && st; });
  assert.equal(s.reason, 'OOMKilled');
  assert.equal(s.exitCode, 137);
  assert.equal((await rt.containerStatus(busy)).state, 'CONTAINER_RUNNING', 'an image without a command runs like a server');
  assert.equal((await rt.containerStats(busy)).memory.workingSetBytes, 1000);
  await rt.removePodSandbox(sb);
});

test('fake: 30,000 pods fit comfortably in one process', async () => {
  const rt = new FakeRuntime(new FakeNode({ writeLogs: false }));
  const before = process.memoryUsage().heapUsed;
  const t0 = Date.now();
  for (let i = 0; i < 30_000; i++) {
    const sc = { metadata: { name: `p${i}`, uid: `u${i}`, namespace: 'd' }, labels: { app: 'scale' } };
    const sb = await rt.runPodSandbox(sc);
    const c = await rt.createContainer(sb, { metadata: { name: 'app' }, image: { image: 'pause' } }, sc);
    await rt.startContainer(c);
  }
  const perPod = (process.memoryUsage().heapUsed - before) / 30_000;
  assert.equal((await rt.listContainers({ state: 'CONTAINER_RUNNING' })).length, 30_000);
  assert.ok(perPod < 8 * 1024, `heap per pod ${Math.round(perPod)} bytes`);
  assert.ok(Date.now() - t0 < 10_000);
});
