// What a Service's endpoints should be, computed from the Service and its Pods alone (pure:
// no I/O, no clock), following kube-controller-manager's endpointslice and endpoints
// controllers: which pods count, their conditions, how targetPort resolves per pod, and how
// endpoints group into slices of at most 100 that share one port list.
import type { KubeObject } from '../../api/types.js';

export const serviceNameLabel = 'kubernetes.io/service-name';
export const managedByLabel = 'endpointslice.kubernetes.io/managed-by';
export const controllerName = 'endpointslice-controller.k8s.io';
/** Kubernetes' default --max-endpoints-per-slice. */
export const maxEndpointsPerSlice = 100;
export const zoneLabel = 'topology.kubernetes.io/zone';
/** Set on Endpoints of headless Services, as the endpoints controller does. */
export const headlessLabel = 'service.kubernetes.io/headless';

export type AddressType = 'IPv4' | 'IPv6';

export interface SliceEndpoint {
  addresses: string[];
  conditions: { ready: boolean; serving: boolean; terminating: boolean };
  hostname?: string;
  nodeName?: string;
  zone?: string;
  targetRef: { kind: 'Pod'; namespace: string; name: string; uid: string };
}

export interface SlicePort {
  name: string;
  port: number;
  protocol: string;
  appProtocol?: string;
}

/** Endpoints sharing one resolved port list (named targetPorts may differ per pod). */
export interface PortSetEndpoints {
  /** Stable key of the port list: slices are matched to it. */
  key: string;
  ports: SlicePort[];
  endpoints: SliceEndpoint[];
}

