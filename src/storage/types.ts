// The storage contract. Only the API server talks to a Store.
//
// Modelled on the etcd v3 key-value API, reduced to what an API server needs (the same
// cut kine makes): one global, strictly increasing revision; every write creates a new
// revision; each key remembers the revision that created it and the one that last
// modified it. `metadata.resourceVersion` of an API object is the `modRevision` of its key.
//
// Every backend (memory, sqlite, etcd) must pass `contract.test-suite.ts` unchanged.

export interface KeyValue {
  key: string;
  /** Serialized object (JSON text for API objects). */
  value: string;
  /** Revision at which the key was created (reset after delete + re-create). */
  createRevision: number;
  /** Revision of the last write to the key. This becomes metadata.resourceVersion. */
  modRevision: number;
  /** Number of writes since creation (1 after create). */
  version: number;
  /** Lease id the key is attached to, 0 when none. */
  lease: number;
}

export interface RangeOptions {
  /** Return keys >= startKey (used for paging with `continue`). Defaults to the prefix itself. */
  startKey?: string;
  /** At most this many keys; `more` tells whether more exist. 0/undefined = unlimited. */
  limit?: number;
  /** Read at this revision (MVCC snapshot). Errors with CompactedError if compacted, FutureRevisionError if > current. */
  revision?: number;
  /** Only count, return no kvs. */
  countOnly?: boolean;
}

export interface RangeResult {
  kvs: KeyValue[];
  /** True when the limit cut the result. */
  more: boolean;
  /** Total number of keys matching the prefix from startKey (at that revision). */
  count: number;
  /** The revision the read was served at (current revision when none was asked). */
  revision: number;
}

export type WriteResult =
  | { succeeded: true; revision: number; kv: KeyValue | null; prevKv?: KeyValue }
  /** The precondition failed: `current` is the key as it is now (null when absent). */
  | { succeeded: false; revision: number; current: KeyValue | null };

export interface WatchEvent {
  type: 'PUT' | 'DELETE';
  /** For DELETE: key with modRevision = revision of the delete and value of the deleted object. */
  kv: KeyValue;
  /** The previous value; always present on DELETE, present on PUT when the key existed. */
  prevKv?: KeyValue;
}

export interface WatchOptions {
  /** Deliver every event with revision >= startRevision (an etcd-style watch "from").
   *  0/undefined = only future events. If startRevision < compacted revision: onError(CompactedError)
   *  (as in etcd: the compacted revision itself is still readable and watchable). */
  startRevision?: number;
  /** Watch exactly this key instead of a prefix. */
  exact?: boolean;
}

export interface Watch {
  /** Stop delivering events. Idempotent. */
  cancel(): void;
}

export interface Store {
  /** Name of the backend, for metrics and logs ("sqlite", "etcd", "memory"). */
  readonly backend: string;

  get(key: string, options?: { revision?: number }): Promise<{ kv: KeyValue | null; revision: number }>;

  /** All keys starting with `prefix`, in byte order of key. */
  range(prefix: string, options?: RangeOptions): Promise<RangeResult>;

  /** Create if absent. Fails (succeeded=false) if the key exists. */
  create(key: string, value: string, options?: { lease?: number }): Promise<WriteResult>;

  /** Compare-and-swap on modRevision. Fails if absent or modRevision differs.
   *  `expectedModRevision` 0 means "any existing version". */
  update(key: string, value: string, expectedModRevision: number, options?: { lease?: number }): Promise<WriteResult>;

  /** Delete; with expectedModRevision > 0 only if it still matches. Fails if absent. */
  delete(key: string, expectedModRevision?: number): Promise<WriteResult>;

  /** Ordered events (strictly increasing revision, grouped per revision) for keys under prefix. */
  watch(prefix: string, options: WatchOptions, onEvents: (events: WatchEvent[]) => void, onError: (error: Error) => void): Watch;

  /** Current (latest) revision. */
  currentRevision(): Promise<number>;

  /** Revision below which history has been dropped (0 if never compacted). */
  compactedRevision(): Promise<number>;

  /** Drop history older than `revision` (values superseded before it and deleted keys). */
  compact(revision: number): Promise<void>;

  /** A lease; keys attached to it are deleted (with watch DELETE events) when it expires unrenewed. */
  grantLease(ttlSeconds: number): Promise<number>;
  keepAliveLease(id: number): Promise<void>;
  revokeLease(id: number): Promise<void>;

  /** Size of the database in bytes, for /metrics (0 if unknown). */
  sizeBytes(): Promise<number>;

  close(): Promise<void>;
}

/** The requested revision has been compacted away (maps to HTTP 410 Gone). */
export class CompactedError extends Error {
  constructor(public readonly requested: number, public readonly compacted: number) {
    super(`required revision ${requested} has been compacted (compacted revision ${compacted})`);
    this.name = 'CompactedError';
  }
}

/** The requested revision is newer than the store's current revision. */
export class FutureRevisionError extends Error {
  constructor(public readonly requested: number, public readonly current: number) {
    super(`required revision ${requested} is a future revision (current ${current})`);
    this.name = 'FutureRevisionError';
  }
}

/** The backend cannot be reached (maps to 503 and a failing /readyz). */
export class StoreUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreUnavailableError';
  }
}

/** The lease does not exist (never granted, revoked, or expired). */
export class LeaseNotFoundError extends Error {
  constructor(public readonly lease: number) {
    super(`requested lease not found: ${lease}`);
    this.name = 'LeaseNotFoundError';
  }
}
