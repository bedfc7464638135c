// NodeName: a pod that names its node (spec.nodeName) fits only that node.
import { status, type Plugin } from '../framework.js';

export const errReasonNodeName = "node(s) didn't match the requested node name";

export function nodeName(): Plugin {
  return {
    name: 'NodeName',
    filter(_state, pod, node) {
      const wanted = pod.pod.spec?.nodeName;
      return wanted && wanted !== node.name ? status('UnschedulableAndUnresolvable', errReasonNodeName) : undefined;
    },
  };
}
