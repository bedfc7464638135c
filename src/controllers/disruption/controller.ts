// The disruption controller: keeps each PodDisruptionBudget's status current so the eviction
// subresource (src/apiserver/subresources.ts) can decide whether a pod may go. For every
// budget: the pods its selector matches in its namespace, how many are expected (the scale of
// the Deployments/ReplicaSets/StatefulSets/ReplicationControllers owning them, when the
// budget is a percentage or maxUnavailable), how many are healthy, and so how many
// disruptions are allowed. Evictions recorded in status.disruptedPods are forgotten once the
// pod is being deleted, or after two minutes if it never is.
import type { KubeObject } from '../../api/types.js';
import { labelSelectorMatches } from '../../api/selectors/labels.js';
import type { Client } from '../../client/client.js';
import { objectKey, splitObjectKey } from '../../client/client.js';
import type { Clock } from '../../client/clock.js';
import type { Logger, SharedInformerFactory } from '../../client/informer.js';
import { objectFromDeleted } from '../../client/informer.js';
import { RateLimitingQueue } from '../../client/workqueue.js';
import { runController, type Controller, type ReconcileResult } from '../framework/controller.js';
import { getControllerOf } from '../framework/controller-ref.js';
import { formatTime, type EventRecorder } from '../framework/events.js';
import type { ResourceRef } from '../../client/client.js';
import { deploymentsResource, podsResource, replicaSetsResource, replicationControllersResource } from '../framework/resources.js';
import { countHealthyPods, disruptionsAllowed, expectedPodCount, pruneDisruptedPods } from './budget.js';

export const statefulSetsResource: ResourceRef = { group: 'apps', version: 'v1', resource: 'statefulsets', namespaced: true, kind: 'StatefulSet' };
export const podDisruptionBudgetsResource: ResourceRef = { group: 'policy', version: 'v1', resource: 'poddisruptionbudgets', namespaced: true, kind: 'PodDisruptionBudget' };

export interface DisruptionControllerOptions {
  client: Client;
  informerFactory: SharedInformerFactory;
  clock: Clock;
  recorder: EventRecorder;
  workers?: number;
  logger?: Logger;
}

