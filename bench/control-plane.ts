// Control-plane benchmarks: start-up time and idle memory, API create throughput against the
// raw storage backend (sqlite and etcd) in the same run, and watch fan-out.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import YAML from 'yaml';
import { openSqliteStore } from '../src/storage/sqlite/sqlite-store.js';
import { openEtcdStore } from '../src/storage/etcd/etcd-store.js';
import { startEtcd, freePort } from '../src/storage/etcd/testing.js';
import type { Store } from '../src/storage/types.js';
import type { Benchmark, BenchResult } from './run.js';

const repoRoot = resolve(import.meta.dirname, '..');

interface Server {
  child: ChildProcess;
  port: number;
  dataDir: string;
  agent: https.Agent;
  stop(): Promise<void>;
}

async function startServer(extraArgs: string[] = []): Promise<Server & { readyMs: number }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'navarch-bench-'));
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, [join(repoRoot, 'dist/src/cli/main.js'), 'server', '--data-dir', dataDir, '--port', String(port), '--bind-address', '127.0.0.1', '--disable-agent', '--disable', 'ingress', ...extraArgs], {
    stdio: 'ignore',
    env: { ...process.env, NAVARCH_LOG: 'quiet' },
  });
  for (;;) {
    if (child.exitCode !== null) throw new Error('server exited during start');
    if (await readyz(port)) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  const readyMs = performance.now() - started;
  const kubeconfig = YAML.parse(readFileSync(join(dataDir, 'kubeconfig'), 'utf8'));
  const user = kubeconfig.users[0].user;
  const agent = new https.Agent({
    keepAlive: true,
    maxSockets: 2000,
    ca: Buffer.from(kubeconfig.clusters[0].cluster['certificate-authority-data'], 'base64'),
    cert: Buffer.from(user['client-certificate-data'], 'base64'),
    key: Buffer.from(user['client-key-data'], 'base64'),
  });
  return {
    child,
    port,
    dataDir,
    agent,
    readyMs,
    async stop() {
      agent.destroy();
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function readyz(port: number): Promise<boolean> {
  return new Promise((r) => {
    const req = https.get({ host: '127.0.0.1', port, path: '/readyz', rejectUnauthorized: false }, (res) => {
      res.resume();
      r(res.statusCode === 200);
    });
    req.on('error', () => r(false));
  });
}

function request(server: Pick<Server, 'port' | 'agent'>, method: string, path: string, body?: unknown): Promise<{ status: number; body: string }> {
  return new Promise((resolveRequest, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = https.request({ host: '127.0.0.1', port: server.port, path, method, agent: server.agent, headers: data ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {} }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolveRequest({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}

/** Runs `count` operations with `concurrency` in flight; returns per-op latencies in ms. */
async function runConcurrent(count: number, concurrency: number, op: (i: number) => Promise<void>): Promise<{ seconds: number; latencies: number[] }> {
  let next = 0;
  const latencies: number[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        const i = next++;
        if (i >= count) return;
        const t = performance.now();
        await op(i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { seconds: (performance.now() - started) / 1000, latencies };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

const configMap = (i: number) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `bench-${i}` }, data: { value: 'x'.repeat(200) } });

/** Creates `count` ConfigMaps through `server`'s HTTPS API (or an API-shaped server on the same port) with `concurrency` in flight. */
function createThroughAPI(server: Pick<Server, 'port' | 'agent'>, count: number, concurrency: number, prefix: string) {
  return runConcurrent(count, concurrency, async (i) => {
    const r = await request(server, 'POST', '/api/v1/namespaces/default/configmaps', { ...configMap(i), metadata: { name: `${prefix}-${i}` } });
    if (r.status !== 201) throw new Error(`create failed: ${r.status} ${r.body}`);
  });
}

/** The bare-HTTPS ceiling (https-echo-server.ts) with `server`'s certificates, same client, same load. */
async function transportCeiling(server: Server, count: number, concurrency: number): Promise<number> {
  const port = await freePort();
  const child = fork(join(import.meta.dirname, 'https-echo-server.ts'), [join(server.dataDir, 'tls'), String(port)], { execArgv: ['--import', 'tsx'], stdio: 'ignore' });
  try {
    await new Promise((ready, fail) => {
      child.once('message', ready);
      child.once('exit', () => fail(new Error('https echo server exited')));
    });
    const echo = { port, agent: server.agent };
    await createThroughAPI(echo, count, concurrency, 'echo-warm');
    const run = await createThroughAPI(echo, count, concurrency, 'echo');
    return count / run.seconds;
  } finally {
    child.kill();
  }
}

// Both sides are measured in steady state: the raw store after a warm-up pass (JIT, connections,
// page cache), the API after a first pass on a fresh server (50 TLS handshakes, JIT) that is
// reported too but is not the target figure.
async function createThroughput(backend: 'sqlite' | 'etcd'): Promise<BenchResult> {
  const count = 3000;
  const warmUp = 1000;
  const concurrency = 50;
  let etcd: Awaited<ReturnType<typeof startEtcd>> | undefined;
  let raw: Store;
  const dir = mkdtempSync(join(tmpdir(), 'navarch-bench-raw-'));
  if (backend === 'etcd') {
    etcd = await startEtcd();
    raw = await openEtcdStore({ endpoints: [etcd.endpoint], namespace: '/raw-baseline' });
  } else {
    raw = openSqliteStore(join(dir, 'raw.db'));
  }
  const rawCreate = (prefix: string) => async (i: number) => {
    const r = await raw.create(`/registry/core/configmaps/default/${prefix}-${i}`, JSON.stringify(configMap(i)));
    if (!r.succeeded) throw new Error('raw create failed');
  };
  try {
    await runConcurrent(warmUp, concurrency, rawCreate('warm'));
    const rawRun = await runConcurrent(count, concurrency, rawCreate('bench'));
    const rawOneAtATime = await runConcurrent(1000, 1, rawCreate('seq'));
    await raw.close();
    const server = await startServer(backend === 'etcd' ? ['--datastore', 'etcd', '--etcd-endpoints', etcd!.endpoint] : []);
    try {
      const firstRun = await createThroughAPI(server, count, concurrency, 'first');
      const apiRun = await createThroughAPI(server, count, concurrency, 'bench');
      const ceiling = await transportCeiling(server, count, concurrency);
      const rawRate = count / rawRun.seconds;
      const apiRate = count / apiRun.seconds;
      const firstRate = count / firstRun.seconds;
      return {
        name: `API create throughput vs raw ${backend} writes`,
        figures: {
          'raw store creates/s (50 in flight, group commit, after warm-up)': rawRate,
          'raw store creates/s (one at a time, each durable)': 1000 / rawOneAtATime.seconds,
          'API creates/s (HTTPS, 50 in flight, steady state)': apiRate,
          'API creates/s (first pass on a fresh server: TLS handshakes, JIT warm-up)': firstRate,
          'bare Node HTTPS echo server req/s (same TLS, client and load: the transport ceiling)': ceiling,
          'ratio API / raw (50 in flight)': apiRate / rawRate,
          'ratio API first pass / raw (50 in flight)': firstRate / rawRate,
          'ratio API / raw (one at a time)': apiRate / (1000 / rawOneAtATime.seconds),
          'ratio transport ceiling / raw (50 in flight)': ceiling / rawRate,
          'API create p50 ms': percentile(apiRun.latencies, 50),
          'API create p99 ms': percentile(apiRun.latencies, 99),
        },
        target: { description: 'API ≥ 0.5 × raw storage writes (both in steady state)', met: apiRate / rawRate >= 0.5 },
      };
    } finally {
      await server.stop();
    }
  } finally {
    await etcd?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export const controlPlaneBenchmarks: Benchmark[] = [
  {
    name: 'startup and idle memory',
    async run() {
      const times: number[] = [];
      let rssMb = 0;
      for (let i = 0; i < 3; i++) {
        const s = await startServer();
        times.push(s.readyMs);
        if (i === 2) {
          await new Promise((r) => setTimeout(r, 5000));
          const status = readFileSync(`/proc/${s.child.pid}/status`, 'utf8');
          rssMb = Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
        }
        await s.stop();
      }
      const median = [...times].sort((a, b) => a - b)[1];
      return {
        name: 'server start → /readyz, idle RSS',
        figures: { 'start to ready ms (median of 3, fresh data dir)': median, 'idle RSS MB (after 5 s)': rssMb },
        target: { description: 'ready < 1000 ms and idle RSS < 150 MB', met: median < 1000 && rssMb < 150 },
      };
    },
  },
  { name: 'create throughput sqlite', run: () => createThroughput('sqlite') },
  { name: 'create throughput etcd', run: () => createThroughput('etcd') },
  {
    name: 'watch fan-out',
    async run() {
      const watchers = 1000;
      const writes = 10000;
      const server = await startServer();
      try {
        let delivered = 0;
        const requests: ReturnType<typeof https.get>[] = [];
        // Watch from the list's resourceVersion: every later write must reach every watcher.
        const listed = await request(server, 'GET', '/api/v1/namespaces/default/configmaps');
        const fromRv = JSON.parse(listed.body).metadata.resourceVersion;
        await Promise.all(
          Array.from({ length: watchers }, () =>
            new Promise<void>((ready, fail) => {
              const req = https.get({ host: '127.0.0.1', port: server.port, path: `/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${fromRv}`, agent: server.agent }, (res) => {
                ready();
                let buffered = '';
                res.on('data', (c: Buffer) => {
                  buffered += c.toString();
                  let nl;
                  while ((nl = buffered.indexOf('\n')) >= 0) {
                    buffered = buffered.slice(nl + 1);
                    delivered++;
                  }
                });
              });
              req.on('error', fail);
              requests.push(req);
            }),
          ),
        );
        const run = await runConcurrent(writes, 20, async (i) => {
          const r = await request(server, 'POST', '/api/v1/namespaces/default/configmaps', configMap(i));
          if (r.status !== 201) throw new Error(`create failed: ${r.status}`);
        });
        const expected = watchers * writes;
        const deadline = Date.now() + 60_000;
        while (delivered < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
        for (const r of requests) r.destroy();
        const p99 = percentile(run.latencies, 99);
        return {
          name: 'watch fan-out: 1,000 watchers × 10,000 writes',
          figures: { 'events delivered': delivered, 'events expected': expected, 'writes/s under load': writes / run.seconds, 'mutating p99 ms': p99 },
          target: { description: 'all events delivered, mutating p99 < 1000 ms', met: delivered === expected && p99 < 1000 },
        };
      } finally {
        await server.stop();
      }
    },
  },
];
