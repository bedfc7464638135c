// NodeUnschedulable: cordoned nodes (spec.unschedulable) take only pods that tolerate the
// node.kubernetes.io/unschedulable:NoSchedule taint (DaemonSet pods do).
import { status, type Plugin } from '../framework.js';
import { tolerated } from './taint-toleration.js';

export const errReasonUnschedulable = 'node(s) were unschedulable';
const unschedulableTaint = { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' };

export function nodeUnschedulable(): Plugin {
  return {
    name: 'NodeUnschedulable',
    filter(_state, pod, node) {
      if (!node.node?.spec?.unschedulable) return undefined;
      return tolerated(pod.pod.spec?.tolerations ?? [], unschedulableTaint) ? undefined : status('UnschedulableAndUnresolvable', errReasonUnschedulable);
    },
  };
}
