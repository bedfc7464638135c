// The local-path provisioner's whole life on real runc nodes: a claim of the default class, a
// pod that writes into it, then pod and claim deleted — the directory must leave the disk and
// the PersistentVolume the API. First on the all-in-one server's own node (removed in-process),
// then on an agent of a 2-node cluster, where only a helper pod on that node can remove it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, eventually, type TestServer } from './harness.js';
import { runClusterCommand } from '../../src/cli/cluster.js';
import { loadState, type ClusterState } from '../../src/cli/cluster/state.js';

const needsRoot = process.getuid?.() !== 0 ? 'needs root' : false;

/** The claim and a pod pinned to `node` that writes a file into it and exits. */
function claimAndWriter(node: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'List',
    items: [
      { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Mi' } } } },
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'writer' },
        spec: {
          nodeName: node,
          restartPolicy: 'Never',
          terminationGracePeriodSeconds: 1,
          containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'echo hello > /data/file'], volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
          volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }],
        },
      },
    ],
  });
}

type Kubectl = (args: string[], input?: string) => string;

/** Runs the scenario; returns the volume's directory (already checked gone). */
async function writeThenReclaim(kubectl: Kubectl, node: string): Promise<string> {
  const json = (args: string[]) => JSON.parse(kubectl([...args, '-o', 'json']));
  kubectl(['apply', '-f', '-'], claimAndWriter(node));
  await eventually(() => json(['get', 'pod', 'writer']).status.phase === 'Succeeded', 'writer pod Succeeded', 90_000);
  const claim = json(['get', 'pvc', 'data']);
  assert.equal(claim.status.phase, 'Bound');
  const volume = json(['get', 'pv', claim.spec.volumeName]);
  assert.equal(volume.spec.persistentVolumeReclaimPolicy, 'Delete');
  assert.deepEqual(volume.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values, [node]);
  const directory: string = volume.spec.hostPath.path;
  assert.equal(readFileSync(join(directory, 'file'), 'utf8'), 'hello\n', 'the pod wrote into the directory on disk');

  kubectl(['delete', 'pod', 'writer', '--wait=true']);
  kubectl(['delete', 'pvc', 'data', '--wait=true']);
  await eventually(() => !existsSync(directory), `directory ${directory} removed`, 90_000);
  await eventually(() => kubectl(['get', 'pv', volume.metadata.name, '--ignore-not-found', '-o', 'name']).trim() === '', 'PersistentVolume deleted', 30_000);
  return directory;
}

describe('local-path reclaim on the server node (runc)', { skip: needsRoot }, () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ agent: true, extraArgs: ['--runtime', 'runc', '--cluster-cidr', '10.244.0.0/16', '--service-cidr', '10.245.0.0/16', '--cluster-dns', '10.245.0.10', '--node-name', 'e2e-lp'] });
    await eventually(() => /\sReady\s/.test(server.kubectl(['get', 'nodes']).stdout), 'node Ready');
  });
  after(async () => {
    if (server) {
      server.kubectl(['delete', 'pods', '--all', '--now'], { allowFail: true });
      await server.stop();
    }
  });

  test('a released Delete volume leaves no directory and no PersistentVolume', async () => {
    const kubectl: Kubectl = (args, input) => server.kubectl(args, { input }).stdout;
    const directory = await writeThenReclaim(kubectl, 'e2e-lp');
    assert.ok(directory.startsWith(join(server.dataDir, 'storage', 'pvc-')), directory);
    assert.ok(existsSync(join(server.dataDir, 'storage')), 'the base directory stays');
  });
});

describe('local-path reclaim on an agent node (runc, 2-node cluster)', { skip: needsRoot }, () => {
  const root = mkdtempSync(join(tmpdir(), 'navarch-e2e-localpath-'));
  const name = `lp${Math.random().toString(36).slice(2, 5)}`;
  const io = { root, out: () => undefined, timeoutMs: 60_000 };
  let state: ClusterState;
  let kubeconfig: string;
  const kubectl: Kubectl = (args, input) => {
    const r = spawnSync('/usr/bin/kubectl', ['--kubeconfig', kubeconfig, ...args], { input, encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  };

  before(async () => {
    await runClusterCommand(['create', '--name', name, '--nodes', '2', '--runtime', 'runc'], io);
    state = loadState(root, name)!;
    kubeconfig = join(state.nodes[0]!.dataDir, 'kubeconfig');
    await eventually(() => (JSON.parse(kubectl(['get', 'nodes', '-o', 'json'])).items as { status: { conditions?: { type: string; status: string }[] } }[]).filter((n) => (n.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')).length === 2, '2 Ready nodes', 90_000);
  });
  after(async () => {
    if (loadState(root, name)) await runClusterCommand(['delete', name], io).catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  });

  test('a helper pod on the agent removes the directory, then goes itself', async () => {
    const agent = state.nodes[1]!.name;
    const directory = await writeThenReclaim(kubectl, agent);
    assert.ok(directory.startsWith(join(state.nodes[0]!.dataDir, 'storage', 'pvc-')), directory);
    // The helper ran on the agent (its kubelet reported it) and was cleaned up afterwards.
    const helperEvents = JSON.parse(kubectl(['get', 'events', '-n', 'kube-system', '-o', 'json'])).items.filter((e: { involvedObject: { name: string } }) => e.involvedObject.name.startsWith('helper-pod-delete-pvc-'));
    assert.ok(helperEvents.length > 0, 'the helper pod existed');
    await eventually(() => kubectl(['get', 'pods', '-n', 'kube-system', '-l', 'navarch.io/local-path-helper-for', '-o', 'name']).trim() === '', 'helper pod deleted', 30_000);
  });
});
