// NodeName: a pod with spec.nodeName set fits only that node.
import type { FilterPlugin } from '../framework.js';

export const nodeName: FilterPlugin = {
  name: 'NodeName',
  filter(_state, pod, node) {
    if (pod.spec?.nodeName && pod.spec.nodeName !== node.node.metadata.name) return { reasons: ["node(s) didn't match the requested node name"], unresolvable: true };
    return undefined;
  },
};
