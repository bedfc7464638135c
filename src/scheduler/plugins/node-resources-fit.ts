// NodeResourcesFit: a pod fits a node when, for every resource it requests, the node's
// allocatable minus what its pods already request leaves enough (and the pod count is under
// the node's "pods" capacity). Scores by how allocated the node would be afterwards:
// LeastAllocated (spread, the default), MostAllocated (bin-pack) or RequestedToCapacityRatio.
import { maxNodeScore, status, type CycleState, type Plugin, type Status } from '../framework.js';
import type { NodeInfo, PodInfo } from '../node-info.js';
import type { Resource } from '../resources.js';

export interface ResourceSpec {
  name: string;
  weight: number;
}

export interface NodeResourcesFitArgs {
  scoringStrategy?: {
    type: 'LeastAllocated' | 'MostAllocated' | 'RequestedToCapacityRatio';
    resources?: ResourceSpec[];
    /** RequestedToCapacityRatio: utilization (0–100) → score (0–10) points, linearly interpolated. */
    shape?: { utilization: number; score: number }[];
  };
  /** Extended resources the scheduler leaves to another component. */
  ignoredResources?: string[];
}

export const defaultScoringResources: ResourceSpec[] = [
  { name: 'cpu', weight: 1 },
  { name: 'memory', weight: 1 },
];

export function resourceAmount(r: Resource, name: string): number {
  switch (name) {
    case 'cpu':
      return r.milliCPU;
    case 'memory':
      return r.memory;
    case 'ephemeral-storage':
      return r.ephemeralStorage;
    case 'pods':
      return r.allowedPodNumber;
    default:
      return r.scalar.get(name) ?? 0;
  }
}

/** The reasons a pod does not fit `node` by resources: "Too many pods", "Insufficient cpu", … */
export function insufficientResources(pod: PodInfo, node: NodeInfo, ignored?: Set<string>): string[] {
  const reasons: string[] = [];
  if (node.pods.length + 1 > node.allocatable.allowedPodNumber) reasons.push('Too many pods');
  const req = pod.requests;
  if (req.milliCPU === 0 && req.memory === 0 && req.ephemeralStorage === 0 && req.scalar.size === 0) return reasons;
  const alloc = node.allocatable;
  const used = node.requested;
  if (req.milliCPU > 0 && req.milliCPU > alloc.milliCPU - used.milliCPU) reasons.push('Insufficient cpu');
  if (req.memory > 0 && req.memory > alloc.memory - used.memory) reasons.push('Insufficient memory');
  if (req.ephemeralStorage > 0 && req.ephemeralStorage > alloc.ephemeralStorage - used.ephemeralStorage) reasons.push('Insufficient ephemeral-storage');
  for (const [name, want] of req.scalar) {
    if (want === 0 || ignored?.has(name)) continue;
    if (want > (alloc.scalar.get(name) ?? 0) - (used.scalar.get(name) ?? 0)) reasons.push(`Insufficient ${name}`);
  }
  return reasons;
}

function leastAllocated(requested: number, capacity: number): number {
  if (capacity === 0 || requested > capacity) return 0;
  return Math.floor(((capacity - requested) * maxNodeScore) / capacity);
}

function mostAllocated(requested: number, capacity: number): number {
  if (capacity === 0) return 0;
  return Math.floor((Math.min(requested, capacity) * maxNodeScore) / capacity);
}

function ratioScorer(shape: { utilization: number; score: number }[]): (requested: number, capacity: number) => number {
  const points = [...shape].sort((a, b) => a.utilization - b.utilization).map((p) => ({ u: p.utilization, s: (p.score * maxNodeScore) / 10 }));
  return (requested, capacity) => {
    if (capacity === 0 || requested > capacity) return points[points.length - 1].s;
    const u = (requested * 100) / capacity;
    if (u <= points[0].u) return points[0].s;
    for (let i = 1; i < points.length; i++) {
      if (u <= points[i].u) {
        const a = points[i - 1];
        const b = points[i];
        return Math.floor(a.s + ((b.s - a.s) * (u - a.u)) / (b.u - a.u));
      }
    }
    return points[points.length - 1].s;
  };
}

/** Allocation after placing the pod, as the scorers see it: requested (or non-zero requested) plus the pod's request. */
export function requestedAfter(pod: PodInfo, node: NodeInfo, name: string, useRequested: boolean): number {
  return resourceAmount(useRequested ? node.requested : node.nonZeroRequested, name) + resourceAmount(useRequested ? pod.requests : pod.nonZeroRequests, name);
}

export function nodeResourcesFit(args: NodeResourcesFitArgs = {}): Plugin {
  const ignored = new Set(args.ignoredResources ?? []);
  const strategy = args.scoringStrategy?.type ?? 'LeastAllocated';
  const resources = args.scoringStrategy?.resources ?? defaultScoringResources;
  const scorer =
    strategy === 'MostAllocated' ? mostAllocated : strategy === 'RequestedToCapacityRatio' ? ratioScorer(args.scoringStrategy?.shape ?? [{ utilization: 0, score: 10 }, { utilization: 100, score: 0 }]) : leastAllocated;
  return {
    name: 'NodeResourcesFit',
    filter(_state: CycleState, pod: PodInfo, node: NodeInfo): Status | undefined {
      // Fast path: the common case fits, so check without allocating first.
      const req = pod.requests;
      const alloc = node.allocatable;
      const used = node.requested;
      if (
        node.pods.length + 1 <= alloc.allowedPodNumber &&
        req.milliCPU <= alloc.milliCPU - used.milliCPU &&
        req.memory <= alloc.memory - used.memory &&
        req.ephemeralStorage <= alloc.ephemeralStorage - used.ephemeralStorage &&
        req.scalar.size === 0
      )
        return undefined;
      const reasons = insufficientResources(pod, node, ignored);
      return reasons.length ? status('Unschedulable', ...reasons) : undefined;
    },
    score(_state: CycleState, pod: PodInfo, node: NodeInfo): number {
      let total = 0;
      let weights = 0;
      for (const { name, weight } of resources) {
        const capacity = resourceAmount(node.allocatable, name);
        if (capacity === 0) continue;
        total += scorer(requestedAfter(pod, node, name, false), capacity) * weight;
        weights += weight;
      }
      return weights === 0 ? 0 : Math.floor(total / weights);
    },
  };
}
