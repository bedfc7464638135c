// ImageLocality: prefers nodes that already have the pod's images, weighting each image by
// its size and by how widely it is spread (an image on every node says little).
import { maxNodeScore, type Plugin } from '../framework.js';
import { normalizeImageName } from '../node-info.js';

const mb = 1024 * 1024;
const minThreshold = 23 * mb;
const maxContainerThreshold = 1000 * mb;

export function imageLocality(): Plugin {
  return {
    name: 'ImageLocality',
    score(state, pod, node) {
      if (node.images.size === 0) return 0;
      const total = state.snapshot.nodeInfoList().length;
      const containers = [...(pod.pod.spec?.initContainers ?? []), ...(pod.pod.spec?.containers ?? [])];
      let sum = 0;
      for (const c of containers) {
        if (!c.image) continue;
        const name = normalizeImageName(c.image);
        const size = node.images.get(name);
        if (size === undefined) continue;
        sum += Math.floor(size * (state.snapshot.imageNodeCount(name) / total));
      }
      const maxThreshold = maxContainerThreshold * Math.max(1, containers.length);
      const clamped = Math.min(Math.max(sum, minThreshold), maxThreshold);
      return Math.floor((maxNodeScore * (clamped - minThreshold)) / (maxThreshold - minThreshold));
    },
  };
}
