// LogStore: the Store semantics over a RevisionLog, shared by the memory and sqlite backends.
//
// Writes are queued and applied in batches ("group commit"): every write that arrives while
// the event loop is busy joins one transaction, so one durable commit (one fsync with
// sqlite) acknowledges many writes. A write's promise resolves only after its batch has
// committed, so an acknowledged write is durable.
//
// Watches are served in-process from the write path: after a batch commits, its rows are
// handed to every matching watcher. Because the log is synchronous and single-owner, a
// watch that replays history and then registers for live events cannot miss or repeat a
// revision.

import {
  CompactedError,
  FutureRevisionError,
  LeaseNotFoundError,
  StoreUnavailableError,
  type KeyValue,
  type RangeOptions,
  type RangeResult,
  type Store,
  type Watch,
  type WatchEvent,
  type WatchOptions,
  type WriteResult,
} from '../types.js';
import { prefixEnd, type KeyInterval, type LeaseRecord, type LogRow, type RevisionLog } from './revision-log.js';

export interface Clock {
  /** Wall-clock milliseconds. */
  now(): number;
}

export interface LogStoreOptions {
  backend: string;
  clock?: Clock;
}

type Operation =
  | { kind: 'create'; key: string; value: string; lease: number }
  | { kind: 'update'; key: string; value: string; expectedModRevision: number; lease: number }
  | { kind: 'delete'; key: string; expectedModRevision: number }
  | { kind: 'grantLease'; ttlSeconds: number }
  | { kind: 'keepAliveLease'; id: number }
  /** `onlyIfExpired`: the lease timer asks; a lease renewed meanwhile must survive. */
  | { kind: 'revokeLease'; id: number; onlyIfExpired: boolean }
  | { kind: 'compact'; revision: number };

interface Pending {
  operation: Operation;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

interface Applied {
  /** A value to resolve with, or an Error to reject with (the rest of the batch still commits). */
  outcome: unknown;
  rows: Array<{ row: LogRow; prev: LogRow | undefined }>;
}

export function rowToKeyValue(row: LogRow): KeyValue {
  return {
    key: row.name,
    value: row.value,
    createRevision: row.createRevision,
    modRevision: row.id,
    version: row.version,
    lease: row.lease,
  };
}

export function rowToEvent(row: LogRow, prev: LogRow | undefined): WatchEvent {
  if (row.deleted) {
    const kv: KeyValue = {
      key: row.name,
      value: row.value,
      createRevision: row.createRevision,
      modRevision: row.id,
      version: 0,
      lease: 0,
    };
    // The tombstone carries the deleted value, so prevKv survives compaction of the old row.
    const prevKv: KeyValue =
      prev && !prev.deleted
        ? rowToKeyValue(prev)
        : { key: row.name, value: row.value, createRevision: row.createRevision, modRevision: row.prevRevision, version: 0, lease: 0 };
    return { type: 'DELETE', kv, prevKv };
  }
  const event: WatchEvent = { type: 'PUT', kv: rowToKeyValue(row) };
  if (prev && !prev.deleted && !row.created) event.prevKv = rowToKeyValue(prev);
  return event;
}

class LogWatch implements Watch {
  cancelled = false;
  private queue: WatchEvent[] = [];
  private scheduled = false;

  constructor(
    readonly matches: (key: string) => boolean,
    /** Events below this revision were replayed from history (or precede the watch). */
    public minRevision: number,
    private readonly onEvents: (events: WatchEvent[]) => void,
    private readonly onError: (error: Error) => void,
    private readonly detach: (watch: LogWatch) => void,
  ) {}

  push(events: WatchEvent[]): void {
    if (this.cancelled || events.length === 0) return;
    this.queue.push(...events);
    if (!this.scheduled) {
      this.scheduled = true;
      // Never call back from inside watch() or a write: the caller must hold its Watch handle first.
      queueMicrotask(() => this.deliver());
    }
  }

  fail(error: Error): void {
    if (this.cancelled) return;
    this.cancel();
    queueMicrotask(() => this.onError(error));
  }

