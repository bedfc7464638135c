// The default plugin set, in Kubernetes' order.
import type { Framework } from '../framework.js';
import { nodeAffinity } from './node-affinity.js';
import { nodeName } from './node-name.js';
import { nodePorts } from './node-ports.js';
import { balancedAllocation, nodeResourcesFit } from './node-resources-fit.js';
import { nodeUnschedulable } from './node-unschedulable.js';
import { taintToleration } from './taint-toleration.js';

export function defaultFramework(): Framework {
  return {
    filters: [nodeUnschedulable, nodeName, taintToleration, nodeAffinity, nodePorts, nodeResourcesFit],
    scores: [taintToleration, nodeAffinity, nodeResourcesFit, balancedAllocation],
  };
}
