// The cluster DNS component (kube-dns / CoreDNS's role): ClusterDnsServer fed by informers on
// Services, EndpointSlices and Pods, answering on the cluster DNS address (10.43.0.10, put on
// the node's service sink device) and on the node's own address — the `kube-dns` Service's
// endpoints point there, so pods on every node reach it through the service proxy.
import { createClient, type ResourceRef } from '../../client/client.js';
import { isAlreadyExists, isNotFound } from '../../client/errors.js';
import { dropManagedFields, SharedInformerFactory, stderrLogger, type Logger } from '../../client/informer.js';
import type { Transport } from '../../client/transport.js';
import { watchDnsExtraSources } from '../dns/extra-sources.js';
import { ClusterDnsServer, upstreamsFromResolvConf } from '../dns/server.js';
import { runCommand, type CommandRunner } from '../exec.js';
import type { EndpointSlice, Pod, Service } from '../types.js';
import { endpointSlicesRef, servicesRef } from './node-networking.js';
import { ensureDummyInterface } from './routes.js';
import { startSyncLoop } from './sync-loop.js';

const podsRef: ResourceRef = { group: '', version: 'v1', resource: 'pods', namespaced: true, kind: 'Pod' };
const endpointsRef: ResourceRef = { group: '', version: 'v1', resource: 'endpoints', namespaced: true, kind: 'Endpoints' };

export interface ClusterDnsOptions {
  transport: Transport;
  /** "10.43.0.10:53": the kube-dns ClusterIP and port. */
  listen: string;
  /** Also answer here (the node's InternalIP), where the kube-dns endpoints point. */
  nodeIP?: string;
  /** Port on nodeIP (default: the listen port). */
  nodePort?: number;
  nodeName?: string;
  /** Forwarding targets for names outside the cluster (default /etc/resolv.conf). */
  upstreamResolvConf?: string;
  clusterDomain?: string;
  signal: AbortSignal;
  /** Puts the listen address on this device first, unless it is already local (127/8). Default navarch-svc. */
  listenInterface?: string;
  /** ClusterIP of the kube-dns Service (default: the listen address). */
  clusterIP?: string;
  /** Create/refresh the kube-system/kube-dns Service, Endpoints and EndpointSlice (default true). */
  manageService?: boolean;
  run?: CommandRunner;
  logger?: Logger;
}

export interface ClusterDns {
  /** Where each listener actually bound (port 0 picks one). */
  addresses: { host: string; udpPort: number; tcpPort: number }[];
  /** Resolves after the first sync of records from the caches. */
  ready: Promise<boolean>;
  stopped: Promise<void>;
}

function splitHostPort(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  if (i < 0) return { host: listen, port: 53 };
  return { host: listen.slice(0, i), port: Number(listen.slice(i + 1)) };
}

export function kubeDnsService(clusterIP: string, port = 53): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'kube-dns', namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'KubeDNS' } },
    spec: {
      clusterIP,
      clusterIPs: [clusterIP],
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP', targetPort: port },
        { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: port },
      ],
    },
  };
}

