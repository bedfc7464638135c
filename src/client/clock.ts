// Time as a dependency. Every loop in client/ (work queue delays, informer resync and
// backoff, leader election, event rate limits) reads time and sleeps only through a Clock,
// so tests drive them with a fake clock instead of waiting.

export interface TimerHandle {
  readonly id: number;
}

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The wall clock. Timers are unref'd so a forgotten resync timer never keeps a process alive. */
export function systemClock(): Clock {
  const timers = new Map<number, NodeJS.Timeout>();
  let nextId = 1;
  return {
    now: () => Date.now(),
    setTimeout(callback, delayMs) {
      const id = nextId++;
      const timer = setTimeout(() => {
        timers.delete(id);
        callback();
      }, Math.max(0, delayMs));
      timer.unref?.();
      timers.set(id, timer);
      return { id };
    },
    clearTimeout(handle) {
      const timer = timers.get(handle.id);
      if (timer) {
        clearTimeout(timer);
        timers.delete(handle.id);
      }
    },
  };
}

/** Resolves after `delayMs` on `clock`, or early (with false) when `signal` aborts. */
export function sleep(clock: Clock, delayMs: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      clock.clearTimeout(handle);
      resolve(false);
    };
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, delayMs);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Kubernetes' wait.Jitter: a duration in [d, d * (1 + maxFactor)). */
export function jitter(durationMs: number, maxFactor: number, random: () => number = Math.random): number {
  const factor = maxFactor > 0 ? maxFactor : 1;
  return durationMs + random() * factor * durationMs;
}
