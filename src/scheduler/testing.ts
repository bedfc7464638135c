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
