// The DaemonSet controller: one pod per eligible node. Eligibility is the pod's nodeSelector
// and required node affinity plus the node's taints against the pod's tolerations (with the
// tolerations every DaemonSet pod gets automatically). Pods are created with a required node
// affinity `metadata.name In [node]` and left to the default scheduler to bind, as Kubernetes
// does since 1.12. Updates follow spec.updateStrategy (RollingUpdate with maxUnavailable or
// maxSurge, or OnDelete) against ControllerRevisions of the pod template.
import type { KubeObject } from '../../api/types.js';
import { labelSelectorAsSelector, matches } from '../../api/selectors/labels.js';
import type { Client, ResourceRef } from '../../client/client.js';
import { objectKey, splitObjectKey } from '../../client/client.js';
import type { Clock } from '../../client/clock.js';
import { writeStatus } from '../framework/status.js';
import type { Logger, SharedInformerFactory } from '../../client/informer.js';
import { objectFromDeleted } from '../../client/informer.js';
import { RateLimitingQueue } from '../../client/workqueue.js';
import { podMatchesNodeSelectorAndAffinity } from '../../scheduler/plugins/node-affinity.js';
import { toleratesTaint, type Toleration } from '../../scheduler/plugins/taint-toleration.js';
import type { Taint } from '../../scheduler/node-info.js';
import { scaledValue } from '../deployment/rolling.js';
import { runController, type Controller, type ReconcileResult } from '../framework/controller.js';
import { claimPods, liveOwner } from '../framework/claim.js';
import { controllerUidIndexFunc, getControllerOf, newControllerRef } from '../framework/controller-ref.js';
import type { EventRecorder } from '../framework/events.js';
import { ControllerExpectations } from '../framework/expectations.js';
import { deleteExpectedPods } from '../framework/pod-control.js';
import { isPodAvailable, isPodReady, msUntilAvailable } from '../framework/pods.js';
import { podsRelatedIndex, podsResource } from '../framework/resources.js';
import { slowStartBatch } from '../framework/slow-start.js';
import { controllerRevisionHashLabel, controllerRevisionsResource, ensureCurrentRevision, revisionsOwnedBy, truncateHistory } from './history.js';

export const daemonSetsResource: ResourceRef = { group: 'apps', version: 'v1', resource: 'daemonsets', namespaced: true, kind: 'DaemonSet' };
export const nodesResource: ResourceRef = { group: '', version: 'v1', resource: 'nodes', namespaced: false, kind: 'Node' };
const dsKind = { apiVersion: 'apps/v1', kind: 'DaemonSet' };

export interface DaemonSetControllerOptions {
  client: Client;
  informerFactory: SharedInformerFactory;
  clock: Clock;
  recorder: EventRecorder;
  workers?: number;
  logger?: Logger;
}

/**
 * Tolerations Kubernetes adds to every DaemonSet pod (util.AddOrUpdateDaemonPodTolerations): a
 * daemon keeps running through node conditions that would evict or repel ordinary pods.
 */
export function daemonPodTolerations(spec: any): Toleration[] {
  const auto: Toleration[] = [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
  ];
  if (spec?.hostNetwork) auto.push({ key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' });
  const existing: Toleration[] = spec?.tolerations ?? [];
  const same = (a: Toleration, b: Toleration) => a.key === b.key && (a.operator ?? 'Equal') === (b.operator ?? 'Equal') && (a.value ?? '') === (b.value ?? '') && (a.effect ?? '') === (b.effect ?? '');
  return [...existing, ...auto.filter((t) => !existing.some((e) => same(e, t)))];
}

/**
 * Kubernetes' NodeShouldRunDaemonPod: `shouldRun` — a new pod belongs there; `shouldContinueRunning`
 * — an existing one may stay (an untolerated NoSchedule taint only stops new pods; NoExecute evicts).
 */
export function nodeShouldRunDaemonPod(node: KubeObject, ds: KubeObject): { shouldRun: boolean; shouldContinueRunning: boolean } {
  const template = ds.spec?.template ?? {};
  const pod: KubeObject = { metadata: {}, spec: { ...(template.spec ?? {}), tolerations: daemonPodTolerations(template.spec) } };
  if (template.spec?.nodeName && template.spec.nodeName !== node.metadata.name) return { shouldRun: false, shouldContinueRunning: false };
  if (!podMatchesNodeSelectorAndAffinity(pod as never, node.metadata.labels ?? {}, node.metadata.name ?? '')) return { shouldRun: false, shouldContinueRunning: false };
  const tolerations = pod.spec.tolerations as Toleration[];
  const untolerated = ((node.spec?.taints ?? []) as Taint[]).filter((t) => (t.effect === 'NoSchedule' || t.effect === 'NoExecute') && !tolerations.some((x) => toleratesTaint(x, t)));
  return { shouldRun: untolerated.length === 0, shouldContinueRunning: !untolerated.some((t) => t.effect === 'NoExecute') };
}

/** The node a daemon pod is for: where it is bound, or the node its matchFields affinity names. */
export function nodeOfDaemonPod(pod: KubeObject): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  for (const term of pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []) {
    for (const f of term.matchFields ?? []) if (f.key === 'metadata.name' && f.operator === 'In' && f.values?.length === 1) return f.values[0];
  }
  return undefined;
}

/** Replaces any node affinity with one required term pinning the pod to `nodeName` (util.ReplaceDaemonSetPodNodeNameNodeAffinity). */
export function pinToNode(spec: any, nodeName: string): any {
  const pin = { key: 'metadata.name', operator: 'In', values: [nodeName] };
  const affinity = structuredClone(spec.affinity ?? {});
  affinity.nodeAffinity = { ...(affinity.nodeAffinity ?? {}), requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [pin] }] } };
  return { ...spec, affinity };
}

