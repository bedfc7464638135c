// NodePorts: a pod asking for a hostPort cannot land where that (ip, protocol, port) is
// already taken; 0.0.0.0 conflicts with every address.
import { status, type Plugin } from '../framework.js';
import { hostPortsConflict } from '../node-info.js';

export const errReasonNodePorts = "node(s) didn't have free ports for the requested pod ports";

export function nodePorts(): Plugin {
  return {
    name: 'NodePorts',
    preFilter(_state, pod) {
      return pod.hostPorts.length === 0 ? { code: 'Skip', reasons: [] } : undefined;
    },
    filter(_state, pod, node) {
      for (const want of pod.hostPorts) for (const used of node.usedPorts) if (hostPortsConflict(want, used)) return status('Unschedulable', errReasonNodePorts);
      return undefined;
    },
  };
}
