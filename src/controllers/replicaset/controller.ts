// The ReplicaSet controller (and, through the same code, the ReplicationController manager):
// keeps `spec.replicas` active pods matching the selector, adopting orphans that match and
// releasing owned pods that no longer do, and reports what it sees in status.
import type { KubeObject } from '../../api/types.js';
import { labelSelectorAsSelector, matches, selectorFromSet, type Selector } from '../../api/selectors/labels.js';
import type { Client, ResourceRef } from '../../client/client.js';
import { objectKey, splitObjectKey } from '../../client/client.js';
import type { Clock } from '../../client/clock.js';
import { writeStatus } from '../framework/status.js';
import type { Logger, SharedInformerFactory } from '../../client/informer.js';
import { objectFromDeleted } from '../../client/informer.js';
import { RateLimitingQueue } from '../../client/workqueue.js';
import { runController, type Controller, type ReconcileResult } from '../framework/controller.js';
import { claimPods, liveOwner } from '../framework/claim.js';
import { controllerUidIndexFunc, getControllerOf, newControllerRef } from '../framework/controller-ref.js';
import type { EventRecorder } from '../framework/events.js';
import { ControllerExpectations } from '../framework/expectations.js';
import { deleteExpectedPods } from '../framework/pod-control.js';
import { isPodActive, isPodAvailable, isPodReady, msUntilAvailable } from '../framework/pods.js';
import { podsRelatedIndex, podsResource, replicaSetsResource, replicationControllersResource } from '../framework/resources.js';
import { slowStartBatch } from '../framework/slow-start.js';
import { podsToDelete } from './ranking.js';

/** At most this many creations or deletions per sync, as Kubernetes' BurstReplicas. */
export const burstReplicas = 500;

export interface ReplicaSetControllerOptions {
  client: Client;
  informerFactory: SharedInformerFactory;
  clock: Clock;
  recorder: EventRecorder;
  workers?: number;
  logger?: Logger;
}

/** What differs between ReplicaSets and ReplicationControllers. */
interface OwnerKind {
  name: string;
  ref: ResourceRef;
  apiVersion: string;
  kind: string;
  selectorOf(owner: KubeObject): Selector;
}

const replicaSetKind: OwnerKind = {
  name: 'replicaset',
  ref: replicaSetsResource,
  apiVersion: 'apps/v1',
  kind: 'ReplicaSet',
  selectorOf: (rs) => labelSelectorAsSelector(rs.spec?.selector),
};

const replicationControllerKind: OwnerKind = {
  name: 'replicationcontroller',
  ref: replicationControllersResource,
  apiVersion: 'v1',
  kind: 'ReplicationController',
  // An RC's selector is a plain map; an empty one would select everything, which validation forbids.
  selectorOf: (rc) => (rc.spec?.selector && Object.keys(rc.spec.selector).length ? selectorFromSet(rc.spec.selector) : selectorFromSet(rc.spec?.template?.metadata?.labels ?? { '': '' })),
};

export function createReplicaSetController(options: ReplicaSetControllerOptions): Controller {
  return createReplicaManager(replicaSetKind, options);
}

export function createReplicationController(options: ReplicaSetControllerOptions): Controller {
  return createReplicaManager(replicationControllerKind, options);
}

