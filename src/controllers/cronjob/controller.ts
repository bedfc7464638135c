// The CronJob controller (Kubernetes' cronjob_controllerv2): at each scheduled time create a
// Job `<cronjob>-<scheduled minutes since epoch>` from spec.jobTemplate, honouring suspend,
// startingDeadlineSeconds and concurrencyPolicy; keep status.active/lastScheduleTime/
// lastSuccessfulTime; delete finished Jobs beyond the history limits. After downtime it starts
// at most the most recent missed run. Time only comes from the injected clock, and the
// controller sleeps by asking the work queue to requeue the key at the next scheduled time.
import type { KubeObject } from '../../api/types.js';
import type { Client, ResourceRef } from '../../client/client.js';
import { objectKey, splitObjectKey } from '../../client/client.js';
import type { Clock } from '../../client/clock.js';
import { writeStatus } from '../framework/status.js';
import { isAlreadyExists, isNotFound } from '../../client/errors.js';
import type { Logger, SharedInformerFactory } from '../../client/informer.js';
import { objectFromDeleted } from '../../client/informer.js';
import { RateLimitingQueue } from '../../client/workqueue.js';
import { runController, type Controller, type ReconcileResult } from '../framework/controller.js';
import { controllerUidIndexFunc, getControllerOf, newControllerRef } from '../framework/controller-ref.js';
import { formatTime, type EventRecorder } from '../framework/events.js';
import { jobsResource } from '../framework/resources.js';
import { maxMissedSchedulesBeforeWarning, mostRecentScheduleTime, parseSchedule } from './schedule.js';

export const cronJobsResource: ResourceRef = { group: 'batch', version: 'v1', resource: 'cronjobs', namespaced: true, kind: 'CronJob' };
export const scheduledTimestampAnnotation = 'batch.kubernetes.io/cronjob-scheduled-timestamp';
const jobsByOwnerIndex = 'controllerUid';

export interface CronJobControllerOptions {
  client: Client;
  informerFactory: SharedInformerFactory;
  clock: Clock;
  recorder: EventRecorder;
  workers?: number;
  logger?: Logger;
}

/** getJobName: the scheduled time in minutes since the epoch, so one scheduled time means one Job name. */
export function jobNameFor(cronJob: KubeObject, scheduledMs: number): string {
  return `${cronJob.metadata.name}-${Math.floor(scheduledMs / 60_000)}`;
}

function jobFinished(job: KubeObject): 'Complete' | 'Failed' | undefined {
  for (const c of job.status?.conditions ?? []) {
    if ((c.type === 'Complete' || c.type === 'Failed') && c.status === 'True') return c.type;
  }
  return undefined;
}

/** The Job for one scheduled run (getJobFromTemplate2). */
export function jobFromTemplate(cronJob: KubeObject, scheduledMs: number): KubeObject {
  const template = cronJob.spec?.jobTemplate ?? {};
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: jobNameFor(cronJob, scheduledMs),
      namespace: cronJob.metadata.namespace,
      labels: { ...(template.metadata?.labels ?? {}) },
      annotations: { ...(template.metadata?.annotations ?? {}), [scheduledTimestampAnnotation]: formatTime(scheduledMs) },
      ownerReferences: [newControllerRef(cronJob, 'batch/v1', 'CronJob')],
    },
    spec: structuredClone(template.spec ?? {}),
  };
}

const parseTime = (s: string | undefined) => (s ? Date.parse(s) : NaN);
const objectReference = (job: KubeObject) => ({ kind: 'Job', namespace: job.metadata.namespace, name: job.metadata.name, uid: job.metadata.uid, apiVersion: 'batch/v1', resourceVersion: job.metadata.resourceVersion });

