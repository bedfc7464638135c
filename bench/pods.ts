// Node-agent benchmarks through the real API: a `navarch server` child with its agent on runc, on a
// dedicated network (nvbench, its own pod/service ranges, DNS on a free port, no kubelet port), vs
// the raw floor measured in the same run (netns + CNI ADD + runc run -d, src/runtime/oci/raw-pod-baseline.ts).
// Runs as root (runc, netns, bridges) and under /tmp/navarch-e2e.lock.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import https from 'node:https';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import YAML from 'yaml';
import { freePort } from '../src/storage/etcd/testing.js';
import { openRawPodBaseline, type RawPod } from '../src/runtime/oci/raw-pod-baseline.js';
import { planNetworkCleanup, readHostNetworkState, runHostCommands } from '../src/cli/ops/reset.js';
import { removeNodeWorkloads } from '../src/cli/node.js';
import type { Benchmark, BenchResult } from './run.js';

const repoRoot = resolve(import.meta.dirname, '..');
const net = { name: 'nvbench', clusterCidr: '10.236.0.0/16', serviceCidr: '10.237.0.0/16', clusterDns: '10.237.0.10' };
const raw = { bridge: 'nvbraw0', subnet: '10.238.0.0/24' };

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)] ?? NaN; };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function busyboxArchive(): string {
  const cache = join(tmpdir(), 'navarch-test-images', 'busybox.tar');
  const r = spawnSync('bash', [join(repoRoot, 'scripts/images/build-busybox.sh'), cache], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`building the busybox image failed: ${r.stderr}`);
  return cache;
}

interface Pod { metadata: { name: string; resourceVersion?: string }; spec?: { nodeName?: string }; status?: { phase?: string; containerStatuses?: { state?: { running?: unknown } }[] } }

/** A pod counts as started once it is Running with every container in state running. */
const started = (p: Pod) => p.status?.phase === 'Running' && (p.status.containerStatuses ?? []).length > 0 && p.status.containerStatuses!.every((c) => c.state?.running);

interface BenchServer {
  child: ChildProcess;
  dataDir: string;
  request(method: string, path: string, body?: unknown): Promise<{ status: number; body: string }>;
  /** Resolves when the named pod is started / gone (from one shared watch). */
  whenStarted(name: string): Promise<number>;
  whenDeleted(name: string): Promise<number>;
  /** When the watch first showed the pod bound to the node, and how many MODIFIED events preceded Running. */
  trace(name: string): { boundAt?: number; updates: { at: number; what: string }[] };
  stop(): Promise<void>;
}

