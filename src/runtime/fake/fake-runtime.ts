// Simulated pods for scale tests and hollow (kubemark-style) nodes: no processes, no files
// unless logs are asked for. A FakeNode is the simulated machine; FakeRuntime is the agent's
// view of it, so "restarting the agent" is a new FakeRuntime over the same FakeNode.
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough, type Duplex } from 'node:stream';
import {
  RuntimeError, notFound, matchesLabels,
  type RuntimeService, type PodSandboxConfig, type PodSandboxStatus, type PodSandbox, type PodSandboxFilter, type PodSandboxState,
  type ContainerConfig, type Container, type ContainerFilter, type ContainerStatus, type ContainerState,
  type ExecSyncResult, type ExecOptions, type StreamSession, type ContainerStats, type ContainerStatsFilter, type VersionResponse,
} from '../types.js';
import { formatCriLogLine } from '../shim/cri-log.js';
import { FakeProcess } from './fake-process.js';

/** Annotations (pod or container) that script a fake container's behaviour. */
export const fakeAnnotations = {
  /** Exit this many seconds after start, whatever the command says. */
  exitAfterSeconds: 'fake.navarch.io/exit-after-seconds',
  exitCode: 'fake.navarch.io/exit-code',
  /** Reported usage. */
  cpuNanoCores: 'fake.navarch.io/cpu-nanocores',
  memoryBytes: 'fake.navarch.io/memory-bytes',
  /** "true": exit as OOMKilled (137) at the exit time. */
  oomKill: 'fake.navarch.io/oom-kill',
} as const;

export interface FakeNodeOptions {
  /** Delay of startContainer (and runPodSandbox), to model a real runtime's latency. */
  startLatencyMs?: number;
  /** Write CRI log files (off for 30,000-pod scale runs). */
  writeLogs?: boolean;
  defaultUsage?: { nanoCores: number; memoryBytes: number };
  now?: () => number;
  newId?: () => string;
}

interface FakeSandbox { id: string; config: PodSandboxConfig; createdAt: number; state: PodSandboxState; runtimeHandler: string }
interface FakeContainer {
  id: string; podSandboxId: string; config: ContainerConfig; sandboxConfig: PodSandboxConfig; logPath: string;
  createdAt: number; startedAt: number; finishedAt: number; exitCode: number; state: ContainerState; reason: string;
  process?: FakeProcess; stdin?: PassThrough; outputs: Set<(s: 'stdout' | 'stderr', t: string) => void>; oom: boolean;
}

/** The simulated machine. Cheap: a sandbox and a container are a few hundred bytes each. */
export class FakeNode {
  readonly sandboxes = new Map<string, FakeSandbox>();
  readonly containers = new Map<string, FakeContainer>();
  readonly options: Required<FakeNodeOptions>;
  private seq = 0;
  constructor(options: FakeNodeOptions = {}) {
    this.options = {
      startLatencyMs: options.startLatencyMs ?? 0,
      writeLogs: options.writeLogs ?? true,
      defaultUsage: options.defaultUsage ?? { nanoCores: 1_000_000, memoryBytes: 4 << 20 },
      now: options.now ?? Date.now,
      newId: options.newId ?? (() => (++this.seq).toString(16).padStart(16, '0') + Math.random().toString(16).slice(2, 10)),
    };
  }
}

export class FakeRuntime implements RuntimeService {
  constructor(readonly node: FakeNode = new FakeNode()) {}

  private get opts() { return this.node.options; }
  private latency(): Promise<void> {
    return this.opts.startLatencyMs > 0 ? new Promise((r) => setTimeout(r, this.opts.startLatencyMs)) : Promise.resolve();
  }

  async version(): Promise<VersionResponse> {
    return { version: '0.1.0', runtimeName: 'navarch-fake', runtimeVersion: '0.1.0', runtimeApiVersion: 'v1' };
  }

