// The EndpointSlice controller (discovery.k8s.io/v1) together with the legacy Endpoints
// controller: for every Service with a selector it keeps the slices — and the core/v1
// Endpoints object old clients read — equal to what the matching Pods say. One key per
// Service ("namespace/name"); each reconcile reads the informer caches and writes only the
// difference.
import type { KubeObject } from '../../api/types.js';
import type { Client } from '../../client/client.js';
import { objectKey, splitObjectKey } from '../../client/client.js';
import type { Clock } from '../../client/clock.js';
import { Controller } from '../../client/controller.js';
import { isAlreadyExists, isConflict, isNotFound } from '../../client/errors.js';
import { dropManagedFields, SharedInformerFactory, type Logger, type SharedIndexInformer } from '../../client/informer.js';
import {
  controllerName,
  desiredEndpoints,
  desiredEndpointSubsets,
  headlessLabel,
  managedByLabel,
  selectorMatches,
  serviceAddressTypes,
  serviceNameLabel,
  zoneLabel,
  type AddressType,
  type PortSetEndpoints,
} from './desired.js';
import { planSlices } from './plan.js';
import { endpointSlicesRef, endpointsRef, nodesRef, podsRef, servicesRef } from './refs.js';

export interface EndpointSliceControllerOptions {
  client: Client;
  /** Share informers with other components of the process; one is made when absent. */
  informers?: SharedInformerFactory;
  clock?: Clock;
  logger?: Logger;
  workers?: number;
}

const bySliceService = 'service';

/** Remembers our own writes until the slice cache has seen them, so a stale cache never makes us create twice. */
class SliceTracker {
  private readonly expected = new Map<string, Map<string, string>>();

  record(serviceKey: string, sliceName: string, resourceVersion: string | 'deleted'): void {
    let m = this.expected.get(serviceKey);
    if (!m) this.expected.set(serviceKey, (m = new Map()));
    m.set(sliceName, resourceVersion);
  }

  /** True when the cache still lags behind a write we made. Entries the cache has caught up with are forgotten. */
  stale(serviceKey: string, cached: (name: string) => KubeObject | undefined): boolean {
    const m = this.expected.get(serviceKey);
    if (!m) return false;
    let stale = false;
    for (const [name, rv] of m) {
      const slice = cached(name);
      const caughtUp = rv === 'deleted' ? !slice : slice !== undefined && newerOrEqual(slice.metadata.resourceVersion, rv);
      if (caughtUp) m.delete(name);
      else stale = true;
    }
    if (m.size === 0) this.expected.delete(serviceKey);
    return stale;
  }

  forget(serviceKey: string): void {
    this.expected.delete(serviceKey);
  }
}

function newerOrEqual(have: string | undefined, want: string): boolean {
  if (!have) return false;
  if (/^\d+$/.test(have) && /^\d+$/.test(want)) return BigInt(have) >= BigInt(want);
  return have === want;
}

/** Subsets projected onto the fields we write, in a fixed order, so server-side defaulting never looks like a change. */
function normalSubsets(subsets: any[] | undefined): string {
  const address = (a: any) => [a.ip, a.hostname ?? '', a.nodeName ?? '', a.targetRef?.kind ?? '', a.targetRef?.namespace ?? '', a.targetRef?.name ?? '', a.targetRef?.uid ?? ''];
  return JSON.stringify(
    (subsets ?? []).map((s) => [
      (s.addresses ?? []).map(address),
      (s.notReadyAddresses ?? []).map(address),
      (s.ports ?? []).map((p: any) => [p.name ?? '', p.port, p.protocol ?? 'TCP', p.appProtocol ?? '']),
    ]),
  );
}

function sameLabels(a: Record<string, string> | undefined, b: Record<string, string>): boolean {
  const ka = Object.keys(a ?? {});
  return ka.length === Object.keys(b).length && ka.every((k) => a![k] === b[k]);
}

export interface EndpointSliceController {
  controller: Controller;
  services: SharedIndexInformer;
  pods: SharedIndexInformer;
  slices: SharedIndexInformer;
  /** Starts the informers (when the factory is ours) and the workers; resolves after `signal` aborts. */
  start(signal: AbortSignal): Promise<void>;
}

