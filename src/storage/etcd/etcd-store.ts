// The HA backend: the Store contract over a real etcd v3 cluster, through the etcd3 client's
// raw gRPC stubs (KV, Lease, Watch). Several navarch servers can share one etcd; revisions,
// compare-and-swap, watches and compaction are etcd's own, so this file only translates.
//
// Every key is stored under `namespace` (like kube-apiserver's --etcd-prefix), which lets
// several clusters or test runs share one etcd. Revisions and compaction stay global to etcd.

import { ClientClosedError, Etcd3, GRPCGenericError, type IOptions, type IKeyValue, type IRangeRequest, type IResponseHeader, type IWatchResponse } from 'etcd3';
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
import { prefixEnd } from '../log/revision-log.js';

export interface EtcdStoreOptions {
  /** Client URLs, e.g. ["http://127.0.0.1:2379"]. */
  endpoints: string[];
  /** Prepended to every key (and stripped from every result). Default "". */
  namespace?: string;
  /** Deadline for each unary request, in milliseconds. Default 10 s. */
  requestTimeoutMs?: number;
  /** Lease ids are chosen by us, within JavaScript's exact integer range (etcd's own ids are 64-bit). */
  leaseIdSource?: () => number;
}

const COMPACTED = 'required revision has been compacted';
const FUTURE = 'required revision is a future revision';
const LEASE_NOT_FOUND = 'requested lease not found';
const LEASE_EXISTS = 'lease already exists';
/** A key that sorts before every real key; used for revision-only requests. */
const PROBE_KEY = Buffer.from([0]);

// etcd3 retries "recoverable" failures up to 3 times by default. A retried transaction whose first
// attempt did commit would come back as a false conflict (or a false AlreadyExists), so requests go
// out exactly once and the caller decides about retrying. Nothing aborts a sent request (its
// deadline does), so every call shares one signal instead of allocating a controller each.
const neverAborted = new AbortController().signal;
const sendOnce = {
  execute: <T>(fn: (context: { signal: AbortSignal }) => PromiseLike<T> | T): Promise<T> => Promise.resolve().then(() => fn({ signal: neverAborted })),
} as unknown as NonNullable<NonNullable<IOptions['faultHandling']>['global']>;

