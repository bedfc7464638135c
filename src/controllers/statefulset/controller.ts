// The StatefulSet controller: pods with stable identities `<set>-<ordinal>` (hostname = pod
// name, subdomain = spec.serviceName for stable DNS) and one PersistentVolumeClaim per
// volumeClaimTemplate and ordinal, `<claim>-<set>-<ordinal>`, created before the pod and kept
// when the pod goes. OrderedReady creates in ascending order, each pod Running and Ready before
// the next, and removes in descending order one at a time; Parallel does both at once.
// Updates go through ControllerRevisions: RollingUpdate replaces pods from the highest ordinal
// down to the partition, up to rollingUpdate.maxUnavailable at a time; OnDelete waits for the user to delete pods.
import type { KubeObject } from '../../api/types.js';
import { labelSelectorAsSelector, matches } from '../../api/selectors/labels.js';
import type { Client, ResourceRef } from '../../client/client.js';
import { objectKey, splitObjectKey } from '../../client/client.js';
import type { Clock } from '../../client/clock.js';
import { writeStatus } from '../framework/status.js';
import { isAlreadyExists, isConflict, isNotFound } from '../../client/errors.js';
import type { Logger, SharedInformerFactory } from '../../client/informer.js';
import { objectFromDeleted } from '../../client/informer.js';
import { RateLimitingQueue } from '../../client/workqueue.js';
import { scaledValue } from '../deployment/rolling.js';
import { runController, type Controller, type ReconcileResult } from '../framework/controller.js';
import { claimPods, liveOwner } from '../framework/claim.js';
import { controllerUidIndexFunc, getControllerOf, newControllerRef } from '../framework/controller-ref.js';
import type { EventRecorder } from '../framework/events.js';
import { isPodAvailable, isPodReady, msUntilAvailable } from '../framework/pods.js';
import { podsRelatedIndex, podsResource } from '../framework/resources.js';
import { controllerRevisionHashLabel, controllerRevisionsResource, ensureCurrentRevision, revisionsOwnedBy, templateOfRevision, truncateHistory } from '../daemonset/history.js';

export const statefulSetsResource: ResourceRef = { group: 'apps', version: 'v1', resource: 'statefulsets', namespaced: true, kind: 'StatefulSet' };
export const persistentVolumeClaimsResource: ResourceRef = { group: '', version: 'v1', resource: 'persistentvolumeclaims', namespaced: true, kind: 'PersistentVolumeClaim' };
export const podNameLabel = 'statefulset.kubernetes.io/pod-name';
export const podIndexLabel = 'apps.kubernetes.io/pod-index';
const stsKind = { apiVersion: 'apps/v1', kind: 'StatefulSet' };

export interface StatefulSetControllerOptions {
  client: Client;
  informerFactory: SharedInformerFactory;
  clock: Clock;
  recorder: EventRecorder;
  workers?: number;
  logger?: Logger;
}

/** The ordinal in a pod name `<set>-<ordinal>`, or undefined when the pod is not one of the set's. */
export function ordinalOf(set: KubeObject, pod: KubeObject): number | undefined {
  const prefix = `${set.metadata.name}-`;
  const name = pod.metadata.name ?? '';
  if (!name.startsWith(prefix)) return undefined;
  const rest = name.slice(prefix.length);
  return /^(0|[1-9]\d*)$/.test(rest) ? Number(rest) : undefined;
}

export function claimName(claimTemplate: KubeObject, set: KubeObject, ordinal: number): string {
  return `${claimTemplate.metadata?.name}-${set.metadata.name}-${ordinal}`;
}

/** The pod for `ordinal` from a revision's template, with its identity and claims (newStatefulSetPod + updateStorage). */
export function newStatefulSetPod(set: KubeObject, template: any, revisionHash: string, ordinal: number): KubeObject {
  const name = `${set.metadata.name}-${ordinal}`;
  const spec = structuredClone(template.spec ?? {});
  spec.hostname = name;
  if (set.spec?.serviceName) spec.subdomain = set.spec.serviceName;
  const claims: KubeObject[] = set.spec?.volumeClaimTemplates ?? [];
  if (claims.length) {
    const volumes = (spec.volumes ?? []).filter((v: { name: string }) => !claims.some((c) => c.metadata?.name === v.name));
    for (const c of claims) volumes.push({ name: c.metadata.name, persistentVolumeClaim: { claimName: claimName(c, set, ordinal) } });
    spec.volumes = volumes;
  }
  const metadata: KubeObject['metadata'] = {
    name,
    namespace: set.metadata.namespace,
    labels: { ...(template.metadata?.labels ?? {}), [podNameLabel]: name, [podIndexLabel]: String(ordinal), [controllerRevisionHashLabel]: revisionHash },
    ownerReferences: [newControllerRef(set, stsKind.apiVersion, stsKind.kind)],
  };
  if (template.metadata?.annotations) metadata.annotations = { ...template.metadata.annotations };
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec };
}

