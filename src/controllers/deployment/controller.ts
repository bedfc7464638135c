// The Deployment controller: rolls a Deployment's pod template out through ReplicaSets named
// `<deployment>-<pod-template-hash>`, with RollingUpdate or Recreate, revision annotations
// (what `kubectl rollout history/undo` read), proportional scaling of a rollout in flight,
// pause/resume, revision history cleanup and the Available/Progressing conditions that
// `kubectl rollout status` waits on. The algorithm is Kubernetes' pkg/controller/deployment.
import type { KubeObject } from '../../api/types.js';
import { labelSelectorAsSelector, matches, type Selector } from '../../api/selectors/labels.js';
import type { Client } from '../../client/client.js';
import { objectKey, splitObjectKey } from '../../client/client.js';
import type { Clock } from '../../client/clock.js';
import { isAlreadyExists, isNotFound } from '../../client/errors.js';
import type { Logger, SharedInformerFactory } from '../../client/informer.js';
import { objectFromDeleted } from '../../client/informer.js';
import { RateLimitingQueue } from '../../client/workqueue.js';
import { runController, type Controller, type ReconcileResult } from '../framework/controller.js';
import { controllerUidIndexFunc, getControllerOf, newControllerRef } from '../framework/controller-ref.js';
import { formatTime, type EventRecorder } from '../framework/events.js';
import { deploymentsResource, podsRelatedIndex, podsResource, replicaSetsResource } from '../framework/resources.js';
import { canonicalJson } from '../../util/json.js';
import { computeTemplateHash } from './hash.js';
import {
  byCreation,
  desiredReplicasAnnotation,
  isRollingUpdate,
  maxReplicasAnnotation,
  maxSurge,
  maxUnavailable,
  newReplicaSetReplicas,
  podTemplateHashLabel,
  proportionalSizes,
  replicasOf,
  revisionAnnotation,
  revisionHistoryAnnotation,
  revisionOf,
  sumSpecReplicas,
  sumStatus,
} from './rolling.js';

export interface DeploymentControllerOptions {
  client: Client;
  informerFactory: SharedInformerFactory;
  clock: Clock;
  recorder: EventRecorder;
  workers?: number;
  logger?: Logger;
}

const maxRevisionHistoryLengthInChars = 2000;
const maxInt32 = 2147483647;

/** Annotations of a Deployment that are not copied to its ReplicaSets. */
const skipCopyAnnotations = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  revisionAnnotation,
  revisionHistoryAnnotation,
  desiredReplicasAnnotation,
  maxReplicasAnnotation,
  'deprecated.deployment.rollback.to',
]);

export interface DeploymentCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  lastUpdateTime?: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

function getCondition(status: any, type: string): DeploymentCondition | undefined {
  return (status?.conditions ?? []).find((c: DeploymentCondition) => c.type === type);
}

/** SetDeploymentCondition: same status and reason is no change; same status keeps lastTransitionTime. */
export function setCondition(status: any, condition: DeploymentCondition): void {
  const current = getCondition(status, condition.type);
  if (current && current.status === condition.status && current.reason === condition.reason) return;
  if (current && current.status === condition.status) condition.lastTransitionTime = current.lastTransitionTime;
  status.conditions = [...(status.conditions ?? []).filter((c: DeploymentCondition) => c.type !== condition.type), condition];
}

function removeCondition(status: any, type: string): void {
  if (!status.conditions) return;
  status.conditions = status.conditions.filter((c: DeploymentCondition) => c.type !== type);
  if (!status.conditions.length) delete status.conditions;
}

function hasProgressDeadline(d: KubeObject): boolean {
  const s = d.spec?.progressDeadlineSeconds;
  return s !== undefined && s !== null && s !== maxInt32;
}

/** Templates are equal once the pod-template-hash label is ignored (EqualIgnoreHash). */
export function equalIgnoreHash(a: any, b: any): boolean {
  const strip = (t: any) => {
    const copy = structuredClone(t ?? {});
    if (copy.metadata?.labels) {
      delete copy.metadata.labels[podTemplateHashLabel];
      if (!Object.keys(copy.metadata.labels).length) delete copy.metadata.labels;
    }
    if (copy.metadata && !Object.keys(copy.metadata).length) delete copy.metadata;
    return canonicalJson(copy);
  };
  return strip(a) === strip(b);
}

/** DeploymentComplete: every replica updated and available, and the latest spec observed. */
export function deploymentComplete(d: KubeObject, status: any): boolean {
  const replicas = replicasOf(d);
  return (status.updatedReplicas ?? 0) === replicas && (status.replicas ?? 0) === replicas && (status.availableReplicas ?? 0) === replicas && (status.observedGeneration ?? 0) >= (d.metadata.generation ?? 0);
}

