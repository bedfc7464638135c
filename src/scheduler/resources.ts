// Resource arithmetic for scheduling: quantities parsed once into plain numbers (milli-CPU,
// bytes, counts), and a pod's effective request computed the way kubelet admission and
// kube-scheduler agree on (k8s.io/component-helpers resource.PodRequests).
import type { KubeObject } from '../api/types.js';

/** Requests or capacity in scheduler units: cpu in millicores, memory and storage in bytes. */
export interface Resource {
  milliCPU: number;
  memory: number;
  ephemeralStorage: number;
  /** Pod count capacity (only meaningful for allocatable). */
  allowedPodNumber: number;
  /** Extended and hugepages resources by name, in their base unit. */
  scalar: Map<string, number>;
}

export function emptyResource(): Resource {
  return { milliCPU: 0, memory: 0, ephemeralStorage: 0, allowedPodNumber: 0, scalar: new Map() };
}

export function cloneResource(r: Resource): Resource {
  return { ...r, scalar: new Map(r.scalar) };
}

export function addResource(into: Resource, r: Resource, sign = 1): void {
  into.milliCPU += sign * r.milliCPU;
  into.memory += sign * r.memory;
  into.ephemeralStorage += sign * r.ephemeralStorage;
  for (const [name, value] of r.scalar) into.scalar.set(name, (into.scalar.get(name) ?? 0) + sign * value);
}

const binarySuffixes: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const decimalSuffixes: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };
const quantityPattern = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$/;

/** A resource.Quantity ("100m", "1Gi", "1e3", 2) as a number of base units; NaN when malformed. */
export function parseQuantity(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return NaN;
  const m = quantityPattern.exec(value.trim());
  if (!m) return NaN;
  const base = Number(m[1]);
  if (m[2]) return base * Math.pow(10, Number(m[2].slice(1)));
  const suffix = m[3] ?? '';
  return base * (binarySuffixes[suffix] ?? decimalSuffixes[suffix]);
}

/** Quantities round up to the unit, as Quantity.MilliValue()/Value() do. */
export function milliValue(value: unknown): number {
  const q = parseQuantity(value);
  return Number.isFinite(q) ? Math.ceil(Math.round(q * 1e9) / 1e6) : 0;
}

export function intValue(value: unknown): number {
  const q = parseQuantity(value);
  return Number.isFinite(q) ? Math.ceil(Math.round(q * 1e3) / 1e3) : 0;
}

/** Extended resources: domain-qualified names outside kubernetes.io, plus hugepages and attachable volumes. */
export function isScalarResourceName(name: string): boolean {
  return name.startsWith('hugepages-') || name.startsWith('attachable-volumes-') || (name.includes('/') && !name.startsWith('kubernetes.io/'));
}

/** A ResourceList (requests, allocatable) as a Resource. */
export function resourceFromList(list: Record<string, unknown> | undefined): Resource {
  const r = emptyResource();
  if (!list) return r;
  for (const [name, value] of Object.entries(list)) {
    switch (name) {
      case 'cpu':
        r.milliCPU = milliValue(value);
        break;
      case 'memory':
        r.memory = intValue(value);
        break;
      case 'ephemeral-storage':
        r.ephemeralStorage = intValue(value);
        break;
      case 'pods':
        r.allowedPodNumber = intValue(value);
        break;
      default:
        if (isScalarResourceName(name)) r.scalar.set(name, intValue(value));
    }
  }
  return r;
}

function maxInto(into: Resource, r: Resource): void {
  into.milliCPU = Math.max(into.milliCPU, r.milliCPU);
  into.memory = Math.max(into.memory, r.memory);
  into.ephemeralStorage = Math.max(into.ephemeralStorage, r.ephemeralStorage);
  for (const [name, value] of r.scalar) into.scalar.set(name, Math.max(into.scalar.get(name) ?? 0, value));
}

/** Kubernetes' defaults for containers without requests, so scoring does not pile "free" pods on one node. */
export const defaultMilliCPURequest = 100;
export const defaultMemoryRequest = 200 * 1024 * 1024;

function containerRequests(container: any, nonZero: boolean): Resource {
  // Requests default to limits (API defaulting); read limits when requests are absent.
  const requests = container?.resources?.requests;
  const limits = container?.resources?.limits;
  const merged = limits ? { ...limits, ...requests } : requests;
  const r = resourceFromList(merged);
  if (nonZero) {
    if (merged?.cpu === undefined) r.milliCPU = defaultMilliCPURequest;
    if (merged?.memory === undefined) r.memory = defaultMemoryRequest;
  }
  return r;
}

/**
 * resource.PodRequests: app containers and restartable (sidecar) init containers run
 * together; each ordinary init container runs alone next to the sidecars started before it.
 * The pod needs the larger of the two phases, plus its overhead. `nonZero` substitutes the
 * default cpu/memory for containers that request none (the scoring view).
 */
export function podRequests(pod: KubeObject, nonZero = false): Resource {
  const spec = pod.spec ?? {};
  const reqs = emptyResource();
  for (const c of spec.containers ?? []) addResource(reqs, containerRequests(c, nonZero));
  const restartable = emptyResource();
  const initMax = emptyResource();
  for (const c of spec.initContainers ?? []) {
    const own = containerRequests(c, nonZero);
    let phase: Resource;
    if (c.restartPolicy === 'Always') {
      addResource(reqs, own);
      addResource(restartable, own);
      phase = restartable;
    } else {
      phase = cloneResource(own);
      addResource(phase, restartable);
    }
    maxInto(initMax, phase);
  }
  maxInto(reqs, initMax);
  if (spec.overhead) addResource(reqs, resourceFromList(spec.overhead));
  return reqs;
}
