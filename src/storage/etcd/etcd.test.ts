// The contract against a real etcd 3.4 (Debian's etcd-server), started on loopback with free
// ports and a temporary data directory, and killed at the end. Every test gets its own key
// namespace in that one etcd.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runStoreContract } from '../contract.test-suite.js';
import { StoreUnavailableError } from '../types.js';
import { openEtcdStore } from './etcd-store.js';
import { freePort, startEtcd, type RunningEtcd } from './testing.js';

let etcd: RunningEtcd | undefined;
let startError: unknown;
before(async () => {
  try {
    etcd = await startEtcd();
  } catch (error) {
    startError = error;
  }
});
after(async () => {
  await etcd?.stop();
});

function endpoint(): string {
  if (!etcd) throw startError instanceof Error ? startError : new Error(String(startError));
  return etcd.endpoint;
}

let namespaceCounter = 0;
runStoreContract('etcd', () => openEtcdStore({ endpoints: [endpoint()], namespace: `/navarch-test-${process.pid}-${++namespaceCounter}` }));

describe('etcd backend specifics', () => {
  test('an unreachable etcd is reported as StoreUnavailableError', async () => {
    const port = await freePort();
    await assert.rejects(openEtcdStore({ endpoints: [`http://127.0.0.1:${port}`], requestTimeoutMs: 300 }), StoreUnavailableError);
  });

  test('namespaces isolate stores sharing one etcd', async () => {
    const a = await openEtcdStore({ endpoints: [endpoint()], namespace: '/cluster-a' });
    const b = await openEtcdStore({ endpoints: [endpoint()], namespace: '/cluster-b' });
    try {
      assert.ok((await a.create('/registry/pods/ns/p', 'in a')).succeeded);
      assert.equal((await b.get('/registry/pods/ns/p')).kv, null);
      const listed = await a.range('/registry/');
      assert.deepEqual(listed.kvs.map((kv) => kv.key), ['/registry/pods/ns/p']);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('losing etcd ends a watch with StoreUnavailableError and fails requests the same way', async () => {
    const own = await startEtcd();
    const store = await openEtcdStore({ endpoints: [own.endpoint], requestTimeoutMs: 500 });
    try {
      const errors: Error[] = [];
      const start = (await store.currentRevision()) + 1;
      store.watch('/registry/pods/', { startRevision: start }, () => {}, (error) => errors.push(error));
      assert.ok((await store.create('/registry/pods/ns/a', 'a')).succeeded);
      await own.stop();
      const deadline = Date.now() + 5000;
      while (errors.length === 0) {
        assert.ok(Date.now() < deadline, 'watch did not report the lost etcd');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.ok(errors[0] instanceof StoreUnavailableError, String(errors[0]));
      await assert.rejects(store.get('/registry/pods/ns/a'), StoreUnavailableError);
    } finally {
      await store.close();
      await own.stop();
    }
  });
});