/** DeploymentProgressing: more updated, fewer old, more ready or more available pods than last time. */
export function deploymentProgressing(d: KubeObject, status: any): boolean {
  const old = d.status ?? {};
  const oldOld = (old.replicas ?? 0) - (old.updatedReplicas ?? 0);
  const newOld = (status.replicas ?? 0) - (status.updatedReplicas ?? 0);
  return (status.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) || newOld < oldOld || (status.readyReplicas ?? 0) > (old.readyReplicas ?? 0) || (status.availableReplicas ?? 0) > (old.availableReplicas ?? 0);
}

export function deploymentTimedOut(d: KubeObject, status: any, now: number): boolean {
  if (!hasProgressDeadline(d)) return false;
  const cond = getCondition(status, 'Progressing');
  if (!cond) return false;
  if (cond.reason === 'NewReplicaSetAvailable') return false;
  if (cond.reason === 'ProgressDeadlineExceeded') return true;
  const from = Date.parse(cond.lastUpdateTime ?? '');
  return !Number.isNaN(from) && from + d.spec.progressDeadlineSeconds * 1000 < now;
}

/** Omits zero counts, as Kubernetes' omitempty does, so an unchanged status compares equal. */
function compactStatus(status: any): any {
  const out: any = {};
  for (const [k, v] of Object.entries(status)) {
    if (v === undefined || v === null || v === 0) continue;
    out[k] = v;
  }
  return out;
}

/**
 * Kubernetes' apps/v1 defaults, applied to our working copy in case the API server stored the
 * Deployment without them (we never write spec back, so this only shapes our decisions).
 */
export function withDeploymentDefaults(d: KubeObject): KubeObject {
  const spec = (d.spec ??= {});
  spec.replicas ??= 1;
  spec.strategy ??= {};
  spec.strategy.type ??= 'RollingUpdate';
  if (spec.strategy.type === 'RollingUpdate') {
    spec.strategy.rollingUpdate ??= {};
    spec.strategy.rollingUpdate.maxSurge ??= '25%';
    spec.strategy.rollingUpdate.maxUnavailable ??= '25%';
  }
  spec.revisionHistoryLimit ??= 10;
  spec.progressDeadlineSeconds ??= 600;
  return d;
}

