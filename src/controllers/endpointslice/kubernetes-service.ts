// The `default/kubernetes` Service and its Endpoints and EndpointSlice, kept as kube-apiserver's
// endpoint reconciler keeps them: ClusterIP the first address of the service CIDR, port 443
// (https) forwarding to the API servers' own address and port. The Service has no selector,
// so the EndpointSlice controller leaves its endpoints to this one.
import type { KubeObject } from '../../api/types.js';
import type { Client } from '../../client/client.js';
import type { Clock } from '../../client/clock.js';
import { Controller } from '../../client/controller.js';
import { isAlreadyExists } from '../../client/errors.js';
import { SharedInformerFactory, type Logger } from '../../client/informer.js';
import { serviceNameLabel } from './desired.js';
import { endpointSlicesRef, endpointsRef, servicesRef } from './refs.js';

export interface KubernetesServiceOptions {
  client: Client;
  /** Where the API server(s) answer: node IPs other nodes (and pods, through the proxy) can reach. */
  addresses: string[];
  /** The API server's secure port (6443). */
  port: number;
  /** Default 10.43.0.1: the first address of the default service CIDR. */
  clusterIP?: string;
  /** The reconcile repeats this often even without events (kube: --endpoint-reconciler interval, 10 s). */
  intervalMs?: number;
  clock?: Clock;
  logger?: Logger;
}

const namespace = 'default';
const name = 'kubernetes';
const key = `${namespace}/${name}`;

export function kubernetesServiceObject(clusterIP: string, port: number): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace, labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: {
      type: 'ClusterIP',
      clusterIP,
      clusterIPs: [clusterIP],
      ipFamilies: ['IPv4'],
      ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: port }],
      sessionAffinity: 'None',
    },
  };
}

export function createKubernetesServiceController(options: KubernetesServiceOptions) {
  const { client, port } = options;
  const clusterIP = options.clusterIP ?? '10.43.0.1';
  const intervalMs = options.intervalMs ?? 10_000;
  const addresses = [...new Set(options.addresses)].sort();
  const factory = new SharedInformerFactory(client, { namespace, clock: options.clock, logger: options.logger });
  const byName = { fieldSelector: `metadata.name=${name}` };
  const services = factory.forResource(servicesRef, byName);
  const endpoints = factory.forResource(endpointsRef, byName);
  const slices = factory.forResource(endpointSlicesRef, byName);
  const serviceClient = client.resource(servicesRef);
  const endpointsClient = client.resource(endpointsRef);
  const sliceClient = client.resource(endpointSlicesRef);

  const wantedPorts = [{ name: 'https', port, protocol: 'TCP' }];
  const wantedSubsets = [{ addresses: addresses.map((ip) => ({ ip })), ports: wantedPorts }];
  const wantedEndpoints = addresses.map((ip) => ({ addresses: [ip], conditions: { ready: true } }));

  async function reconcile(): Promise<{ requeueAfterMs: number }> {
    const svc = services.getIndexer().get(key);
    if (!svc) {
      await serviceClient.create(namespace, kubernetesServiceObject(clusterIP, port)).catch(ignoreAlreadyExists);
    } else {
      const want = kubernetesServiceObject(clusterIP, port).spec.ports;
      const have = svc.spec?.ports ?? [];
      if (JSON.stringify(have.map(portShape)) !== JSON.stringify(want.map(portShape))) {
        await serviceClient.update({ ...svc, spec: { ...svc.spec, ports: want } });
      }
    }

    const ep = endpoints.getIndexer().get(key);
    const subsetsShape = (s: any[] | undefined) => JSON.stringify((s ?? []).map((x) => [(x.addresses ?? []).map((a: any) => a.ip), (x.ports ?? []).map(portShape)]));
    if (!ep) {
      await endpointsClient.create(namespace, { apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace }, subsets: wantedSubsets }).catch(ignoreAlreadyExists);
    } else if (subsetsShape(ep.subsets) !== subsetsShape(wantedSubsets) || (ep.subsets ?? []).some((s: any) => s.notReadyAddresses?.length)) {
      await endpointsClient.update({ ...ep, subsets: wantedSubsets });
    }

    const slice = slices.getIndexer().get(key);
    const sliceShape = (s: KubeObject) => JSON.stringify([s.addressType, (s.endpoints ?? []).map((e: any) => [e.addresses, e.conditions?.ready ?? true]), (s.ports ?? []).map(portShape), s.metadata.labels?.[serviceNameLabel]]);
    const wantedSlice: KubeObject = {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name, namespace, labels: { [serviceNameLabel]: name } },
      addressType: 'IPv4',
      endpoints: wantedEndpoints,
      ports: wantedPorts,
    };
    if (!slice) {
      await sliceClient.create(namespace, wantedSlice).catch(ignoreAlreadyExists);
    } else if (sliceShape(slice) !== sliceShape(wantedSlice)) {
      await sliceClient.update({ ...slice, metadata: { ...slice.metadata, labels: { ...slice.metadata.labels, [serviceNameLabel]: name } }, addressType: 'IPv4', endpoints: wantedEndpoints, ports: wantedPorts });
    }
    return { requeueAfterMs: intervalMs };
  }

  const controller = new Controller({ name: 'kubernetes-service', reconciler: { reconcile }, clock: options.clock, logger: options.logger });
  for (const informer of [services, endpoints, slices]) controller.watch(informer, { mapToKeys: () => [key] });

  return {
    controller,
    async start(signal: AbortSignal): Promise<void> {
      factory.start(signal);
      controller.enqueue(key);
      await controller.start(signal);
      await factory.shutdown();
    },
  };
}

function portShape(p: any): unknown[] {
  return [p.name ?? '', p.port, p.protocol ?? 'TCP', p.targetPort ?? null];
}

function ignoreAlreadyExists(e: unknown): void {
  // Created by another server (or our cache lags): the watch brings it and we compare again.
  if (!isAlreadyExists(e)) throw e;
}
