// `navarch cluster create|delete|list`: a multi-node cluster on this one machine. The server runs
// on the host; each agent runs in its own network namespace on a per-cluster bridge, so every
// node has its own address, routes and iptables, as separate machines would.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { flag, parseArgs, type ParsedArgs } from './args.js';
import { buildBusyboxImage, provideImage } from './images.js';
import { removeNodeWorkloads } from './node.js';
import { runCommand } from '../network/exec.js';
import { ensureAgentNamespace, ensureBridge, hostRoutePrefixes, removeClusterNetwork } from './cluster/network.js';
import { agentNode, chooseSubnetIndex, clusterDir, clustersRoot, listStates, loadState, planCluster, saveState, validClusterName, type ClusterNode, type ClusterState } from './cluster/state.js';

const usage = `Usage:
  navarch cluster create [--name NAME] [--nodes N] [--runtime runc|fake]   start (or restart) a local cluster
  navarch cluster delete NAME                                              stop it and remove everything it made
  navarch cluster list
Clusters live in ~/.navarch/clusters/<name>/ (NAVARCH_CLUSTERS_DIR overrides).`;

export interface ClusterCommandIO {
  out(line: string): void;
  root: string;
  /** How long to wait for the server and for agents to register. */
  timeoutMs?: number;
}

function defaultIO(): ClusterCommandIO {
  return { out: (l) => console.log(l), root: clustersRoot() };
}

export async function runClusterCommand(argv: string[], io: ClusterCommandIO = defaultIO()): Promise<void> {
  const [sub, ...rest] = argv;
  const args = parseArgs(rest);
  switch (sub) {
    case 'create':
      return void (await createCluster(args, io));
    case 'delete':
      return deleteCluster(args.positional[0] ?? flag(args, 'name') ?? '', io);
    case 'list':
      return listClusters(io);
    default:
      io.out(usage);
  }
}

const here = fileURLToPath(import.meta.url);
const fromSource = here.endsWith('.ts');
const mainEntry = join(dirname(here), fromSource ? 'main.ts' : 'main.js');
const repoRoot = resolve(dirname(here), fromSource ? '../..' : '../../..');

function navarchCommand(args: string[]): string[] {
  return [process.execPath, ...(fromSource ? ['--import', 'tsx'] : []), mainEntry, ...args];
}

export function isRunning(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A recycled pid must never be taken for ours.
  const cmdline = existsSync(`/proc/${pid}/cmdline`) ? readFileSync(`/proc/${pid}/cmdline`, 'utf8') : '';
  return cmdline.includes(mainEntry) || cmdline.includes('navarch');
}

/**
 * Each local cluster gets its own pod and service ranges and host network names (bridge,
 * service device, iptables chains), derived from its subnet index, so clusters — and a
 * one-node `navarch up` on 10.42/10.43 — never share routes or rules on this host.
 */
export function clusterNetworkArgs(k: number): string[] {
  const a = 64 + (k % 64);
  const b = 128 + (k % 64);
  return ['--cluster-cidr', `10.${a}.0.0/16`, '--service-cidr', `10.${b}.0.0/16`, '--cluster-dns', `10.${b}.0.10`, '--network-name', `nvc${k % 1000}`];
}

function startProcess(node: ClusterNode, args: string[]): number {
  mkdirSync(node.dataDir, { recursive: true, mode: 0o700 });
  const log = openSync(node.logFile, 'a');
  const command = navarchCommand(args);
  // nsenter --net, not `ip netns exec`: the latter also remounts /sys for the namespace, which hides
  // the cgroup hierarchies runc needs. Only the network is the agent's own.
  const argv = node.netns ? ['nsenter', `--net=/var/run/netns/${node.netns}`, ...command] : command;
  const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', log, log], cwd: repoRoot });
  child.unref();
  return child.pid!;
}

function readyz(port: number): Promise<boolean> {
  return new Promise((done) => {
    const req = https.request({ host: '127.0.0.1', port, path: '/readyz', rejectUnauthorized: false, timeout: 1000 }, (res) => {
      res.resume();
      done(res.statusCode === 200);
    });
    req.on('error', () => done(false));
    req.on('timeout', () => {
      req.destroy();
      done(false);
    });
    req.end();
  });
}

function tail(file: string, lines = 10): string {
  return existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n') : '(no log)';
}

