// NodeResourcesFit: the pod's effective requests must fit the node's allocatable minus what
// its pods request; scoring prefers the least allocated node (LeastAllocated), and
// BalancedAllocation prefers nodes whose cpu and memory use stay even.
import type { FilterPlugin, ScorePlugin } from '../framework.js';

export const nodeResourcesFit: FilterPlugin & ScorePlugin = {
  name: 'NodeResourcesFit',
  weight: 1,
  filter(state, _pod, node) {
    const want = state.podRequests;
    const have = node.allocatable;
    const used = node.requested;
    const reasons: string[] = [];
    if (have.pods > 0 && used.pods + 1 > have.pods) reasons.push('Too many pods');
    if (want.milliCpu > 0 && used.milliCpu + want.milliCpu > have.milliCpu) reasons.push('Insufficient cpu');
    if (want.memory > 0 && used.memory + want.memory > have.memory) reasons.push('Insufficient memory');
    if (want.ephemeralStorage > 0 && used.ephemeralStorage + want.ephemeralStorage > have.ephemeralStorage) reasons.push('Insufficient ephemeral-storage');
    for (const [name, value] of Object.entries(want.scalar)) {
      if (value > 0 && (used.scalar[name] ?? 0) + value > (have.scalar[name] ?? 0)) reasons.push(`Insufficient ${name}`);
    }
    return reasons.length ? { reasons } : undefined;
  },
  score(state, _pod, node) {
    // Pods without requests count as Kubernetes' defaults (100m cpu, 200Mi memory) for scoring.
    const cpu = state.podRequests.milliCpu || 100;
    const memory = state.podRequests.memory || 200 * 2 ** 20;
    const free = (capacity: number, used: number) => (capacity <= 0 ? 0 : Math.max(0, ((capacity - used) * 100) / capacity));
    return Math.round((free(node.allocatable.milliCpu, node.nonZeroRequested.milliCpu + cpu) + free(node.allocatable.memory, node.nonZeroRequested.memory + memory)) / 2);
  },
};

export const balancedAllocation: ScorePlugin = {
  name: 'NodeResourcesBalancedAllocation',
  weight: 1,
  score(state, _pod, node) {
    const fraction = (capacity: number, used: number) => (capacity <= 0 ? 1 : Math.min(1, used / capacity));
    const cpu = fraction(node.allocatable.milliCpu, node.nonZeroRequested.milliCpu + (state.podRequests.milliCpu || 100));
    const memory = fraction(node.allocatable.memory, node.nonZeroRequested.memory + (state.podRequests.memory || 200 * 2 ** 20));
    return Math.round((1 - Math.abs(cpu - memory) / 2) * 100);
  },
};
