// The agent's side of the shim: start one, wait for it to report, read what it left on disk,
// attach to it. Everything here works from the files alone, so a restarted agent picks up
// containers whose shims it did not start.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { PassThrough, Writable } from 'node:stream';
import { shimSource } from './shim-source.js';
import type { StreamSession } from '../types.js';

export interface ShimSpec {
  argv: string[];
  env: Record<string, string>;
  cwd?: string;
  logPath?: string;
  stdin?: boolean;
  stdinOnce?: boolean;
  stateDir: string;
  /** oci: runc writes the container's host pid here once created. */
  pidFile?: string;
  /** oci: `runc events <id>` to learn about OOM kills. */
  oomEventsArgv?: string[];
  oomKillFile?: string;
  /** process runtime: put the payload in its own process group so stop reaches its children. */
  ownProcessGroup?: boolean;
  /** Set by startShim: see attachSocketPath. */
  attachSocket?: string;
}

/**
 * Unix socket paths are limited to 107 bytes and state dirs are long (64-hex ids), so the
 * socket lives in a short directory under a name derived from the state dir; a restarted
 * agent derives the same name.
 */
export function attachSocketPath(stateDir: string): string {
  return path.join(os.tmpdir(), 'navarch-shims', createHash('sha256').update(path.resolve(stateDir)).digest('hex').slice(0, 24) + '.sock');
}

export interface ShimStarted { pid: number; startedAt: number }
export interface ShimExit { exitCode: number; finishedAt: number; oomKilled: boolean; signal: string | null; failedToStart: boolean }

/** Writes the shim script under the runtime root (once per content) and returns its path. */
export function installShim(root: string): string {
  const file = path.join(root, 'shim.mjs');
  let current = '';
  try { current = fs.readFileSync(file, 'utf8'); } catch {}
  if (current !== shimSource) {
    fs.mkdirSync(root, { recursive: true });
    fs.writeFileSync(file + '.tmp', shimSource);
    fs.renameSync(file + '.tmp', file);
  }
  return file;
}

export async function startShim(shimPath: string, spec: ShimSpec): Promise<void> {
  await fsp.mkdir(spec.stateDir, { recursive: true });
  const specPath = path.join(spec.stateDir, 'shim.json');
  const attachSocket = attachSocketPath(spec.stateDir);
  await fsp.mkdir(path.dirname(attachSocket), { recursive: true, mode: 0o700 });
  await fsp.writeFile(specPath, JSON.stringify({ ...spec, attachSocket }));
  const child = spawn(process.execPath, [shimPath, specPath], { detached: true, stdio: 'ignore', cwd: spec.stateDir });
  await new Promise<void>((resolve, reject) => { child.once('spawn', resolve); child.once('error', reject); });
  child.unref();
}

function readJson<T>(file: string): T | undefined {
  try { return JSON.parse(fs.readFileSync(file, 'utf8')) as T; } catch { return undefined; }
}

export interface ShimState { started?: ShimStarted; exit?: ShimExit; shimPid?: number; shimAlive: boolean }

export function readShimState(stateDir: string): ShimState {
  const started = readJson<ShimStarted>(path.join(stateDir, 'started.json'));
  const exit = readJson<ShimExit>(path.join(stateDir, 'exit.json'));
  let shimPid: number | undefined;
  try { const n = parseInt(fs.readFileSync(path.join(stateDir, 'shim.pid'), 'utf8'), 10); if (n > 0) shimPid = n; } catch {}
  return { started, exit, shimPid, shimAlive: shimPid !== undefined && pidAlive(shimPid) };
}

export function pidAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e: any) { return e.code === 'EPERM'; }
}

/**
 * Waits until the shim reports the container started or exited. fs.watch gives the prompt
 * answer; the slow poll covers filesystems where watch events are lost.
 */
export async function waitForShim(stateDir: string, timeoutMs: number, until: (s: ShimState) => boolean): Promise<ShimState> {
  const deadline = Date.now() + timeoutMs;
  let watcher: fs.FSWatcher | undefined;
  try {
    let wake: () => void = () => {};
    try { watcher = fs.watch(stateDir, () => wake()); } catch {}
    for (;;) {
      const s = readShimState(stateDir);
      if (until(s)) return s;
      if (s.shimPid !== undefined && !s.shimAlive && !s.exit) return s; // shim died without a word
      const left = deadline - Date.now();
      if (left <= 0) return s;
      await new Promise<void>((r) => { const t = setTimeout(r, Math.min(left, 25)); wake = () => { clearTimeout(t); r(); }; });
    }
  } finally { watcher?.close(); }
}

/** Asks the shim to reopen its log; resolves once the file exists again (the shim's ack). */
export async function reopenLog(stateDir: string, logPath: string): Promise<void> {
  const s = readShimState(stateDir);
  if (!s.shimPid || !s.shimAlive) return;
  process.kill(s.shimPid, 'SIGHUP');
  for (let i = 0; i < 200 && !fs.existsSync(logPath); i++) await new Promise((r) => setTimeout(r, 5));
}

