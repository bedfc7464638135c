// What the oci and process runtimes share: sandbox/container records persisted under the
// runtime root, container state derived from what each container's shim left on disk, the
// stop/exec/attach machinery. Subclasses supply the isolation (or its absence).
import fs from 'node:fs';
import os from 'node:os';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import type { Duplex } from 'node:stream';
import {
  RuntimeError, notFound, matchesLabels,
  type RuntimeService, type PodSandboxConfig, type PodSandboxStatus, type PodSandbox, type PodSandboxFilter,
  type ContainerConfig, type Container, type ContainerFilter, type ContainerStatus, type ContainerState,
  type ExecSyncResult, type ExecOptions, type StreamSession, type ContainerStats, type ContainerStatsFilter,
  type VersionResponse, type PodSandboxState,
} from '../types.js';
import { installShim, ShimLauncher, readShimState, waitForShim, attachToShim, reopenLog, type ShimSpec, type ShimState } from './shim-client.js';

export interface SandboxRecord {
  id: string;
  config: PodSandboxConfig;
  createdAt: number;
  state: PodSandboxState;
  runtimeHandler: string;
  /** Bind-mounted network namespace, when the pod has its own network. */
  netnsPath?: string;
  extra?: Record<string, unknown>;
}

export interface ContainerRecord {
  id: string;
  podSandboxId: string;
  config: ContainerConfig;
  createdAt: number;
  imageRef: string;
  logPath: string;
  extra?: Record<string, any>;
}

export interface ShimRuntimeOptions {
  /** Where records and shim state live; must survive agent restarts (not a tmpfs wiped by it). */
  root: string;
  newId?: () => string;
  now?: () => number;
  /** Keep one shim started ahead of need (default true); see ShimLauncher. */
  prewarmShim?: boolean;
}

/** A command to run next to a container (exec): argv on the host plus its environment. */
export interface HostCommand { argv: string[]; env: Record<string, string>; cwd?: string }

export abstract class ShimRuntime implements RuntimeService {
  protected readonly root: string;
  protected readonly newId: () => string;
  protected readonly now: () => number;
  protected readonly shimPath: string;
  protected readonly sandboxes = new Map<string, SandboxRecord>();
  protected readonly containers = new Map<string, ContainerRecord>();
  private readonly launcher: ShimLauncher;
  /** Last cpu sample per container, to turn cumulative usage into nanocores. */
  private readonly lastCpu = new Map<string, { t: number; usage: number }>();

  constructor(opts: ShimRuntimeOptions) {
    this.root = path.resolve(opts.root);
    this.newId = opts.newId ?? (() => randomBytes(32).toString('hex'));
    this.now = opts.now ?? Date.now;
    fs.mkdirSync(path.join(this.root, 'sandboxes'), { recursive: true });
    fs.mkdirSync(path.join(this.root, 'containers'), { recursive: true });
    this.shimPath = installShim(this.root);
    this.launcher = new ShimLauncher(this.shimPath, path.join(this.root, 'standby'), opts.prewarmShim ?? true);
    this.loadFromDisk();
  }

  abstract version(): Promise<VersionResponse>;
  protected abstract setUpSandbox(rec: SandboxRecord): Promise<void>;
  /** Releases what setUpSandbox made (netns…); idempotent. */
  protected abstract tearDownSandbox(rec: SandboxRecord): Promise<void>;
  protected abstract prepareContainer(rec: ContainerRecord, sandbox: SandboxRecord): Promise<void>;
  protected abstract shimSpec(rec: ContainerRecord, sandbox: SandboxRecord, stateDir: string): ShimSpec;
  protected abstract signalContainer(rec: ContainerRecord, signal: 'SIGTERM' | 'SIGKILL', state: ShimState): Promise<void>;
  /** Frees rootfs/bundle/cgroup after the container exited; idempotent. */
  protected abstract cleanupContainer(rec: ContainerRecord): Promise<void>;
  /** With `tty`, the command will run on a host pseudo-terminal (see spawnSession). */
  protected abstract execCommand(rec: ContainerRecord, cmd: string[], state: ShimState, tty?: boolean): HostCommand;
  protected abstract sampleUsage(rec: ContainerRecord, state: ShimState): Promise<{ cpuNanoSeconds: number; workingSetBytes: number; usageBytes: number }>;
  abstract portForward(podSandboxId: string, port: number): Promise<Duplex>;
  /** Lets a subclass refine a state the files cannot settle (shim gone, no exit file). */
  protected refineLostContainer(_rec: ContainerRecord, _state: ShimState): { state: ContainerState; reason: string; message: string } {
    return { state: 'CONTAINER_UNKNOWN', reason: 'Unknown', message: 'the container supervisor (shim) is gone and left no exit status' };
  }

