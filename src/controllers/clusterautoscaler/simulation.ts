// The autoscaler's what-ifs, pure and synchronous over the scheduler's own Snapshot and
// Filter plugins: "would these pods fit on N new nodes of this template?" (binpacking
// estimate) and "could this node's pods all go elsewhere?" (scale-down simulation). Using the
// scheduler's plugins means the answer takes taints, affinity, ports and spreading into account
// exactly as the scheduler will when the new node registers.
import type { KubeObject } from '../../api/types.js';
import { labelSelectorMatches } from '../../api/selectors/labels.js';
import { CycleState, Framework, schedulePod, type Status } from '../../scheduler/framework.js';
import { buildSnapshot, newPodInfo, type NodeInfo, type PodInfo, type Snapshot } from '../../scheduler/node-info.js';
import { defaultPluginConfigs } from '../../scheduler/plugins/index.js';
import { resourceFromList } from '../../scheduler/resources.js';

export const toBeDeletedTaint = 'ToBeDeletedByClusterAutoscaler';
export const safeToEvictAnnotation = 'cluster-autoscaler.kubernetes.io/safe-to-evict';
export const scaleDownDisabledAnnotation = 'cluster-autoscaler.kubernetes.io/scale-down-disabled';
const mirrorPodAnnotation = 'kubernetes.io/config.mirror';

/** The scheduler's Filter plugins, without preemption or binding: what simulations run. */
export function simulationFramework(): Framework {
  return new Framework(defaultPluginConfigs());
}

export function isTerminal(pod: KubeObject): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/** What the scheduler writes for a pod that fits on no node. */
export function isUnschedulable(pod: KubeObject): boolean {
  if (pod.spec?.nodeName || pod.metadata.deletionTimestamp || isTerminal(pod)) return false;
  const scheduled = (pod.status?.conditions ?? []).find((c: any) => c.type === 'PodScheduled');
  return scheduled?.status === 'False' && scheduled.reason === 'Unschedulable';
}

export function isMirrorPod(pod: KubeObject): boolean {
  return !!pod.metadata.annotations?.[mirrorPodAnnotation];
}

export function isDaemonSetPod(pod: KubeObject): boolean {
  return (pod.metadata.ownerReferences ?? []).some((r: any) => r.controller && r.kind === 'DaemonSet');
}

/** A copy of the template under a name of its own (a new node the snapshot does not have yet). */
export function newNodeFromTemplate(template: KubeObject, name: string): KubeObject {
  const labels = { ...(template.metadata.labels ?? {}) };
  if (labels['kubernetes.io/hostname'] !== undefined) labels['kubernetes.io/hostname'] = name;
  return { ...template, metadata: { ...template.metadata, name, labels } };
}

/** A snapshot of these nodes with the non-terminal pods bound to them. */
export function clusterSnapshot(nodes: KubeObject[], pods: KubeObject[], pdbs: KubeObject[] = []): Snapshot {
  const snapshot = buildSnapshot(nodes, pods.filter((p) => p.spec?.nodeName && !isTerminal(p)));
  snapshot.pdbs = pdbs;
  return snapshot;
}

export function addNode(snapshot: Snapshot, node: KubeObject): NodeInfo {
  const info = snapshot.ensure(node.metadata.name!);
  info.setNode(node);
  snapshot.nodesChanged();
  return info;
}

export function removeNode(snapshot: Snapshot, name: string): void {
  snapshot.nodeInfoMap.delete(name);
  snapshot.nodesChanged();
}

/** Puts `pod` on `nodeName` in the snapshot (as if the scheduler had bound it there). */
export function placePod(snapshot: Snapshot, pod: PodInfo, nodeName: string): void {
  const bound = newPodInfo({ ...pod.pod, spec: { ...pod.pod.spec, nodeName } });
  snapshot.addPod(bound, nodeName);
}

/** Filter verdict of `pod` on one node (undefined: it fits). */
export function checkFit(snapshot: Snapshot, framework: Framework, pod: PodInfo, node: NodeInfo): Status | undefined {
  const state = new CycleState(snapshot);
  const pre = framework.runPreFilter(state, pod);
  if (pre) return pre;
  return framework.runFilter(state, pod, node);
}

/** Any node of the snapshot the pod fits on, or undefined. */
export function findPlace(snapshot: Snapshot, framework: Framework, pod: PodInfo): string | undefined {
  const result = schedulePod(snapshot, pod, framework, { percentageOfNodesToScore: 100, random: () => 0 });
  return 'node' in result ? result.node : undefined;
}

/** Bigger pods first, so the estimate packs like first-fit-decreasing. */
export function largestFirst(pods: PodInfo[], template?: KubeObject): PodInfo[] {
  const alloc = template ? resourceFromList(template.status?.allocatable ?? template.status?.capacity) : { milliCPU: 1000, memory: 2 ** 30 };
  const cpu = Math.max(1, alloc.milliCPU);
  const memory = Math.max(1, alloc.memory);
  const size = (p: PodInfo) => p.requests.milliCPU / cpu + p.requests.memory / memory;
  return [...pods].sort((a, b) => size(b) - size(a) || a.key.localeCompare(b.key));
}

export interface Estimate {
  /** New nodes needed for `helped` (never above the limit given). */
  nodeCount: number;
  /** The pods those nodes would take. */
  helped: PodInfo[];
  /** Pods a new node of this template cannot take, with the reason (why it did not help). */
  rejected: Map<string, string[]>;
  /** Pods that would fit on a new node but the limit left no room for. */
  overLimit: PodInfo[];
}

