// The built-in service load balancer (k3s' klipper-lb, without its pods): every Service of type
// LoadBalancer gets the Ready nodes' InternalIPs as its ingress addresses at once. Traffic then
// flows through the service proxy, which already DNATs `<status.loadBalancer.ingress[].ip>:<port>`
// to the endpoints on every node (ipMode VIP: the proxy owns the address).
import { createClient, type Client, type ResourceRef } from '../../client/client.js';
import { createController, type Controller } from '../../client/controller.js';
import { createEventRecorder, type EventRecorder } from '../../client/events.js';
import { dropManagedFields, SharedInformerFactory, stderrLogger, type Logger, type SharedIndexInformer } from '../../client/informer.js';
import { isConflict, isNotFound } from '../../client/errors.js';
import type { Transport } from '../../client/transport.js';
import type { Node, Service } from '../types.js';

const servicesRef: ResourceRef = { group: '', version: 'v1', resource: 'services', namespaced: true, kind: 'Service' };
const nodesRef: ResourceRef = { group: '', version: 'v1', resource: 'nodes', namespaced: false, kind: 'Node' };

export interface LoadBalancerIngress {
  ip?: string;
  hostname?: string;
  ipMode?: 'VIP' | 'Proxy';
  ports?: { port: number; protocol: string; error?: string }[];
}

type LoadBalancedService = Service & { spec?: Service['spec'] & { loadBalancerClass?: string }; status?: { loadBalancer?: { ingress?: LoadBalancerIngress[] } } };

/** A Service this controller is responsible for: type LoadBalancer without another implementation's loadBalancerClass. */
export function isServedLoadBalancer(service: LoadBalancedService): boolean {
  return service.spec?.type === 'LoadBalancer' && !service.spec.loadBalancerClass && !service.metadata.deletionTimestamp;
}

function nodeReady(node: Node & { status?: { conditions?: { type: string; status: string }[] } }): boolean {
  return (node.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

function isIPv4(ip: string): boolean {
  return /^\d+\.\d+\.\d+\.\d+$/.test(ip);
}

/**
 * The addresses every load-balanced Service gets: the InternalIPs of Ready, schedulable-or-not
 * nodes (sorted, so the status is stable), or `fallback` (the server's own address) when no node is Ready.
 */
export function loadBalancerAddresses(nodes: Node[], fallback: string[]): string[] {
  const ips = new Set<string>();
  for (const node of nodes) {
    if (node.metadata.deletionTimestamp || !nodeReady(node)) continue;
    for (const a of node.status?.addresses ?? []) if (a.type === 'InternalIP' && isIPv4(a.address)) ips.add(a.address);
  }
  const out = [...ips].sort(compareIPs);
  return out.length > 0 ? out : [...fallback];
}

function compareIPs(a: string, b: string): number {
  const n = (ip: string) => ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  return n(a) - n(b);
}

/** status.loadBalancer.ingress for a Service: one VIP entry per address. */
export function desiredIngress(addresses: string[]): LoadBalancerIngress[] {
  return addresses.map((ip) => ({ ip, ipMode: 'VIP' as const }));
}

function sameIngress(a: LoadBalancerIngress[] | undefined, b: LoadBalancerIngress[]): boolean {
  const norm = (list: LoadBalancerIngress[] | undefined) => JSON.stringify((list ?? []).map((i) => [i.ip ?? '', i.hostname ?? '', i.ipMode ?? '']));
  return norm(a) === norm(b);
}

export interface ServiceLoadBalancerOptions {
  transport: Transport;
  /** Used when no node is Ready (the server's own address), so a Service never stays pending. */
  fallbackAddresses: string[];
  logger?: Logger;
  /** Override the event recorder (tests). */
  recorder?: EventRecorder;
}

export interface ServiceLoadBalancer {
  controller: Controller;
  services: SharedIndexInformer<LoadBalancedService>;
  nodes: SharedIndexInformer<Node>;
  /** Runs until `signal` aborts. */
  start(signal: AbortSignal): Promise<void>;
}

export function createServiceLoadBalancer(options: ServiceLoadBalancerOptions): ServiceLoadBalancer {
  const logger = options.logger ?? stderrLogger;
  const client: Client = createClient(options.transport);
  const factory = new SharedInformerFactory(client, { transform: dropManagedFields, logger });
  const services = factory.forResource<LoadBalancedService>(servicesRef);
  const nodes = factory.forResource<Node>(nodesRef);
  const recorder = options.recorder ?? createEventRecorder({ client, component: 'service-lb-controller', logger });
  const serviceClient = client.resource<LoadBalancedService>(servicesRef);

  const controller = createController({
    name: 'service-lb',
    logger,
    reconciler: {
      async reconcile(key) {
        const service = services.getIndexer().get(key);
        if (!service) return;
        const current = service.status?.loadBalancer?.ingress;
        let want: LoadBalancerIngress[];
        if (isServedLoadBalancer(service)) {
          want = desiredIngress(loadBalancerAddresses(nodes.getIndexer().list(), options.fallbackAddresses));
        } else if (service.spec?.type !== 'LoadBalancer' && current?.length) {
          // A Service that stopped being a LoadBalancer loses the addresses we gave it.
          want = [];
        } else {
          return;
        }
        if (sameIngress(current, want)) return;
        if (want.length > 0) recorder.event(service, 'Normal', 'EnsuringLoadBalancer', 'Ensuring load balancer');
        try {
          await serviceClient.patchStatus(service.metadata.namespace, service.metadata.name!, 'merge', {
            metadata: { resourceVersion: service.metadata.resourceVersion },
            status: { loadBalancer: { ingress: want.length > 0 ? want : null } },
          });
        } catch (e) {
          // A newer version is on its way through the informer; it will be reconciled again.
          if (isConflict(e) || isNotFound(e)) return { requeue: isConflict(e) };
          throw e;
        }
        if (want.length > 0) recorder.event(service, 'Normal', 'EnsuredLoadBalancer', `Ensured load balancer with ${want.map((i) => i.ip).join(', ')}`);
        else recorder.event(service, 'Normal', 'DeletedLoadBalancer', 'Deleted load balancer');
        logger('info', 'service load balancer', { component: 'service-lb', object: key, verb: 'update', ingress: want.map((i) => i.ip) });
      },
    },
  });
  controller.watch(services, { filter: (s) => s.spec?.type === 'LoadBalancer' || !!s.status?.loadBalancer?.ingress?.length });
  // Any node change can change every load-balanced Service's addresses.
  const enqueueAll = () => {
    for (const s of services.getIndexer().list()) if (isServedLoadBalancer(s)) controller.enqueue(`${s.metadata.namespace}/${s.metadata.name}`);
  };
  nodes.addEventHandler({ onAdd: enqueueAll, onUpdate: (a, b) => addressesChanged(a, b) && enqueueAll(), onDelete: enqueueAll });
  // Nodes are waited for as well, so the first status is computed from the full node list.
  controller.watch(nodes, { mapToKeys: () => [] });

  return {
    controller,
    services,
    nodes,
    async start(signal) {
      factory.start(signal);
      await controller.start(signal);
      await factory.shutdown();
    },
  };
}

/** Heartbeats rewrite node status every few seconds; only readiness and addresses matter here. */
function addressesChanged(a: Node, b: Node): boolean {
  const view = (n: Node) => JSON.stringify([nodeReady(n), n.status?.addresses ?? [], !!n.metadata.deletionTimestamp]);
  return view(a) !== view(b);
}