  /** Releases the agent-side resources (the standby shim); containers keep running. */
  async close(): Promise<void> { await this.launcher.close(); }

  protected sandboxDir(id: string): string { return path.join(this.root, 'sandboxes', id); }
  protected containerDir(id: string): string { return path.join(this.root, 'containers', id); }
  protected stateDir(id: string): string { return path.join(this.containerDir(id), 'shim'); }

  private loadFromDisk(): void {
    for (const id of fs.readdirSync(path.join(this.root, 'sandboxes'))) {
      try { this.sandboxes.set(id, JSON.parse(fs.readFileSync(path.join(this.sandboxDir(id), 'sandbox.json'), 'utf8'))); } catch {}
    }
    for (const id of fs.readdirSync(path.join(this.root, 'containers'))) {
      try { this.containers.set(id, JSON.parse(fs.readFileSync(path.join(this.containerDir(id), 'container.json'), 'utf8'))); } catch {}
    }
  }

  protected async saveSandbox(rec: SandboxRecord): Promise<void> {
    await fsp.mkdir(this.sandboxDir(rec.id), { recursive: true });
    const f = path.join(this.sandboxDir(rec.id), 'sandbox.json');
    await fsp.writeFile(f + '.tmp', JSON.stringify(rec));
    await fsp.rename(f + '.tmp', f);
  }

  protected async saveContainer(rec: ContainerRecord): Promise<void> {
    await fsp.mkdir(this.containerDir(rec.id), { recursive: true });
    const f = path.join(this.containerDir(rec.id), 'container.json');
    await fsp.writeFile(f + '.tmp', JSON.stringify(rec));
    await fsp.rename(f + '.tmp', f);
  }

  protected sandbox(id: string): SandboxRecord {
    const s = this.sandboxes.get(id);
    if (!s) throw notFound('pod sandbox', id);
    return s;
  }

  protected container(id: string): ContainerRecord {
    const c = this.containers.get(id);
    if (!c) throw notFound('container', id);
    return c;
  }

  async runPodSandbox(config: PodSandboxConfig, runtimeHandler = ''): Promise<string> {
    const id = this.newId();
    const rec: SandboxRecord = { id, config, createdAt: this.now(), state: 'SANDBOX_NOTREADY', runtimeHandler };
    await fsp.mkdir(this.sandboxDir(id), { recursive: true });
    try {
      await this.setUpSandbox(rec);
    } catch (e) {
      await this.tearDownSandbox(rec).catch(() => {});
      await fsp.rm(this.sandboxDir(id), { recursive: true, force: true });
      throw e;
    }
    rec.state = 'SANDBOX_READY';
    await this.saveSandbox(rec);
    this.sandboxes.set(id, rec);
    return id;
  }

  async stopPodSandbox(podSandboxId: string): Promise<void> {
    const rec = this.sandboxes.get(podSandboxId);
    if (!rec) return;
    const members = [...this.containers.values()].filter((c) => c.podSandboxId === podSandboxId);
    await Promise.all(members.map((c) => this.stopContainer(c.id, 0)));
    await this.tearDownSandbox(rec);
    rec.state = 'SANDBOX_NOTREADY';
    await this.saveSandbox(rec);
  }

  async removePodSandbox(podSandboxId: string): Promise<void> {
    const rec = this.sandboxes.get(podSandboxId);
    if (!rec) return;
    await this.stopPodSandbox(podSandboxId);
    for (const c of [...this.containers.values()]) if (c.podSandboxId === podSandboxId) await this.removeContainer(c.id);
    // Again: some resources (the pod cgroup) can only go once the containers' are gone.
    await this.tearDownSandbox(rec);
    this.sandboxes.delete(podSandboxId);
    await fsp.rm(this.sandboxDir(podSandboxId), { recursive: true, force: true });
  }

  async podSandboxStatus(podSandboxId: string): Promise<PodSandboxStatus> {
    const rec = this.sandbox(podSandboxId);
    return {
      id: rec.id,
      metadata: rec.config.metadata,
      state: rec.state,
      createdAt: rec.createdAt,
      network: { namespacePath: rec.netnsPath },
      linux: { namespaces: { options: rec.config.linux?.securityContext?.namespaceOptions ?? {} } },
      labels: rec.config.labels ?? {},
      annotations: rec.config.annotations ?? {},
      runtimeHandler: rec.runtimeHandler,
    };
  }

