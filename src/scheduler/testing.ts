// Builders for nodes and pods in tests and the benchmark: just enough fields, Kubernetes-shaped.
import type { KubeObject } from '../api/types.js';

export interface NodeSpec {
  cpu?: string;
  memory?: string;
  pods?: number;
  labels?: Record<string, string>;
  taints?: { key: string; value?: string; effect: string }[];
  unschedulable?: boolean;
  extended?: Record<string, string>;
  images?: { names: string[]; sizeBytes: number }[];
}

export function makeNode(name: string, spec: NodeSpec = {}): KubeObject {
  const allocatable = { cpu: spec.cpu ?? '4', memory: spec.memory ?? '8Gi', pods: String(spec.pods ?? 110), 'ephemeral-storage': '100Gi', ...spec.extended };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...spec.labels } },
    spec: { ...(spec.taints ? { taints: spec.taints } : {}), ...(spec.unschedulable ? { unschedulable: true } : {}) },
    status: { capacity: allocatable, allocatable, images: spec.images ?? [], conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

export interface PodSpecOptions {
  namespace?: string;
  cpu?: string;
  memory?: string;
  labels?: Record<string, string>;
  nodeName?: string;
  priority?: number;
  spec?: Record<string, unknown>;
  extended?: Record<string, string>;
  image?: string;
  uid?: string;
}

export function makePod(name: string, o: PodSpecOptions = {}): KubeObject {
  const requests: Record<string, string> = { ...o.extended };
  if (o.cpu) requests.cpu = o.cpu;
  if (o.memory) requests.memory = o.memory;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: o.namespace ?? 'default', uid: o.uid ?? `uid-${name}`, labels: o.labels ?? {}, creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: {
      containers: [{ name: 'app', image: o.image ?? 'registry.local/app:1', resources: Object.keys(requests).length ? { requests } : {} }],
      ...(o.nodeName ? { nodeName: o.nodeName } : {}),
      ...(o.priority !== undefined ? { priority: o.priority } : {}),
      ...o.spec,
    },
    status: { phase: 'Pending' },
  };
}

import { CycleState, scoreNodes, Framework, type Plugin } from './framework.js';
import { newPodInfo, type Snapshot } from './node-info.js';

/** Runs one plugin's PreFilter and Filter: node name → "" (fits) or its reasons; "prefilter: …" when PreFilter rejected. */
export function filterResults(plugin: Plugin, snapshot: Snapshot, pod: KubeObject): Record<string, string> {
  const state = new CycleState(snapshot);
  const info = newPodInfo(pod);
  const pre = plugin.preFilter?.(state, info);
  const out: Record<string, string> = {};
  for (const node of snapshot.nodeInfoList()) {
    if (pre && pre.code !== 'Skip') out[node.name] = `prefilter: ${pre.reasons.join(', ')}`;
    else if (pre?.code === 'Skip') out[node.name] = '';
    else out[node.name] = plugin.filter?.(state, info, node)?.reasons.join(', ') ?? '';
  }
  return out;
}

/** One plugin's normalized scores by node name (weight 1). */
export function scoreResults(plugin: Plugin, snapshot: Snapshot, pod: KubeObject): Record<string, number> {
  const state = new CycleState(snapshot);
  const info = newPodInfo(pod);
  plugin.preFilter?.(state, info);
  const nodes = snapshot.nodeInfoList();
  const totals = scoreNodes(state, info, new Framework([{ plugin }]), nodes);
  return Object.fromEntries(nodes.map((n, i) => [n.name, totals[i]]));
}
