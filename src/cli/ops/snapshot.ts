// `navarch snapshot save|restore`: a consistent copy of the sqlite datastore (DATA/db/state.db).
// The snapshot is the database only — not tls/ nor token: restoring it into a data dir keeps that
// data dir's certificates, and the cluster secrets sealed inside the database need its token.
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';

export function datastorePath(dataDir: string): string {
  return join(dataDir, 'db', 'state.db');
}

/** What a user must run when the running server holds the datastore lock. */
export function stopFirstHint(file: string, dataDirFlag: string): string {
  return `the datastore is locked by the running server. Run:\n  navarch down${dataDirFlag}\n  navarch snapshot save ${file}${dataDirFlag}\n  navarch up${dataDirFlag}`;
}

export class DatastoreLockedError extends Error {}

function isLockError(e: unknown): boolean {
  const code = (e as { code?: string }).code ?? '';
  return code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED') || /database is locked/i.test((e as Error).message);
}

/** `PRAGMA integrity_check` on a file, read-only; the list of problems, empty when sound. */
export function integrityProblems(file: string): string[] {
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true, timeout: 100 });
    const rows = db.pragma('integrity_check') as { integrity_check: string }[];
    const problems = rows.map((r) => r.integrity_check).filter((r) => r !== 'ok');
    // A valid sqlite file that is not a navarch datastore is no snapshot either.
    const kv = db.prepare(`SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'kv'`).get() as { n: number };
    if (problems.length === 0 && kv.n === 0) problems.push('no kv table: not a navarch datastore');
    return problems;
  } catch (e) {
    return [(e as Error).message];
  } finally {
    db?.close();
  }
}

/**
 * Copies the datastore to `target` with sqlite's online backup (consistent even mid-write). The
 * server's exclusive lock refuses any reader, so this works only while the server is stopped;
 * then it throws DatastoreLockedError.
 */
export async function saveSnapshot(dataDir: string, target: string): Promise<{ bytes: number }> {
  const source = datastorePath(dataDir);
  if (!existsSync(source)) throw new Error(`no sqlite datastore at ${source} (snapshots cover --datastore sqlite only)`);
  if (existsSync(target)) throw new Error(`${target} already exists; choose a new file name`);
  let db: Database.Database | undefined;
  try {
    db = new Database(source, { readonly: true, fileMustExist: true, timeout: 100 });
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    await db.backup(target);
  } catch (e) {
    rmSync(target, { force: true });
    if (isLockError(e)) throw new DatastoreLockedError((e as Error).message);
    throw e;
  } finally {
    db?.close();
  }
  const problems = integrityProblems(target);
  if (problems.length) {
    rmSync(target, { force: true });
    throw new Error(`the snapshot failed its integrity check: ${problems.slice(0, 5).join('; ')}`);
  }
  return { bytes: statSync(target).size };
}

/**
 * Puts a verified snapshot in place of the datastore; the current one is kept beside it as
 * state.db.before-restore-<timestamp>. The caller makes sure the server is stopped.
 */
export function restoreSnapshot(dataDir: string, snapshot: string, now: Date = new Date()): { previous?: string } {
  if (!existsSync(snapshot)) throw new Error(`${snapshot} does not exist`);
  const problems = integrityProblems(snapshot);
  if (problems.length) throw new Error(`${snapshot} is not a sound navarch snapshot (integrity_check: ${problems.slice(0, 5).join('; ')}); nothing was changed`);
  const target = datastorePath(dataDir);
  let previous: string | undefined;
  if (existsSync(target)) {
    previous = `${target}.before-restore-${now.toISOString().replace(/[:.]/g, '-')}`;
    renameSync(target, previous);
    // The WAL belongs to the old database: left beside the new one, sqlite would replay it into it.
    for (const suffix of ['-wal', '-shm']) if (existsSync(target + suffix)) renameSync(target + suffix, previous + suffix);
  }
  mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
  const temporary = `${target}.restoring-${process.pid}`;
  copyFileSync(snapshot, temporary);
  renameSync(temporary, target);
  return { previous };
}
