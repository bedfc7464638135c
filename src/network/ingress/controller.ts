// The ingress controller: informers on Ingresses, IngressClasses, Services, EndpointSlices and
// Secrets feed the route table of the HTTP(S) proxy (rebuilt and swapped on every change) and
// keep status.loadBalancer.ingress of each handled Ingress pointing at this node.
import { createSecureContext, type SecureContext } from 'node:tls';
import type { AddressInfo } from 'node:net';
import type { KubeObject } from '../../api/types.js';
import { createClient, type ResourceRef } from '../../client/client.js';
import { createController } from '../../client/controller.js';
import { isConflict, isNotFound } from '../../client/errors.js';
import { createEventRecorder } from '../../client/events.js';
import { dropManagedFields, SharedInformerFactory, stderrLogger, type Logger } from '../../client/informer.js';
import type { Transport } from '../../client/transport.js';
import { startSyncLoop } from '../node/sync-loop.js';
import type { EndpointSlice, Service } from '../types.js';
import { resolveBackend, serviceNameLabel, type EndpointSource } from './backends.js';
import { IngressProxy, type ListenAddress } from './proxy.js';
import { buildRouteTable, defaultClassAnnotation, handlesIngress, ingressControllerName, tlsEntryFor, type RouteTable, type TlsEntry } from './routing.js';
import type { Ingress, IngressClass, Secret } from './types.js';

export const ingressesRef: ResourceRef = { group: 'networking.k8s.io', version: 'v1', resource: 'ingresses', namespaced: true, kind: 'Ingress' };
export const ingressClassesRef: ResourceRef = { group: 'networking.k8s.io', version: 'v1', resource: 'ingressclasses', namespaced: false, kind: 'IngressClass' };
const servicesRef: ResourceRef = { group: '', version: 'v1', resource: 'services', namespaced: true, kind: 'Service' };
const endpointSlicesRef: ResourceRef = { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', namespaced: true, kind: 'EndpointSlice' };
const secretsRef: ResourceRef = { group: '', version: 'v1', resource: 'secrets', namespaced: true, kind: 'Secret' };

export const defaultIngressClassName = 'navarch';

/** The IngressClass `navarch` (the cluster default), created at server start. */
export function navarchIngressClass(): IngressClass {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'IngressClass',
    metadata: { name: defaultIngressClassName, annotations: { [defaultClassAnnotation]: 'true' }, labels: { 'app.kubernetes.io/managed-by': 'navarch' } },
    spec: { controller: ingressControllerName },
  };
}

/** For bootstrapClusterObjects. */
export function ingressBootstrapObjects(): { group: string; version: string; resource: string; object: KubeObject }[] {
  return [{ group: 'networking.k8s.io', version: 'v1', resource: 'ingressclasses', object: navarchIngressClass() }];
}

export interface IngressControllerOptions {
  transport: Transport;
  /** Plain HTTP listener (e.g. 0.0.0.0:80); omitted: none. */
  http?: ListenAddress;
  /** HTTPS listener (e.g. 0.0.0.0:443); omitted: none. */
  https?: ListenAddress;
  /** What handled Ingresses publish in status.loadBalancer.ingress (the node's address). */
  statusAddresses: string[];
  /** Default navarch.io/ingress. */
  controllerName?: string;
  logger?: Logger;
  /** Minimum gap between route-table rebuilds (default 50 ms). */
  minSyncIntervalMs?: number;
}

export interface RunningIngressController {
  /** The bound listeners (useful with port 0). */
  addresses: { http?: AddressInfo; https?: AddressInfo };
  /** Route-table rebuilds so far. */
  reloads(): number;
  /** Resolves once stopped: listeners closed, informers and status writes finished. */
  stopped: Promise<void>;
}

interface Credentials {
  resourceVersion: string;
  key: string;
  cert: string;
  context: SecureContext;
}

