// The append-only log of revisions that the embedded backends (memory, sqlite) keep, after
// kine's layout: one row per revision. A row is either a put (created=1 on the first write
// after absence) or a tombstone (deleted=1). A tombstone keeps the value of the object it
// deleted, so a DELETE watch event can still carry the last state after the previous row
// has been compacted away.
//
// The log is a dumb, synchronous store of rows; all MVCC rules (preconditions, revision
// numbering, compaction rules, leases, watch fan-out) live in LogStore so that both
// backends share exactly one implementation of the semantics.

export interface LogRow {
  /** The revision: strictly increasing, never reused. */
  id: number;
  name: string;
  created: boolean;
  deleted: boolean;
  createRevision: number;
  /** Revision of the previous row of the same key, 0 when none. */
  prevRevision: number;
  lease: number;
  value: string;
  /** Writes since creation; 0 on tombstones (as etcd reports for a deleted key). */
  version: number;
}

export interface LeaseRecord {
  id: number;
  ttlSeconds: number;
  /** Wall-clock milliseconds at which the lease expires unless kept alive. */
  expiresAt: number;
}

/** A key interval [start, end); end undefined = unbounded. */
export interface KeyInterval {
  start: string;
  end: string | undefined;
}

export interface RevisionLog {
  /** Highest revision ever written (or the initial revision of an empty log). */
  readonly currentRevision: number;
  readonly compactedRevision: number;

  /** Latest row of `name` with id <= revision (tombstones included). */
  latest(name: string, revision: number): LogRow | undefined;
  row(id: number): LogRow | undefined;
  /** Live (non-deleted) keys in the interval as of `revision`, by key byte order, at most `limit` (0 = all). */
  range(interval: KeyInterval, revision: number, limit: number): LogRow[];
  count(interval: KeyInterval, revision: number): number;
  /** Rows with id >= fromRevision in the interval (or of exactly `exactKey`), by id, each with its previous row. */
  history(filter: KeyInterval | { exactKey: string }, fromRevision: number): Array<{ row: LogRow; prev: LogRow | undefined }>;
  /** Current live rows attached to a lease. */
  leased(lease: number): LogRow[];

  /** Runs `fn` atomically and durably: either every append/lease change in it is persisted, or none. */
  transaction<T>(fn: () => T): T;
  append(row: LogRow): void;
  putLease(lease: LeaseRecord): void;
  deleteLease(id: number): void;
  leases(): LeaseRecord[];
  /** The next unused lease id (ids are never reused). */
  nextLeaseId(): number;
  /** Drop rows not needed to read or watch at revisions >= `revision` (see LogStore.compact). */
  compact(revision: number): void;

  sizeBytes(): number;
  close(): void;
}

/** The smallest string greater than every string starting with `prefix`; undefined for '' (no bound). */
export function prefixEnd(prefix: string): string | undefined {
  if (prefix === '') return undefined;
  // Keys are ASCII paths in practice; incrementing the last UTF-16 unit is exact for them.
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}
