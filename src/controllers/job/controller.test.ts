// The Job and TTL-after-finished controllers against a real in-process API server; the test
// plays the kubelet by setting pod phases through /status.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/types.js';
import { isNotFound } from '../../client/errors.js';
import { jobsResource } from '../framework/resources.js';
import { createTtlAfterFinishedController } from '../ttlafterfinished/controller.js';
import { eventsFor, eventually, listPods, setPodPhase, startHarness, type Harness } from '../testing.js';
import { createJobController } from './controller.js';

function jobSpec(name: string, spec: Record<string, any>): KubeObject {
  return { apiVersion: 'batch/v1', kind: 'Job', metadata: { name }, spec: { ...spec, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } };
}

async function withJobs(fn: (h: Harness) => Promise<void>) {
  const h = await startHarness();
  try {
    const deps = { client: h.client, informerFactory: h.factory, clock: h.clock, recorder: h.recorder };
    await h.start(createJobController(deps), createTtlAfterFinishedController(deps));
    await fn(h);
  } finally {
    await h.close();
  }
}

const jobs = (h: Harness) => h.client.resource(jobsResource);
const jobPods = (h: Harness, name: string) => listPods(h.client, 'default', `batch.kubernetes.io/job-name=${name}`);
const running = (pods: KubeObject[]) => pods.filter((p) => p.status.phase !== 'Succeeded' && p.status.phase !== 'Failed' && !p.metadata.deletionTimestamp);
const cond = (job: KubeObject, type: string) => (job.status?.conditions ?? []).find((c: any) => c.type === type);