  private deliver(): void {
    this.scheduled = false;
    if (this.cancelled) return;
    const events = this.queue;
    this.queue = [];
    try {
      this.onEvents(events);
    } catch (error) {
      // A consumer that throws has lost events; ending the watch lets it re-list and resume.
      this.cancel();
      this.onError(error instanceof Error ? error : new Error(String(error)));
    }
  }

  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.queue = [];
    this.detach(this);
  }
}

export class LogStore implements Store {
  readonly backend: string;
  private readonly clock: Clock;
  private queue: Pending[] = [];
  private flushScheduled = false;
  private closed = false;
  private readonly watches = new Set<LogWatch>();
  private leases = new Map<number, LeaseRecord>();
  private leaseTimer: NodeJS.Timeout | undefined;

  constructor(
    protected readonly log: RevisionLog,
    options: LogStoreOptions,
  ) {
    this.backend = options.backend;
    this.clock = options.clock ?? { now: () => Date.now() };
    this.reloadLeases();
    this.armLeaseTimer();
  }

  // ---- reads ----

  private readRevision(requested: number | undefined): number {
    const current = this.log.currentRevision;
    if (!requested) return current;
    if (requested > current) throw new FutureRevisionError(requested, current);
    if (requested < this.log.compactedRevision) throw new CompactedError(requested, this.log.compactedRevision);
    return requested;
  }

  private ensureOpen(): void {
    if (this.closed) throw new StoreUnavailableError(`${this.backend} store is closed`);
  }

  async get(key: string, options?: { revision?: number }): Promise<{ kv: KeyValue | null; revision: number }> {
    this.ensureOpen();
    const revision = this.readRevision(options?.revision);
    const row = this.log.latest(key, revision);
    return { kv: row && !row.deleted ? rowToKeyValue(row) : null, revision };
  }

  async range(prefix: string, options: RangeOptions = {}): Promise<RangeResult> {
    this.ensureOpen();
    const revision = this.readRevision(options.revision);
    const start = options.startKey !== undefined && options.startKey > prefix ? options.startKey : prefix;
    const interval: KeyInterval = { start, end: prefixEnd(prefix) };
    const count = this.log.count(interval, revision);
    if (options.countOnly) return { kvs: [], more: false, count, revision };
    const limit = options.limit && options.limit > 0 ? options.limit : 0;
    const rows = this.log.range(interval, revision, limit);
    return { kvs: rows.map(rowToKeyValue), more: limit > 0 && count > rows.length, count, revision };
  }

  async currentRevision(): Promise<number> {
    this.ensureOpen();
    return this.log.currentRevision;
  }

  async compactedRevision(): Promise<number> {
    this.ensureOpen();
    return this.log.compactedRevision;
  }

  async sizeBytes(): Promise<number> {
    this.ensureOpen();
    return this.log.sizeBytes();
  }

  // ---- writes ----

  create(key: string, value: string, options?: { lease?: number }): Promise<WriteResult> {
    return this.enqueue({ kind: 'create', key, value, lease: options?.lease ?? 0 });
  }

  update(key: string, value: string, expectedModRevision: number, options?: { lease?: number }): Promise<WriteResult> {
    return this.enqueue({ kind: 'update', key, value, expectedModRevision, lease: options?.lease ?? 0 });
  }

  delete(key: string, expectedModRevision = 0): Promise<WriteResult> {
    return this.enqueue({ kind: 'delete', key, expectedModRevision });
  }

  async compact(revision: number): Promise<void> {
    this.ensureOpen();
    const current = this.log.currentRevision;
    if (revision > current) throw new FutureRevisionError(revision, current);
    if (revision <= this.log.compactedRevision) return;
    await this.enqueue({ kind: 'compact', revision });
  }

  grantLease(ttlSeconds: number): Promise<number> {
    if (!(ttlSeconds > 0)) return Promise.reject(new RangeError(`lease TTL must be positive, got ${ttlSeconds}`));
    return this.enqueue({ kind: 'grantLease', ttlSeconds: Math.ceil(ttlSeconds) });
  }

  keepAliveLease(id: number): Promise<void> {
    return this.enqueue({ kind: 'keepAliveLease', id });
  }

  revokeLease(id: number): Promise<void> {
    return this.enqueue({ kind: 'revokeLease', id, onlyIfExpired: false });
  }