function createReplicaManager(owner: OwnerKind, options: ReplicaSetControllerOptions): Controller {
  const { client, clock, recorder } = options;
  const log = options.logger ?? (() => undefined);
  const owners = options.informerFactory.forResource(owner.ref);
  const pods = options.informerFactory.forResource(podsResource, { indexers: { [podsRelatedIndex]: controllerUidIndexFunc } });
  const ownerClient = client.resource(owner.ref);
  const podClient = client.resource(podsResource);
  const queue = new RateLimitingQueue<string>({ clock });
  const expectations = new ControllerExpectations(clock);

  const enqueue = (obj: KubeObject) => queue.add(objectKey(obj));

  /** The owner a controllerRef points at, if it is ours and still the same object (uid). */
  function resolveControllerRef(namespace: string, ref: { kind: string; name: string; uid: string } | undefined): KubeObject | undefined {
    if (!ref || ref.kind !== owner.kind) return undefined;
    const found = owners.getIndexer().getByName(namespace, ref.name);
    return found && found.metadata.uid === ref.uid ? found : undefined;
  }

  function ownersMatching(pod: KubeObject): KubeObject[] {
    if (!pod.metadata.labels) return [];
    return owners.getIndexer().listByNamespace(pod.metadata.namespace!).filter((o) => matches(owner.selectorOf(o), pod.metadata.labels));
  }

  owners.addEventHandler({
    onAdd: enqueue,
    onUpdate: (_old, obj) => enqueue(obj),
    onDelete: (deleted) => {
      const obj = objectFromDeleted(deleted);
      expectations.delete(objectKey(obj));
      enqueue(obj);
    },
  });

  pods.addEventHandler({
    onAdd(pod) {
      const namespace = pod.metadata.namespace!;
      if (pod.metadata.deletionTimestamp) {
        // Restarted controller seeing a pod already being deleted: treat it as a deletion.
        const rs = resolveControllerRef(namespace, getControllerOf(pod));
        if (rs) {
          expectations.deletionObserved(objectKey(rs), objectKey(pod));
          enqueue(rs);
        }
        return;
      }
      const ref = getControllerOf(pod);
      if (ref) {
        const rs = resolveControllerRef(namespace, ref);
        if (!rs) return;
        expectations.creationObserved(objectKey(rs));
        enqueue(rs);
        return;
      }
      for (const rs of ownersMatching(pod)) enqueue(rs);
    },
    onUpdate(old, pod) {
      if (old.metadata.resourceVersion === pod.metadata.resourceVersion) return;
      const namespace = pod.metadata.namespace!;
      const labelsChanged = JSON.stringify(old.metadata.labels ?? {}) !== JSON.stringify(pod.metadata.labels ?? {});
      if (pod.metadata.deletionTimestamp) {
        // A graceful delete shows as an update; expectations are met as soon as it starts.
        const rs = resolveControllerRef(namespace, getControllerOf(pod));
        if (rs) {
          expectations.deletionObserved(objectKey(rs), objectKey(pod));
          enqueue(rs);
        }
        if (labelsChanged) {
          const oldRs = resolveControllerRef(namespace, getControllerOf(old));
          if (oldRs) enqueue(oldRs);
        }
        return;
      }
      const oldRef = getControllerOf(old);
      const ref = getControllerOf(pod);
      if (oldRef && oldRef.uid !== ref?.uid) {
        const oldRs = resolveControllerRef(namespace, oldRef);
        if (oldRs) enqueue(oldRs);
      }
      if (ref) {
        const rs = resolveControllerRef(namespace, ref);
        if (!rs) return;
        enqueue(rs);
        // A pod that just became ready becomes available after minReadySeconds: look again then.
        const minReadySeconds = rs.spec?.minReadySeconds ?? 0;
        if (!isPodReady(old) && isPodReady(pod) && minReadySeconds > 0) queue.addAfter(objectKey(rs), minReadySeconds * 1000 + 1000);
        return;
      }
      if (labelsChanged || oldRef) for (const rs of ownersMatching(pod)) enqueue(rs);
    },
    onDelete(deleted) {
      const pod = objectFromDeleted(deleted);
      const rs = resolveControllerRef(pod.metadata.namespace!, getControllerOf(pod));
      if (!rs) return;
      expectations.deletionObserved(objectKey(rs), objectKey(pod));
      enqueue(rs);
    },
  });

  function podFromTemplate(rs: KubeObject): KubeObject {
    const template = rs.spec?.template ?? {};
    const metadata: KubeObject['metadata'] = {
      generateName: `${rs.metadata.name}-`,
      namespace: rs.metadata.namespace,
      labels: { ...(template.metadata?.labels ?? {}) },
      ownerReferences: [newControllerRef(rs, owner.apiVersion, owner.kind)],
    };
    if (template.metadata?.annotations) metadata.annotations = { ...template.metadata.annotations };
    if (template.metadata?.finalizers) metadata.finalizers = [...template.metadata.finalizers];
    return { apiVersion: 'v1', kind: 'Pod', metadata, spec: structuredClone(template.spec ?? {}) };
  }

  /** Pods of sibling owners (one Deployment's ReplicaSets) count when spreading deletions across nodes. */
  function relatedPods(rs: KubeObject, own: KubeObject[]): KubeObject[] {
    const parent = getControllerOf(rs);
    if (!parent) return own;
    const siblings = owners.getIndexer().listByNamespace(rs.metadata.namespace!).filter((o) => getControllerOf(o)?.uid === parent.uid);
    return siblings.flatMap((s) => pods.getIndexer().byIndex(podsRelatedIndex, s.metadata.uid!));
  }

  async function manageReplicas(rs: KubeObject, key: string, active: KubeObject[]): Promise<void> {
    const diff = active.length - (rs.spec?.replicas ?? 1);
    if (diff < 0) {
      const count = Math.min(-diff, burstReplicas);
      expectations.expectCreations(key, count);
      const result = await slowStartBatch(count, 1, async () => {
        try {
          const created = await podClient.create(rs.metadata.namespace, podFromTemplate(rs));
          recorder.event(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata.name}`);
        } catch (err) {
          expectations.creationObserved(key);
          recorder.event(rs, 'Warning', 'FailedCreate', `Error creating: ${(err as Error).message}`);
          throw err;
        }
      });
      // Creations never attempted will never be observed.
      const skipped = count - result.successes - (result.error ? 1 : 0);
      for (let i = 0; i < skipped; i++) expectations.creationObserved(key);
      if (result.error) throw result.error;
    } else if (diff > 0) {
      const count = Math.min(diff, burstReplicas);
      const victims = podsToDelete(active, relatedPods(rs, active), count, clock.now());
      expectations.expectDeletions(key, victims.map((p) => objectKey(p)));
      const errors = await deleteExpectedPods({ owner: rs, pods: victims, podClient, recorder, expectations, key });
      if (errors.length) throw errors[0];
    }
  }

  function calculateStatus(rs: KubeObject, active: KubeObject[], manageError: unknown): any {
    const now = clock.now();
    const templateLabels = rs.spec?.template?.metadata?.labels ?? {};
    const minReadySeconds = rs.spec?.minReadySeconds ?? 0;
    let fullyLabeled = 0;
    let ready = 0;
    let available = 0;
    for (const pod of active) {
      if (Object.entries(templateLabels).every(([k, v]) => pod.metadata.labels?.[k] === v)) fullyLabeled++;
      if (isPodReady(pod)) {
        ready++;
        if (isPodAvailable(pod, minReadySeconds, now)) available++;
      }
    }
    // As Kubernetes serialises it: `replicas` always, the other counts only when non-zero (omitempty).
    const status: any = { replicas: active.length };
    if (fullyLabeled) status.fullyLabeledReplicas = fullyLabeled;
    if (ready) status.readyReplicas = ready;
    if (available) status.availableReplicas = available;
    if (rs.metadata.generation) status.observedGeneration = rs.metadata.generation;
    const conditions = (rs.status?.conditions ?? []).filter((c: { type: string }) => c.type !== 'ReplicaFailure');
    if (manageError) {
      const existing = (rs.status?.conditions ?? []).find((c: { type: string }) => c.type === 'ReplicaFailure');
      const diff = active.length - (rs.spec?.replicas ?? 1);
      const reason = diff < 0 ? 'FailedCreate' : 'FailedDelete';
      const message = (manageError as Error).message ?? String(manageError);
      conditions.push(
        existing && existing.reason === reason && existing.message === message
          ? existing
          : { type: 'ReplicaFailure', status: 'True', lastTransitionTime: new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z'), reason, message },
      );
    }
    if (conditions.length) status.conditions = conditions;
    return status;
  }

  async function updateStatus(rs: KubeObject, status: any): Promise<void> {
    const same = (s: any) =>
      (s?.replicas ?? 0) === status.replicas &&
      (s?.fullyLabeledReplicas ?? 0) === (status.fullyLabeledReplicas ?? 0) &&
      (s?.readyReplicas ?? 0) === (status.readyReplicas ?? 0) &&
      (s?.availableReplicas ?? 0) === (status.availableReplicas ?? 0) &&
      s?.observedGeneration === status.observedGeneration &&
      JSON.stringify(s?.conditions ?? []) === JSON.stringify(status.conditions ?? []);
    if (same(rs.status)) return;
    await writeStatus(ownerClient, rs, status);
  }

  async function reconcile(key: string): Promise<ReconcileResult | void> {
    const { namespace, name } = splitObjectKey(key);
    const rs = owners.getIndexer().getByName(namespace, name);
    if (!rs) {
      expectations.delete(key);
      return;
    }
    const needsSync = expectations.satisfied(key);
    const selector = owner.selectorOf(rs);
    const candidates = pods.getIndexer().listByNamespace(namespace!).filter(isPodActive);
    const active = await claimPods({ owner: rs, apiVersion: owner.apiVersion, kind: owner.kind, selector, pods: podClient, getOwner: liveOwner(ownerClient, rs) }, candidates);
    let manageError: unknown;
    if (needsSync && !rs.metadata.deletionTimestamp) {
      try {
        await manageReplicas(rs, key, active);
      } catch (err) {
        manageError = err;
      }
    }
    const status = calculateStatus(rs, active, manageError);
    await updateStatus(rs, status);
    if (manageError) throw manageError;
    // Pods that are ready but not yet available turn available with no event to wake us.
    const minReadySeconds = rs.spec?.minReadySeconds ?? 0;
    if (minReadySeconds > 0) {
      const waits = active.map((p) => msUntilAvailable(p, minReadySeconds, clock.now())).filter((w): w is number => w !== undefined);
      if (waits.length) return { requeueAfterMs: Math.min(...waits) };
    }
  }

  return {
    name: owner.name,
    reconcile,
    hasSynced: () => owners.hasSynced() && pods.hasSynced(),
    start: (signal) =>
      runController({ name: owner.name, queue, informers: [owners, pods], reconcile, workers: options.workers ?? 5, signal, logger: log }).catch((err) => {
        log('error', 'controller stopped', { controller: owner.name, error: String(err) });
      }),
  };
}
