// Work queues with client-go's semantics, the backbone of every level-triggered controller:
//  - a key waiting in the queue is stored once however often it is added (dirty set);
//  - a key being processed is never handed to a second worker; adding it meanwhile marks it
//    dirty, and done() puts it back so the change is not lost (processing set);
//  - addAfter delays a key on the injected clock; addRateLimited delays it by its failure
//    history (per-key exponential backoff, overall token bucket); forget clears that history.
// After shutDown() adds are ignored, waiting workers get `undefined`, and keys still queued
// are drained by get() first.
import type { Clock, TimerHandle } from './clock.js';
import { systemClock } from './clock.js';

export class WorkQueue<T = string> {
  private queue: T[] = [];
  private dirty = new Set<T>();
  private processing = new Set<T>();
  private waiters: Array<(item: T | undefined) => void> = [];
  private shutdown = false;
  private drainWaiters: Array<() => void> = [];

  add(item: T): void {
    if (this.shutdown || this.dirty.has(item)) return;
    this.dirty.add(item);
    if (this.processing.has(item)) return;
    this.enqueue(item);
  }

  private enqueue(item: T): void {
    const waiter = this.waiters.shift();
    if (waiter) {
      // Hand it straight to an idle worker, as if it had popped it.
      this.dirty.delete(item);
      this.processing.add(item);
      waiter(item);
    } else {
      this.queue.push(item);
    }
  }

  /** Keys waiting to be processed (not counting those in flight). */
  len(): number {
    return this.queue.length;
  }

  /** Next key, marked as processing until done(); undefined once shut down and drained. */
  get(): Promise<T | undefined> {
    const item = this.queue.shift();
    if (item !== undefined) {
      this.dirty.delete(item);
      this.processing.add(item);
      return Promise.resolve(item);
    }
    if (this.shutdown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Ends processing of `item`; if it was added meanwhile it is queued again. */
  done(item: T): void {
    this.processing.delete(item);
    if (this.dirty.has(item)) this.enqueue(item);
    if (this.processing.size === 0) for (const resolve of this.drainWaiters.splice(0)) resolve();
  }

  shutDown(): void {
    this.shutdown = true;
    for (const waiter of this.waiters.splice(0)) waiter(undefined);
  }

  /** Shuts down, then resolves once every key in flight has been marked done. */
  async shutDownWithDrain(): Promise<void> {
    this.shutDown();
    if (this.processing.size === 0) return;
    await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
  }

  shuttingDown(): boolean {
    return this.shutdown;
  }

  isProcessing(item: T): boolean {
    return this.processing.has(item);
  }
}

export class DelayingQueue<T = string> extends WorkQueue<T> {
  /** Ready time of each waiting key; the earliest wins when a key is delayed twice. */
  private waiting = new Map<T, number>();
  private timer: TimerHandle | undefined;
  private timerDue = Infinity;

  constructor(protected readonly clock: Clock = systemClock()) {
    super();
  }

  addAfter(item: T, delayMs: number): void {
    if (this.shuttingDown()) return;
    if (delayMs <= 0) {
      this.add(item);
      return;
    }
    const readyAt = this.clock.now() + delayMs;
    const current = this.waiting.get(item);
    if (current !== undefined && current <= readyAt) return;
    this.waiting.set(item, readyAt);
    this.schedule();
  }

  /** Keys waiting for their delay to pass. */
  waitingCount(): number {
    return this.waiting.size;
  }

  private schedule(): void {
    let earliest = Infinity;
    for (const readyAt of this.waiting.values()) earliest = Math.min(earliest, readyAt);
    if (earliest === this.timerDue) return;
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerDue = earliest;
    if (earliest === Infinity) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.timerDue = Infinity;
      const now = this.clock.now();
      for (const [item, readyAt] of [...this.waiting]) {
        if (readyAt <= now) {
          this.waiting.delete(item);
          this.add(item);
        }
      }
      this.schedule();
    }, earliest - this.clock.now());
  }

  override shutDown(): void {
    super.shutDown();
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerDue = Infinity;
    this.waiting.clear();
  }
}

export interface RateLimiter<T = string> {
  /** How long `item` should wait before its next try (and count this try). */
  when(item: T): number;
  /** Clears `item`'s failure history (it succeeded). */
  forget(item: T): void;
  numRequeues(item: T): number;
}

/** Per-key exponential backoff: base·2^failures, capped (client-go: 5 ms … 1000 s). */
export class ItemExponentialFailureRateLimiter<T = string> implements RateLimiter<T> {
  private failures = new Map<T, number>();

  constructor(
    private readonly baseDelayMs = 5,
    private readonly maxDelayMs = 1000_000,
  ) {}

  when(item: T): number {
    const failures = this.failures.get(item) ?? 0;
    this.failures.set(item, failures + 1);
    const delay = this.baseDelayMs * Math.pow(2, failures);
    return Number.isFinite(delay) ? Math.min(delay, this.maxDelayMs) : this.maxDelayMs;
  }

  forget(item: T): void {
    this.failures.delete(item);
  }

  numRequeues(item: T): number {
    return this.failures.get(item) ?? 0;
  }
}

/**
 * An overall token bucket (client-go: 10 qps, burst 100) so a storm of failing keys cannot
 * hammer the API server even when each key's own backoff is still short.
 */
export class BucketRateLimiter<T = string> implements RateLimiter<T> {
  private tokens: number;
  private last: number;

  constructor(
    private readonly qps = 10,
    private readonly burst = 100,
    private readonly clock: Clock = systemClock(),
  ) {
    this.tokens = burst;
    this.last = clock.now();
  }

  when(_item: T): number {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
    this.last = now;
    // Reserve a token now even if it is only available later, like rate.Limiter.Reserve.
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.qps) * 1000);
  }

  forget(_item: T): void {}

  numRequeues(_item: T): number {
    return 0;
  }
}

/** The longest delay any of the limiters asks for. */
export class MaxOfRateLimiter<T = string> implements RateLimiter<T> {
  private readonly limiters: RateLimiter<T>[];

  constructor(...limiters: RateLimiter<T>[]) {
    this.limiters = limiters;
  }

  when(item: T): number {
    let delay = 0;
    for (const limiter of this.limiters) delay = Math.max(delay, limiter.when(item));
    return delay;
  }

  forget(item: T): void {
    for (const limiter of this.limiters) limiter.forget(item);
  }

  numRequeues(item: T): number {
    let n = 0;
    for (const limiter of this.limiters) n = Math.max(n, limiter.numRequeues(item));
    return n;
  }
}

/** client-go's DefaultControllerRateLimiter. */
export function defaultControllerRateLimiter<T = string>(clock: Clock = systemClock()): RateLimiter<T> {
  return new MaxOfRateLimiter<T>(new ItemExponentialFailureRateLimiter<T>(5, 1000_000), new BucketRateLimiter<T>(10, 100, clock));
}

export class RateLimitingQueue<T = string> extends DelayingQueue<T> {
  readonly rateLimiter: RateLimiter<T>;

  constructor(options: { clock?: Clock; rateLimiter?: RateLimiter<T> } = {}) {
    const clock = options.clock ?? systemClock();
    super(clock);
    this.rateLimiter = options.rateLimiter ?? defaultControllerRateLimiter<T>(clock);
  }

  /** Requeues `item` after the delay its failure history calls for. */
  addRateLimited(item: T): void {
    this.addAfter(item, this.rateLimiter.when(item));
  }

  forget(item: T): void {
    this.rateLimiter.forget(item);
  }

  numRequeues(item: T): number {
    return this.rateLimiter.numRequeues(item);
  }
}
