// Where the HPA reads pod usage from. Production: the metrics.k8s.io API (served by the API
// server from kubelet summaries); tests inject their own source with made-up numbers.
import type { Client } from '../../client/client.js';
import { parseQuantity } from '../../api/validation/quantity.js';
import type { PodMetrics } from './replicas.js';

export interface ResourceMetricsSource {
  /**
   * Usage of `resource` per pod name (milli-units, summed over containers or only `container`)
   * for the pods in `namespace` matching the label `selector`.
   */
  podMetrics(resource: string, namespace: string, selector: string, container?: string): Promise<PodMetrics>;
}

function windowMs(window: unknown): number {
  const m = typeof window === 'string' ? /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(window) : null;
  if (!m) return 0;
  return Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 's' ? 1000 : 60_000);
}

export function metricsApiSource(client: Client): ResourceMetricsSource {
  return {
    async podMetrics(resource, namespace, selector, container) {
      const list = await client.getPath(`/apis/metrics.k8s.io/v1beta1/namespaces/${encodeURIComponent(namespace)}/pods`, { labelSelector: selector });
      const out: PodMetrics = new Map();
      for (const item of list.items ?? []) {
        let value = 0;
        let found = false;
        for (const c of item.containers ?? []) {
          if (container && c.name !== container) continue;
          const usage = parseQuantity(c.usage?.[resource]);
          if (usage === undefined) continue;
          value += Math.round(usage * 1000);
          found = true;
        }
        // A pod without a sample for this resource counts as missing, not as idle.
        if (!found) continue;
        out.set(item.metadata.name, { value, timestamp: Date.parse(item.timestamp) || 0, windowMs: windowMs(item.window) });
      }
      return out;
    },
  };
}
