import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startTestApiServer } from '../apiserver/testing.js';
import { FakeNode, FakeRuntime } from '../runtime/fake/fake-runtime.js';
import { waitFor } from '../runtime/contract.js';
import { createKubelet } from './kubelet.js';
import { noopPodNetwork } from './network.js';
import { labels } from './pod-sync.js';
import { configAnnotations, isMirrorPod, isStaticPod, mirrorPodFor, staticPodFromManifest } from './static-pods.js';
import { TestImageService, withImages } from './testing.js';

const manifest = (command: string) => `apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: kube-system
  labels: { app: web }
spec:
  containers:
  - name: app
    image: busybox:1.36
    command: ["sh", "-c", "${command}"]
`;

describe('static pod manifests', () => {
  test('a manifest becomes a pod named <name>-<node> with a content hash as uid and the config annotations', () => {
    const pod = staticPodFromManifest(manifest('sleep 3600'), '/m/web.yaml', 'node-a', Date.UTC(2024, 0, 1));
    assert.equal(pod.metadata.name, 'web-node-a');
    assert.equal(pod.metadata.namespace, 'kube-system');
    assert.equal(pod.spec.nodeName, 'node-a');
    assert.match(pod.metadata.uid, /^[0-9a-f]{32}$/);
    assert.equal(pod.metadata.annotations[configAnnotations.hash], pod.metadata.uid);
    assert.equal(pod.metadata.annotations[configAnnotations.source], 'file');
    assert.equal(pod.metadata.annotations[configAnnotations.seen], '2024-01-01T00:00:00Z');
    assert.deepEqual(pod.spec.tolerations, [{ operator: 'Exists', effect: 'NoExecute' }]);
    assert.ok(isStaticPod(pod));
    // Same file, same content, later: same pod. Different content or node: a different pod.
    assert.equal(staticPodFromManifest(manifest('sleep 3600'), '/m/web.yaml', 'node-a', Date.UTC(2025, 0, 1)).metadata.uid, pod.metadata.uid);
    assert.notEqual(staticPodFromManifest(manifest('sleep 60'), '/m/web.yaml', 'node-a', 0).metadata.uid, pod.metadata.uid);
    assert.notEqual(staticPodFromManifest(manifest('sleep 3600'), '/m/web.yaml', 'node-b', 0).metadata.uid, pod.metadata.uid);
    // JSON manifests and a default namespace.
    const json = staticPodFromManifest(JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'j' }, spec: { containers: [{ name: 'c', image: 'x' }] } }), '/m/j.json', 'n', 0);
    assert.equal(json.metadata.namespace, 'default');
  });

  for (const [what, text, error] of [
    ['two documents', `${manifest('a')}---\n${manifest('b')}`, /exactly one Pod/],
    ['a Deployment', 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n', /expected a v1 Pod/],
    ['no name', 'apiVersion: v1\nkind: Pod\nspec: {containers: [{name: c, image: x}]}\n', /no metadata.name/],
    ['no containers', 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {}\n', /no containers/],
  ] as const) {
    test(`rejects ${what}`, () => assert.throws(() => staticPodFromManifest(text, 'f.yaml', 'n', 0), error));
  }

  test('the mirror pod points at its static pod and is owned by the node', () => {
    const pod = staticPodFromManifest(manifest('sleep 3600'), '/m/web.yaml', 'node-a', 0);
    const mirror = mirrorPodFor(pod, { name: 'node-a', uid: 'node-uid' });
    assert.equal(mirror.metadata.uid, undefined);
    assert.equal(mirror.metadata.name, 'web-node-a');
    assert.equal(mirror.metadata.annotations[configAnnotations.mirror], pod.metadata.uid);
    assert.equal(mirror.metadata.annotations[configAnnotations.hash], pod.metadata.uid);
    assert.deepEqual(mirror.metadata.ownerReferences, [{ apiVersion: 'v1', kind: 'Node', name: 'node-a', uid: 'node-uid', controller: true }]);
    assert.ok(isMirrorPod(mirror));
    assert.ok(!isStaticPod(mirror));
  });
});

