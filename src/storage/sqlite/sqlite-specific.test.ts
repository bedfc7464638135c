// What the contract cannot cover: the file itself (durability across kill -9, restart,
// integrity checking, single ownership, physical compaction and maintenance, throughput).
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DatastoreOpenError, openSqliteStore } from './sqlite-store.js';
import { StoreUnavailableError, type WatchEvent } from '../types.js';
import { createMaintenance } from './maintenance.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'navarch-sqlite-specific-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
let counter = 0;
const nextFile = () => path.join(dir, `store-${++counter}.db`);
const here = path.dirname(fileURLToPath(import.meta.url));

function assertOperatorMessage(error: unknown, file: string): true {
  assert.ok(error instanceof DatastoreOpenError, String(error));
  assert.match(error.message, new RegExp(file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  assert.match(error.message, /navarch snapshot restore/);
  return true;
}

describe('sqlite datastore file', () => {
  test('every acknowledged write survives kill -9 of the writing process', async () => {
    const file = nextFile();
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'testdata', 'crash-writer.ts'), file], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`writer made too little progress: ${stderr}`)), 20_000);
      child.stdout.on('data', (chunk) => {
        output += chunk;
        // Kill mid-stream, well after the writer is busy.
        if (output.split('\n').length > 400) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.on('exit', () => reject(new Error(`writer exited early: ${stderr}`)));
    });
    child.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');
    const acknowledged = output
      .split('\n')
      .filter((line) => /^\d+ \d+$/.test(line))
      .map((line) => line.split(' ').map(Number) as [number, number]);
    assert.ok(acknowledged.length >= 399);

    const store = openSqliteStore(file);
    try {
      for (const [i, revision] of acknowledged) {
        const { kv } = await store.get(`/registry/configmaps/crash/k${i}`);
        assert.ok(kv, `acknowledged key k${i} is missing after kill -9`);
        assert.equal(kv.modRevision, revision);
        assert.equal(kv.value, JSON.stringify({ i }));
      }
      // The log continues where it stopped: no revision is handed out twice.
      const highest = Math.max(...acknowledged.map(([, revision]) => revision));
      const next = await store.create('/registry/configmaps/crash/after', 'x');
      assert.ok(next.succeeded && next.revision > highest);
    } finally {
      await store.close();
    }
  });

  test('revisions, compaction, values and leases persist across a restart', async () => {
    const file = nextFile();
    let store = openSqliteStore(file);
    const a = await store.create('/registry/pods/ns/a', 'a1');
    assert.ok(a.succeeded);
    const a2 = await store.update('/registry/pods/ns/a', 'a2', a.revision);
    assert.ok(a2.succeeded);
    const lease = await store.grantLease(600);
    await store.create('/registry/events/ns/e', 'e', { lease });
    await store.compact(a2.revision);
    const revision = await store.currentRevision();
    await store.close();

    store = openSqliteStore(file);
    try {
      assert.equal(await store.currentRevision(), revision);
      assert.equal(await store.compactedRevision(), a2.revision);
      assert.equal((await store.get('/registry/pods/ns/a')).kv?.value, 'a2');
      assert.equal((await store.get('/registry/events/ns/e')).kv?.lease, lease);
      await store.keepAliveLease(lease);
      const another = await store.grantLease(600);
      assert.notEqual(another, lease);
      const b = await store.create('/registry/pods/ns/b', 'b');
      assert.ok(b.succeeded);
      assert.equal(b.revision, revision + 1);
    } finally {
      await store.close();
    }
  });

  test('a lease that expired while the server was down deletes its keys after open', async () => {
    const file = nextFile();
    let now = 1_000_000;
    const clock = { now: () => now };
    let store = openSqliteStore(file, { clock });
    const lease = await store.grantLease(5);
    await store.create('/registry/events/ns/e', 'e', { lease });
    await store.close();
    now += 6_000;
    store = openSqliteStore(file, { clock });
    try {
      const deadline = Date.now() + 2000;
      while ((await store.get('/registry/events/ns/e')).kv !== null) {
        assert.ok(Date.now() < deadline, 'expired lease did not delete its key');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    } finally {
      await store.close();
    }
  });

  test('a file that is not a database is refused with a message naming it and the restore command', () => {
    const file = nextFile();
    fs.writeFileSync(file, Buffer.alloc(8192, 'not sqlite at all. '));
    assert.throws(() => openSqliteStore(file), (error) => assertOperatorMessage(error, file));
  });

  test('a corrupted page fails the integrity check at open', async () => {
    const file = nextFile();
    const store = openSqliteStore(file);
    for (let i = 0; i < 300; i++) await store.create(`/registry/configmaps/ns/cm-${i}`, 'x'.repeat(200));
    await store.close();
    const pageSize = 4096;
    const size = fs.statSync(file).size;
    assert.ok(size > 8 * pageSize, `expected a multi-page file, got ${size} bytes`);
    // Scribble over the b-tree page headers of a few pages (page n starts at (n-1)*pageSize; page 1 holds the file header).
    const fd = fs.openSync(file, 'r+');
    for (const page of [3, 4, 5, 6]) fs.writeSync(fd, Buffer.alloc(64, 0xa5), 0, 64, (page - 1) * pageSize);
    fs.closeSync(fd);
    assert.throws(() => openSqliteStore(file), (error) => assertOperatorMessage(error, file));
  });

  test('a second server cannot open a datastore that is in use', async () => {
    const file = nextFile();
    const first = openSqliteStore(file);
    try {
      assert.throws(() => openSqliteStore(file), (error) => {
        assert.ok(error instanceof DatastoreOpenError);
        assert.match(error.message, /in use by another process/);
        return true;
      });
    } finally {
      await first.close();
    }
  });

  test('a failed commit rejects its whole batch, persists nothing, and reuses no revision', async () => {
    const store = openSqliteStore(nextFile());
    try {
      // Stands in for an I/O failure (disk full) in the middle of a group commit.
      store.sqlite.db.exec(`CREATE TEMP TRIGGER fail_insert BEFORE INSERT ON kv WHEN NEW.name = '/registry/pods/ns/fail' BEGIN SELECT RAISE(ABORT, 'disk on fire'); END;`);
      const before = await store.currentRevision();
      const seen: WatchEvent[] = [];
      store.watch('/registry/pods/', { startRevision: before + 1 }, (events) => seen.push(...events), () => {});
      const results = await Promise.allSettled([
        store.create('/registry/pods/ns/ok', 'ok'),
        store.create('/registry/pods/ns/fail', 'boom'),
      ]);
      for (const result of results) {
        assert.equal(result.status, 'rejected');
        assert.ok((result as PromiseRejectedResult).reason instanceof StoreUnavailableError);
      }
      assert.equal(await store.currentRevision(), before);
      assert.equal((await store.get('/registry/pods/ns/ok')).kv, null);
      const next = await store.create('/registry/pods/ns/ok', 'ok');
      assert.ok(next.succeeded);
      assert.equal(next.revision, before + 1);
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.deepEqual(seen.map((e) => `${e.type} ${e.kv.key}@${e.kv.modRevision}`), [`PUT /registry/pods/ns/ok@${before + 1}`]);
    } finally {
      await store.close();
    }
  });

  test('compaction physically removes superseded rows and tombstones', async () => {
    const store = openSqliteStore(nextFile());
    try {
      let result = await store.create('/registry/pods/ns/a', 'v0');
      for (let i = 1; i <= 20; i++) {
        assert.ok(result.succeeded);
        result = await store.update('/registry/pods/ns/a', `v${i}`, result.revision);
      }
      await store.create('/registry/pods/ns/gone', 'g');
      await store.delete('/registry/pods/ns/gone');
      await store.create('/registry/pods/ns/b', 'b');
      const rows = () => (store.sqlite.db.prepare('SELECT COUNT(*) AS n FROM kv').get() as { n: number }).n;
      assert.equal(rows(), 24);
      await store.compact(await store.currentRevision());
      // Only the latest rows of `a` and `b` remain; `gone` (deleted before the compaction revision) is fully dropped.
      assert.equal(rows(), 2);
      assert.equal((await store.get('/registry/pods/ns/a')).kv?.value, 'v20');
    } finally {
      await store.close();
    }
  });

  test('maintenance compacts by revisions and by age, checkpoints and vacuums', async () => {
    let now = 0;
    const clock = { now: () => now };
    const store = openSqliteStore(nextFile(), { clock });
    try {
      for (let i = 0; i < 50; i++) await store.create(`/registry/configmaps/ns/cm-${i}`, 'x'.repeat(2000));
      for (let i = 0; i < 50; i++) await store.delete(`/registry/configmaps/ns/cm-${i}`);
      const byRevisions = createMaintenance(store, { retainRevisions: 10, clock });
      const current = await store.currentRevision();
      const report = await byRevisions.run();
      assert.equal(report.compactedTo, current - 10);
      assert.equal(await store.compactedRevision(), current - 10);
      assert.ok(report.pagesVacuumed > 0, JSON.stringify(report));
      assert.ok(report.sizeBytesAfter < report.sizeBytesBefore, JSON.stringify(report));

      const byAge = createMaintenance(store, { retainMinutes: 5, clock });
      assert.equal((await byAge.run()).compactedTo, null); // nothing is 5 minutes old yet
      const seen = await store.currentRevision();
      await store.create('/registry/configmaps/ns/later', 'x');
      now += 6 * 60_000;
      assert.equal((await byAge.run()).compactedTo, seen);
      assert.throws(() => createMaintenance(store, {}), RangeError);
    } finally {
      await store.close();
    }
  });

  test('write throughput (reported, with a low floor that catches a per-write fsync regression)', async (t) => {
    const store = openSqliteStore(nextFile());
    try {
      const value = JSON.stringify({ kind: 'ConfigMap', metadata: { name: 'x', namespace: 'ns' }, data: { a: 'b'.repeat(400) } });
      const sequentialCount = 300;
      let started = performance.now();
      for (let i = 0; i < sequentialCount; i++) await store.create(`/registry/configmaps/seq/cm-${i}`, value);
      const sequential = sequentialCount / ((performance.now() - started) / 1000);

      const concurrentCount = 5000;
      const inFlight = 100;
      let issued = 0;
      started = performance.now();
      await Promise.all(
        Array.from({ length: inFlight }, async () => {
          while (issued < concurrentCount) {
            const i = issued++;
            await store.create(`/registry/configmaps/par/cm-${i}`, value);
          }
        }),
      );
      const concurrent = concurrentCount / ((performance.now() - started) / 1000);
      t.diagnostic(`sqlite creates/s: ${Math.round(sequential)} one at a time, ${Math.round(concurrent)} with ${inFlight} in flight`);
      assert.ok(concurrent > 1000, `only ${Math.round(concurrent)} creates/s with ${inFlight} in flight`);
    } finally {
      await store.close();
    }
  });
});
