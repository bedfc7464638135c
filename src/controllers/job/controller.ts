// The Job controller: runs pods until `completions` succeed (or, with no completions, until
// one does), at most `parallelism` at a time; Indexed jobs give each pod a completion index.
// Pods carry the `batch.kubernetes.io/job-tracking` finalizer so no finished pod is lost
// before it is counted: a finished pod is first recorded in status.uncountedTerminatedPods,
// then its finalizer is removed, then it moves into succeeded/failed — each step persisted
// before the next, so a restart in between neither loses nor double-counts it.
// Failures are retried after 10 s·2^(n-1) (≤ 6 min) until backoffLimit; activeDeadlineSeconds
// bounds the run; suspend deletes active pods. Finishing follows 1.31: a FailureTarget or
// SuccessCriteriaMet condition first, then Failed/Complete once no pod is left running.
import type { KubeObject } from '../../api/types.js';
import { labelSelectorAsSelector, matches } from '../../api/selectors/labels.js';
import type { Client } from '../../client/client.js';
import { objectKey, splitObjectKey } from '../../client/client.js';
import type { Clock } from '../../client/clock.js';
import { isNotFound } from '../../client/errors.js';
import type { Logger, SharedInformerFactory } from '../../client/informer.js';
import { objectFromDeleted } from '../../client/informer.js';
import { RateLimitingQueue } from '../../client/workqueue.js';
import { runController, type Controller, type ReconcileResult } from '../framework/controller.js';
import { controllerUidIndexFunc, getControllerOf, newControllerRef } from '../framework/controller-ref.js';
import { formatTime, type EventRecorder } from '../framework/events.js';
import { ControllerExpectations } from '../framework/expectations.js';
import { isPodReady } from '../framework/pods.js';
import { jobsResource, podsRelatedIndex, podsResource } from '../framework/resources.js';
import { slowStartBatch } from '../framework/slow-start.js';
import { podsToDelete } from '../replicaset/ranking.js';
import {
  backoffFromPods,
  completionIndexAnnotation,
  controllerUidLabel,
  formatIndexes,
  jobNameLabel,
  jobTrackingFinalizer,
  legacyControllerUidLabel,
  legacyJobNameLabel,
  parseIndexes,
  podFailureBackoffMs,
  podIndex,
} from './util.js';

export interface JobControllerOptions {
  client: Client;
  informerFactory: SharedInformerFactory;
  clock: Clock;
  recorder: EventRecorder;
  workers?: number;
  logger?: Logger;
}