const isFinished = (pod: KubeObject) => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
const byAge = (a: KubeObject, b: KubeObject) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') || a.metadata.name!.localeCompare(b.metadata.name!);

export function createDaemonSetController(options: DaemonSetControllerOptions): Controller {
  const { client, clock, recorder } = options;
  const log = options.logger ?? (() => undefined);
  const daemonSets = options.informerFactory.forResource(daemonSetsResource);
  const nodes = options.informerFactory.forResource(nodesResource);
  const pods = options.informerFactory.forResource(podsResource, { indexers: { [podsRelatedIndex]: controllerUidIndexFunc } });
  const revisions = options.informerFactory.forResource(controllerRevisionsResource, { indexers: { [podsRelatedIndex]: controllerUidIndexFunc } });
  const dsClient = client.resource(daemonSetsResource);
  const podClient = client.resource(podsResource);
  const queue = new RateLimitingQueue<string>({ clock });
  const expectations = new ControllerExpectations(clock);

  const enqueue = (obj: KubeObject) => queue.add(objectKey(obj));
  const enqueueAll = () => daemonSets.getIndexer().list().forEach(enqueue);

  function ownerOf(pod: KubeObject): KubeObject | undefined {
    const ref = getControllerOf(pod);
    if (!ref || ref.kind !== 'DaemonSet') return undefined;
    const ds = daemonSets.getIndexer().getByName(pod.metadata.namespace, ref.name);
    return ds && ds.metadata.uid === ref.uid ? ds : undefined;
  }

  /** An orphan wakes every DaemonSet that selects it, so one of them can adopt it. */
  function enqueueSelecting(pod: KubeObject) {
    if (!pod.metadata.labels) return;
    for (const ds of daemonSets.getIndexer().listByNamespace(pod.metadata.namespace!)) {
      if (matches(labelSelectorAsSelector(ds.spec?.selector), pod.metadata.labels)) enqueue(ds);
    }
  }

  daemonSets.addEventHandler({
    onAdd: enqueue,
    onUpdate: (_old, ds) => enqueue(ds),
    onDelete: (deleted) => {
      const ds = objectFromDeleted(deleted);
      expectations.delete(objectKey(ds));
    },
  });
  // Any node change can change eligibility for every DaemonSet; nodes change rarely enough.
  nodes.addEventHandler({
    onAdd: enqueueAll,
    onUpdate: (old, node) => {
      if (old.metadata.resourceVersion === node.metadata.resourceVersion) return;
      // Heartbeats rewrite status all the time; only labels, taints and the spec matter here.
      if (JSON.stringify([old.metadata.labels, old.spec]) === JSON.stringify([node.metadata.labels, node.spec])) return;
      enqueueAll();
    },
    onDelete: enqueueAll,
  });
  pods.addEventHandler({
    onAdd(pod) {
      if (!getControllerOf(pod)) {
        if (!pod.metadata.deletionTimestamp) enqueueSelecting(pod);
        return;
      }
      const ds = ownerOf(pod);
      if (!ds) return;
      if (pod.metadata.deletionTimestamp) expectations.deletionObserved(objectKey(ds), objectKey(pod));
      else expectations.creationObserved(objectKey(ds));
      enqueue(ds);
    },
    onUpdate(old, pod) {
      if (old.metadata.resourceVersion === pod.metadata.resourceVersion) return;
      const oldOwner = ownerOf(old);
      const ds = ownerOf(pod);
      // Released (or re-owned): the previous owner must recount.
      if (oldOwner && oldOwner.metadata.uid !== ds?.metadata.uid) enqueue(oldOwner);
      if (!getControllerOf(pod)) {
        const labelsChanged = JSON.stringify(old.metadata.labels ?? {}) !== JSON.stringify(pod.metadata.labels ?? {});
        if (!pod.metadata.deletionTimestamp && (labelsChanged || getControllerOf(old))) enqueueSelecting(pod);
        return;
      }
      if (!ds) return;
      if (pod.metadata.deletionTimestamp) expectations.deletionObserved(objectKey(ds), objectKey(pod));
      enqueue(ds);
      const minReadySeconds = ds.spec?.minReadySeconds ?? 0;
      if (!isPodReady(old) && isPodReady(pod) && minReadySeconds > 0) queue.addAfter(objectKey(ds), minReadySeconds * 1000 + 1000);
    },
    onDelete(deleted) {
      const pod = objectFromDeleted(deleted);
      const ds = ownerOf(pod);
      if (!ds) return;
      expectations.deletionObserved(objectKey(ds), objectKey(pod));
      enqueue(ds);
    },
  });
  revisions.addEventHandler({
    onAdd: (r) => {
      const ref = getControllerOf(r);
      if (ref?.kind === 'DaemonSet') queue.add(`${r.metadata.namespace}/${ref.name}`);
    },
  });

  function newPod(ds: KubeObject, nodeName: string, hash: string): KubeObject {
    const template = ds.spec?.template ?? {};
    const spec = pinToNode({ ...structuredClone(template.spec ?? {}) }, nodeName);
    spec.tolerations = daemonPodTolerations(template.spec);
    const metadata: KubeObject['metadata'] = {
      generateName: `${ds.metadata.name}-`,
      namespace: ds.metadata.namespace,
      labels: { ...(template.metadata?.labels ?? {}), [controllerRevisionHashLabel]: hash },
      ownerReferences: [newControllerRef(ds, dsKind.apiVersion, dsKind.kind)],
    };
    if (template.metadata?.annotations) metadata.annotations = { ...template.metadata.annotations };
    return { apiVersion: 'v1', kind: 'Pod', metadata, spec };
  }

  /** The plan for one sync: which nodes need a new pod and which pods must go. */
  interface Plan {
    create: string[];
    remove: KubeObject[];
  }

  /** Kubernetes' manage(): the pods each node should or should not have. */
  function placement(ds: KubeObject, podsByNode: Map<string, KubeObject[]>, nodeList: KubeObject[]): Plan {
    const plan: Plan = { create: [], remove: [] };
    const known = new Set(nodeList.map((n) => n.metadata.name!));
    for (const node of nodeList) {
      const name = node.metadata.name!;
      const { shouldRun, shouldContinueRunning } = nodeShouldRunDaemonPod(node, ds);
      const onNode = podsByNode.get(name) ?? [];
      if (shouldRun && onNode.length === 0) {
        plan.create.push(name);
        continue;
      }
      if (!shouldContinueRunning) {
        plan.remove.push(...onNode.filter((p) => !p.metadata.deletionTimestamp));
        continue;
      }
      // A failed daemon pod is replaced (deleted now, recreated on the next sync).
      const failed = onNode.filter((p) => p.status?.phase === 'Failed' && !p.metadata.deletionTimestamp);
      plan.remove.push(...failed);
      const live = onNode.filter((p) => !isFinished(p) && !p.metadata.deletionTimestamp).sort(byAge);
      // More than one live pod on a node: with maxSurge the rolling update retires the old one
      // once the new one is available; anything else (duplicates) keeps only the oldest.
      const surge = ds.spec?.updateStrategy?.type === 'RollingUpdate' && scaledValue(ds.spec.updateStrategy.rollingUpdate?.maxSurge ?? 0, 1, true) > 0;
      if (live.length > 1 && !surge) plan.remove.push(...live.slice(1));
      if (surge) {
        const hashes = new Set<string>();
        for (const p of live) {
          const h = p.metadata.labels?.[controllerRevisionHashLabel] ?? '';
          if (hashes.has(h)) plan.remove.push(p);
          hashes.add(h);
        }
      }
    }
    for (const [name, onNode] of podsByNode) if (!known.has(name)) plan.remove.push(...onNode.filter((p) => !p.metadata.deletionTimestamp));
    return plan;
  }

  /** Kubernetes' rollingUpdate(): replace pods of old revisions within the maxUnavailable / maxSurge budget. */
  function rollingUpdate(ds: KubeObject, hash: string, podsByNode: Map<string, KubeObject[]>, nodeList: KubeObject[]): Plan {
    const plan: Plan = { create: [], remove: [] };
    const now = clock.now();
    const minReadySeconds = ds.spec?.minReadySeconds ?? 0;
    const eligible = nodeList.filter((n) => nodeShouldRunDaemonPod(n, ds).shouldRun).map((n) => n.metadata.name!);
    const desired = eligible.length;
    const rolling = ds.spec?.updateStrategy?.rollingUpdate ?? {};
    const maxSurge = scaledValue(rolling.maxSurge ?? 0, desired, false);
    let maxUnavailable = scaledValue(rolling.maxUnavailable ?? 1, desired, true);
    if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
    const available = (p: KubeObject) => isPodAvailable(p, minReadySeconds, now);
    const isNew = (p: KubeObject) => p.metadata.labels?.[controllerRevisionHashLabel] === hash;

    if (maxSurge === 0) {
      let unavailable = 0;
      const candidates: KubeObject[] = [];
      for (const name of eligible) {
        const live = (podsByNode.get(name) ?? []).filter((p) => !isFinished(p) && !p.metadata.deletionTimestamp);
        if (!live.some(available)) unavailable++;
        for (const p of live) if (!isNew(p)) (available(p) ? candidates : plan.remove).push(p);
      }
      // Old pods that are already unavailable go at once; available ones only within the budget.
      for (const p of candidates.sort(byAge)) {
        if (unavailable >= maxUnavailable) break;
        plan.remove.push(p);
        unavailable++;
      }
      return plan;
    }

    let surging = 0;
    const wantSurge: string[] = [];
    for (const name of eligible) {
      const live = (podsByNode.get(name) ?? []).filter((p) => !isFinished(p) && !p.metadata.deletionTimestamp);
      const oldPods = live.filter((p) => !isNew(p));
      const newPods = live.filter(isNew);
      if (oldPods.length === 0) continue;
      if (newPods.length === 0) {
        // An old pod that is not available anyway is replaced without waiting for budget.
        if (!oldPods.some(available)) plan.create.push(name);
        else wantSurge.push(name);
        continue;
      }
      if (newPods.some(available)) plan.remove.push(...oldPods);
      else surging++;
    }
    for (const name of wantSurge) {
      if (surging >= maxSurge) break;
      plan.create.push(name);
      surging++;
    }
    return plan;
  }

  async function execute(ds: KubeObject, key: string, hash: string, plan: Plan): Promise<void> {
    const namespace = ds.metadata.namespace;
    const errors: unknown[] = [];
    // Expectations track either creations or deletions at a time: a plan with both deletes
    // first, and the next sync (woken by the deletions) creates.
    const create = plan.remove.length ? [] : plan.create;
    if (plan.remove.length) expectations.expectDeletions(key, plan.remove.map((p) => objectKey(p)));
    else expectations.expectCreations(key, create.length);
    const result = await slowStartBatch(create.length, 1, async (i) => {
      const nodeName = create[i]!;
      try {
        const created = await podClient.create(namespace, newPod(ds, nodeName, hash));
        recorder.event(ds, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata.name}`);
      } catch (err) {
        expectations.creationObserved(key);
        recorder.event(ds, 'Warning', 'FailedCreate', `Error creating: ${(err as Error).message}`);
        throw err;
      }
    });
    const skipped = create.length - result.successes - (result.error ? 1 : 0);
    for (let i = 0; i < skipped; i++) expectations.creationObserved(key);
    if (result.error) errors.push(result.error);
    errors.push(...(await deleteExpectedPods({ owner: ds, pods: plan.remove, podClient, recorder, expectations, key })));
    if (errors.length) throw errors[0];
  }

  function calculateStatus(ds: KubeObject, hash: string, podsByNode: Map<string, KubeObject[]>, nodeList: KubeObject[]): any {
    const now = clock.now();
    const minReadySeconds = ds.spec?.minReadySeconds ?? 0;
    let desired = 0, current = 0, misscheduled = 0, ready = 0, available = 0, updated = 0;
    for (const node of nodeList) {
      const { shouldRun } = nodeShouldRunDaemonPod(node, ds);
      const live = (podsByNode.get(node.metadata.name!) ?? []).filter((p) => !p.metadata.deletionTimestamp);
      if (shouldRun) {
        desired++;
        if (live.length === 0) continue;
        current++;
        const pod = [...live].sort(byAge)[0]!;
        const newest = live.find((p) => p.metadata.labels?.[controllerRevisionHashLabel] === hash);
        if (newest) updated++;
        const counted = newest && isPodReady(newest) ? newest : pod;
        if (isPodReady(counted)) {
          ready++;
          if (isPodAvailable(counted, minReadySeconds, now)) available++;
        }
      } else if (live.length) misscheduled++;
    }
    const status: any = {
      currentNumberScheduled: current,
      numberMisscheduled: misscheduled,
      desiredNumberScheduled: desired,
      numberReady: ready,
      observedGeneration: ds.metadata.generation,
    };
    if (updated) status.updatedNumberScheduled = updated;
    if (available) status.numberAvailable = available;
    if (desired - available > 0) status.numberUnavailable = desired - available;
    if (ds.status?.collisionCount !== undefined) status.collisionCount = ds.status.collisionCount;
    if (ds.status?.conditions) status.conditions = ds.status.conditions;
    return status;
  }

  async function updateStatus(ds: KubeObject, status: any): Promise<void> {
    if (JSON.stringify(ds.status ?? {}) === JSON.stringify(status)) return;
    await writeStatus(dsClient, ds, status);
  }

  async function reconcile(key: string): Promise<ReconcileResult | void> {
    const { namespace, name } = splitObjectKey(key);
    const ds = daemonSets.getIndexer().getByName(namespace, name);
    if (!ds) {
      expectations.delete(key);
      return;
    }
    const selector = labelSelectorAsSelector(ds.spec?.selector);
    // Kubernetes' getDaemonPods: every pod of the namespace is a candidate, so orphans are adopted and strays released.
    const own = await claimPods({ owner: ds, ...dsKind, selector, pods: podClient, getOwner: liveOwner(dsClient, ds) }, pods.getIndexer().listByNamespace(namespace!));
    const podsByNode = new Map<string, KubeObject[]>();
    for (const pod of own) {
      const node = nodeOfDaemonPod(pod);
      if (!node) continue;
      podsByNode.set(node, [...(podsByNode.get(node) ?? []), pod]);
    }
    const nodeList = nodes.getIndexer().list();
    const history = revisionsOwnedBy(revisions.getIndexer().byIndex(podsRelatedIndex, ds.metadata.uid!), ds);
    if (ds.metadata.deletionTimestamp) return;
    const currentRevision = await ensureCurrentRevision(client, ds, dsKind, history);
    const hash = currentRevision.metadata.labels![controllerRevisionHashLabel]!;

    let manageError: unknown;
    if (expectations.satisfied(key)) {
      try {
        let plan = placement(ds, podsByNode, nodeList);
        if (plan.create.length === 0 && plan.remove.length === 0 && (ds.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate') {
          plan = rollingUpdate(ds, hash, podsByNode, nodeList);
        }
        if (plan.create.length || plan.remove.length) await execute(ds, key, hash, plan);
        const inUse = new Set(own.map((p) => p.metadata.labels?.[controllerRevisionHashLabel] ?? ''));
        await truncateHistory(client, history, new Set([currentRevision.metadata.name!]), inUse, ds.spec?.revisionHistoryLimit ?? 10);
      } catch (err) {
        manageError = err;
      }
    }
    await updateStatus(ds, calculateStatus(ds, hash, podsByNode, nodeList));
    if (manageError) throw manageError;
    const minReadySeconds = ds.spec?.minReadySeconds ?? 0;
    if (minReadySeconds > 0) {
      const waits = own.map((p) => msUntilAvailable(p, minReadySeconds, clock.now())).filter((w): w is number => w !== undefined);
      if (waits.length) return { requeueAfterMs: Math.min(...waits) };
    }
  }

  return {
    name: 'daemonset',
    reconcile,
    hasSynced: () => daemonSets.hasSynced() && nodes.hasSynced() && pods.hasSynced() && revisions.hasSynced(),
    start: (signal) =>
      runController({ name: 'daemonset', queue, informers: [daemonSets, nodes, pods, revisions], reconcile, workers: options.workers ?? 2, signal, logger: log }).catch((err) => {
        log('error', 'controller stopped', { controller: 'daemonset', error: String(err) });
      }),
  };
}
