import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startTestApiServer } from '../apiserver/testing.js';
import { FakeClock } from '../client/testing/fake-clock.js';
import { desiredManagedTaints } from '../controllers/nodelifecycle/taints.js';
import { FakeNode, FakeRuntime, fakeAnnotations } from '../runtime/fake/fake-runtime.js';
import { waitFor } from '../runtime/contract.js';
import {
  EvictionManager, admitPod, defaultEvictionHard, evictionMessage, formatBinaryQuantity, parseEvictionThresholds, parseMeminfo, rankForEviction, thresholdsMet,
  type ContainerUsage, type Observations, type PodUsage, type RankedPod,
} from './eviction.js';
import { createKubelet } from './kubelet.js';
import { noopPodNetwork } from './network.js';
import { TestImageService, withImages } from './testing.js';

const Mi = 1024 * 1024;

function pod(name: string, opts: { requests?: string; limits?: string; priority?: number; annotations?: Record<string, string> } = {}): any {
  const resources: any = {};
  if (opts.requests) resources.requests = { memory: opts.requests };
  if (opts.limits) resources.limits = { memory: opts.limits };
  return {
    metadata: { name, namespace: 'default', uid: `uid-${name}`, annotations: opts.annotations },
    spec: { priority: opts.priority, containers: [{ name: 'c', image: 'busybox:1.36', resources }] },
  };
}

function usage(memoryBytes: number): Map<string, ContainerUsage> {
  return new Map([['c', { memoryWorkingSetBytes: memoryBytes, diskBytes: 0 }]]);
}

describe('eviction thresholds', () => {
  test("Kubernetes' defaults parse into four LessThan thresholds", () => {
    assert.deepEqual(parseEvictionThresholds(defaultEvictionHard), [
      { signal: 'memory.available', operator: 'LessThan', quantity: 100 * Mi },
      { signal: 'nodefs.available', operator: 'LessThan', percentage: 0.1 },
      { signal: 'nodefs.inodesFree', operator: 'LessThan', percentage: 0.05 },
      { signal: 'imagefs.available', operator: 'LessThan', percentage: 0.15 },
    ]);
    assert.deepEqual(parseEvictionThresholds(''), []);
    assert.deepEqual(parseEvictionThresholds('memory.available<1Gi'), [{ signal: 'memory.available', operator: 'LessThan', quantity: 1024 * Mi }]);
  });

  for (const [spec, error] of [
    ['memory.free<100Mi', /unsupported eviction signal memory\.free/],
    ['memory.available>100Mi', /invalid eviction threshold/],
    ['memory.available<100Mi,memory.available<1Gi', /duplicate eviction threshold/],
    ['nodefs.available<120%', /at most 100%/],
    ['nodefs.available<0%', /must be positive/],
    ['memory.available<lots', /invalid quantity/],
  ] as const) {
    test(`rejects ${spec}`, () => assert.throws(() => parseEvictionThresholds(spec), error));
  }

  test('a threshold is met when the signal is below its absolute or relative value', () => {
    const thresholds = parseEvictionThresholds(defaultEvictionHard);
    const signals: Observations = {
      'memory.available': { available: 99 * Mi, capacity: 1024 * Mi },
      'nodefs.available': { available: 10, capacity: 100 }, // exactly 10%: not below
      'nodefs.inodesFree': { available: 4, capacity: 100 },
    };
    assert.deepEqual(thresholdsMet(thresholds, signals).map((t) => t.signal), ['memory.available', 'nodefs.inodesFree']);
    assert.deepEqual(thresholdsMet(thresholds, {}), [], 'unobserved signals never trigger');
  });

  test('/proc/meminfo parsing and quantity rendering', () => {
    assert.deepEqual(parseMeminfo('MemTotal:        2048000 kB\nMemFree:  1 kB\nMemAvailable:     1024000 kB\n'), { total: 2048000 * 1024, available: 1024000 * 1024 });
    assert.equal(parseMeminfo('garbage'), undefined);
    assert.equal(formatBinaryQuantity(80 * Mi), '80Mi');
    assert.equal(formatBinaryQuantity(1536 * 1024), '1536Ki');
    assert.equal(formatBinaryQuantity(1024 * Mi), '1Gi');
    assert.equal(formatBinaryQuantity(1000), '1000');
    assert.equal(formatBinaryQuantity(0), '0');
  });
});

