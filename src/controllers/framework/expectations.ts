// Controller expectations (k8s.io/kubernetes/pkg/controller): after a controller asks for N
// creations or deletions it waits until its informer has seen them before acting on that
// owner again, so a cache that lags behind its own writes never makes it create duplicates.
// Expectations expire after five minutes so a lost watch event cannot wedge a controller.
import type { Clock } from '../../client/clock.js';

export const expectationsTimeoutMs = 5 * 60 * 1000;

interface Expectation {
  add: number;
  /** Keys of pods we asked to delete and have not yet seen go (UID-tracking in Kubernetes). */
  deletions: Set<string>;
  timestamp: number;
}

export class ControllerExpectations {
  private readonly expectations = new Map<string, Expectation>();
  constructor(private readonly clock: Clock) {}

  /** True when the owner may be synced: no expectations, all met, or expired. */
  satisfied(controllerKey: string): boolean {
    const e = this.expectations.get(controllerKey);
    if (!e) return true;
    if (e.add <= 0 && e.deletions.size === 0) return true;
    return this.clock.now() - e.timestamp > expectationsTimeoutMs;
  }

  expectCreations(controllerKey: string, count: number): void {
    this.expectations.set(controllerKey, { add: count, deletions: new Set(), timestamp: this.clock.now() });
  }

  expectDeletions(controllerKey: string, podKeys: string[]): void {
    this.expectations.set(controllerKey, { add: 0, deletions: new Set(podKeys), timestamp: this.clock.now() });
  }

  creationObserved(controllerKey: string): void {
    const e = this.expectations.get(controllerKey);
    if (e) e.add--;
  }

  deletionObserved(controllerKey: string, podKey: string): void {
    this.expectations.get(controllerKey)?.deletions.delete(podKey);
  }

  delete(controllerKey: string): void {
    this.expectations.delete(controllerKey);
  }
}
