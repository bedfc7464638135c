// The CronJob controller against a real in-process API server with an accelerated fake clock:
// minutes pass by advancing the clock, never by sleeping. The test plays the Job controller by
// writing Job completion status.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/types.js';
import { formatTime } from '../framework/events.js';
import { jobsResource } from '../framework/resources.js';
import { eventsFor, eventually, startHarness, type Harness } from '../testing.js';
import { createCronJobController, cronJobsResource, jobFromTemplate, jobNameFor, scheduledTimestampAnnotation } from './controller.js';
import { mostRecentScheduleTime, parseGoDuration, parseSchedule } from './schedule.js';

const at = (iso: string) => Date.parse(iso);

describe('schedules', () => {
  const cases: { schedule: string; tz?: string; after: string; next: string }[] = [
    { schedule: '*/5 * * * *', after: '2026-01-01T00:05:00Z', next: '2026-01-01T00:10:00Z' },
    { schedule: '@hourly', after: '2026-01-01T00:05:00Z', next: '2026-01-01T01:00:00Z' },
    { schedule: '@daily', after: '2026-01-01T00:05:00Z', next: '2026-01-02T00:00:00Z' },
    { schedule: '@weekly', after: '2026-01-01T00:05:00Z', next: '2026-01-04T00:00:00Z' },
    { schedule: '@monthly', after: '2026-01-01T00:05:00Z', next: '2026-02-01T00:00:00Z' },
    { schedule: '@yearly', after: '2026-01-01T00:05:00Z', next: '2027-01-01T00:00:00Z' },
    { schedule: '@every 90m', after: '2026-01-01T00:05:00Z', next: '2026-01-01T01:35:00Z' },
    { schedule: '0 9 * * 1-5', after: '2026-01-02T10:00:00Z', next: '2026-01-05T09:00:00Z' },
    { schedule: '0 9 * * *', tz: 'America/New_York', after: '2026-01-01T00:00:00Z', next: '2026-01-01T14:00:00Z' },
  ];
  for (const c of cases) {
    test(`${c.schedule}${c.tz ? ` (${c.tz})` : ''} after ${c.after}`, () => assert.equal(formatTime(parseSchedule(c.schedule, c.tz).next(at(c.after))), c.next.replace('.000', '')));
  }
  for (const bad of ['* * * *', '0 0 * * * *', '61 * * * *', '@fortnightly', '@every nonsense']) {
    test(`rejects ${bad}`, () => assert.throws(() => parseSchedule(bad)));
  }
  test('rejects an unknown time zone', () => assert.throws(() => parseSchedule('0 0 * * *', 'Mars/Olympus'), /unknown time zone/));
  test('Go durations', () => assert.deepEqual(['1h30m', '90s', '1.5h', '250ms'].map(parseGoDuration), [5_400_000, 90_000, 5_400_000, 250]));
  test('mostRecentScheduleTime: none, one, many missed (latest wins), more than 100', () => {
    const every = parseSchedule('* * * * *');
    assert.deepEqual(mostRecentScheduleTime(every, at('2026-01-01T00:00:00Z'), at('2026-01-01T00:00:30Z')), { missed: 0 });
    assert.deepEqual(mostRecentScheduleTime(every, at('2026-01-01T00:00:00Z'), at('2026-01-01T00:01:30Z')), { time: at('2026-01-01T00:01:00Z'), missed: 1 });
    assert.deepEqual(mostRecentScheduleTime(every, at('2026-01-01T00:00:00Z'), at('2026-01-01T00:05:10Z')), { time: at('2026-01-01T00:05:00Z'), missed: 5 });
    const year = mostRecentScheduleTime(every, at('2026-01-01T00:00:00Z'), at('2027-01-01T00:00:30Z'));
    assert.equal(year.time, at('2027-01-01T00:00:00Z'));
    assert.equal(year.missed, 365 * 24 * 60);
  });
});

function cronJob(name: string, spec: Record<string, any> = {}): KubeObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name },
    spec: {
      schedule: '* * * * *',
      ...spec,
      jobTemplate: { metadata: { labels: { app: name } }, spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'c', image: 'busybox' }] } } } },
    },
  };
}

async function withCronJobs(fn: (h: Harness) => Promise<void>) {
  const h = await startHarness();
  try {
    await h.start(createCronJobController({ client: h.client, informerFactory: h.factory, clock: h.clock, recorder: h.recorder }));
    await fn(h);
  } finally {
    await h.close();
  }
}