describe('eviction order (memory)', () => {
  test("pods exceeding requests first, then lower priority, then larger usage above requests (Kubernetes' rankMemoryPressure)", () => {
    const ranked: RankedPod[] = [
      { pod: pod('guaranteed', { requests: '200Mi', limits: '200Mi' }), usage: usage(150 * Mi) },
      { pod: pod('burstable-under', { requests: '500Mi' }), usage: usage(100 * Mi) },
      { pod: pod('besteffort-important', { priority: 1000 }), usage: usage(10 * Mi) },
      { pod: pod('besteffort'), usage: usage(50 * Mi) },
      { pod: pod('burstable-over', { requests: '100Mi' }), usage: usage(300 * Mi) },
      { pod: pod('besteffort-small'), usage: usage(20 * Mi) },
    ];
    assert.deepEqual(rankForEviction(ranked, 'memory').map((r) => r.pod.metadata.name), [
      'burstable-over', // over its request by 200Mi
      'besteffort', // over by 50Mi (requests nothing)
      'besteffort-small', // over by 20Mi
      'besteffort-important', // exceeds, but higher priority
      'guaranteed', // within requests: 50Mi under
      'burstable-under', // 400Mi under
    ]);
  });

  test('within the same usage, BestEffort goes before a Burstable pod within its request and a Guaranteed pod', () => {
    const ranked: RankedPod[] = [
      { pod: pod('g', { requests: '300Mi', limits: '300Mi' }), usage: usage(300 * Mi) },
      { pod: pod('b', { requests: '300Mi' }), usage: usage(300 * Mi) },
      { pod: pod('be'), usage: usage(300 * Mi) },
    ];
    assert.equal(rankForEviction(ranked, 'memory')[0]!.pod.metadata.name, 'be');
  });

  test("the message reads like Kubernetes'", () => {
    const message = evictionMessage('memory', 100 * Mi, 80 * Mi, { pod: pod('p'), usage: usage(300 * Mi) });
    assert.equal(message, 'The node was low on resource: memory. Threshold quantity: 100Mi, available: 80Mi. Container c was using 300Mi, request is 0, has larger consumption of memory. ');
    const within = evictionMessage('memory', 100 * Mi, 80 * Mi, { pod: pod('q', { requests: '1Gi' }), usage: usage(300 * Mi) });
    assert.equal(within, 'The node was low on resource: memory. Threshold quantity: 100Mi, available: 80Mi. ');
  });
});

describe('eviction admission', () => {
  const none = { memory: false, disk: false, pid: false };
  for (const [what, p, pressure, qos, message] of [
    ['no pressure admits all', pod('a'), none, 'BestEffort', undefined],
    ['MemoryPressure refuses BestEffort', pod('a'), { ...none, memory: true }, 'BestEffort', 'Pod was rejected: The node had condition: [MemoryPressure]. '],
    ['MemoryPressure admits Burstable', pod('a', { requests: '1Mi' }), { ...none, memory: true }, 'Burstable', undefined],
    ['DiskPressure refuses Guaranteed', pod('a'), { ...none, disk: true }, 'Guaranteed', 'Pod was rejected: The node had condition: [DiskPressure]. '],
    ['both', pod('a'), { ...none, memory: true, disk: true }, 'BestEffort', 'Pod was rejected: The node had condition: [MemoryPressure, DiskPressure]. '],
    ['critical pods always run', pod('a', { priority: 2_000_000_000 }), { ...none, memory: true, disk: true }, 'BestEffort', undefined],
  ] as const) {
    test(what, () => {
      const result = admitPod(p, pressure, qos);
      assert.equal(result.admit ? undefined : result.message, message);
    });
  }
});

