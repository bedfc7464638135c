// Resource arithmetic for scheduling: requests of a pod (Kubernetes' effective request rule)
// and what a node can still hold. CPU in millicores, memory and storage in bytes.
import type { KubeObject } from '../api/types.js';

const binary: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const decimal: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/** A Kubernetes quantity ("100m", "64Mi", "1.5", "2e3") as a number of base units. */
export function parseQuantity(q: unknown): number {
  if (typeof q === 'number') return q;
  if (typeof q !== 'string') return 0;
  const m = /^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$/.exec(q.trim());
  if (!m) return 0;
  const n = Number(m[1]);
  const suffix = m[2] ?? '';
  return n * (binary[suffix] ?? decimal[suffix] ?? 1);
}

export interface Resources {
  milliCpu: number;
  memory: number;
  ephemeralStorage: number;
  pods: number;
  /** Extended resources (e.g. example.com/gpu) by name. */
  scalar: Record<string, number>;
}

export function emptyResources(): Resources {
  return { milliCpu: 0, memory: 0, ephemeralStorage: 0, pods: 0, scalar: {} };
}

function fromList(list: Record<string, unknown> | undefined): Resources {
  const r = emptyResources();
  for (const [name, value] of Object.entries(list ?? {})) {
    if (name === 'cpu') r.milliCpu = Math.round(parseQuantity(value) * 1000);
    else if (name === 'memory') r.memory = parseQuantity(value);
    else if (name === 'ephemeral-storage') r.ephemeralStorage = parseQuantity(value);
    else if (name === 'pods') r.pods = parseQuantity(value);
    else if (name.includes('/') || name.startsWith('hugepages-')) r.scalar[name] = parseQuantity(value);
  }
  return r;
}

function add(a: Resources, b: Resources): void {
  a.milliCpu += b.milliCpu;
  a.memory += b.memory;
  a.ephemeralStorage += b.ephemeralStorage;
  for (const [k, v] of Object.entries(b.scalar)) a.scalar[k] = (a.scalar[k] ?? 0) + v;
}

function max(a: Resources, b: Resources): void {
  a.milliCpu = Math.max(a.milliCpu, b.milliCpu);
  a.memory = Math.max(a.memory, b.memory);
  a.ephemeralStorage = Math.max(a.ephemeralStorage, b.ephemeralStorage);
  for (const [k, v] of Object.entries(b.scalar)) a.scalar[k] = Math.max(a.scalar[k] ?? 0, v);
}

/**
 * The effective request: sum of app containers (plus sidecar init containers, which keep
 * running), or the largest single init container if larger, plus pod overhead.
 */
export function podRequests(pod: KubeObject): Resources {
  const spec = pod.spec ?? {};
  const sum = emptyResources();
  for (const c of spec.containers ?? []) add(sum, fromList(c.resources?.requests));
  const initMax = emptyResources();
  const sidecars = emptyResources();
  for (const c of spec.initContainers ?? []) {
    const r = fromList(c.resources?.requests);
    if (c.restartPolicy === 'Always') {
      add(sidecars, r);
      add(sum, r);
    } else {
      // A regular init container runs alongside the sidecars started before it.
      const during = emptyResources();
      add(during, sidecars);
      add(during, r);
      max(initMax, during);
    }
  }
  max(sum, initMax);
  if (spec.overhead) add(sum, fromList(spec.overhead));
  sum.pods = 1;
  return sum;
}

export function nodeAllocatable(node: KubeObject): Resources {
  return fromList(node.status?.allocatable ?? node.status?.capacity);
}

export function sumRequests(pods: KubeObject[]): Resources {
  const r = emptyResources();
  for (const p of pods) {
    add(r, podRequests(p));
    r.pods += 1;
  }
  return r;
}
