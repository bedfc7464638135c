// Containers as plain host processes: no isolation, no image filesystem, works without root.
// For development machines and CI without runc. See README.md for what it cannot honour.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { RuntimeError, type VersionResponse } from '../types.js';
import { ShimRuntime, type ContainerRecord, type SandboxRecord, type HostCommand, type ShimRuntimeOptions } from '../shim/shim-runtime.js';
import type { ShimSpec, ShimState } from '../shim/shim-client.js';
import { navarchVersion } from '../../util/version.js';

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ on every Linux ABI Node supports

export class ProcessRuntime extends ShimRuntime {
  constructor(opts: ShimRuntimeOptions) { super(opts); }

  async version(): Promise<VersionResponse> {
    return { version: '0.1.0', runtimeName: 'navarch-process', runtimeVersion: navarchVersion, runtimeApiVersion: 'v1' };
  }

  protected async setUpSandbox(rec: SandboxRecord): Promise<void> {
    // Every pod shares the host's network; record that honestly rather than pretend.
    rec.extra = { note: 'process runtime: host network, no namespaces' };
  }

  protected async tearDownSandbox(): Promise<void> {}

  protected async prepareContainer(rec: ContainerRecord, sandbox: SandboxRecord): Promise<void> {
    const argv = [...(rec.config.command ?? []), ...(rec.config.args ?? [])];
    if (argv.length === 0) throw new RuntimeError('InvalidArgument', 'the process runtime has no image config to fall back on: the container needs a command');
    const cwd = rec.config.workingDir || path.join(this.containerDir(rec.id), 'workdir');
    if (!rec.config.workingDir) await fsp.mkdir(cwd, { recursive: true });
    else if (!fs.existsSync(cwd)) throw new RuntimeError('InvalidArgument', `workingDir ${cwd} does not exist on the host`);
    rec.extra = { argv, cwd, hostname: sandbox.config.hostname };
  }

  private env(rec: ContainerRecord): Record<string, string> {
    const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', HOME: process.env.HOME ?? '/' };
    if (rec.extra?.hostname) env.HOSTNAME = rec.extra.hostname;
    for (const kv of rec.config.envs ?? []) env[kv.key] = kv.value;
    return env;
  }

  protected shimSpec(rec: ContainerRecord, _sandbox: SandboxRecord, stateDir: string): ShimSpec {
    return { argv: rec.extra!.argv, env: this.env(rec), cwd: rec.extra!.cwd, logPath: rec.logPath, stdin: rec.config.stdin, stdinOnce: rec.config.stdinOnce, stateDir, ownProcessGroup: true };
  }

  protected async signalContainer(_rec: ContainerRecord, signal: 'SIGTERM' | 'SIGKILL', state: ShimState): Promise<void> {
    if (!state.started) return;
    // The payload leads its own process group, so its children get the signal too.
    try { process.kill(-state.started.pid, signal); } catch (e: any) { if (e.code !== 'ESRCH') throw e; }
  }

  protected async cleanupContainer(): Promise<void> {}

  protected execCommand(rec: ContainerRecord, cmd: string[]): HostCommand {
    return { argv: cmd, env: this.env(rec), cwd: rec.extra!.cwd };
  }

  protected async sampleUsage(_rec: ContainerRecord, state: ShimState): Promise<{ cpuNanoSeconds: number; workingSetBytes: number; usageBytes: number }> {
    const pid = state.started!.pid;
    const stat = await fsp.readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    const status = await fsp.readFile(`/proc/${pid}/status`, 'utf8');
    const rss = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
    return { cpuNanoSeconds: (ticks * 1e9) / CLOCK_TICKS_PER_SECOND, workingSetBytes: rss, usageBytes: rss };
  }

  async portForward(podSandboxId: string, port: number): Promise<Duplex> {
    this.sandbox(podSandboxId);
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => resolve(s));
      s.once('error', reject);
    });
  }
}