  async listPodSandbox(filter: PodSandboxFilter = {}): Promise<PodSandbox[]> {
    const out: PodSandbox[] = [];
    for (const rec of this.sandboxes.values()) {
      if (filter.id && rec.id !== filter.id && !rec.id.startsWith(filter.id)) continue;
      if (filter.state && rec.state !== filter.state) continue;
      if (!matchesLabels(rec.config.labels ?? {}, filter.labelSelector)) continue;
      out.push({ id: rec.id, metadata: rec.config.metadata, state: rec.state, createdAt: rec.createdAt, labels: rec.config.labels ?? {}, annotations: rec.config.annotations ?? {} });
    }
    return out;
  }

  async createContainer(podSandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig): Promise<string> {
    const sandbox = this.sandbox(podSandboxId);
    if (sandbox.state !== 'SANDBOX_READY') throw new RuntimeError('FailedPrecondition', `pod sandbox "${podSandboxId}" is not ready`);
    const id = this.newId();
    const logDir = sandboxConfig.logDirectory ?? sandbox.config.logDirectory ?? path.join(this.sandboxDir(podSandboxId), 'logs');
    const logPath = config.logPath ? path.resolve(logDir, config.logPath) : path.join(logDir, `${config.metadata.name}_${config.metadata.attempt ?? 0}.log`);
    const rec: ContainerRecord = { id, podSandboxId, config, createdAt: this.now(), imageRef: config.image.image, logPath, extra: {} };
    await fsp.mkdir(this.containerDir(id), { recursive: true });
    try {
      await this.prepareContainer(rec, sandbox);
    } catch (e) {
      await this.cleanupContainer(rec).catch(() => {});
      await fsp.rm(this.containerDir(id), { recursive: true, force: true });
      throw e;
    }
    await this.saveContainer(rec);
    this.containers.set(id, rec);
    return id;
  }

  async startContainer(containerId: string): Promise<void> {
    const rec = this.container(containerId);
    const sandbox = this.sandbox(rec.podSandboxId);
    const stateDir = this.stateDir(containerId);
    if (fs.existsSync(path.join(stateDir, 'shim.json'))) throw new RuntimeError('FailedPrecondition', `container "${containerId}" was already started`);
    await this.launcher.launch(this.shimSpec(rec, sandbox, stateDir));
    const s = await waitForShim(stateDir, 30_000, (st) => !!st.started || !!st.exit);
    if (s.exit?.failedToStart || (!s.started && !s.exit)) {
      const tail = await this.logTail(rec.logPath);
      throw new RuntimeError('Internal', `failed to start container "${containerId}": ${tail || 'no output'}`);
    }
  }

  private async logTail(logPath: string): Promise<string> {
    try {
      const text = await fsp.readFile(logPath, 'utf8');
      return text.split('\n').filter(Boolean).slice(-3).map((l) => l.replace(/^\S+ \S+ [PF] /, '')).join('; ');
    } catch { return ''; }
  }

  async stopContainer(containerId: string, timeoutSeconds: number): Promise<void> {
    const rec = this.container(containerId);
    const stateDir = this.stateDir(containerId);
    let s = readShimState(stateDir);
    if (!s.started || s.exit || !s.shimAlive) return;
    if (timeoutSeconds > 0) {
      await this.signalContainer(rec, 'SIGTERM', s);
      s = await waitForShim(stateDir, timeoutSeconds * 1000, (st) => !!st.exit);
      if (s.exit || !s.shimAlive) return;
    }
    await this.signalContainer(rec, 'SIGKILL', s);
    s = await waitForShim(stateDir, 10_000, (st) => !!st.exit);
    if (!s.exit && s.shimAlive) throw new RuntimeError('Internal', `container "${containerId}" did not exit after SIGKILL`);
  }

  async removeContainer(containerId: string): Promise<void> {
    const rec = this.containers.get(containerId);
    if (!rec) return;
    const s = readShimState(this.stateDir(containerId));
    if (s.started && !s.exit && s.shimAlive) await this.stopContainer(containerId, 0);
    await this.cleanupContainer(rec);
    this.containers.delete(containerId);
    this.lastCpu.delete(containerId);
    await fsp.rm(this.containerDir(containerId), { recursive: true, force: true });
  }

