// client-go's flowcontrol.Backoff as the kubelet uses it for CrashLoopBackOff and
// ImagePullBackOff: 10 s doubling to 5 min; an entry untouched for twice the maximum
// (10 min) starts over at 10 s.
import type { Clock } from '../client/clock.js';

interface Entry { backoffMs: number; lastUpdate: number }

export class Backoff {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly clock: Clock,
    readonly initialMs = 10_000,
    readonly maxMs = 300_000,
  ) {}

  private expired(entry: Entry, now: number): boolean {
    return now - entry.lastUpdate > 2 * this.maxMs;
  }

  /** Records one more failure: the next wait doubles (or starts at the initial value). */
  next(key: string, eventTime = this.clock.now()): void {
    const now = this.clock.now();
    const entry = this.entries.get(key);
    if (!entry || this.expired(entry, eventTime)) {
      this.entries.set(key, { backoffMs: this.initialMs, lastUpdate: now });
      return;
    }
    entry.backoffMs = Math.min(entry.backoffMs * 2, this.maxMs);
    entry.lastUpdate = now;
  }

  /** True while less than the current wait has passed since eventTime (e.g. the container's finish). */
  isInBackOffSince(key: string, eventTime: number): boolean {
    const entry = this.entries.get(key);
    if (!entry) return false;
    const now = this.clock.now();
    if (this.expired(entry, now)) return false;
    return now - eventTime < entry.backoffMs;
  }

  /** The current wait for key (0 when none). */
  get(key: string): number {
    return this.entries.get(key)?.backoffMs ?? 0;
  }

  /** Time left until eventTime + the current wait. */
  remaining(key: string, eventTime: number): number {
    return Math.max(0, eventTime + this.get(key) - this.clock.now());
  }

  /** Drops entries of a prefix (a deleted pod's containers). */
  forgetPrefix(prefix: string): void {
    for (const key of [...this.entries.keys()]) if (key.startsWith(prefix)) this.entries.delete(key);
  }

  /** Drops entries not touched for twice the maximum. */
  gc(): void {
    const now = this.clock.now();
    for (const [key, entry] of this.entries) if (this.expired(entry, now)) this.entries.delete(key);
  }
}