  async runPodSandbox(config: PodSandboxConfig, runtimeHandler = ''): Promise<string> {
    const id = this.opts.newId();
    this.node.sandboxes.set(id, { id, config, createdAt: this.opts.now(), state: 'SANDBOX_READY', runtimeHandler });
    return id;
  }

  private sandbox(id: string): FakeSandbox {
    const s = this.node.sandboxes.get(id);
    if (!s) throw notFound('pod sandbox', id);
    return s;
  }
  private container(id: string): FakeContainer {
    const c = this.node.containers.get(id);
    if (!c) throw notFound('container', id);
    return c;
  }

  async stopPodSandbox(podSandboxId: string): Promise<void> {
    const s = this.node.sandboxes.get(podSandboxId);
    if (!s) return;
    for (const c of this.node.containers.values()) if (c.podSandboxId === podSandboxId) await this.stopContainer(c.id, 0);
    s.state = 'SANDBOX_NOTREADY';
  }

  async removePodSandbox(podSandboxId: string): Promise<void> {
    if (!this.node.sandboxes.has(podSandboxId)) return;
    await this.stopPodSandbox(podSandboxId);
    for (const c of [...this.node.containers.values()]) if (c.podSandboxId === podSandboxId) this.node.containers.delete(c.id);
    this.node.sandboxes.delete(podSandboxId);
  }

  async podSandboxStatus(podSandboxId: string): Promise<PodSandboxStatus> {
    const s = this.sandbox(podSandboxId);
    return {
      id: s.id, metadata: s.config.metadata, state: s.state, createdAt: s.createdAt,
      network: {}, linux: { namespaces: { options: s.config.linux?.securityContext?.namespaceOptions ?? {} } },
      labels: s.config.labels ?? {}, annotations: s.config.annotations ?? {}, runtimeHandler: s.runtimeHandler,
    };
  }

  async listPodSandbox(filter: PodSandboxFilter = {}): Promise<PodSandbox[]> {
    const out: PodSandbox[] = [];
    for (const s of this.node.sandboxes.values()) {
      if (filter.id && !s.id.startsWith(filter.id)) continue;
      if (filter.state && s.state !== filter.state) continue;
      if (!matchesLabels(s.config.labels ?? {}, filter.labelSelector)) continue;
      out.push({ id: s.id, metadata: s.config.metadata, state: s.state, createdAt: s.createdAt, labels: s.config.labels ?? {}, annotations: s.config.annotations ?? {} });
    }
    return out;
  }

  async createContainer(podSandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig): Promise<string> {
    const s = this.sandbox(podSandboxId);
    if (s.state !== 'SANDBOX_READY') throw new RuntimeError('FailedPrecondition', `pod sandbox "${podSandboxId}" is not ready`);
    const id = this.opts.newId();
    const logDir = sandboxConfig.logDirectory ?? s.config.logDirectory ?? '';
    const logPath = config.logPath && logDir ? path.resolve(logDir, config.logPath) : '';
    this.node.containers.set(id, {
      id, podSandboxId, config, sandboxConfig, logPath, createdAt: this.opts.now(), startedAt: 0, finishedAt: 0, exitCode: 0,
      state: 'CONTAINER_CREATED', reason: '', outputs: new Set(), oom: false,
    });
    return id;
  }

  private annotation(c: FakeContainer, key: string): string | undefined {
    return c.config.annotations?.[key] ?? c.sandboxConfig.annotations?.[key];
  }