  protected stateOf(rec: ContainerRecord): { state: ContainerState; shim: ShimState; reason: string; message: string } {
    const shim = readShimState(this.stateDir(rec.id));
    if (shim.exit) {
      const reason = shim.exit.oomKilled ? 'OOMKilled' : shim.exit.failedToStart ? 'ContainerCannotRun' : shim.exit.exitCode === 0 ? 'Completed' : 'Error';
      return { state: 'CONTAINER_EXITED', shim, reason, message: '' };
    }
    if (shim.started && shim.shimAlive) return { state: 'CONTAINER_RUNNING', shim, reason: '', message: '' };
    if (shim.started || (shim.shimPid !== undefined && !shim.shimAlive)) return { ...this.refineLostContainer(rec, shim), shim };
    return { state: 'CONTAINER_CREATED', shim, reason: '', message: '' };
  }

  async listContainers(filter: ContainerFilter = {}): Promise<Container[]> {
    const out: Container[] = [];
    for (const rec of this.containers.values()) {
      if (filter.id && rec.id !== filter.id && !rec.id.startsWith(filter.id)) continue;
      if (filter.podSandboxId && rec.podSandboxId !== filter.podSandboxId) continue;
      if (!matchesLabels(rec.config.labels ?? {}, filter.labelSelector)) continue;
      const { state } = this.stateOf(rec);
      if (filter.state && state !== filter.state) continue;
      out.push({ id: rec.id, podSandboxId: rec.podSandboxId, metadata: rec.config.metadata, image: rec.config.image, imageRef: rec.imageRef, state, createdAt: rec.createdAt, labels: rec.config.labels ?? {}, annotations: rec.config.annotations ?? {} });
    }
    return out;
  }

  async containerStatus(containerId: string): Promise<ContainerStatus> {
    const rec = this.container(containerId);
    const { state, shim, reason, message } = this.stateOf(rec);
    let msg = message;
    if (state === 'CONTAINER_EXITED' && shim.exit?.failedToStart) msg = await this.logTail(rec.logPath);
    return {
      id: rec.id,
      metadata: rec.config.metadata,
      state,
      createdAt: rec.createdAt,
      startedAt: shim.started?.startedAt ?? 0,
      finishedAt: shim.exit?.finishedAt ?? 0,
      exitCode: shim.exit?.exitCode ?? 0,
      image: rec.config.image,
      imageRef: rec.imageRef,
      reason,
      message: msg,
      labels: rec.config.labels ?? {},
      annotations: rec.config.annotations ?? {},
      mounts: rec.config.mounts ?? [],
      logPath: rec.logPath,
      pid: state === 'CONTAINER_RUNNING' ? shim.started?.pid : undefined,
    };
  }

  private runningState(containerId: string): { rec: ContainerRecord; shim: ShimState } {
    const rec = this.container(containerId);
    const { state, shim } = this.stateOf(rec);
    if (state !== 'CONTAINER_RUNNING') throw new RuntimeError('FailedPrecondition', `container "${containerId}" is not running (${state})`);
    return { rec, shim };
  }

  async execSync(containerId: string, cmd: string[], timeoutSeconds = 0): Promise<ExecSyncResult> {
    const { rec, shim } = this.runningState(containerId);
    const hc = this.execCommand(rec, cmd, shim);
    return new Promise((resolve, reject) => {
      const child = spawn(hc.argv[0], hc.argv.slice(1), { env: hc.env, cwd: hc.cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout!.on('data', (d) => out.push(d));
      child.stderr!.on('data', (d) => err.push(d));
      let timer: NodeJS.Timeout | undefined;
      let timedOut = false;
      if (timeoutSeconds > 0) timer = setTimeout(() => { timedOut = true; killTree(child); }, timeoutSeconds * 1000);
      child.on('error', (e) => { clearTimeout(timer); reject(new RuntimeError('Internal', `exec failed: ${e.message}`)); });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (timedOut) return reject(new RuntimeError('DeadlineExceeded', `command ${JSON.stringify(cmd)} timed out after ${timeoutSeconds}s`));
        resolve({ stdout: Buffer.concat(out), stderr: Buffer.concat(err), exitCode: code ?? 128 + signalNumber(signal) });
      });
    });
  }

  async exec(containerId: string, cmd: string[], options: ExecOptions = {}): Promise<StreamSession> {
    const { rec, shim } = this.runningState(containerId);
    const hc = this.execCommand(rec, cmd, shim, !!options.tty);
    return spawnSession(hc, options);
  }

