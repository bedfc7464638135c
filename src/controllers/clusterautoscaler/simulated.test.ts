// SimulatedNodeGroup with real hollow kubelets on the fake runtime, registering through the
// in-process API server, and the autoscaler plus the real scheduler end to end: an
// unschedulable pod makes a hollow node appear, the scheduler binds the pod there and the
// hollow kubelet runs it.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { KubeObject } from '../../api/types.js';
import { canonicalQuantity } from '../../api/quantity/index.js';
import { startTestApiServer } from '../../apiserver/testing.js';
import { SharedInformerFactory } from '../../client/informer.js';
import { systemClock } from '../../client/clock.js';
import { createScheduler } from '../../scheduler/scheduler.js';
import { waitFor } from '../../runtime/contract.js';
import { createEventRecorder } from '../framework/events.js';
import { nodesResource } from '../nodelifecycle/controller.js';
import { podsResource } from '../framework/resources.js';
import { createClusterAutoscaler } from './autoscaler.js';
import { nodeGroupLabel, parseNodeGroupSpec } from './node-group.js';
import { hollowKubeletStarter, SimulatedNodeGroupProvider } from './simulated.js';

const silent = () => undefined;

describe('simulated node groups (hollow kubelets)', () => {
  test('members register as nodes with the template shape; deleting stops them and removes the Node', async () => {
    const server = await startTestApiServer();
    const dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'hollow-'));
    const client = server.client;
    const provider = new SimulatedNodeGroupProvider([parseNodeGroupSpec('group=pool,min=0,max=3,cpu=2,memory=4Gi,label=tier=batch')], {
      client,
      start: hollowKubeletStarter({ transportFor: () => server.transport(), dataDir, log: silent }),
    });
    const [group] = provider.nodeGroups();
    try {
      await group.increaseSize(2);
      assert.equal(group.targetSize(), 2);
      await assert.rejects(group.increaseSize(2), /max 3/);
      const nodes = client.resource(nodesResource);
      const ready = async (name: string) => ((await nodes.get(undefined, name).catch(() => undefined))?.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
      await waitFor('hollow nodes Ready', async () => (await ready('pool-1')) && (await ready('pool-2')), 10_000);
      const node = await nodes.get(undefined, 'pool-1');
      const template = group.templateNode();
      // The apiserver stores quantities canonical (4091904Ki reads back as 3996Mi).
      assert.deepEqual(node.status.allocatable.cpu, canonicalQuantity(template.status.allocatable.cpu));
      assert.deepEqual(node.status.allocatable.memory, canonicalQuantity(template.status.allocatable.memory));
      assert.equal(node.metadata.labels!.tier, 'batch');
      assert.equal(node.metadata.labels![nodeGroupLabel], 'pool');
      assert.equal(provider.nodeGroupForNode(node), group);
      await group.deleteNodes([node]);
      assert.equal(group.targetSize(), 1);
      await assert.rejects(nodes.get(undefined, 'pool-1'), /not found/);
      await assert.rejects(fsp.stat(path.join(dataDir, 'pool-1')));
    } finally {
      await provider.stopAll();
      await server.close();
      await fsp.rm(dataDir, { recursive: true, force: true });
    }
  });

  test('an unschedulable pod brings up a hollow node; the scheduler binds it there and it runs', async () => {
    const server = await startTestApiServer();
    const dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'hollow-'));
    const client = server.client;
    const abort = new AbortController();
    const provider = new SimulatedNodeGroupProvider([parseNodeGroupSpec('group=pool,min=0,max=3,cpu=2,memory=4Gi')], {
      client,
      start: hollowKubeletStarter({ transportFor: () => server.transport(), dataDir, log: silent }),
    });
    const clock = systemClock();
    const factory = new SharedInformerFactory(client, { logger: silent });
    const recorder = createEventRecorder({ client, component: 'cluster-autoscaler', clock });
    const ca = createClusterAutoscaler({ client, informerFactory: factory, clock, recorder, provider, scanIntervalMs: 200 });
    const scheduler = createScheduler({ transport: server.transport(), podInitialBackoffMs: 100, podMaxBackoffMs: 200, logger: silent });
    const running = [scheduler.start(abort.signal), ca.start(abort.signal)];
    factory.start(abort.signal);
    try {
      await client.resource({ group: '', version: 'v1', resource: 'configmaps', namespaced: true }).create('default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-root-ca.crt' }, data: { 'ca.crt': 'test-ca' } } as KubeObject);
      await client.resource(podsResource).create('default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'work' }, spec: { automountServiceAccountToken: false, containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu: '1' } } }] } } as KubeObject);
      const pod = await waitFor('pod Running on a new hollow node', async () => {
        const p = await client.resource(podsResource).get('default', 'work');
        return p.status?.phase === 'Running' ? p : undefined;
      }, 15_000);
      assert.equal(pod.spec.nodeName, 'pool-1');
      assert.equal(group(provider).targetSize(), 1);
      const events = await client.resource({ group: '', version: 'v1', resource: 'events', namespaced: true }).list('default', { fieldSelector: 'involvedObject.name=work' });
      assert.ok(events.items.some((e: any) => e.reason === 'TriggeredScaleUp' && e.message === 'pod triggered scale-up: [{pool 0->1 (max: 3)}]'));
    } finally {
      abort.abort();
      await Promise.all(running);
      await factory.shutdown();
      await recorder.flush();
      await provider.stopAll();
      await server.close();
      await fsp.rm(dataDir, { recursive: true, force: true });
    }
  });
});

const group = (p: SimulatedNodeGroupProvider) => p.nodeGroups()[0];
