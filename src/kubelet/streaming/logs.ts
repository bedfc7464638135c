// `kubectl logs` from CRI log files: tailLines, sinceSeconds/sinceTime, timestamps,
// limitBytes, and follow (polls the file until the container has exited and all is read).
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { parseCriLogLine } from '../../runtime/shim/cri-log.js';

export interface LogOptions {
  follow?: boolean;
  tailLines?: number;
  sinceMs?: number;
  timestamps?: boolean;
  limitBytes?: number;
}

/** Writes the log to out; resolves when done (or when out closed / signal aborted). */
export async function streamLog(logPath: string, options: LogOptions, out: Writable, stillRunning: () => Promise<boolean>, signal: AbortSignal): Promise<void> {
  let written = 0;
  let limitReached = false;
  const emit = (rawLine: string): void => {
    const line = parseCriLogLine(rawLine);
    if (!line) return;
    if (options.sinceMs !== undefined && Date.parse(line.time) < options.sinceMs) return;
    let text = (options.timestamps ? `${line.time} ` : '') + line.content + (line.partial ? '' : '\n');
    if (options.limitBytes !== undefined) {
      const left = options.limitBytes - written;
      if (left <= 0) { limitReached = true; return; }
      if (Buffer.byteLength(text) > left) { text = Buffer.from(text).subarray(0, left).toString('utf8'); limitReached = true; }
    }
    written += Buffer.byteLength(text);
    out.write(text);
  };

  const initial = await fsp.readFile(logPath, 'utf8').catch(() => '');
  let offset = Buffer.byteLength(initial);
  let lines = initial.split('\n');
  let pending = lines.pop() ?? '';
  if (options.tailLines !== undefined) lines = options.tailLines === 0 ? [] : lines.slice(-options.tailLines);
  for (const l of lines) emit(l);
  if (!options.follow || limitReached) return;

  for (;;) {
    if (signal.aborted || limitReached || out.destroyed || out.writableEnded) return;
    const running = await stillRunning();
    const size = await fsp.stat(logPath).then((s) => s.size).catch(() => offset);
    if (size > offset) {
      const fd = await fsp.open(logPath, 'r');
      try {
        const buf = Buffer.alloc(size - offset);
        await fd.read(buf, 0, buf.length, offset);
        offset = size;
        const parts = (pending + buf.toString('utf8')).split('\n');
        pending = parts.pop() ?? '';
        for (const l of parts) emit(l);
      } finally {
        await fd.close();
      }
      continue;
    }
    if (!running) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, 250);
      let watcher: fs.FSWatcher | undefined;
      try { watcher = fs.watch(logPath, done); } catch { /* poll only */ }
      signal.addEventListener('abort', done, { once: true });
      function done() { clearTimeout(timer); watcher?.close(); signal.removeEventListener('abort', done); resolve(); }
    });
  }
}
