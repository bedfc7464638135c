// Scheduler throughput, end to end through the API: an in-process API server (memory store,
// real admission and validation), `nodes` nodes and `pods` pending pods; the clock runs from
// the moment the scheduler's informers have synced until every pod is bound and the binding
// has come back through the pod watch. Not a test: run it by hand —
//   node --import tsx src/scheduler/bench.ts [nodes] [pods]
import { pathToFileURL } from 'node:url';
import { startTestApiServer } from '../apiserver/testing.js';
import { memoryEventRecorder } from './events.js';
import { createScheduler } from './scheduler.js';
import { makeNode, makePod } from './testing.js';

export interface BenchmarkOptions {
  nodes?: number;
  pods?: number;
  percentageOfNodesToScore?: number;
  /** Write Scheduled events to the API as the real scheduler does (default true). */
  apiEvents?: boolean;
  /** Pods created in parallel while setting up. */
  createConcurrency?: number;
}

export interface BenchmarkResult {
  nodes: number;
  pods: number;
  elapsedMs: number;
  podsPerSecond: number;
  setupMs: number;
}

const podsRef = { group: '', version: 'v1', resource: 'pods', namespaced: true, kind: 'Pod' };
const nodesRef = { group: '', version: 'v1', resource: 'nodes', namespaced: false, kind: 'Node' };

async function inBatches(count: number, concurrency: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await fn(next++);
    }),
  );
}

export async function benchmarkScheduler(options: BenchmarkOptions = {}): Promise<BenchmarkResult> {
  const nodeCount = options.nodes ?? 1000;
  const podCount = options.pods ?? 5000;
  const concurrency = options.createConcurrency ?? 32;
  const setupStart = performance.now();
  const server = await startTestApiServer();
  try {
    const nodes = server.client.resource(nodesRef);
    const pods = server.client.resource(podsRef);
    await inBatches(nodeCount, concurrency, (i) =>
      nodes.create(undefined, makeNode(`node-${i}`, { cpu: '32', memory: '128Gi', pods: 110, labels: { 'topology.kubernetes.io/zone': `zone-${i % 3}` } })),
    );
    await inBatches(podCount, concurrency, (i) => {
      const pod = makePod(`pod-${i}`, { cpu: '100m', memory: '128Mi' });
      delete pod.metadata.uid;
      delete pod.metadata.creationTimestamp;
      delete pod.status;
      return pods.create('default', pod);
    });
    const setupMs = performance.now() - setupStart;

    const scheduler = createScheduler({
      transport: server.transport(),
      percentageOfNodesToScore: options.percentageOfNodesToScore,
      recorder: options.apiEvents === false ? memoryEventRecorder() : undefined,
    });
    const abort = new AbortController();
    const running = scheduler.start(abort.signal);
    while (!scheduler.hasSynced()) await new Promise((r) => setTimeout(r, 1));
    const start = performance.now();
    // Bound and seen back through the watch: the cache holds every pod and none is still assumed.
    while (scheduler.boundCount() < podCount || scheduler.cache.podCount() < podCount || scheduler.cache.assumedCount() > 0) {
      await new Promise((r) => setTimeout(r, 2));
    }
    const elapsedMs = performance.now() - start;
    abort.abort();
    await running;
    // Trust, but verify: every pod carries its node in the API, and no node is over capacity.
    const perNode = new Map<string, number>();
    for (const pod of (await pods.list('default')).items) {
      if (!pod.spec?.nodeName) throw new Error(`pod ${pod.metadata.name} was not bound`);
      perNode.set(pod.spec.nodeName, (perNode.get(pod.spec.nodeName) ?? 0) + 1);
    }
    if (Math.max(...perNode.values()) > 110) throw new Error('a node got more pods than its capacity');
    return { nodes: nodeCount, pods: podCount, elapsedMs, podsPerSecond: (podCount / elapsedMs) * 1000, setupMs };
  } finally {
    await server.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const nodes = Number(process.argv[2] ?? 1000);
  const pods = Number(process.argv[3] ?? 5000);
  const result = await benchmarkScheduler({ nodes, pods, apiEvents: process.env.BENCH_EVENTS !== '0' });
  console.log(JSON.stringify({ ...result, elapsedMs: Math.round(result.elapsedMs), podsPerSecond: Math.round(result.podsPerSecond), setupMs: Math.round(result.setupMs) }));
}
