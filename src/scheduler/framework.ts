// The scheduling framework: a snapshot of nodes with their pods, and plugins at the extension
// points Kubernetes defines (PreFilter/Filter produce reasons, Score ranks feasible nodes).
// Pure: no I/O here, so every plugin is tested on a snapshot built in memory.
import type { KubeObject } from '../api/types.js';
import { emptyResources, nodeAllocatable, podRequests, type Resources } from './resources.js';

export interface NodeInfo {
  node: KubeObject;
  pods: KubeObject[];
  requested: Resources;
  /** Requests with Kubernetes' scoring floor (100m cpu, 200Mi memory per pod that sets none): spreads request-less pods. */
  nonZeroRequested: { milliCpu: number; memory: number };
  allocatable: Resources;
  /** host ports in use: "TCP/0.0.0.0/8080" */
  usedPorts: Set<string>;
}

export function newNodeInfo(node: KubeObject, pods: KubeObject[] = []): NodeInfo {
  const info: NodeInfo = { node, pods: [], requested: emptyResources(), nonZeroRequested: { milliCpu: 0, memory: 0 }, allocatable: nodeAllocatable(node), usedPorts: new Set() };
  for (const p of pods) addPod(info, p);
  return info;
}

export function hostPortsOf(pod: KubeObject): string[] {
  const out: string[] = [];
  for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
    for (const p of c.ports ?? []) if (p.hostPort) out.push(`${p.protocol ?? 'TCP'}/${p.hostIP || '0.0.0.0'}/${p.hostPort}`);
  }
  return out;
}

export function addPod(info: NodeInfo, pod: KubeObject): void {
  info.pods.push(pod);
  const r = podRequests(pod);
  info.requested.milliCpu += r.milliCpu;
  info.requested.memory += r.memory;
  info.requested.ephemeralStorage += r.ephemeralStorage;
  info.requested.pods += 1;
  info.nonZeroRequested.milliCpu += r.milliCpu || 100;
  info.nonZeroRequested.memory += r.memory || 200 * 2 ** 20;
  for (const [k, v] of Object.entries(r.scalar)) info.requested.scalar[k] = (info.requested.scalar[k] ?? 0) + v;
  for (const port of hostPortsOf(pod)) info.usedPorts.add(port);
}

export interface Snapshot {
  nodes: NodeInfo[];
}

/** Filter result: undefined = fits; otherwise the reasons (shown in FailedScheduling). */
export interface FilterFailure {
  reasons: string[];
  /** Preemption cannot help (e.g. affinity or taint mismatch). */
  unresolvable?: boolean;
}

export interface CycleState {
  podRequests: Resources;
  [key: string]: unknown;
}

export interface FilterPlugin {
  name: string;
  filter(state: CycleState, pod: KubeObject, node: NodeInfo): FilterFailure | undefined;
}

export interface ScorePlugin {
  name: string;
  weight: number;
  /** 0..100 per node (after normalisation). */
  score(state: CycleState, pod: KubeObject, node: NodeInfo): number;
  /** Optional: rescale raw scores over all feasible nodes to 0..100. */
  normalize?(scores: number[]): number[];
}

export interface Framework {
  filters: FilterPlugin[];
  scores: ScorePlugin[];
}

export type ScheduleResult =
  | { node: string; feasible: number }
  | { failure: { message: string; reasonCounts: Map<string, number>; resolvableNodes: number } };

function normalizeMax(scores: number[]): number[] {
  const max = Math.max(...scores, 0);
  return max === 0 ? scores.map(() => 0) : scores.map((s) => Math.round((s * 100) / max));
}

/**
 * One scheduling cycle for one pod: filter every node, score the feasible ones, pick the best
 * (ties broken by `random`, like Kubernetes' reservoir sampling).
 */
export function schedulePod(snapshot: Snapshot, pod: KubeObject, framework: Framework, random: () => number = Math.random): ScheduleResult {
  const state: CycleState = { podRequests: podRequests(pod) };
  const total = snapshot.nodes.length;
  if (total === 0) return { failure: { message: 'no nodes available to schedule pods', reasonCounts: new Map(), resolvableNodes: 0 } };
  const feasible: NodeInfo[] = [];
  const reasonCounts = new Map<string, number>();
  let resolvableNodes = 0;
  for (const info of snapshot.nodes) {
    let failed: FilterFailure | undefined;
    for (const f of framework.filters) {
      failed = f.filter(state, pod, info);
      if (failed) break;
    }
    if (!failed) feasible.push(info);
    else {
      if (!failed.unresolvable) resolvableNodes++;
      for (const r of failed.reasons) reasonCounts.set(r, (reasonCounts.get(r) ?? 0) + 1);
    }
  }
  if (feasible.length === 0) {
    const parts = [...reasonCounts.entries()].map(([r, n]) => `${n} ${r}`).sort();
    const preemption = `preemption: 0/${total} nodes are available: ${resolvableNodes > 0 ? `${resolvableNodes} No preemption victims found for incoming pod${resolvableNodes < total ? `, ${total - resolvableNodes} Preemption is not helpful for scheduling` : ''}` : `${total} Preemption is not helpful for scheduling`}.`;
    return { failure: { message: `0/${total} nodes are available: ${parts.join(', ')}. ${preemption}`, reasonCounts, resolvableNodes } };
  }
  if (feasible.length === 1) return { node: feasible[0].node.metadata.name!, feasible: 1 };
  const totals = new Array(feasible.length).fill(0);
  for (const plugin of framework.scores) {
    let raw = feasible.map((n) => plugin.score(state, pod, n));
    raw = plugin.normalize ? plugin.normalize(raw) : raw;
    raw.forEach((s, i) => (totals[i] += s * plugin.weight));
  }
  let best = -1;
  let chosen = 0;
  let ties = 0;
  totals.forEach((t, i) => {
    if (t > best) {
      best = t;
      chosen = i;
      ties = 1;
    } else if (t === best) {
      ties++;
      if (random() * ties < 1) chosen = i;
    }
  });
  return { node: feasible[chosen].node.metadata.name!, feasible: feasible.length };
}

export { normalizeMax };
