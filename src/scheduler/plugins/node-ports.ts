// NodePorts: a pod asking for a hostPort needs it free on the node (0.0.0.0 conflicts with any address).
import type { FilterPlugin } from '../framework.js';
import { hostPortsOf } from '../framework.js';

export const nodePorts: FilterPlugin = {
  name: 'NodePorts',
  filter(_state, pod, node) {
    for (const want of hostPortsOf(pod)) {
      const [protocol, ip, port] = want.split('/');
      for (const used of node.usedPorts) {
        const [p2, ip2, port2] = used.split('/');
        if (p2 === protocol && port2 === port && (ip === ip2 || ip === '0.0.0.0' || ip2 === '0.0.0.0')) {
          return { reasons: ["node(s) didn't have free ports for the requested pod ports"] };
        }
      }
    }
    return undefined;
  },
};
