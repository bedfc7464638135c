// Periodic upkeep of the sqlite datastore, as one function the server schedules (for example
// every 5 minutes): compact history that nobody can still watch from, fold the WAL back into
// the main file, and hand freed pages back to the filesystem.
//
// Time-based retention works like kube-apiserver's compactor: each run remembers the current
// revision, and a later run compacts up to the revision it saw `retainMinutes` ago. So the
// first compaction by time happens only after that much uptime.

import type { Clock } from '../log/log-store.js';
import type { SqliteStore } from './sqlite-store.js';

export interface MaintenanceOptions {
  /** Always keep at least this many most recent revisions of history. */
  retainRevisions?: number;
  /** Always keep at least this much history (by the wall clock of earlier runs). */
  retainMinutes?: number;
  /** Free pages returned to the filesystem per run (0 = all). Default 0. */
  vacuumPages?: number;
  clock?: Clock;
}

export interface MaintenanceReport {
  /** The revision compacted to in this run, or null when nothing was old enough. */
  compactedTo: number | null;
  walFramesCheckpointed: number;
  pagesVacuumed: number;
  sizeBytesBefore: number;
  sizeBytesAfter: number;
}

export interface Maintenance {
  run(): Promise<MaintenanceReport>;
}

export function createMaintenance(store: SqliteStore, options: MaintenanceOptions = {}): Maintenance {
  if (options.retainRevisions === undefined && options.retainMinutes === undefined) {
    throw new RangeError('maintenance needs retainRevisions or retainMinutes (otherwise it would compact everything)');
  }
  const clock = options.clock ?? { now: () => Date.now() };
  const samples: Array<{ at: number; revision: number }> = [];

  return {
    async run(): Promise<MaintenanceReport> {
      const sizeBytesBefore = await store.sizeBytes();
      const current = await store.currentRevision();
      const now = clock.now();
      samples.push({ at: now, revision: current });

      let target = current;
      if (options.retainRevisions !== undefined) target = Math.min(target, current - options.retainRevisions);
      if (options.retainMinutes !== undefined) {
        const cutoff = now - options.retainMinutes * 60_000;
        // The newest sample at or before the cutoff: everything after it is still retained.
        let old: { at: number; revision: number } | undefined;
        while (samples.length > 0 && samples[0]!.at <= cutoff) old = samples.shift();
        if (old) samples.unshift(old);
        target = Math.min(target, old ? old.revision : 0);
      }

      let compactedTo: number | null = null;
      if (target > (await store.compactedRevision())) {
        await store.compact(target);
        compactedTo = target;
      }
      const checkpoint = store.sqlite.checkpoint();
      const pagesVacuumed = store.sqlite.incrementalVacuum(options.vacuumPages ?? 0);
      return {
        compactedTo,
        walFramesCheckpointed: checkpoint.checkpointed,
        pagesVacuumed,
        sizeBytesBefore,
        sizeBytesAfter: await store.sizeBytes(),
      };
    },
  };
}