export async function startClusterDns(options: ClusterDnsOptions): Promise<ClusterDns> {
  const run = options.run ?? runCommand;
  const logger = options.logger ?? stderrLogger;
  const listen = splitHostPort(options.listen);
  if (!listen.host.startsWith('127.')) await ensureDummyInterface(run, options.listenInterface ?? 'navarch-svc', [listen.host]);
  const upstreams = await upstreamsFromResolvConf(options.upstreamResolvConf ?? '/etc/resolv.conf', [listen.host, ...(options.nodeIP ? [options.nodeIP] : [])]);

  const client = createClient(options.transport);
  const factory = new SharedInformerFactory(client, { transform: dropManagedFields, logger });
  const services = factory.forResource<Service>(servicesRef);
  const slices = factory.forResource<EndpointSlice>(endpointSlicesRef);
  const pods = factory.forResource<Pod>(podsRef);

  const servers = [new ClusterDnsServer({ host: listen.host, port: listen.port, upstreams, clusterDomain: options.clusterDomain })];
  if (options.nodeIP) servers.push(new ClusterDnsServer({ host: options.nodeIP, port: options.nodePort ?? listen.port, upstreams, clusterDomain: options.clusterDomain }));
  const addresses: ClusterDns['addresses'] = [];
  try {
    for (const s of servers) addresses.push({ host: servers.indexOf(s) === 0 ? listen.host : options.nodeIP!, ...(await s.start()) });
  } catch (e) {
    for (const s of servers) await s.stop().catch(() => {});
    throw e;
  }

  const loopStop = new AbortController();
  const loop = startSyncLoop({
    name: 'cluster-dns',
    logger,
    signal: loopStop.signal,
    minIntervalMs: 50,
    sync: async () => {
      // Federation zones (a federation host serves its DNSEndpoints) and kube-dns's stubDomains/upstreamNameservers ConfigMap.
      const snapshot = { services: services.getIndexer().list(), endpointSlices: slices.getIndexer().list(), pods: pods.getIndexer().list(), ...extras.federation() };
      const forwarding = extras.forwarding();
      for (const s of servers) {
        s.setForwarding(forwarding);
        s.sync(snapshot);
      }
    },
  });
  const kick = () => factoryReady && loop.kick();
  let factoryReady = false;
  for (const informer of [services, slices, pods]) informer.addEventHandler({ onAdd: kick, onUpdate: kick, onDelete: kick });
  const informersStop = new AbortController();
  const extras = watchDnsExtraSources({ client, signal: informersStop.signal, onChange: () => kick(), logger });
  factory.start(informersStop.signal);
  // Records are served as soon as Services, slices and Pods are cached; the kube-dns ConfigMap and
  // federation zones are optional extras applied when they arrive (a 403 on them must not keep DNS down).
  const ready = factory.waitForCacheSync(options.signal).then(async (ok) => {
    if (!ok) return false;
    factoryReady = true;
    loop.kick();
    return loop.firstSync;
  });

  if (options.manageService ?? true) {
    const target = options.nodeIP ? { ip: options.nodeIP, port: addresses[1]!.udpPort } : { ip: listen.host, port: addresses[0]!.udpPort };
    ensureKubeDnsObjects(client, options.clusterIP ?? listen.host, target, options.nodeName).catch((e) => logger('error', 'kube-dns service objects', { error: String(e) }));
  }

  const stopped = new Promise<void>((resolve) => {
    const stop = async () => {
      informersStop.abort();
      loopStop.abort();
      await loop.stopped;
      await factory.shutdown();
      for (const s of servers) await s.stop().catch(() => {});
      resolve();
    };
    if (options.signal.aborted) void stop();
    else options.signal.addEventListener('abort', () => void stop(), { once: true });
  });
  return { addresses, ready, stopped };
}

/**
 * kube-system/kube-dns: the Service with the fixed ClusterIP, and — since DNS runs as a node
 * process, not a pod — its Endpoints and EndpointSlice written here, pointing at this node.
 */
export async function ensureKubeDnsObjects(client: ReturnType<typeof createClient>, clusterIP: string, target: { ip: string; port: number }, nodeName?: string): Promise<void> {
  const svcClient = client.resource<Service>(servicesRef);
  const want = kubeDnsService(clusterIP, target.port);
  try {
    await svcClient.create('kube-system', want);
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
    const have = await svcClient.get('kube-system', 'kube-dns');
    if (JSON.stringify(have.spec?.ports?.map((p) => [p.name, p.port, p.protocol, p.targetPort])) !== JSON.stringify(want.spec!.ports!.map((p) => [p.name, p.port, p.protocol, p.targetPort]))) {
      await svcClient.update({ ...have, spec: { ...have.spec, ports: want.spec!.ports } });
    }
  }
  const ports = [
    { name: 'dns', port: target.port, protocol: 'UDP' as const },
    { name: 'dns-tcp', port: target.port, protocol: 'TCP' as const },
  ];
  const slice: EndpointSlice = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'kube-dns', namespace: 'kube-system', labels: { 'kubernetes.io/service-name': 'kube-dns', 'k8s-app': 'kube-dns' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: [target.ip], conditions: { ready: true, serving: true, terminating: false }, ...(nodeName ? { nodeName } : {}) }],
    ports,
  };
  await upsert(client.resource<EndpointSlice>(endpointSlicesRef), slice, (have) => ({ ...have, metadata: { ...have.metadata, labels: slice.metadata.labels }, endpoints: slice.endpoints, ports }));
  const endpoints = {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: 'kube-dns', namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } },
    subsets: [{ addresses: [{ ip: target.ip, ...(nodeName ? { nodeName } : {}) }], ports }],
  };
  await upsert(client.resource(endpointsRef), endpoints, (have) => ({ ...have, subsets: endpoints.subsets }));
}

async function upsert<T extends { metadata: { name?: string; namespace?: string } }>(rc: { create(ns: string, o: T): Promise<T>; get(ns: string, name: string): Promise<T>; update(o: T): Promise<T> }, obj: T, merge: (have: T) => T): Promise<void> {
  try {
    await rc.create(obj.metadata.namespace!, obj);
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
    const have = await rc.get(obj.metadata.namespace!, obj.metadata.name!).catch((err) => {
      if (isNotFound(err)) return undefined;
      throw err;
    });
    if (have) await rc.update(merge(have));
  }
}
