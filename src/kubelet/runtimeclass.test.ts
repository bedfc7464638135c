import { test } from 'node:test';
import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startTestApiServer } from '../apiserver/testing.js';
import { FakeNode, FakeRuntime } from '../runtime/fake/fake-runtime.js';
import { MultiRuntime } from '../runtime/multi/multi-runtime.js';
import { waitFor } from '../runtime/contract.js';
import { createKubelet } from './kubelet.js';
import { noopPodNetwork } from './network.js';
import { TestImageService, withImages } from './testing.js';

const podsRef = { group: '', version: 'v1', resource: 'pods', namespaced: true, kind: 'Pod' };
const rcRef = { group: 'node.k8s.io', version: 'v1', resource: 'runtimeclasses', namespaced: false, kind: 'RuntimeClass' };
const eventsRef = { group: '', version: 'v1', resource: 'events', namespaced: true, kind: 'Event' };

test('the kubelet runs each pod on its RuntimeClass handler, waits for a missing class, and advertises its handlers', async () => {
  const server = await startTestApiServer();
  const client = server.client;
  await client.resource({ group: '', version: 'v1', resource: 'configmaps', namespaced: true }).create('default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-root-ca.crt' }, data: { 'ca.crt': 'x' } } as any);
  const dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'kubelet-rc-'));
  const runcNode = new FakeNode();
  const hostNode = new FakeNode();
  const runtime = withImages(new MultiRuntime({ defaultHandler: 'runc', handlers: { runc: new FakeRuntime(runcNode), process: new FakeRuntime(hostNode) } }), new TestImageService(new Set(['busybox:1.36']), new Set()));
  const kubelet = createKubelet({
    transport: server.transport(), nodeName: 'node-a', runtime, network: noopPodNetwork({ podCIDR: '10.244.1.0/24', nodeIP: '127.0.0.1' }),
    dataDir, nodeIP: '127.0.0.1', relistPeriodMs: 100, canMount: false, hostResolvConf: 'nameserver 127.0.0.53\n', log: () => {},
  });
  await kubelet.start();
  const pods = client.resource(podsRef);
  const pod = (name: string, runtimeClassName?: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' },
    spec: { ...(runtimeClassName ? { runtimeClassName } : {}), containers: [{ name: 'c', image: 'busybox:1.36', command: ['sh', '-c', 'sleep 3600'] }] } });
  const bind = (name: string) => pods.createSubresource('default', name, 'binding', { apiVersion: 'v1', kind: 'Binding', metadata: { name }, target: { kind: 'Node', name: 'node-a' } } as any);
  const running = (name: string) => waitFor(`${name} Running`, async () => (await pods.get('default', name) as any).status?.phase === 'Running', 15_000);
  try {
    const node: any = await client.resource({ group: '', version: 'v1', resource: 'nodes', namespaced: false }).get(undefined, 'node-a');
    assert.deepEqual(node.status.runtimeHandlers.map((h: any) => h.name), ['', 'runc', 'process']);
    assert.deepEqual(node.status.runtimeHandlers[0].features, { recursiveReadOnlyMounts: false, userNamespaces: false });

    await client.resource(rcRef).create(undefined, { apiVersion: 'node.k8s.io/v1', kind: 'RuntimeClass', metadata: { name: 'host' }, handler: 'process' } as any);
    await pods.create('default', pod('plain'));
    await pods.create('default', pod('hosted', 'host'));
    await bind('plain');
    await bind('hosted');
    await running('plain');
    await running('hosted');
    const handlerOf = (name: string) => [...runcNode.sandboxes.values(), ...hostNode.sandboxes.values()].find((s) => s.config.metadata.name === name)?.runtimeHandler;
    assert.equal(handlerOf('plain'), 'runc');
    assert.equal(handlerOf('hosted'), 'process');
    assert.ok([...hostNode.sandboxes.values()].some((s) => s.config.metadata.name === 'hosted'));

    // The class disappears between admission and the kubelet: the sandbox waits, with Kubernetes' event.
    await client.resource(rcRef).create(undefined, { apiVersion: 'node.k8s.io/v1', kind: 'RuntimeClass', metadata: { name: 'late' }, handler: 'process' } as any);
    await pods.create('default', pod('orphan', 'late'));
    await client.resource(rcRef).delete(undefined, 'late');
    await bind('orphan');
    const event: any = await waitFor('FailedCreatePodSandBox', async () => (await client.resource(eventsRef).list('default')).items.find((e: any) => e.reason === 'FailedCreatePodSandBox' && e.involvedObject.name === 'orphan'));
    assert.equal(event.type, 'Warning');
    assert.equal(event.message, 'Failed to create pod sandbox: runtimeclass.node.k8s.io "late" not found');
    const waiting: any = await pods.get('default', 'orphan');
    assert.equal(waiting.status.phase, 'Pending');
    assert.ok(!handlerOf('orphan'));
    // …and retries once the class exists again.
    await client.resource(rcRef).create(undefined, { apiVersion: 'node.k8s.io/v1', kind: 'RuntimeClass', metadata: { name: 'late' }, handler: 'nosuch' } as any);
    const failed: any = await waitFor('no runtime event', async () => (await client.resource(eventsRef).list('default')).items.find((e: any) => e.involvedObject.name === 'orphan' && /no runtime for "nosuch" is configured/.test(e.message)), 15_000);
    assert.equal(failed.message, 'Failed to create pod sandbox: failed to get sandbox runtime: no runtime for "nosuch" is configured');
  } finally {
    await kubelet.stop();
    // Simulated `sleep 3600` processes hold timers: end them.
    for (const sb of await runtime.listPodSandbox()) await runtime.removePodSandbox(sb.id);
    await server.close();
    await fsp.rm(dataDir, { recursive: true, force: true });
  }
});