describe('eviction manager with a fake clock', () => {
  function harness(pods: any[], pressureTransitionPeriodMs?: number) {
    const clock = new FakeClock();
    const state: { signals: Observations; usage: PodUsage } = { signals: {}, usage: new Map() };
    const evicted: Array<{ name: string; message: string }> = [];
    const active = new Set(pods.map((p) => p.metadata.uid));
    const manager = new EvictionManager({
      clock,
      thresholds: parseEvictionThresholds(defaultEvictionHard),
      stats: { observe: async () => ({ signals: state.signals, pods: state.usage }) },
      activePods: () => pods.filter((p) => active.has(p.metadata.uid)),
      evict: async (p, message) => { evicted.push({ name: p.metadata.name, message }); active.delete(p.metadata.uid); },
      pressureTransitionPeriodMs,
    });
    return { clock, state, evicted, manager };
  }

  test('MemoryPressure turns on at the threshold, one pod goes per pass, and the condition clears only after the transition period', async () => {
    const pods = [pod('besteffort'), pod('guaranteed', { requests: '1Gi', limits: '1Gi' }), pod('burstable', { requests: '100Mi' })];
    const h = harness(pods);
    h.state.usage = new Map([['uid-besteffort', usage(300 * Mi)], ['uid-guaranteed', usage(500 * Mi)], ['uid-burstable', usage(200 * Mi)]]);
    h.state.signals = { 'memory.available': { available: 500 * Mi, capacity: 2048 * Mi }, 'nodefs.available': { available: 50, capacity: 100 } };
    let r = await h.manager.synchronize();
    assert.deepEqual(r.pressure, { memory: false, disk: false, pid: false });
    assert.equal(r.evicted, undefined);

    h.state.signals['memory.available'] = { available: 80 * Mi, capacity: 2048 * Mi };
    r = await h.manager.synchronize();
    assert.equal(r.pressure.memory, true);
    assert.deepEqual(h.evicted, [{ name: 'besteffort', message: 'The node was low on resource: memory. Threshold quantity: 100Mi, available: 80Mi. Container c was using 300Mi, request is 0, has larger consumption of memory. ' }]);

    await h.clock.advance(10_000);
    r = await h.manager.synchronize();
    assert.equal(h.evicted.length, 2, 'still under pressure: the next pod goes, one per pass');
    assert.equal(h.evicted[1]!.name, 'burstable');

    // Relief: no more evictions, but the condition holds for the transition period.
    await h.clock.advance(10_000);
    const lastMet = h.clock.now() - 10_000;
    h.state.signals['memory.available'] = { available: 900 * Mi, capacity: 2048 * Mi };
    r = await h.manager.synchronize();
    assert.equal(r.pressure.memory, true);
    assert.equal(r.evicted, undefined);
    await h.clock.advance(lastMet + 5 * 60_000 - 1 - h.clock.now());
    assert.equal((await h.manager.synchronize()).pressure.memory, true);
    await h.clock.advance(1);
    assert.equal((await h.manager.synchronize()).pressure.memory, false);
    assert.equal(h.evicted.length, 2);
  });

  test('DiskPressure from nodefs or imagefs; memory is reclaimed first when both are low', async () => {
    const h = harness([pod('a'), pod('b')], 1);
    h.state.usage = new Map([['uid-a', usage(10 * Mi)], ['uid-b', usage(20 * Mi)]]);
    h.state.signals = { 'memory.available': { available: 50 * Mi, capacity: 1024 * Mi }, 'imagefs.available': { available: 10, capacity: 100 } };
    const r = await h.manager.synchronize();
    assert.deepEqual(r.pressure, { memory: true, disk: true, pid: false });
    assert.match(h.evicted[0]!.message, /^The node was low on resource: memory\. /);
    h.state.signals = { 'memory.available': { available: 500 * Mi, capacity: 1024 * Mi }, 'nodefs.inodesFree': { available: 1, capacity: 100 } };
    await h.clock.advance(10_000);
    const d = await h.manager.synchronize();
    assert.deepEqual(d.pressure, { memory: false, disk: true, pid: false });
    assert.equal(h.evicted[1]!.message, 'The node was low on resource: inodes. Threshold quantity: 5, available: 1. ');
  });

  test('static, mirror and system-critical pods are never evicted', async () => {
    const h = harness([
      pod('static', { annotations: { 'kubernetes.io/config.source': 'file' } }),
      pod('critical', { priority: 2_000_001_000 }),
    ]);
    h.state.usage = new Map([['uid-static', usage(900 * Mi)], ['uid-critical', usage(900 * Mi)]]);
    h.state.signals = { 'memory.available': { available: 1 * Mi, capacity: 2048 * Mi } };
    const r = await h.manager.synchronize();
    assert.equal(r.pressure.memory, true);
    assert.deepEqual(h.evicted, []);
  });
});