export function createDeploymentController(options: DeploymentControllerOptions): Controller {
  const { client, clock, recorder } = options;
  const log = options.logger ?? (() => undefined);
  const deployments = options.informerFactory.forResource(deploymentsResource);
  const replicaSets = options.informerFactory.forResource(replicaSetsResource);
  const pods = options.informerFactory.forResource(podsResource, { indexers: { [podsRelatedIndex]: controllerUidIndexFunc } });
  const deploymentClient = client.resource(deploymentsResource);
  const rsClient = client.resource(replicaSetsResource);
  const queue = new RateLimitingQueue<string>({ clock });
  const now = () => formatTime(clock.now());

  const enqueue = (d: KubeObject) => queue.add(objectKey(d));

  function deploymentFor(rs: KubeObject): KubeObject | undefined {
    const ref = getControllerOf(rs);
    if (!ref || ref.kind !== 'Deployment') return undefined;
    const d = deployments.getIndexer().getByName(rs.metadata.namespace, ref.name);
    return d && d.metadata.uid === ref.uid ? d : undefined;
  }

  function deploymentsMatching(rs: KubeObject): KubeObject[] {
    return deployments
      .getIndexer()
      .listByNamespace(rs.metadata.namespace!)
      .filter((d) => {
        const selector = labelSelectorAsSelector(d.spec?.selector);
        return selector.requirements.length > 0 && matches(selector, rs.metadata.labels);
      });
  }

  deployments.addEventHandler({ onAdd: enqueue, onUpdate: (_o, d) => enqueue(d), onDelete: (d) => enqueue(objectFromDeleted(d)) });
  replicaSets.addEventHandler({
    onAdd(rs) {
      const d = deploymentFor(rs);
      if (d) return enqueue(d);
      if (!getControllerOf(rs)) for (const m of deploymentsMatching(rs)) enqueue(m);
    },
    onUpdate(old, rs) {
      if (old.metadata.resourceVersion === rs.metadata.resourceVersion) return;
      const oldRef = getControllerOf(old);
      if (oldRef && oldRef.uid !== getControllerOf(rs)?.uid) {
        const oldD = deploymentFor(old);
        if (oldD) enqueue(oldD);
      }
      const d = deploymentFor(rs);
      if (d) return enqueue(d);
      if (!getControllerOf(rs)) for (const m of deploymentsMatching(rs)) enqueue(m);
    },
    onDelete(deleted) {
      const d = deploymentFor(objectFromDeleted(deleted));
      if (d) enqueue(d);
    },
  });
  // Recreate waits for old pods to be gone before scaling the new ReplicaSet up.
  pods.addEventHandler({
    onDelete(deleted) {
      const pod = objectFromDeleted(deleted);
      const ref = getControllerOf(pod);
      if (!ref || ref.kind !== 'ReplicaSet') return;
      const rs = replicaSets.getIndexer().getByName(pod.metadata.namespace, ref.name);
      const d = rs && deploymentFor(rs);
      if (d && !isRollingUpdate(d)) enqueue(d);
    },
  });

  // ---- ownership -------------------------------------------------------------------------

  async function canAdopt(d: KubeObject): Promise<boolean> {
    try {
      const fresh = await deploymentClient.get(d.metadata.namespace, d.metadata.name!);
      return fresh.metadata.uid === d.metadata.uid && !fresh.metadata.deletionTimestamp;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  /** ClaimReplicaSets: the ReplicaSets this Deployment controls, adopting and releasing by selector. Returns copies. */
  async function claimReplicaSets(d: KubeObject, selector: Selector): Promise<KubeObject[]> {
    const claimed: KubeObject[] = [];
    let adoptable: boolean | undefined;
    for (const rs of replicaSets.getIndexer().listByNamespace(d.metadata.namespace!)) {
      const ref = getControllerOf(rs);
      const selected = matches(selector, rs.metadata.labels);
      if (ref) {
        if (ref.uid !== d.metadata.uid) continue;
        if (selected) claimed.push(structuredClone(rs));
        else if (!d.metadata.deletionTimestamp) {
          const refs = (rs.metadata.ownerReferences ?? []).filter((r) => r.uid !== d.metadata.uid);
          await rsClient
            .patch(rs.metadata.namespace, rs.metadata.name!, 'merge', { metadata: { ownerReferences: refs.length ? refs : null, resourceVersion: rs.metadata.resourceVersion } })
            .catch((err) => {
              if (!isNotFound(err)) throw err;
            });
        }
        continue;
      }
      if (!selected || d.metadata.deletionTimestamp || rs.metadata.deletionTimestamp) continue;
      adoptable ??= await canAdopt(d);
      if (!adoptable) continue;
      try {
        const adopted = await rsClient.patch(rs.metadata.namespace, rs.metadata.name!, 'merge', {
          metadata: { ownerReferences: [...(rs.metadata.ownerReferences ?? []), newControllerRef(d, 'apps/v1', 'Deployment')], resourceVersion: rs.metadata.resourceVersion },
        });
        claimed.push(adopted);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    return claimed;
  }

  // ---- writes ----------------------------------------------------------------------------

  /**
   * The revision annotation goes through /status (which takes annotations, as Kubernetes' status
   * strategy does), guarded by resourceVersion: the controller's role may update deployments/status
   * but not patch the Deployment itself.
   */
  async function setDeploymentRevision(d: KubeObject, revision: string): Promise<void> {
    if (d.metadata.annotations?.[revisionAnnotation] === revision) return;
    const updated = await deploymentClient.updateStatus({ ...d, metadata: { ...d.metadata, annotations: { ...(d.metadata.annotations ?? {}), [revisionAnnotation]: revision } } });
    d.metadata = updated.metadata;
  }

  async function writeStatus(d: KubeObject, status: any): Promise<void> {
    const updated = await deploymentClient.updateStatus({ ...d, status });
    d.metadata = updated.metadata;
    d.status = updated.status;
  }

  function setReplicasAnnotations(rs: KubeObject, desired: number, max: number): boolean {
    const annotations = (rs.metadata.annotations ??= {});
    let changed = false;
    if (annotations[desiredReplicasAnnotation] !== String(desired)) {
      annotations[desiredReplicasAnnotation] = String(desired);
      changed = true;
    }
    if (annotations[maxReplicasAnnotation] !== String(max)) {
      annotations[maxReplicasAnnotation] = String(max);
      changed = true;
    }
    return changed;
  }

  /** SetNewReplicaSetAnnotations: copies the Deployment's annotations (change-cause…) and stamps the revision. */
  function setNewReplicaSetAnnotations(d: KubeObject, rs: KubeObject, newRevision: string, exists: boolean): boolean {
    const annotations = (rs.metadata.annotations ??= {});
    let changed = false;
    for (const [k, v] of Object.entries(d.metadata.annotations ?? {})) {
      if (skipCopyAnnotations.has(k) || annotations[k] === v) continue;
      annotations[k] = v;
      changed = true;
    }
    const oldRevision = annotations[revisionAnnotation];
    const oldRevisionNumber = oldRevision && /^\d+$/.test(oldRevision) ? Number(oldRevision) : 0;
    if (oldRevisionNumber < Number(newRevision)) {
      annotations[revisionAnnotation] = newRevision;
      changed = true;
      // Reusing an old ReplicaSet (a rollback): remember the revisions it used to be.
      if (oldRevision) {
        const history = annotations[revisionHistoryAnnotation];
        if (!history) annotations[revisionHistoryAnnotation] = oldRevision;
        else {
          const revisions = history.split(',');
          let length = history.length + oldRevision.length + 1;
          let start = 0;
          while (length > maxRevisionHistoryLengthInChars && start < revisions.length) length -= revisions[start++]!.length + 1;
          if (length <= maxRevisionHistoryLengthInChars) annotations[revisionHistoryAnnotation] = [...revisions.slice(start), oldRevision].join(',');
        }
      }
    }
    if (!exists && setReplicasAnnotations(rs, replicasOf(d), replicasOf(d) + maxSurge(d))) changed = true;
    return changed;
  }

  /** scaleReplicaSet: resize (and re-stamp desired/max annotations), with a ScalingReplicaSet event. */
  async function scaleReplicaSet(rs: KubeObject, newScale: number, d: KubeObject): Promise<boolean> {
    const oldScale = rs.spec?.replicas ?? 0;
    const copy = structuredClone(rs);
    const sizeChanged = oldScale !== newScale;
    const annotationsChanged = setReplicasAnnotations(copy, replicasOf(d), replicasOf(d) + maxSurge(d));
    if (!sizeChanged && !annotationsChanged) return false;
    copy.spec.replicas = newScale;
    const updated = await rsClient.update(copy);
    Object.assign(rs, updated);
    if (sizeChanged) {
      recorder.event(d, 'Normal', 'ScalingReplicaSet', `Scaled ${oldScale < newScale ? 'up' : 'down'} replica set ${rs.metadata.name} to ${newScale} from ${oldScale}`);
    }
    return sizeChanged;
  }

  async function scaleAndRecord(rs: KubeObject, newScale: number, d: KubeObject): Promise<boolean> {
    if ((rs.spec?.replicas ?? 0) === newScale) return false;
    return scaleReplicaSet(rs, newScale, d);
  }

  // ---- revisions and the new ReplicaSet -------------------------------------------------

  function splitReplicaSets(d: KubeObject, rsList: KubeObject[]): { newRS?: KubeObject; oldRSs: KubeObject[] } {
    const newRS = [...rsList].sort(byCreation).find((rs) => equalIgnoreHash(rs.spec?.template, d.spec?.template));
    return { newRS, oldRSs: rsList.filter((rs) => rs !== newRS) };
  }

  /** getAllReplicaSetsAndSyncRevision: finds (or creates) the new ReplicaSet and keeps revisions in step. */
  async function getAllReplicaSets(d: KubeObject, rsList: KubeObject[], createIfMissing: boolean): Promise<{ newRS?: KubeObject; oldRSs: KubeObject[] }> {
    const { newRS: existing, oldRSs } = splitReplicaSets(d, rsList);
    const maxOldRevision = Math.max(0, ...oldRSs.map(revisionOf));
    const newRevision = String(maxOldRevision + 1);

    if (existing) {
      const copy = structuredClone(existing);
      const annotationsChanged = setNewReplicaSetAnnotations(d, copy, newRevision, true);
      const minReadyChanged = (copy.spec.minReadySeconds ?? 0) !== (d.spec.minReadySeconds ?? 0);
      if (annotationsChanged || minReadyChanged) {
        copy.spec.minReadySeconds = d.spec.minReadySeconds ?? 0;
        Object.assign(existing, await rsClient.update(copy));
      }
      await setDeploymentRevision(d, existing.metadata.annotations?.[revisionAnnotation] ?? newRevision);
      if (hasProgressDeadline(d) && !getCondition(d.status, 'Progressing')) {
        const status = structuredClone(d.status ?? {});
        setCondition(status, { type: 'Progressing', status: 'True', lastUpdateTime: now(), lastTransitionTime: now(), reason: 'FoundNewReplicaSet', message: `Found new replica set "${existing.metadata.name}"` });
        await writeStatus(d, status);
      }
      return { newRS: existing, oldRSs };
    }
    if (!createIfMissing) return { oldRSs };

    const template = structuredClone(d.spec.template ?? {});
    const hash = computeTemplateHash(template, d.status?.collisionCount);
    template.metadata = { ...(template.metadata ?? {}), labels: { ...(template.metadata?.labels ?? {}), [podTemplateHashLabel]: hash } };
    const selector = structuredClone(d.spec.selector ?? {});
    selector.matchLabels = { ...(selector.matchLabels ?? {}), [podTemplateHashLabel]: hash };
    const candidate: KubeObject = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: `${d.metadata.name}-${hash}`,
        namespace: d.metadata.namespace,
        labels: { ...template.metadata.labels },
        ownerReferences: [newControllerRef(d, 'apps/v1', 'Deployment')],
      },
      spec: { replicas: 0, minReadySeconds: d.spec.minReadySeconds ?? 0, selector, template },
    };
    candidate.spec.replicas = newReplicaSetReplicas(d, [...oldRSs, candidate], candidate);
    setNewReplicaSetAnnotations(d, candidate, newRevision, false);

    let created: KubeObject;
    let alreadyExists = false;
    try {
      created = await rsClient.create(d.metadata.namespace, candidate);
    } catch (err) {
      if (!isAlreadyExists(err)) {
        const status = structuredClone(d.status ?? {});
        const message = `Failed to create new replica set "${candidate.metadata.name}": ${(err as Error).message}`;
        recorder.event(d, 'Warning', 'ReplicaSetCreateError', message);
        if (hasProgressDeadline(d)) {
          setCondition(status, { type: 'Progressing', status: 'False', lastUpdateTime: now(), lastTransitionTime: now(), reason: 'ReplicaSetCreateError', message });
          await writeStatus(d, status).catch(() => undefined);
        }
        throw err;
      }
      // Either our own earlier create not yet in the cache, or a hash collision.
      const live = await rsClient.get(d.metadata.namespace, candidate.metadata.name!);
      if (getControllerOf(live)?.uid === d.metadata.uid && equalIgnoreHash(live.spec?.template, d.spec.template)) {
        created = live;
        alreadyExists = true;
      } else {
        const status = structuredClone(d.status ?? {});
        status.collisionCount = (status.collisionCount ?? 0) + 1;
        await writeStatus(d, status);
        throw new Error(`found a hash collision for deployment "${d.metadata.name}" - bumping collisionCount (${status.collisionCount - 1}->${status.collisionCount}) to resolve it`);
      }
    }
    if (!alreadyExists && (created.spec?.replicas ?? 0) > 0) {
      recorder.event(d, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${created.metadata.name} to ${created.spec.replicas}`);
    }
    await setDeploymentRevision(d, newRevision);
    if (!alreadyExists && hasProgressDeadline(d)) {
      const status = structuredClone(d.status ?? {});
      setCondition(status, { type: 'Progressing', status: 'True', lastUpdateTime: now(), lastTransitionTime: now(), reason: 'NewReplicaSetCreated', message: `Created new replica set "${created.metadata.name}"` });
      await writeStatus(d, status);
    }
    return { newRS: created, oldRSs };
  }

  // ---- status ----------------------------------------------------------------------------

  function calculateStatus(allRSs: KubeObject[], newRS: KubeObject | undefined, d: KubeObject): any {
    const available = sumStatus(allRSs, 'availableReplicas');
    const total = sumSpecReplicas(allRSs);
    const status: any = {
      observedGeneration: d.metadata.generation,
      replicas: sumStatus(allRSs, 'replicas'),
      updatedReplicas: newRS ? newRS.status?.replicas ?? 0 : 0,
      readyReplicas: sumStatus(allRSs, 'readyReplicas'),
      availableReplicas: available,
      unavailableReplicas: Math.max(0, total - available),
      collisionCount: d.status?.collisionCount,
    };
    const out = compactStatus(status);
    if (d.status?.conditions) out.conditions = structuredClone(d.status.conditions);
    if (available >= replicasOf(d) - maxUnavailable(d)) {
      setCondition(out, { type: 'Available', status: 'True', lastUpdateTime: now(), lastTransitionTime: now(), reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' });
    } else {
      setCondition(out, { type: 'Available', status: 'False', lastUpdateTime: now(), lastTransitionTime: now(), reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' });
    }
    return out;
  }

  const sameStatus = (a: any, b: any) => canonicalJson(compactStatus(a ?? {})) === canonicalJson(compactStatus(b ?? {}));

  async function syncStatusOnly(d: KubeObject, allRSs: KubeObject[], newRS: KubeObject | undefined): Promise<void> {
    const status = calculateStatus(allRSs, newRS, d);
    if (!sameStatus(status, d.status)) await writeStatus(d, status);
  }

  /** syncRolloutStatus: status plus the Progressing condition and the progress deadline. */
  async function syncRolloutStatus(allRSs: KubeObject[], newRS: KubeObject | undefined, d: KubeObject): Promise<ReconcileResult | void> {
    const status = calculateStatus(allRSs, newRS, d);
    if (!hasProgressDeadline(d)) removeCondition(status, 'Progressing');
    const current = getCondition(status, 'Progressing');
    const complete = status.replicas === status.updatedReplicas && current?.reason === 'NewReplicaSetAvailable';
    if (hasProgressDeadline(d) && !complete) {
      const subject = newRS ? `ReplicaSet "${newRS.metadata.name}"` : `Deployment "${d.metadata.name}"`;
      if (deploymentComplete(d, status)) {
        setCondition(status, { type: 'Progressing', status: 'True', lastUpdateTime: now(), lastTransitionTime: now(), reason: 'NewReplicaSetAvailable', message: newRS ? `${subject} has successfully progressed.` : 'Deployment has successfully progressed.' });
      } else if (deploymentProgressing(d, status)) {
        const condition: DeploymentCondition = { type: 'Progressing', status: 'True', lastUpdateTime: now(), lastTransitionTime: now(), reason: 'ReplicaSetUpdated', message: newRS ? `${subject} is progressing.` : 'Deployment is progressing.' };
        if (current?.status === 'True') condition.lastTransitionTime = current.lastTransitionTime;
        removeCondition(status, 'Progressing');
        setCondition(status, condition);
      } else if (deploymentTimedOut(d, status, clock.now())) {
        setCondition(status, { type: 'Progressing', status: 'False', lastUpdateTime: now(), lastTransitionTime: now(), reason: 'ProgressDeadlineExceeded', message: `${subject} has timed out progressing.` });
      }
    }
    const failure = allRSs.map((rs) => getCondition(rs.status, 'ReplicaFailure')).find((c) => c?.status === 'True');
    if (failure) setCondition(status, { type: 'ReplicaFailure', status: failure.status, lastUpdateTime: now(), lastTransitionTime: failure.lastTransitionTime, reason: failure.reason, message: failure.message });
    else removeCondition(status, 'ReplicaFailure');

    if (!sameStatus(status, d.status)) {
      await writeStatus(d, status);
      return;
    }
    // Nothing changed: come back when the progress deadline would pass (requeueStuckDeployment).
    const cond = getCondition(status, 'Progressing');
    if (!hasProgressDeadline(d) || !cond || complete || cond.reason === 'NewReplicaSetAvailable' || cond.reason === 'ProgressDeadlineExceeded') return;
    const after = Date.parse(cond.lastUpdateTime ?? '') + d.spec.progressDeadlineSeconds * 1000 - clock.now();
    return { requeueAfterMs: Math.max(1000, after + 1000) };
  }

  // ---- strategies --------------------------------------------------------------------------

  const active = (rss: KubeObject[]) => rss.filter((rs) => (rs.spec?.replicas ?? 0) > 0);

  /** `scale`: a resize outside a rollout, or proportional scaling in the middle of one. */
  async function scale(d: KubeObject, newRS: KubeObject | undefined, oldRSs: KubeObject[]): Promise<void> {
    const activeAll = active([...oldRSs, ...(newRS ? [newRS] : [])]);
    let activeOrLatest: KubeObject | undefined;
    if (activeAll.length === 0) activeOrLatest = newRS ?? [...oldRSs].sort(byCreation).at(-1);
    else if (activeAll.length === 1) activeOrLatest = activeAll[0];
    if (activeOrLatest || activeAll.length <= 1) {
      if (activeOrLatest && (activeOrLatest.spec?.replicas ?? 0) !== replicasOf(d)) await scaleAndRecord(activeOrLatest, replicasOf(d), d);
      return;
    }
    // Saturated: the new ReplicaSet is complete, so everything old goes.
    if (newRS && (newRS.spec?.replicas ?? 0) === replicasOf(d) && newRS.metadata.annotations?.[desiredReplicasAnnotation] === String(replicasOf(d)) && (newRS.status?.availableReplicas ?? 0) === replicasOf(d)) {
      for (const old of active(oldRSs)) await scaleAndRecord(old, 0, d);
      return;
    }
    if (!isRollingUpdate(d)) return;
    const sizes = proportionalSizes(d, activeAll);
    for (const rs of activeAll) await scaleReplicaSet(rs, sizes.get(rs.metadata.name!)!, d);
  }

  /** cleanupDeployment: delete the oldest fully scaled-down ReplicaSets beyond revisionHistoryLimit. */
  async function cleanup(d: KubeObject, oldRSs: KubeObject[]): Promise<void> {
    const limit = d.spec?.revisionHistoryLimit;
    if (limit === undefined || limit === null) return;
    const alive = oldRSs.filter((rs) => !rs.metadata.deletionTimestamp);
    const diff = alive.length - limit;
    if (diff <= 0) return;
    alive.sort((a, b) => revisionOf(a) - revisionOf(b) || byCreation(a, b));
    for (const rs of alive.slice(0, diff)) {
      if ((rs.status?.replicas ?? 0) !== 0 || (rs.spec?.replicas ?? 0) !== 0 || (rs.metadata.generation ?? 0) > (rs.status?.observedGeneration ?? 0)) continue;
      try {
        await rsClient.delete(rs.metadata.namespace, rs.metadata.name!, { preconditions: { uid: rs.metadata.uid } });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }

  async function sync(d: KubeObject, rsList: KubeObject[]): Promise<void> {
    const { newRS, oldRSs } = await getAllReplicaSets(d, rsList, false);
    await scale(d, newRS, oldRSs);
    if (d.spec?.paused) await cleanup(d, oldRSs);
    await syncStatusOnly(d, [...oldRSs, ...(newRS ? [newRS] : [])], newRS);
  }

  async function rolloutRolling(d: KubeObject, rsList: KubeObject[]): Promise<ReconcileResult | void> {
    const { newRS, oldRSs } = await getAllReplicaSets(d, rsList, true);
    const allRSs = [...oldRSs, newRS!];
    // reconcileNewReplicaSet
    const newSize = newRS!.spec?.replicas ?? 0;
    if (newSize !== replicasOf(d)) {
      const target = newSize > replicasOf(d) ? replicasOf(d) : newReplicaSetReplicas(d, allRSs, newRS!);
      if (await scaleAndRecord(newRS!, target, d)) return syncRolloutStatus(allRSs, newRS, d);
    }
    // reconcileOldReplicaSets
    if (await reconcileOldReplicaSets(allRSs, active(oldRSs), newRS!, d)) return syncRolloutStatus(allRSs, newRS, d);
    if (deploymentComplete(d, d.status ?? {})) await cleanup(d, oldRSs);
    return syncRolloutStatus(allRSs, newRS, d);
  }

  async function reconcileOldReplicaSets(allRSs: KubeObject[], oldRSs: KubeObject[], newRS: KubeObject, d: KubeObject): Promise<boolean> {
    if (sumSpecReplicas(oldRSs) === 0) return false;
    const minAvailable = replicasOf(d) - maxUnavailable(d);
    const newUnavailable = (newRS.spec?.replicas ?? 0) - (newRS.status?.availableReplicas ?? 0);
    const maxScaledDown = sumSpecReplicas(allRSs) - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) return false;
    // Unhealthy old replicas go first: they do not count towards availability anyway.
    let cleaned = 0;
    for (const rs of [...oldRSs].sort(byCreation)) {
      if (cleaned >= maxScaledDown) break;
      const size = rs.spec?.replicas ?? 0;
      const availableInRs = rs.status?.availableReplicas ?? 0;
      if (size === 0 || size === availableInRs) continue;
      const down = Math.min(maxScaledDown - cleaned, size - availableInRs);
      await scaleAndRecord(rs, size - down, d);
      cleaned += down;
    }
    // Then healthy ones, as far as maxUnavailable allows.
    let scaledDown = 0;
    const availableNow = sumStatus(allRSs, 'availableReplicas');
    if (availableNow > minAvailable) {
      const total = availableNow - minAvailable;
      for (const rs of [...oldRSs].sort(byCreation)) {
        if (scaledDown >= total) break;
        const size = rs.spec?.replicas ?? 0;
        if (size === 0) continue;
        const down = Math.min(size, total - scaledDown);
        await scaleAndRecord(rs, size - down, d);
        scaledDown += down;
      }
    }
    return cleaned + scaledDown > 0;
  }

  function oldPodsRunning(newRS: KubeObject | undefined, oldRSs: KubeObject[]): boolean {
    if (sumStatus(oldRSs, 'replicas') > 0) return true;
    for (const rs of oldRSs) {
      if (rs === newRS) continue;
      for (const pod of pods.getIndexer().byIndex(podsRelatedIndex, rs.metadata.uid!)) {
        const phase = pod.status?.phase;
        if (phase !== 'Failed' && phase !== 'Succeeded') return true;
      }
    }
    return false;
  }

  async function rolloutRecreate(d: KubeObject, rsList: KubeObject[]): Promise<ReconcileResult | void> {
    let { newRS, oldRSs } = await getAllReplicaSets(d, rsList, false);
    let allRSs = [...oldRSs, ...(newRS ? [newRS] : [])];
    let scaledDown = false;
    for (const rs of active(oldRSs)) if (await scaleAndRecord(rs, 0, d)) scaledDown = true;
    if (scaledDown) return syncRolloutStatus(allRSs, newRS, d);
    if (oldPodsRunning(newRS, oldRSs)) return syncRolloutStatus(allRSs, newRS, d);
    if (!newRS) {
      ({ newRS, oldRSs } = await getAllReplicaSets(d, rsList, true));
      allRSs = [...oldRSs, newRS!];
    }
    await scaleAndRecord(newRS!, replicasOf(d), d);
    if (deploymentComplete(d, d.status ?? {})) await cleanup(d, oldRSs);
    return syncRolloutStatus(allRSs, newRS, d);
  }

  async function checkPausedConditions(d: KubeObject): Promise<void> {
    if (!hasProgressDeadline(d)) return;
    const cond = getCondition(d.status, 'Progressing');
    if (cond?.reason === 'ProgressDeadlineExceeded') return;
    const pausedExists = cond?.reason === 'DeploymentPaused';
    const status = structuredClone(d.status ?? {});
    if (d.spec?.paused && !pausedExists) {
      setCondition(status, { type: 'Progressing', status: 'Unknown', lastUpdateTime: now(), lastTransitionTime: now(), reason: 'DeploymentPaused', message: 'Deployment is paused' });
    } else if (!d.spec?.paused && pausedExists) {
      setCondition(status, { type: 'Progressing', status: 'Unknown', lastUpdateTime: now(), lastTransitionTime: now(), reason: 'DeploymentResumed', message: 'Deployment is resumed' });
    } else return;
    await writeStatus(d, status);
  }

  async function isScalingEvent(d: KubeObject, rsList: KubeObject[]): Promise<boolean> {
    const { newRS, oldRSs } = await getAllReplicaSets(d, rsList, false);
    for (const rs of active([...oldRSs, ...(newRS ? [newRS] : [])])) {
      const desired = rs.metadata.annotations?.[desiredReplicasAnnotation];
      if (desired === undefined || !/^\d+$/.test(desired)) continue;
      if (Number(desired) !== replicasOf(d)) return true;
    }
    return false;
  }

  async function reconcile(key: string): Promise<ReconcileResult | void> {
    const { namespace, name } = splitObjectKey(key);
    const cached = deployments.getIndexer().getByName(namespace, name);
    if (!cached) return;
    const d = withDeploymentDefaults(structuredClone(cached));
    const selector = labelSelectorAsSelector(d.spec?.selector);
    if (!selector.nothing && selector.requirements.length === 0) {
      recorder.event(d, 'Warning', 'SelectorOverride', 'This deployment is selecting all pods. A non-empty selector is required.');
      if ((d.status?.observedGeneration ?? 0) < (d.metadata.generation ?? 0)) await writeStatus(d, { ...(d.status ?? {}), observedGeneration: d.metadata.generation });
      return;
    }
    const rsList = await claimReplicaSets(d, selector);
    if (d.metadata.deletionTimestamp) {
      return syncStatusOnly(d, rsList, splitReplicaSets(d, rsList).newRS);
    }
    await checkPausedConditions(d);
    if (d.spec?.paused) return sync(d, rsList);
    if (await isScalingEvent(d, rsList)) return sync(d, rsList);
    return isRollingUpdate(d) ? rolloutRolling(d, rsList) : rolloutRecreate(d, rsList);
  }

  return {
    name: 'deployment',
    reconcile,
    hasSynced: () => deployments.hasSynced() && replicaSets.hasSynced() && pods.hasSynced(),
    start: (signal) =>
      runController({ name: 'deployment', queue, informers: [deployments, replicaSets, pods], reconcile, workers: options.workers ?? 5, signal, logger: log }).catch((err) => {
        log('error', 'controller stopped', { controller: 'deployment', error: String(err) });
      }),
  };
}
