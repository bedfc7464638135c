import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createNodeStats, parseMeminfo, parseProcStat } from './node-stats.js';

const stat = (busy: number, idle: number) => `cpu  ${busy} 0 0 ${idle} 0 0 0 0 0 0\ncpu0 1 2 3 4\n`;
const meminfo = 'MemTotal:        2048000 kB\nMemFree:          512000 kB\nMemAvailable:    1024000 kB\n';

test('parses /proc/stat and /proc/meminfo', () => {
  assert.equal(parseProcStat(stat(150, 1000)).busyNanoSeconds, 1.5e9);
  assert.deepEqual(parseMeminfo(meminfo), { totalBytes: 2048000 * 1024, freeBytes: 512000 * 1024, availableBytes: 1024000 * 1024 });
});

test('cpu rate is measured between samples at least a second apart', async () => {
  let busy = 100;
  let now = 0;
  const sample = createNodeStats({ read: async (p) => (p === '/proc/stat' ? stat(busy, 5000) : meminfo), now: () => now });
  const first = await sample();
  assert.equal(first.cpu.usageNanoCores, 0);
  assert.equal(first.memory.workingSetBytes, 1024000 * 1024);
  busy += 50; // 0.5 s of cpu time …
  now += 2000; // … over 2 s: a quarter core
  const second = await sample();
  assert.equal(second.cpu.usageNanoCores, 250_000_000);
  assert.equal(second.cpu.usageCoreNanoSeconds, 1.5e9);
  now += 100;
  assert.equal((await sample()).cpu.usageNanoCores, 250_000_000, 'too soon for a new rate: the last one stands');
});