describe('node-pressure eviction in the kubelet (in-process API server, fake runtime)', () => {
  test('usage crossing memory.available evicts the BestEffort pod first; MemoryPressure comes and goes', async () => {
    const server = await startTestApiServer();
    const dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'kubelet-eviction-'));
    const runtime = withImages(new FakeRuntime(new FakeNode({ writeLogs: false })), new TestImageService(new Set(['busybox:1.36']), new Set()));
    const kubelet = createKubelet({
      transport: server.transport(), nodeName: 'node-a', runtime, network: noopPodNetwork({ podCIDR: '10.244.1.0/24', nodeIP: '127.0.0.1' }),
      dataDir, nodeIP: '127.0.0.1', canMount: false, relistPeriodMs: 100, hostResolvConf: '', log: () => {},
      facts: { memoryBytes: 1024 * Mi },
      evictionHard: 'memory.available<100Mi',
      evictionStats: 'pods',
      evictionMonitoringIntervalMs: 100,
      evictionPressureTransitionPeriodMs: 3_000,
      staticPodPath: null,
    });
    const pods = server.client.resource({ group: '', version: 'v1', resource: 'pods', namespaced: true, kind: 'Pod' });
    const nodes = server.client.resource({ group: '', version: 'v1', resource: 'nodes', namespaced: false, kind: 'Node' });
    const events = server.client.resource({ group: '', version: 'v1', resource: 'events', namespaced: true, kind: 'Event' });
    const make = (name: string, memory: number, resources: any = {}) => pods.create('default', {
      apiVersion: 'v1', kind: 'Pod',
      metadata: { name, namespace: 'default', annotations: { [fakeAnnotations.memoryBytes]: String(memory * Mi) } },
      spec: { nodeName: 'node-a', automountServiceAccountToken: false, enableServiceLinks: false, containers: [{ name: 'c', image: 'busybox:1.36', resources }] },
    } as any);
    const condition = async (type: string) => ((await nodes.get(undefined, 'node-a')) as any).status.conditions.find((c: any) => c.type === type);
    try {
      await kubelet.start();
      await make('guaranteed', 300, { requests: { memory: '400Mi', cpu: '100m' }, limits: { memory: '400Mi', cpu: '100m' } });
      await make('burstable', 250, { requests: { memory: '300Mi' } });
      await make('besteffort', 100);
      for (const name of ['guaranteed', 'burstable', 'besteffort']) {
        await waitFor(`${name} running`, async () => ((await pods.get('default', name)) as any).status?.phase === 'Running');
      }
      // 650Mi of 1Gi in use: no pressure.
      await new Promise((r) => setTimeout(r, 300));
      assert.equal((await condition('MemoryPressure')).status, 'False');
      // memory.available<100Mi comes off allocatable (the apiserver stores 946176Ki as 924Mi, as Kubernetes does).
      assert.equal(((await nodes.get(undefined, 'node-a')) as any).status.allocatable.memory, '924Mi');

      // A Guaranteed pod within its request brings usage to 1000Mi: 24Mi available, below 100Mi.
      await make('hog', 350, { requests: { memory: '400Mi', cpu: '100m' }, limits: { memory: '400Mi', cpu: '100m' } });
      const evicted: any = await waitFor('besteffort evicted', async () => {
        const p: any = await pods.get('default', 'besteffort');
        return p.status?.phase === 'Failed' && p;
      });
      assert.equal(evicted.status.reason, 'Evicted');
      assert.equal(evicted.status.message, 'The node was low on resource: memory. Threshold quantity: 100Mi, available: 24Mi. Container c was using 100Mi, request is 0, has larger consumption of memory. ');
      const disruption = evicted.status.conditions.find((c: any) => c.type === 'DisruptionTarget');
      assert.equal(disruption.reason, 'TerminationByKubelet');
      const pressure = await waitFor('MemoryPressure', async () => { const c = await condition('MemoryPressure'); return c.status === 'True' && c; });
      assert.equal(pressure.reason, 'KubeletHasInsufficientMemory');
      assert.equal(pressure.message, 'kubelet has insufficient memory available');
      // Admission under MemoryPressure refuses a new BestEffort pod.
      await make('late', 10);
      const late: any = await waitFor('late pod refused', async () => { const p: any = await pods.get('default', 'late'); return p.status?.phase === 'Failed' && p; });
      assert.equal(late.status.reason, 'Evicted');
      assert.equal(late.status.message, 'Pod was rejected: The node had condition: [MemoryPressure]. ');
      // The node lifecycle controller turns that condition into the NoSchedule taint.
      assert.deepEqual(desiredManagedTaints((await nodes.get(undefined, 'node-a')) as any), [{ key: 'node.kubernetes.io/memory-pressure', effect: 'NoSchedule' }]);
      const event = (await events.list('default')).items.find((e: any) => e.reason === 'Evicted') as any;
      assert.equal(event?.type, 'Warning');
      assert.equal(event?.involvedObject.name, 'besteffort');
      await waitFor('evicted pod stopped', async () => {
        const running = await runtime.listContainers({ state: 'CONTAINER_RUNNING' });
        return running.length === 3 && (await runtime.listContainers()).length === running.length + 1;
      });

      // Relief: 124Mi available; nobody else goes, and the condition clears after the transition period.
      await waitFor('MemoryPressure cleared', async () => (await condition('MemoryPressure')).status === 'False', 8_000);
      const cleared = await condition('MemoryPressure');
      assert.equal(cleared.reason, 'KubeletHasSufficientMemory');
      assert.equal(cleared.message, 'kubelet has sufficient memory available');
      for (const name of ['guaranteed', 'burstable', 'hog']) assert.equal(((await pods.get('default', name)) as any).status.phase, 'Running', name);
    } finally {
      await kubelet.stop();
      for (const s of await runtime.listPodSandbox()) await runtime.removePodSandbox(s.id);
      await server.close();
      await fsp.rm(dataDir, { recursive: true, force: true });
    }
  });
});
