// A manually advanced Clock — for tests only, never wired into a shipped component.
import type { Clock, TimerHandle } from '../clock.js';

interface PendingTimer {
  id: number;
  dueAt: number;
  callback: () => void;
}

export class FakeClock implements Clock {
  private current: number;
  private nextId = 1;
  private timers: PendingTimer[] = [];

  constructor(startMs = Date.UTC(2024, 0, 1)) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const timer = { id: this.nextId++, dueAt: this.current + Math.max(0, delayMs), callback };
    this.timers.push(timer);
    return { id: timer.id };
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers = this.timers.filter((t) => t.id !== handle.id);
  }

  /** Number of timers still waiting. */
  pendingTimers(): number {
    return this.timers.length;
  }

  /**
   * Moves time forward by `ms`, firing due timers in order. Between timers it lets
   * pending promise callbacks and I/O run, so async loops waiting on the clock make
   * progress exactly as they would in real time.
   */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    await settle();
    for (;;) {
      const due = this.timers.filter((t) => t.dueAt <= target).sort((a, b) => a.dueAt - b.dueAt || a.id - b.id);
      if (due.length === 0) break;
      const timer = due[0]!;
      this.timers = this.timers.filter((t) => t !== timer);
      this.current = Math.max(this.current, timer.dueAt);
      timer.callback();
      await settle();
    }
    this.current = target;
    await settle();
  }
}

/** Lets queued microtasks and one round of I/O callbacks run. */
export async function settle(rounds = 3): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
