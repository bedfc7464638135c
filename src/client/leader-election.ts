// Leader election on a coordination.k8s.io/v1 Lease, with client-go's algorithm so navarch
// and Kubernetes components can even contend for the same lease:
//  - a candidate takes the lease when it is absent, released (empty holderIdentity), or not
//    renewed for leaseDurationSeconds *as measured on the candidate's own clock* from the
//    moment it last saw the record change (so clock skew between machines does not matter);
//  - the leader renews every retryPeriod; if it cannot renew for renewDeadline it steps
//    down (renewDeadline < leaseDuration leaves a margin before anyone else may take over);
//  - every write carries the resourceVersion read, so two candidates can never both win.
// On shutdown the leader releases the lease (holderIdentity "", leaseDurationSeconds 1) so
// a successor takes over at once instead of waiting out the lease.
import type { KubeObject } from '../api/types.js';
import type { Clock } from './clock.js';
import { jitter, sleep, systemClock } from './clock.js';
import type { Client, ResourceClient, ResourceRef } from './client.js';
import { isNotFound } from './errors.js';
import type { Logger } from './informer.js';
import { stderrLogger } from './informer.js';

export const leasesResource: ResourceRef = {
  group: 'coordination.k8s.io',
  version: 'v1',
  resource: 'leases',
  namespaced: true,
  kind: 'Lease',
};

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface Lease extends KubeObject {
  spec?: LeaseSpec;
}

export interface LeaderElectionConfig {
  client: Client;
  /** The Lease: e.g. kube-system/kube-controller-manager. */
  namespace: string;
  name: string;
  /** Unique per candidate: usually hostname + "_" + a random id. */
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** Give the lease up when run()'s signal aborts. Only safe if leading work stops with it. */
  releaseOnCancel?: boolean;
  /** Called once this candidate leads; `signal` aborts when leadership ends. */
  onStartedLeading(signal: AbortSignal): void | Promise<void>;
  /** Called once leadership ends (lost, or given up on shutdown). */
  onStoppedLeading(): void;
  /** Called whenever the observed leader changes (including to ourselves). */
  onNewLeader?(identity: string): void;
  clock?: Clock;
  random?: () => number;
  logger?: Logger;
}

/** Kubernetes MicroTime: RFC 3339 with microseconds. */
export function formatMicroTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

function sameRecord(a: LeaseSpec | undefined, b: LeaseSpec | undefined): boolean {
  return (
    (a?.holderIdentity ?? '') === (b?.holderIdentity ?? '') &&
    a?.renewTime === b?.renewTime &&
    a?.acquireTime === b?.acquireTime &&
    (a?.leaseTransitions ?? 0) === (b?.leaseTransitions ?? 0) &&
    a?.leaseDurationSeconds === b?.leaseDurationSeconds
  );
}

export class LeaderElector {
  private readonly leases: ResourceClient<Lease>;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly logger: Logger;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private observedRecord: LeaseSpec | undefined;
  private observedTime = 0;
  private reportedLeader = '';
  private leading = false;