async function startAgentServer(image: string): Promise<BenchServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'navarch-podbench-'));
  mkdirSync(join(dataDir, 'images'), { recursive: true });
  copyFileSync(image, join(dataDir, 'images', 'busybox.tar'));
  const port = await freePort();
  const dnsPort = await freePort();
  let output = '';
  const child = spawn(process.execPath, [join(repoRoot, 'dist/src/cli/main.js'), 'server', '--data-dir', dataDir, '--port', String(port), '--bind-address', '127.0.0.1',
    '--runtime', 'runc', '--node-name', 'bench-node', '--network-name', net.name, '--cluster-cidr', net.clusterCidr, '--service-cidr', net.serviceCidr, '--cluster-dns', net.clusterDns,
    '--kubelet-port', '0', '--cluster-dns-node-port', String(dnsPort), '--disable', 'ingress'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NAVARCH_LOG: 'warn' } });
  child.stdout!.on('data', (d) => (output = (output + d).slice(-4000)));
  child.stderr!.on('data', (d) => (output = (output + d).slice(-4000)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const deadline = Date.now() + 60_000;
  while (!existsSync(join(dataDir, 'kubeconfig')) || !(await readyz(port))) {
    if (child.exitCode !== null || Date.now() > deadline) { child.kill('SIGKILL'); throw new Error(`bench server did not become ready:\n${output}`); }
    await sleep(50);
  }
  const kubeconfig = YAML.parse(readFileSync(join(dataDir, 'kubeconfig'), 'utf8'));
  const user = kubeconfig.users[0].user;
  const agent = new https.Agent({ keepAlive: true, maxSockets: 100, ca: Buffer.from(kubeconfig.clusters[0].cluster['certificate-authority-data'], 'base64'), cert: Buffer.from(user['client-certificate-data'], 'base64'), key: Buffer.from(user['client-key-data'], 'base64') });
  const request = (method: string, path: string, body?: unknown) => new Promise<{ status: number; body: string }>((ok, fail) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = https.request({ host: '127.0.0.1', port, path, method, agent, headers: data ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {} }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => ok({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', fail);
    req.end(data);
  });

  // One watch for the whole run: waiters are resolved from events, never by polling.
  const startedAt = new Map<string, number>();
  const deletedAt = new Map<string, number>();
  const boundAt = new Map<string, number>();
  /** Events seen per pod before it started: how many status writes the start took. */
  const updatesBeforeStart = new Map<string, { at: number; what: string }[]>();
  const waiters: { kind: 'started' | 'deleted'; name: string; resolve: (t: number) => void }[] = [];
  const settle = () => {
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i];
      const t = (w.kind === 'started' ? startedAt : deletedAt).get(w.name);
      if (t !== undefined) { waiters.splice(i, 1); w.resolve(t); }
    }
  };
  const listed = await request('GET', '/api/v1/namespaces/default/pods');
  const watch = https.get({ host: '127.0.0.1', port, agent, path: `/api/v1/namespaces/default/pods?watch=true&resourceVersion=${JSON.parse(listed.body).metadata.resourceVersion}` }, (res) => {
    let buffered = '';
    res.on('data', (c: Buffer) => {
      const now = performance.now();
      buffered += c.toString();
      let nl;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (!line.trim()) continue;
        const ev = JSON.parse(line) as { type: string; object: Pod };
        const name = ev.object.metadata.name;
        if (ev.type === 'DELETED') { deletedAt.set(name, now); startedAt.delete(name); boundAt.delete(name); updatesBeforeStart.delete(name); }
        else if (ev.type === 'ADDED') deletedAt.delete(name);
        if (ev.type !== 'DELETED' && ev.object.spec?.nodeName && !boundAt.has(name)) boundAt.set(name, now);
        if (ev.type === 'MODIFIED' && !startedAt.has(name)) {
          const c = ev.object.status?.containerStatuses?.[0]?.state;
          const what = `${ev.object.spec?.nodeName ? 'bound' : 'unbound'}/${ev.object.status?.phase ?? '-'}/${c ? Object.keys(c)[0] : '-'}`;
          updatesBeforeStart.set(name, [...(updatesBeforeStart.get(name) ?? []), { at: now, what }]);
        }
        if (ev.type !== 'DELETED' && started(ev.object) && !startedAt.has(name)) startedAt.set(name, now);
      }
      settle();
    });
  });
  watch.on('error', () => undefined);
  const waitFor = (kind: 'started' | 'deleted', name: string) => new Promise<number>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`pod ${name} not ${kind} after 120 s`)), 120_000);
    waiters.push({ kind, name, resolve: (t) => { clearTimeout(timer); ok(t); } });
    settle();
  });

  // The node must be Ready before anything is timed.
  for (;;) {
    const nodes = JSON.parse((await request('GET', '/api/v1/nodes')).body) as { items: { status?: { conditions?: { type: string; status: string }[] } }[] };
    if (nodes.items.some((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))) break;
    if (Date.now() > deadline) throw new Error(`bench node not Ready:\n${output}`);
    await sleep(200);
  }
  return {
    child,
    dataDir,
    request,
    whenStarted: (name) => waitFor('started', name),
    whenDeleted: (name) => waitFor('deleted', name),
    trace: (name) => ({ boundAt: boundAt.get(name), updates: updatesBeforeStart.get(name) ?? [] }),
    async stop() {
      watch.destroy();
      agent.destroy();
      await stopBenchServer(child, exited, dataDir, net);
    },
  };
}

/**
 * Stops a benchmark's all-in-one server (SIGTERM, SIGKILL after 10 s), then what outlives it:
 * its pods (a restarted node would adopt them) and the host network of its own network name.
 */
export async function stopBenchServer(child: ChildProcess, exited: Promise<void>, dataDir: string, network: { name: string; clusterCidr: string; serviceCidr: string }): Promise<void> {
  if (child.exitCode === null) {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
  await removeNodeWorkloads(dataDir).catch(() => undefined);
  runHostCommands(planNetworkCleanup(network.name, readHostNetworkState(), [network.clusterCidr, network.serviceCidr]));
  rmSync(dataDir, { recursive: true, force: true });
}

function readyz(port: number): Promise<boolean> {
  return new Promise((r) => {
    const req = https.get({ host: '127.0.0.1', port, path: '/readyz', rejectUnauthorized: false }, (res) => { res.resume(); r(res.statusCode === 200); });
    req.on('error', () => r(false));
  });
}

const podManifest = (name: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 'podbench' } }, spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: 'busybox', imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }] } });

async function createPod(server: BenchServer, name: string): Promise<number> {
  const t0 = performance.now();
  const r = await server.request('POST', '/api/v1/namespaces/default/pods', podManifest(name));
  if (r.status !== 201) throw new Error(`create pod ${name}: ${r.status} ${r.body}`);
  return t0;
}