describe('static pods in the kubelet (in-process API server, fake runtime)', () => {
  test('file added → runs with a mirror; mirror deleted → recreated, pod untouched; file changed → restarted; file removed → gone', async () => {
    const server = await startTestApiServer();
    const dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'kubelet-static-'));
    const manifests = path.join(dataDir, 'manifests');
    await fsp.mkdir(manifests, { recursive: true });
    const runtime = withImages(new FakeRuntime(new FakeNode({ writeLogs: false })), new TestImageService(new Set(['busybox:1.36']), new Set()));
    const kubelet = createKubelet({
      transport: server.transport(), nodeName: 'node-a', runtime, network: noopPodNetwork({ podCIDR: '10.244.1.0/24', nodeIP: '127.0.0.1' }),
      dataDir, nodeIP: '127.0.0.1', canMount: false, relistPeriodMs: 100, hostResolvConf: '', log: () => {},
      evictionHard: '', staticPodRescanMs: 300,
    });
    const pods = server.client.resource({ group: '', version: 'v1', resource: 'pods', namespaced: true, kind: 'Pod' });
    const nodes = server.client.resource({ group: '', version: 'v1', resource: 'nodes', namespaced: false, kind: 'Node' });
    const mirror = async () => { try { return (await pods.get('kube-system', 'web-node-a')) as any; } catch (err: any) { if (err.code === 404) return undefined; throw err; } };
    const running = async () => runtime.listContainers({ state: 'CONTAINER_RUNNING' });
    try {
      await kubelet.start();
      await fsp.writeFile(path.join(manifests, 'web.yaml'), manifest('sleep 3600'));
      const first: any = await waitFor('mirror pod Running', async () => { const m = await mirror(); return m?.status?.phase === 'Running' && m; });
      const node: any = await nodes.get(undefined, 'node-a');
      const hash = first.metadata.annotations[configAnnotations.hash];
      assert.equal(first.metadata.annotations[configAnnotations.mirror], hash);
      assert.equal(first.metadata.annotations[configAnnotations.source], 'file');
      assert.notEqual(first.metadata.uid, hash, 'the API gives the mirror its own uid');
      assert.deepEqual(first.metadata.ownerReferences.map((o: any) => [o.kind, o.name, o.uid]), [['Node', 'node-a', node.metadata.uid]]);
      assert.equal(first.spec.nodeName, 'node-a');
      assert.equal(first.status.containerStatuses[0].ready, true);
      const [container] = await running();
      assert.equal(container!.labels[labels.podUid], hash, 'the runtime runs the static pod, not the mirror');

      // Deleting the mirror does not stop the pod; the kubelet recreates the mirror.
      await pods.delete('kube-system', 'web-node-a');
      const second: any = await waitFor('mirror recreated', async () => { const m = await mirror(); return m && m.metadata.uid !== first.metadata.uid && !m.metadata.deletionTimestamp && m.status?.phase === 'Running' && m; });
      assert.equal(second.metadata.annotations[configAnnotations.mirror], hash);
      assert.deepEqual((await running()).map((c) => c.id), [container!.id], 'same container, never restarted');

      // A changed file is a new pod: the old one is killed, the new one started, the mirror replaced.
      await fsp.writeFile(path.join(manifests, 'web.yaml'), manifest('sleep 7200'));
      const third: any = await waitFor('mirror of the new version', async () => { const m = await mirror(); return m && m.metadata.annotations[configAnnotations.hash] !== hash && m.status?.phase === 'Running' && m; });
      await waitFor('old container stopped', async () => { const list = await running(); return list.length === 1 && list[0]!.id !== container!.id; });
      const [replacement] = await running();
      assert.equal(replacement!.labels[labels.podUid], third.metadata.annotations[configAnnotations.hash]);
      assert.equal(third.metadata.annotations[configAnnotations.mirror], third.metadata.annotations[configAnnotations.hash]);

      // A removed file removes the pod and its mirror.
      await fsp.rm(path.join(manifests, 'web.yaml'));
      await waitFor('mirror gone', async () => !(await mirror()));
      await waitFor('runtime emptied', async () => (await runtime.listPodSandbox()).length === 0);
    } finally {
      await kubelet.stop();
      for (const s of await runtime.listPodSandbox()) await runtime.removePodSandbox(s.id);
      await server.close();
      await fsp.rm(dataDir, { recursive: true, force: true });
    }
  });
});
