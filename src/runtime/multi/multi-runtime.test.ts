import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runRuntimeContract, waitFor } from '../contract.js';
import { FakeNode, FakeRuntime } from '../fake/fake-runtime.js';
import { ProcessRuntime } from '../process/process-runtime.js';
import { RuntimeError, type PodSandboxConfig } from '../types.js';
import { MultiRuntime } from './multi-runtime.js';

// The multiplexer must itself be a conforming runtime (default handler: process).
runRuntimeContract('multi(process+fake)', async () => {
  const root = await fsp.mkdtemp(path.join(os.tmpdir(), 'navarch-multi-rt-'));
  const fakeNode = new FakeNode();
  const opened: ProcessRuntime[] = [];
  const build = () => {
    const p = new ProcessRuntime({ root: path.join(root, 'state') });
    opened.push(p);
    return new MultiRuntime({ defaultHandler: 'process', handlers: { process: p, fake: new FakeRuntime(fakeNode) } });
  };
  const runtimes = [build()];
  return {
    runtime: runtimes[0],
    image: 'host',
    logRoot: path.join(root, 'logs'),
    async restart() { const r = build(); runtimes.push(r); return r; },
    async cleanup() {
      const r = runtimes[runtimes.length - 1];
      for (const s of await r.listPodSandbox()) await r.removePodSandbox(s.id);
      for (const p of opened) await p.close();
      await fsp.rm(root, { recursive: true, force: true });
    },
  };
});

function sandboxConfig(name: string, logRoot: string): PodSandboxConfig {
  return { metadata: { name, uid: `uid-${name}`, namespace: 'default' }, logDirectory: path.join(logRoot, name), labels: { pod: name } };
}

describe('MultiRuntime routing', () => {
  test('runs each sandbox on the handler it names and routes later calls to that owner', async () => {
    const a = new FakeNode();
    const b = new FakeNode();
    const logs = await fsp.mkdtemp(path.join(os.tmpdir(), 'navarch-multi-logs-'));
    try {
      const rt = new MultiRuntime({ defaultHandler: 'a', handlers: { a: new FakeRuntime(a), b: new FakeRuntime(b) } });
      const sa = await rt.runPodSandbox(sandboxConfig('pa', logs));
      const sb = await rt.runPodSandbox(sandboxConfig('pb', logs), 'b');
      assert.ok(a.sandboxes.has(sa) && !b.sandboxes.has(sa), 'no handler named: the default one');
      assert.ok(b.sandboxes.has(sb) && !a.sandboxes.has(sb));
      assert.equal((await rt.podSandboxStatus(sb)).runtimeHandler, 'b');
      assert.equal((await rt.podSandboxStatus(sa)).runtimeHandler, 'a');

      const cb = await rt.createContainer(sb, { metadata: { name: 'c' }, image: { image: 'busybox' }, command: ['sh', '-c', 'echo hi; sleep 30'], logPath: 'c.log' }, sandboxConfig('pb', logs));
      assert.ok(b.containers.has(cb) && !a.containers.has(cb));
      await rt.startContainer(cb);
      assert.equal((await rt.containerStatus(cb)).state, 'CONTAINER_RUNNING');

      // Lists merge every handler's.
      assert.deepEqual((await rt.listPodSandbox()).map((s) => s.id).sort(), [sa, sb].sort());
      assert.deepEqual((await rt.listContainers()).map((c) => c.id), [cb]);
      assert.deepEqual((await rt.listPodSandbox({ labelSelector: { pod: 'pb' } })).map((s) => s.id), [sb]);

      await rt.stopContainer(cb, 0);
      assert.equal(b.containers.get(cb)!.state, 'CONTAINER_EXITED');
      await rt.removePodSandbox(sb);
      assert.equal(b.sandboxes.size, 0);
      assert.equal(a.sandboxes.size, 1);
    } finally {
      await fsp.rm(logs, { recursive: true, force: true });
    }
  });

  test('an unknown handler fails with containerd\'s message; an unavailable one with its reason', async () => {
    const rt = new MultiRuntime({ defaultHandler: 'runc', handlers: { runc: new FakeRuntime() }, unavailable: { crun: 'crun does not support cgroups in hybrid mode' } });
    await assert.rejects(rt.runPodSandbox(sandboxConfig('x', '/tmp'), 'kata'), (e: unknown) => e instanceof RuntimeError && e.message === 'failed to get sandbox runtime: no runtime for "kata" is configured');
    await assert.rejects(rt.runPodSandbox(sandboxConfig('y', '/tmp'), 'crun'), /crun does not support cgroups in hybrid mode/);
    assert.equal((await rt.listPodSandbox()).length, 0);
  });

  test('advertises the default handler as "" and every runnable handler by name', async () => {
    const rt = new MultiRuntime({ defaultHandler: 'runc', handlers: { process: new FakeRuntime(), runc: new FakeRuntime() }, unavailable: { crun: 'no' } });
    const features = { recursiveReadOnlyMounts: false, userNamespaces: false };
    assert.deepEqual(await rt.runtimeHandlers(), [{ name: '', features }, { name: 'runc', features }, { name: 'process', features }]);
    assert.throws(() => new MultiRuntime({ defaultHandler: 'runc', handlers: { process: new FakeRuntime() } }), /default runtime handler "runc"/);
  });

  test('a restarted agent recovers which handler owns what from the handlers\' own lists', async () => {
    const root = await fsp.mkdtemp(path.join(os.tmpdir(), 'navarch-multi-restart-'));
    const procs: ProcessRuntime[] = [];
    const build = (fake: FakeNode) => {
      const p = new ProcessRuntime({ root: path.join(root, 'state'), prewarmShim: false });
      procs.push(p);
      return new MultiRuntime({ defaultHandler: 'fake', handlers: { fake: new FakeRuntime(fake), process: p } });
    };
    try {
      const fake = new FakeNode();
      const before = build(fake);
      const sc = sandboxConfig('host', path.join(root, 'logs'));
      const sb = await before.runPodSandbox(sc, 'process');
      const c = await before.createContainer(sb, { metadata: { name: 'c' }, image: { image: 'host' }, command: ['sh', '-c', 'echo $$; sleep 30'], logPath: 'c.log' }, sc);

      const after = build(fake);
      // Nothing remembered in memory: starting must still reach the process handler (the fake one does not know the id).
      await after.startContainer(c);
      const st = await waitFor('running', async () => { const s = await after.containerStatus(c); return s.state === 'CONTAINER_RUNNING' ? s : undefined; });
      assert.ok(st.pid && st.pid > 0, 'a real host process');
      assert.equal(await after.sandboxHandler(sb), 'process');
      assert.equal(await after.containerHandler(c), 'process');
      assert.equal(fake.sandboxes.size, 0);
      await after.stopContainer(c, 0);
      await after.removePodSandbox(sb);
      assert.deepEqual(await after.listPodSandbox(), []);
    } finally {
      for (const p of procs) await p.close();
      await fsp.rm(root, { recursive: true, force: true });
    }
  });
});