export function createEndpointSliceController(options: EndpointSliceControllerOptions): EndpointSliceController {
  const { client } = options;
  const ownFactory = !options.informers;
  const factory = options.informers ?? new SharedInformerFactory(client, { transform: dropManagedFields, clock: options.clock, logger: options.logger });
  const services = factory.forResource(servicesRef);
  const pods = factory.forResource(podsRef);
  const nodes = factory.forResource(nodesRef);
  const slices = factory.forResource(endpointSlicesRef, {
    indexers: { [bySliceService]: (s: KubeObject) => (s.metadata.labels?.[managedByLabel] === controllerName && s.metadata.labels?.[serviceNameLabel] ? [`${s.metadata.namespace}/${s.metadata.labels[serviceNameLabel]}`] : []) },
  });
  const endpointsInformer = factory.forResource(endpointsRef);
  const sliceClient = client.resource(endpointSlicesRef);
  const endpointsClient = client.resource(endpointsRef);
  const tracker = new SliceTracker();

  const servicesSelecting = (pod: KubeObject): string[] =>
    services
      .getIndexer()
      .listByNamespace(pod.metadata.namespace ?? '')
      .filter((svc) => selectorMatches(svc.spec?.selector, pod.metadata.labels))
      .map(objectKey);

  const controller = new Controller({ name: 'endpointslice', reconciler: { reconcile }, clock: options.clock, logger: options.logger, workers: options.workers ?? 2 });
  controller.watch(services);
  controller.watch(pods, { mapToKeys: servicesSelecting });
  controller.watch(slices, { mapToKeys: (s) => (s.metadata.labels?.[managedByLabel] === controllerName && s.metadata.labels?.[serviceNameLabel] ? [`${s.metadata.namespace}/${s.metadata.labels[serviceNameLabel]}`] : []) });
  controller.watch(endpointsInformer);
  // A node's zone label feeds endpoint.zone; re-check the Services with pods on that node.
  controller.watch(nodes, {
    mapToKeys: (node) => {
      const keys = new Set<string>();
      for (const pod of pods.getIndexer().list()) if (pod.spec?.nodeName === node.metadata.name) for (const k of servicesSelecting(pod)) keys.add(k);
      return [...keys];
    },
  });

  async function reconcile(key: string): Promise<{ requeueAfterMs?: number } | void> {
    const { namespace, name } = splitObjectKey(key);
    const service = services.getIndexer().get(key);
    const existing = slices.getIndexer().byIndex(bySliceService, key);
    if (tracker.stale(key, (n) => slices.getIndexer().get(`${namespace}/${n}`))) return { requeueAfterMs: 50 };

    if (!service || !service.spec?.selector || Object.keys(service.spec.selector).length === 0 || service.spec?.type === 'ExternalName') {
      // Not (or no longer) ours to manage: remove what we made. Endpoints of a selector-less
      // Service belong to the user and stay; those of a deleted Service go with it.
      for (const s of existing) await deleteSlice(key, s);
      if (!service) {
        tracker.forget(key);
        const ep = endpointsInformer.getIndexer().get(key);
        if (ep) await endpointsClient.delete(namespace, name).catch((e) => { if (!isNotFound(e)) throw e; });
      }
      return;
    }

    const nsPods = pods.getIndexer().listByNamespace(namespace ?? '');
    const zones = { zoneOf: (node: string) => nodes.getIndexer().get(node)?.metadata.labels?.[zoneLabel] };
    const desired = new Map<AddressType, PortSetEndpoints[]>();
    for (const family of serviceAddressTypes(service)) desired.set(family, desiredEndpoints(service, nsPods, family, zones));
    const plan = planSlices(service, desired, existing);
    for (const s of plan.delete) await deleteSlice(key, s);
    for (const s of plan.update) {
      const written = await sliceClient.update(s);
      tracker.record(key, written.metadata.name!, written.metadata.resourceVersion!);
    }
    for (const s of plan.create) {
      const written = await sliceClient.create(namespace, s);
      tracker.record(key, written.metadata.name!, written.metadata.resourceVersion!);
    }
    await syncEndpoints(service, nsPods);
  }

  async function deleteSlice(key: string, slice: KubeObject): Promise<void> {
    try {
      await sliceClient.delete(slice.metadata.namespace, slice.metadata.name!, { preconditions: { uid: slice.metadata.uid } });
    } catch (e) {
      if (!isNotFound(e) && !isConflict(e)) throw e;
    }
    tracker.record(key, slice.metadata.name!, 'deleted');
  }

  async function syncEndpoints(service: KubeObject, nsPods: KubeObject[]): Promise<void> {
    const subsets = desiredEndpointSubsets(service, nsPods);
    const labels: Record<string, string> = { ...(service.metadata.labels ?? {}) };
    if (service.spec?.clusterIP === 'None') labels[headlessLabel] = '';
    else delete labels[headlessLabel];
    const current = endpointsInformer.getIndexer().get(objectKey(service));
    if (current && normalSubsets(current.subsets) === normalSubsets(subsets) && sameLabels(current.metadata.labels, labels)) return;
    const body: KubeObject = {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: current ? { ...current.metadata, labels } : { name: service.metadata.name, namespace: service.metadata.namespace, labels },
      subsets,
    };
    try {
      if (current) await endpointsClient.update(body);
      else await endpointsClient.create(service.metadata.namespace, body);
    } catch (e) {
      // The cache was behind: the next event (or the retry) brings the fresh object.
      if (isAlreadyExists(e) || isConflict(e)) throw new Error(`endpoints ${objectKey(service)} changed under us; retrying`);
      throw e;
    }
  }

  return {
    controller,
    services,
    pods,
    slices,
    async start(signal) {
      if (ownFactory) factory.start(signal);
      await controller.start(signal);
      if (ownFactory) await factory.shutdown();
    },
  };
}