export function createCronJobController(options: CronJobControllerOptions): Controller {
  const { client, clock, recorder } = options;
  const log = options.logger ?? (() => undefined);
  const cronJobs = options.informerFactory.forResource(cronJobsResource);
  const jobs = options.informerFactory.forResource(jobsResource, { indexers: { [jobsByOwnerIndex]: controllerUidIndexFunc } });
  const cronJobClient = client.resource(cronJobsResource);
  const jobClient = client.resource(jobsResource);
  const queue = new RateLimitingQueue<string>({ clock });

  const enqueue = (obj: KubeObject) => queue.add(objectKey(obj));
  function enqueueOwner(job: KubeObject) {
    const ref = getControllerOf(job);
    if (ref?.kind === 'CronJob') queue.add(`${job.metadata.namespace}/${ref.name}`);
  }
  cronJobs.addEventHandler({ onAdd: enqueue, onUpdate: (_o, cj) => enqueue(cj), onDelete: () => undefined });
  jobs.addEventHandler({
    onAdd: enqueueOwner,
    onUpdate: (old, job) => old.metadata.resourceVersion !== job.metadata.resourceVersion && enqueueOwner(job),
    onDelete: (deleted) => enqueueOwner(objectFromDeleted(deleted)),
  });

  async function deleteJob(cronJob: KubeObject, job: KubeObject): Promise<boolean> {
    try {
      await jobClient.delete(job.metadata.namespace, job.metadata.name!, { propagationPolicy: 'Background', preconditions: { uid: job.metadata.uid } });
    } catch (err) {
      if (isNotFound(err)) return true;
      recorder.event(cronJob, 'Warning', 'FailedDelete', `Deleted job: ${(err as Error).message}`);
      return false;
    }
    recorder.event(cronJob, 'Normal', 'SuccessfulDelete', `Deleted job ${job.metadata.name}`);
    return true;
  }

  /** Removes the oldest finished Jobs beyond successfulJobsHistoryLimit / failedJobsHistoryLimit. */
  async function cleanupFinishedJobs(cronJob: KubeObject, owned: KubeObject[]): Promise<void> {
    const byAge = (a: KubeObject, b: KubeObject) =>
      (parseTime(a.status?.startTime) || parseTime(a.metadata.creationTimestamp)) - (parseTime(b.status?.startTime) || parseTime(b.metadata.creationTimestamp)) || a.metadata.name!.localeCompare(b.metadata.name!);
    for (const [outcome, limit] of [['Complete', cronJob.spec?.successfulJobsHistoryLimit ?? 3], ['Failed', cronJob.spec?.failedJobsHistoryLimit ?? 1]] as const) {
      const finished = owned.filter((j) => jobFinished(j) === outcome && !j.metadata.deletionTimestamp).sort(byAge);
      for (const job of finished.slice(0, Math.max(0, finished.length - limit))) await deleteJob(cronJob, job);
    }
  }

  async function updateStatus(cronJob: KubeObject, status: any): Promise<void> {
    if (JSON.stringify(cronJob.status ?? {}) === JSON.stringify(status)) return;
    await writeStatus(cronJobClient, cronJob, status, 2);
  }

  async function reconcile(key: string): Promise<ReconcileResult | void> {
    const { namespace, name } = splitObjectKey(key);
    const cronJob = cronJobs.getIndexer().getByName(namespace, name);
    if (!cronJob) return;
    const now = clock.now();
    const owned = jobs.getIndexer().byIndex(jobsByOwnerIndex, cronJob.metadata.uid!);
    const ownedByName = new Map(owned.map((j) => [j.metadata.name!, j]));
    const status: any = structuredClone(cronJob.status ?? {});
    let active: any[] = [...(status.active ?? [])];

    // Reconcile status.active with the Jobs that exist: finished ones leave, running ones we own join.
    for (const job of owned) {
      const finished = jobFinished(job);
      const listed = active.some((r) => r.uid === job.metadata.uid);
      if (!finished) {
        if (!listed && !job.metadata.deletionTimestamp) active.push(objectReference(job));
        continue;
      }
      if (listed) {
        recorder.event(cronJob, 'Normal', 'SawCompletedJob', `Saw completed job: ${job.metadata.name}, status: ${finished}`);
        active = active.filter((r) => r.uid !== job.metadata.uid);
      }
      if (finished === 'Complete') {
        const completedAt = job.status?.completionTime;
        if (completedAt && (!status.lastSuccessfulTime || parseTime(completedAt) > parseTime(status.lastSuccessfulTime))) status.lastSuccessfulTime = completedAt;
      }
    }
    // A listed Job that is gone (and not merely missing from a lagging cache: it was never seen) leaves too.
    active = active.filter((r) => {
      const job = ownedByName.get(r.name);
      if (job && job.metadata.uid === r.uid) return true;
      if (job) return false;
      // Created within the last seconds and not yet in our cache: keep until the cache catches up.
      const scheduled = status.lastScheduleTime ? parseTime(status.lastScheduleTime) : NaN;
      return r.name === jobNameFor(cronJob, scheduled) && now - scheduled < 60_000 && !jobs.getIndexer().getByName(namespace, r.name);
    });

    let requeueAfterMs: number | undefined;
    const finish = async () => {
      if (active.length) status.active = active;
      else delete status.active;
      await updateStatus(cronJob, status);
      return requeueAfterMs !== undefined ? { requeueAfterMs } : undefined;
    };

    if (cronJob.metadata.deletionTimestamp) return finish();
    let schedule;
    try {
      schedule = parseSchedule(cronJob.spec?.schedule ?? '', cronJob.spec?.timeZone ?? undefined);
    } catch (err) {
      const message = (err as Error).message;
      const reason = message.startsWith('unknown time zone') ? 'UnknownTimeZone' : 'UnparseableSchedule';
      recorder.event(cronJob, 'Warning', reason, reason === 'UnknownTimeZone' ? `invalid timeZone: "${cronJob.spec?.timeZone}": ${message}` : `unparseable schedule: "${cronJob.spec?.schedule}" : ${message}`);
      return finish();
    }
    await cleanupFinishedJobs(cronJob, owned);
    if (cronJob.spec?.suspend) return finish();

    const deadlineSeconds: number | undefined = cronJob.spec?.startingDeadlineSeconds ?? undefined;
    let earliest = parseTime(status.lastScheduleTime);
    if (Number.isNaN(earliest)) earliest = parseTime(cronJob.metadata.creationTimestamp);
    if (deadlineSeconds !== undefined && deadlineSeconds !== null) earliest = Math.max(earliest, now - deadlineSeconds * 1000);
    const { time: scheduled, missed } = mostRecentScheduleTime(schedule, earliest, now);
    // Wake at the next scheduled time (a little after, so the clock has passed it).
    requeueAfterMs = schedule.next(now) - now + 100;
    if (scheduled === undefined) return finish();
    if (missed > maxMissedSchedulesBeforeWarning) {
      recorder.event(cronJob, 'Warning', 'TooManyMissedTimes', `too many missed start times: ${missed}. Set or decrease .spec.startingDeadlineSeconds or check clock skew`);
    }
    if (deadlineSeconds !== undefined && deadlineSeconds !== null && scheduled + deadlineSeconds * 1000 < now) {
      recorder.event(cronJob, 'Warning', 'MissSchedule', `Missed scheduled time to start a job: ${formatTime(scheduled)}`);
      return finish();
    }
    const jobName = jobNameFor(cronJob, scheduled);
    if (ownedByName.has(jobName) || active.some((r) => r.name === jobName)) return finish();

    const policy = cronJob.spec?.concurrencyPolicy ?? 'Allow';
    if (policy === 'Forbid' && active.length) {
      recorder.event(cronJob, 'Normal', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid');
      // Retried when the running Job finishes (its update wakes us) or at the next time.
      return finish();
    }
    if (policy === 'Replace') {
      for (const ref of [...active]) {
        const job = ownedByName.get(ref.name) ?? ({ metadata: { name: ref.name, namespace, uid: ref.uid } } as KubeObject);
        if (await deleteJob(cronJob, job)) active = active.filter((r) => r.uid !== ref.uid);
      }
    }

    let created: KubeObject;
    try {
      created = await jobClient.create(namespace, jobFromTemplate(cronJob, scheduled));
      recorder.event(cronJob, 'Normal', 'SuccessfulCreate', `Created job ${created.metadata.name}`);
    } catch (err) {
      if (!isAlreadyExists(err)) {
        recorder.event(cronJob, 'Warning', 'FailedCreate', `Error creating job: ${(err as Error).message}`);
        await finish();
        throw err;
      }
      // Our own earlier create that the cache has not shown yet, or someone else's Job.
      created = await jobClient.get(namespace, jobName);
      if (getControllerOf(created)?.uid !== cronJob.metadata.uid) return finish();
    }
    if (!jobFinished(created) && !active.some((r) => r.uid === created.metadata.uid)) active.push(objectReference(created));
    status.lastScheduleTime = formatTime(scheduled);
    return finish();
  }

  return {
    name: 'cronjob',
    reconcile,
    hasSynced: () => cronJobs.hasSynced() && jobs.hasSynced(),
    start: (signal) =>
      runController({ name: 'cronjob', queue, informers: [cronJobs, jobs], reconcile, workers: options.workers ?? 2, signal, logger: log }).catch((err) => {
        log('error', 'controller stopped', { controller: 'cronjob', error: String(err) });
      }),
  };
}