  async attach(containerId: string, options: ExecOptions = {}): Promise<StreamSession> {
    const { rec, shim } = this.runningState(containerId);
    const session = await attachToShim(this.stateDir(containerId), !!options.stdin);
    const pid = shim.started?.pid;
    if (!rec.config.tty || !pid) return session;
    // The container's stdin is the terminal `script` made for it. stty opens it through the
    // process's own fd link — the very terminal, whatever name it has inside the container —
    // and TIOCSWINSZ delivers SIGWINCH to the foreground process there.
    return {
      ...session,
      resize(width: number, height: number) {
        resizeTerminal(`/proc/${pid}/fd/0`, width, height);
      },
    };
  }

  async reopenContainerLog(containerId: string): Promise<void> {
    const { rec } = this.runningState(containerId);
    await reopenLog(this.stateDir(containerId), rec.logPath);
  }

  async containerStats(containerId: string): Promise<ContainerStats> {
    const rec = this.container(containerId);
    const { state, shim } = this.stateOf(rec);
    const t = this.now();
    let usage = { cpuNanoSeconds: 0, workingSetBytes: 0, usageBytes: 0 };
    if (state === 'CONTAINER_RUNNING') usage = await this.sampleUsage(rec, shim).catch(() => usage);
    const prev = this.lastCpu.get(containerId);
    const nanoCores = prev && t > prev.t ? Math.max(0, ((usage.cpuNanoSeconds - prev.usage) / (t - prev.t)) * 1e6) : 0;
    this.lastCpu.set(containerId, { t, usage: usage.cpuNanoSeconds });
    return {
      attributes: { id: rec.id, metadata: rec.config.metadata, labels: rec.config.labels ?? {}, annotations: rec.config.annotations ?? {} },
      cpu: { timestamp: t, usageCoreNanoSeconds: usage.cpuNanoSeconds, usageNanoCores: Math.round(nanoCores) },
      memory: { timestamp: t, workingSetBytes: usage.workingSetBytes, usageBytes: usage.usageBytes },
    };
  }

  async listContainerStats(filter: ContainerStatsFilter = {}): Promise<ContainerStats[]> {
    const list = await this.listContainers({ id: filter.id, podSandboxId: filter.podSandboxId, labelSelector: filter.labelSelector, state: 'CONTAINER_RUNNING' });
    return Promise.all(list.map((c) => this.containerStats(c.id)));
  }
}

export function signalNumber(signal: NodeJS.Signals | null): number {
  if (!signal) return 0;
  return (os.constants.signals as Record<string, number>)[signal] ?? 0;
}

function killTree(child: ChildProcess): void {
  try { if (child.pid) process.kill(-child.pid, 'SIGKILL'); } catch { try { child.kill('SIGKILL'); } catch {} }
}

/**
 * Runs a host command as an interactive session. With a tty it runs under util-linux
 * `script`, which allocates a pseudo-terminal (Node cannot); resize sets the window size on
 * that terminal with `stty`, which delivers SIGWINCH to the foreground process.
 */
export function spawnSession(hc: HostCommand, options: ExecOptions): StreamSession {
  const argv = options.tty ? ['script', '-qfec', hc.argv.map(shellQuote).join(' '), '/dev/null'] : hc.argv;
  const child = spawn(argv[0], argv.slice(1), { env: hc.env, cwd: hc.cwd, stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'], detached: true });
  const exit = new Promise<number>((resolve) => {
    child.on('error', () => resolve(126));
    child.on('close', (code, signal) => resolve(code ?? 128 + signalNumber(signal)));
  });
  child.stdin?.on('error', () => {});
  return {
    stdin: child.stdin,
    stdout: child.stdout!,
    stderr: options.tty ? null : child.stderr!,
    exit,
    resize(width: number, height: number) {
      if (!options.tty || !child.pid) return;
      try {
        const kids = fs.readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
        if (!kids.length) return;
        const tty = fs.readlinkSync(`/proc/${kids[0]}/fd/0`);
        resizeTerminal(tty, width, height);
      } catch { /* the session is ending */ }
    },
    close() { child.stdin?.end(); killTree(child); },
  };
}

/** Sets a terminal's window size (TIOCSWINSZ through stty), which sends SIGWINCH to its foreground process. */
function resizeTerminal(tty: string, width: number, height: number): void {
  spawn('stty', ['-F', tty, 'cols', String(width), 'rows', String(height)], { stdio: 'ignore' }).on('error', () => {});
}

export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_\/.,:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
