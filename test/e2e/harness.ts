// End-to-end harness: starts the compiled `navarch server` as a real process on a free
// loopback port with its own data dir, and runs the real kubectl against it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, existsSync, mkdirSync, copyFileSync } from 'node:fs';
import { createServer } from 'node:net';
import https from 'node:https';
import { removeNodeWorkloads } from '../../src/cli/node.js';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const repoRoot = resolve(import.meta.dirname, '../..');
export const kubectlBinaries = ['/usr/bin/kubectl', '/usr/lib/google-cloud-sdk/bin/kubectl.1.27'];

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolvePort(port));
    });
    s.on('error', reject);
  });
}

export interface TestServer {
  dataDir: string;
  port: number;
  url: string;
  kubeconfig: string;
  process: ChildProcess;
  logs(): string;
  kubectl(args: string[], options?: { input?: string; binary?: string; allowFail?: boolean }): { stdout: string; stderr: string; status: number };
  /** kill -9 and wait for exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  stop(): Promise<void>;
}

export interface StartOptions {
  dataDir?: string;
  port?: number;
  extraArgs?: string[];
  keepDataDir?: boolean;
  /** Run the node agent in the server (real runc pods); the busybox image is provided first. */
  agent?: boolean;
  /** Run the built-in ingress controller (off by default: it would bind ports 80/443). */
  ingress?: boolean;
}

/** Builds (cached) the busybox image and drops it where the node imports images at start. */
export function provideBusybox(dataDir: string): void {
  const cache = join(tmpdir(), 'navarch-test-images', 'busybox.tar');
  const r = spawnSync('bash', [join(repoRoot, 'scripts/images/build-busybox.sh'), cache], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`building the busybox image failed: ${r.stderr}`);
  mkdirSync(join(dataDir, 'images'), { recursive: true });
  copyFileSync(cache, join(dataDir, 'images', 'busybox.tar'));
}

export async function startServer(options: StartOptions = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'navarch-e2e-'));
  const port = options.port ?? (await freePort());
  if (options.agent) provideBusybox(dataDir);
  const dnsPort = options.agent ? await freePort() : 0;
  let output = '';
  const child = spawn(process.execPath, [join(repoRoot, 'dist/src/cli/main.js'), 'server', '--data-dir', dataDir, '--port', String(port), '--bind-address', '127.0.0.1', ...(options.agent ? ['--kubelet-port', '0', '--cluster-dns-node-port', String(dnsPort), '--network-name', 'nvtest'] : ['--disable-agent']), ...(options.ingress ? [] : ['--disable', 'ingress']), ...(options.extraArgs ?? [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NAVARCH_LOG: process.env.NAVARCH_LOG ?? 'info' },
  });
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`navarch server exited (${child.exitCode}):\n${output}`);
    if (existsSync(join(dataDir, 'kubeconfig')) && (await readyz(port))) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`navarch server not ready after 30 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const kubeconfig = join(dataDir, 'kubeconfig');
  const server: TestServer = {
    dataDir,
    port,
    url: `https://127.0.0.1:${port}`,
    kubeconfig,
    process: child,
    logs: () => output,
    kubectl(args, opts = {}) {
      const result = spawnSync(opts.binary ?? '/usr/bin/kubectl', ['--kubeconfig', kubeconfig, ...args], { input: opts.input, encoding: 'utf8', timeout: 60_000 });
      const r = { stdout: result.stdout ?? '', stderr: result.stderr ?? '', status: result.status ?? -1 };
      if (r.status !== 0 && !opts.allowFail) {
        throw new Error(`kubectl ${args.join(' ')} failed (${r.status}):\n${r.stderr}${r.stdout}`);
      }
      return r;
    },
    async kill(signal = 'SIGKILL') {
      child.kill(signal);
      await exited;
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      // Pods outlive the server (a restarted node adopts them): stop them before removing their files.
      if (options.agent) await removeNodeWorkloads(dataDir).catch(() => undefined);
      if (!options.keepDataDir && !options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return server;
}

export function readyz(port: number): Promise<boolean> {
  return new Promise((r) => {
    const req = https.request({ host: '127.0.0.1', port, path: '/readyz', rejectUnauthorized: false, timeout: 1000 }, (res) => {
      res.resume();
      r(res.statusCode === 200);
    });
    req.on('error', () => r(false));
    req.on('timeout', () => {
      req.destroy();
      r(false);
    });
    req.end();
  });
}

export function readKubeconfig(path: string): string {
  return readFileSync(path, 'utf8');
}

/** Polls `fn` until it returns something truthy (returned), or fails after `timeoutMs` naming `what`. */
export async function eventually<T>(fn: () => T | undefined | false | null | 0 | '' | Promise<T | undefined | false | null>, what: string, timeoutMs = 60_000, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as T;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
