// What `navarch cluster` remembers about each local cluster, in <root>/<name>/cluster.json:
// the host bridge and subnet it chose, every node's address (stable across restarts) and the
// processes it started. `delete` removes exactly what is recorded here.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface ClusterNode {
  name: string;
  role: 'server' | 'agent';
  /** The node's address on the cluster bridge. */
  ip: string;
  dataDir: string;
  /** Agents only: the network namespace it runs in, and the host end of its veth. */
  netns?: string;
  hostVeth?: string;
  pid?: number;
  logFile: string;
}

export interface ClusterState {
  name: string;
  /** k in 172.31.k.0/24. */
  subnetIndex: number;
  subnet: string;
  gateway: string;
  bridge: string;
  port: number;
  runtime: string;
  nodes: ClusterNode[];
}

export function clustersRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.NAVARCH_CLUSTERS_DIR ?? join(homedir(), '.navarch', 'clusters');
}

export function clusterDir(root: string, name: string): string {
  return join(root, name);
}

export function validClusterName(name: string): boolean {
  // It ends up in netns, interface and node names: keep it short and DNS-safe.
  return /^[a-z0-9]([a-z0-9-]{0,9}[a-z0-9])?$/.test(name);
}

export function loadState(root: string, name: string): ClusterState | undefined {
  const file = join(clusterDir(root, name), 'cluster.json');
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as ClusterState;
}

export function saveState(root: string, state: ClusterState): void {
  const dir = clusterDir(root, state.name);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, 'cluster.json');
  writeFileSync(`${file}.tmp`, JSON.stringify(state, null, 2));
  renameSync(`${file}.tmp`, file);
}

export function listStates(root: string): ClusterState[] {
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .map((name) => {
      try {
        return loadState(root, name);
      } catch {
        return undefined;
      }
    })
    .filter((s): s is ClusterState => !!s);
}

/**
 * A 172.31.k.0/24 no other local cluster holds and no host route already covers (a subnet in use
 * by something else on this machine would make the bridge shadow it).
 */
export function chooseSubnetIndex(taken: Set<number>, routedPrefixes: string[]): number {
  for (let k = 16; k < 256; k++) {
    if (taken.has(k)) continue;
    const subnet = `172.31.${k}.`;
    if (routedPrefixes.some((dst) => dst.startsWith(subnet) || dst === `172.31.${k}.0/24`)) continue;
    return k;
  }
  throw new Error('no free 172.31.k.0/24 subnet left for another local cluster');
}

/** Node i of a cluster: the server is .1 (the bridge's own address), agents are .10 + i. */
export function planCluster(name: string, k: number, nodes: number, runtime: string, root: string): ClusterState {
  const dir = clusterDir(root, name);
  const state: ClusterState = {
    name,
    subnetIndex: k,
    subnet: `172.31.${k}.0/24`,
    gateway: `172.31.${k}.1`,
    bridge: `nv-${name}`.slice(0, 15),
    port: 6500 + k,
    runtime,
    nodes: [{ name: `${name}-server`, role: 'server', ip: `172.31.${k}.1`, dataDir: join(dir, 'server'), logFile: join(dir, 'server.log') }],
  };
  for (let i = 1; i < nodes; i++) state.nodes.push(agentNode(state, dir, i));
  return state;
}

export function agentNode(state: Pick<ClusterState, 'name' | 'subnetIndex'>, dir: string, i: number): ClusterNode {
  return {
    name: `${state.name}-agent-${i}`,
    role: 'agent',
    ip: `172.31.${state.subnetIndex}.${10 + i}`,
    dataDir: join(dir, `agent-${i}`),
    netns: `navarch-${state.name}-${i}`,
    hostVeth: `nv${state.subnetIndex}a${i}`,
    logFile: join(dir, `agent-${i}.log`),
  };
}