interface JobCondition {
  type: string;
  status: 'True' | 'False';
  lastProbeTime: string;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

/** batch/v1 defaults, applied to our working copy in case the API server stored the Job without them. */
export function withJobDefaults(job: KubeObject): KubeObject {
  const spec = (job.spec ??= {});
  if (spec.completions === undefined && spec.parallelism === undefined) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  spec.parallelism ??= 1;
  spec.backoffLimit ??= 6;
  spec.completionMode ??= 'NonIndexed';
  spec.suspend ??= false;
  spec.selector ??= { matchLabels: { [controllerUidLabel]: job.metadata.uid } };
  return job;
}

const condition = (status: any, type: string): JobCondition | undefined => (status?.conditions ?? []).find((c: JobCondition) => c.type === type);
const isTrue = (status: any, type: string) => condition(status, type)?.status === 'True';

export function jobFinished(job: KubeObject): boolean {
  return isTrue(job.status, 'Complete') || isTrue(job.status, 'Failed');
}

const podSucceeded = (pod: KubeObject) => pod.status?.phase === 'Succeeded';
const podFailed = (pod: KubeObject) => pod.status?.phase === 'Failed';
const podFinished = (pod: KubeObject) => podSucceeded(pod) || podFailed(pod);
const hasTrackingFinalizer = (pod: KubeObject) => (pod.metadata.finalizers ?? []).includes(jobTrackingFinalizer);

export function createJobController(options: JobControllerOptions): Controller {
  const { client, clock, recorder } = options;
  const log = options.logger ?? (() => undefined);
  const jobs = options.informerFactory.forResource(jobsResource);
  const pods = options.informerFactory.forResource(podsResource, { indexers: { [podsRelatedIndex]: controllerUidIndexFunc } });
  const jobClient = client.resource(jobsResource);
  const podClient = client.resource(podsResource);
  const queue = new RateLimitingQueue<string>({ clock });
  const expectations = new ControllerExpectations(clock);
  /** Failures since the last success and when the last one was seen, per job (Kubernetes' backoffRecordStore). */
  const backoffRecords = new Map<string, { failures: number; lastFailureMs: number }>();
  /** Pods this controller deleted itself (excess, suspend, finishing): their deletion is not a failure. */
  const deletedByController = new Set<string>();
  const now = () => formatTime(clock.now());

  function jobForPod(pod: KubeObject): KubeObject | undefined {
    const ref = getControllerOf(pod);
    if (!ref || ref.kind !== 'Job') return undefined;
    const job = jobs.getIndexer().getByName(pod.metadata.namespace, ref.name);
    return job && job.metadata.uid === ref.uid ? job : undefined;
  }

  jobs.addEventHandler({
    onAdd: (j) => queue.add(objectKey(j)),
    onUpdate: (_o, j) => queue.add(objectKey(j)),
    onDelete: (d) => {
      const key = objectKey(objectFromDeleted(d));
      expectations.delete(key);
      backoffRecords.delete(key);
      queue.add(key);
    },
  });
  pods.addEventHandler({
    onAdd(pod) {
      const job = jobForPod(pod);
      if (!job) return;
      expectations.creationObserved(objectKey(job));
      queue.add(objectKey(job));
    },
    onUpdate(old, pod) {
      const job = jobForPod(pod) ?? jobForPod(old);
      if (!job) return;
      if (pod.metadata.deletionTimestamp && !old.metadata.deletionTimestamp) expectations.deletionObserved(objectKey(job), objectKey(pod));
      queue.add(objectKey(job));
    },
    onDelete(deleted) {
      const pod = objectFromDeleted(deleted);
      deletedByController.delete(pod.metadata.uid!);
      const job = jobForPod(pod);
      if (!job) return;
      expectations.deletionObserved(objectKey(job), objectKey(pod));
      queue.add(objectKey(job));
    },
  });

  async function removeTrackingFinalizer(pod: KubeObject): Promise<void> {
    if (!hasTrackingFinalizer(pod)) return;
    const finalizers = (pod.metadata.finalizers ?? []).filter((f) => f !== jobTrackingFinalizer);
    try {
      await podClient.patch(pod.metadata.namespace, pod.metadata.name!, 'merge', { metadata: { finalizers: finalizers.length ? finalizers : null, resourceVersion: pod.metadata.resourceVersion } });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  async function deletePod(job: KubeObject, pod: KubeObject): Promise<void> {
    deletedByController.add(pod.metadata.uid!);
    try {
      await podClient.delete(pod.metadata.namespace, pod.metadata.name!, { preconditions: { uid: pod.metadata.uid } });
      recorder.event(job, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
    } catch (err) {
      if (!isNotFound(err)) {
        recorder.event(job, 'Warning', 'FailedDelete', `Error deleting: ${(err as Error).message}`);
        throw err;
      }
    }
  }

  function podForIndex(job: KubeObject, index: number | undefined): KubeObject {
    const template = job.spec.template ?? {};
    const name = job.metadata.name!;
    const uid = job.metadata.uid!;
    const labels: Record<string, string> = { ...(template.metadata?.labels ?? {}), [controllerUidLabel]: uid, [jobNameLabel]: name, [legacyControllerUidLabel]: uid, [legacyJobNameLabel]: name };
    const annotations: Record<string, string> = { ...(template.metadata?.annotations ?? {}) };
    const spec = structuredClone(template.spec ?? {});
    if (index !== undefined) {
      annotations[completionIndexAnnotation] = String(index);
      labels[completionIndexAnnotation] = String(index);
      spec.hostname ??= `${name}-${index}`;
      const env = { name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${completionIndexAnnotation}']` } } };
      for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
        if (!(c.env ?? []).some((e: { name: string }) => e.name === env.name)) c.env = [...(c.env ?? []), structuredClone(env)];
      }
    }
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        generateName: index !== undefined ? `${name}-${index}-` : `${name}-`,
        namespace: job.metadata.namespace,
        labels,
        annotations,
        finalizers: [...(template.metadata?.finalizers ?? []), jobTrackingFinalizer],
        ownerReferences: [newControllerRef(job, 'batch/v1', 'Job')],
      },
      spec,
    };
  }

  /** Pods the job controls, adopting matching orphans. */
  async function claimPods(job: KubeObject): Promise<KubeObject[]> {
    const owned = pods.getIndexer().byIndex(podsRelatedIndex, job.metadata.uid!);
    const selector = labelSelectorAsSelector(job.spec.selector);
    const orphans = pods.getIndexer().listByNamespace(job.metadata.namespace!).filter((p) => !getControllerOf(p) && !p.metadata.deletionTimestamp && matches(selector, p.metadata.labels));
    if (!orphans.length || job.metadata.deletionTimestamp) return owned;
    const fresh = await jobClient.get(job.metadata.namespace, job.metadata.name!).catch(() => undefined);
    if (!fresh || fresh.metadata.uid !== job.metadata.uid || fresh.metadata.deletionTimestamp) return owned;
    const adopted: KubeObject[] = [];
    for (const pod of orphans) {
      try {
        adopted.push(
          await podClient.patch(pod.metadata.namespace, pod.metadata.name!, 'merge', {
            metadata: { ownerReferences: [...(pod.metadata.ownerReferences ?? []), newControllerRef(job, 'batch/v1', 'Job')], resourceVersion: pod.metadata.resourceVersion },
          }),
        );
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    return [...owned, ...adopted];
  }

  function setCondition(status: any, type: string, value: 'True' | 'False', reason: string, message: string): boolean {
    const existing = condition(status, type);
    if (existing && existing.status === value && existing.reason === reason && existing.message === message) return false;
    const next: JobCondition = { type, status: value, lastProbeTime: now(), lastTransitionTime: existing && existing.status === value ? existing.lastTransitionTime : now(), reason, message };
    status.conditions = existing ? status.conditions.map((c: JobCondition) => (c.type === type ? next : c)) : [...(status.conditions ?? []), next];
    return true;
  }

  async function writeStatus(job: KubeObject, status: any): Promise<void> {
    if (JSON.stringify(status) === JSON.stringify(job.status ?? {})) return;
    const updated = await jobClient.updateStatus({ ...job, status });
    job.metadata = updated.metadata;
    job.status = updated.status;
  }

  async function reconcile(key: string): Promise<ReconcileResult | void> {
    const { namespace, name } = splitObjectKey(key);
    const cached = jobs.getIndexer().getByName(namespace, name);
    if (!cached) return;
    const job = withJobDefaults(structuredClone(cached));
    const all = await claimPods(job);
    if (jobFinished(job)) {
      // Whatever is left is not counted any more; just let it go.
      for (const pod of all) await removeTrackingFinalizer(pod);
      return;
    }
    const indexed = job.spec.completionMode === 'Indexed';
    const completions: number | undefined = job.spec.completions ?? undefined;
    const status: any = structuredClone(job.status ?? {});
    const uncounted = { succeeded: [...(status.uncountedTerminatedPods?.succeeded ?? [])], failed: [...(status.uncountedTerminatedPods?.failed ?? [])] };
    const finishing = isTrue(status, 'FailureTarget') || isTrue(status, 'SuccessCriteriaMet');
    const completed = indexed ? parseIndexes(status.completedIndexes, completions ?? 0) : new Set<number>();

    // 1. Record newly finished pods before touching their finalizers.
    // After a restart the record is rebuilt from the pods, so a crash never skips a backoff.
    // Pods still carrying the finalizer and not yet recorded are counted just below, not here.
    const recorded = (p: KubeObject) => !hasTrackingFinalizer(p) || uncounted.succeeded.includes(p.metadata.uid!) || uncounted.failed.includes(p.metadata.uid!);
    const record = backoffRecords.get(key) ?? backoffFromPods(all.filter(recorded));
    for (const pod of all) {
      if (!hasTrackingFinalizer(pod)) continue;
      const uid = pod.metadata.uid!;
      if (uncounted.succeeded.includes(uid) || uncounted.failed.includes(uid)) continue;
      if (podSucceeded(pod)) {
        if (indexed) {
          const i = podIndex(pod, completions ?? 0);
          // A duplicate or out-of-range index adds no completion.
          if (i !== undefined) completed.add(i);
        }
        uncounted.succeeded.push(uid);
        record.failures = 0;
      } else if (podFailed(pod) || (pod.metadata.deletionTimestamp && !deletedByController.has(uid) && !job.spec.suspend && !finishing)) {
        uncounted.failed.push(uid);
        record.failures++;
        record.lastFailureMs = clock.now();
      } else if (pod.metadata.deletionTimestamp) {
        // Deleted by us (or while finishing/suspended): not a failure, nothing to count.
        await removeTrackingFinalizer(pod);
      }
    }
    backoffRecords.set(key, record);
    if (!job.spec.suspend && !status.startTime) status.startTime = now();
    status.uncountedTerminatedPods = { ...(uncounted.succeeded.length ? { succeeded: uncounted.succeeded } : {}), ...(uncounted.failed.length ? { failed: uncounted.failed } : {}) };
    if (indexed) status.completedIndexes = formatIndexes(completed);
    await writeStatus(job, status);

    // 2. Counted safely: remove finalizers. 3. Then move them into succeeded/failed.
    const byUid = new Map(all.map((p) => [p.metadata.uid!, p]));
    for (const uid of [...uncounted.succeeded, ...uncounted.failed]) {
      const pod = byUid.get(uid);
      if (pod) await removeTrackingFinalizer(pod);
    }
    status.succeeded = (status.succeeded ?? 0) + uncounted.succeeded.length;
    status.failed = (status.failed ?? 0) + uncounted.failed.length;
    if (!status.succeeded) delete status.succeeded;
    if (!status.failed) delete status.failed;
    status.uncountedTerminatedPods = {};

    const active = all.filter((p) => !podFinished(p) && !p.metadata.deletionTimestamp);
    const terminating = all.filter((p) => !podFinished(p) && p.metadata.deletionTimestamp);
    const succeeded = status.succeeded ?? 0;
    const failed = status.failed ?? 0;
    let requeueAfterMs: number | undefined;

    // Finish: decide the target, stop what still runs, then the final condition.
    if (!isTrue(status, 'FailureTarget') && !isTrue(status, 'SuccessCriteriaMet')) {
      const deadlineMs = job.spec.activeDeadlineSeconds ? Date.parse(status.startTime) + job.spec.activeDeadlineSeconds * 1000 : undefined;
      const succeededAll = indexed ? completed.size >= (completions ?? 0) : completions !== undefined ? succeeded >= completions : succeeded > 0 && active.length === 0;
      if (succeededAll) setCondition(status, 'SuccessCriteriaMet', 'True', 'CompletionsReached', 'Reached expected number of succeeded pods');
      else if (failed > job.spec.backoffLimit) setCondition(status, 'FailureTarget', 'True', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit');
      else if (!job.spec.suspend && deadlineMs !== undefined && clock.now() >= deadlineMs) setCondition(status, 'FailureTarget', 'True', 'DeadlineExceeded', 'Job was active longer than specified deadline');
      else if (!job.spec.suspend && deadlineMs !== undefined) requeueAfterMs = deadlineMs - clock.now();
    }
    const target = condition(status, 'FailureTarget')?.status === 'True' ? condition(status, 'FailureTarget') : condition(status, 'SuccessCriteriaMet')?.status === 'True' ? condition(status, 'SuccessCriteriaMet') : undefined;
    if (target) {
      for (const pod of active) await deletePod(job, pod);
      const stillRunning = active.length + terminating.length > 0;
      status.active = 0;
      if (!stillRunning) {
        if (target.type === 'SuccessCriteriaMet') {
          setCondition(status, 'Complete', 'True', target.reason, target.message);
          status.completionTime = now();
          recorder.event(job, 'Normal', 'Completed', 'Job completed');
        } else {
          setCondition(status, 'Failed', 'True', target.reason, target.message);
          recorder.event(job, 'Warning', target.reason, target.message);
        }
      }
      status.ready = 0;
      status.terminating = terminating.length + (stillRunning ? active.length : 0);
      await writeStatus(job, compact(status));
      return;
    }

    // Suspend / resume.
    if (job.spec.suspend) {
      for (const pod of active) await deletePod(job, pod);
      if (setCondition(status, 'Suspended', 'True', 'JobSuspended', 'Job suspended')) recorder.event(job, 'Normal', 'Suspended', 'Job suspended');
      status.active = 0;
      status.ready = 0;
      status.terminating = terminating.length + active.length;
      await writeStatus(job, compact(status));
      return;
    }
    if (isTrue(status, 'Suspended')) {
      setCondition(status, 'Suspended', 'False', 'JobResumed', 'Job resumed');
      recorder.event(job, 'Normal', 'Resumed', 'Job resumed');
      status.startTime = now();
    }

    // manageJob: as many active pods as parallelism and the remaining work allow.
    let activeCount = active.length;
    if (expectations.satisfied(key)) {
      const parallelism = job.spec.parallelism;
      let wantActive: number;
      if (indexed) wantActive = Math.min(parallelism, (completions ?? 0) - completed.size);
      else if (completions === undefined) wantActive = succeeded > 0 ? 0 : parallelism;
      else wantActive = Math.max(0, Math.min(completions - succeeded, parallelism));

      // Indexed: one active pod per index; duplicates and indexes already done go first.
      let excess: KubeObject[] = [];
      const missingIndexes: number[] = [];
      if (indexed) {
        const seen = new Set<number>();
        const keep: KubeObject[] = [];
        for (const pod of active) {
          const i = podIndex(pod, completions ?? 0);
          if (i === undefined || completed.has(i) || seen.has(i)) excess.push(pod);
          else {
            seen.add(i);
            keep.push(pod);
          }
        }
        const surplus = keep.length > wantActive ? podsToDelete(keep, all, keep.length - wantActive, clock.now()) : [];
        excess.push(...surplus);
        const slots = Math.max(0, wantActive - (keep.length - surplus.length));
        for (let i = 0; i < (completions ?? 0) && missingIndexes.length < slots; i++) {
          if (!completed.has(i) && !seen.has(i)) missingIndexes.push(i);
        }
      } else if (active.length > wantActive) {
        excess = podsToDelete(active, all, active.length - wantActive, clock.now());
      }

      if (excess.length) {
        expectations.expectDeletions(key, excess.map((p) => objectKey(p)));
        for (const pod of excess) await deletePod(job, pod);
        activeCount -= excess.length;
      } else {
        const toCreate = indexed ? missingIndexes.length : wantActive - active.length;
        const waitMs = record.failures > 0 ? record.lastFailureMs + podFailureBackoffMs(record.failures) - clock.now() : 0;
        if (toCreate > 0 && waitMs > 0) requeueAfterMs = Math.min(requeueAfterMs ?? Infinity, waitMs);
        else if (toCreate > 0) {
          expectations.expectCreations(key, toCreate);
          const result = await slowStartBatch(toCreate, 1, async (n) => {
            try {
              const created = await podClient.create(job.metadata.namespace, podForIndex(job, indexed ? missingIndexes[n] : undefined));
              recorder.event(job, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata.name}`);
            } catch (err) {
              expectations.creationObserved(key);
              recorder.event(job, 'Warning', 'FailedCreate', `Error creating: ${(err as Error).message}`);
              throw err;
            }
          });
          for (let i = 0; i < toCreate - result.successes - (result.error ? 1 : 0); i++) expectations.creationObserved(key);
          activeCount += result.successes;
          if (result.error) {
            await writeStatus(job, compact({ ...status, active: activeCount }));
            throw result.error;
          }
        }
      }
    }
    status.active = activeCount;
    status.ready = active.filter(isPodReady).length;
    status.terminating = terminating.length;
    await writeStatus(job, compact(status));
    if (requeueAfterMs !== undefined) return { requeueAfterMs: Math.max(1, requeueAfterMs) };
  }

  /** omitempty for active/succeeded/failed; ready and terminating are pointers, always present. */
  function compact(status: any): any {
    const out = { ...status };
    for (const k of ['active', 'succeeded', 'failed']) if (!out[k]) delete out[k];
    return out;
  }

  return {
    name: 'job',
    reconcile,
    hasSynced: () => jobs.hasSynced() && pods.hasSynced(),
    start: (signal) =>
      runController({ name: 'job', queue, informers: [jobs, pods], reconcile, workers: options.workers ?? 5, signal, logger: log }).catch((err) => {
        log('error', 'controller stopped', { controller: 'job', error: String(err) });
      }),
  };
}