  private enqueue<T>(operation: Operation): Promise<T> {
    if (this.closed) return Promise.reject(new StoreUnavailableError(`${this.backend} store is closed`));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ operation, resolve: resolve as (value: unknown) => void, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    let applied: Applied[];
    try {
      applied = this.log.transaction(() => batch.map((pending) => this.apply(pending.operation)));
    } catch (error) {
      // Nothing of the batch was persisted; the log rolled back, so resync the lease mirror.
      this.reloadLeases();
      const message = error instanceof Error ? error.message : String(error);
      for (const pending of batch) pending.reject(new StoreUnavailableError(`${this.backend} write failed: ${message}`));
      return;
    }
    for (const { rows } of applied) {
      if (rows.length > 0) this.dispatch(rows);
    }
    for (let i = 0; i < batch.length; i++) {
      const outcome = applied[i]!.outcome;
      if (outcome instanceof Error) batch[i]!.reject(outcome);
      else batch[i]!.resolve(outcome);
    }
    this.armLeaseTimer();
  }

  /** Runs inside the log transaction. Returns errors for rejected preconditions; throws only on I/O failure. */
  private apply(op: Operation): Applied {
    const log = this.log;
    switch (op.kind) {
      case 'create': {
        if (op.lease !== 0 && !this.leases.has(op.lease)) return { outcome: new LeaseNotFoundError(op.lease), rows: [] };
        const current = log.latest(op.key, log.currentRevision);
        if (current && !current.deleted) return { outcome: this.failed(current), rows: [] };
        const id = log.currentRevision + 1;
        const row: LogRow = {
          id,
          name: op.key,
          created: true,
          deleted: false,
          createRevision: id,
          prevRevision: current?.id ?? 0,
          lease: op.lease,
          value: op.value,
          version: 1,
        };
        log.append(row);
        return { outcome: { succeeded: true, revision: id, kv: rowToKeyValue(row) } satisfies WriteResult, rows: [{ row, prev: current }] };
      }
      case 'update': {
        if (op.lease !== 0 && !this.leases.has(op.lease)) return { outcome: new LeaseNotFoundError(op.lease), rows: [] };
        const current = log.latest(op.key, log.currentRevision);
        if (!current || current.deleted) return { outcome: this.failed(undefined), rows: [] };
        if (op.expectedModRevision > 0 && current.id !== op.expectedModRevision) return { outcome: this.failed(current), rows: [] };
        const id = log.currentRevision + 1;
        const row: LogRow = {
          id,
          name: op.key,
          created: false,
          deleted: false,
          createRevision: current.createRevision,
          prevRevision: current.id,
          lease: op.lease,
          value: op.value,
          version: current.version + 1,
        };
        log.append(row);
        return {
          outcome: { succeeded: true, revision: id, kv: rowToKeyValue(row), prevKv: rowToKeyValue(current) } satisfies WriteResult,
          rows: [{ row, prev: current }],
        };
      }
      case 'delete': {
        const current = log.latest(op.key, log.currentRevision);
        if (!current || current.deleted) return { outcome: this.failed(undefined), rows: [] };
        if (op.expectedModRevision > 0 && current.id !== op.expectedModRevision) return { outcome: this.failed(current), rows: [] };
        const row = this.appendTombstone(current);
        return {
          outcome: { succeeded: true, revision: row.id, kv: null, prevKv: rowToKeyValue(current) } satisfies WriteResult,
          rows: [{ row, prev: current }],
        };
      }
      case 'grantLease': {
        const record: LeaseRecord = { id: log.nextLeaseId(), ttlSeconds: op.ttlSeconds, expiresAt: this.clock.now() + op.ttlSeconds * 1000 };
        log.putLease(record);
        this.leases.set(record.id, record);
        return { outcome: record.id, rows: [] };
      }
      case 'keepAliveLease': {
        const record = this.leases.get(op.id);
        if (!record) return { outcome: new LeaseNotFoundError(op.id), rows: [] };
        const renewed = { ...record, expiresAt: this.clock.now() + record.ttlSeconds * 1000 };
        log.putLease(renewed);
        this.leases.set(op.id, renewed);
        return { outcome: undefined, rows: [] };
      }
      case 'revokeLease': {
        const record = this.leases.get(op.id);
        if (!record) return { outcome: op.onlyIfExpired ? undefined : new LeaseNotFoundError(op.id), rows: [] };
        if (op.onlyIfExpired && record.expiresAt > this.clock.now()) return { outcome: undefined, rows: [] };
        // One revision per deleted key: the log has exactly one row per revision.
        const rows = log.leased(op.id).map((current) => ({ row: this.appendTombstone(current), prev: current }));
        log.deleteLease(op.id);
        this.leases.delete(op.id);
        return { outcome: undefined, rows };
      }
      case 'compact': {
        if (op.revision > log.compactedRevision) log.compact(op.revision);
        return { outcome: undefined, rows: [] };
      }
    }
  }

