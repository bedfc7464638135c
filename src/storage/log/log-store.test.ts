// LogStore over a log whose commits become durable later (like sqlite's fsync on the thread
// pool): nothing may be read, watched or acknowledged before its fsync completes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogStore } from './log-store.js';
import { MemoryRevisionLog } from '../memory/memory-store.js';
import { StoreUnavailableError, type WatchEvent } from '../types.js';

/** A memory log whose sync() calls are held until the test settles them, in order. */
class HeldSyncLog extends MemoryRevisionLog {
  readonly pending: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  sync(): Promise<void> {
    return new Promise((resolve, reject) => this.pending.push({ resolve, reject }));
  }
}

const tick = () => new Promise((r) => setImmediate(r));

test('a write is invisible and unacknowledged until its sync completes', async () => {
  const log = new HeldSyncLog();
  const store = new LogStore(log, { backend: 'held' });
  const before = await store.currentRevision();
  const events: WatchEvent[] = [];
  store.watch('/k', {}, (e) => events.push(...e), () => undefined);
  let acknowledged = false;
  const write = store.create('/k/a', 'v').then((r) => ((acknowledged = true), r));
  await tick();
  assert.equal(log.pending.length, 1, 'the batch committed and its sync started');
  assert.equal(acknowledged, false);
  assert.equal((await store.get('/k/a')).kv, null, 'not readable before it is durable');
  assert.equal(await store.currentRevision(), before);
  assert.equal((await store.range('/k/')).count, 0);
  // A watch started now must get the event exactly once, when it becomes durable.
  const late: WatchEvent[] = [];
  store.watch('/k', { startRevision: before }, (e) => late.push(...e), () => undefined);
  await tick();
  assert.equal(events.length + late.length, 0);

  log.pending[0]!.resolve();
  const result = await write;
  assert.equal(result.succeeded, true);
  assert.equal((await store.get('/k/a')).kv?.value, 'v');
  assert.equal(await store.currentRevision(), result.revision);
  await tick();
  assert.deepEqual(events.map((e) => e.kv.key), ['/k/a']);
  assert.deepEqual(late.map((e) => e.kv.key), ['/k/a']);
  await store.close();
});

test('batches are acknowledged in commit order even when a later sync finishes first', async () => {
  const log = new HeldSyncLog();
  const store = new LogStore(log, { backend: 'held' });
  const order: string[] = [];
  const first = store.create('/k/1', 'a').then(() => order.push('1'));
  await tick();
  const second = store.create('/k/2', 'b').then(() => order.push('2'));
  await tick();
  assert.equal(log.pending.length, 2, 'the second batch did not wait for the first fsync to start');
  log.pending[1]!.resolve();
  await tick();
  assert.deepEqual(order, []);
  log.pending[0]!.resolve();
  await Promise.all([first, second]);
  assert.deepEqual(order, ['1', '2']);
  await store.close();
});

test('a failed sync fails the batch, every later write and every watch', async () => {
  const log = new HeldSyncLog();
  const store = new LogStore(log, { backend: 'held' });
  let watchError: Error | undefined;
  store.watch('/k', {}, () => undefined, (e) => (watchError = e));
  const write = store.create('/k/a', 'v');
  await tick();
  log.pending[0]!.reject(new Error('EIO'));
  await assert.rejects(write, StoreUnavailableError);
  await tick();
  assert.ok(watchError instanceof StoreUnavailableError);
  await assert.rejects(store.create('/k/b', 'v'), StoreUnavailableError);
  await assert.rejects(store.get('/k/a'), StoreUnavailableError);
  await store.close();
});

test('close waits for syncs in flight and acknowledges their writes', async () => {
  const log = new HeldSyncLog();
  const store = new LogStore(log, { backend: 'held' });
  const write = store.create('/k/a', 'v');
  await tick();
  const closed = store.close();
  log.pending[0]!.resolve();
  await closed;
  assert.equal((await write).succeeded, true);
});