function randomLeaseId(): number {
  // 52 random bits, never 0 (0 means "no lease" to etcd).
  return Math.floor(Math.random() * (2 ** 52 - 1)) + 1;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class EtcdStore implements Store {
  readonly backend = 'etcd';
  private readonly client: Etcd3;
  private readonly namespace: string;
  private readonly namespaceBytes: number;
  private readonly timeoutMs: number;
  private readonly leaseIdSource: () => number;
  private knownCompacted = 0;
  private readonly watches = new Set<EtcdWatch>();
  private closed = false;

  constructor(options: EtcdStoreOptions) {
    this.client = new Etcd3({ hosts: options.endpoints, dialTimeout: options.requestTimeoutMs ?? 10_000, faultHandling: { global: sendOnce } });
    this.namespace = options.namespace ?? '';
    this.namespaceBytes = Buffer.byteLength(this.namespace);
    this.timeoutMs = options.requestTimeoutMs ?? 10_000;
    this.leaseIdSource = options.leaseIdSource ?? randomLeaseId;
  }

  private call() {
    return { deadline: Date.now() + this.timeoutMs };
  }

  private key(key: string): Buffer {
    return Buffer.from(this.namespace + key);
  }

  /** [start, end) of every key under `prefix`, in etcd's byte terms. */
  private interval(prefix: string): { key: Buffer; range_end: Buffer } {
    const end = prefixEnd(this.namespace + prefix);
    // etcd spells "to the end of the keyspace" as range_end "\0".
    return { key: this.key(prefix === '' && this.namespace === '' ? '\0' : prefix), range_end: end === undefined ? Buffer.from([0]) : Buffer.from(end) };
  }

  private toKeyValue(kv: IKeyValue): KeyValue {
    return {
      key: kv.key.subarray(this.namespaceBytes).toString(),
      value: kv.value.toString(),
      createRevision: Number(kv.create_revision),
      modRevision: Number(kv.mod_revision),
      version: Number(kv.version),
      lease: Number(kv.lease),
    };
  }

  private ensureOpen(): void {
    if (this.closed) throw new StoreUnavailableError('etcd store is closed');
  }

  /** Translates etcd/gRPC failures into the contract's errors. */
  private async translate(error: unknown, context: { revision?: number; lease?: number } = {}): Promise<Error> {
    if (error instanceof CompactedError || error instanceof FutureRevisionError || error instanceof LeaseNotFoundError || error instanceof StoreUnavailableError) {
      return error;
    }
    const text = message(error);
    if (text.includes(COMPACTED)) return new CompactedError(context.revision ?? 0, await this.compactedRevision().catch(() => 0));
    if (text.includes(FUTURE)) return new FutureRevisionError(context.revision ?? 0, await this.currentRevision().catch(() => 0));
    if (text.includes(LEASE_NOT_FOUND)) return new LeaseNotFoundError(context.lease ?? 0);
    // Transport-level failures (unreachable, deadline, open circuit breaker, closed client): the store cannot answer.
    if (
      error instanceof GRPCGenericError ||
      error instanceof ClientClosedError ||
      (error instanceof Error && (error.name === 'BrokenCircuitError' || error.name === 'TaskCancelledError'))
    ) {
      return new StoreUnavailableError(`etcd unavailable: ${text}`);
    }
    return error instanceof Error ? error : new Error(text);
  }

  private async guard<T>(fn: () => Promise<T>, context?: { revision?: number; lease?: number }): Promise<T> {
    this.ensureOpen();
    try {
      return await fn();
    } catch (error) {
      throw await this.translate(error, context);
    }
  }

  async get(key: string, options?: { revision?: number }): Promise<{ kv: KeyValue | null; revision: number }> {
    const revision = options?.revision ?? 0;
    return this.guard(
      async () => {
        const res = await this.client.kv.range({ key: this.key(key), revision }, this.call());
        const kv = res.kvs[0];
        return { kv: kv ? this.toKeyValue(kv) : null, revision: revision || Number(res.header.revision) };
      },
      { revision },
    );
  }

  async range(prefix: string, options: RangeOptions = {}): Promise<RangeResult> {
    const revision = options.revision ?? 0;
    return this.guard(
      async () => {
        const interval = this.interval(prefix);
        const request: IRangeRequest = { ...interval, revision };
        if (options.startKey !== undefined && options.startKey > prefix) request.key = this.key(options.startKey);
        if (options.countOnly) request.count_only = true;
        else if (options.limit && options.limit > 0) request.limit = options.limit;
        const res = await this.client.kv.range(request, this.call());
        return {
          kvs: options.countOnly ? [] : res.kvs.map((kv) => this.toKeyValue(kv)),
          more: options.countOnly ? false : res.more,
          count: Number(res.count),
          revision: revision || Number(res.header.revision),
        };
      },
      { revision },
    );
  }

  private async transaction(
    key: string,
    compare: { target: 'Create' | 'Mod' | 'Version'; result: 'Equal' | 'Greater'; value: number },
    success: 'put' | 'delete',
    value: string,
    lease: number,
  ): Promise<{ header: IResponseHeader; succeeded: boolean; prev?: IKeyValue; current?: IKeyValue }> {
    const k = this.key(key);
    const comparison =
      compare.target === 'Create'
        ? { key: k, target: 'Create' as const, result: compare.result, create_revision: compare.value }
        : compare.target === 'Mod'
          ? { key: k, target: 'Mod' as const, result: compare.result, mod_revision: compare.value }
          : { key: k, target: 'Version' as const, result: compare.result, version: compare.value };
    const res = await this.client.kv.txn(
      {
        compare: [comparison],
        success: [
          success === 'put'
            ? { request_put: { key: k, value: Buffer.from(value), lease, prev_kv: true } }
            : { request_delete_range: { key: k, prev_kv: true } },
        ],
        failure: [{ request_range: { key: k } }],
      },
      this.call(),
    );
    const response = res.responses[0];
    if (!res.succeeded) return { header: res.header, succeeded: false, current: response?.response_range?.kvs[0] };
    const prev = success === 'put' ? response?.response_put?.prev_kv : response?.response_delete_range?.prev_kvs[0];
    return { header: res.header, succeeded: true, prev: prev ?? undefined };
  }

  private failed(header: IResponseHeader, current: IKeyValue | undefined): WriteResult {
    return { succeeded: false, revision: Number(header.revision), current: current ? this.toKeyValue(current) : null };
  }

  async create(key: string, value: string, options?: { lease?: number }): Promise<WriteResult> {
    const lease = options?.lease ?? 0;
    return this.guard(
      async () => {
        const res = await this.transaction(key, { target: 'Create', result: 'Equal', value: 0 }, 'put', value, lease);
        if (!res.succeeded) return this.failed(res.header, res.current);
        const revision = Number(res.header.revision);
        return { succeeded: true, revision, kv: { key, value, createRevision: revision, modRevision: revision, version: 1, lease } };
      },
      { lease },
    );
  }

  async update(key: string, value: string, expectedModRevision: number, options?: { lease?: number }): Promise<WriteResult> {
    const lease = options?.lease ?? 0;
    return this.guard(
      async () => {
        const compare =
          expectedModRevision > 0
            ? ({ target: 'Mod', result: 'Equal', value: expectedModRevision } as const)
            : ({ target: 'Version', result: 'Greater', value: 0 } as const);
        const res = await this.transaction(key, compare, 'put', value, lease);
        if (!res.succeeded) return this.failed(res.header, res.current);
        const revision = Number(res.header.revision);
        const prevKv = res.prev ? this.toKeyValue(res.prev) : undefined;
        return {
          succeeded: true,
          revision,
          kv: { key, value, createRevision: prevKv?.createRevision ?? revision, modRevision: revision, version: (prevKv?.version ?? 0) + 1, lease },
          prevKv,
        };
      },
      { lease },
    );
  }

  async delete(key: string, expectedModRevision = 0): Promise<WriteResult> {
    return this.guard(async () => {
      const compare =
        expectedModRevision > 0
          ? ({ target: 'Mod', result: 'Equal', value: expectedModRevision } as const)
          : ({ target: 'Version', result: 'Greater', value: 0 } as const);
      const res = await this.transaction(key, compare, 'delete', '', 0);
      if (!res.succeeded) return this.failed(res.header, res.current);
      return { succeeded: true, revision: Number(res.header.revision), kv: null, prevKv: res.prev ? this.toKeyValue(res.prev) : undefined };
    });
  }

  async currentRevision(): Promise<number> {
    return this.guard(async () => {
      const res = await this.client.kv.range({ key: PROBE_KEY, count_only: true }, this.call());
      return Number(res.header.revision);
    });
  }

  /** etcd does not report its compaction point directly, but a read below it fails: binary-search it. */
  async compactedRevision(): Promise<number> {
    this.ensureOpen();
    const readable = async (revision: number): Promise<boolean> => {
      try {
        await this.client.kv.range({ key: PROBE_KEY, count_only: true, revision }, this.call());
        return true;
      } catch (error) {
        if (message(error).includes(COMPACTED)) return false;
        throw await this.translate(error);
      }
    };
    let low = Math.max(1, this.knownCompacted);
    if (await readable(low)) return this.knownCompacted;
    let high = await this.currentRevision(); // always readable
    // Invariant: low is not readable, high is.
    while (high - low > 1) {
      const middle = Math.floor((low + high) / 2);
      if (await readable(middle)) high = middle;
      else low = middle;
    }
    this.knownCompacted = Math.max(this.knownCompacted, high);
    return high;
  }

  async compact(revision: number): Promise<void> {
    await this.guard(
      async () => {
        try {
          await this.client.kv.compact({ revision, physical: true }, this.call());
          this.knownCompacted = Math.max(this.knownCompacted, revision);
        } catch (error) {
          // Already compacted at or past this revision: nothing to do.
          if (message(error).includes(COMPACTED)) return;
          throw error;
        }
      },
      { revision },
    );
  }

  async grantLease(ttlSeconds: number): Promise<number> {
    if (!(ttlSeconds > 0)) throw new RangeError(`lease TTL must be positive, got ${ttlSeconds}`);
    return this.guard(async () => {
      for (let attempt = 0; ; attempt++) {
        const id = this.leaseIdSource();
        try {
          await this.client.leaseClient.leaseGrant({ TTL: Math.ceil(ttlSeconds), ID: id }, this.call());
          return id;
        } catch (error) {
          if (!message(error).includes(LEASE_EXISTS) || attempt >= 5) throw error;
        }
      }
    });
  }

  async keepAliveLease(id: number): Promise<void> {
    return this.guard(
      async () => {
        const stream = await this.client.leaseClient.leaseKeepAlive();
        try {
          const ttl = await new Promise<string>((resolve, reject) => {
            const timer = setTimeout(() => reject(new StoreUnavailableError('etcd lease keep-alive timed out')), this.timeoutMs);
            stream.on('data', (res) => {
              clearTimeout(timer);
              resolve(res.TTL);
            });
            stream.on('error', (error) => {
              clearTimeout(timer);
              reject(error);
            });
            stream.write({ ID: id });
          });
          // etcd answers a keep-alive of an unknown or expired lease with TTL 0.
          if (Number(ttl) <= 0) throw new LeaseNotFoundError(id);
        } finally {
          stream.cancel();
        }
      },
      { lease: id },
    );
  }

  async revokeLease(id: number): Promise<void> {
    await this.guard(() => this.client.leaseClient.leaseRevoke({ ID: id }, this.call()), { lease: id });
  }

  async sizeBytes(): Promise<number> {
    return this.guard(async () => Number((await this.client.maintenance.status(this.call())).dbSize));
  }

  watch(prefix: string, options: WatchOptions, onEvents: (events: WatchEvent[]) => void, onError: (error: Error) => void): Watch {
    const watch = new EtcdWatch(
      (w) => this.watches.delete(w),
      (kv) => this.toKeyValue(kv),
      options.startRevision ?? 0,
      onEvents,
      onError,
    );
    if (this.closed) {
      watch.fail(new StoreUnavailableError('etcd store is closed'));
      return watch;
    }
    this.watches.add(watch);
    const range = options.exact ? { key: this.key(prefix) } : this.interval(prefix);
    void watch.start(this.client, { ...range, start_revision: options.startRevision ?? 0, prev_kv: true });
    return watch;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const watch of [...this.watches]) watch.cancel();
    this.client.close();
  }
}

