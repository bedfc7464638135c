import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../../storage/sqlite/sqlite-store.js';
import { DatastoreLockedError, datastorePath, integrityProblems, restoreSnapshot, saveSnapshot, stopFirstHint } from './snapshot.js';

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'navarch-snapshot-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function value(dataDir: string, key: string): Promise<string | undefined> {
  const store = openSqliteStore(datastorePath(dataDir));
  try {
    const { kv } = await store.get(key);
    return kv ? Buffer.from(kv.value).toString() : undefined;
  } finally {
    await store.close();
  }
}

test('save refuses while the server holds the lock, works once it is stopped, and restore brings the data back', async (t) => {
  const dataDir = tempDir(t);
  const snapshot = join(dataDir, 'snap.db');
  const store = openSqliteStore(datastorePath(dataDir));
  await store.create('/registry/configmaps/default/a', 'before');
  await assert.rejects(saveSnapshot(dataDir, snapshot), DatastoreLockedError);
  assert.equal(existsSync(snapshot), false, 'no half-written snapshot is left');
  await store.close();

  assert.ok((await saveSnapshot(dataDir, snapshot)).bytes > 0);
  assert.deepEqual(integrityProblems(snapshot), []);
  await assert.rejects(saveSnapshot(dataDir, snapshot), /already exists/);

  const later = openSqliteStore(datastorePath(dataDir));
  await later.create('/registry/configmaps/default/b', 'after');
  await later.close();
  assert.equal(await value(dataDir, '/registry/configmaps/default/b'), 'after');

  const { previous } = restoreSnapshot(dataDir, snapshot, new Date('2026-01-02T03:04:05Z'));
  assert.equal(previous, `${datastorePath(dataDir)}.before-restore-2026-01-02T03-04-05-000Z`);
  assert.ok(existsSync(previous!));
  assert.equal(await value(dataDir, '/registry/configmaps/default/a'), 'before');
  assert.equal(await value(dataDir, '/registry/configmaps/default/b'), undefined);
});

test('restore refuses a corrupt or foreign file and leaves the datastore alone', async (t) => {
  const dataDir = tempDir(t);
  const store = openSqliteStore(datastorePath(dataDir));
  await store.create('/registry/k', 'v');
  await store.close();
  const good = join(dataDir, 'good.db');
  await saveSnapshot(dataDir, good);

  const corrupt = join(dataDir, 'corrupt.db');
  const bytes = readFileSync(good);
  // Keep the header valid, scribble over the pages holding the tables.
  for (let i = 4096; i < bytes.length; i += 7) bytes[i] = 0xa5;
  writeFileSync(corrupt, bytes);
  const garbage = join(dataDir, 'garbage.db');
  writeFileSync(garbage, 'not a database at all');

  const before = readdirSync(join(dataDir, 'db')).sort();
  assert.throws(() => restoreSnapshot(dataDir, corrupt), /not a sound navarch snapshot/);
  assert.throws(() => restoreSnapshot(dataDir, garbage), /not a sound navarch snapshot/);
  assert.throws(() => restoreSnapshot(dataDir, join(dataDir, 'missing.db')), /does not exist/);
  assert.deepEqual(readdirSync(join(dataDir, 'db')).sort(), before);
  assert.equal(await value(dataDir, '/registry/k'), 'v');
});

test('the lock hint spells out the commands to run', () => {
  assert.equal(stopFirstHint('/tmp/s.db', ' --data-dir /d'), 'the datastore is locked by the running server. Run:\n  navarch down --data-dir /d\n  navarch snapshot save /tmp/s.db --data-dir /d\n  navarch up --data-dir /d');
});