export function isPodReady(pod: KubeObject): boolean {
  return (pod.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True');
}

/**
 * kube's ShouldPodBeInEndpoints: a pod needs an IP, must not have finished for good (by its
 * restartPolicy), and — unless terminating pods are wanted — must not be terminating.
 */
export function shouldPodBeInEndpoints(pod: KubeObject, includeTerminating: boolean): boolean {
  if (!pod.status?.podIP) return false;
  if (!includeTerminating && pod.metadata.deletionTimestamp) return false;
  const phase = pod.status?.phase;
  switch (pod.spec?.restartPolicy) {
    case 'Never':
      return phase !== 'Failed' && phase !== 'Succeeded';
    case 'OnFailure':
      return phase !== 'Succeeded';
    default:
      return true;
  }
}

/** Does the Service's equality-based selector match the labels? A Service without one matches nothing here. */
export function selectorMatches(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  for (const [k, v] of Object.entries(selector)) if (labels?.[k] !== v) return false;
  return true;
}

/**
 * kube's podutil.FindPort: a numeric targetPort is used as is (the Service port when unset);
 * a name is looked up among the pod's container ports with the same protocol.
 */
export function findPort(pod: KubeObject, servicePort: { port: number; targetPort?: number | string; protocol?: string }): number | undefined {
  const target = servicePort.targetPort ?? servicePort.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  const protocol = servicePort.protocol ?? 'TCP';
  for (const c of [...(pod.spec?.initContainers ?? []).filter((ic: any) => ic.restartPolicy === 'Always'), ...(pod.spec?.containers ?? [])]) {
    for (const p of c.ports ?? []) {
      if (p.name === target && (p.protocol ?? 'TCP') === protocol) return p.containerPort;
    }
  }
  return undefined;
}

export function serviceAddressTypes(service: KubeObject): AddressType[] {
  const families: string[] = service.spec?.ipFamilies ?? [];
  const out = families.filter((f): f is AddressType => f === 'IPv4' || f === 'IPv6');
  return out.length > 0 ? out : ['IPv4'];
}

function podAddress(pod: KubeObject, family: AddressType): string | undefined {
  const ips: string[] = (pod.status?.podIPs ?? []).map((p: { ip: string }) => p.ip);
  if (ips.length === 0 && pod.status?.podIP) ips.push(pod.status.podIP);
  return ips.find((ip) => (family === 'IPv6') === ip.includes(':'));
}

function portsKey(ports: SlicePort[]): string {
  return JSON.stringify(ports.map((p) => [p.name, p.protocol, p.port, p.appProtocol ?? '']));
}

export interface NodeZones {
  /** The zone label of a node, when the node is known. */
  zoneOf(nodeName: string): string | undefined;
}

/**
 * Endpoints of `service` for one address family, grouped by resolved port list. Pods whose
 * named targetPort cannot be resolved are left out of that service (as Kubernetes does).
 * Ordered for stable output: groups by key, endpoints by pod name.
 */
export function desiredEndpoints(service: KubeObject, pods: KubeObject[], family: AddressType, nodes?: NodeZones): PortSetEndpoints[] {
  const groups = new Map<string, PortSetEndpoints>();
  const publishNotReady = service.spec?.publishNotReadyAddresses === true;
  const servicePorts: any[] = service.spec?.ports ?? [];
  const sorted = [...pods].sort((a, b) => (a.metadata.name! < b.metadata.name! ? -1 : a.metadata.name! > b.metadata.name! ? 1 : 0));
  for (const pod of sorted) {
    if (pod.metadata.namespace !== service.metadata.namespace) continue;
    if (!selectorMatches(service.spec?.selector, pod.metadata.labels)) continue;
    // The slice controller keeps terminating pods (conditions tell consumers what they are).
    if (!shouldPodBeInEndpoints(pod, true)) continue;
    const address = podAddress(pod, family);
    if (!address) continue;
    const ports: SlicePort[] = [];
    let unresolved = false;
    for (const sp of servicePorts) {
      const port = findPort(pod, sp);
      if (port === undefined) {
        unresolved = true;
        break;
      }
      const p: SlicePort = { name: sp.name ?? '', port, protocol: sp.protocol ?? 'TCP' };
      if (sp.appProtocol) p.appProtocol = sp.appProtocol;
      ports.push(p);
    }
    if (unresolved) continue;
    const serving = isPodReady(pod);
    const terminating = Boolean(pod.metadata.deletionTimestamp);
    const endpoint: SliceEndpoint = {
      addresses: [address],
      // "ready" is never true for a terminating pod unless the Service publishes not-ready addresses.
      conditions: { ready: publishNotReady || (serving && !terminating), serving, terminating },
      targetRef: { kind: 'Pod', namespace: pod.metadata.namespace!, name: pod.metadata.name!, uid: pod.metadata.uid ?? '' },
    };
    if (pod.spec?.hostname && pod.spec?.subdomain === service.metadata.name) endpoint.hostname = pod.spec.hostname;
    if (pod.spec?.nodeName) {
      endpoint.nodeName = pod.spec.nodeName;
      const zone = nodes?.zoneOf(pod.spec.nodeName);
      if (zone) endpoint.zone = zone;
    }
    const key = portsKey(ports);
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { key, ports, endpoints: [] }));
    group.endpoints.push(endpoint);
  }
  return [...groups.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

export function slicePortsKey(slice: KubeObject): string {
  return portsKey(((slice.ports ?? []) as any[]).map((p) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP', appProtocol: p.appProtocol })));
}

/** The identity of an endpoint within its port set: the pod it stands for. */
export function endpointIdentity(e: { targetRef?: { uid?: string; name?: string }; addresses?: string[] }): string {
  return e.targetRef?.uid || e.targetRef?.name || (e.addresses ?? []).join(',');
}

/**
 * The legacy core/v1 Endpoints subsets (what the endpoints controller writes): ready pods in
 * `addresses`, the rest in `notReadyAddresses`, addresses sharing a port list in one subset.
 */
export function desiredEndpointSubsets(service: KubeObject, pods: KubeObject[]): any[] {
  const publishNotReady = service.spec?.publishNotReadyAddresses === true;
  const servicePorts: any[] = service.spec?.ports ?? [];
  const bySet = new Map<string, { ports: any[]; addresses: any[]; notReadyAddresses: any[] }>();
  for (const pod of pods) {
    if (pod.metadata.namespace !== service.metadata.namespace) continue;
    if (!selectorMatches(service.spec?.selector, pod.metadata.labels)) continue;
    if (!shouldPodBeInEndpoints(pod, publishNotReady)) continue;
    const ip = podAddress(pod, serviceAddressTypes(service)[0]!);
    if (!ip) continue;
    const address: Record<string, unknown> = {
      ip,
      targetRef: { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid },
    };
    if (pod.spec?.nodeName) address.nodeName = pod.spec.nodeName;
    if (pod.spec?.hostname && pod.spec?.subdomain === service.metadata.name) address.hostname = pod.spec.hostname;
    const ports: any[] = [];
    for (const sp of servicePorts) {
      const port = findPort(pod, sp);
      if (port === undefined) continue; // the endpoints controller skips only the unresolvable port
      const p: Record<string, unknown> = { port, protocol: sp.protocol ?? 'TCP' };
      if (sp.name) p.name = sp.name;
      if (sp.appProtocol) p.appProtocol = sp.appProtocol;
      ports.push(p);
    }
    // A headless Service without ports still lists its pods (for DNS).
    if (ports.length === 0 && servicePorts.length > 0) continue;
    ports.sort((a, b) => ((a.name ?? '') < (b.name ?? '') ? -1 : (a.name ?? '') > (b.name ?? '') ? 1 : a.port - b.port));
    const key = JSON.stringify(ports);
    let subset = bySet.get(key);
    if (!subset) bySet.set(key, (subset = { ports, addresses: [], notReadyAddresses: [] }));
    if (publishNotReady || (isPodReady(pod) && !pod.metadata.deletionTimestamp)) subset.addresses.push(address);
    else subset.notReadyAddresses.push(address);
  }
  const byIp = (a: any, b: any) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0);
  return [...bySet.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, s]) => {
      const subset: Record<string, unknown> = {};
      if (s.addresses.length) subset.addresses = s.addresses.sort(byIp);
      if (s.notReadyAddresses.length) subset.notReadyAddresses = s.notReadyAddresses.sort(byIp);
      if (s.ports.length) subset.ports = s.ports;
      return subset;
    });
}
