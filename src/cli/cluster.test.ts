// `navarch cluster create/list/delete` for real (as root): a real server process, a real bridge
// and agent namespace on this machine, and a delete that must leave nothing behind.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '../network/exec.js';
import { randomSuffix } from '../network/testing/netns.js';
import { isRunning, runClusterCommand } from './cluster.js';
import { loadState, type ClusterState } from './cluster/state.js';

const isRoot = process.getuid?.() === 0;

describe('navarch cluster', { skip: !isRoot }, () => {
  const root = mkdtempSync(join(tmpdir(), 'nvt-clusters-'));
  const name = `t${randomSuffix(3)}`;
  const lines: string[] = [];
  const io = { root, out: (l: string) => lines.push(l), timeoutMs: 30_000 };
  let state: ClusterState | undefined;

  after(async () => {
    // Whatever happened above, nothing may stay behind.
    if (loadState(root, name)) await runClusterCommand(['delete', name], io).catch(() => {});
    rmSync(root, { recursive: true, force: true });
  });

  test('create starts a server and plumbs an agent namespace into the cluster bridge', async () => {
    await runClusterCommand(['create', '--name', name, '--nodes', '2', '--runtime', 'fake'], io);
    state = loadState(root, name)!;
    assert.ok(state, lines.join('\n'));
    const server = state.nodes[0]!;
    assert.ok(isRunning(server.pid), 'server process runs');
    assert.ok(existsSync(join(server.dataDir, 'kubeconfig')));
    assert.ok(lines.some((l) => l.includes(`KUBECONFIG=${join(server.dataDir, 'kubeconfig')}`)), lines.join('\n'));
    const bridge = await runCommand('ip', ['-4', '-o', 'addr', 'show', 'dev', state.bridge]);
    assert.match(bridge.stdout, new RegExp(`${state.gateway.replace(/\./g, '\\.')}/24`));
    const agent = state.nodes[1]!;
    const inAgent = await runCommand('ip', ['-n', agent.netns!, '-4', '-o', 'addr', 'show', 'dev', 'eth0']);
    assert.match(inAgent.stdout, new RegExp(`${agent.ip.replace(/\./g, '\\.')}/24`));
    // From the agent's namespace, the API server answers on its bridge address (what an agent dials).
    const script = `require('net').connect(${state.port}, '${state.gateway}').on('connect', () => process.exit(0)).on('error', (e) => { console.error(e.message); process.exit(1); })`;
    const connect = await runCommand('ip', ['netns', 'exec', agent.netns!, process.execPath, '-e', script], { timeoutMs: 5000 });
    assert.equal(connect.code, 0, connect.stderr);
  });

  test('create again keeps the addresses; list shows the cluster', async () => {
    const before = loadState(root, name)!;
    await runClusterCommand(['create', '--name', name, '--nodes', '2', '--runtime', 'fake'], io);
    const again = loadState(root, name)!;
    assert.deepEqual(again.nodes.map((n) => n.ip), before.nodes.map((n) => n.ip));
    assert.equal(again.nodes[0]!.pid, before.nodes[0]!.pid, 'the running server is kept');
    lines.length = 0;
    await runClusterCommand(['list'], io);
    assert.ok(lines.some((l) => l.startsWith(`${name}\t2\t`)), lines.join('\n'));
  });

  test('delete removes processes, namespace, veth, bridge and directory', async () => {
    const s = loadState(root, name)!;
    await runClusterCommand(['delete', name], io);
    assert.ok(!isRunning(s.nodes[0]!.pid));
    assert.notEqual((await runCommand('ip', ['link', 'show', 'dev', s.bridge])).code, 0);
    assert.notEqual((await runCommand('ip', ['link', 'show', 'dev', s.nodes[1]!.hostVeth!])).code, 0);
    assert.ok(!(await runCommand('ip', ['netns', 'list'])).stdout.includes(s.nodes[1]!.netns!));
    assert.ok(!existsSync(join(root, name)));
  });
});
