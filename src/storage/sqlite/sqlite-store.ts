// The default embedded datastore: the revision log in one SQLite file (better-sqlite3).
//
// Durability: WAL journal with synchronous=FULL, so a write is in the WAL and fsynced before
// its promise resolves; it survives kill -9 and power loss. LogStore's group commit keeps
// this fast by sharing one commit among every write that arrives in the same tick.
//
// Ownership: the file is opened with locking_mode=EXCLUSIVE, so exactly one server owns it
// (a second one fails at open instead of corrupting watches, which are served in-process).

import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { LogStore, type Clock } from '../log/log-store.js';
import type { KeyInterval, LeaseRecord, LogRow, RevisionLog } from '../log/revision-log.js';

const INITIAL_REVISION = 1;
const SCHEMA_VERSION = 1;

interface RowRecord {
  id: number;
  name: string;
  created: number;
  deleted: number;
  create_revision: number;
  prev_revision: number;
  lease: number;
  value: string;
  version: number;
}

function toRow(record: RowRecord): LogRow {
  return {
    id: record.id,
    name: record.name,
    created: record.created === 1,
    deleted: record.deleted === 1,
    createRevision: record.create_revision,
    prevRevision: record.prev_revision,
    lease: record.lease,
    value: record.value,
    version: record.version,
  };
}

/** The file cannot be used as a datastore; the message tells the operator what to do. */
export class DatastoreOpenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatastoreOpenError';
  }
}

function sqliteCode(error: unknown): string {
  return typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : '';
}

export type Synchronous = 'FULL' | 'NORMAL';

export interface SqliteOpenOptions {
  /** FULL (default) survives power loss; NORMAL survives a process crash only. */
  synchronous?: Synchronous;
  /** Skip PRAGMA quick_check at open (it reads the whole file). */
  skipIntegrityCheck?: boolean;
}

export class SqliteRevisionLog implements RevisionLog {
  currentRevision: number;
  compactedRevision: number;
  private lastLeaseId: number;
  readonly db: Database.Database;
  private readonly statements;