/** Starts informers, waits for their caches, builds the first route table, then listens. Stops when `signal` aborts. */
export async function startIngressController(options: IngressControllerOptions, signal: AbortSignal): Promise<RunningIngressController> {
  const logger = options.logger ?? stderrLogger;
  const controllerName = options.controllerName ?? ingressControllerName;
  const client = createClient(options.transport);
  const informersStop = new AbortController();
  const factory = new SharedInformerFactory(client, { transform: dropManagedFields, logger });
  const ingresses = factory.forResource<Ingress>(ingressesRef);
  const classes = factory.forResource<IngressClass>(ingressClassesRef);
  const services = factory.forResource<Service>(servicesRef);
  const slices = factory.forResource<EndpointSlice>(endpointSlicesRef, {
    indexers: { service: (s) => (s.metadata.labels?.[serviceNameLabel] ? [`${s.metadata.namespace}/${s.metadata.labels[serviceNameLabel]}`] : []) },
  });
  const secrets = factory.forResource<Secret>(secretsRef);
  const recorder = createEventRecorder({ client, component: 'navarch-ingress-controller', logger });
  const ingressClient = client.resource<Ingress>(ingressesRef);

  const endpoints: EndpointSource = {
    service: (namespace, name) => services.getIndexer().getByName(namespace, name),
    slices: (namespace, name) => slices.getIndexer().byIndex('service', `${namespace}/${name}`),
  };

  const credentialCache = new Map<string, Credentials>();
  const credentialsFor = (entry: TlsEntry | undefined): Credentials | undefined => {
    if (!entry) return undefined;
    const secretKey = `${entry.namespace}/${entry.secretName}`;
    const secret = secrets.getIndexer().get(secretKey);
    const crt = secret?.data?.['tls.crt'];
    const key = secret?.data?.['tls.key'];
    if (!secret || !crt || !key) return undefined;
    const cached = credentialCache.get(secretKey);
    if (cached && cached.resourceVersion === secret.metadata.resourceVersion) return cached;
    try {
      const pem = { key: Buffer.from(key, 'base64').toString('utf8'), cert: Buffer.from(crt, 'base64').toString('utf8') };
      const created: Credentials = { resourceVersion: secret.metadata.resourceVersion ?? '', ...pem, context: createSecureContext(pem) };
      credentialCache.set(secretKey, created);
      return created;
    } catch (e) {
      logger('warn', 'unusable TLS secret', { component: 'ingress', object: secretKey, ingress: entry.ingress, error: (e as Error).message });
      return undefined;
    }
  };

  const proxy = new IngressProxy({ http: options.http, https: options.https, logger });
  let table: RouteTable = buildRouteTable([]);
  const rebuild = () => {
    const classList = classes.getIndexer().list();
    const handled = ingresses.getIndexer().list().filter((i) => handlesIngress(i, classList, controllerName));
    const next = buildRouteTable(handled);
    // Secrets no longer referenced are forgotten (their keys stay out of memory).
    const referenced = new Set(next.tls.map((t) => `${t.namespace}/${t.secretName}`));
    for (const k of credentialCache.keys()) if (!referenced.has(k)) credentialCache.delete(k);
    table = next;
    proxy.setConfig({
      table: next,
      resolve: (namespace, backend) => resolveBackend(endpoints, namespace, backend),
      secureContext: (serverName) => credentialsFor(tlsEntryFor(next, serverName))?.context,
      defaultCredentials: () => {
        const c = credentialsFor(tlsEntryFor(next, undefined));
        return c ? { key: c.key, cert: c.cert } : undefined;
      },
    });
  };

  const loopStop = new AbortController();
  const loop = startSyncLoop({ name: 'ingress-routes', logger, signal: loopStop.signal, minIntervalMs: options.minSyncIntervalMs ?? 50, sync: async () => rebuild() });
  const kickWhenSynced = () => ingresses.hasSynced() && classes.hasSynced() && secrets.hasSynced() && loop.kick();
  for (const informer of [ingresses, classes, secrets]) informer.addEventHandler({ onAdd: kickWhenSynced, onUpdate: kickWhenSynced, onDelete: kickWhenSynced });

  const statusAddresses = options.statusAddresses.map((ip) => ({ ip }));
  const sameAddresses = (list: { ip?: string; hostname?: string }[] | undefined, want: { ip: string }[]) =>
    JSON.stringify((list ?? []).map((i) => i.ip ?? i.hostname)) === JSON.stringify(want.map((i) => i.ip));
  const status = createController({
    name: 'ingress-status',
    logger,
    reconciler: {
      async reconcile(key) {
        const ingress = ingresses.getIndexer().get(key);
        if (!ingress || ingress.metadata.deletionTimestamp) return;
        const current = ingress.status?.loadBalancer?.ingress;
        const handled = handlesIngress(ingress, classes.getIndexer().list(), controllerName);
        // An Ingress moved to another class loses our address, and only ours.
        const want = handled ? statusAddresses : sameAddresses(current, statusAddresses) ? [] : undefined;
        if (!want || sameAddresses(current, want)) return;
        try {
          await ingressClient.patchStatus(ingress.metadata.namespace, ingress.metadata.name!, 'merge', {
            metadata: { resourceVersion: ingress.metadata.resourceVersion },
            status: { loadBalancer: { ingress: want.length > 0 ? want : null } },
          });
        } catch (e) {
          if (isConflict(e) || isNotFound(e)) return { requeue: isConflict(e) };
          throw e;
        }
        if (want.length > 0) recorder.event(ingress, 'Normal', 'Sync', `Scheduled for sync; address ${want.map((w) => w.ip).join(', ')}`);
        logger('info', 'ingress status', { component: 'ingress', object: key, verb: 'update', addresses: want.map((w) => w.ip) });
      },
    },
  });
  status.watch(ingresses);
  classes.addEventHandler({
    onAdd: () => enqueueAll(),
    onUpdate: () => enqueueAll(),
    onDelete: () => enqueueAll(),
  });
  const enqueueAll = () => {
    for (const i of ingresses.getIndexer().list()) status.enqueue(`${i.metadata.namespace}/${i.metadata.name}`);
  };

  factory.start(informersStop.signal);
  const stopAll = async () => {
    informersStop.abort();
    loopStop.abort();
    await Promise.all([loop.stopped, factory.shutdown(), proxy.close(), statusRun]);
    await recorder.flush().catch(() => {});
  };
  const statusRun = status.start(informersStop.signal).catch((e) => logger('error', 'ingress status controller failed', { error: String(e) }));
  // One listener on the caller's signal (it is shared by every component of the server).
  const onAbort = () => informersStop.abort();
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  const synced = await factory.waitForCacheSync(informersStop.signal);
  if (!synced) {
    await stopAll();
    throw new Error('ingress controller stopped before its caches synced');
  }
  rebuild();
  let addresses: RunningIngressController['addresses'];
  try {
    addresses = await proxy.listen();
  } catch (e) {
    await stopAll();
    throw e;
  }
  logger('info', 'ingress controller serving', { component: 'ingress', http: addresses.http && `${addresses.http.address}:${addresses.http.port}`, https: addresses.https && `${addresses.https.address}:${addresses.https.port}`, ingresses: table.ingresses.length });
  const stopped = new Promise<void>((resolve) => {
    const stop = () => void stopAll().then(resolve);
    if (informersStop.signal.aborted) stop();
    else informersStop.signal.addEventListener('abort', stop, { once: true });
  });
  return { addresses, reloads: () => loop.syncCount() + 1, stopped };
}