const cronJobs = (h: Harness) => h.client.resource(cronJobsResource);
const jobs = (h: Harness) => h.client.resource(jobsResource);
const jobNames = async (h: Harness) => (await jobs(h).list('default')).items.filter((j) => !j.metadata.deletionTimestamp).map((j) => j.metadata.name!).sort();
const minute = 60_000;

/** Moves the fake clock to just past the next whole minute. */
async function nextMinute(h: Harness) {
  const now = h.clock.now();
  await h.clock.advance(Math.floor(now / minute) * minute + minute + 200 - now);
}

async function finishJob(h: Harness, name: string, outcome: 'Complete' | 'Failed') {
  const job = await jobs(h).get('default', name);
  const now = formatTime(h.clock.now());
  const conditions =
    outcome === 'Complete'
      ? [{ type: 'SuccessCriteriaMet', status: 'True', reason: 'CompletionsReached', lastTransitionTime: now }, { type: 'Complete', status: 'True', reason: 'CompletionsReached', lastTransitionTime: now }]
      : [{ type: 'FailureTarget', status: 'True', reason: 'BackoffLimitExceeded', lastTransitionTime: now }, { type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', lastTransitionTime: now }];
  const status: any = { conditions, startTime: job.status?.startTime ?? now, ...(outcome === 'Complete' ? { completionTime: now, succeeded: 1 } : { failed: 1 }) };
  await jobs(h).updateStatus({ ...job, status });
}

async function waitJobs(h: Harness, expected: number | ((names: string[]) => boolean), what: string) {
  return eventually(h.clock, async () => {
    const names = await jobNames(h);
    return (typeof expected === 'number' ? names.length === expected : expected(names)) && names;
  }, what, { advanceMs: 0 });
}

describe('cronjob controller', () => {
  test('creates one Job per scheduled minute with name, annotation and owner; status active/lastScheduleTime/lastSuccessfulTime; events', () =>
    withCronJobs(async (h) => {
      const created = await cronJobs(h).create('default', cronJob('tick'));
      await h.clock.advance(30_000);
      assert.deepEqual(await jobNames(h), [], 'nothing before the first scheduled time');
      await nextMinute(h);
      const scheduled = Math.floor(h.clock.now() / minute) * minute;
      const [name] = await waitJobs(h, 1, 'first job');
      assert.equal(name, `tick-${scheduled / minute}`);
      const job = await jobs(h).get('default', name!);
      assert.equal(job.metadata.annotations![scheduledTimestampAnnotation], formatTime(scheduled));
      assert.deepEqual(job.metadata.ownerReferences!.map((r) => [r.kind, r.name, r.uid, r.controller]), [['CronJob', 'tick', created.metadata.uid, true]]);
      assert.equal(job.metadata.labels!.app, 'tick');
      const withActive = await eventually(h.clock, async () => {
        const cj = await cronJobs(h).get('default', 'tick');
        return cj.status?.active?.length === 1 && cj;
      }, 'status.active', { advanceMs: 0 });
      assert.equal(withActive.status.active[0].name, name);
      assert.equal(withActive.status.lastScheduleTime, formatTime(scheduled));

      await finishJob(h, name!, 'Complete');
      const done = await eventually(h.clock, async () => {
        const cj = await cronJobs(h).get('default', 'tick');
        return !cj.status?.active && cj.status?.lastSuccessfulTime && cj;
      }, 'completed job leaves active', { advanceMs: 0 });
      assert.ok(done.status.lastSuccessfulTime);
      await nextMinute(h);
      await waitJobs(h, 2, 'second job');
      await h.recorder.flush();
      const events = await eventsFor(h.client, 'default', 'tick');
      assert.ok(events.some((e) => e.reason === 'SuccessfulCreate' && e.message === `Created job ${name}`));
      assert.ok(events.some((e) => e.reason === 'SawCompletedJob' && e.message === `Saw completed job: ${name}, status: Complete`));
    }));

  test('concurrencyPolicy Forbid skips while a Job runs; Allow runs them side by side', () =>
    withCronJobs(async (h) => {
      await cronJobs(h).create('default', cronJob('solo', { concurrencyPolicy: 'Forbid' }));
      await cronJobs(h).create('default', cronJob('many', { concurrencyPolicy: 'Allow' }));
      await nextMinute(h);
      await waitJobs(h, 2, 'one job each');
      await nextMinute(h);
      await waitJobs(h, (n) => n.filter((x) => x.startsWith('many-')).length === 2, 'Allow: second job');
      await h.clock.advance(1000);
      assert.equal((await jobNames(h)).filter((x) => x.startsWith('solo-')).length, 1, 'Forbid: no second job');
      await h.recorder.flush();
      assert.ok((await eventsFor(h.client, 'default', 'solo')).some((e) => e.reason === 'JobAlreadyActive'));
    }));

  test('concurrencyPolicy Replace deletes the running Job and starts the new one', () =>
    withCronJobs(async (h) => {
      await cronJobs(h).create('default', cronJob('swap', { concurrencyPolicy: 'Replace' }));
      await nextMinute(h);
      const [first] = await waitJobs(h, 1, 'first');
      await nextMinute(h);
      const names = await waitJobs(h, (n) => n.length === 1 && n[0] !== first, 'replaced');
      const cj = await eventually(h.clock, async () => {
        const c = await cronJobs(h).get('default', 'swap');
        return c.status?.active?.length === 1 && c.status.active[0].name === names[0] && c;
      }, 'active is the new job', { advanceMs: 0 });
      assert.equal(cj.status.active.length, 1);
      await h.recorder.flush();
      assert.ok((await eventsFor(h.client, 'default', 'swap')).some((e) => e.reason === 'SuccessfulDelete' && e.message === `Deleted job ${first}`));
    }));

  test('history limits keep the newest finished Jobs', () =>
    withCronJobs(async (h) => {
      await cronJobs(h).create('default', cronJob('hist', { successfulJobsHistoryLimit: 2, failedJobsHistoryLimit: 1 }));
      const finished: string[] = [];
      for (let i = 0; i < 5; i++) {
        await nextMinute(h);
        const names = await waitJobs(h, (n) => n.some((x) => !finished.includes(x)), `job ${i}`);
        const fresh = names.find((x) => !finished.includes(x))!;
        await finishJob(h, fresh, i === 1 || i === 2 ? 'Failed' : 'Complete');
        finished.push(fresh);
      }
      // Complete: 0, 3, 4 → keep 3, 4. Failed: 1, 2 → keep 2.
      await waitJobs(h, (n) => JSON.stringify(n) === JSON.stringify([finished[2], finished[3], finished[4]].sort()), 'pruned to limits');
    }));

  test('suspend, then after long downtime exactly one catch-up run and a TooManyMissedTimes warning', () =>
    withCronJobs(async (h) => {
      await cronJobs(h).create('default', cronJob('late', { suspend: true }));
      await h.clock.advance(3 * 60 * minute);
      assert.deepEqual(await jobNames(h), []);
      await cronJobs(h).patch('default', 'late', 'merge', { spec: { suspend: false } });
      const [name] = await waitJobs(h, 1, 'catch-up job');
      assert.equal(name, jobNameFor({ metadata: { name: 'late' } }, Math.floor(h.clock.now() / minute) * minute), 'the most recent missed time');
      await h.clock.advance(1000);
      assert.equal((await jobNames(h)).length, 1, 'only one catch-up');
      await h.recorder.flush();
      assert.ok((await eventsFor(h.client, 'default', 'late')).some((e) => e.reason === 'TooManyMissedTimes' && e.type === 'Warning'));
    }));

  test('startingDeadlineSeconds: a run missed by more than the deadline is not started', () =>
    withCronJobs(async (h) => {
      await cronJobs(h).create('default', cronJob('strict', { schedule: '0 * * * *', startingDeadlineSeconds: 30, suspend: true }));
      await h.clock.advance(60 * minute + 45_000);
      await cronJobs(h).patch('default', 'strict', 'merge', { spec: { suspend: false } });
      await eventually(h.clock, async () => (await cronJobs(h).get('default', 'strict')).metadata.generation === 2, 'updated', { advanceMs: 0 });
      await h.clock.advance(1000);
      assert.deepEqual(await jobNames(h), [], '45s late with a 30s deadline');
    }));

  test('kubectl create job --from=cronjob/x: the API accepts a Job from the template owned by the CronJob', () =>
    withCronJobs(async (h) => {
      const cj = await cronJobs(h).create('default', cronJob('manual', { suspend: true }));
      const job = jobFromTemplate(cj, h.clock.now());
      // What kubectl builds: its own name, the "instantiate: manual" annotation, an ownerReference.
      job.metadata.name = 'manual-run';
      job.metadata.annotations = { 'cronjob.kubernetes.io/instantiate': 'manual' };
      job.metadata.ownerReferences = [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'manual', uid: cj.metadata.uid!, controller: true }];
      const created = await jobs(h).create('default', job);
      assert.equal(created.metadata.ownerReferences![0]!.uid, cj.metadata.uid);
      const listed = await eventually(h.clock, async () => {
        const c = await cronJobs(h).get('default', 'manual');
        return c.status?.active?.length === 1 && c;
      }, 'manual job shows as active', { advanceMs: 0 });
      assert.equal(listed.status.active[0].name, 'manual-run');
    }));
});
