// The audit log backend (--audit-log-path): one JSON event per line, to a file or stdout ("-").
// Files rotate the way kube-apiserver's lumberjack logger rotates them: when a write would
// pass --audit-log-maxsize the file is renamed to <name>-<UTC time>.<ext> beside it and a new
// one started; --audit-log-maxbackup and --audit-log-maxage bound what is kept.
// Events are queued in memory and written in the background: a request never waits for disk.
import { mkdir, open, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import type { AuditEvent } from './event.js';

export interface AuditLogOptions {
  /** A file path, or "-" for stdout. */
  path: string;
  /** Megabytes before the file is rotated; 0 means lumberjack's default of 100. */
  maxSizeMB?: number;
  /** Rotated files to keep; 0 keeps all. */
  maxBackups?: number;
  /** Days to keep rotated files, judged by the time in their names; 0 keeps them regardless of age. */
  maxAgeDays?: number;
  /** Milliseconds since the epoch; names rotated files and judges their age. */
  now?: () => number;
  stdout?: { write(chunk: string, callback: (error?: Error | null) => void): boolean };
  onError?: (error: Error) => void;
  /** Queued bytes beyond which new events are dropped (and counted) rather than growing memory without bound. */
  maxQueuedBytes?: number;
}

const megabyte = 1024 * 1024;
const day = 24 * 60 * 60 * 1000;

export class AuditLogBackend {
  /** Events dropped because the writer fell behind by more than maxQueuedBytes. */
  dropped = 0;
  private queue: string[] = [];
  private queuedBytes = 0;
  private flushing?: Promise<void>;
  private file?: FileHandle;
  private size = 0;
  private readonly maxBytes: number;
  private readonly now: () => number;
  private readonly onError: (error: Error) => void;

  constructor(private readonly options: AuditLogOptions) {
    this.maxBytes = (options.maxSizeMB || 100) * megabyte;
    this.now = options.now ?? Date.now;
    this.onError = options.onError ?? ((e) => console.error(JSON.stringify({ component: 'audit', level: 'error', error: e.message })));
  }

  write(event: AuditEvent): void {
    const line = JSON.stringify(event) + '\n';
    if (this.queuedBytes + line.length > (this.options.maxQueuedBytes ?? 64 * megabyte)) {
      this.dropped++;
      return;
    }
    this.queue.push(line);
    this.queuedBytes += line.length;
    this.flushing ??= this.drain();
  }

  /** Resolves once every event written so far is on disk (or stdout). */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  async close(): Promise<void> {
    await this.flush();
    await this.file?.close();
    this.file = undefined;
  }

  private async drain(): Promise<void> {
    // Yield first, so the events of one burst of requests go out in one write.
    await new Promise((resolve) => setImmediate(resolve));
    try {
      while (this.queue.length) {
        const lines = this.queue;
        this.queue = [];
        this.queuedBytes = 0;
        await this.writeLines(lines);
      }
    } catch (e) {
      this.onError(e as Error);
      this.queue = [];
      this.queuedBytes = 0;
    } finally {
      this.flushing = undefined;
    }
  }

  private async writeLines(lines: string[]): Promise<void> {
    if (this.options.path === '-') {
      const stdout = this.options.stdout ?? process.stdout;
      await new Promise<void>((resolve, reject) => stdout.write(lines.join(''), (e) => (e ? reject(e) : resolve())));
      return;
    }
    if (!this.file) await this.openExisting();
    let chunk = '';
    let chunkBytes = 0;
    for (const line of lines) {
      const bytes = Buffer.byteLength(line);
      if (this.size + chunkBytes + bytes > this.maxBytes && this.size + chunkBytes > 0) {
        if (chunk) await this.file!.write(chunk);
        this.size += chunkBytes;
        chunk = '';
        chunkBytes = 0;
        await this.rotate();
      }
      chunk += line;
      chunkBytes += bytes;
    }
    if (chunk) await this.file!.write(chunk);
    this.size += chunkBytes;
  }

  private async openExisting(): Promise<void> {
    await mkdir(dirname(this.options.path), { recursive: true, mode: 0o700 });
    this.file = await open(this.options.path, 'a', 0o600);
    this.size = (await stat(this.options.path)).size;
  }

  private async rotate(): Promise<void> {
    await this.file?.close();
    this.file = undefined;
    await rename(this.options.path, backupPath(this.options.path, this.now()));
    this.file = await open(this.options.path, 'a', 0o600);
    this.size = 0;
    await this.removeOldBackups();
  }

  private async removeOldBackups(): Promise<void> {
    const { maxBackups = 0, maxAgeDays = 0 } = this.options;
    if (maxBackups <= 0 && maxAgeDays <= 0) return;
    const backups = await listBackups(this.options.path);
    backups.sort((a, b) => b.time - a.time);
    const remove = new Set<string>();
    if (maxBackups > 0) for (const b of backups.slice(maxBackups)) remove.add(b.path);
    if (maxAgeDays > 0) {
      const cutoff = this.now() - maxAgeDays * day;
      for (const b of backups) if (b.time < cutoff) remove.add(b.path);
    }
    for (const path of remove) await rm(path, { force: true });
  }
}

/** audit.log rotated at 2026-01-01T10:20:30.400Z → audit-2026-01-01T10-20-30.400.log (lumberjack's name, in UTC). */
export function backupPath(path: string, atMillis: number): string {
  const ext = extname(path);
  const prefix = basename(path, ext);
  const stamp = new Date(atMillis).toISOString().slice(0, 23).replace(/:/g, '-');
  return join(dirname(path), `${prefix}-${stamp}${ext}`);
}

async function listBackups(path: string): Promise<{ path: string; time: number }[]> {
  const ext = extname(path);
  const prefix = `${basename(path, ext)}-`;
  const out: { path: string; time: number }[] = [];
  for (const name of await readdir(dirname(path))) {
    if (!name.startsWith(prefix) || !name.endsWith(ext)) continue;
    const stamp = name.slice(prefix.length, name.length - ext.length);
    const m = /^(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})\.(\d{3})$/.exec(stamp);
    if (!m) continue;
    const time = Date.parse(`${m[1]}T${m[2]}:${m[3]}:${m[4]}.${m[5]}Z`);
    if (!Number.isNaN(time)) out.push({ path: join(dirname(path), name), time });
  }
  return out;
}