async function deletePods(server: BenchServer, names: string[]): Promise<void> {
  await Promise.all(names.map(async (n) => {
    const gone = server.whenDeleted(n);
    await server.request('DELETE', `/api/v1/namespaces/default/pods/${n}?gracePeriodSeconds=0`, undefined);
    await gone;
  }));
}

function rssKb(pid: number): number {
  try { return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]); } catch { return 0; }
}

/** Proportional set size: shared pages (the node binary, libc) split among their users — the fair per-process figure. */
function pssKb(pid: number): number {
  try { return Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))![1]); } catch { return 0; }
}

/** user+system CPU ms a process has used so far. */
function cpuMs(pid: number, ticksPerSecond: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
  } catch { return 0; }
}

const clockTicks = () => Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

interface HostProcess { pid: number; ppid: number; exe: string; rssKb: number; pssKb: number; cpuMs: number }

/** Processes whose command line names the server's data dir, other than the server itself: shims (node) and their `runc run`. */
function podProcesses(dataDir: string, serverPid: number, ticks = clockTicks()): { shims: HostProcess[]; runcs: HostProcess[]; idleShims: HostProcess[] } {
  const found: HostProcess[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!pid || pid === serverPid) continue;
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (!cmdline.some((a) => a.startsWith(dataDir))) continue;
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      found.push({ pid, ppid, exe: readlinkSync(`/proc/${pid}/exe`).split('/').pop()!, rssKb: rssKb(pid), pssKb: pssKb(pid), cpuMs: cpuMs(pid, ticks) });
    } catch { /* exited meanwhile */ }
  }
  const runcs = found.filter((p) => p.exe === 'runc');
  const parents = new Set(runcs.map((p) => p.ppid));
  // A shim that supervises a container is the parent of its foreground `runc run`; the others are
  // pre-warmed standbys waiting for the next container.
  const nodes = found.filter((p) => p.exe.startsWith('node'));
  return { shims: nodes.filter((p) => parents.has(p.pid)), runcs, idleShims: nodes.filter((p) => !parents.has(p.pid)) };
}

async function withBench<T>(fn: (server: BenchServer, startRaw: () => Promise<RawPod>) => Promise<T>): Promise<T> {
  if (process.getuid?.() !== 0) throw new Error('needs root (runc, network namespaces)');
  const image = busyboxArchive();
  const baseline = await openRawPodBaseline({ imageArchive: image, bridge: raw.bridge, subnet: raw.subnet });
  try {
    const server = await startAgentServer(image);
    try {
      return await fn(server, () => baseline.start());
    } finally {
      await server.stop();
    }
  } finally {
    await baseline.close();
  }
}

async function podStartLatency(iterations: number): Promise<BenchResult> {
  return withBench(async (server, startRaw) => {
    // Warm-up on both sides (bridge creation, conflist, first overlay): not what is measured.
    await createPod(server, 'warmup');
    await server.whenStarted('warmup');
    await deletePods(server, ['warmup']);
    await (await startRaw()).remove();
    const podMs: number[] = [];
    const boundMs: number[] = [];
    const updates: number[] = [];
    const steps = new Map<string, number[]>();
    const rawMs: number[] = [];
    for (let i = 0; i < iterations; i++) {
      // Alternate the two so they share the machine's noise.
      const name = `latency-${i}`;
      const t0 = await createPod(server, name);
      podMs.push((await server.whenStarted(name)) - t0);
      const trace = server.trace(name);
      boundMs.push((trace.boundAt ?? NaN) - t0);
      updates.push(trace.updates.length);
      for (const u of trace.updates) steps.set(u.what, [...(steps.get(u.what) ?? []), u.at - t0]);
      await deletePods(server, [name]);
      const r = await startRaw();
      rawMs.push(r.startMs);
      await r.remove();
    }
    const p = median(podMs);
    const b = median(rawMs);
    return {
      name: `pod create → Running (runc, image present) through the API vs raw netns + CNI ADD + runc run -d, median of ${iterations}`,
      figures: { 'API pod create → Running median ms': p, 'of which create → bound (scheduler) median ms': median(boundMs), 'MODIFIED events before Running (median)': median(updates),
        'watch events before Running, median ms after create (bound/phase/container state)': [...steps].map(([what, at]) => `${what} @${median(at).toFixed(0)}×${at.length}`).join(', '),
        'raw netns+CNI+runc median ms': b, ratio: p / b, 'API samples ms': podMs.map((x) => x.toFixed(0)).join(' '), 'raw samples ms': rawMs.map((x) => x.toFixed(0)).join(' ') },
      target: { description: '≤ 2 × the raw floor', met: p / b <= 2 },
    };
  });
}