/** Attach to the shim's socket: frames 1=stdout, 2=stderr, 3=exit code. */
export function attachToShim(stateDir: string, withStdin: boolean): Promise<StreamSession> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(attachSocketPath(stateDir));
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let buf = Buffer.alloc(0);
    let resolveExit!: (n: number) => void;
    const exit = new Promise<number>((r) => { resolveExit = r; });
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 5) {
        const len = buf.readUInt32BE(1);
        if (buf.length < 5 + len) break;
        const kind = buf[0];
        const data = buf.subarray(5, 5 + len);
        buf = buf.subarray(5 + len);
        if (kind === 1) stdout.write(data);
        else if (kind === 2) stderr.write(data);
        else if (kind === 3) resolveExit(parseInt(data.toString(), 10));
      }
    });
    sock.on('close', () => { stdout.end(); stderr.end(); const s = readShimState(stateDir); resolveExit(s.exit?.exitCode ?? -1); });
    sock.once('error', reject);
    sock.once('connect', () => {
      const stdin = withStdin ? new Writable({ write(chunk, _enc, cb) { sock.write(chunk, cb); }, final(cb) { sock.end(); cb(); } }) : null;
      resolve({ stdin, stdout, stderr, exit, resize() {}, close() { sock.destroy(); } });
    });
  });
}

/**
 * Starts shims, keeping one pre-started "standby" shim ready so a container start does not
 * wait for Node to boot (~60 ms of the ~100 ms otherwise). Standbys expire on their own if
 * the agent goes away; a new launcher over the same directory ends the ones left behind.
 */
export class ShimLauncher {
  private standbyPid: number | undefined;
  private warming: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly shimPath: string, private readonly standbyDir: string, private readonly prewarm = true) {
    fs.mkdirSync(standbyDir, { recursive: true });
    for (const f of fs.readdirSync(standbyDir)) {
      const pid = parseInt(f, 10);
      if (pid > 0 && /\.(ready|claimed)$/.test(f) && isOurShim(pid, shimPath)) { try { process.kill(pid, 'SIGTERM'); } catch {} }
      fs.rmSync(path.join(standbyDir, f), { force: true });
    }
    if (prewarm) this.warm();
  }

  private warm(): void {
    if (this.closed || this.warming) return;
    const child = spawn(process.execPath, [this.shimPath, '--standby', this.standbyDir], { detached: true, stdio: 'ignore', cwd: this.standbyDir });
    child.on('error', () => {});
    child.unref();
    const pid = child.pid;
    this.warming = (async () => {
      if (!pid) return;
      const ready = path.join(this.standbyDir, `${pid}.ready`);
      for (let i = 0; i < 400 && !fs.existsSync(ready); i++) await new Promise((r) => setTimeout(r, 5));
      if (fs.existsSync(ready)) this.standbyPid = pid;
    })().finally(() => { this.warming = undefined; });
  }

  async launch(spec: ShimSpec): Promise<void> {
    await fsp.mkdir(spec.stateDir, { recursive: true });
    const attachSocket = attachSocketPath(spec.stateDir);
    await fsp.mkdir(path.dirname(attachSocket), { recursive: true, mode: 0o700 });
    const full = { ...spec, attachSocket };
    await fsp.writeFile(path.join(spec.stateDir, 'shim.json'), JSON.stringify(full));
    const pid = this.standbyPid;
    this.standbyPid = undefined;
    if (pid && this.claim(pid, full)) { this.warm(); return; }
    await startShim(this.shimPath, spec);
    if (this.prewarm) this.warm();
  }

  private claim(pid: number, spec: ShimSpec): boolean {
    const base = path.join(this.standbyDir, String(pid));
    try { fs.renameSync(`${base}.ready`, `${base}.claimed`); } catch { return false; }
    try {
      fs.writeFileSync(`${base}.json`, JSON.stringify(spec));
      process.kill(pid, 'SIGUSR2');
      return true;
    } catch {
      fs.rmSync(`${base}.json`, { force: true });
      fs.rmSync(`${base}.claimed`, { force: true });
      return false;
    }
  }

  /** Ends the standby shim (running containers' shims are untouched). */
  async close(): Promise<void> {
    this.closed = true;
    await this.warming;
    const pid = this.standbyPid;
    this.standbyPid = undefined;
    if (pid) {
      const base = path.join(this.standbyDir, String(pid));
      try { fs.renameSync(`${base}.ready`, `${base}.claimed`); process.kill(pid, 'SIGTERM'); } catch {}
      fs.rmSync(`${base}.claimed`, { force: true });
    }
  }
}

function isOurShim(pid: number, shimPath: string): boolean {
  try { return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(shimPath); } catch { return false; }
}
