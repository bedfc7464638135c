// How federation controllers reach member clusters. The implementation (members.ts's
// `createMemberClusters`, built from KubeFedCluster objects and their Secrets) belongs to the
// federation core; replica scheduling and DNS only depend on this interface.
import type { KubeFedCluster } from './api.js';
import type { Client } from '../client/client.js';
import type { KubeObject } from '../api/types.js';
import { createClient } from '../client/client.js';
import type { Clock } from '../client/clock.js';
import type { SharedInformerFactory, Logger } from '../client/informer.js';
import { createHttpTransport, type Transport } from '../client/transport.js';
import { federationSystemNamespace, kubeFedClustersResource, secretsResource } from './api.js';

export interface MemberCluster {
  name: string;
  /** The KubeFedCluster object as last seen in the host. */
  cluster: KubeFedCluster;
  /** A client for the member's API server (bearer token from the cluster's Secret). */
  client: Client;
  /** Ready condition True as last probed by the cluster health controller. */
  ready: boolean;
}

export interface MemberClusters {
  /** Every joined member, ready or not. */
  list(): MemberCluster[];
  get(name: string): MemberCluster | undefined;
  /** Called after the set of members or any member's readiness changed. Returns an unsubscribe function. */
  onChange(handler: () => void): () => void;
}

/** What the federation index hands every controller factory (health, sync, scheduling, DNS). */
export interface FederationControllerDeps {
  host: Client;
  members: MemberClusters;
  clock: Clock;
  logger: Logger;
  /** Aborts when the federation stops (leadership lost, CRD removed, shutdown). */
  signal: AbortSignal;
}

// ---- the implementation, built from KubeFedCluster objects and their Secrets in the host ----

/** How to reach one member: what a KubeFedCluster and its Secret say. */
export interface MemberEndpoint {
  server: string;
  caPem?: string;
  bearerToken?: string;
  insecureSkipTlsVerify?: boolean;
}

export interface MemberClustersOptions {
  /** Informers of the host (the KubeFedCluster and Secret informers are taken from it). */
  informers: SharedInformerFactory;
  /** Builds a transport to one member; default: HTTPS with the caBundle and bearer token. */
  transportFor?: (endpoint: MemberEndpoint, cluster: KubeFedCluster) => Transport;
  clock?: Clock;
  logger?: Logger;
}

export interface RunningMemberClusters extends MemberClusters {
  /** True once KubeFedClusters and Secrets are listed. */
  hasSynced(): boolean;
  waitForSync(signal?: AbortSignal): Promise<boolean>;
}

/** A bounded request timeout: a member that stopped answering must not stall the controllers. */
const memberRequestTimeoutMs = 5_000;

export function defaultMemberTransport(endpoint: MemberEndpoint): Transport {
  return createHttpTransport({ ...endpoint, userAgent: 'navarch-federation', requestTimeoutMs: memberRequestTimeoutMs });
}

export function readyOf(cluster: KubeFedCluster): boolean {
  return cluster.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** The endpoint a KubeFedCluster and its Secret describe, or the reason it cannot be built. */
export function memberEndpoint(cluster: KubeFedCluster, secret: KubeObject | undefined): MemberEndpoint | string {
  if (!cluster.spec?.apiEndpoint) return 'spec.apiEndpoint is empty';
  if (!secret) return `secret ${federationSystemNamespace}/${cluster.spec.secretRef?.name} not found`;
  const token = (secret as any).data?.token as string | undefined;
  if (!token) return `secret ${secret.metadata.name} has no "token" key`;
  return {
    server: cluster.spec.apiEndpoint,
    caPem: cluster.spec.caBundle ? Buffer.from(cluster.spec.caBundle, 'base64').toString('utf8') : undefined,
    bearerToken: Buffer.from(token, 'base64').toString('utf8').trim(),
    insecureSkipTlsVerify: cluster.spec.disabledTLSValidations?.includes('*') || undefined,
  };
}

interface Entry {
  member: MemberCluster;
  /** What the client was built from; a new one is built only when it changes. */
  fingerprint: string;
  /** What other controllers care about (labels for placement, readiness). */
  summary: string;
}

export function createMemberClusters(options: MemberClustersOptions): RunningMemberClusters {
  const logger = options.logger ?? (() => {});
  const transportFor = options.transportFor ?? ((endpoint: MemberEndpoint) => defaultMemberTransport(endpoint));
  const clusters = options.informers.forResource<KubeFedCluster>(kubeFedClustersResource, { namespace: federationSystemNamespace });
  const secrets = options.informers.forResource<KubeObject>(secretsResource, { namespace: federationSystemNamespace });
  const entries = new Map<string, Entry>();
  const handlers = new Set<() => void>();

  // Recomputed from the caches on every event: the member set is small and this keeps it level-triggered.
  const rebuild = () => {
    if (!clusters.hasSynced() || !secrets.hasSynced()) return;
    let changed = false;
    const seen = new Set<string>();
    for (const cluster of clusters.getIndexer().list()) {
      const name = cluster.metadata.name!;
      seen.add(name);
      const secret = secrets.getIndexer().get(`${federationSystemNamespace}/${cluster.spec?.secretRef?.name}`);
      const endpoint = memberEndpoint(cluster, secret);
      const fingerprint = JSON.stringify(endpoint);
      const ready = typeof endpoint !== 'string' && readyOf(cluster);
      const summary = JSON.stringify([ready, cluster.metadata.labels ?? {}, fingerprint]);
      const previous = entries.get(name);
      let client = previous?.member.client;
      if (!client || previous!.fingerprint !== fingerprint) {
        if (typeof endpoint === 'string') {
          logger('warn', 'member cluster cannot be reached', { cluster: name, reason: endpoint });
          client = createClient(unreachableTransport(`member cluster ${name}: ${endpoint}`), { clock: options.clock });
        } else {
          client = createClient(transportFor(endpoint, cluster), { clock: options.clock, maxThrottleRetries: 2 });
        }
      }
      entries.set(name, { member: { name, cluster, client, ready }, fingerprint, summary });
      if (previous?.summary !== summary) changed = true;
    }
    for (const name of [...entries.keys()]) {
      if (!seen.has(name)) {
        entries.delete(name);
        changed = true;
      }
    }
    if (changed) for (const handler of [...handlers]) handler();
  };
  for (const informer of [clusters, secrets]) {
    informer.addEventHandler({ onAdd: rebuild, onUpdate: rebuild, onDelete: rebuild });
  }

  return {
    list: () => [...entries.values()].map((e) => e.member),
    get: (name) => entries.get(name)?.member,
    onChange(handler) {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
    hasSynced: () => clusters.hasSynced() && secrets.hasSynced(),
    async waitForSync(signal) {
      const synced = (await clusters.waitForSync(signal)) && (await secrets.waitForSync(signal));
      if (synced) rebuild();
      return synced;
    },
  };
}

/** A transport for a member whose KubeFedCluster or Secret is incomplete: every request fails as unreachable. */
function unreachableTransport(reason: string): Transport {
  return {
    request: () => Promise.reject(new Error(reason)),
    watch: (_req, _onEvent, onClose) => {
      queueMicrotask(() => onClose(new Error(reason)));
      return { stop() {} };
    },
  };
}
