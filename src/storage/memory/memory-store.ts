// The in-memory backend: the same LogStore semantics over a RevisionLog held in maps.
// For tests and for the reference behaviour; nothing survives the process.

import { LogStore, type Clock } from '../log/log-store.js';
import type { KeyInterval, LeaseRecord, LogRow, RevisionLog } from '../log/revision-log.js';

/** Like etcd, an empty store is at revision 1 and the first write gets revision 2. */
const INITIAL_REVISION = 1;

function inInterval(name: string, interval: KeyInterval): boolean {
  return name >= interval.start && (interval.end === undefined || name < interval.end);
}

export class MemoryRevisionLog implements RevisionLog {
  currentRevision = INITIAL_REVISION;
  compactedRevision = 0;
  private readonly rows = new Map<number, LogRow>();
  /** Row ids of each key, ascending. */
  private readonly byName = new Map<string, number[]>();
  private readonly leaseRecords = new Map<number, LeaseRecord>();
  private lastLeaseId = 0;
  private approximateBytes = 0;

  latest(name: string, revision: number): LogRow | undefined {
    const ids = this.byName.get(name);
    if (!ids) return undefined;
    for (let i = ids.length - 1; i >= 0; i--) {
      if (ids[i]! <= revision) return this.rows.get(ids[i]!);
    }
    return undefined;
  }

  row(id: number): LogRow | undefined {
    return this.rows.get(id);
  }

  private liveRows(interval: KeyInterval, revision: number): LogRow[] {
    const names = [...this.byName.keys()].filter((name) => inInterval(name, interval)).sort();
    const result: LogRow[] = [];
    for (const name of names) {
      const row = this.latest(name, revision);
      if (row && !row.deleted) result.push(row);
    }
    return result;
  }

  range(interval: KeyInterval, revision: number, limit: number): LogRow[] {
    const rows = this.liveRows(interval, revision);
    return limit > 0 ? rows.slice(0, limit) : rows;
  }

  count(interval: KeyInterval, revision: number): number {
    return this.liveRows(interval, revision).length;
  }

  history(filter: KeyInterval | { exactKey: string }, fromRevision: number): Array<{ row: LogRow; prev: LogRow | undefined }> {
    const result: Array<{ row: LogRow; prev: LogRow | undefined }> = [];
    for (const [name, ids] of this.byName) {
      if ('exactKey' in filter ? name !== filter.exactKey : !inInterval(name, filter)) continue;
      for (const id of ids) {
        if (id < fromRevision) continue;
        const row = this.rows.get(id)!;
        result.push({ row, prev: row.prevRevision ? this.rows.get(row.prevRevision) : undefined });
      }
    }
    return result.sort((a, b) => a.row.id - b.row.id);
  }

  leased(lease: number): LogRow[] {
    const result: LogRow[] = [];
    for (const ids of this.byName.values()) {
      const row = this.rows.get(ids[ids.length - 1]!)!;
      if (!row.deleted && row.lease === lease) result.push(row);
    }
    return result;
  }

  transaction<T>(fn: () => T): T {
    // Same all-or-nothing contract as sqlite, so LogStore's error path behaves alike.
    const revision = this.currentRevision;
    const leases = new Map(this.leaseRecords);
    const lastLeaseId = this.lastLeaseId;
    try {
      return fn();
    } catch (error) {
      for (const [id, row] of [...this.rows].filter(([id]) => id > revision)) {
        this.rows.delete(id);
        const ids = this.byName.get(row.name)!.filter((other) => other !== id);
        if (ids.length === 0) this.byName.delete(row.name);
        else this.byName.set(row.name, ids);
      }
      this.currentRevision = revision;
      this.leaseRecords.clear();
      for (const [id, lease] of leases) this.leaseRecords.set(id, lease);
      this.lastLeaseId = lastLeaseId;
      throw error;
    }
  }

  append(row: LogRow): void {
    if (row.id <= this.currentRevision) throw new Error(`revision ${row.id} is not after ${this.currentRevision}`);
    this.rows.set(row.id, row);
    const ids = this.byName.get(row.name);
    if (ids) ids.push(row.id);
    else this.byName.set(row.name, [row.id]);
    this.currentRevision = row.id;
    this.approximateBytes += row.name.length + row.value.length + 64;
  }

  putLease(lease: LeaseRecord): void {
    this.leaseRecords.set(lease.id, lease);
    this.lastLeaseId = Math.max(this.lastLeaseId, lease.id);
  }

  deleteLease(id: number): void {
    this.leaseRecords.delete(id);
  }

  leases(): LeaseRecord[] {
    return [...this.leaseRecords.values()];
  }

  nextLeaseId(): number {
    return this.lastLeaseId + 1;
  }

  compact(revision: number): void {
    for (const [name, ids] of this.byName) {
      // Keep, per key, everything from the last row before `revision` on: it answers reads at
      // `revision` and is the prevKv of the first event at or after it. Older rows, and a
      // tombstone that is itself that last row, are dropped.
      let lastBefore = -1;
      for (let i = 0; i < ids.length && ids[i]! < revision; i++) lastBefore = i;
      if (lastBefore < 0) continue;
      let dropUpTo = lastBefore - 1;
      if (this.rows.get(ids[lastBefore]!)!.deleted) dropUpTo = lastBefore;
      for (let i = 0; i <= dropUpTo; i++) {
        const row = this.rows.get(ids[i]!)!;
        this.approximateBytes -= row.name.length + row.value.length + 64;
        this.rows.delete(ids[i]!);
      }
      const kept = ids.slice(dropUpTo + 1);
      if (kept.length === 0) this.byName.delete(name);
      else this.byName.set(name, kept);
    }
    this.compactedRevision = revision;
  }

  sizeBytes(): number {
    return this.approximateBytes;
  }

  close(): void {}
}

export interface MemoryStoreOptions {
  clock?: Clock;
}

export function createMemoryStore(options: MemoryStoreOptions = {}): LogStore {
  return new LogStore(new MemoryRevisionLog(), { backend: 'memory', clock: options.clock });
}
