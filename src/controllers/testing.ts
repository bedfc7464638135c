// Test harness for controllers — tests only, never shipped: a real in-process API server on
// memory storage, a fake clock shared by the server, the informers and the work queues, and
// helpers to act as the kubelet (pod status) and wait for API objects to converge.
import { setMaxListeners } from 'node:events';
import type { KubeObject } from '../api/types.js';
import { startTestApiServer, type TestApiServer } from '../apiserver/testing.js';
import { createClient, type Client, type ResourceRef } from '../client/client.js';
import { SharedInformerFactory } from '../client/informer.js';
import { FakeClock, settle } from '../client/testing/fake-clock.js';
import type { Transport, WatchEvent } from '../client/transport.js';
import type { Clock as ServerClock } from '../util/clock.js';
import type { Controller } from './framework/controller.js';
import { createEventRecorder, formatTime, type EventRecorder } from './framework/events.js';
import { eventsResource, podsResource } from './framework/resources.js';

export interface Harness {
  clock: FakeClock;
  server: TestApiServer;
  client: Client;
  factory: SharedInformerFactory;
  recorder: EventRecorder;
  signal: AbortSignal;
  /** Starts the informers and the controllers. */
  start(...controllers: Controller[]): Promise<void>;
  close(): Promise<void>;
}

/** The API server reads time through its own Clock shape; both follow the one fake clock. */
export function serverClockOf(clock: FakeClock): ServerClock {
  return {
    now: () => clock.now(),
    setTimeout(fn, ms) {
      const handle = clock.setTimeout(fn, ms);
      return { cancel: () => clock.clearTimeout(handle) };
    },
  };
}

const silent = () => undefined;

export async function startHarness(options: { transport?: (t: Transport) => Transport } = {}): Promise<Harness> {
  const clock = new FakeClock(Date.parse('2026-01-01T00:00:00Z'));
  const server = await startTestApiServer({ clock: serverClockOf(clock) });
  const base = server.transport();
  const client = createClient(options.transport ? options.transport(base) : base);
  const factory = new SharedInformerFactory(client, { clock, logger: silent });
  const recorder = createEventRecorder({ client: createClient(base), component: 'test-controller-manager', clock });
  const abort = new AbortController();
  // Every informer, queue and controller listens for the one stop signal.
  setMaxListeners(100, abort.signal);
  const running: Promise<void>[] = [];
  return {
    clock,
    server,
    client,
    factory,
    recorder,
    signal: abort.signal,
    async start(...controllers) {
      factory.start(abort.signal);
      for (const c of controllers) running.push(c.start(abort.signal));
      await factory.waitForCacheSync(abort.signal);
    },
    async close() {
      abort.abort();
      await Promise.all(running);
      await factory.shutdown();
      await recorder.flush();
      await server.close();
    },
  };
}

/**
 * Polls `probe` (real time) until it returns a value other than undefined/false. Each round
 * moves the fake clock by `advanceMs` so backoff-delayed retries also get their turn.
 */
export async function eventually<T>(clock: FakeClock, probe: () => Promise<T | undefined | false> | T | undefined | false, what: string, options: { timeoutMs?: number; advanceMs?: number } = {}): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 5000);
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value as T;
      last = value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await clock.advance(options.advanceMs ?? 10);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export const pods = (client: Client) => client.resource(podsResource);

export async function listPods(client: Client, namespace: string, labelSelector?: string): Promise<KubeObject[]> {
  return (await pods(client).list(namespace, labelSelector ? { labelSelector } : {})).items;
}

/** What a kubelet would report for a started pod, optionally Ready. */
export async function setPodRunning(client: Client, clock: FakeClock, pod: KubeObject, ready = true, node = 'node-a'): Promise<KubeObject> {
  const podClient = pods(client);
  let current = await podClient.get(pod.metadata.namespace, pod.metadata.name!);
  if (!current.spec.nodeName) {
    await podClient.bind(pod.metadata.namespace, pod.metadata.name!, node);
    current = await podClient.get(pod.metadata.namespace, pod.metadata.name!);
  }
  const now = formatTime(clock.now());
  const conditions = [
    { type: 'Initialized', status: 'True', lastTransitionTime: now },
    { type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: now },
    { type: 'ContainersReady', status: ready ? 'True' : 'False', lastTransitionTime: now },
    { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
  ];
  return podClient.updateStatus({ ...current, status: { ...current.status, phase: 'Running', conditions, startTime: current.status.startTime ?? now } });
}

export async function setPodPhase(client: Client, pod: KubeObject, phase: 'Succeeded' | 'Failed', extra: Record<string, unknown> = {}): Promise<KubeObject> {
  const podClient = pods(client);
  const current = await podClient.get(pod.metadata.namespace, pod.metadata.name!);
  const conditions = (current.status.conditions ?? []).filter((c: { type: string }) => c.type !== 'Ready');
  conditions.push({ type: 'Ready', status: 'False', reason: 'PodCompleted' });
  return podClient.updateStatus({ ...current, status: { ...current.status, phase, conditions, ...extra } });
}

export async function eventsFor(client: Client, namespace: string, name: string): Promise<{ reason: string; message: string; type: string; count: number }[]> {
  const list = await client.resource(eventsResource).list(namespace, { fieldSelector: `involvedObject.name=${name}` });
  return list.items.map((e) => ({ reason: e.reason, message: e.message, type: e.type, count: e.count })) as any;
}

/** Wraps a transport so watch events on paths matching `match` are held while `gate.held`. */
export function gatedWatches(match: (path: string) => boolean): { wrap: (t: Transport) => Transport; hold(): void; release(): void } {
  let held = false;
  const queued: (() => void)[] = [];
  return {
    wrap: (t) => ({
      request: (req) => t.request(req),
      watch(req, onEvent, onClose) {
        if (!match(req.path)) return t.watch(req, onEvent, onClose);
        return t.watch(
          req,
          (ev: WatchEvent) => (held ? queued.push(() => onEvent(ev)) : onEvent(ev)),
          (err) => (held ? queued.push(() => onClose(err)) : onClose(err)),
        );
      },
    }),
    hold: () => void (held = true),
    release() {
      held = false;
      for (const fn of queued.splice(0)) fn();
    },
  };
}

export { settle };
export type { ResourceRef };

/**
 * One pass of a pretend kubelet over a namespace: bound-and-Ready for every pending pod
 * (optionally only those `filter` accepts), and final removal of pods being deleted.
 */
export async function kubeletPass(client: Client, clock: FakeClock, namespace: string, filter: (pod: KubeObject) => boolean = () => true): Promise<void> {
  for (const pod of await listPods(client, namespace)) {
    if (pod.metadata.deletionTimestamp) {
      await pods(client).delete(namespace, pod.metadata.name!, { gracePeriodSeconds: 0 }).catch(() => undefined);
      continue;
    }
    if (pod.status?.phase === 'Pending' && filter(pod)) await setPodRunning(client, clock, pod).catch(() => undefined);
  }
}
