// Local multi-node cluster benchmark: `navarch cluster create --nodes 3 --runtime runc` (a server
// on the host, two `navarch agent`s in their own network namespaces) from the call to all three
// Node objects Ready, idle memory of the server, each agent and their standby shims, and
// `cluster delete` — against one all-in-one `navarch server` started to /readyz and its node Ready
// in the same run. The built CLI (dist/) is what runs, as a user would run it.
// Runs as root (runc, netns, bridges) and under /tmp/navarch-e2e.lock.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import YAML from 'yaml';
import { freePort } from '../src/storage/etcd/testing.js';
import { loadState } from '../src/cli/cluster/state.js';
import type { Benchmark, BenchResult } from './run.js';
import { stopBenchServer } from './pods.js';

type ClusterCli = typeof import('../src/cli/cluster.js');

const repoRoot = resolve(import.meta.dirname, '..');
/** The baseline server's network: the pod benchmark's, which never runs at the same time (same lock). */
const baseNet = { name: 'nvbench', clusterCidr: '10.236.0.0/16', serviceCidr: '10.237.0.0/16', clusterDns: '10.237.0.10' };
/** Both sides poll at the interval `cluster create` itself polls /readyz with, so neither gets a finer clock. */
const pollMs = 100;

const median = (xs: number[]) => { const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b); return s[Math.floor(s.length / 2)] ?? NaN; };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mb = (kb: number) => kb / 1024;

function memKb(pid: number): { rssKb: number; pssKb: number } {
  try {
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    return { rssKb: Number(/^Rss:\s+(\d+)/m.exec(rollup)![1]), pssKb: Number(/^Pss:\s+(\d+)/m.exec(rollup)![1]) };
  } catch {
    return { rssKb: NaN, pssKb: NaN };
  }
}

function cmdline(pid: number): string[] {
  try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0'); } catch { return []; }
}

/** Every process whose arguments mention `dir` (a data dir, a cluster root). */
function processesUnder(dir: string): { pid: number; args: string[] }[] {
  const found: { pid: number; args: string[] }[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!pid || pid === process.pid) continue;
    const args = cmdline(pid);
    if (args.some((a) => a === dir || a.startsWith(`${dir}/`))) found.push({ pid, args });
  }
  return found;
}

/** Standby shims a node pre-warms: `node …/shim.mjs` processes under its data dir. */
const shimsOf = (dataDir: string) => processesUnder(dataDir).filter((p) => p.args.some((a) => a.endsWith('shim.mjs')));

interface ApiClient { get(path: string): Promise<{ status: number; body: string }>; close(): void }

