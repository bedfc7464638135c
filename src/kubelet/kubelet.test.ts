import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startTestApiServer } from '../apiserver/testing.js';
import { FakeNode, FakeRuntime } from '../runtime/fake/fake-runtime.js';
import { waitFor } from '../runtime/contract.js';
import { createKubelet } from './kubelet.js';
import { noopPodNetwork } from './network.js';
import { TestImageService, withImages } from './testing.js';

const podsRef = { group: '', version: 'v1', resource: 'pods', namespaced: true, kind: 'Pod' };

async function setup(t: { after: typeof after }) {
  const server = await startTestApiServer();
  // What the root-ca-cert-publisher controller provides; the projected kube-api-access volume needs it.
  await server.client.resource({ group: '', version: 'v1', resource: 'configmaps', namespaced: true }).create('default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-root-ca.crt' }, data: { 'ca.crt': 'test-ca' } } as any);
  const dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'kubelet-test-'));
  const node = new FakeNode();
  const images = new TestImageService(new Set(['busybox:1.36']), new Set(['nosuch:1.0']));
  const runtime = withImages(new FakeRuntime(node), images);
  const kubelet = createKubelet({
    transport: server.transport(),
    nodeName: 'node-a',
    runtime,
    network: noopPodNetwork({ podCIDR: '10.244.1.0/24', nodeIP: '127.0.0.1' }),
    dataDir,
    nodeIP: '127.0.0.1',
    clusterDNS: ['10.96.0.10'],
    nodeLabels: { 'topology.kubernetes.io/zone': 'z1' },
    nodeTaints: [{ key: 'dedicated', value: 'test', effect: 'NoSchedule' }],
    hostResolvConf: 'nameserver 127.0.0.53\nsearch example.org\n',
    relistPeriodMs: 100,
    canMount: false,
    log: process.env.KUBELET_TEST_LOG ? (l, m, f) => console.error(l, m, f) : () => {},
  });
  await kubelet.start();
  const cleanup = async () => {
    await kubelet.stop();
    for (const s of await runtime.listPodSandbox()) await runtime.removePodSandbox(s.id);
    await server.close();
    await fsp.rm(dataDir, { recursive: true, force: true });
  };
  return { server, kubelet, runtime, node, images, dataDir, pods: server.client.resource(podsRef), cleanup };
}

function pod(name: string, spec: any): any {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { nodeName: 'node-a', ...spec } };
}

