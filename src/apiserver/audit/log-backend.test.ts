import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLogBackend, backupPath } from './log-backend.js';
import type { AuditEvent } from './event.js';

const event = (id: number, padding = 0): AuditEvent => ({
  kind: 'Event',
  apiVersion: 'audit.k8s.io/v1',
  level: 'Metadata',
  auditID: `id-${id}`,
  stage: 'ResponseComplete',
  requestURI: `/api/v1/namespaces/default/configmaps/${'x'.repeat(padding)}`,
  verb: 'get',
  user: { username: 'admin' },
  requestReceivedTimestamp: '2026-01-01T00:00:00.000000Z',
  stageTimestamp: '2026-01-01T00:00:00.000001Z',
});

const readEvents = (path: string) =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as AuditEvent).auditID);

describe('audit log backend', () => {
  test('rotated names are lumberjack\'s: <name>-<UTC time with ms>.<ext> beside the file', () => {
    assert.equal(backupPath('/var/log/audit.log', Date.parse('2026-01-02T03:04:05.678Z')), '/var/log/audit-2026-01-02T03-04-05.678.log');
    assert.equal(backupPath('/var/log/audit', Date.parse('2026-01-02T03:04:05.678Z')), '/var/log/audit-2026-01-02T03-04-05.678');
  });

  test('JSON lines, written in the background, all on disk after close', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'navarch-audit-'));
    try {
      const path = join(dir, 'sub', 'audit.log');
      const backend = new AuditLogBackend({ path });
      for (let i = 0; i < 50; i++) backend.write(event(i));
      await backend.close();
      assert.deepEqual(readEvents(path), Array.from({ length: 50 }, (_, i) => `id-${i}`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('rotation at maxsize, keeping maxbackup files, and maxage by the time in the name', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'navarch-audit-'));
    try {
      const path = join(dir, 'audit.log');
      let now = Date.parse('2026-01-10T00:00:00.000Z');
      // A leftover backup far older than maxage, which the first rotation removes.
      writeFileSync(join(dir, 'audit-2025-12-01T00-00-00.000.log'), '{}\n');
      // A file that is not a backup of ours is never touched.
      writeFileSync(join(dir, 'audit-notes.log'), 'keep');
      const backend = new AuditLogBackend({ path, maxSizeMB: 0.001, maxBackups: 2, maxAgeDays: 7, now: () => now });
      const line = JSON.stringify(event(0, 200)).length + 1; // ~500 bytes: two per 1048-byte file
      assert.ok(line > 1048 / 3 && line < 1048 / 2, `line length ${line}`);
      for (let i = 0; i < 8; i++) {
        backend.write(event(i, 200));
        await backend.flush();
        now += 60_000;
      }
      await backend.close();
      const names = readdirSync(dir).sort();
      // 8 events, 2 per file: rotations after events 1, 3, 5 at the times events 2, 4, 6 were written.
      assert.deepEqual(names, ['audit-2026-01-10T00-04-00.000.log', 'audit-2026-01-10T00-06-00.000.log', 'audit-notes.log', 'audit.log']);
      assert.deepEqual(readEvents(join(dir, 'audit-2026-01-10T00-04-00.000.log')), ['id-2', 'id-3']);
      assert.deepEqual(readEvents(join(dir, 'audit-2026-01-10T00-06-00.000.log')), ['id-4', 'id-5']);
      assert.deepEqual(readEvents(path), ['id-6', 'id-7']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('maxage alone removes backups older than the cutoff and keeps the rest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'navarch-audit-'));
    try {
      const path = join(dir, 'audit.log');
      writeFileSync(join(dir, 'audit-2026-01-01T00-00-00.000.log'), '{}\n');
      writeFileSync(join(dir, 'audit-2026-01-08T00-00-00.000.log'), '{}\n');
      writeFileSync(path, 'x'.repeat(1048));
      const backend = new AuditLogBackend({ path, maxSizeMB: 0.001, maxAgeDays: 3, now: () => Date.parse('2026-01-10T00:00:00.000Z') });
      backend.write(event(1));
      await backend.close();
      assert.deepEqual(readdirSync(dir).sort(), ['audit-2026-01-08T00-00-00.000.log', 'audit-2026-01-10T00-00-00.000.log', 'audit.log']);
      assert.equal(readFileSync(join(dir, 'audit-2026-01-10T00-00-00.000.log'), 'utf8').length, 1048, 'the existing file, appended to across restarts, counts toward maxsize');
      assert.deepEqual(readEvents(path), ['id-1']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('"-" writes to stdout', async () => {
    const chunks: string[] = [];
    const backend = new AuditLogBackend({ path: '-', stdout: { write: (c, cb) => (chunks.push(c), cb(), true) } });
    backend.write(event(1));
    backend.write(event(2));
    await backend.close();
    assert.deepEqual(chunks.join('').trim().split('\n').map((l) => JSON.parse(l).auditID), ['id-1', 'id-2']);
  });

  test('a writer that falls behind drops and counts events instead of growing without bound', async () => {
    const backend = new AuditLogBackend({ path: '-', maxQueuedBytes: 1000, stdout: { write: (_c, cb) => (cb(), true) } });
    for (let i = 0; i < 10; i++) backend.write(event(i));
    assert.ok(backend.dropped > 0 && backend.dropped < 10, `dropped ${backend.dropped}`);
    await backend.close();
  });
});
