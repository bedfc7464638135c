// The scheduling queue, after kube-scheduler's PriorityQueue:
//  - activeQ: pods ready to be tried, highest priority first, then oldest;
//  - backoffQ: pods that failed recently, waiting out 1 s, 2 s, 4 s … (at most 10 s);
//  - unschedulable: pods no node fits; they wait for a cluster event one of the plugins
//    that rejected them cares about (a node added, a pod deleted, …), and are flushed
//    back anyway after 5 minutes.
// A move request that arrives while a pod is being scheduled sends that pod to backoffQ
// instead of unschedulable, so the event that could have helped it is not lost.
import type { Clock, TimerHandle } from '../client/clock.js';
import { KeyedHeap } from './heap.js';
import { newPodInfo, podKey, podPriority, type Pod, type PodInfo } from './node-info.js';

export interface QueuedPodInfo {
  key: string;
  podInfo: PodInfo;
  /** When it entered the queue last (orders pods of equal priority). */
  timestamp: number;
  /** When it was first added; never reset. */
  initialAttemptTimestamp: number;
  attempts: number;
  /** Plugins that rejected it in its last attempt; empty = any event may help. */
  unschedulablePlugins: Set<string>;
  /** Has spec.schedulingGates: not tried until they are removed. */
  gated: boolean;
}

/** Cluster events that can make unschedulable pods schedulable, and which plugins they may help. */
export type ClusterEvent =
  | 'NodeAdd'
  | 'NodeUpdate'
  | 'AssignedPodAdd'
  | 'AssignedPodUpdate'
  | 'AssignedPodDelete'
  | 'PvcChange'
  | 'PvChange'
  | 'StorageClassChange'
  | 'ForceActivate';

const allFilterPlugins = ['NodeResourcesFit', 'NodeName', 'NodeUnschedulable', 'NodeAffinity', 'TaintToleration', 'NodePorts', 'PodTopologySpread', 'InterPodAffinity', 'VolumeBinding'];

export const eventPlugins: Record<ClusterEvent, Set<string> | 'all'> = {
  NodeAdd: new Set(allFilterPlugins),
  NodeUpdate: new Set(['NodeResourcesFit', 'NodeUnschedulable', 'NodeAffinity', 'TaintToleration', 'PodTopologySpread', 'InterPodAffinity', 'VolumeBinding']),
  AssignedPodAdd: new Set(['PodTopologySpread', 'InterPodAffinity']),
  AssignedPodUpdate: new Set(['PodTopologySpread', 'InterPodAffinity', 'NodeResourcesFit']),
  AssignedPodDelete: new Set(['NodeResourcesFit', 'NodePorts', 'PodTopologySpread', 'InterPodAffinity', 'VolumeBinding']),
  PvcChange: new Set(['VolumeBinding']),
  PvChange: new Set(['VolumeBinding']),
  StorageClassChange: new Set(['VolumeBinding']),
  ForceActivate: 'all',
};

export interface SchedulingQueueOptions {
  clock: Clock;
  podInitialBackoffMs?: number;
  podMaxBackoffMs?: number;
  podMaxInUnschedulablePodsDurationMs?: number;
  /** How often leftover unschedulable pods are checked (Kubernetes: 30 s). */
  unschedulableFlushIntervalMs?: number;
}

export class SchedulingQueue {
  private readonly clock: Clock;
  private readonly initialBackoff: number;
  private readonly maxBackoff: number;
  private readonly maxUnschedulable: number;
  private readonly flushInterval: number;
  private readonly activeQ = new KeyedHeap<QueuedPodInfo>(
    (q) => q.key,
    (a, b) => a.podInfo.priority > b.podInfo.priority || (a.podInfo.priority === b.podInfo.priority && a.timestamp < b.timestamp),
  );
  private readonly backoffQ = new KeyedHeap<QueuedPodInfo>(
    (q) => q.key,
    (a, b) => this.backoffExpiry(a) < this.backoffExpiry(b),
  );
  private readonly unschedulable = new Map<string, QueuedPodInfo>();
  /** Popped and not yet done: a pod being scheduled or bound. */
  private readonly inFlight = new Map<string, QueuedPodInfo>();
  private waiters: Array<(q: QueuedPodInfo | undefined) => void> = [];
  private closed = false;
  private timers: TimerHandle[] = [];
  schedulingCycle = 0;
  private moveRequestCycle = -1;

  constructor(options: SchedulingQueueOptions) {
    this.clock = options.clock;
    this.initialBackoff = options.podInitialBackoffMs ?? 1000;
    this.maxBackoff = options.podMaxBackoffMs ?? 10_000;
    this.maxUnschedulable = options.podMaxInUnschedulablePodsDurationMs ?? 5 * 60_000;
    this.flushInterval = options.unschedulableFlushIntervalMs ?? 30_000;
  }

