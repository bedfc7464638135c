// An Ingress backend (Service name + port number or name) → the ready pod addresses behind it,
// read from EndpointSlices the way kube-proxy does: the Service port's name selects the slice port.
import type { EndpointSlice, Service } from '../types.js';
import type { IngressBackend } from './types.js';

export const serviceNameLabel = 'kubernetes.io/service-name';

export interface BackendAddress {
  ip: string;
  port: number;
}

export interface EndpointSource {
  service(namespace: string, name: string): Service | undefined;
  /** The EndpointSlices labelled kubernetes.io/service-name=<name> in the namespace. */
  slices(namespace: string, serviceName: string): EndpointSlice[];
}

export type Resolution = { addresses: BackendAddress[]; key: string; service: string } | { error: string; service?: string };

export function resolveBackend(source: EndpointSource, namespace: string, backend: IngressBackend): Resolution {
  const ref = backend.service;
  if (!ref) return { error: backend.resource ? `resource backend ${backend.resource.kind}/${backend.resource.name} is not supported by this controller` : 'backend names no service' };
  const serviceName = `${namespace}/${ref.name}`;
  const service = source.service(namespace, ref.name);
  if (!service) return { error: `service ${serviceName} not found`, service: serviceName };
  const wanted = ref.port?.number ?? ref.port?.name;
  const servicePort = (service.spec?.ports ?? []).find((p) => (typeof wanted === 'number' ? p.port === wanted : p.name === wanted)) ?? (wanted === undefined && service.spec?.ports?.length === 1 ? service.spec.ports[0] : undefined);
  if (!servicePort) return { error: `service ${serviceName} has no port ${wanted ?? '(unspecified)'}`, service: serviceName };
  if ((servicePort.protocol ?? 'TCP') !== 'TCP') return { error: `service ${serviceName} port ${wanted} is not TCP`, service: serviceName };
  const portName = servicePort.name ?? '';
  const seen = new Set<string>();
  const addresses: BackendAddress[] = [];
  for (const slice of source.slices(namespace, ref.name)) {
    if (slice.addressType === 'FQDN' || slice.metadata.deletionTimestamp) continue;
    const port = (slice.ports ?? []).find((p) => (p.name ?? '') === portName && (p.protocol ?? 'TCP') === 'TCP')?.port;
    if (!port) continue;
    for (const endpoint of slice.endpoints ?? []) {
      // An absent ready condition means ready (EndpointSlice API contract).
      if (endpoint.conditions?.ready === false) continue;
      for (const ip of endpoint.addresses.slice(0, 1)) {
        const id = `${ip}:${port}`;
        if (seen.has(id)) continue;
        seen.add(id);
        addresses.push({ ip, port });
      }
    }
  }
  addresses.sort((a, b) => (a.ip === b.ip ? a.port - b.port : a.ip < b.ip ? -1 : 1));
  return { addresses, key: `${serviceName}:${servicePort.port}`, service: serviceName };
}
