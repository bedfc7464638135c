// NodeUnschedulable: cordoned nodes take no new pods unless the pod tolerates the unschedulable taint.
import type { FilterPlugin } from '../framework.js';

export const nodeUnschedulable: FilterPlugin = {
  name: 'NodeUnschedulable',
  filter(_state, pod, node) {
    if (!node.node.spec?.unschedulable) return undefined;
    const tolerated = (pod.spec?.tolerations ?? []).some(
      (t: { key?: string; operator?: string; effect?: string }) => (t.key === 'node.kubernetes.io/unschedulable' || (!t.key && t.operator === 'Exists')) && (!t.effect || t.effect === 'NoSchedule'),
    );
    return tolerated ? undefined : { reasons: ['node(s) were unschedulable'], unresolvable: true };
  },
};
