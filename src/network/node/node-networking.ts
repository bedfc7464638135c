// Everything network-related that runs on every node (server and agents), fed by informers:
//   service proxy     Services + EndpointSlices → IptablesProxier.sync (whole rule set, one
//                     iptables-restore transaction per change burst), rules removed on stop
//   node routes       Nodes → host-gw routes to other nodes' podCIDRs, the service CIDR to a dummy
//                     device, unreachable for unowned cluster CIDR space; removed on stop
//   network policy   NetworkPolicies + Pods + Namespaces → NetworkPolicyEnforcer.sync
//   pod CIDR          this node's spec.podCIDR (from nodeipam), for the CNI pod network
import type { Transport } from '../../client/transport.js';
import { createClient, type ResourceRef } from '../../client/client.js';
import { dropManagedFields, SharedInformerFactory, stderrLogger, type Logger, type SharedIndexInformer } from '../../client/informer.js';
import { runCommand, type CommandRunner } from '../exec.js';
import { IptablesProxier } from '../proxy/iptables-proxier.js';
import { UserspaceProxier } from '../proxy/userspace.js';
import { NetworkPolicyEnforcer } from '../netpol/enforcer.js';
import type { EndpointSlice, Namespace, NetworkPolicy, Node, Pod, Service } from '../types.js';
import { deleteInterface, desiredRoutes, ensureDummyInterface, NodeRoutes } from './routes.js';
import { startSyncLoop, type SyncLoop } from './sync-loop.js';