  constructor(readonly file: string, options: SqliteOpenOptions = {}) {
    const restoreHint = `Restore the last good snapshot with 'navarch snapshot restore' (or move the file away to start empty).`;
    const isNew = !fs.existsSync(file) || fs.statSync(file).size === 0;
    if (isNew) fs.mkdirSync(path.dirname(file), { recursive: true });
    let db: Database.Database;
    try {
      // One owner per file: waiting on a lock would only delay the "in use" error.
      db = new Database(file, { timeout: 100 });
    } catch (error) {
      throw new DatastoreOpenError(`cannot open sqlite datastore ${file}: ${(error as Error).message}`);
    }
    try {
      // Must precede the first read so the WAL index lives in process memory, not in a shared file.
      db.pragma('locking_mode = EXCLUSIVE');
      if (!options.skipIntegrityCheck && !isNew) {
        const problems = (db.pragma('quick_check') as Array<{ quick_check: string }>).map((r) => r.quick_check);
        if (problems.length !== 1 || problems[0] !== 'ok') {
          throw new DatastoreOpenError(`sqlite datastore ${file} is corrupt (quick_check: ${problems.slice(0, 5).join('; ')}). ${restoreHint}`);
        }
      }
      // auto_vacuum only takes effect before the first table exists.
      if (isNew) db.pragma('auto_vacuum = INCREMENTAL');
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
      // Take the write lock now: a second server on the same file fails here, clearly.
      db.exec('BEGIN EXCLUSIVE; COMMIT;');
      db.exec(`
        CREATE TABLE IF NOT EXISTS kv (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          name TEXT NOT NULL,
          created INTEGER NOT NULL,
          deleted INTEGER NOT NULL,
          create_revision INTEGER NOT NULL,
          prev_revision INTEGER NOT NULL,
          lease INTEGER NOT NULL,
          value TEXT NOT NULL,
          version INTEGER NOT NULL
        );
        CREATE INDEX IF NOT EXISTS kv_name_id ON kv (name, id);
        CREATE INDEX IF NOT EXISTS kv_lease ON kv (lease) WHERE lease != 0;
        CREATE TABLE IF NOT EXISTS leases (id INTEGER PRIMARY KEY, ttl INTEGER NOT NULL, expires_at INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
        INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ${SCHEMA_VERSION}), ('compacted_revision', 0), ('last_lease_id', 0);
      `);
    } catch (error) {
      db.close();
      if (error instanceof DatastoreOpenError) throw error;
      const code = sqliteCode(error);
      if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
        throw new DatastoreOpenError(`sqlite datastore ${file} is in use by another process (one navarch server owns it); stop that server or use another --data-dir`);
      }
      if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
        throw new DatastoreOpenError(`sqlite datastore ${file} is corrupt or not a database (${(error as Error).message}). ${restoreHint}`);
      }
      throw new DatastoreOpenError(`cannot open sqlite datastore ${file}: ${(error as Error).message}`);
    }
    this.db = db;
    const meta = (key: string) => (db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: number }).value;
    const schema = meta('schema_version');
    if (schema !== SCHEMA_VERSION) {
      db.close();
      throw new DatastoreOpenError(`sqlite datastore ${file} has schema version ${schema}; this navarch understands ${SCHEMA_VERSION}`);
    }
    const sequence = db.prepare(`SELECT seq FROM sqlite_sequence WHERE name = 'kv'`).get() as { seq: number } | undefined;
    this.currentRevision = Math.max(INITIAL_REVISION, sequence?.seq ?? 0);
    this.compactedRevision = meta('compacted_revision');
    this.lastLeaseId = meta('last_lease_id');

    // Two variants of each interval query: an `(@end IS NULL OR name < @end)` test would stop
    // SQLite from bounding the index scan, turning every prefix range into a scan to the end.
    const live = (bounded: boolean) =>
      `SELECT kv.* FROM (SELECT MAX(id) AS id FROM kv WHERE name >= @start ${bounded ? 'AND name < @end' : ''} AND id <= @revision GROUP BY name) AS latest
       JOIN kv ON kv.id = latest.id WHERE kv.deleted = 0`;
    const variants = (sql: (bounded: boolean) => string) => ({ bounded: db.prepare(sql(true)), unbounded: db.prepare(sql(false)) });
    this.statements = {
      latest: db.prepare('SELECT * FROM kv WHERE name = ? AND id <= ? ORDER BY id DESC LIMIT 1'),
      row: db.prepare('SELECT * FROM kv WHERE id = ?'),
      range: variants((bounded) => `${live(bounded)} ORDER BY kv.name LIMIT @limit`),
      count: variants((bounded) => `SELECT COUNT(*) AS n FROM (${live(bounded)})`),
      historyInterval: variants(
        (bounded) => `SELECT * FROM kv WHERE id >= @from AND name >= @start ${bounded ? 'AND name < @end' : ''} ORDER BY id`,
      ),
      historyKey: db.prepare('SELECT * FROM kv WHERE name = ? AND id >= ? ORDER BY id'),
      leased: db.prepare(
        'SELECT kv.* FROM kv WHERE lease = ? AND deleted = 0 AND id = (SELECT MAX(k2.id) FROM kv AS k2 WHERE k2.name = kv.name) ORDER BY kv.name',
      ),
      insert: db.prepare(
        `INSERT INTO kv (id, name, created, deleted, create_revision, prev_revision, lease, value, version)
         VALUES (@id, @name, @created, @deleted, @createRevision, @prevRevision, @lease, @value, @version)`,
      ),
      putLease: db.prepare('INSERT OR REPLACE INTO leases (id, ttl, expires_at) VALUES (?, ?, ?)'),
      deleteLease: db.prepare('DELETE FROM leases WHERE id = ?'),
      leases: db.prepare('SELECT id, ttl, expires_at FROM leases'),
      setMeta: db.prepare('UPDATE meta SET value = ? WHERE key = ?'),
      // A row older than the compaction revision survives only if it is the key's last row
      // before that revision and not a tombstone: it answers reads at the compaction revision
      // and is the prevKv of the key's first later event.
      compact: db.prepare(
        `DELETE FROM kv WHERE id < @revision AND (deleted = 1 OR id < (SELECT MAX(k2.id) FROM kv AS k2 WHERE k2.name = kv.name AND k2.id < @revision))`,
      ),
    };
  }

  latest(name: string, revision: number): LogRow | undefined {
    const record = this.statements.latest.get(name, revision) as RowRecord | undefined;
    return record && toRow(record);
  }

  row(id: number): LogRow | undefined {
    const record = this.statements.row.get(id) as RowRecord | undefined;
    return record && toRow(record);
  }

  range(interval: KeyInterval, revision: number, limit: number): LogRow[] {
    const params = { start: interval.start, revision, limit: limit > 0 ? limit : -1 };
    const records = (
      interval.end === undefined ? this.statements.range.unbounded.all(params) : this.statements.range.bounded.all({ ...params, end: interval.end })
    ) as RowRecord[];
    return records.map(toRow);
  }

  count(interval: KeyInterval, revision: number): number {
    const params = { start: interval.start, revision };
    const result = interval.end === undefined ? this.statements.count.unbounded.get(params) : this.statements.count.bounded.get({ ...params, end: interval.end });
    return (result as { n: number }).n;
  }

  history(filter: KeyInterval | { exactKey: string }, fromRevision: number): Array<{ row: LogRow; prev: LogRow | undefined }> {
    const records = (
      'exactKey' in filter
        ? this.statements.historyKey.all(filter.exactKey, fromRevision)
        : filter.end === undefined
          ? this.statements.historyInterval.unbounded.all({ from: fromRevision, start: filter.start })
          : this.statements.historyInterval.bounded.all({ from: fromRevision, start: filter.start, end: filter.end })
    ) as RowRecord[];
    return records.map((record) => {
      const row = toRow(record);
      return { row, prev: row.prevRevision ? this.row(row.prevRevision) : undefined };
    });
  }

  leased(lease: number): LogRow[] {
    return (this.statements.leased.all(lease) as RowRecord[]).map(toRow);
  }

  transaction<T>(fn: () => T): T {
    const revision = this.currentRevision;
    const compacted = this.compactedRevision;
    const lastLeaseId = this.lastLeaseId;
    try {
      return this.db.transaction(fn)();
    } catch (error) {
      this.currentRevision = revision;
      this.compactedRevision = compacted;
      this.lastLeaseId = lastLeaseId;
      throw error;
    }
  }

  append(row: LogRow): void {
    this.statements.insert.run({
      id: row.id,
      name: row.name,
      created: row.created ? 1 : 0,
      deleted: row.deleted ? 1 : 0,
      createRevision: row.createRevision,
      prevRevision: row.prevRevision,
      lease: row.lease,
      value: row.value,
      version: row.version,
    });
    this.currentRevision = row.id;
  }

  putLease(lease: LeaseRecord): void {
    this.statements.putLease.run(lease.id, lease.ttlSeconds, lease.expiresAt);
    if (lease.id > this.lastLeaseId) {
      this.lastLeaseId = lease.id;
      this.statements.setMeta.run(lease.id, 'last_lease_id');
    }
  }

  deleteLease(id: number): void {
    this.statements.deleteLease.run(id);
  }

  leases(): LeaseRecord[] {
    return (this.statements.leases.all() as Array<{ id: number; ttl: number; expires_at: number }>).map((r) => ({
      id: r.id,
      ttlSeconds: r.ttl,
      expiresAt: r.expires_at,
    }));
  }

  nextLeaseId(): number {
    return this.lastLeaseId + 1;
  }

  compact(revision: number): void {
    this.statements.compact.run({ revision });
    this.statements.setMeta.run(revision, 'compacted_revision');
    this.compactedRevision = revision;
  }

  sizeBytes(): number {
    const pages = this.db.pragma('page_count', { simple: true }) as number;
    const pageSize = this.db.pragma('page_size', { simple: true }) as number;
    let wal = 0;
    try {
      wal = fs.statSync(`${this.file}-wal`).size;
    } catch {
      // no WAL file yet
    }
    return pages * pageSize + wal;
  }

  /** Copies WAL content into the main file and truncates the WAL. */
  checkpoint(): { busy: number; log: number; checkpointed: number } {
    const [result] = this.db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number; log: number; checkpointed: number }>;
    return result ?? { busy: 0, log: 0, checkpointed: 0 };
  }

  /** Returns free pages to the filesystem; at most `pages` (0 = all). Returns how many were freed. */
  incrementalVacuum(pages: number): number {
    const before = this.db.pragma('freelist_count', { simple: true }) as number;
    this.db.exec(`PRAGMA incremental_vacuum(${Math.max(0, Math.floor(pages))})`);
    const after = this.db.pragma('freelist_count', { simple: true }) as number;
    return before - after;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

export interface SqliteStoreOptions extends SqliteOpenOptions {
  clock?: Clock;
}

export class SqliteStore extends LogStore {
  constructor(readonly sqlite: SqliteRevisionLog, clock?: Clock) {
    super(sqlite, { backend: 'sqlite', clock });
  }

  get file(): string {
    return this.sqlite.file;
  }
}

/** Opens (creating if needed) the datastore file. Throws DatastoreOpenError with an operator-facing message. */
export function openSqliteStore(file: string, options: SqliteStoreOptions = {}): SqliteStore {
  return new SqliteStore(new SqliteRevisionLog(file, options), options.clock);
}