type Stream = Awaited<ReturnType<Etcd3['watchClient']['watch']>>;

/** One etcd watch stream per Watch: no shared reconnect logic to hide gaps behind. */
class EtcdWatch implements Watch {
  private cancelled = false;
  private stream: Stream | undefined;

  constructor(
    private readonly detach: (watch: EtcdWatch) => void,
    private readonly toKeyValue: (kv: IKeyValue) => KeyValue,
    private readonly startRevision: number,
    private readonly onEvents: (events: WatchEvent[]) => void,
    private readonly onError: (error: Error) => void,
  ) {}

  async start(client: Etcd3, request: { key: Buffer; range_end?: Buffer; start_revision: number; prev_kv: boolean }): Promise<void> {
    try {
      const stream = await client.watchClient.watch();
      if (this.cancelled) {
        stream.cancel();
        return;
      }
      this.stream = stream;
      stream.on('data', (res) => this.receive(res));
      stream.on('error', (error) => this.fail(new StoreUnavailableError(`etcd watch failed: ${message(error)}`)));
      stream.on('end', () => this.fail(new StoreUnavailableError('etcd watch stream ended')));
      stream.write({ create_request: request });
    } catch (error) {
      this.fail(new StoreUnavailableError(`etcd watch failed: ${message(error)}`));
    }
  }