/**
 * spec.updateStrategy.rollingUpdate.maxUnavailable as a pod count: an int, or a percentage of
 * replicas rounded down (Kubernetes' getStatefulSetMaxUnavailable), never below 1 so an update
 * always makes progress. Defaults to 1.
 */
export function statefulSetMaxUnavailable(value: number | string | undefined, replicas: number): number {
  return Math.max(1, scaledValue(value ?? 1, replicas, false));
}

const isRunningAndReady = (pod: KubeObject) => pod.status?.phase === 'Running' && isPodReady(pod);
const isTerminating = (pod: KubeObject) => !!pod.metadata.deletionTimestamp;
const isFailed = (pod: KubeObject) => pod.status?.phase === 'Failed';
const revisionOfPod = (pod: KubeObject) => pod.metadata.labels?.[controllerRevisionHashLabel];

export function createStatefulSetController(options: StatefulSetControllerOptions): Controller {
  const { client, clock, recorder } = options;
  const log = options.logger ?? (() => undefined);
  const sets = options.informerFactory.forResource(statefulSetsResource);
  const pods = options.informerFactory.forResource(podsResource, { indexers: { [podsRelatedIndex]: controllerUidIndexFunc } });
  const revisions = options.informerFactory.forResource(controllerRevisionsResource, { indexers: { [podsRelatedIndex]: controllerUidIndexFunc } });
  const claims = options.informerFactory.forResource(persistentVolumeClaimsResource);
  const setClient = client.resource(statefulSetsResource);
  const podClient = client.resource(podsResource);
  const claimClient = client.resource(persistentVolumeClaimsResource);
  const queue = new RateLimitingQueue<string>({ clock });

  const enqueue = (obj: KubeObject) => queue.add(objectKey(obj));
  function enqueueOwner(pod: KubeObject) {
    const ref = getControllerOf(pod);
    if (ref?.kind !== 'StatefulSet') return;
    const set = sets.getIndexer().getByName(pod.metadata.namespace, ref.name);
    if (set && set.metadata.uid === ref.uid) enqueue(set);
  }
  /** An orphan wakes every set that selects it and whose name it carries, so that set can adopt it. */
  function enqueueSelecting(pod: KubeObject) {
    if (!pod.metadata.labels || pod.metadata.deletionTimestamp) return;
    for (const set of sets.getIndexer().listByNamespace(pod.metadata.namespace!)) {
      if (ordinalOf(set, pod) !== undefined && matches(labelSelectorAsSelector(set.spec?.selector), pod.metadata.labels)) enqueue(set);
    }
  }
  const onPodChange = (old: KubeObject | undefined, pod: KubeObject) => {
    // Released or re-owned: the previous owner must recount.
    const oldRef = old && getControllerOf(old);
    if (old && oldRef && oldRef.uid !== getControllerOf(pod)?.uid) enqueueOwner(old);
    if (getControllerOf(pod)) enqueueOwner(pod);
    else if (!old || oldRef || JSON.stringify(old.metadata.labels ?? {}) !== JSON.stringify(pod.metadata.labels ?? {})) enqueueSelecting(pod);
  };

  sets.addEventHandler({ onAdd: enqueue, onUpdate: (_o, s) => enqueue(s), onDelete: () => undefined });
  pods.addEventHandler({
    onAdd: (pod) => onPodChange(undefined, pod),
    onUpdate: (old, pod) => {
      if (old.metadata.resourceVersion === pod.metadata.resourceVersion) return;
      onPodChange(old, pod);
    },
    onDelete: (deleted) => enqueueOwner(objectFromDeleted(deleted)),
  });

  function retentionPolicy(set: KubeObject): { whenDeleted: string; whenScaled: string } {
    const p = set.spec?.persistentVolumeClaimRetentionPolicy ?? {};
    return { whenDeleted: p.whenDeleted ?? 'Retain', whenScaled: p.whenScaled ?? 'Retain' };
  }

  /** Creates the pod's missing claims (createPersistentVolumeClaims). A claim never belongs to a pod at birth. */
  async function ensureClaims(set: KubeObject, ordinal: number, podName: string): Promise<void> {
    const policy = retentionPolicy(set);
    for (const template of (set.spec?.volumeClaimTemplates ?? []) as KubeObject[]) {
      const name = claimName(template, set, ordinal);
      if (claims.getIndexer().getByName(set.metadata.namespace, name)) continue;
      const claim: KubeObject = {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: {
          name,
          namespace: set.metadata.namespace,
          labels: { ...(set.spec?.selector?.matchLabels ?? {}), ...(template.metadata?.labels ?? {}) },
          ...(template.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
          // With whenDeleted=Delete the claim goes with the set (garbage collector); Retain keeps it forever.
          ...(policy.whenDeleted === 'Delete' ? { ownerReferences: [{ ...newControllerRef(set, stsKind.apiVersion, stsKind.kind), controller: false }] } : {}),
        },
        spec: structuredClone(template.spec ?? {}),
      };
      try {
        await claimClient.create(set.metadata.namespace, claim);
        recorder.event(set, 'Normal', 'SuccessfulCreate', `create Claim ${name} Pod ${podName} in StatefulSet ${set.metadata.name} success`);
      } catch (err) {
        if (isAlreadyExists(err)) continue;
        recorder.event(set, 'Warning', 'FailedCreate', `create Claim ${name} for Pod ${podName} in StatefulSet ${set.metadata.name} failed error: ${(err as Error).message}`);
        throw err;
      }
    }
  }

  /** With whenScaled=Delete a condemned pod's claims get the pod as owner, so they go with it. */
  async function claimsFollowPod(set: KubeObject, pod: KubeObject, ordinal: number): Promise<void> {
    if (retentionPolicy(set).whenScaled !== 'Delete') return;
    for (const template of (set.spec?.volumeClaimTemplates ?? []) as KubeObject[]) {
      const existing = claims.getIndexer().getByName(set.metadata.namespace, claimName(template, set, ordinal));
      if (!existing || existing.metadata.ownerReferences?.some((r) => r.uid === pod.metadata.uid)) continue;
      const ownerReferences = [...(existing.metadata.ownerReferences ?? []), { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name!, uid: pod.metadata.uid!, blockOwnerDeletion: true }];
      await claimClient.update({ ...existing, metadata: { ...existing.metadata, ownerReferences } }).catch((err) => {
        if (!isNotFound(err) && !isConflict(err)) throw err;
      });
    }
  }

  /**
   * Kubernetes' updatePodClaimForRetentionPolicy: the only claim "adoption" it does. A live
   * replica's existing claims (also ones made before the set, or under an older policy) carry
   * the set's ownerReference exactly when whenDeleted=Delete; never a controller reference.
   */
  async function syncClaimRetention(set: KubeObject, ordinal: number): Promise<void> {
    const wantSetRef = retentionPolicy(set).whenDeleted === 'Delete';
    for (const template of (set.spec?.volumeClaimTemplates ?? []) as KubeObject[]) {
      const existing = claims.getIndexer().getByName(set.metadata.namespace, claimName(template, set, ordinal));
      if (!existing) continue;
      const refs = existing.metadata.ownerReferences ?? [];
      const hasSetRef = refs.some((r) => r.uid === set.metadata.uid);
      if (hasSetRef === wantSetRef) continue;
      const ownerReferences = wantSetRef ? [...refs, { ...newControllerRef(set, stsKind.apiVersion, stsKind.kind), controller: false }] : refs.filter((r) => r.uid !== set.metadata.uid);
      const { ownerReferences: _previous, ...rest } = existing.metadata;
      const metadata = ownerReferences.length ? { ...rest, ownerReferences } : rest;
      // Claims have no event handler here: a conflict (stale cache) must fail the sync so it is retried.
      await claimClient.update({ ...existing, metadata }).catch((err) => {
        if (!isNotFound(err)) throw err;
      });
    }
  }

  async function createPod(set: KubeObject, pod: KubeObject, ordinal: number): Promise<void> {
    await ensureClaims(set, ordinal, pod.metadata.name!);
    try {
      await podClient.create(set.metadata.namespace, pod);
      recorder.event(set, 'Normal', 'SuccessfulCreate', `create Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} successful`);
    } catch (err) {
      // Our cache had not seen our own earlier create: nothing to do.
      if (isAlreadyExists(err)) return;
      recorder.event(set, 'Warning', 'FailedCreate', `create Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} failed error: ${(err as Error).message}`);
      throw err;
    }
  }

  async function deletePod(set: KubeObject, pod: KubeObject): Promise<void> {
    try {
      await podClient.delete(pod.metadata.namespace, pod.metadata.name!, { preconditions: { uid: pod.metadata.uid } });
      recorder.event(set, 'Normal', 'SuccessfulDelete', `delete Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} successful`);
    } catch (err) {
      if (isNotFound(err) || isConflict(err)) return;
      recorder.event(set, 'Warning', 'FailedDelete', `delete Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} failed error: ${(err as Error).message}`);
      throw err;
    }
  }

  /**
   * One pass of Kubernetes' updateStatefulSet: create/replace replicas in order, remove condemned
   * pods in reverse order, then roll pods of old revisions. OrderedReady stops at the first pod
   * that is not Running and Ready.
   */
  async function syncPods(set: KubeObject, own: Map<number, KubeObject>, current: KubeObject, update: KubeObject): Promise<void> {
    const replicas = set.spec?.replicas ?? 1;
    const start = set.spec?.ordinals?.start ?? 0;
    const ordered = (set.spec?.podManagementPolicy ?? 'OrderedReady') === 'OrderedReady';
    const strategy = set.spec?.updateStrategy?.type ?? 'RollingUpdate';
    const partition = strategy === 'RollingUpdate' ? set.spec?.updateStrategy?.rollingUpdate?.partition ?? 0 : 0;
    const currentHash = current.metadata.labels![controllerRevisionHashLabel]!;
    const updateHash = update.metadata.labels![controllerRevisionHashLabel]!;
    const end = start + replicas;

    const templateFor = (ordinal: number): [any, string] => {
      // Below the partition new pods keep the current revision (newVersionedStatefulSetPod).
      const keepCurrent = strategy === 'RollingUpdate' && currentHash !== updateHash && ordinal - start < partition;
      return keepCurrent ? [templateOfRevision(current), currentHash] : [templateOfRevision(update), updateHash];
    };

    for (let ordinal = start; ordinal < end; ordinal++) {
      const pod = own.get(ordinal);
      if (pod && !isTerminating(pod)) await syncClaimRetention(set, ordinal);
      if (!pod) {
        const [template, hash] = templateFor(ordinal);
        await createPod(set, newStatefulSetPod(set, template, hash, ordinal), ordinal);
        if (ordered) return;
        continue;
      }
      if (isFailed(pod) && !isTerminating(pod)) {
        await deletePod(set, pod);
        if (ordered) return;
        continue;
      }
      if (ordered && (isTerminating(pod) || !isRunningAndReady(pod))) return;
    }

    const condemned = [...own.entries()].filter(([o]) => o < start || o >= end).sort(([a], [b]) => b - a);
    if (condemned.length) {
      for (const [ordinal, pod] of condemned) {
        if (isTerminating(pod)) {
          if (ordered) return;
          continue;
        }
        // OrderedReady never removes a pod while any other pod of the set is unhealthy.
        if (ordered && [...own.values()].some((p) => p !== pod && !isRunningAndReady(p))) return;
        await claimsFollowPod(set, pod, ordinal);
        await deletePod(set, pod);
        if (ordered) return;
      }
      return;
    }

    if (strategy !== 'RollingUpdate') return;
    // Kubernetes' MaxUnavailableStatefulSet (beta, on by default since 1.35): every unavailable
    // replica counts against the budget, then old-revision pods go highest ordinal first, down to
    // the partition. With the default of 1 this is the classic one-at-a-time update.
    const maxUnavailable = statefulSetMaxUnavailable(set.spec?.updateStrategy?.rollingUpdate?.maxUnavailable, replicas);
    const minReadySeconds = set.spec?.minReadySeconds ?? 0;
    const now = clock.now();
    let unavailable = 0;
    for (let ordinal = start; ordinal < end; ordinal++) {
      const pod = own.get(ordinal);
      if (!pod || isTerminating(pod) || !isRunningAndReady(pod) || !isPodAvailable(pod, minReadySeconds, now)) unavailable++;
    }
    let budget = maxUnavailable - unavailable;
    for (let ordinal = end - 1; ordinal >= start + partition && budget > 0; ordinal--) {
      const pod = own.get(ordinal);
      if (!pod || isTerminating(pod) || revisionOfPod(pod) === updateHash) continue;
      await deletePod(set, pod);
      budget--;
    }
  }

  function calculateStatus(set: KubeObject, own: KubeObject[], current: KubeObject, update: KubeObject): any {
    const now = clock.now();
    const minReadySeconds = set.spec?.minReadySeconds ?? 0;
    const currentHash = current.metadata.labels![controllerRevisionHashLabel]!;
    const updateHash = update.metadata.labels![controllerRevisionHashLabel]!;
    const status: any = {
      observedGeneration: set.metadata.generation,
      replicas: 0,
      readyReplicas: 0,
      currentReplicas: 0,
      updatedReplicas: 0,
      availableReplicas: 0,
      currentRevision: current.metadata.name,
      updateRevision: update.metadata.name,
      collisionCount: set.status?.collisionCount ?? 0,
    };
    for (const pod of own) {
      status.replicas++;
      if (isRunningAndReady(pod) && !isTerminating(pod)) {
        status.readyReplicas++;
        if (isPodAvailable(pod, minReadySeconds, now)) status.availableReplicas++;
      }
      if (isTerminating(pod)) continue;
      if (revisionOfPod(pod) === currentHash) status.currentReplicas++;
      if (revisionOfPod(pod) === updateHash) status.updatedReplicas++;
    }
    // completeRollingUpdate: once every replica runs the update revision it becomes current.
    const replicas = set.spec?.replicas ?? 1;
    if ((set.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate' && status.updatedReplicas >= replicas && status.replicas === replicas && status.readyReplicas === replicas) {
      status.currentRevision = update.metadata.name;
      status.currentReplicas = status.updatedReplicas;
    }
    if (set.status?.conditions) status.conditions = set.status.conditions;
    return status;
  }

  async function updateStatus(set: KubeObject, status: any): Promise<void> {
    if (JSON.stringify(set.status ?? {}) === JSON.stringify(status)) return;
    await writeStatus(setClient, set, status);
  }

  async function reconcile(key: string): Promise<ReconcileResult | void> {
    const { namespace, name } = splitObjectKey(key);
    const set = sets.getIndexer().getByName(namespace, name);
    if (!set || set.metadata.deletionTimestamp) return;
    const own = new Map<number, KubeObject>();
    // Kubernetes' getPodsForStatefulSet: ClaimPods with isMemberOf, so only `<set>-<ordinal>` pods are adopted or kept.
    const claimed = await claimPods(
      { owner: set, ...stsKind, selector: labelSelectorAsSelector(set.spec?.selector), filter: (p) => ordinalOf(set, p) !== undefined, pods: podClient, getOwner: liveOwner(setClient, set) },
      pods.getIndexer().listByNamespace(namespace!),
    );
    for (const pod of claimed) {
      const ordinal = ordinalOf(set, pod);
      if (ordinal !== undefined) own.set(ordinal, pod);
    }
    const history = revisionsOwnedBy(revisions.getIndexer().byIndex(podsRelatedIndex, set.metadata.uid!), set);
    const update = await ensureCurrentRevision(client, set, stsKind, history);
    const all = history.some((r) => r.metadata.name === update.metadata.name) ? history.map((r) => (r.metadata.name === update.metadata.name ? update : r)) : [...history, update];
    const current = all.find((r) => r.metadata.name === set.status?.currentRevision) ?? update;

    let syncError: unknown;
    try {
      await syncPods(set, own, current, update);
      const inUse = new Set([...own.values()].map((p) => revisionOfPod(p) ?? ''));
      await truncateHistory(client, history, new Set([current.metadata.name!, update.metadata.name!]), inUse, set.spec?.revisionHistoryLimit ?? 10);
    } catch (err) {
      syncError = err;
    }
    await updateStatus(set, calculateStatus(set, [...own.values()], current, update));
    if (syncError) throw syncError;
    const minReadySeconds = set.spec?.minReadySeconds ?? 0;
    if (minReadySeconds > 0) {
      const waits = [...own.values()].map((p) => msUntilAvailable(p, minReadySeconds, clock.now())).filter((w): w is number => w !== undefined);
      if (waits.length) return { requeueAfterMs: Math.min(...waits) };
    }
  }

  return {
    name: 'statefulset',
    reconcile,
    hasSynced: () => sets.hasSynced() && pods.hasSynced() && revisions.hasSynced() && claims.hasSynced(),
    start: (signal) =>
      runController({ name: 'statefulset', queue, informers: [sets, pods, revisions, claims], reconcile, workers: options.workers ?? 2, signal, logger: log }).catch((err) => {
        log('error', 'controller stopped', { controller: 'statefulset', error: String(err) });
      }),
  };
}
