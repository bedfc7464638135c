// metrics.k8s.io/v1beta1 served by the API server itself (what metrics-server provides through
// aggregation elsewhere): NodeMetrics and PodMetrics, read-only, computed from each Ready node's
// kubelet /stats/summary. Scrapes are shared by all readers for `cacheTtlMs`, so `kubectl top`
// and the HPA controller polling at once cost one round of kubelet requests.
import https from 'node:https';
import type { KubeObject } from '../../api/types.js';
import { matches, parseLabelSelector } from '../../api/selectors/labels.js';
import { fieldSelectorMatches, parseFieldSelector } from '../../api/selectors/fields.js';
import { ApiError, badRequest } from '../errors.js';
import type { SubresourceHandler } from '../handler.js';
import { formatCpu, formatMemory } from './quantity.js';

export const metricsGroup = 'metrics.k8s.io';
export const metricsVersion = 'v1beta1';
export const metricsApiVersion = `${metricsGroup}/${metricsVersion}`;

/** The parts of the kubelet Summary API (stats/v1alpha1) this API reads. */
export interface CpuStats { time?: string; usageNanoCores?: number; usageCoreNanoSeconds?: number }
export interface MemoryStats { time?: string; workingSetBytes?: number; usageBytes?: number }
export interface Summary {
  node: { nodeName: string; cpu?: CpuStats; memory?: MemoryStats };
  pods: { podRef: { name: string; namespace: string; uid: string }; containers: { name: string; cpu?: CpuStats; memory?: MemoryStats }[] }[];
}

export interface Usage { cpu: string; memory: string }
export interface NodeMetrics { kind: 'NodeMetrics'; apiVersion: string; metadata: KubeObject['metadata']; timestamp: string; window: string; usage: Usage }
export interface PodMetrics { kind: 'PodMetrics'; apiVersion: string; metadata: KubeObject['metadata']; timestamp: string; window: string; containers: { name: string; usage: Usage }[] }

export interface MetricsApiOptions {
  listNodes(): Promise<KubeObject[]>;
  /** Pods of one namespace, or of all when namespace is "". */
  listPods(namespace: string): Promise<KubeObject[]>;
  /** One node's kubelet summary (production: kubeletSummaryClient). */
  fetchSummary(node: KubeObject): Promise<Summary>;
  now(): number;
  /** How long one round of scrapes serves readers (default 10 s, metrics-server's resolution). */
  cacheTtlMs?: number;
  /** The window the usage rates were measured over, as metrics-server reports it. */
  window?: string;
  onScrapeError?(node: string, error: Error): void;
}

export interface MetricsApi {
  nodeMetrics(): Promise<NodeMetrics[]>;
  podMetrics(namespace: string): Promise<PodMetrics[]>;
  /** Handlers for the API server, keyed "<group>/<resource>/" (get and list of the resource itself). */
  handlers: Record<string, SubresourceHandler>;
}