  private appendTombstone(current: LogRow): LogRow {
    const row: LogRow = {
      id: this.log.currentRevision + 1,
      name: current.name,
      created: false,
      deleted: true,
      createRevision: current.createRevision,
      prevRevision: current.id,
      lease: 0,
      value: current.value,
      version: 0,
    };
    this.log.append(row);
    return row;
  }

  private failed(current: LogRow | undefined): WriteResult {
    return { succeeded: false, revision: this.log.currentRevision, current: current && !current.deleted ? rowToKeyValue(current) : null };
  }

  // ---- leases ----

  private reloadLeases(): void {
    this.leases = new Map(this.log.leases().map((lease) => [lease.id, lease]));
  }

  private armLeaseTimer(): void {
    if (this.leaseTimer) clearTimeout(this.leaseTimer);
    this.leaseTimer = undefined;
    if (this.closed || this.leases.size === 0) return;
    let earliest = Infinity;
    for (const lease of this.leases.values()) earliest = Math.min(earliest, lease.expiresAt);
    // Timers may fire a little early; the expiry op re-checks against the clock.
    const delay = Math.max(0, Math.min(earliest - this.clock.now(), 2 ** 31 - 1));
    this.leaseTimer = setTimeout(() => this.expireLeases(), delay);
    this.leaseTimer.unref();
  }

  private expireLeases(): void {
    this.leaseTimer = undefined;
    if (this.closed) return;
    const now = this.clock.now();
    let any = false;
    for (const lease of this.leases.values()) {
      if (lease.expiresAt <= now) {
        any = true;
        this.enqueue({ kind: 'revokeLease', id: lease.id, onlyIfExpired: true }).catch(() => {
          // The batch failed (I/O); the next timer round retries.
        });
      }
    }
    // With nothing due (an early timer), re-arm; otherwise the flush re-arms.
    if (!any) this.armLeaseTimer();
  }

  // ---- watches ----

  watch(prefix: string, options: WatchOptions, onEvents: (events: WatchEvent[]) => void, onError: (error: Error) => void): Watch {
    const end = prefixEnd(prefix);
    const matches = options.exact
      ? (key: string) => key === prefix
      : (key: string) => key >= prefix && (end === undefined || key < end);
    const current = this.log.currentRevision;
    const start = options.startRevision && options.startRevision > 0 ? options.startRevision : 0;
    const watch = new LogWatch(matches, start > 0 ? start : current + 1, onEvents, onError, (w) => this.watches.delete(w));
    if (this.closed) {
      watch.fail(new StoreUnavailableError(`${this.backend} store is closed`));
      return watch;
    }
    if (start > 0 && start < this.log.compactedRevision) {
      watch.fail(new CompactedError(start, this.log.compactedRevision));
      return watch;
    }
    if (start > 0 && start <= current) {
      const filter = options.exact ? { exactKey: prefix } : { start: prefix, end };
      watch.push(this.log.history(filter, start).map(({ row, prev }) => rowToEvent(row, prev)));
    }
    this.watches.add(watch);
    return watch;
  }

  private dispatch(rows: Array<{ row: LogRow; prev: LogRow | undefined }>): void {
    for (const watch of this.watches) {
      const events: WatchEvent[] = [];
      for (const { row, prev } of rows) {
        if (row.id >= watch.minRevision && watch.matches(row.name)) events.push(rowToEvent(row, prev));
      }
      watch.push(events);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // Acknowledge what was already accepted before closing the log.
    if (this.queue.length > 0) this.flush();
    this.closed = true;
    if (this.leaseTimer) clearTimeout(this.leaseTimer);
    for (const watch of [...this.watches]) watch.cancel();
    this.log.close();
  }
}
