// The host side of a local multi-node cluster: one bridge per cluster with the server's address
// as gateway, and per agent a network namespace plugged into it with a veth pair. Everything
// stays inside this machine: the bridge has no uplink and nothing is masqueraded out.
import { runCommand, runChecked, type CommandRunner } from '../../network/exec.js';
import type { ClusterNode, ClusterState } from './state.js';

export async function hostRoutePrefixes(run: CommandRunner = runCommand): Promise<string[]> {
  const r = await run('ip', ['-4', '-j', 'route', 'show', 'table', 'all']);
  if (r.code !== 0) return [];
  return (JSON.parse(r.stdout || '[]') as { dst: string }[]).map((x) => x.dst);
}

async function linkExists(run: CommandRunner, name: string, netns?: string): Promise<boolean> {
  const r = await run('ip', [...(netns ? ['-n', netns] : []), 'link', 'show', 'dev', name]);
  return r.code === 0;
}

async function netnsExists(run: CommandRunner, name: string): Promise<boolean> {
  const r = await run('ip', ['netns', 'list']);
  return r.stdout.split('\n').some((l) => l.split(' ')[0] === name);
}

export async function ensureBridge(state: ClusterState, run: CommandRunner = runCommand): Promise<void> {
  if (!(await linkExists(run, state.bridge))) await runChecked(run, 'ip', ['link', 'add', state.bridge, 'type', 'bridge']);
  await runChecked(run, 'ip', ['addr', 'replace', `${state.gateway}/24`, 'dev', state.bridge]);
  await runChecked(run, 'ip', ['link', 'set', state.bridge, 'up']);
}

/** Idempotent: an agent namespace that already exists keeps its address (it is the same one). */
export async function ensureAgentNamespace(state: ClusterState, node: ClusterNode, run: CommandRunner = runCommand): Promise<void> {
  const ns = node.netns!;
  if (!(await netnsExists(run, ns))) await runChecked(run, 'ip', ['netns', 'add', ns]);
  await runChecked(run, 'ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  if (!(await linkExists(run, node.hostVeth!))) {
    await run('ip', ['-n', ns, 'link', 'del', 'eth0']);
    await runChecked(run, 'ip', ['link', 'add', node.hostVeth!, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
  }
  await runChecked(run, 'ip', ['link', 'set', node.hostVeth!, 'master', state.bridge, 'up']);
  await runChecked(run, 'ip', ['-n', ns, 'addr', 'replace', `${node.ip}/24`, 'dev', 'eth0']);
  await runChecked(run, 'ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
  await runChecked(run, 'ip', ['-n', ns, 'route', 'replace', 'default', 'via', state.gateway]);
  // Pods on the agent reach other nodes' pods through it.
  await runChecked(run, 'ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
}

/** Removes namespaces, veths, the bridge and the host routes the server's node networking left towards this cluster. */
export async function removeClusterNetwork(state: ClusterState, run: CommandRunner = runCommand): Promise<string[]> {
  const removed: string[] = [];
  for (const node of state.nodes) {
    if (node.netns && (await netnsExists(run, node.netns))) {
      await run('ip', ['netns', 'del', node.netns]);
      removed.push(`netns ${node.netns}`);
    }
    if (node.hostVeth && (await linkExists(run, node.hostVeth))) {
      await run('ip', ['link', 'del', node.hostVeth]);
      removed.push(`veth ${node.hostVeth}`);
    }
  }
  const r = await run('ip', ['-4', '-j', 'route', 'show']);
  const prefix = `172.31.${state.subnetIndex}.`;
  for (const route of r.code === 0 ? (JSON.parse(r.stdout || '[]') as { dst: string; gateway?: string }[]) : []) {
    if (route.gateway?.startsWith(prefix)) {
      await run('ip', ['-4', 'route', 'del', route.dst, 'via', route.gateway]);
      removed.push(`route ${route.dst} via ${route.gateway}`);
    }
  }
  if (await linkExists(run, state.bridge)) {
    await run('ip', ['link', 'del', state.bridge]);
    removed.push(`bridge ${state.bridge}`);
  }
  return removed;
}