interface Condition {
  type: string;
  status: 'True' | 'False';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export const disruptionAllowedCondition = 'DisruptionAllowed';

export function createDisruptionController(options: DisruptionControllerOptions): Controller {
  const { client, clock, recorder } = options;
  const log = options.logger ?? (() => undefined);
  const budgets = options.informerFactory.forResource(podDisruptionBudgetsResource);
  const pods = options.informerFactory.forResource(podsResource);
  const replicaSets = options.informerFactory.forResource(replicaSetsResource);
  const deployments = options.informerFactory.forResource(deploymentsResource);
  const statefulSets = options.informerFactory.forResource(statefulSetsResource);
  const replicationControllers = options.informerFactory.forResource(replicationControllersResource);
  const budgetClient = client.resource(podDisruptionBudgetsResource);
  const queue = new RateLimitingQueue<string>({ clock });

  const enqueueBudget = (pdb: KubeObject) => queue.add(objectKey(pdb));
  budgets.addEventHandler({ onAdd: enqueueBudget, onUpdate: (_o, n) => enqueueBudget(n), onDelete: (o) => enqueueBudget(objectFromDeleted(o)) });

  const enqueueBudgetsOf = (pod: KubeObject) => {
    for (const pdb of budgets.getIndexer().listByNamespace(pod.metadata.namespace!)) {
      if (labelSelectorMatches(pdb.spec?.selector, pod.metadata.labels ?? {})) enqueueBudget(pdb);
    }
  };
  pods.addEventHandler({
    onAdd: enqueueBudgetsOf,
    onUpdate(oldPod, newPod) {
      enqueueBudgetsOf(newPod);
      if (JSON.stringify(oldPod.metadata.labels ?? {}) !== JSON.stringify(newPod.metadata.labels ?? {})) enqueueBudgetsOf(oldPod);
    },
    onDelete: (o) => enqueueBudgetsOf(objectFromDeleted(o)),
  });
  // A change of scale changes expectedPods of percentage budgets before any pod changes.
  const onScale = (oldObj: KubeObject, newObj: KubeObject) => {
    if (oldObj.spec?.replicas === newObj.spec?.replicas) return;
    for (const pdb of budgets.getIndexer().listByNamespace(newObj.metadata.namespace!)) enqueueBudget(pdb);
  };
  for (const informer of [replicaSets, deployments, statefulSets, replicationControllers]) informer.addEventHandler({ onUpdate: onScale });

  /** The scale of the controller a pod's controllerRef names, if it is one whose scale we know. */
  function controllerScale(namespace: string, ref: { kind: string; name: string; uid: string; apiVersion: string }): { uid: string; replicas: number } | undefined {
    const group = ref.apiVersion.includes('/') ? ref.apiVersion.split('/')[0] : '';
    const found = (informer: typeof pods) => {
      const obj = informer.getIndexer().getByName(namespace, ref.name);
      return obj && obj.metadata.uid === ref.uid ? obj : undefined;
    };
    const replicasOf = (obj: KubeObject) => ({ uid: obj.metadata.uid!, replicas: obj.spec?.replicas ?? 1 });
    if (ref.kind === 'ReplicaSet' && (group === 'apps' || group === 'extensions')) {
      const rs = found(replicaSets);
      if (!rs) return undefined;
      // A Deployment's ReplicaSets come and go during a rollout; the Deployment's scale is what the user asked for.
      const owner = getControllerOf(rs);
      if (owner?.kind === 'Deployment') {
        const deployment = deployments.getIndexer().getByName(namespace, owner.name);
        return deployment && deployment.metadata.uid === owner.uid ? replicasOf(deployment) : undefined;
      }
      return replicasOf(rs);
    }
    if (ref.kind === 'ReplicationController' && group === '') {
      const rc = found(replicationControllers);
      return rc && replicasOf(rc);
    }
    if (ref.kind === 'StatefulSet' && group === 'apps') {
      const sts = found(statefulSets);
      return sts && replicasOf(sts);
    }
    return undefined;
  }

  function expectedScale(namespace: string, matched: KubeObject[]): number {
    const scales = new Map<string, number>();
    for (const pod of matched) {
      const ref = getControllerOf(pod);
      if (!ref) throw new Error(`found no controller ref for pod "${pod.metadata.name}"`);
      const scale = controllerScale(namespace, ref);
      if (!scale) throw new Error(`found no controllers for pod "${pod.metadata.name}"`);
      scales.set(scale.uid, scale.replicas);
    }
    let total = 0;
    for (const replicas of scales.values()) total += replicas;
    return total;
  }

  function withCondition(pdb: KubeObject, allowed: number, failure?: string): Condition[] {
    const previous: Condition[] = pdb.status?.conditions ?? [];
    const desired = failure
      ? { status: 'False' as const, reason: 'SyncFailed', message: failure }
      : allowed > 0
        ? { status: 'True' as const, reason: 'SufficientPods', message: '' }
        : { status: 'False' as const, reason: 'InsufficientPods', message: '' };
    const old = previous.find((c) => c.type === disruptionAllowedCondition);
    const condition: Condition = {
      type: disruptionAllowedCondition,
      ...desired,
      lastTransitionTime: old && old.status === desired.status ? old.lastTransitionTime : formatTime(clock.now()),
      observedGeneration: pdb.metadata.generation,
    };
    return [...previous.filter((c) => c.type !== disruptionAllowedCondition), condition];
  }

  async function writeStatus(pdb: KubeObject, status: Record<string, unknown>): Promise<void> {
    const next: Record<string, unknown> = { ...pdb.status, ...status };
    if (next.disruptedPods === undefined || Object.keys(next.disruptedPods as object).length === 0) delete next.disruptedPods;
    if (JSON.stringify(next) === JSON.stringify(pdb.status ?? {})) return;
    // The cached resourceVersion guards against overwriting a concurrent eviction's bookkeeping.
    await budgetClient.updateStatus({ ...pdb, status: next });
  }

  async function reconcile(key: string): Promise<ReconcileResult | void> {
    const { namespace, name } = splitObjectKey(key);
    const pdb = budgets.getIndexer().getByName(namespace, name);
    if (!pdb || pdb.metadata.deletionTimestamp) return;
    const now = clock.now();
    const matched = pods.getIndexer().listByNamespace(namespace!).filter((pod) => labelSelectorMatches(pdb.spec?.selector, pod.metadata.labels ?? {}));
    if (matched.length === 0) recorder.event(pdb, 'Normal', 'NoPods', 'No matching pods found');

    let counts;
    try {
      counts = expectedPodCount(pdb, matched, () => expectedScale(namespace!, matched));
    } catch (err) {
      const message = (err as Error).message;
      recorder.event(pdb, 'Warning', 'CalculateExpectedPodCountFailed', `Failed to calculate the number of expected pods: ${message}`);
      // Fail safe: with an unknown expectation no disruption may be allowed.
      await writeStatus(pdb, { disruptedPods: pdb.status?.disruptedPods, disruptionsAllowed: 0, conditions: withCondition(pdb, 0, message), observedGeneration: pdb.metadata.generation });
      return;
    }
    const disrupted = pruneDisruptedPods(pdb, matched, now);
    for (const pod of disrupted.expired) recorder.event(pod, 'Warning', 'NotDeleted', `Pod was expected by PDB ${namespace}/${name} to be deleted but it wasn't`);
    const currentHealthy = countHealthyPods(matched, disrupted.disruptedPods, now);
    const allowed = disruptionsAllowed(currentHealthy, counts.desiredHealthy, counts.expectedPods);
    await writeStatus(pdb, {
      disruptedPods: disrupted.disruptedPods,
      currentHealthy,
      desiredHealthy: counts.desiredHealthy,
      expectedPods: counts.expectedPods,
      disruptionsAllowed: allowed,
      observedGeneration: pdb.metadata.generation,
      conditions: withCondition(pdb, allowed),
    });
    if (disrupted.recheckAtMs !== undefined) return { requeueAfterMs: Math.max(1, disrupted.recheckAtMs - now + 1) };
  }

  return {
    name: 'disruption',
    reconcile,
    hasSynced: () => [budgets, pods, replicaSets, deployments, statefulSets, replicationControllers].every((i) => i.hasSynced()),
    start: (signal) =>
      runController({ name: 'disruption', queue, informers: [budgets, pods, replicaSets, deployments, statefulSets, replicationControllers], reconcile, workers: options.workers ?? 2, signal, logger: log }).catch((err) => {
        log('error', 'controller stopped', { controller: 'disruption', error: String(err) });
      }),
  };
}
