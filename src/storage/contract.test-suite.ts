// The one contract every storage backend passes unchanged (memory, sqlite, etcd).
// Each test gets a fresh store from the factory and closes it. Tests never assume a fresh
// revision counter (the etcd backend shares one etcd and isolates tests by key prefix);
// they only compare revisions with each other.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CompactedError,
  FutureRevisionError,
  LeaseNotFoundError,
  type Store,
  type WatchEvent,
  type WatchOptions,
  type WriteResult,
} from './types.js';

export type StoreFactory = () => Promise<Store>;

function ok(result: WriteResult): Extract<WriteResult, { succeeded: true }> {
  assert.equal(result.succeeded, true, `expected the write to succeed, got ${JSON.stringify(result)}`);
  return result as Extract<WriteResult, { succeeded: true }>;
}

function failed(result: WriteResult): Extract<WriteResult, { succeeded: false }> {
  assert.equal(result.succeeded, false, `expected the write to fail its precondition, got ${JSON.stringify(result)}`);
  return result as Extract<WriteResult, { succeeded: false }>;
}

async function eventually(what: string, condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Records what a watch delivers, and checks the ordering promise on every batch. */
function record(store: Store, prefix: string, options: WatchOptions) {
  const events: WatchEvent[] = [];
  const errors: Error[] = [];
  const watch = store.watch(
    prefix,
    options,
    (batch) => {
      assert.ok(batch.length > 0, 'a watch must not deliver empty batches');
      for (const event of batch) {
        const last = events[events.length - 1];
        if (last) assert.ok(event.kv.modRevision >= last.kv.modRevision, `event revisions must not go back: ${last.kv.modRevision} then ${event.kv.modRevision}`);
        events.push(event);
      }
    },
    (error) => errors.push(error),
  );
  return {
    events,
    errors,
    watch,
    summary: () => events.map((e) => `${e.type} ${e.kv.key}=${e.kv.value}@${e.kv.modRevision}`),
    untilCount: (n: number, timeoutMs?: number) => eventually(`${n} watch events (have ${events.length})`, () => events.length >= n, timeoutMs),
    untilError: (timeoutMs?: number) => eventually('a watch error', () => errors.length > 0, timeoutMs),
  };
}

export function runStoreContract(name: string, factory: StoreFactory): void {
  describe(`Store contract: ${name}`, () => {
    async function withStore(fn: (store: Store) => Promise<void>): Promise<void> {
      const store = await factory();
      try {
        await fn(store);
      } finally {
        await store.close();
      }
    }

    test('create then get returns the object with its revisions', () =>
      withStore(async (store) => {
        const before = await store.currentRevision();
        const created = ok(await store.create('/registry/pods/default/a', '{"v":1}'));
        assert.ok(created.revision > before);
        assert.deepEqual(created.kv, {
          key: '/registry/pods/default/a',
          value: '{"v":1}',
          createRevision: created.revision,
          modRevision: created.revision,
          version: 1,
          lease: 0,
        });
        const got = await store.get('/registry/pods/default/a');
        assert.deepEqual(got.kv, created.kv);
        assert.equal(got.revision, created.revision);
        assert.deepEqual(await store.get('/registry/pods/default/missing').then((r) => r.kv), null);
      }));

    test('create of an existing key fails and reports the current object without a new revision', () =>
      withStore(async (store) => {
        const created = ok(await store.create('/registry/pods/default/a', 'one'));
        const again = failed(await store.create('/registry/pods/default/a', 'two'));
        assert.deepEqual(again.current, created.kv);
        assert.equal(again.revision, created.revision);
        assert.equal(await store.currentRevision(), created.revision);
        assert.equal((await store.get('/registry/pods/default/a')).kv?.value, 'one');
      }));

    test('update is a compare-and-swap on modRevision', () =>
      withStore(async (store) => {
        const key = '/registry/configmaps/default/cm';
        const created = ok(await store.create(key, 'v1'));
        const updated = ok(await store.update(key, 'v2', created.revision));
        assert.ok(updated.revision > created.revision);
        assert.deepEqual(updated.kv, { key, value: 'v2', createRevision: created.revision, modRevision: updated.revision, version: 2, lease: 0 });
        assert.deepEqual(updated.prevKv, created.kv);

        const stale = failed(await store.update(key, 'v3', created.revision));
        assert.deepEqual(stale.current, updated.kv);
        assert.equal((await store.get(key)).kv?.value, 'v2');

        const unconditional = ok(await store.update(key, 'v4', 0));
        assert.equal(unconditional.kv?.version, 3);

        const absent = failed(await store.update('/registry/configmaps/default/none', 'x', 0));
        assert.equal(absent.current, null);
      }));

    test('delete checks modRevision, returns the deleted object, and a re-create starts over', () =>
      withStore(async (store) => {
        const key = '/registry/secrets/default/s';
        const created = ok(await store.create(key, 'a'));
        const updated = ok(await store.update(key, 'b', created.revision));

        const stale = failed(await store.delete(key, created.revision));
        assert.deepEqual(stale.current, updated.kv);

        const deleted = ok(await store.delete(key, updated.revision));
        assert.ok(deleted.revision > updated.revision);
        assert.equal(deleted.kv, null);
        assert.deepEqual(deleted.prevKv, updated.kv);
        assert.equal((await store.get(key)).kv, null);

        const again = failed(await store.delete(key));
        assert.equal(again.current, null);

        const recreated = ok(await store.create(key, 'c'));
        assert.equal(recreated.kv?.createRevision, recreated.revision);
        assert.equal(recreated.kv?.version, 1);

        ok(await store.delete(key));
        assert.equal((await store.get(key)).kv, null);
      }));

    test('every write gets a new, strictly greater revision; failed writes do not', () =>
      withStore(async (store) => {
        const revisions: number[] = [];
        for (let i = 0; i < 5; i++) revisions.push(ok(await store.create(`/registry/events/default/e${i}`, `${i}`)).revision);
        revisions.push(ok(await store.update('/registry/events/default/e0', 'x', 0)).revision);
        revisions.push(ok(await store.delete('/registry/events/default/e1')).revision);
        for (let i = 1; i < revisions.length; i++) assert.ok(revisions[i]! > revisions[i - 1]!, `${revisions}`);
        failed(await store.create('/registry/events/default/e2', 'dup'));
        failed(await store.delete('/registry/events/default/e1'));
        assert.equal(await store.currentRevision(), revisions[revisions.length - 1]);
      }));

    test('range returns only keys under the prefix, in key order, with limit, count and startKey paging', () =>
      withStore(async (store) => {
        const pods = ['/registry/pods/ns1/b', '/registry/pods/ns2/a', '/registry/pods/ns1/a', '/registry/pods/ns1/c', '/registry/pods/ns1/a-1'];
        for (const key of pods) ok(await store.create(key, JSON.stringify({ key })));
        // Neighbours that share the string prefix but not the path must stay out.
        ok(await store.create('/registry/podsx/ns1/a', 'x'));
        ok(await store.create('/registry/pods', 'bare'));
        ok(await store.create('/registry/pod/ns1/a', 'y'));

        const all = await store.range('/registry/pods/');
        const sorted = [...pods].sort();
        assert.deepEqual(all.kvs.map((kv) => kv.key), sorted);
        assert.equal(all.count, 5);
        assert.equal(all.more, false);
        assert.equal(all.revision, await store.currentRevision());

        const first = await store.range('/registry/pods/', { limit: 2 });
        assert.deepEqual(first.kvs.map((kv) => kv.key), sorted.slice(0, 2));
        assert.equal(first.more, true);
        assert.equal(first.count, 5);

        // Page through at one revision, as the API server does with `continue`.
        const paged: string[] = [];
        let startKey: string | undefined;
        for (;;) {
          const page = await store.range('/registry/pods/', { limit: 2, startKey, revision: first.revision });
          paged.push(...page.kvs.map((kv) => kv.key));
          if (!page.more) break;
          startKey = page.kvs[page.kvs.length - 1]!.key + '\x00';
        }
        assert.deepEqual(paged, sorted);

        const ns1 = await store.range('/registry/pods/ns1/', { countOnly: true });
        assert.equal(ns1.count, 4);
        assert.deepEqual(ns1.kvs, []);

        const fromKey = await store.range('/registry/pods/', { startKey: '/registry/pods/ns1/b' });
        assert.deepEqual(fromKey.kvs.map((kv) => kv.key), ['/registry/pods/ns1/b', '/registry/pods/ns1/c', '/registry/pods/ns2/a']);
        assert.equal(fromKey.count, 3);

        const none = await store.range('/registry/services/');
        assert.deepEqual(none, { kvs: [], more: false, count: 0, revision: all.revision });
      }));

    test('reads at an older revision see that snapshot', () =>
      withStore(async (store) => {
        const a = ok(await store.create('/registry/nodes/a', 'a1'));
        const b = ok(await store.create('/registry/nodes/b', 'b1'));
        const snapshot = b.revision;
        ok(await store.update('/registry/nodes/a', 'a2', a.revision));
        ok(await store.delete('/registry/nodes/b'));
        ok(await store.create('/registry/nodes/c', 'c1'));

        const then = await store.range('/registry/nodes/', { revision: snapshot });
        assert.deepEqual(then.kvs.map((kv) => `${kv.key}=${kv.value}`), ['/registry/nodes/a=a1', '/registry/nodes/b=b1']);
        assert.equal(then.revision, snapshot);
        assert.equal(then.count, 2);
        const now = await store.range('/registry/nodes/');
        assert.deepEqual(now.kvs.map((kv) => `${kv.key}=${kv.value}`), ['/registry/nodes/a=a2', '/registry/nodes/c=c1']);

        assert.equal((await store.get('/registry/nodes/b', { revision: snapshot })).kv?.value, 'b1');
        assert.equal((await store.get('/registry/nodes/c', { revision: snapshot })).kv, null);
        assert.equal((await store.get('/registry/nodes/a', { revision: a.revision })).kv?.value, 'a1');
      }));

    test('reads at a future revision fail with FutureRevisionError', () =>
      withStore(async (store) => {
        ok(await store.create('/registry/nodes/a', 'a'));
        const future = (await store.currentRevision()) + 1000;
        await assert.rejects(store.get('/registry/nodes/a', { revision: future }), FutureRevisionError);
        await assert.rejects(store.range('/registry/nodes/', { revision: future }), FutureRevisionError);
      }));

    test('watch from a start revision replays history, then follows live writes in order', () =>
      withStore(async (store) => {
        const prefix = '/registry/pods/default/';
        const a = ok(await store.create(prefix + 'a', 'a1'));
        ok(await store.create('/registry/services/default/a', 'other'));
        const a2 = ok(await store.update(prefix + 'a', 'a2', a.revision));
        ok(await store.create(prefix + 'b', 'b1'));
        ok(await store.delete(prefix + 'a'));

        const watcher = record(store, prefix, { startRevision: a.revision });
        await watcher.untilCount(4);
        assert.deepEqual(watcher.summary(), [
          `PUT ${prefix}a=a1@${a.revision}`,
          `PUT ${prefix}a=a2@${a2.revision}`,
          `PUT ${prefix}b=b1@${a2.revision + 1}`,
          `DELETE ${prefix}a=a2@${a2.revision + 2}`,
        ]);
        const [created, updated, , deleted] = watcher.events;
        assert.equal(created!.prevKv, undefined);
        assert.deepEqual(updated!.prevKv, a.kv);
        assert.equal(deleted!.prevKv?.value, 'a2');
        assert.equal(deleted!.prevKv?.modRevision, a2.revision);

        const c = ok(await store.create(prefix + 'c', 'c1'));
        ok(await store.create('/registry/podsx/default/c', 'not mine'));
        const c2 = ok(await store.update(prefix + 'c', 'c2', c.revision));
        await watcher.untilCount(6);
        assert.deepEqual(watcher.summary().slice(4), [`PUT ${prefix}c=c1@${c.revision}`, `PUT ${prefix}c=c2@${c2.revision}`]);
        assert.deepEqual(watcher.events[5]!.prevKv, c.kv);

        watcher.watch.cancel();
        watcher.watch.cancel();
        ok(await store.create(prefix + 'd', 'after cancel'));
        await new Promise((resolve) => setTimeout(resolve, 100));
        assert.equal(watcher.events.length, 6);
        assert.deepEqual(watcher.errors, []);
      }));

    test('watch without a start revision sees only later writes', () =>
      withStore(async (store) => {
        ok(await store.create('/registry/leases/a', 'old'));
        const current = await store.currentRevision();
        const watcher = record(store, '/registry/leases/', { startRevision: current + 1 });
        const futureOnly = record(store, '/registry/leases/', {});
        // etcd registers a watch asynchronously; give it a moment before writing.
        await new Promise((resolve) => setTimeout(resolve, 200));
        const b = ok(await store.create('/registry/leases/b', 'new'));
        await watcher.untilCount(1);
        await futureOnly.untilCount(1);
        assert.deepEqual(watcher.summary(), [`PUT /registry/leases/b=new@${b.revision}`]);
        assert.deepEqual(futureOnly.summary(), [`PUT /registry/leases/b=new@${b.revision}`]);
        watcher.watch.cancel();
        futureOnly.watch.cancel();
      }));

    test('watch of an exact key ignores keys that merely start with it', () =>
      withStore(async (store) => {
        const start = (await store.currentRevision()) + 1;
        const watcher = record(store, '/registry/pods/ns/web', { startRevision: start, exact: true });
        ok(await store.create('/registry/pods/ns/web-1', 'sibling'));
        const web = ok(await store.create('/registry/pods/ns/web', 'v1'));
        ok(await store.create('/registry/pods/ns/web/x', 'child'));
        const removed = ok(await store.delete('/registry/pods/ns/web'));
        await watcher.untilCount(2);
        await new Promise((resolve) => setTimeout(resolve, 50));
        assert.deepEqual(watcher.summary(), [`PUT /registry/pods/ns/web=v1@${web.revision}`, `DELETE /registry/pods/ns/web=v1@${removed.revision}`]);
        watcher.watch.cancel();
      }));

    test('compaction drops old revisions: reads and watches below it fail with CompactedError', () =>
      withStore(async (store) => {
        const key = '/registry/configmaps/ns/cm';
        const v1 = ok(await store.create(key, 'v1'));
        const v2 = ok(await store.update(key, 'v2', v1.revision));
        const gone = ok(await store.create('/registry/configmaps/ns/gone', 'g'));
        ok(await store.delete('/registry/configmaps/ns/gone'));
        const v3 = ok(await store.update(key, 'v3', v2.revision));
        const v4 = ok(await store.update(key, 'v4', v3.revision));

        await store.compact(v3.revision);
        assert.equal(await store.compactedRevision(), v3.revision);
        await store.compact(v2.revision); // already compacted past it: no-op

        await assert.rejects(store.get(key, { revision: v2.revision }), (error: unknown) => {
          assert.ok(error instanceof CompactedError, String(error));
          assert.equal(error.compacted, v3.revision);
          return true;
        });
        await assert.rejects(store.range('/registry/configmaps/', { revision: gone.revision }), CompactedError);
        assert.equal((await store.get(key, { revision: v3.revision })).kv?.value, 'v3');
        assert.equal((await store.get(key)).kv?.value, 'v4');
        assert.equal((await store.get('/registry/configmaps/ns/gone')).kv, null);

        const tooOld = record(store, '/registry/configmaps/', { startRevision: v2.revision });
        await tooOld.untilError();
        assert.ok(tooOld.errors[0] instanceof CompactedError, String(tooOld.errors[0]));
        assert.equal(tooOld.events.length, 0);

        const fromCompacted = record(store, '/registry/configmaps/', { startRevision: v3.revision });
        await fromCompacted.untilCount(2);
        assert.deepEqual(fromCompacted.summary(), [`PUT ${key}=v3@${v3.revision}`, `PUT ${key}=v4@${v4.revision}`]);
        assert.equal(fromCompacted.events[1]!.prevKv?.value, 'v3');
        fromCompacted.watch.cancel();
      }));

    test('concurrent updates with the same expected revision: exactly one wins', () =>
      withStore(async (store) => {
        const key = '/registry/deployments/ns/d';
        const created = ok(await store.create(key, '0'));
        const results = await Promise.all(Array.from({ length: 8 }, (_, i) => store.update(key, `writer-${i}`, created.revision)));
        const winners = results.filter((r) => r.succeeded);
        assert.equal(winners.length, 1);
        const winner = ok(winners[0]!);
        for (const loser of results.filter((r) => !r.succeeded)) {
          assert.equal(failed(loser).current?.modRevision, winner.revision);
        }
        assert.equal((await store.get(key)).kv?.value, winner.kv?.value);

        const creates = await Promise.all(Array.from({ length: 4 }, (_, i) => store.create('/registry/deployments/ns/new', `${i}`)));
        assert.equal(creates.filter((r) => r.succeeded).length, 1);
      }));

    test('a lease that is not kept alive expires and deletes its keys with DELETE events; a kept-alive one stays', () =>
      withStore(async (store) => {
        const lease = await store.grantLease(1);
        const kept = await store.grantLease(1);
        assert.ok(lease > 0 && kept > 0 && lease !== kept);
        const start = (await store.currentRevision()) + 1;
        const watcher = record(store, '/registry/events/', { startRevision: start });
        const created = ok(await store.create('/registry/events/ns/e1', 'event', { lease }));
        assert.equal(created.kv?.lease, lease);
        ok(await store.create('/registry/events/ns/e2', 'no lease'));
        ok(await store.create('/registry/events/ns/e3', 'kept', { lease: kept }));
        let keepingAlive = true;
        const keeper = (async () => {
          while (keepingAlive) {
            await store.keepAliveLease(kept);
            await new Promise((resolve) => setTimeout(resolve, 200));
          }
        })();
        try {
          await watcher.untilCount(4, 8000);
          const deleted = watcher.events[3]!;
          assert.equal(deleted.type, 'DELETE');
          assert.equal(deleted.kv.key, '/registry/events/ns/e1');
          assert.equal(deleted.kv.value, 'event');
          assert.equal(deleted.prevKv?.value, 'event');
          assert.equal((await store.get('/registry/events/ns/e1')).kv, null);
          assert.equal((await store.get('/registry/events/ns/e2')).kv?.value, 'no lease');
          await assert.rejects(store.keepAliveLease(lease), LeaseNotFoundError);
          // Well past the kept lease's original deadline, its key is still there.
          await new Promise((resolve) => setTimeout(resolve, 700));
          assert.equal((await store.get('/registry/events/ns/e3')).kv?.value, 'kept');
          assert.equal(watcher.events.length, 4);
        } finally {
          keepingAlive = false;
          await keeper;
        }
        await store.revokeLease(kept);
        await watcher.untilCount(5);
        assert.equal(watcher.events[4]!.type, 'DELETE');
        assert.equal(watcher.events[4]!.kv.key, '/registry/events/ns/e3');
        watcher.watch.cancel();
      }));

    test('revoking a lease deletes its keys; kept-alive and unknown leases behave', () =>
      withStore(async (store) => {
        const lease = await store.grantLease(60);
        await store.keepAliveLease(lease);
        ok(await store.create('/registry/events/ns/a', 'a', { lease }));
        const b = ok(await store.create('/registry/events/ns/b', 'b'));
        ok(await store.update('/registry/events/ns/b', 'b2', b.revision, { lease }));
        await store.revokeLease(lease);
        assert.equal((await store.range('/registry/events/')).count, 0);
        await assert.rejects(store.create('/registry/events/ns/c', 'c', { lease }), LeaseNotFoundError);
        await assert.rejects(store.create('/registry/events/ns/c', 'c', { lease: 987654321 }), LeaseNotFoundError);
      }));

    test('sizeBytes reports a number', () =>
      withStore(async (store) => {
        ok(await store.create('/registry/pods/ns/a', 'x'.repeat(1000)));
        const size = await store.sizeBytes();
        assert.equal(typeof size, 'number');
        assert.ok(size >= 0);
      }));
  });
}