  private receive(res: IWatchResponse): void {
    if (this.cancelled) return;
    if (res.canceled) {
      const compacted = Number(res.compact_revision);
      this.fail(compacted > 0 ? new CompactedError(this.startRevision, compacted) : new Error(`etcd canceled the watch: ${res.cancel_reason}`));
      return;
    }
    if (!res.events || res.events.length === 0) return;
    const events = res.events.map((event): WatchEvent => {
      const kv = this.toKeyValue(event.kv);
      const prevKv = event.prev_kv ? this.toKeyValue(event.prev_kv) : undefined;
      if (event.type === 'Delete') {
        // etcd's delete event has an empty value; the contract carries the deleted object.
        const deleted: KeyValue = { key: kv.key, value: prevKv?.value ?? '', createRevision: prevKv?.createRevision ?? 0, modRevision: kv.modRevision, version: 0, lease: 0 };
        return { type: 'DELETE', kv: deleted, prevKv: prevKv ?? { ...deleted } };
      }
      return prevKv ? { type: 'PUT', kv, prevKv } : { type: 'PUT', kv };
    });
    try {
      this.onEvents(events);
    } catch (error) {
      this.fail(error instanceof Error ? error : new Error(String(error)));
    }
  }

  fail(error: Error): void {
    if (this.cancelled) return;
    this.cancel();
    queueMicrotask(() => this.onError(error));
  }

  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.detach(this);
    this.stream?.cancel();
  }
}

/** Connects and checks that etcd answers, so a wrong endpoint fails at startup, not at first request. */
export async function openEtcdStore(options: EtcdStoreOptions): Promise<EtcdStore> {
  const store = new EtcdStore(options);
  try {
    await store.currentRevision();
  } catch (error) {
    await store.close();
    throw error instanceof StoreUnavailableError ? error : new StoreUnavailableError(`cannot reach etcd at ${options.endpoints.join(',')}: ${message(error)}`);
  }
  return store;
}
