// The one behavioural contract every runtime (oci, process, fake) must pass unchanged.
// Container programs are written as small POSIX shell scripts; the fake runtime simulates
// exactly that subset (see fake/README.md), the others really run them.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { RuntimeService, PodSandboxConfig, ContainerConfig, ContainerStatus } from './types.js';
import { RuntimeError } from './types.js';
import { readCriLog } from './shim/cri-log.js';

export interface RuntimeHarness {
  runtime: RuntimeService;
  /** Image every test container uses. */
  image: string;
  /** Where the test may put container logs. */
  logRoot: string;
  /** A fresh runtime instance over the same persisted (or simulated) state: an agent restart. */
  restart(): Promise<RuntimeService>;
  cleanup(): Promise<void>;
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try { const v = await fn(); if (v) return v; } catch (e) { last = e; }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ''}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function runRuntimeContract(name: string, factory: () => Promise<RuntimeHarness>): void {
  describe(`runtime contract: ${name}`, () => {
    let h: RuntimeHarness;
    let rt: RuntimeService;
    let n = 0;
    before(async () => { h = await factory(); rt = h.runtime; });
    after(async () => { await h?.cleanup(); });

    const sandboxConfig = (labels: Record<string, string> = {}): PodSandboxConfig => {
      n++;
      return {
        metadata: { name: `pod-${n}`, uid: `uid-${n}`, namespace: 'default', attempt: 0 },
        hostname: `pod-${n}`,
        logDirectory: path.join(h.logRoot, `default_pod-${n}_uid-${n}`),
        labels: { app: 'contract', ...labels },
        annotations: { note: 'x' },
        linux: { securityContext: { namespaceOptions: { network: 'POD' } } },
      };
    };
    const containerConfig = (cname: string, script: string, extra: Partial<ContainerConfig> = {}): ContainerConfig => ({
      metadata: { name: cname, attempt: 0 },
      image: { image: h.image },
      command: ['sh', '-c', script],
      logPath: `${cname}/0.log`,
      labels: { container: cname },
      ...extra,
    });
    const exited = (id: string, timeoutMs = 10_000, r: RuntimeService = rt) =>
      waitFor<ContainerStatus>(`container ${id} to exit`, async () => { const s = await r.containerStatus(id); return s.state === 'CONTAINER_EXITED' && s.finishedAt > 0 ? s : undefined; }, timeoutMs);
    const logOf = async (s: ContainerStatus) => readCriLog(await fsp.readFile(s.logPath, 'utf8'));
    async function run(script: string, extra: Partial<ContainerConfig> = {}) {
      const sc = sandboxConfig();
      const sb = await rt.runPodSandbox(sc);
      const id = await rt.createContainer(sb, containerConfig('main', script, extra), sc);
      await rt.startContainer(id);
      return { sb, id, sc };
    }

    test('reports a version', async () => {
      const v = await rt.version();
      assert.ok(v.runtimeName && v.runtimeVersion);
    });

    test('sandbox lifecycle: run, status, list by label, stop, remove', async () => {
      const sc = sandboxConfig({ lifecycle: 'yes' });
      const id = await rt.runPodSandbox(sc);
      const st = await rt.podSandboxStatus(id);
      assert.equal(st.state, 'SANDBOX_READY');
      assert.deepEqual(st.metadata, sc.metadata);
      assert.equal(st.labels.lifecycle, 'yes');
      assert.ok(st.createdAt > 0);
      const listed = await rt.listPodSandbox({ labelSelector: { lifecycle: 'yes' } });
      assert.deepEqual(listed.map((s) => s.id), [id]);
      assert.equal((await rt.listPodSandbox({ labelSelector: { lifecycle: 'no' } })).length, 0);
      await rt.stopPodSandbox(id);
      assert.equal((await rt.podSandboxStatus(id)).state, 'SANDBOX_NOTREADY');
      await rt.stopPodSandbox(id); // idempotent
      await rt.removePodSandbox(id);
      await assert.rejects(rt.podSandboxStatus(id), (e: any) => e instanceof RuntimeError && e.code === 'NotFound');
      await rt.removePodSandbox(id); // idempotent
    });

    test('container lifecycle: created, running, exit code, CRI logs, remove', async () => {
      const sc = sandboxConfig();
      const sb = await rt.runPodSandbox(sc);
      const id = await rt.createContainer(sb, containerConfig('worker', 'echo hello world; echo oops >&2; sleep 0.3; exit 3'), sc);
      let s = await rt.containerStatus(id);
      assert.equal(s.state, 'CONTAINER_CREATED');
      assert.equal(s.startedAt, 0);
      assert.equal((await rt.listContainers({ podSandboxId: sb })).length, 1);
      await rt.startContainer(id);
      s = await rt.containerStatus(id);
      assert.equal(s.state, 'CONTAINER_RUNNING');
      assert.ok(s.startedAt >= s.createdAt);
      s = await exited(id);
      assert.equal(s.exitCode, 3);
      assert.equal(s.reason, 'Error');
      assert.ok(s.finishedAt >= s.startedAt);
      const raw = await fsp.readFile(s.logPath, 'utf8');
      assert.match(raw, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z stdout F hello world$/m);
      assert.match(raw, /^\S+ stderr F oops$/m);
      assert.deepEqual((await rt.listContainers({ state: 'CONTAINER_EXITED', podSandboxId: sb })).map((c) => c.id), [id]);
      await rt.removeContainer(id);
      await assert.rejects(rt.containerStatus(id), (e: any) => e.code === 'NotFound');
      await rt.removeContainer(id);
      await rt.removePodSandbox(sb);
    });

    test('a zero exit is Completed; env and workingDir are honoured', async () => {
      const { id, sb } = await run('echo "$GREETING from $(pwd)"', { envs: [{ key: 'GREETING', value: 'hi there' }], workingDir: '/tmp' });
      const s = await exited(id);
      assert.equal(s.exitCode, 0);
      assert.equal(s.reason, 'Completed');
      assert.deepEqual((await logOf(s)).map((l) => l.content), ['hi there from /tmp']);
      await rt.removePodSandbox(sb);
    });

    test('execSync and streaming exec into a running container', async () => {
      const { id, sb } = await run('sleep 1000');
      const r = await rt.execSync(id, ['sh', '-c', 'echo out; echo err >&2; exit 4'], 10);
      assert.equal(r.stdout.toString(), 'out\n');
      assert.equal(r.stderr.toString(), 'err\n');
      assert.equal(r.exitCode, 4);
      const session = await rt.exec(id, ['cat'], { stdin: true });
      const chunks: Buffer[] = [];
      session.stdout.on('data', (d: Buffer) => chunks.push(d));
      session.stdin!.end('ping\n');
      assert.equal(await session.exit, 0);
      await waitFor('exec output', async () => Buffer.concat(chunks).toString() === 'ping\n', 2000);
      const tty = await rt.exec(id, ['sh', '-c', 'echo to-out; echo to-err >&2; exit 2'], { tty: true });
      assert.equal(tty.stderr, null, 'a terminal has one output stream');
      let ttyOut = '';
      tty.stdout.on('data', (d: Buffer) => { ttyOut += d.toString(); });
      assert.equal(await tty.exit, 2);
      await waitFor('tty output', async () => /to-out\r?\n/.test(ttyOut) && /to-err\r?\n/.test(ttyOut), 2000);
      const stats = await rt.containerStats(id);
      assert.ok(stats.memory.workingSetBytes > 0, 'working set is reported');
      assert.ok(stats.cpu.usageCoreNanoSeconds >= 0);
      assert.equal((await rt.listContainerStats({ podSandboxId: sb })).length, 1);
      await rt.stopContainer(id, 0);
      await assert.rejects(rt.execSync(id, ['true']), (e: any) => e.code === 'FailedPrecondition');
      await rt.removePodSandbox(sb);
    });

    test('stop: SIGTERM is honoured within the grace period', async () => {
      const { id, sb } = await run('trap "echo got TERM; exit 7" TERM; echo ready; sleep 1000 & wait');
      await waitFor('ready', async () => (await logOf(await rt.containerStatus(id))).some((l) => l.content === 'ready'));
      const t0 = Date.now();
      await rt.stopContainer(id, 10);
      const s = await rt.containerStatus(id);
      assert.equal(s.state, 'CONTAINER_EXITED');
      assert.equal(s.exitCode, 7);
      assert.ok(Date.now() - t0 < 5000, 'did not wait for the whole grace period');
      assert.ok((await logOf(s)).some((l) => l.content === 'got TERM'));
      await rt.stopContainer(id, 10); // idempotent
      await rt.removePodSandbox(sb);
    });

    test('stop: SIGKILL after the grace period when SIGTERM is ignored', async () => {
      const { id, sb } = await run('trap "" TERM; echo ready; sleep 1000 & wait');
      await waitFor('ready', async () => (await logOf(await rt.containerStatus(id))).some((l) => l.content === 'ready'));
      const t0 = Date.now();
      await rt.stopContainer(id, 1);
      const took = Date.now() - t0;
      const s = await rt.containerStatus(id);
      assert.equal(s.state, 'CONTAINER_EXITED');
      assert.equal(s.exitCode, 137);
      assert.ok(took >= 900 && took < 6000, `grace period respected (${took} ms)`);
      await rt.removePodSandbox(sb);
    });

    test('attach writes to the container stdin and streams its output; reopenContainerLog follows rotation', async () => {
      const { id, sb } = await run('cat', { stdin: true });
      const session = await rt.attach(id, { stdin: true });
      const chunks: Buffer[] = [];
      session.stdout.on('data', (d: Buffer) => chunks.push(d));
      session.stdin!.write('first line\n');
      await waitFor('echo through attach', async () => Buffer.concat(chunks).toString() === 'first line\n', 5000);
      const s = await rt.containerStatus(id);
      await waitFor('first line logged', async () => (await logOf(s)).some((l) => l.content === 'first line'));
      await fsp.rename(s.logPath, `${s.logPath}.1`);
      await rt.reopenContainerLog(id);
      session.stdin!.write('second line\n');
      await waitFor('second line in the new log', async () => (await logOf(s).catch(() => [])).some((l) => l.content === 'second line'));
      assert.ok(!(await logOf(s)).some((l) => l.content === 'first line'), 'the new file starts after the rotation');
      session.close();
      await rt.removePodSandbox(sb);
    });

    test('a restarted runtime re-discovers sandboxes and containers', async () => {
      const sc = sandboxConfig({ restart: 'yes' });
      const sb = await rt.runPodSandbox(sc);
      const running = await rt.createContainer(sb, containerConfig('server', 'echo up; sleep 1000'), sc);
      const done = await rt.createContainer(sb, containerConfig('job', 'exit 5'), sc);
      await rt.startContainer(running);
      await rt.startContainer(done);
      await exited(done);
      const rt2 = await h.restart();
      const sandboxes = await rt2.listPodSandbox({ labelSelector: { restart: 'yes' } });
      assert.deepEqual(sandboxes.map((s) => [s.id, s.state]), [[sb, 'SANDBOX_READY']]);
      const byId = new Map((await rt2.listContainers({ podSandboxId: sb })).map((c) => [c.id, c.state]));
      assert.equal(byId.get(running), 'CONTAINER_RUNNING');
      assert.equal(byId.get(done), 'CONTAINER_EXITED');
      assert.equal((await rt2.containerStatus(done)).exitCode, 5);
      const rs = await rt2.containerStatus(running);
      assert.ok(rs.startedAt > 0);
      assert.equal((await rt2.execSync(running, ['echo', 'still here'])).stdout.toString(), 'still here\n');
      await rt2.stopContainer(running, 1);
      assert.equal((await rt2.containerStatus(running)).state, 'CONTAINER_EXITED');
      await rt2.removePodSandbox(sb);
      assert.equal((await rt2.listContainers({ podSandboxId: sb })).length, 0);
      rt = rt2;
    });
  });
}
