import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffFromPods, formatIndexes, parseIndexes, podFailureBackoffMs } from './util.js';

test('pod failure backoff: 10s doubling, capped at 6 minutes', () => {
  const cases: [number, number][] = [[0, 0], [1, 10_000], [2, 20_000], [3, 40_000], [5, 160_000], [6, 320_000], [7, 360_000], [100, 360_000]];
  for (const [failures, ms] of cases) assert.equal(podFailureBackoffMs(failures), ms, `${failures} failures`);
});

test('completed indexes round-trip as intervals', () => {
  assert.equal(formatIndexes([0, 1, 2, 4, 6, 7]), '0-2,4,6-7');
  assert.equal(formatIndexes([]), '');
  assert.deepEqual([...parseIndexes('0-2,4,6-7', 10)].sort(), [0, 1, 2, 4, 6, 7]);
  assert.deepEqual([...parseIndexes('1,3-5', 4)].sort(), [1, 3], 'indexes beyond completions are dropped');
});

test('a restarted controller rebuilds backoff from failed pods after the last success', () => {
  const pod = (phase: string, finishedAt: string) => ({ metadata: {}, status: { phase, containerStatuses: [{ state: { terminated: { finishedAt } } }] } });
  assert.deepEqual(backoffFromPods([]), { failures: 0, lastFailureMs: 0 });
  assert.deepEqual(
    backoffFromPods([pod('Failed', '2026-01-01T00:00:10Z'), pod('Succeeded', '2026-01-01T00:00:20Z'), pod('Failed', '2026-01-01T00:00:40Z'), pod('Failed', '2026-01-01T00:00:30Z'), pod('Running', '')]),
    { failures: 2, lastFailureMs: Date.parse('2026-01-01T00:00:40Z') },
  );
});