function isReady(node: KubeObject): boolean {
  return (node.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True');
}

function timestampOf(...stats: ({ time?: string } | undefined)[]): string | undefined {
  return stats.find((s) => s?.time)?.time;
}

export function createMetricsApi(options: MetricsApiOptions): MetricsApi {
  const ttl = options.cacheTtlMs ?? 10_000;
  const window = options.window ?? '10s';
  let cached: { at: number; summaries: Summary[] } | undefined;
  let inFlight: Promise<Summary[]> | undefined;

  async function scrape(): Promise<Summary[]> {
    const nodes = (await options.listNodes()).filter(isReady);
    const results = await Promise.all(
      nodes.map((node) =>
        options.fetchSummary(node).catch((err: Error) => {
          options.onScrapeError?.(node.metadata.name!, err);
          return undefined;
        }),
      ),
    );
    return results.filter((s): s is Summary => !!s);
  }

  function summaries(): Promise<Summary[]> {
    if (cached && options.now() - cached.at < ttl) return Promise.resolve(cached.summaries);
    inFlight ??= scrape()
      .then((s) => {
        cached = { at: options.now(), summaries: s };
        return s;
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  }

  async function nodeMetrics(): Promise<NodeMetrics[]> {
    const [all, nodes] = await Promise.all([summaries(), options.listNodes()]);
    const byName = new Map(nodes.map((n) => [n.metadata.name!, n]));
    const out: NodeMetrics[] = [];
    for (const s of all) {
      const node = byName.get(s.node.nodeName);
      const cpu = s.node.cpu?.usageNanoCores;
      const memory = s.node.memory?.workingSetBytes;
      // metrics-server drops a node whose rate is not known yet rather than reporting zero.
      if (!node || cpu === undefined || memory === undefined) continue;
      out.push({
        kind: 'NodeMetrics',
        apiVersion: metricsApiVersion,
        metadata: { name: node.metadata.name, creationTimestamp: new Date(options.now()).toISOString(), labels: node.metadata.labels ?? {} },
        timestamp: timestampOf(s.node.cpu, s.node.memory) ?? new Date(options.now()).toISOString(),
        window,
        usage: { cpu: formatCpu(cpu), memory: formatMemory(memory) },
      });
    }
    return out.sort((a, b) => a.metadata.name!.localeCompare(b.metadata.name!));
  }

  async function podMetrics(namespace: string): Promise<PodMetrics[]> {
    const [all, pods] = await Promise.all([summaries(), options.listPods(namespace)]);
    const byUid = new Map(pods.map((p) => [p.metadata.uid!, p]));
    const out: PodMetrics[] = [];
    for (const s of all) {
      for (const stats of s.pods) {
        const pod = byUid.get(stats.podRef.uid);
        if (!pod || stats.containers.length === 0) continue;
        const containers = stats.containers
          .filter((c) => c.cpu?.usageNanoCores !== undefined && c.memory?.workingSetBytes !== undefined)
          .map((c) => ({ name: c.name, usage: { cpu: formatCpu(c.cpu!.usageNanoCores!), memory: formatMemory(c.memory!.workingSetBytes!) } }));
        if (containers.length === 0) continue;
        const first = stats.containers[0];
        out.push({
          kind: 'PodMetrics',
          apiVersion: metricsApiVersion,
          metadata: { name: pod.metadata.name, namespace: pod.metadata.namespace, creationTimestamp: new Date(options.now()).toISOString(), labels: pod.metadata.labels ?? {} },
          timestamp: timestampOf(first?.cpu, first?.memory) ?? new Date(options.now()).toISOString(),
          window,
          containers,
        });
      }
    }
    return out.sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
  }

  /** get and list with labelSelector and fieldSelector (metadata.name, metadata.namespace), as metrics-server. */
  function handler(read: (namespace: string) => Promise<(NodeMetrics | PodMetrics)[]>, kind: string): SubresourceHandler {
    return async (request, resource, info) => {
      const namespace = resource.namespaced ? info.namespace : '';
      if (info.verb !== 'get' && info.verb !== 'list') throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
      const items = await read(namespace);
      if (info.verb === 'get') {
        const found = items.find((m) => m.metadata.name === info.name);
        if (!found) throw new ApiError(404, 'NotFound', `${resource.resource}.${metricsGroup} "${info.name}" not found`, { name: info.name, group: metricsGroup, kind: resource.resource });
        return { status: 200, body: found };
      }
      let labelSelector, fieldSelector;
      try {
        labelSelector = parseLabelSelector(request.query.get('labelSelector') ?? '');
        fieldSelector = parseFieldSelector(request.query.get('fieldSelector') ?? '');
      } catch (err) {
        throw badRequest((err as Error).message);
      }
      const selected = items.filter(
        (m) => matches(labelSelector, m.metadata.labels) && fieldSelectorMatches(fieldSelector, { 'metadata.name': m.metadata.name, 'metadata.namespace': m.metadata.namespace ?? '' }),
      );
      return { status: 200, body: { kind: `${kind}List`, apiVersion: metricsApiVersion, metadata: {}, items: selected } };
    };
  }

  return {
    nodeMetrics,
    podMetrics,
    handlers: {
      [`${metricsGroup}/nodes/`]: handler(() => nodeMetrics(), 'NodeMetrics'),
      [`${metricsGroup}/pods/`]: handler((ns) => podMetrics(ns), 'PodMetrics'),
    },
  };
}

/** Where a node's kubelet listens, from the addresses and endpoint it reports. */
export function kubeletAddressOf(node: KubeObject): { host: string; port: number } | undefined {
  const addresses: { type: string; address: string }[] = node.status?.addresses ?? [];
  const host = addresses.find((a) => a.type === 'InternalIP')?.address ?? addresses.find((a) => a.type === 'Hostname')?.address;
  const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port;
  return host && port ? { host, port } : undefined;
}

/**
 * Reads /stats/summary from a node's kubelet over TLS, proving itself with the client
 * certificate the streaming proxy uses and trusting kubelet serving certificates via the CA.
 */
export function kubeletSummaryClient(tlsMaterial: { caPem: string; clientCertPem: string; clientKeyPem: string; timeoutMs?: number }): (node: KubeObject) => Promise<Summary> {
  return (node) =>
    new Promise((resolve, reject) => {
      const address = kubeletAddressOf(node);
      if (!address) return reject(new Error(`node "${node.metadata.name}" has no kubelet address`));
      const req = https.get(
        { host: address.host, port: address.port, path: '/stats/summary', ca: tlsMaterial.caPem, cert: tlsMaterial.clientCertPem, key: tlsMaterial.clientKeyPem, timeout: tlsMaterial.timeoutMs ?? 5000, headers: { accept: 'application/json' } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            if (res.statusCode !== 200) return reject(new Error(`kubelet answered ${res.statusCode}`));
            try {
              resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Summary);
            } catch (err) {
              reject(err as Error);
            }
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error('timed out reading /stats/summary')));
      req.on('error', reject);
    });
}
