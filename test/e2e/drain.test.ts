// kubectl drain against a PodDisruptionBudget: the disruption controller's status lets one
// eviction through and the eviction subresource refuses the next with 429, so drain stops at
// the budget. No node agent runs: the test plays the kubelet (pod status Ready, and final
// removal of pods that are being deleted).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { startServer, type TestServer, eventually } from './harness.js';


const manifests = `
apiVersion: v1
kind: Node
metadata:
  name: drain-node
  labels: { kubernetes.io/hostname: drain-node }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      nodeName: drain-node
      containers: [{ name: c, image: busybox }]
`;

describe('kubectl drain with a PodDisruptionBudget', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server?.stop();
  });
  const json = (args: string[]) => JSON.parse(server.kubectl([...args, '-o', 'json']).stdout);
  const podsOnNode = () => json(['get', 'pods', '-l', 'app=web', '--field-selector', 'spec.nodeName=drain-node']).items as any[];
  const markReady = (name: string) =>
    server.kubectl(['patch', 'pod', name, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }, { type: 'ContainersReady', status: 'True' }] } })]);

  test('evicts one pod, then the budget refuses the last', async () => {
    server.kubectl(['apply', '-f', '-'], { input: manifests });
    const initial = await eventually(() => {
      const items = podsOnNode();
      return items.length === 2 && items;
    }, 'two pods');
    for (const pod of initial) markReady(pod.metadata.name);
    server.kubectl(['create', 'pdb', 'web', '--selector=app=web', '--min-available=1']);
    await eventually(() => /^web\s+1\s+N\/A\s+1\s+/m.test(server.kubectl(['get', 'pdb', 'web']).stdout), 'ALLOWED DISRUPTIONS 1');

    const drain = spawn('/usr/bin/kubectl', ['--kubeconfig', server.kubeconfig, 'drain', 'drain-node', '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=10s'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    drain.stdout.on('data', (d) => (output += d));
    drain.stderr.on('data', (d) => (output += d));
    const exited = new Promise<number>((resolve) => drain.once('exit', (code) => resolve(code ?? -1)));
    let done = false;
    void exited.then(() => (done = true));
    // The pretend kubelet: pods that drain evicted finish terminating.
    while (!done) {
      for (const pod of podsOnNode()) {
        if (pod.metadata.deletionTimestamp) server.kubectl(['delete', 'pod', pod.metadata.name, '--grace-period=0', '--force'], { allowFail: true });
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    const code = await exited;
    assert.notEqual(code, 0, output);
    assert.match(output, /node\/drain-node cordoned/);
    const evicted = [...output.matchAll(/pod\/(web-\S+) evicted/g)].map((m) => m[1]);
    assert.equal(evicted.length, 1, output);
    const refused = initial.map((p: any) => p.metadata.name).find((n: string) => n !== evicted[0]);
    assert.match(output, new RegExp(`error when evicting pods/"${refused}" -n "default" \\(will retry after 5s\\): Cannot evict pod as it would violate the pod's disruption budget\\.`));
    assert.equal(json(['get', 'node', 'drain-node']).spec.unschedulable, true);
    // The refused pod is still there and still counted; the budget allows nothing more.
    assert.ok(podsOnNode().some((p) => p.metadata.name === refused && !p.metadata.deletionTimestamp));
    const pdb = json(['get', 'pdb', 'web']);
    assert.equal(pdb.status.disruptionsAllowed, 0);
    assert.equal(pdb.status.currentHealthy, 1);
    assert.equal(pdb.status.desiredHealthy, 1);
    assert.equal(pdb.status.conditions.find((c: any) => c.type === 'DisruptionAllowed').reason, 'InsufficientPods');
  });
});
