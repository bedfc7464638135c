// DefaultBinder: POST pods/<name>/binding — the API server sets spec.nodeName and the
// PodScheduled condition in one write.
import type { Client } from '../../client/client.js';
import { status, type Plugin } from '../framework.js';

const podsRef = { group: '', version: 'v1', resource: 'pods', namespaced: true, kind: 'Pod' };

export function defaultBinder(handle: { client: Client }): Plugin {
  const pods = handle.client.resource(podsRef);
  return {
    name: 'DefaultBinder',
    async bind(_state, pod, nodeName) {
      try {
        await pods.createSubresource(pod.pod.metadata.namespace, pod.pod.metadata.name!, 'binding', {
          apiVersion: 'v1',
          kind: 'Binding',
          metadata: { name: pod.pod.metadata.name, namespace: pod.pod.metadata.namespace, uid: pod.pod.metadata.uid },
          target: { apiVersion: 'v1', kind: 'Node', name: nodeName },
        });
        return undefined;
      } catch (err) {
        return status('Error', (err as Error).message);
      }
    },
  };
}