export const servicesRef: ResourceRef = { group: '', version: 'v1', resource: 'services', namespaced: true, kind: 'Service' };
export const endpointSlicesRef: ResourceRef = { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', namespaced: true, kind: 'EndpointSlice' };
export const nodesRef: ResourceRef = { group: '', version: 'v1', resource: 'nodes', namespaced: false, kind: 'Node' };
export const podsRef: ResourceRef = { group: '', version: 'v1', resource: 'pods', namespaced: true, kind: 'Pod' };
export const namespacesRef: ResourceRef = { group: '', version: 'v1', resource: 'namespaces', namespaced: false, kind: 'Namespace' };
export const networkPoliciesRef: ResourceRef = { group: 'networking.k8s.io', version: 'v1', resource: 'networkpolicies', namespaced: true, kind: 'NetworkPolicy' };

export interface NodeNetworkingOptions {
  transport: Transport;
  nodeName: string;
  nodeIP: string;
  /** Default 10.42.0.0/16. */
  clusterCidr?: string;
  /** Default 10.43.0.0/16. */
  serviceCidr?: string;
  /** The cluster DNS ClusterIP (10.43.0.10); informational here, the DNS component binds it. */
  clusterDns?: string;
  mode: 'iptables' | 'userspace';
  signal: AbortSignal;
  /** Runs host tools; tests run the whole node inside a network namespace through this. */
  run?: CommandRunner;
  /** iptables chain prefix (at most 7 characters). Default NAVARCH. */
  chainPrefix?: string;
  /** The dummy device the service CIDR routes to. Default navarch-svc. */
  serviceInterface?: string;
  logger?: Logger;
  /** Enforce NetworkPolicy (default true). */
  networkPolicy?: boolean;
  /** Minimum gap between proxy syncs (default 100 ms). */
  minSyncIntervalMs?: number;
}

export interface NodeNetworking {
  services: SharedIndexInformer<Service>;
  endpointSlices: SharedIndexInformer<EndpointSlice>;
  nodes: SharedIndexInformer<Node>;
  /** This node's podCIDR, once nodeipam has set it (rejects when stopped first). */
  podCidr(): Promise<string>;
  /** Resolves after the first successful proxy and route syncs (false if stopped before). */
  ready: Promise<boolean>;
  proxySyncs(): number;
  policySyncs(): number;
  /** Resolves once stopped and everything made has been removed. */
  stopped: Promise<void>;
}

export async function startNodeNetworking(options: NodeNetworkingOptions): Promise<NodeNetworking> {
  const run = options.run ?? runCommand;
  const logger = options.logger ?? stderrLogger;
  const clusterCidr = options.clusterCidr ?? '10.42.0.0/16';
  const serviceCidr = options.serviceCidr ?? '10.43.0.0/16';
  const serviceInterface = options.serviceInterface ?? 'navarch-svc';
  const client = createClient(options.transport);
  const informersStop = new AbortController();
  const factory = new SharedInformerFactory(client, { transform: dropManagedFields, logger });
  const services = factory.forResource<Service>(servicesRef);
  const endpointSlices = factory.forResource<EndpointSlice>(endpointSlicesRef);
  const nodes = factory.forResource<Node>(nodesRef);

  const enforcePolicy = options.networkPolicy ?? true;
  const policies = enforcePolicy ? factory.forResource<NetworkPolicy>(networkPoliciesRef) : undefined;
  const pods = enforcePolicy ? factory.forResource<Pod>(podsRef) : undefined;
  const namespaces = enforcePolicy ? factory.forResource<Namespace>(namespacesRef) : undefined;
  const enforcer = enforcePolicy ? new NetworkPolicyEnforcer({ chainPrefix: options.chainPrefix, run, sysctl: sysctlThrough(run) }) : undefined;

  // userspace: relays in this process listen on the ClusterIPs themselves, which therefore become
  // local addresses on the sink device (this process must live in the netns `run` acts on).
  const proxier =
    options.mode === 'iptables'
      ? new IptablesProxier({ nodeIPs: [options.nodeIP], nodeName: options.nodeName, clusterCIDR: clusterCidr, chainPrefix: options.chainPrefix, run })
      : new UserspaceProxier({ nodeName: options.nodeName });
  const serviceAddresses = new ServiceAddresses(run, serviceInterface);
  const routes = new NodeRoutes({ run });
  const loopsStop = new AbortController();

  await ensureDummyInterface(run, serviceInterface);
  // Pods reach the outside world through the node's address; inside the cluster CIDR they keep
  // their own (pod-to-pod across nodes stays un-NATed, so NetworkPolicy sees real sources).
  const masqueradeRule = ['POSTROUTING', '-s', clusterCidr, '!', '-d', clusterCidr, '-m', 'comment', '--comment', `${options.chainPrefix ?? 'NAVARCH'} pod egress`, '-j', 'MASQUERADE'];
  if ((await run('iptables', ['-w', '-t', 'nat', '-C', ...masqueradeRule])).code !== 0) {
    await run('iptables', ['-w', '-t', 'nat', '-A', ...masqueradeRule]);
  }
  const proxyLoop: SyncLoop = startSyncLoop({
    name: 'service-proxy',
    logger,
    signal: loopsStop.signal,
    minIntervalMs: options.minSyncIntervalMs,
    sync: async () => {
      const list = services.getIndexer().list();
      if (options.mode === 'userspace') await serviceAddresses.sync(list.map((svc) => svc.spec?.clusterIP).filter((ip): ip is string => !!ip && ip !== 'None' && !ip.includes(':')));
      await proxier.sync({ services: list, endpointSlices: endpointSlices.getIndexer().list() });
    },
  });
  const routeLoop: SyncLoop = startSyncLoop({
    name: 'node-routes',
    logger,
    signal: loopsStop.signal,
    minIntervalMs: options.minSyncIntervalMs,
    sync: async () => {
      await ensureDummyInterface(run, serviceInterface);
      await routes.sync(desiredRoutes({ nodeName: options.nodeName, nodes: nodes.getIndexer().list(), clusterCidr, serviceCidr, serviceInterface }));
    },
  });

  const policyLoop: SyncLoop | undefined = enforcer
    ? startSyncLoop({
        name: 'network-policy',
        logger,
        signal: loopsStop.signal,
        minIntervalMs: options.minSyncIntervalMs,
        sync: async () => {
          await enforcer.sync({ policies: policies!.getIndexer().list(), pods: pods!.getIndexer().list(), namespaces: namespaces!.getIndexer().list() });
        },
      })
    : undefined;

  const podCidrWaiters: { resolve(c: string): void; reject(e: Error): void }[] = [];
  const selfPodCidr = () => {
    const self = nodes.getIndexer().get(options.nodeName);
    return (self?.spec?.podCIDRs ?? []).find((c) => !c.includes(':')) ?? self?.spec?.podCIDR;
  };
  const onNodes = () => {
    routeLoop.kick();
    const cidr = selfPodCidr();
    if (cidr) for (const w of podCidrWaiters.splice(0)) w.resolve(cidr);
  };

  // Only kick after the first list: a sync from a half-filled cache would delete live rules.
  const whenSynced = (informer: SharedIndexInformer<any>, kick: () => void) =>
    informer.addEventHandler({ onAdd: () => informer.hasSynced() && kick(), onUpdate: () => kick(), onDelete: () => kick() });
  const kickProxy = () => services.hasSynced() && endpointSlices.hasSynced() && proxyLoop.kick();
  whenSynced(services, kickProxy);
  whenSynced(endpointSlices, kickProxy);
  whenSynced(nodes, onNodes);
  if (policyLoop) {
    const kickPolicy = () => policies!.hasSynced() && pods!.hasSynced() && namespaces!.hasSynced() && policyLoop.kick();
    for (const informer of [policies!, pods!, namespaces!]) whenSynced(informer, kickPolicy);
  }
  factory.start(informersStop.signal);

  const synced = factory.waitForCacheSync(options.signal).then((ok) => {
    if (ok) {
      proxyLoop.kick();
      policyLoop?.kick();
      onNodes();
    }
    return ok;
  });
  // NetworkPolicy readiness is not awaited: a node without br_netfilter still serves Services.
  const ready = synced.then(async (ok) => ok && (await proxyLoop.firstSync) && (await routeLoop.firstSync));

  const stopped = new Promise<void>((resolve) => {
    const stop = async () => {
      informersStop.abort();
      loopsStop.abort();
      for (const w of podCidrWaiters.splice(0)) w.reject(new Error('node networking stopped'));
      await Promise.all([proxyLoop.stopped, routeLoop.stopped, policyLoop?.stopped, factory.shutdown()]);
      await enforcer?.cleanup().catch((e) => logger('error', 'network policy cleanup failed', { error: String(e) }));
      await proxier.cleanup().catch((e) => logger('error', 'proxy cleanup failed', { error: String(e) }));
      await routes.cleanup().catch((e) => logger('error', 'route cleanup failed', { error: String(e) }));
      await deleteInterface(run, serviceInterface).catch(() => {});
      await run('iptables', ['-w', '-t', 'nat', '-D', ...masqueradeRule]).catch(() => undefined);
      resolve();
    };
    if (options.signal.aborted) void stop();
    else options.signal.addEventListener('abort', () => void stop(), { once: true });
  });

  return {
    services,
    endpointSlices,
    nodes,
    podCidr: () => {
      const cidr = selfPodCidr();
      if (cidr) return Promise.resolve(cidr);
      if (options.signal.aborted) return Promise.reject(new Error('node networking stopped'));
      return new Promise((resolve, reject) => podCidrWaiters.push({ resolve, reject }));
    },
    ready,
    proxySyncs: () => proxyLoop.syncCount(),
    policySyncs: () => policyLoop?.syncCount() ?? 0,
    stopped,
  };
}

/** Sysctls read and written with the same runner as every other tool, so they land in the node's own network namespace. */
function sysctlThrough(run: CommandRunner) {
  return {
    read: async (key: string) => {
      const r = await run('sysctl', ['-n', key.replace(/\//g, '.')]);
      return r.code === 0 ? r.stdout.trim() : undefined;
    },
    write: async (key: string, value: string) => {
      const r = await run('sysctl', ['-q', '-w', `${key.replace(/\//g, '.')}=${value}`]);
      if (r.code !== 0) throw new Error(`sysctl ${key}=${value}: ${r.stderr.trim()}`);
    },
  };
}

/** ClusterIPs as /32 addresses on the sink device, for the userspace proxier to bind. */
class ServiceAddresses {
  private readonly have = new Set<string>();

  constructor(
    private readonly run: CommandRunner,
    private readonly device: string,
  ) {}

  async sync(ips: string[]): Promise<void> {
    const want = new Set(ips);
    for (const ip of want) {
      if (this.have.has(ip)) continue;
      const r = await this.run('ip', ['addr', 'replace', `${ip}/32`, 'dev', this.device]);
      if (r.code !== 0) throw new Error(`ip addr replace ${ip}/32 dev ${this.device}: ${r.stderr.trim()}`);
      this.have.add(ip);
    }
    for (const ip of [...this.have]) {
      if (want.has(ip)) continue;
      await this.run('ip', ['addr', 'del', `${ip}/32`, 'dev', this.device]);
      this.have.delete(ip);
    }
  }
}
