// NodeResourcesBalancedAllocation: prefers nodes whose cpu and memory would end up equally
// utilised after placing the pod (1 − the standard deviation of the utilisation fractions).
import { maxNodeScore, status, type CycleState, type Plugin } from '../framework.js';
import type { NodeInfo, PodInfo } from '../node-info.js';
import { defaultScoringResources, requestedAfter, resourceAmount, type ResourceSpec } from './node-resources-fit.js';

export function balancedAllocation(args: { resources?: ResourceSpec[] } = {}): Plugin {
  const resources = args.resources ?? defaultScoringResources;
  return {
    name: 'NodeResourcesBalancedAllocation',
    preScore(_state: CycleState, pod: PodInfo) {
      // A best-effort pod changes no node's balance.
      const bestEffort = resources.every((r) => resourceAmount(pod.requests, r.name) === 0);
      return bestEffort ? status('Skip') : undefined;
    },
    score(_state: CycleState, pod: PodInfo, node: NodeInfo): number {
      const fractions: number[] = [];
      let total = 0;
      for (const { name } of resources) {
        const capacity = resourceAmount(node.allocatable, name);
        if (capacity === 0) continue;
        const fraction = Math.min(1, requestedAfter(pod, node, name, true) / capacity);
        fractions.push(fraction);
        total += fraction;
      }
      let std = 0;
      if (fractions.length === 2) std = Math.abs((fractions[0] - fractions[1]) / 2);
      else if (fractions.length > 2) {
        const mean = total / fractions.length;
        std = Math.sqrt(fractions.reduce((sum, f) => sum + (f - mean) * (f - mean), 0) / fractions.length);
      }
      return Math.trunc((1 - std) * maxNodeScore);
    },
  };
}