describe('kubelet with the in-process API server and the fake runtime', () => {
  test('registers the node with capacity, labels, taints, conditions, nodeInfo and a lease', async (t) => {
    const h = await setup(t);
    try {
      const node: any = await h.server.client.resource({ group: '', version: 'v1', resource: 'nodes', namespaced: false }).get(undefined, 'node-a');
      assert.equal(node.metadata.labels['kubernetes.io/hostname'], 'node-a');
      assert.equal(node.metadata.labels['kubernetes.io/os'], 'linux');
      assert.equal(node.metadata.labels['topology.kubernetes.io/zone'], 'z1');
      assert.deepEqual(node.spec.taints, [{ key: 'dedicated', value: 'test', effect: 'NoSchedule' }]);
      assert.equal(node.status.capacity.pods, '110');
      const ready = node.status.conditions.find((c: any) => c.type === 'Ready');
      assert.equal(ready.status, 'True');
      assert.equal(ready.reason, 'KubeletReady');
      assert.equal(ready.message, 'kubelet is posting ready status');
      assert.equal(node.status.conditions.find((c: any) => c.type === 'MemoryPressure').reason, 'KubeletHasSufficientMemory');
      assert.deepEqual(node.status.addresses[0], { type: 'InternalIP', address: '127.0.0.1' });
      assert.equal(node.status.nodeInfo.operatingSystem, 'linux');
      assert.match(node.status.nodeInfo.containerRuntimeVersion, /^fake:\/\//);
      assert.match(node.status.nodeInfo.kubeletVersion, /^v1\./);
      const lease: any = await h.server.client.resource({ group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespaced: true }).get('kube-node-lease', 'node-a');
      assert.equal(lease.spec.holderIdentity, 'node-a');
      assert.equal(lease.metadata.ownerReferences[0].uid, node.metadata.uid);
    } finally {
      await h.cleanup();
    }
  });

  test('a pod bound to the node runs with Kubernetes status; deleting it stops and removes everything', async (t) => {
    const h = await setup(t);
    try {
      await h.server.client.resource({ group: '', version: 'v1', resource: 'configmaps', namespaced: true }).create('default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' }, data: { greeting: 'hello' } } as any);
      await h.server.client.resource({ group: '', version: 'v1', resource: 'services', namespaced: true }).create('default', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'backend' }, spec: { ports: [{ port: 8080 }] } } as any);
      await h.pods.create('default', pod('web', {
        volumes: [{ name: 'cfg', configMap: { name: 'cfg' } }, { name: 'scratch', emptyDir: {} }],
        containers: [{ name: 'app', image: 'busybox:1.36', command: ['sh', '-c', 'echo started; sleep 3600'], volumeMounts: [{ name: 'cfg', mountPath: '/cfg' }],
          env: [{ name: 'GREETING', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'greeting' } } }, { name: 'MSG', value: '$(GREETING) world' }, { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }] }],
      }));
      let current: any;
      await waitFor('pod Running and Ready', async () => {
        current = await h.pods.get('default', 'web');
        return current.status?.phase === 'Running' && current.status.conditions?.find((c: any) => c.type === 'Ready')?.status === 'True';
      });
      const status = current.status;
      assert.equal(status.hostIP, '127.0.0.1');
      assert.match(status.podIP, /^10\.244\.1\.\d+$/);
      assert.deepEqual(status.podIPs, [{ ip: status.podIP }]);
      assert.ok(status.startTime);
      assert.equal(status.qosClass, 'BestEffort');
      assert.deepEqual(status.conditions.map((c: any) => c.type).slice(0, 4), ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady']);
      const cs = status.containerStatuses[0];
      assert.equal(cs.name, 'app');
      assert.ok(cs.state.running.startedAt);
      assert.equal(cs.ready, true);
      assert.equal(cs.started, true);
      assert.equal(cs.restartCount, 0);
      assert.match(cs.containerID, /^fake:\/\//);
      // Environment and volumes reached the runtime.
      const [container] = await h.runtime.listContainers({});
      const cfg = [...h.node.containers.values()][0]!.config;
      const env = Object.fromEntries((cfg.envs ?? []).map((e) => [e.key, e.value]));
      assert.equal(env.MSG, 'hello world');
      assert.equal(env.NODE, 'node-a');
      assert.match(env.BACKEND_SERVICE_HOST ?? '', /^\d+\.\d+\.\d+\.\d+$/);
      assert.equal(env.BACKEND_SERVICE_PORT, '8080');
      assert.equal(env.BACKEND_PORT, `tcp://${env.BACKEND_SERVICE_HOST}:8080`);
      const cfgMount = cfg.mounts!.find((m) => m.containerPath === '/cfg')!;
      assert.equal(await fsp.readFile(path.join(cfgMount.hostPath, 'greeting'), 'utf8'), 'hello');
      const resolv = await fsp.readFile(cfg.mounts!.find((m) => m.containerPath === '/etc/resolv.conf')!.hostPath, 'utf8');
      assert.match(resolv, /^search default\.svc\.cluster\.local svc\.cluster\.local cluster\.local example\.org$/m);
      assert.match(resolv, /^nameserver 10\.96\.0\.10$/m);
      assert.match(resolv, /^options ndots:5$/m);
      assert.ok(container);

      const events = await h.server.client.resource({ group: '', version: 'v1', resource: 'events', namespaced: true }).list('default');
      const reasons = events.items.map((e: any) => e.reason);
      for (const r of ['Pulled', 'Created', 'Started']) assert.ok(reasons.includes(r), `event ${r} in ${reasons}`);
      assert.equal(events.items.find((e: any) => e.reason === 'Pulled')!.message, 'Container image "busybox:1.36" already present on machine');

      await h.pods.delete('default', 'web', { gracePeriodSeconds: 1 });
      await waitFor('pod gone', async () => {
        try { await h.pods.get('default', 'web'); return false; } catch (err: any) { return err.code === 404; }
      });
      await waitFor('runtime emptied', async () => (await h.runtime.listPodSandbox()).length === 0 && (await h.runtime.listContainers()).length === 0);
      await waitFor('pod dir removed', async () => !(await fsp.stat(path.join(h.dataDir, 'pods', current.metadata.uid)).catch(() => undefined)));
    } finally {
      await h.cleanup();
    }
  });

  test('init containers run in order; a failing container with restartPolicy Never fails the pod', async (t) => {
    const h = await setup(t);
    try {
      await h.pods.create('default', pod('job', {
        restartPolicy: 'Never',
        initContainers: [{ name: 'one', image: 'busybox:1.36', command: ['sh', '-c', 'echo one'] }, { name: 'two', image: 'busybox:1.36', command: ['sh', '-c', 'echo two'] }],
        containers: [{ name: 'main', image: 'busybox:1.36', command: ['sh', '-c', 'echo bye; exit 3'] }],
      }));
      let current: any;
      await waitFor('pod Failed', async () => { current = await h.pods.get('default', 'job'); return current.status?.phase === 'Failed'; });
      const init = current.status.initContainerStatuses;
      assert.deepEqual(init.map((s: any) => [s.name, s.state.terminated.reason, s.state.terminated.exitCode]), [['one', 'Completed', 0], ['two', 'Completed', 0]]);
      assert.ok(Date.parse(init[0].state.terminated.finishedAt) <= Date.parse(init[1].state.terminated.startedAt));
      const main = current.status.containerStatuses[0];
      assert.equal(main.state.terminated.reason, 'Error');
      assert.equal(main.state.terminated.exitCode, 3);
      assert.equal(current.status.conditions.find((c: any) => c.type === 'Initialized').status, 'True');
      assert.equal(current.status.conditions.find((c: any) => c.type === 'Ready').reason, 'ContainersNotReady');
    } finally {
      await h.cleanup();
    }
  });

  test('pull policy: Never with a missing image is ErrImageNeverPull; a failing pull backs off', async (t) => {
    const h = await setup(t);
    try {
      await h.pods.create('default', pod('never', { containers: [{ name: 'c', image: 'absent:1.0', imagePullPolicy: 'Never' }] }));
      await h.pods.create('default', pod('pull', { containers: [{ name: 'c', image: 'nosuch:1.0' }] }));
      await waitFor('ErrImageNeverPull', async () => {
        const p: any = await h.pods.get('default', 'never');
        return p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ErrImageNeverPull';
      });
      const never: any = await h.pods.get('default', 'never');
      assert.equal(never.status.containerStatuses[0].state.waiting.message, 'Container image "absent:1.0" is not present with pull policy of Never');
      assert.equal(never.status.phase, 'Pending');
      await waitFor('ErrImagePull', async () => {
        const p: any = await h.pods.get('default', 'pull');
        return ['ErrImagePull', 'ImagePullBackOff'].includes(p.status?.containerStatuses?.[0]?.state?.waiting?.reason);
      });
    } finally {
      await h.cleanup();
    }
  });

  test('a restarted kubelet adopts running containers instead of starting duplicates', async (t) => {
    const h = await setup(t);
    try {
      await h.pods.create('default', pod('keep', { containers: [{ name: 'c', image: 'busybox:1.36', command: ['sh', '-c', 'sleep 3600'] }] }));
      await waitFor('running', async () => ((await h.pods.get('default', 'keep')) as any).status?.phase === 'Running');
      await h.kubelet.stop();
      const again = createKubelet({
        transport: h.server.transport(), nodeName: 'node-a', runtime: withImages(new FakeRuntime(h.node), h.images),
        network: noopPodNetwork({ podCIDR: '10.244.1.0/24', nodeIP: '127.0.0.1' }), dataDir: h.dataDir, nodeIP: '127.0.0.1', canMount: false, relistPeriodMs: 100, log: () => {},
      });
      await again.start();
      await new Promise((r) => setTimeout(r, 300));
      await again.idle();
      assert.equal((await h.runtime.listContainers()).length, 1);
      assert.equal((await h.runtime.listPodSandbox()).length, 1);
      const p: any = await h.pods.get('default', 'keep');
      assert.equal(p.status.containerStatuses[0].restartCount, 0);
      await again.stop();
    } finally {
      await h.cleanup();
    }
  });
});
