import { test, describe, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../api/types.js';
import { createClient, type Client, type ResourceRef } from './client.js';
import { Controller, ownerKeys, type ReconcileResult } from './controller.js';
import { SharedInformerFactory } from './informer.js';
import { FakeApiServer } from './testing/fake-apiserver.js';
import { FakeClock, settle } from './testing/fake-clock.js';
import { ItemExponentialFailureRateLimiter } from './workqueue.js';

const pods: ResourceRef = { group: '', version: 'v1', resource: 'pods', namespaced: true, kind: 'Pod' };
const replicaSets: ResourceRef = { group: 'apps', version: 'v1', resource: 'replicasets', namespaced: true, kind: 'ReplicaSet' };
const silent = () => {};

function ownedPod(name: string, owner?: string, controller = true): KubeObject {
  return {
    metadata: {
      namespace: 'default',
      name,
      ownerReferences: owner ? [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: owner, uid: `uid-${owner}`, controller }] : undefined,
    },
  };
}

describe('ownerKeys', () => {
  test('follows the controller reference of the right group and kind only', () => {
    const pod = ownedPod('p', 'rs-1');
    pod.metadata.ownerReferences!.push(
      { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'not-controller', uid: 'u2' },
      { apiVersion: 'batch/v1', kind: 'ReplicaSet', name: 'other-group', uid: 'u3', controller: true },
    );
    assert.deepEqual(ownerKeys(pod, { kind: 'ReplicaSet', group: 'apps' }), ['default/rs-1']);
    assert.deepEqual(ownerKeys(pod, { kind: 'ReplicaSet', group: 'apps', onlyController: false }), ['default/rs-1', 'default/not-controller']);
    assert.deepEqual(ownerKeys(ownedPod('q'), { kind: 'ReplicaSet', group: 'apps' }), []);
    assert.deepEqual(ownerKeys(pod, { kind: 'ReplicaSet', group: 'batch', namespaced: false }), ['other-group']);
  });
});

describe('Controller', () => {
  let server: FakeApiServer;
  let client: Client;
  let clock: FakeClock;
  let abort: AbortController;
  let factory: SharedInformerFactory;

  beforeEach(() => {
    server = new FakeApiServer([{ ...pods }, { ...replicaSets }] as any);
    client = createClient(server.transport());
    clock = new FakeClock();
    abort = new AbortController();
    factory = new SharedInformerFactory(client, { clock, logger: silent, random: () => 0 });
  });
  afterEach(() => abort.abort());

  test('reconciles each object key; waits for caches before becoming ready', async () => {
    server.put(pods, ownedPod('a'));
    const reconciled: string[] = [];
    const controller = new Controller({
      name: 'test',
      clock,
      logger: silent,
      reconciler: { reconcile: async (key) => void reconciled.push(key) },
    }).watch(factory.forResource(pods));
    assert.equal(controller.isReady(), false);
    const done = controller.start(abort.signal);
    factory.start(abort.signal);
    await settle();
    assert.equal(controller.isReady(), true);
    assert.deepEqual(reconciled, ['default/a']);
    await client.resource(pods).create('default', ownedPod('b'));
    await client.resource(pods).delete('default', 'a');
    await settle();
    assert.deepEqual(reconciled, ['default/a', 'default/b', 'default/a']);
    abort.abort();
    await done;
    assert.equal(controller.isReady(), false);
  });

  test('a key is never reconciled by two workers at once; changes during a reconcile coalesce into one more run', async () => {
    const inFlight = new Set<string>();
    let concurrent = 0;
    let maxConcurrent = 0;
    const releases: Array<() => void> = [];
    const runs: string[] = [];
    const controller = new Controller({
      name: 'test',
      workers: 4,
      clock,
      logger: silent,
      reconciler: {
        reconcile: async (key) => {
          assert.equal(inFlight.has(key), false, `key ${key} reconciled concurrently`);
          inFlight.add(key);
          concurrent++;
          maxConcurrent = Math.max(maxConcurrent, concurrent);
          runs.push(key);
          await new Promise<void>((resolve) => releases.push(resolve));
          concurrent--;
          inFlight.delete(key);
        },
      },
    });
    const done = controller.start(abort.signal);
    await settle();
    controller.enqueue('ns/x');
    controller.enqueue('ns/y');
    await settle();
    assert.equal(maxConcurrent, 2, 'different keys run in parallel');
    for (let i = 0; i < 5; i++) controller.enqueue('ns/x');
    await settle();
    assert.deepEqual(runs, ['ns/x', 'ns/y']);
    releases.splice(0).forEach((r) => r());
    await settle();
    assert.deepEqual(runs, ['ns/x', 'ns/y', 'ns/x'], 'five adds while busy become one reconcile');
    releases.splice(0).forEach((r) => r());
    abort.abort();
    await done;
  });

  test('errors requeue with per-key exponential backoff; success forgets the failures', async () => {
    let failuresLeft = 3;
    const times: number[] = [];
    const controller = new Controller({
      name: 'test',
      clock,
      logger: silent,
      rateLimiter: new ItemExponentialFailureRateLimiter(5, 1000_000),
      reconciler: {
        reconcile: async () => {
          times.push(clock.now());
          if (failuresLeft-- > 0) throw new Error('transient');
        },
      },
    });
    const done = controller.start(abort.signal);
    const start = clock.now();
    controller.enqueue('default/a');
    await clock.advance(100);
    assert.deepEqual(times.map((t) => t - start), [0, 5, 15, 35]);
    assert.equal(controller.queue.numRequeues('default/a'), 0);
    abort.abort();
    await done;
  });

  test('requeueAfterMs reconciles again after that delay', async () => {
    const times: number[] = [];
    const controller = new Controller({
      name: 'test',
      clock,
      logger: silent,
      reconciler: {
        reconcile: async (): Promise<ReconcileResult> => {
          times.push(clock.now());
          return times.length < 3 ? { requeueAfterMs: 60_000 } : {};
        },
      },
    });
    const done = controller.start(abort.signal);
    const start = clock.now();
    controller.enqueue('default/cron');
    await clock.advance(200_000);
    assert.deepEqual(times.map((t) => t - start), [0, 60_000, 120_000]);
    abort.abort();
    await done;
  });

  test('watchOwned reconciles the owner when an owned object changes', async () => {
    server.put(replicaSets, { metadata: { namespace: 'default', name: 'rs-1' } });
    const reconciled: string[] = [];
    const controller = new Controller({ name: 'replicaset', clock, logger: silent, reconciler: { reconcile: async (key) => void reconciled.push(key) } })
      .watch(factory.forResource(replicaSets))
      .watchOwned(factory.forResource(pods), { kind: 'ReplicaSet', group: 'apps' });
    const done = controller.start(abort.signal);
    factory.start(abort.signal);
    await settle();
    assert.deepEqual(reconciled, ['default/rs-1']);
    await client.resource(pods).create('default', ownedPod('rs-1-abcde', 'rs-1'));
    await client.resource(pods).create('default', ownedPod('orphan'));
    await settle();
    assert.deepEqual(reconciled, ['default/rs-1', 'default/rs-1']);
    // Re-parenting a pod wakes both the old and the new owner.
    const pod = await client.resource(pods).get('default', 'rs-1-abcde');
    pod.metadata.ownerReferences![0]!.name = 'rs-2';
    await client.resource(pods).update(pod);
    await settle();
    assert.deepEqual(reconciled.slice(2).sort(), ['default/rs-1', 'default/rs-2']);
    abort.abort();
    await done;
  });
});