export async function createCluster(args: ParsedArgs, io: ClusterCommandIO): Promise<ClusterState> {
  const name = flag(args, 'name', 'default')!;
  if (!validClusterName(name)) throw new Error(`cluster name "${name}" must be 1-11 lowercase letters, digits or '-'`);
  const nodes = Number(flag(args, 'nodes', '1'));
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 50) throw new Error('--nodes must be between 1 and 50');
  const runtime = flag(args, 'runtime', 'runc')!;
  const started = Date.now();

  let state = loadState(io.root, name);
  if (state) {
    // Same addresses as before: grow the node list if asked, never renumber.
    for (let i = state.nodes.length; i < nodes; i++) state.nodes.push(agentNode(state, clusterDir(io.root, name), i));
    state.runtime = runtime;
    io.out(`==> restarting cluster "${name}" (${state.subnet}, bridge ${state.bridge})`);
  } else {
    const taken = new Set(listStates(io.root).map((s) => s.subnetIndex));
    const k = chooseSubnetIndex(taken, await hostRoutePrefixes());
    state = planCluster(name, k, nodes, runtime, io.root);
    io.out(`==> creating cluster "${name}": ${nodes} node(s) on ${state.subnet} (bridge ${state.bridge})`);
  }
  saveState(io.root, state);

  await ensureBridge(state);
  const busybox = buildBusyboxImage(io.out);
  if (busybox) provideImage(busybox, state.nodes.map((n) => n.dataDir));
  const server = state.nodes[0]!;
  if (isRunning(server.pid)) {
    io.out(`    server ${server.name} already running (pid ${server.pid})`);
  } else {
    server.pid = startProcess(server, ['server', '--data-dir', server.dataDir, '--port', String(state.port), '--bind-address', '0.0.0.0', '--node-name', server.name, '--runtime', runtime, '--node-ip', server.ip, '--kubelet-port', '0', '--ingress-bind-address', server.ip, ...clusterNetworkArgs(state.subnetIndex)]);
    saveState(io.root, state);
    io.out(`    server ${server.name} starting (pid ${server.pid}, ${server.ip}:${state.port}, log ${server.logFile})`);
  }
  const deadline = Date.now() + (io.timeoutMs ?? 60_000);
  while (!(await readyz(state.port))) {
    if (!isRunning(server.pid)) throw new Error(`the server exited during start; last lines of ${server.logFile}:\n${tail(server.logFile)}`);
    if (Date.now() > deadline) throw new Error(`the server was not ready in time; see ${server.logFile}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  io.out(`    server ready after ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const tokenFile = join(server.dataDir, 'token');
  for (const node of state.nodes.slice(1)) {
    await ensureAgentNamespace(state, node);
    if (isRunning(node.pid)) {
      io.out(`    agent ${node.name} already running (pid ${node.pid})`);
      continue;
    }
    node.pid = startProcess(node, [
      'agent', '--server', `https://${state.gateway}:${state.port}`, '--token-file', tokenFile,
      '--data-dir', node.dataDir, '--node-name', node.name, '--runtime', runtime, '--node-ip', node.ip,
      ...clusterNetworkArgs(state.subnetIndex),
    ]);
    saveState(io.root, state);
    io.out(`    agent ${node.name} starting in netns ${node.netns} (pid ${node.pid}, ${node.ip}, log ${node.logFile})`);
  }
  // An agent that dies at once (a bad flag, no token) is reported now rather than found later.
  await new Promise((r) => setTimeout(r, state.nodes.length > 1 ? 1000 : 0));
  for (const node of state.nodes.slice(1)) {
    if (!isRunning(node.pid)) io.out(`    agent ${node.name} exited; last lines of ${node.logFile}:\n${tail(node.logFile)}`);
  }
  io.out(`==> cluster "${name}" is up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  io.out(`    export KUBECONFIG=${join(server.dataDir, 'kubeconfig')}`);
  io.out(`    kubectl get nodes -o wide`);
  return state;
}

async function stopProcess(pid: number | undefined): Promise<boolean> {
  if (!isRunning(pid)) return false;
  process.kill(pid!, 'SIGTERM');
  for (let i = 0; i < 100 && isRunning(pid); i++) await new Promise((r) => setTimeout(r, 100));
  if (isRunning(pid)) process.kill(pid!, 'SIGKILL');
  return true;
}

export async function deleteCluster(name: string, io: ClusterCommandIO): Promise<void> {
  if (!name) throw new Error('usage: navarch cluster delete NAME');
  const state = loadState(io.root, name);
  if (!state) throw new Error(`no cluster named "${name}" (see navarch cluster list)`);
  io.out(`==> deleting cluster "${name}"`);
  // Agents first, so they do not spin on a vanished server; the server last cleans its own rules.
  for (const node of [...state.nodes.slice(1), state.nodes[0]!]) {
    if (await stopProcess(node.pid)) io.out(`    stopped ${node.role} ${node.name} (pid ${node.pid})`);
  }
  // Pods outlive their agents (a restarted agent adopts them): delete must stop them itself.
  for (const node of state.nodes) {
    const removed = await removeNodeWorkloads(node.dataDir).catch((e) => {
      io.out(`    could not remove the pods of ${node.name}: ${(e as Error).message}`);
      return 0;
    });
    if (removed) io.out(`    removed ${removed} pod sandbox(es) of ${node.name}`);
  }
  const serverBridge = `${clusterNetworkArgs(state.subnetIndex).at(-1)}0`;
  if ((await runCommand('ip', ['link', 'show', serverBridge])).code === 0) {
    await runCommand('ip', ['link', 'del', serverBridge]);
    io.out(`    removed bridge ${serverBridge}`);
  }
  for (const what of await removeClusterNetwork(state)) io.out(`    removed ${what}`);
  rmSync(clusterDir(io.root, name), { recursive: true, force: true });
  io.out(`    removed ${clusterDir(io.root, name)}`);
}

function listClusters(io: ClusterCommandIO): void {
  const states = listStates(io.root);
  if (states.length === 0) {
    io.out('no local clusters (create one with: navarch cluster create)');
    return;
  }
  io.out(['NAME', 'NODES', 'RUNNING', 'SUBNET', 'API', 'KUBECONFIG'].join('\t'));
  for (const s of states) {
    const running = s.nodes.filter((n) => isRunning(n.pid)).length;
    io.out([s.name, s.nodes.length, running, s.subnet, `https://${s.gateway}:${s.port}`, join(s.nodes[0]!.dataDir, 'kubeconfig')].join('\t'));
  }
}