/**
 * The cluster-autoscaler's binpacking estimator: pods are placed on new nodes of `template`
 * (largest first); a pod goes on an already-added new node when it fits, otherwise a new node
 * is added if that pod fits on an empty one and `limit` allows. The snapshot holds the cluster,
 * so anti-affinity and spreading against existing pods are honoured. The snapshot is changed.
 */
export function estimateNodes(snapshot: Snapshot, framework: Framework, pending: PodInfo[], template: KubeObject, limit: number, namePrefix: string): Estimate {
  const estimate: Estimate = { nodeCount: 0, helped: [], rejected: new Map(), overLimit: [] };
  const added: NodeInfo[] = [];
  for (const pod of largestFirst(pending, template)) {
    const home = added.find((n) => !checkFit(snapshot, framework, pod, n));
    if (home) {
      placePod(snapshot, pod, home.name);
      estimate.helped.push(pod);
      continue;
    }
    // Would it fit on an empty new node at all? Try one without keeping it.
    const probeName = `${namePrefix}-${added.length + 1}`;
    const probe = addNode(snapshot, newNodeFromTemplate(template, probeName));
    const verdict = checkFit(snapshot, framework, pod, probe);
    if (verdict) {
      removeNode(snapshot, probeName);
      estimate.rejected.set(pod.key, verdict.reasons.length ? verdict.reasons : [verdict.code]);
      continue;
    }
    if (added.length >= limit) {
      removeNode(snapshot, probeName);
      estimate.overLimit.push(pod);
      continue;
    }
    added.push(probe);
    placePod(snapshot, pod, probe.name);
    estimate.helped.push(pod);
  }
  estimate.nodeCount = added.length;
  return estimate;
}

/** max(cpu, memory) of requested / allocatable, as the cluster-autoscaler measures utilization. */
export function utilization(node: NodeInfo): number {
  const cpu = node.allocatable.milliCPU > 0 ? node.requested.milliCPU / node.allocatable.milliCPU : 0;
  const memory = node.allocatable.memory > 0 ? node.requested.memory / node.allocatable.memory : 0;
  return Math.max(cpu, memory);
}

export type BlockReason = 'NotReplicated' | 'LocalStorage' | 'NotSafeToEvict' | 'UnmovableKubeSystemPod' | 'NotEnoughPdb' | 'NoPlaceToMovePods';

/** The pods a drain must move: everything but DaemonSet and mirror pods and finished pods. */
export function podsToMove(pods: KubeObject[]): KubeObject[] {
  return pods.filter((p) => !isTerminal(p) && !isMirrorPod(p) && !isDaemonSetPod(p));
}

/** Why the cluster-autoscaler (with its default flags) would refuse to evict this pod, if it would. */
export function blockingReason(pod: KubeObject, pdbs: KubeObject[]): BlockReason | undefined {
  const safe = pod.metadata.annotations?.[safeToEvictAnnotation];
  if (safe === 'false') return 'NotSafeToEvict';
  if (safe === 'true') return undefined;
  if (!(pod.metadata.ownerReferences ?? []).some((r: any) => r.controller)) return 'NotReplicated';
  if ((pod.spec?.volumes ?? []).some((v: any) => v.emptyDir || v.hostPath)) return 'LocalStorage';
  if (pod.metadata.namespace === 'kube-system' && !pdbs.some((b) => b.metadata.namespace === 'kube-system' && labelSelectorMatches(b.spec?.selector, pod.metadata.labels ?? {}))) return 'UnmovableKubeSystemPod';
  return undefined;
}

/** Budgets that could not absorb evicting these pods (status.disruptionsAllowed too low). */
export function pdbBlocks(pods: KubeObject[], pdbs: KubeObject[]): boolean {
  for (const pdb of pdbs) {
    const covered = pods.filter((p) => p.metadata.namespace === pdb.metadata.namespace && labelSelectorMatches(pdb.spec?.selector, p.metadata.labels ?? {}));
    if (covered.length && covered.length > (pdb.status?.disruptionsAllowed ?? 0)) return true;
  }
  return false;
}

/**
 * Can every pod of `nodeName` that must move be placed on the other nodes of the snapshot?
 * On success the node is gone from the snapshot and its pods sit where they would go, so the
 * next candidate is judged against that cluster.
 */
export function simulateRemoval(snapshot: Snapshot, framework: Framework, nodeName: string, pods: KubeObject[]): boolean {
  const moving = podsToMove(pods).map((p) => newPodInfo({ ...p, spec: { ...p.spec, nodeName: undefined } }));
  const trial = clusterCopy(snapshot);
  removeNode(trial, nodeName);
  for (const pod of moving) {
    const target = findPlace(trial, framework, pod);
    if (!target) return false;
    placePod(trial, pod, target);
  }
  removeNode(snapshot, nodeName);
  for (const pod of moving) {
    const target = findPlace(snapshot, framework, pod)!;
    placePod(snapshot, pod, target);
  }
  return true;
}

function clusterCopy(snapshot: Snapshot): Snapshot {
  const nodes: KubeObject[] = [];
  const pods: KubeObject[] = [];
  for (const info of snapshot.nodeInfoList()) {
    nodes.push(info.node!);
    for (const p of info.pods) pods.push({ ...p.pod, spec: { ...p.pod.spec, nodeName: info.name } });
  }
  return clusterSnapshot(nodes, pods, snapshot.pdbs);
}
