// The node lifecycle controller: notices nodes whose kubelet stopped reporting and acts on
// them as kube-controller-manager's node-lifecycle and taint-eviction controllers do.
// - A node is healthy while its Lease in kube-node-lease (or its Ready heartbeat) keeps
//   changing. When neither changed for the grace period (40 s), its Ready condition becomes
//   Unknown ("Kubelet stopped posting node status.") and its pods become not Ready.
// - Taints follow conditions: Ready=Unknown → node.kubernetes.io/unreachable, Ready=False →
//   not-ready (both NoSchedule and NoExecute), pressure conditions → NoSchedule, and
//   spec.unschedulable (kubectl cordon) → node.kubernetes.io/unschedulable:NoSchedule.
//   They are removed when the condition clears.
// - NoExecute taints evict: a pod that does not tolerate one is deleted at once; one that does
//   is deleted tolerationSeconds after the taint was added (300 s from DefaultTolerationSeconds).
// Health is judged by when this controller saw the heartbeat change, on its own clock, so a
// kubelet with a skewed clock is judged fairly (as Kubernetes' probeTimestamp).
import type { KubeObject } from '../../api/types.js';
import type { Client, ResourceRef } from '../../client/client.js';
import type { Clock } from '../../client/clock.js';
import { isNotFound } from '../../client/errors.js';
import type { Logger, SharedInformerFactory } from '../../client/informer.js';
import { objectFromDeleted } from '../../client/informer.js';
import { RateLimitingQueue } from '../../client/workqueue.js';
import { queueController, type Controller, type ReconcileResult } from '../framework/controller.js';
import { formatTime, type EventRecorder } from '../framework/events.js';
import { podsResource } from '../framework/resources.js';
import { desiredManagedTaints, evictionTime, reconcileTaints, type Taint } from './taints.js';

export const nodesResource: ResourceRef = { group: '', version: 'v1', resource: 'nodes', namespaced: false, kind: 'Node' };
export const leasesResource: ResourceRef = { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespaced: true, kind: 'Lease' };
export const nodeLeaseNamespace = 'kube-node-lease';
const podsByNodeIndex = 'nodelifecycle:spec.nodeName';
const podsByNode = (pod: KubeObject): string[] => (pod.spec?.nodeName ? [pod.spec.nodeName] : []);

export interface NodeLifecycleOptions {
  client: Client;
  informerFactory: SharedInformerFactory;
  clock: Clock;
  recorder: EventRecorder;
  /** --node-monitor-grace-period: how long a node may go without a heartbeat before Ready=Unknown. */
  nodeMonitorGracePeriodMs?: number;
  workers?: number;
  logger?: Logger;
}

interface NodeHealth {
  /** When this controller last saw the lease or the Ready heartbeat change. */
  probeAtMs: number;
  leaseRenewTime?: string;
  readyHeartbeat?: string;
}

interface NodeCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastHeartbeatTime?: string;
  lastTransitionTime?: string;
}

/** Conditions the kubelet owns that go Unknown with it (Kubernetes' nodeConditionTypes). */
const kubeletConditions = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'];

