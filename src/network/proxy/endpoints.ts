// Which backends a service port sends to. Shared by the iptables and userspace proxiers so both
// honour the same Kubernetes rules: ready endpoints first, and only when none is ready, endpoints
// that are serving while terminating (graceful shutdown keeps answering instead of refusing).
import type { Endpoint, EndpointSlice, Protocol, Service, ServicePort } from '../types.js';

export interface Backend {
  ip: string;
  port: number;
  nodeName?: string;
}

export interface ServicePortBackends {
  /** Endpoints to use for cluster-wide traffic. */
  cluster: Backend[];
  /** The subset of `cluster` on `nodeName` (for externalTrafficPolicy/internalTrafficPolicy Local). */
  local: Backend[];
}

export const serviceNameLabel = 'kubernetes.io/service-name';

function isReady(e: Endpoint): boolean {
  return e.conditions?.ready !== false; // nil means ready, as the EndpointSlice API documents
}

function isServingTerminating(e: Endpoint): boolean {
  const serving = e.conditions?.serving ?? isReady(e);
  return serving && e.conditions?.terminating === true;
}

/** Slices keyed by "namespace/service-name". */
export function indexSlicesByService(slices: EndpointSlice[]): Map<string, EndpointSlice[]> {
  const out = new Map<string, EndpointSlice[]>();
  for (const s of slices) {
    const svc = s.metadata.labels?.[serviceNameLabel];
    if (!svc) continue;
    const key = `${s.metadata.namespace ?? ''}/${svc}`;
    let list = out.get(key);
    if (!list) out.set(key, (list = []));
    list.push(s);
  }
  return out;
}

export function backendsFor(
  service: Service,
  port: ServicePort,
  slices: EndpointSlice[],
  nodeName: string | undefined,
  family: 'IPv4' | 'IPv6' = 'IPv4',
): ServicePortBackends {
  const protocol: Protocol = port.protocol ?? 'TCP';
  const ready: Backend[] = [];
  const fallback: Backend[] = [];
  const seen = new Set<string>();
  for (const slice of slices) {
    if (slice.addressType !== family) continue;
    // A slice port matches the service port by name (both empty for a single unnamed port).
    const sp = (slice.ports ?? []).find((p) => (p.name ?? '') === (port.name ?? '') && (p.protocol ?? 'TCP') === protocol);
    if (!sp || sp.port === undefined) continue;
    for (const e of slice.endpoints ?? []) {
      const ip = e.addresses[0];
      if (!ip) continue;
      const key = `${ip}:${sp.port}`;
      if (seen.has(key)) continue;
      const backend: Backend = { ip, port: sp.port, nodeName: e.nodeName };
      if (isReady(e) || service.spec?.publishNotReadyAddresses) {
        seen.add(key);
        ready.push(backend);
      } else if (isServingTerminating(e)) {
        fallback.push(backend);
      }
    }
  }
  const pick = (list: Backend[]) => list.filter((b, i) => list.findIndex((o) => o.ip === b.ip && o.port === b.port) === i);
  const chosen = ready.length > 0 ? ready : pick(fallback);
  chosen.sort((a, b) => (a.ip === b.ip ? a.port - b.port : a.ip < b.ip ? -1 : 1));
  return { cluster: chosen, local: chosen.filter((b) => nodeName !== undefined && b.nodeName === nodeName) };
}
