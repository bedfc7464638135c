import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  BucketRateLimiter,
  DelayingQueue,
  ItemExponentialFailureRateLimiter,
  MaxOfRateLimiter,
  RateLimitingQueue,
  WorkQueue,
} from './workqueue.js';
import { FakeClock, settle } from './testing/fake-clock.js';

describe('WorkQueue', () => {
  test('a key added many times while waiting is processed once', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.add('b');
    q.add('a');
    q.add('a');
    assert.equal(q.len(), 2);
    assert.equal(await q.get(), 'a');
    assert.equal(await q.get(), 'b');
    assert.equal(q.len(), 0);
  });

  test('a key in flight is not handed to a second worker, and is requeued on done when re-added', async () => {
    const q = new WorkQueue();
    q.add('a');
    const first = await q.get();
    assert.equal(first, 'a');
    q.add('a');
    assert.equal(q.len(), 0, 'must wait until the first worker is done');
    let second: string | undefined;
    void q.get().then((item) => (second = item));
    await settle();
    assert.equal(second, undefined);
    q.done('a');
    await settle();
    assert.equal(second, 'a');
    q.done('a');
    assert.equal(q.isProcessing('a'), false);
  });

  test('done without a re-add does not requeue', async () => {
    const q = new WorkQueue();
    q.add('x');
    await q.get();
    q.done('x');
    assert.equal(q.len(), 0);
  });

  test('an idle worker is woken by add', async () => {
    const q = new WorkQueue();
    const pending = q.get();
    q.add('k');
    assert.equal(await pending, 'k');
    assert.equal(q.isProcessing('k'), true);
  });

  test('shutdown wakes idle workers, ignores adds, and drains queued keys first', async () => {
    const q = new WorkQueue();
    q.add('left');
    q.shutDown();
    q.add('ignored');
    assert.equal(await q.get(), 'left');
    assert.equal(await q.get(), undefined);
    const idle = new WorkQueue();
    const waiting = idle.get();
    idle.shutDown();
    assert.equal(await waiting, undefined);
  });

  test('shutDownWithDrain waits for keys in flight', async () => {
    const q = new WorkQueue();
    q.add('a');
    await q.get();
    let drained = false;
    void q.shutDownWithDrain().then(() => (drained = true));
    await settle();
    assert.equal(drained, false);
    q.done('a');
    await settle();
    assert.equal(drained, true);
  });
});

describe('DelayingQueue', () => {
  test('addAfter releases keys when their time comes, earliest delay wins', async () => {
    const clock = new FakeClock();
    const q = new DelayingQueue(clock);
    q.addAfter('slow', 1000);
    q.addAfter('fast', 100);
    q.addAfter('fast', 500); // later than the pending 100 ms: ignored
    q.addAfter('slow', 200); // earlier: wins
    assert.equal(q.len(), 0);
    await clock.advance(99);
    assert.equal(q.len(), 0);
    await clock.advance(1);
    assert.equal(q.len(), 1);
    assert.equal(await q.get(), 'fast');
    await clock.advance(100);
    assert.equal(await q.get(), 'slow');
    assert.equal(q.waitingCount(), 0);
    assert.equal(clock.pendingTimers(), 0);
  });

  test('non-positive delay adds immediately; shutdown cancels timers', async () => {
    const clock = new FakeClock();
    const q = new DelayingQueue(clock);
    q.addAfter('now', 0);
    assert.equal(q.len(), 1);
    q.addAfter('later', 50);
    q.shutDown();
    assert.equal(clock.pendingTimers(), 0);
    await clock.advance(100);
    assert.equal(await q.get(), 'now');
    assert.equal(await q.get(), undefined);
  });
});

describe('rate limiters', () => {
  test('per-key exponential backoff from 5 ms to 1000 s, reset by forget', () => {
    const limiter = new ItemExponentialFailureRateLimiter(5, 1000_000);
    const delays = Array.from({ length: 6 }, () => limiter.when('a'));
    assert.deepEqual(delays, [5, 10, 20, 40, 80, 160]);
    assert.equal(limiter.when('b'), 5, 'keys back off independently');
    for (let i = 0; i < 40; i++) limiter.when('a');
    assert.equal(limiter.when('a'), 1000_000);
    assert.equal(limiter.numRequeues('a'), 47);
    limiter.forget('a');
    assert.equal(limiter.numRequeues('a'), 0);
    assert.equal(limiter.when('a'), 5);
  });

  test('token bucket allows a burst, then spaces requests at qps', async () => {
    const clock = new FakeClock();
    const bucket = new BucketRateLimiter(10, 3, clock);
    assert.deepEqual([bucket.when('x'), bucket.when('x'), bucket.when('x')], [0, 0, 0]);
    assert.equal(bucket.when('x'), 100);
    assert.equal(bucket.when('x'), 200);
    await clock.advance(1000);
    assert.equal(bucket.when('x'), 0);
  });

  test('max-of takes the longest delay', () => {
    const clock = new FakeClock();
    const limiter = new MaxOfRateLimiter(new ItemExponentialFailureRateLimiter(5, 1000), new BucketRateLimiter(1, 1, clock));
    assert.equal(limiter.when('a'), 5);
    assert.equal(limiter.when('b'), 1000);
  });
});

describe('RateLimitingQueue', () => {
  test('addRateLimited backs off per key until forget', async () => {
    const clock = new FakeClock();
    const q = new RateLimitingQueue({ clock, rateLimiter: new ItemExponentialFailureRateLimiter(5, 1000) });
    q.addRateLimited('k');
    await clock.advance(4);
    assert.equal(q.len(), 0);
    await clock.advance(1);
    assert.equal(q.len(), 1);
    assert.equal(await q.get(), 'k');
    q.done('k');
    q.addRateLimited('k');
    await clock.advance(9);
    assert.equal(q.len(), 0);
    await clock.advance(1);
    assert.equal(q.len(), 1);
    assert.equal(q.numRequeues('k'), 2);
    q.forget('k');
    assert.equal(q.numRequeues('k'), 0);
  });

  test('default limiter: first failures are fast', async () => {
    const clock = new FakeClock();
    const q = new RateLimitingQueue({ clock });
    q.addRateLimited('a');
    await clock.advance(5);
    assert.equal(await q.get(), 'a');
  });
});