  /** Starts the periodic flushes (backoffQ every second, leftovers every 30 s). */
  run(): void {
    const every = (ms: number, fn: () => void) => {
      const tick = () => {
        if (this.closed) return;
        fn();
        this.timers.push(this.clock.setTimeout(tick, ms));
      };
      this.timers.push(this.clock.setTimeout(tick, ms));
    };
    every(1000, () => this.flushBackoffQCompleted());
    every(this.flushInterval, () => this.flushUnschedulableLeftover());
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) this.clock.clearTimeout(t);
    for (const w of this.waiters.splice(0)) w(undefined);
  }

  backoffDuration(q: QueuedPodInfo): number {
    let d = this.initialBackoff;
    for (let i = 1; i < q.attempts; i++) {
      d *= 2;
      if (d > this.maxBackoff) return this.maxBackoff;
    }
    return Math.min(d, this.maxBackoff);
  }

  private backoffExpiry(q: QueuedPodInfo): number {
    return q.timestamp + this.backoffDuration(q);
  }

  private isBackingOff(q: QueuedPodInfo): boolean {
    return q.attempts > 0 && this.backoffExpiry(q) > this.clock.now();
  }

  private toActive(q: QueuedPodInfo): void {
    const waiter = this.waiters.shift();
    if (waiter) {
      this.inFlight.set(q.key, q);
      q.attempts++;
      waiter(q);
    } else this.activeQ.push(q);
  }

  has(key: string): boolean {
    return this.activeQ.has(key) || this.backoffQ.has(key) || this.unschedulable.has(key) || this.inFlight.has(key);
  }

  /** A new pending pod. */
  add(pod: Pod): void {
    const key = podKey(pod);
    if (this.closed || this.has(key)) return;
    const now = this.clock.now();
    const q: QueuedPodInfo = { key, podInfo: newPodInfo(pod), timestamp: now, initialAttemptTimestamp: now, attempts: 0, unschedulablePlugins: new Set(), gated: (pod.spec?.schedulingGates?.length ?? 0) > 0 };
    if (q.gated) this.unschedulable.set(key, q);
    else this.toActive(q);
  }

  /** A pending pod changed: keep its place, but an update may be what it was waiting for. */
  update(pod: Pod): void {
    const key = podKey(pod);
    const info = newPodInfo(pod);
    const inFlight = this.inFlight.get(key);
    if (inFlight) {
      inFlight.podInfo = info;
      return;
    }
    for (const heap of [this.activeQ, this.backoffQ]) {
      const q = heap.get(key);
      if (q) {
        q.podInfo = info;
        heap.push(q);
        return;
      }
    }
    const q = this.unschedulable.get(key);
    if (!q) return this.add(pod);
    q.podInfo = info;
    q.gated = (pod.spec?.schedulingGates?.length ?? 0) > 0;
    if (q.gated) return;
    this.unschedulable.delete(key);
    if (this.isBackingOff(q)) this.backoffQ.push(q);
    else this.toActive(q);
  }

  delete(pod: Pod): void {
    const key = podKey(pod);
    this.activeQ.delete(key);
    this.backoffQ.delete(key);
    this.unschedulable.delete(key);
  }

  /** The next pod to schedule; undefined once closed. */
  pop(): Promise<QueuedPodInfo | undefined> {
    const q = this.activeQ.pop();
    if (q) {
      this.schedulingCycle++;
      q.attempts++;
      this.inFlight.set(q.key, q);
      return Promise.resolve(q);
    }
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) =>
      this.waiters.push((item) => {
        if (item) this.schedulingCycle++;
        resolve(item);
      }),
    );
  }

  /** The pod's attempt is over (bound, requeued or dropped). */
  done(key: string): void {
    this.inFlight.delete(key);
  }

  /**
   * A pod that failed its attempt (cycle = schedulingCycle when it was popped). Unschedulable
   * pods wait for an event; pods that hit an error, or missed a move request, back off.
   */
  requeue(q: QueuedPodInfo, cycle: number, unschedulable: boolean): void {
    this.inFlight.delete(q.key);
    if (this.closed || this.activeQ.has(q.key) || this.backoffQ.has(q.key) || this.unschedulable.has(q.key)) return;
    q.timestamp = this.clock.now();
    if (unschedulable && this.moveRequestCycle < cycle) this.unschedulable.set(q.key, q);
    else this.backoffQ.push(q);
  }

  /** A cluster event: retry the unschedulable pods it might help. */
  moveAllToActiveOrBackoff(event: ClusterEvent): void {
    const interested = eventPlugins[event];
    for (const [key, q] of this.unschedulable) {
      if (q.gated) continue;
      if (interested !== 'all' && q.unschedulablePlugins.size > 0 && ![...q.unschedulablePlugins].some((p) => interested.has(p))) continue;
      this.unschedulable.delete(key);
      if (this.isBackingOff(q)) this.backoffQ.push(q);
      else this.toActive(q);
    }
    this.moveRequestCycle = this.schedulingCycle;
  }

  flushBackoffQCompleted(): void {
    const now = this.clock.now();
    for (let q = this.backoffQ.peek(); q && this.backoffExpiry(q) <= now; q = this.backoffQ.peek()) {
      this.backoffQ.pop();
      this.toActive(q);
    }
  }

  flushUnschedulableLeftover(): void {
    const now = this.clock.now();
    for (const [key, q] of this.unschedulable) {
      if (q.gated || now - q.timestamp < this.maxUnschedulable) continue;
      this.unschedulable.delete(key);
      if (this.isBackingOff(q)) this.backoffQ.push(q);
      else this.toActive(q);
    }
  }

  pendingPods(): { active: number; backoff: number; unschedulable: number } {
    return { active: this.activeQ.size, backoff: this.backoffQ.size, unschedulable: this.unschedulable.size };
  }

  /** Where a pod currently waits (for tests and debugging). */
  whereIs(key: string): 'active' | 'backoff' | 'unschedulable' | 'inFlight' | undefined {
    if (this.activeQ.has(key)) return 'active';
    if (this.backoffQ.has(key)) return 'backoff';
    if (this.unschedulable.has(key)) return 'unschedulable';
    if (this.inFlight.has(key)) return 'inFlight';
    return undefined;
  }
}

export { podPriority };