describe('job controller', () => {
  test('parallelism 2, completions 4: exactly four pods succeed, then Complete', () =>
    withJobs(async (h) => {
      const created = await jobs(h).create('default', jobSpec('pi', { parallelism: 2, completions: 4 }));
      for (let round = 0; round < 2; round++) {
        const batch = await eventually(h.clock, async () => {
          const active = running(await jobPods(h, 'pi'));
          return active.length === 2 && active;
        }, `round ${round}: 2 active pods`, { advanceMs: 0 });
        for (const pod of batch) {
          assert.ok(pod.metadata.finalizers!.includes('batch.kubernetes.io/job-tracking'));
          assert.equal(pod.metadata.ownerReferences![0]!.uid, created.metadata.uid);
          assert.match(pod.metadata.name!, /^pi-[a-z0-9]{5}$/);
          await setPodPhase(h.client, pod, 'Succeeded');
        }
      }
      const done = await eventually(h.clock, async () => {
        const j = await jobs(h).get('default', 'pi');
        return cond(j, 'Complete')?.status === 'True' && j;
      }, 'Complete', { advanceMs: 0 });
      assert.equal(done.status.succeeded, 4);
      assert.equal(done.status.failed, undefined);
      assert.equal(done.status.active, undefined);
      assert.deepEqual(done.status.uncountedTerminatedPods, {});
      assert.ok(done.status.startTime && done.status.completionTime);
      assert.deepEqual(done.status.conditions.map((c: any) => `${c.type}=${c.status} ${c.reason}`), ['SuccessCriteriaMet=True CompletionsReached', 'Complete=True CompletionsReached']);
      const all = await jobPods(h, 'pi');
      assert.equal(all.length, 4, 'no pod beyond the four completions');
      await eventually(h.clock, async () => (await jobPods(h, 'pi')).every((p) => !p.metadata.finalizers?.length), 'tracking finalizers removed', { advanceMs: 0 });
      await h.recorder.flush();
      assert.ok((await eventsFor(h.client, 'default', 'pi')).some((e) => e.reason === 'Completed' && e.message === 'Job completed'));
    }));

  test('Indexed: one pod per completion index with JOB_COMPLETION_INDEX, completedIndexes as intervals', () =>
    withJobs(async (h) => {
      await jobs(h).create('default', jobSpec('idx', { parallelism: 3, completions: 3, completionMode: 'Indexed' }));
      const pods = await eventually(h.clock, async () => {
        const p = await jobPods(h, 'idx');
        return p.length === 3 && p;
      }, 'three indexed pods', { advanceMs: 0 });
      const indexes = pods.map((p) => p.metadata.annotations!['batch.kubernetes.io/job-completion-index']).sort();
      assert.deepEqual(indexes, ['0', '1', '2']);
      for (const p of pods) {
        const i = p.metadata.annotations!['batch.kubernetes.io/job-completion-index'];
        assert.match(p.metadata.name!, new RegExp(`^idx-${i}-[a-z0-9]{5}$`));
        assert.equal(p.spec.hostname, `idx-${i}`);
        assert.deepEqual(p.spec.containers[0].env, [{ name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } } }]);
      }
      const byIndex = (i: string) => pods.find((p) => p.metadata.annotations!['batch.kubernetes.io/job-completion-index'] === i)!;
      await setPodPhase(h.client, byIndex('0'), 'Succeeded');
      await setPodPhase(h.client, byIndex('2'), 'Succeeded');
      await eventually(h.clock, async () => (await jobs(h).get('default', 'idx')).status?.completedIndexes === '0,2', 'completedIndexes 0,2', { advanceMs: 0 });
      await setPodPhase(h.client, byIndex('1'), 'Succeeded');
      const done = await eventually(h.clock, async () => {
        const j = await jobs(h).get('default', 'idx');
        return cond(j, 'Complete')?.status === 'True' && j;
      }, 'Complete', { advanceMs: 0 });
      assert.equal(done.status.completedIndexes, '0-2');
      assert.equal(done.status.succeeded, 3);
    }));

  test('failures back off 10s, 20s… and backoffLimit fails the Job', () =>
    withJobs(async (h) => {
      await jobs(h).create('default', jobSpec('flaky', { backoffLimit: 1 }));
      const [first] = await eventually(h.clock, async () => {
        const p = running(await jobPods(h, 'flaky'));
        return p.length === 1 && p;
      }, 'first pod', { advanceMs: 0 });
      await setPodPhase(h.client, first!, 'Failed');
      await eventually(h.clock, async () => (await jobs(h).get('default', 'flaky')).status?.failed === 1, 'failure counted', { advanceMs: 0 });
      await h.clock.advance(9_000);
      await new Promise((r) => setTimeout(r, 30));
      assert.equal(running(await jobPods(h, 'flaky')).length, 0, 'no replacement before 10s');
      await h.clock.advance(1_500);
      const [second] = await eventually(h.clock, async () => {
        const p = running(await jobPods(h, 'flaky'));
        return p.length === 1 && p;
      }, 'replacement after backoff', { advanceMs: 0 });
      await setPodPhase(h.client, second!, 'Failed');
      const failed = await eventually(h.clock, async () => {
        const j = await jobs(h).get('default', 'flaky');
        return cond(j, 'Failed')?.status === 'True' && j;
      }, 'Failed', { advanceMs: 0 });
      assert.equal(cond(failed, 'Failed').reason, 'BackoffLimitExceeded');
      assert.equal(cond(failed, 'Failed').message, 'Job has reached the specified backoff limit');
      assert.equal(cond(failed, 'FailureTarget').status, 'True');
      assert.equal(failed.status.failed, 2);
      assert.equal((await jobPods(h, 'flaky')).length, 2);
    }));

  test('activeDeadlineSeconds stops the pods and fails the Job with DeadlineExceeded', () =>
    withJobs(async (h) => {
      await jobs(h).create('default', jobSpec('slow', { activeDeadlineSeconds: 30, parallelism: 2, completions: 2 }));
      await eventually(h.clock, async () => running(await jobPods(h, 'slow')).length === 2, 'pods', { advanceMs: 0 });
      await h.clock.advance(31_000);
      const failed = await eventually(h.clock, async () => {
        const j = await jobs(h).get('default', 'slow');
        return cond(j, 'Failed')?.status === 'True' && j;
      }, 'DeadlineExceeded', { advanceMs: 100 });
      assert.equal(cond(failed, 'Failed').reason, 'DeadlineExceeded');
      assert.equal(cond(failed, 'Failed').message, 'Job was active longer than specified deadline');
      assert.equal(running(await jobPods(h, 'slow')).length, 0);
    }));

  test('suspend deletes active pods and sets Suspended; resume starts again', () =>
    withJobs(async (h) => {
      await jobs(h).create('default', jobSpec('later', { suspend: true }));
      const suspended = await eventually(h.clock, async () => {
        const j = await jobs(h).get('default', 'later');
        return cond(j, 'Suspended')?.status === 'True' && j;
      }, 'Suspended', { advanceMs: 0 });
      assert.equal(cond(suspended, 'Suspended').reason, 'JobSuspended');
      assert.equal((await jobPods(h, 'later')).length, 0);
      await jobs(h).patch('default', 'later', 'merge', { spec: { suspend: false } });
      await eventually(h.clock, async () => running(await jobPods(h, 'later')).length === 1, 'pod after resume', { advanceMs: 0 });
      const resumed = await jobs(h).get('default', 'later');
      assert.equal(cond(resumed, 'Suspended').status, 'False');
      assert.equal(cond(resumed, 'Suspended').reason, 'JobResumed');
    }));

  test('ttlSecondsAfterFinished deletes the finished Job after the TTL', () =>
    withJobs(async (h) => {
      await jobs(h).create('default', jobSpec('short', { ttlSecondsAfterFinished: 60 }));
      const [pod] = await eventually(h.clock, async () => {
        const p = running(await jobPods(h, 'short'));
        return p.length === 1 && p;
      }, 'pod', { advanceMs: 0 });
      await setPodPhase(h.client, pod!, 'Succeeded');
      await eventually(h.clock, async () => cond(await jobs(h).get('default', 'short'), 'Complete')?.status === 'True', 'Complete', { advanceMs: 0 });
      await h.clock.advance(30_000);
      await new Promise((r) => setTimeout(r, 30));
      assert.ok(await jobs(h).get('default', 'short'), 'still there before the TTL');
      await h.clock.advance(31_000);
      await eventually(h.clock, () => jobs(h).get('default', 'short').then((j) => !!j.metadata.deletionTimestamp, (err) => isNotFound(err)), 'deleted after TTL', { advanceMs: 0 });
    }));
});