  constructor(private readonly config: LeaderElectionConfig) {
    this.leases = config.client.resource<Lease>(leasesResource);
    this.clock = config.clock ?? systemClock();
    this.random = config.random ?? Math.random;
    this.logger = config.logger ?? stderrLogger;
    this.leaseDurationMs = config.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = config.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = config.retryPeriodMs ?? 2_000;
    if (this.leaseDurationMs <= this.renewDeadlineMs) throw new Error('leaseDuration must be greater than renewDeadline');
    if (this.renewDeadlineMs <= this.retryPeriodMs * 1.2) throw new Error('renewDeadline must be greater than retryPeriod*1.2');
    if (!config.identity) throw new Error('leader election requires an identity');
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** Holder of the lease as last observed ('' when unknown or released). */
  getLeader(): string {
    return this.observedRecord?.holderIdentity ?? '';
  }

  /**
   * Campaigns until elected, leads until leadership is lost or `signal` aborts, then
   * returns. Callers wanting to campaign again simply call run() again.
   */
  async run(signal: AbortSignal): Promise<void> {
    if (!(await this.acquire(signal))) return;
    const leadership = new AbortController();
    this.leading = true;
    try {
      Promise.resolve()
        .then(() => this.config.onStartedLeading(leadership.signal))
        .catch((err) => this.logger('error', 'onStartedLeading failed', { lease: this.leaseName(), error: String(err) }));
      await this.renew(signal);
    } finally {
      this.leading = false;
      leadership.abort();
      if (signal.aborted && (this.config.releaseOnCancel ?? true)) await this.release();
      this.config.onStoppedLeading();
    }
  }

  private leaseName(): string {
    return `${this.config.namespace}/${this.config.name}`;
  }

  private async acquire(signal: AbortSignal): Promise<boolean> {
    while (!signal.aborted) {
      if (await this.tryAcquireOrRenew()) {
        this.logger('info', 'acquired lease', { lease: this.leaseName(), identity: this.config.identity });
        return true;
      }
      await sleep(this.clock, jitter(this.retryPeriodMs, 1.2, this.random), signal);
    }
    return false;
  }

  private async renew(signal: AbortSignal): Promise<void> {
    let lastRenewal = this.clock.now();
    while (!signal.aborted) {
      if (!(await sleep(this.clock, this.retryPeriodMs, signal))) return;
      const remaining = this.renewDeadlineMs - (this.clock.now() - lastRenewal);
      // A hung request must not keep us believing we lead past the deadline.
      const deadline = new AbortController();
      const onAbort = () => deadline.abort();
      signal.addEventListener('abort', onAbort, { once: true });
      const renewed = await Promise.race([
        this.tryAcquireOrRenew(),
        sleep(this.clock, Math.max(0, remaining), deadline.signal).then(() => false),
      ]);
      deadline.abort();
      signal.removeEventListener('abort', onAbort);
      if (signal.aborted) return;
      if (renewed) {
        lastRenewal = this.clock.now();
      } else if (this.clock.now() - lastRenewal >= this.renewDeadlineMs) {
        this.logger('warn', 'failed to renew lease, stepping down', { lease: this.leaseName(), identity: this.config.identity });
        return;
      }
    }
  }

  private observe(record: LeaseSpec | undefined): void {
    if (!sameRecord(record, this.observedRecord)) {
      this.observedRecord = record ? { ...record } : undefined;
      this.observedTime = this.clock.now();
    }
    const holder = record?.holderIdentity ?? '';
    if (holder && holder !== this.reportedLeader) {
      this.reportedLeader = holder;
      try {
        this.config.onNewLeader?.(holder);
      } catch (err) {
        this.logger('error', 'onNewLeader failed', { error: String(err) });
      }
    }
  }

  /** One attempt to take or keep the lease; true when we hold it afterwards. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const now = this.clock.now();
    const wanted: LeaseSpec = {
      holderIdentity: this.config.identity,
      leaseDurationSeconds: Math.round(this.leaseDurationMs / 1000),
      acquireTime: formatMicroTime(now),
      renewTime: formatMicroTime(now),
      leaseTransitions: 0,
    };
    let lease: Lease;
    try {
      lease = await this.leases.get(this.config.namespace, this.config.name);
    } catch (err) {
      if (!isNotFound(err)) {
        this.logger('warn', 'error retrieving lease', { lease: this.leaseName(), error: String(err) });
        return false;
      }
      try {
        const created = await this.leases.create(this.config.namespace, {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: this.config.name, namespace: this.config.namespace },
          spec: wanted,
        });
        this.observe(created.spec);
        return true;
      } catch (createErr) {
        this.logger('info', 'error creating lease', { lease: this.leaseName(), error: String(createErr) });
        return false;
      }
    }

    const current = lease.spec ?? {};
    this.observe(current);
    const holder = current.holderIdentity ?? '';
    const heldByOther = holder !== '' && holder !== this.config.identity;
    const observedDurationMs = (current.leaseDurationSeconds ?? Math.round(this.leaseDurationMs / 1000)) * 1000;
    if (heldByOther && this.observedTime + observedDurationMs > now) return false;

    if (holder === this.config.identity) {
      wanted.acquireTime = current.acquireTime ?? wanted.acquireTime;
      wanted.leaseTransitions = current.leaseTransitions ?? 0;
    } else {
      wanted.leaseTransitions = (current.leaseTransitions ?? 0) + 1;
    }
    try {
      const updated = await this.leases.update({ ...lease, spec: { ...current, ...wanted } });
      this.observe(updated.spec);
      return true;
    } catch (err) {
      // A Conflict means someone else wrote first; they win this round.
      this.logger('info', 'failed to update lease', { lease: this.leaseName(), error: String(err) });
      return false;
    }
  }

  private async release(): Promise<void> {
    try {
      const lease = await this.leases.get(this.config.namespace, this.config.name);
      if (lease.spec?.holderIdentity !== this.config.identity) return;
      const now = formatMicroTime(this.clock.now());
      const released = await this.leases.update({
        ...lease,
        spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, acquireTime: now, renewTime: now },
      });
      this.observe(released.spec);
    } catch (err) {
      this.logger('warn', 'failed to release lease', { lease: this.leaseName(), error: String(err) });
    }
  }
}

/** Convenience: elect and run `config` until `signal` aborts. */
export function runLeaderElection(config: LeaderElectionConfig, signal: AbortSignal): Promise<void> {
  return new LeaderElector(config).run(signal);
}