function apiClient(kubeconfigFile: string): ApiClient {
  const kc = YAML.parse(readFileSync(kubeconfigFile, 'utf8'));
  const user = kc.users[0].user;
  const server = new URL(kc.clusters[0].cluster.server);
  const agent = new https.Agent({ keepAlive: true, ca: Buffer.from(kc.clusters[0].cluster['certificate-authority-data'], 'base64'), cert: Buffer.from(user['client-certificate-data'], 'base64'), key: Buffer.from(user['client-key-data'], 'base64') });
  return {
    get: (path) => new Promise((ok, fail) => {
      const req = https.get({ host: server.hostname, port: server.port, path, agent, timeout: 2000 }, (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => ok({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', fail);
    }),
    close: () => agent.destroy(),
  };
}

function readyz(port: number): Promise<boolean> {
  return new Promise((r) => {
    const req = https.get({ host: '127.0.0.1', port, path: '/readyz', rejectUnauthorized: false, timeout: 1000 }, (res) => { res.resume(); r(res.statusCode === 200); });
    req.on('timeout', () => req.destroy());
    req.on('error', () => r(false));
  });
}

interface NodeList { items: { metadata: { name: string }; status?: { conditions?: { type: string; status: string }[] } }[] }

/**
 * Polls GET /api/v1/nodes every pollMs from the moment the kubeconfig can be read, and records
 * when each node was first seen Ready=True. Resolves once `count` nodes have been.
 */
function watchNodesReady(kubeconfigFile: () => string | undefined, count: number, timeoutMs = 120_000): { done: Promise<Map<string, number>>; stop(): void } {
  const readyAt = new Map<string, number>();
  let stopped = false;
  const done = (async () => {
    const deadline = Date.now() + timeoutMs;
    let client: ApiClient | undefined;
    try {
      while (!stopped && readyAt.size < count) {
        if (Date.now() > deadline) throw new Error(`only ${readyAt.size} of ${count} nodes Ready after ${timeoutMs / 1000} s`);
        try {
          const file = kubeconfigFile();
          if (!client && file && existsSync(file)) client = apiClient(file);
          if (client) {
            const r = await client.get('/api/v1/nodes');
            const now = performance.now();
            if (r.status === 200) {
              for (const n of (JSON.parse(r.body) as NodeList).items) {
                if (!readyAt.has(n.metadata.name) && n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) readyAt.set(n.metadata.name, now);
              }
            }
          }
        } catch {
          // Not serving yet, or the kubeconfig half-written: the next poll tells.
        }
        if (readyAt.size < count) await sleep(pollMs);
      }
      return readyAt;
    } finally {
      client?.close();
    }
  })();
  return { done, stop: () => { stopped = true; } };
}

interface BaselineRound { readyzMs: number; nodeReadyMs: number; rssKb: number; pssKb: number }

/** One all-in-one `navarch server` (its own node on runc, no agents), started the way `cluster create` starts its server. */
async function baselineRound(): Promise<BaselineRound> {
  const dataDir = mkdtempSync(join(tmpdir(), 'navarch-clusterbench-base-'));
  const port = await freePort();
  const dnsPort = await freePort();
  let output = '';
  const t0 = performance.now();
  const child = spawn(process.execPath, [join(repoRoot, 'dist/src/cli/main.js'), 'server', '--data-dir', dataDir, '--port', String(port), '--bind-address', '127.0.0.1',
    '--runtime', 'runc', '--node-name', 'clusterbench-base', '--kubelet-port', '0', '--network-name', baseNet.name, '--cluster-cidr', baseNet.clusterCidr,
    '--service-cidr', baseNet.serviceCidr, '--cluster-dns', baseNet.clusterDns, '--cluster-dns-node-port', String(dnsPort),
    // Another cluster on this machine may hold :80; the cluster's server binds its ingress to its own bridge address instead.
    '--disable', 'ingress'], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d) => (output = (output + d).slice(-4000)));
  child.stderr!.on('data', (d) => (output = (output + d).slice(-4000)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const nodes = watchNodesReady(() => join(dataDir, 'kubeconfig'), 1, 60_000);
  try {
    const deadline = Date.now() + 60_000;
    while (!(await readyz(port))) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`baseline server did not become ready:\n${output}`);
      await sleep(pollMs);
    }
    const readyzMs = performance.now() - t0;
    const nodeReadyMs = Math.max(...(await nodes.done).values()) - t0;
    await sleep(5000);
    const mem = memKb(child.pid!);
    return { readyzMs, nodeReadyMs, ...mem };
  } finally {
    nodes.stop();
    await stopBenchServer(child, exited, dataDir, baseNet);
  }
}

interface ClusterRound {
  createMs: number;
  allReadyMs: number;
  /** Per node, first seen Ready after the call, ms. */
  nodeReadyMs: Record<string, number>;
  serverSpawnToReadyzMs: number;
  /** Per agent, from its spawn to its Node first seen Ready. */
  agentSpawnToReadyMs: number[];
  callToServerReadyzMs: number;
  deleteMs: number;
  server: { rssKb: number; pssKb: number; shims: { rssKb: number; pssKb: number }[] };
  agents: { rssKb: number; pssKb: number; shims: { rssKb: number; pssKb: number }[] }[];
  leftovers: string[];
}

function leftoversOf(root: string, name: string, bridges: string[]): string[] {
  const left: string[] = [];
  const links = spawnSync('ip', ['-o', 'link'], { encoding: 'utf8' }).stdout.split('\n').map((l) => l.split(':')[1]?.trim().split('@')[0] ?? '');
  for (const b of bridges) if (links.includes(b)) left.push(`link ${b}`);
  for (const ns of spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.split('\n')) if (ns.startsWith(`navarch-${name}-`)) left.push(`netns ${ns.split(' ')[0]}`);
  for (const p of processesUnder(root)) left.push(`process ${p.pid} ${p.args.join(' ').slice(0, 120)}`);
  return left;
}

async function clusterRound(cli: ClusterCli, round: number): Promise<ClusterRound> {
  const root = mkdtempSync(join(tmpdir(), 'navarch-clusterbench-'));
  const name = `cb${round}${Math.random().toString(36).slice(2, 5)}`;
  const marks: Record<string, number> = {};
  const io = {
    root,
    timeoutMs: 60_000,
    out: (line: string) => {
      // createCluster's own progress lines mark when it spawned the server and when /readyz answered.
      if (/^\s+server \S+ starting \(pid/.test(line)) marks.serverSpawned = performance.now();
      if (/^\s+server ready after/.test(line)) marks.serverReady = performance.now();
      const agent = /^\s+agent (\S+) starting in netns/.exec(line);
      if (agent) marks[`agent ${agent[1]}`] = performance.now();
    },
  };
  const kubeconfig = () => { const s = loadState(root, name); return s ? join(s.nodes[0]!.dataDir, 'kubeconfig') : undefined; };
  const t0 = performance.now();
  const nodes = watchNodesReady(kubeconfig, 3);
  let bridges: string[] = [`nv-${name}`.slice(0, 15)];
  try {
    await cli.runClusterCommand(['create', '--name', name, '--nodes', '3', '--runtime', 'runc'], io);
    const createMs = performance.now() - t0;
    const state = loadState(root, name)!;
    bridges = [state.bridge, `${cli.clusterNetworkArgs(state.subnetIndex).at(-1)}0`];
    const readyAt = await nodes.done;
    const allReadyMs = Math.max(...readyAt.values()) - t0;
    await sleep(5000);
    const server = state.nodes[0]!;
    const agents = state.nodes.slice(1);
    const memory = (node: typeof server) => ({ ...memKb(node.pid!), shims: shimsOf(node.dataDir).map((p) => memKb(p.pid)) });
    const serverMem = memory(server);
    const agentMem = agents.map(memory);
    for (const a of agents) if (!cmdline(a.pid!).includes('agent')) throw new Error(`pid ${a.pid} recorded for ${a.name} is not a navarch agent: ${cmdline(a.pid!).join(' ')}`);
    const d0 = performance.now();
    await cli.runClusterCommand(['delete', name], io);
    const deleteMs = performance.now() - d0;
    return {
      createMs, allReadyMs,
      nodeReadyMs: Object.fromEntries([...readyAt].map(([n, t]) => [n.slice(name.length + 1), t - t0])),
      serverSpawnToReadyzMs: marks.serverReady! - marks.serverSpawned!,
      agentSpawnToReadyMs: agents.map((a) => (readyAt.get(a.name) ?? NaN) - (marks[`agent ${a.name}`] ?? NaN)),
      callToServerReadyzMs: marks.serverReady! - t0,
      deleteMs,
      server: serverMem,
      agents: agentMem,
      leftovers: leftoversOf(root, name, bridges),
    };
  } finally {
    nodes.stop();
    // A round that failed half-way still must not leave a cluster running.
    if (loadState(root, name)) await cli.runClusterCommand(['delete', name], io).catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  }
}

async function clusterCreate(rounds: number): Promise<BenchResult> {
  if (process.getuid?.() !== 0) throw new Error('needs root (runc, network namespaces, bridges)');
  const entry = join(repoRoot, 'dist/src/cli/cluster.js');
  if (!existsSync(entry)) throw new Error('run `npm run build` first: the benchmark drives the built CLI');
  const cli = (await import(pathToFileURL(entry).href)) as ClusterCli;
  const base: BaselineRound[] = [];
  const clusters: ClusterRound[] = [];
  for (let i = 0; i < rounds; i++) {
    // Alternate the two so they share the machine's noise.
    base.push(await baselineRound());
    clusters.push(await clusterRound(cli, i));
  }
  const m = (f: (r: ClusterRound) => number) => median(clusters.map(f));
  const b = (f: (r: BaselineRound) => number) => median(base.map(f));
  const agentMedian = (f: (a: { rssKb: number; pssKb: number }) => number) => median(clusters.flatMap((r) => r.agents.map(f)));
  const sum = (xs: number[]) => xs.reduce((x, y) => x + y, 0);
  const allReady = m((r) => r.allReadyMs);
  const leftovers = clusters.flatMap((r) => r.leftovers);
  const nodeNames = Object.keys(clusters[0]?.nodeReadyMs ?? {}).sort();
  return {
    name: `cluster create: \`navarch cluster create --nodes 3 --runtime runc\` to 3 nodes Ready, idle memory, \`cluster delete\`, vs one all-in-one \`navarch server\` started to /readyz and its node Ready, median of ${rounds}`,
    figures: {
      '`cluster create` returned, median ms': m((r) => r.createMs),
      '3 nodes Ready (from the call), median ms': allReady,
      'each node first seen Ready, median ms': nodeNames.map((n) => `${n} ${median(clusters.map((r) => r.nodeReadyMs[n] ?? NaN)).toFixed(0)}`).join(', '),
      'cluster server spawned → /readyz, median ms': m((r) => r.serverSpawnToReadyzMs),
      'agent spawned → its node Ready, median ms (of both agents)': median(clusters.flatMap((r) => r.agentSpawnToReadyMs)),
      'call → cluster server /readyz, median ms (includes bridge setup and the busybox image)': m((r) => r.callToServerReadyzMs),
      'baseline: one server spawned → /readyz, median ms': b((r) => r.readyzMs),
      'baseline: one server spawned → its node Ready, median ms': b((r) => r.nodeReadyMs),
      'ratio 3-node cluster Ready / one server /readyz': allReady / b((r) => r.readyzMs),
      'ratio 3-node cluster Ready / one server node Ready': allReady / b((r) => r.nodeReadyMs),
      '`cluster delete`, median ms': m((r) => r.deleteMs),
      'agent process RSS MB, idle 5 s (median of the agents)': mb(agentMedian((a) => a.rssKb)),
      'agent process PSS MB (median of the agents)': mb(agentMedian((a) => a.pssKb)),
      'agent standby shims: count each / PSS MB total each (median)': `${median(clusters.flatMap((r) => r.agents.map((a) => a.shims.length)))} / ${mb(median(clusters.flatMap((r) => r.agents.map((a) => sum(a.shims.map((s) => s.pssKb)))))).toFixed(1)}`,
      'agent standby shim RSS MB each (median)': mb(median(clusters.flatMap((r) => r.agents.flatMap((a) => a.shims.map((s) => s.rssKb))))),
      'cluster server RSS MB, idle 5 s': mb(m((r) => r.server.rssKb)),
      'cluster server PSS MB': mb(m((r) => r.server.pssKb)),
      'cluster server standby shims: count / PSS MB total': `${m((r) => r.server.shims.length)} / ${mb(m((r) => sum(r.server.shims.map((s) => s.pssKb)))).toFixed(1)}`,
      'baseline server RSS MB / PSS MB, idle 5 s after node Ready': `${mb(b((r) => r.rssKb)).toFixed(1)} / ${mb(b((r) => r.pssKb)).toFixed(1)}`,
      'samples: 3 nodes Ready ms': clusters.map((r) => r.allReadyMs.toFixed(0)).join(' '),
      'samples: create returned ms': clusters.map((r) => r.createMs.toFixed(0)).join(' '),
      'samples: delete ms': clusters.map((r) => r.deleteMs.toFixed(0)).join(' '),
      'samples: baseline /readyz ms': base.map((r) => r.readyzMs.toFixed(0)).join(' '),
      'left behind after `cluster delete` (bridges, netns, processes)': leftovers.length ? leftovers.join('; ') : 'nothing',
    },
    target: { description: '`cluster delete` leaves no nv-<name> bridge, navarch-<name>-* netns or process behind', met: leftovers.length === 0 },
  };
}

export const clusterBenchmarks: Benchmark[] = [{ name: 'cluster create', run: () => clusterCreate(3) }];