async function podStartThroughput(n: number): Promise<BenchResult> {
  return withBench(async (server, startRaw) => {
    await createPod(server, 'warmup');
    await server.whenStarted('warmup');
    await deletePods(server, ['warmup']);
    const names = Array.from({ length: n }, (_, i) => `burst-${i}`);
    const ticks = clockTicks();
    const serverCpu0 = cpuMs(server.child.pid!, ticks);
    const t0 = performance.now();
    await Promise.all(names.map((name) => createPod(server, name)));
    const done = Math.max(...(await Promise.all(names.map((name) => server.whenStarted(name)))));
    const apiSeconds = (done - t0) / 1000;
    const serverCpu = cpuMs(server.child.pid!, ticks) - serverCpu0;
    // Shims barely run once their container is up: their CPU so far is their start-up.
    const { shims, runcs } = podProcesses(server.dataDir, server.child.pid!, ticks);
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    await deletePods(server, names);

    const rawPods: RawPod[] = [];
    const r0 = performance.now();
    let rawSeconds: number;
    try {
      for (let i = 0; i < n; i++) rawPods.push(await startRaw());
      rawSeconds = (performance.now() - r0) / 1000;
    } finally {
      for (const p of rawPods) await p.remove();
    }
    const apiRate = n / apiSeconds;
    const rawRate = n / rawSeconds;
    return {
      name: `pods started per second on one node: ${n} runc pods created at once vs ${n} sequential raw netns + CNI ADD + runc run -d`,
      figures: { 'API pods/s': apiRate, 'API all Running s': apiSeconds, 'raw sequential pods/s': rawRate, 'raw sequential s': rawSeconds, 'ratio API / raw': apiRate / rawRate,
        'server CPU ms during the burst': serverCpu, 'shims CPU ms total (start-up)': sum(shims.map((p) => p.cpuMs)), '`runc run` CPU ms total': sum(runcs.map((p) => p.cpuMs)), 'CPU ms available (cores × wall)': availableParallelism() * apiSeconds * 1000 },
    };
  });
}

async function agentMemory(pods: number): Promise<BenchResult> {
  return withBench(async (server) => {
    const pid = server.child.pid!;
    await createPod(server, 'warmup');
    await server.whenStarted('warmup');
    await deletePods(server, ['warmup']);
    await sleep(5000);
    const idleKb = rssKb(pid);
    const idlePssKb = pssKb(pid);
    const idle = podProcesses(server.dataDir, pid);
    const names = Array.from({ length: pods }, (_, i) => `mem-${i}`);
    await Promise.all(names.map((name) => createPod(server, name)));
    await Promise.all(names.map((name) => server.whenStarted(name)));
    await sleep(5000);
    const busyKb = rssKb(pid);
    const { shims, runcs, idleShims } = podProcesses(server.dataDir, pid);
    const mb = (kb: number) => kb / 1024;
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    const growthKb = (busyKb - idleKb) / pods;
    const perPodPssKb = sum(shims.map((p) => p.pssKb)) / pods + sum(runcs.map((p) => p.pssKb)) / pods + growthKb;
    const perPodRssKb = sum(shims.map((p) => p.rssKb)) / pods + sum(runcs.map((p) => p.rssKb)) / pods + growthKb;
    await deletePods(server, names);
    return {
      name: `node agent memory: all-in-one server (agent on runc) idle with 0 pods and with ${pods} running pods, plus the per-pod supervising processes`,
      figures: {
        'server RSS MB, 0 pods (after 5 s)': mb(idleKb),
        'server PSS MB, 0 pods': mb(idlePssKb),
        [`server RSS MB, ${pods} pods (after 5 s)`]: mb(busyKb),
        'server RSS growth per pod MB': mb(growthKb),
        'shim processes (node) supervising a container': shims.length,
        'shim RSS MB each (median)': mb(median(shims.map((p) => p.rssKb))),
        'shim PSS MB each (median)': mb(median(shims.map((p) => p.pssKb))),
        '`runc run` foreground processes': runcs.length,
        '`runc run` RSS MB each (median)': mb(median(runcs.map((p) => p.rssKb))),
        '`runc run` PSS MB each (median)': mb(median(runcs.map((p) => p.pssKb))),
        'standby (pre-warmed) shims, 0 pods / with pods': `${idle.idleShims.length} / ${idleShims.length}`,
        'standby shims PSS MB total (with pods)': mb(sum(idleShims.map((p) => p.pssKb))),
        'per-pod memory MB, PSS (shim + runc run + server growth)': mb(perPodPssKb),
        'per-pod memory MB, RSS (shim + runc run + server growth)': mb(perPodRssKb),
      },
    };
  });
}

export const podBenchmarks: Benchmark[] = [
  { name: 'pod start latency', run: () => podStartLatency(10) },
  { name: 'pod start throughput', run: () => podStartThroughput(30) },
  { name: 'pod agent memory', run: () => agentMemory(10) },
];