  private env(c: FakeContainer): Record<string, string> {
    const env: Record<string, string> = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOSTNAME: c.sandboxConfig.hostname ?? '' };
    for (const kv of c.config.envs ?? []) env[kv.key] = kv.value;
    return env;
  }

  private writeLog(c: FakeContainer, stream: 'stdout' | 'stderr', text: string): void {
    for (const l of c.outputs) l(stream, text);
    if (!this.opts.writeLogs || !c.logPath) return;
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    fs.mkdirSync(path.dirname(c.logPath), { recursive: true });
    fs.appendFileSync(c.logPath, lines.map((l) => formatCriLogLine(this.opts.now(), stream, false, l)).join(''));
  }

  async startContainer(containerId: string): Promise<void> {
    const c = this.container(containerId);
    if (c.state !== 'CONTAINER_CREATED' || c.process) throw new RuntimeError('FailedPrecondition', `container "${containerId}" is ${c.state}`);
    await this.latency();
    const argv = [...(c.config.command ?? []), ...(c.config.args ?? [])];
    c.stdin = c.config.stdin ? new PassThrough() : undefined;
    const p = new FakeProcess(argv.length ? argv : ['server'], {
      out: (stream, text) => this.writeLog(c, stream, text), env: this.env(c), cwd: c.config.workingDir || '/', stdin: c.stdin,
    });
    c.process = p;
    c.state = 'CONTAINER_RUNNING';
    c.startedAt = this.opts.now();
    const after = this.annotation(c, fakeAnnotations.exitAfterSeconds);
    if (after !== undefined) {
      c.oom = this.annotation(c, fakeAnnotations.oomKill) === 'true';
      p.exitAfter(parseFloat(after) * 1000, c.oom ? 137 : parseInt(this.annotation(c, fakeAnnotations.exitCode) ?? '0', 10));
    }
    p.exit.then((code) => {
      c.state = 'CONTAINER_EXITED';
      c.exitCode = code;
      c.finishedAt = this.opts.now();
      c.reason = c.oom ? 'OOMKilled' : code === 0 ? 'Completed' : 'Error';
      c.process = undefined;
    });
    p.start();
  }

  async stopContainer(containerId: string, timeoutSeconds: number): Promise<void> {
    const c = this.container(containerId);
    const p = c.process;
    if (!p || c.state !== 'CONTAINER_RUNNING') return;
    if (timeoutSeconds > 0) {
      p.signal('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const gone = await Promise.race([p.exit.then(() => true), new Promise<false>((r) => { timer = setTimeout(() => r(false), timeoutSeconds * 1000); })]);
      clearTimeout(timer);
      if (gone) return;
    }
    p.signal('SIGKILL');
    await p.exit;
  }

  async removeContainer(containerId: string): Promise<void> {
    if (!this.node.containers.has(containerId)) return;
    await this.stopContainer(containerId, 0);
    this.node.containers.delete(containerId);
  }

  async listContainers(filter: ContainerFilter = {}): Promise<Container[]> {
    const out: Container[] = [];
    for (const c of this.node.containers.values()) {
      if (filter.id && !c.id.startsWith(filter.id)) continue;
      if (filter.podSandboxId && c.podSandboxId !== filter.podSandboxId) continue;
      if (filter.state && c.state !== filter.state) continue;
      if (!matchesLabels(c.config.labels ?? {}, filter.labelSelector)) continue;
      out.push({ id: c.id, podSandboxId: c.podSandboxId, metadata: c.config.metadata, image: c.config.image, imageRef: c.config.image.image, state: c.state, createdAt: c.createdAt, labels: c.config.labels ?? {}, annotations: c.config.annotations ?? {} });
    }
    return out;
  }

  async containerStatus(containerId: string): Promise<ContainerStatus> {
    const c = this.container(containerId);
    return {
      id: c.id, metadata: c.config.metadata, state: c.state, createdAt: c.createdAt, startedAt: c.startedAt, finishedAt: c.finishedAt,
      exitCode: c.exitCode, image: c.config.image, imageRef: c.config.image.image, reason: c.reason, message: '',
      labels: c.config.labels ?? {}, annotations: c.config.annotations ?? {}, mounts: c.config.mounts ?? [], logPath: c.logPath,
    };
  }

  private running(containerId: string): FakeContainer {
    const c = this.container(containerId);
    if (c.state !== 'CONTAINER_RUNNING') throw new RuntimeError('FailedPrecondition', `container "${containerId}" is not running (${c.state})`);
    return c;
  }

  async execSync(containerId: string, cmd: string[], timeoutSeconds = 0): Promise<ExecSyncResult> {
    const c = this.running(containerId);
    const out: Buffer[] = []; const err: Buffer[] = [];
    const p = new FakeProcess(cmd, { out: (s, t) => (s === 'stdout' ? out : err).push(Buffer.from(t)), env: this.env(c), cwd: c.config.workingDir || '/' });
    p.start();
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([p.exit, new Promise<null>((r) => { if (timeoutSeconds > 0) timer = setTimeout(() => r(null), timeoutSeconds * 1000); })]);
    clearTimeout(timer);
    if (code === null) { p.signal('SIGKILL'); throw new RuntimeError('DeadlineExceeded', `command ${JSON.stringify(cmd)} timed out after ${timeoutSeconds}s`); }
    return { stdout: Buffer.concat(out), stderr: Buffer.concat(err), exitCode: code };
  }

  async exec(containerId: string, cmd: string[], options: ExecOptions = {}): Promise<StreamSession> {
    const c = this.running(containerId);
    const stdin = options.stdin ? new PassThrough() : null;
    const stdout = new PassThrough(); const stderr = new PassThrough();
    const p = new FakeProcess(cmd, { out: (s, t) => (s === 'stdout' || options.tty ? stdout : stderr).write(t), env: this.env(c), cwd: c.config.workingDir || '/', stdin: stdin ?? undefined });
    p.exit.then(() => { stdout.end(); stderr.end(); });
    p.start();
    return { stdin, stdout, stderr: options.tty ? null : stderr, exit: p.exit, resize() {}, close() { p.signal('SIGKILL'); } };
  }

  async attach(containerId: string, options: ExecOptions = {}): Promise<StreamSession> {
    const c = this.running(containerId);
    const stdout = new PassThrough(); const stderr = new PassThrough();
    const listener = (s: 'stdout' | 'stderr', t: string) => (s === 'stdout' ? stdout : stderr).write(t);
    c.outputs.add(listener);
    const detach = () => { c.outputs.delete(listener); stdout.end(); stderr.end(); };
    const exit = c.process!.exit.then((code) => { detach(); return code; });
    const stdin = options.stdin && c.stdin ? new PassThrough() : null;
    stdin?.pipe(c.stdin!, { end: !!c.config.stdinOnce });
    return { stdin, stdout, stderr, exit, resize() {}, close: detach };
  }

  async reopenContainerLog(containerId: string): Promise<void> { this.running(containerId); /* logs are appended per write */ }

  async containerStats(containerId: string): Promise<ContainerStats> {
    const c = this.container(containerId);
    const t = this.opts.now();
    const running = c.state === 'CONTAINER_RUNNING';
    const nanoCores = running ? Number(this.annotation(c, fakeAnnotations.cpuNanoCores) ?? this.opts.defaultUsage.nanoCores) : 0;
    const mem = running ? Number(this.annotation(c, fakeAnnotations.memoryBytes) ?? this.opts.defaultUsage.memoryBytes) : 0;
    const end = c.finishedAt || t;
    return {
      attributes: { id: c.id, metadata: c.config.metadata, labels: c.config.labels ?? {}, annotations: c.config.annotations ?? {} },
      cpu: { timestamp: t, usageNanoCores: nanoCores, usageCoreNanoSeconds: c.startedAt ? Math.round((nanoCores * (end - c.startedAt)) / 1000) : 0 },
      memory: { timestamp: t, workingSetBytes: mem, usageBytes: mem },
    };
  }

  async listContainerStats(filter: ContainerStatsFilter = {}): Promise<ContainerStats[]> {
    const list = await this.listContainers({ ...filter, state: 'CONTAINER_RUNNING' });
    return Promise.all(list.map((c) => this.containerStats(c.id)));
  }

  async portForward(podSandboxId: string): Promise<Duplex> {
    this.sandbox(podSandboxId);
    throw new RuntimeError('Unavailable', 'fake pods have no network to forward into');
  }
}