export function createNodeLifecycleController(options: NodeLifecycleOptions): Controller {
  const { client, clock, recorder } = options;
  const log = options.logger ?? (() => undefined);
  const graceMs = options.nodeMonitorGracePeriodMs ?? 40_000;
  const nodes = options.informerFactory.forResource(nodesResource);
  const leases = options.informerFactory.forResource(leasesResource, { namespace: nodeLeaseNamespace });
  const pods = options.informerFactory.forResource(podsResource, { indexers: { [podsByNodeIndex]: podsByNode } });
  const nodeClient = client.resource(nodesResource);
  const podClient = client.resource(podsResource);
  const queue = new RateLimitingQueue<string>({ clock });
  const health = new Map<string, NodeHealth>();

  const enqueue = (name: string | undefined) => name && queue.add(name);
  nodes.addEventHandler({
    onAdd: (n) => enqueue(n.metadata.name),
    onUpdate: (_o, n) => enqueue(n.metadata.name),
    onDelete: (o) => {
      const name = objectFromDeleted(o).metadata.name!;
      health.delete(name);
    },
  });
  leases.addEventHandler({ onAdd: (l) => enqueue(l.metadata.name), onUpdate: (_o, l) => enqueue(l.metadata.name) });
  pods.addEventHandler({ onAdd: (p) => enqueue(p.spec?.nodeName), onUpdate: (_o, p) => enqueue(p.spec?.nodeName) });

  /** Updates the probe time when a heartbeat changed; returns when the node goes stale. */
  function observe(node: KubeObject, now: number): NodeHealth {
    const name = node.metadata.name!;
    const lease = leases.getIndexer().getByName(nodeLeaseNamespace, name);
    const leaseRenewTime: string | undefined = lease?.spec?.renewTime ?? undefined;
    const ready = conditionOf(node, 'Ready');
    const readyHeartbeat = ready?.lastHeartbeatTime;
    const saved = health.get(name);
    if (!saved) {
      // First sight: a node that never reported is judged from its creation, one that did gets a full grace period now.
      const created = Date.parse(node.metadata.creationTimestamp ?? '');
      const probeAtMs = !ready && !lease && !Number.isNaN(created) ? created : now;
      const fresh = { probeAtMs, leaseRenewTime, readyHeartbeat };
      health.set(name, fresh);
      return fresh;
    }
    if (saved.leaseRenewTime !== leaseRenewTime || saved.readyHeartbeat !== readyHeartbeat) {
      saved.probeAtMs = now;
      saved.leaseRenewTime = leaseRenewTime;
      saved.readyHeartbeat = readyHeartbeat;
    }
    return saved;
  }

  /** Ready (and the kubelet's other conditions) → Unknown. Returns the updated node, or undefined if nothing changed. */
  async function markUnknown(node: KubeObject, now: number): Promise<KubeObject | undefined> {
    const nowTime = formatTime(now);
    const conditions: NodeCondition[] = (node.status?.conditions ?? []).map((c: NodeCondition) => ({ ...c }));
    let changed = false;
    for (const type of kubeletConditions) {
      const existing = conditions.find((c) => c.type === type);
      if (!existing) {
        conditions.push({ type, status: 'Unknown', reason: 'NodeStatusNeverUpdated', message: 'Kubelet never posted node status.', lastHeartbeatTime: node.metadata.creationTimestamp, lastTransitionTime: nowTime });
        changed = true;
      } else if (existing.status !== 'Unknown') {
        Object.assign(existing, { status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastTransitionTime: nowTime });
        changed = true;
      }
    }
    if (!changed) return undefined;
    const updated = await nodeClient.updateStatus({ ...node, status: { ...node.status, conditions } });
    recorder.event(node, 'Normal', 'NodeNotReady', `Node ${node.metadata.name} status is now: NodeNotReady`);
    return updated;
  }

  async function markPodsNotReady(node: KubeObject, nodePods: KubeObject[], now: number): Promise<void> {
    for (const pod of nodePods) {
      if (pod.metadata.deletionTimestamp) continue;
      const conditions = (pod.status?.conditions ?? []) as NodeCondition[];
      if (!conditions.some((c) => c.type === 'Ready' && c.status === 'True')) continue;
      const next = conditions.map((c) => (c.type === 'Ready' ? { ...c, status: 'False', lastTransitionTime: formatTime(now) } : c));
      try {
        await podClient.updateStatus({ ...pod, status: { ...pod.status, conditions: next } });
        recorder.event(pod, 'Warning', 'NodeNotReady', 'Node is not ready');
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }

  /** Deletes pods whose NoExecute deadline passed; returns ms until the next deadline. */
  async function evictPods(node: KubeObject, nodePods: KubeObject[], now: number): Promise<number | undefined> {
    const taints: Taint[] = node.spec?.taints ?? [];
    if (!taints.some((t) => t.effect === 'NoExecute')) return undefined;
    let next: number | undefined;
    for (const pod of nodePods) {
      if (pod.metadata.deletionTimestamp || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') continue;
      const at = evictionTime(pod, taints, now);
      if (at === undefined) continue;
      if (at > now) {
        next = next === undefined ? at - now : Math.min(next, at - now);
        continue;
      }
      recorder.event(pod, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${pod.metadata.namespace}/${pod.metadata.name}`);
      try {
        // The condition tells the pod's owner (and kubectl describe) why the pod went.
        const conditions = ((pod.status?.conditions ?? []) as NodeCondition[]).filter((c) => c.type !== 'DisruptionTarget');
        conditions.push({ type: 'DisruptionTarget', status: 'True', reason: 'DeletionByTaintManager', message: 'Taint manager: deleting due to NoExecute taint', lastTransitionTime: formatTime(now) });
        await podClient.updateStatus({ ...pod, status: { ...pod.status, conditions } }).catch((err) => {
          if (isNotFound(err)) throw err;
          // A stale pod must not stop the eviction; the delete below is what matters.
        });
        await podClient.delete(pod.metadata.namespace, pod.metadata.name!, { preconditions: { uid: pod.metadata.uid } });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    return next;
  }

  async function reconcile(name: string): Promise<ReconcileResult | void> {
    let node = nodes.getIndexer().getByName(undefined, name);
    if (!node) return;
    const now = clock.now();
    const observed = observe(node, now);
    const staleAt = observed.probeAtMs + graceMs;
    let requeue: number | undefined;
    if (now >= staleAt) {
      node = (await markUnknown(node, now)) ?? node;
    } else {
      requeue = staleAt - now + 1;
    }
    const nodePods = pods.getIndexer().byIndex(podsByNodeIndex, name);
    if (conditionOf(node, 'Ready') && conditionOf(node, 'Ready')!.status !== 'True') await markPodsNotReady(node, nodePods, now);

    const taints = reconcileTaints(node.spec?.taints ?? [], desiredManagedTaints(node), formatTime(now));
    if (taints) node = await nodeClient.update({ ...node, spec: { ...node.spec, taints: taints.length ? taints : undefined } });
    const evictIn = await evictPods(node, nodePods, now);
    if (evictIn !== undefined) requeue = requeue === undefined ? evictIn : Math.min(requeue, evictIn);
    if (requeue !== undefined) return { requeueAfterMs: Math.max(1, requeue) };
  }

  const informers = [nodes, leases, pods];
  return queueController({ name: 'nodelifecycle', queue, informers, reconcile, workers: options.workers ?? 1, logger: log });
}

function conditionOf(node: KubeObject, type: string): NodeCondition | undefined {
  return (node.status?.conditions ?? []).find((c: NodeCondition) => c.type === type);
}
