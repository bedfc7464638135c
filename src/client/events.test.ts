import { test, describe, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../api/types.js';
import { createClient, type Client } from './client.js';
import { EventRecorder, eventsResource, type EventRecorderOptions } from './events.js';
import { FakeApiServer } from './testing/fake-apiserver.js';
import { FakeClock } from './testing/fake-clock.js';

const pod: KubeObject = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { namespace: 'web', name: 'frontend-1', uid: 'uid-pod', resourceVersion: '7' },
};
const node: KubeObject = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-a', uid: 'uid-node' } };

describe('EventRecorder', () => {
  let server: FakeApiServer;
  let client: Client;
  let clock: FakeClock;

  beforeEach(() => {
    server = new FakeApiServer([{ ...eventsResource, kind: 'Event' }]);
    client = createClient(server.transport());
    clock = new FakeClock(Date.UTC(2024, 0, 1, 12, 0, 0, 250));
  });

  const recorder = (options: Partial<EventRecorderOptions> = {}) =>
    new EventRecorder({ client, component: 'default-scheduler', host: 'cp-1', clock, logger: () => {}, retryDelayMs: 10, ...options });

  const events = async () => (await client.resource(eventsResource).list(undefined)).items;

  test('writes a core/v1 Event that kubectl describe can show', async () => {
    const r = recorder();
    r.event(pod, 'Normal', 'Scheduled', 'Successfully assigned web/frontend-1 to node-a');
    await r.flush();
    const [event, ...rest] = await events();
    assert.equal(rest.length, 0);
    assert.equal(event!.metadata.namespace, 'web');
    assert.match(event!.metadata.name!, /^frontend-1\.[0-9a-f]+$/);
    assert.deepEqual(event!.involvedObject, { apiVersion: 'v1', kind: 'Pod', namespace: 'web', name: 'frontend-1', uid: 'uid-pod', resourceVersion: '7' });
    assert.equal(event!.reason, 'Scheduled');
    assert.equal(event!.type, 'Normal');
    assert.deepEqual(event!.source, { component: 'default-scheduler', host: 'cp-1' });
    assert.equal(event!.reportingComponent, 'default-scheduler');
    assert.equal(event!.reportingInstance, 'cp-1');
    assert.equal(event!.count, 1);
    assert.equal(event!.firstTimestamp, '2024-01-01T12:00:00Z');
    assert.equal(event!.lastTimestamp, '2024-01-01T12:00:00Z');
  });

  test('events about cluster-scoped objects go to the default namespace', async () => {
    const r = recorder({ component: 'kubelet', host: 'node-a' });
    r.event(node, 'Normal', 'NodeReady', 'Node node-a status is now: NodeReady');
    await r.flush();
    assert.equal((await events())[0]!.metadata.namespace, 'default');
  });

  test('repeats of the same event increment count on one Event via a merge patch', async () => {
    const r = recorder();
    r.event(pod, 'Warning', 'BackOff', 'Back-off restarting failed container');
    await r.flush();
    await clock.advance(30_000);
    r.event(pod, 'Warning', 'BackOff', 'Back-off restarting failed container');
    await clock.advance(30_000);
    r.event(pod, 'Warning', 'BackOff', 'Back-off restarting failed container');
    await r.flush();
    const all = await events();
    assert.equal(all.length, 1);
    assert.equal(all[0]!.count, 3);
    assert.equal(all[0]!.firstTimestamp, '2024-01-01T12:00:00Z');
    assert.equal(all[0]!.lastTimestamp, '2024-01-01T12:01:00Z');
    const patches = server.requests.filter((q) => q.method === 'PATCH');
    assert.equal(patches.length, 2);
    assert.equal(patches[0]!.contentType, 'application/merge-patch+json');
    assert.equal(patches[0]!.path, `/api/v1/namespaces/web/events/${all[0]!.metadata.name}`);
    // A different message is a different Event.
    r.event(pod, 'Warning', 'BackOff', 'something else');
    await r.flush();
    assert.equal((await events()).length, 2);
  });

  test('many distinct messages for one reason are combined into one counted Event', async () => {
    const r = recorder();
    for (let i = 0; i < 14; i++) r.event(pod, 'Warning', 'FailedScheduling', `0/${i} nodes are available`);
    await r.flush();
    const all = await events();
    const combined = all.filter((e) => e.message.startsWith('(combined from similar events): '));
    assert.equal(all.length - combined.length, 9, 'the first nine stand alone');
    assert.equal(combined.length, 1);
    assert.equal(combined[0]!.count, 5);
    assert.equal(combined[0]!.message, '(combined from similar events): 0/13 nodes are available');

    // After the aggregation interval, messages stand alone again.
    await clock.advance(601_000);
    r.event(pod, 'Warning', 'FailedScheduling', 'fresh start');
    await r.flush();
    assert.ok((await events()).some((e) => e.message === 'fresh start'));
  });

  test('a per-object token bucket drops event storms (burst 25, one per 5 minutes)', async () => {
    const r = recorder({ aggregateMaxEvents: 1000 });
    for (let i = 0; i < 40; i++) r.event(pod, 'Normal', 'Pulled', `image ${i}`);
    r.event(node, 'Normal', 'Other', 'another object has its own bucket');
    await r.flush();
    assert.equal((await events()).length, 26);
    await clock.advance(300_000);
    r.event(pod, 'Normal', 'Pulled', 'after refill');
    r.event(pod, 'Normal', 'Pulled', 'still limited');
    await r.flush();
    const messages = (await events()).map((e) => e.message);
    assert.ok(messages.includes('after refill'));
    assert.ok(!messages.includes('still limited'));
  });

  test('an Event deleted on the server is re-created rather than patched forever', async () => {
    const r = recorder();
    r.event(pod, 'Normal', 'Started', 'Started container app');
    await r.flush();
    const first = (await events())[0]!;
    server.remove(eventsResource, 'web', first.metadata.name!);
    r.event(pod, 'Normal', 'Started', 'Started container app');
    await r.flush();
    const all = await events();
    assert.equal(all.length, 1);
    assert.equal(all[0]!.count, 1);
  });

  test('write failures are retried, then given up without throwing', async () => {
    const r = recorder({ maxAttempts: 3 });
    server.injectedFailures.push({ code: 500, reason: 'InternalError' }, { code: 500, reason: 'InternalError' });
    r.event(pod, 'Normal', 'Killing', 'Stopping container app');
    const flushed = r.flush();
    await clock.advance(100);
    await flushed;
    assert.equal((await events()).length, 1);

    for (let i = 0; i < 3; i++) server.injectedFailures.push({ code: 503, reason: 'ServiceUnavailable' });
    r.event(pod, 'Normal', 'Other', 'lost');
    const lost = r.flush();
    await clock.advance(100);
    await lost;
    assert.equal((await events()).length, 1);
  });

  test('rejects unsupported types quietly', async () => {
    const r = recorder();
    r.event(pod, 'Error' as any, 'X', 'y');
    await r.flush();
    assert.equal((await events()).length, 0);
  });
});
