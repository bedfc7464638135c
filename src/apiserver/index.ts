// Assembles an API server from its parts: store → watch cache → generic REST → handler → HTTPS.
// Used by `navarch server` and by tests that want a real server in-process.
import { X509Certificate } from 'node:crypto';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Store } from '../storage/types.js';
import type { ResourceDefinition } from '../api/types.js';
import { AdmissionChain, type AdmissionPlugin, type UserInfo } from './admission.js';
import { ApiHandler, type Authorizer, type NonResourceHandler, type SubresourceHandler } from './handler.js';
import { ApiMetrics, healthHandler, type HealthCheck } from './health.js';
import { createHttpsServer, type Authenticator, type ConnectHandler } from './http-server.js';
import { ResourceRegistry, type KindSemantics } from './registry.js';
import { ResourceStore, type PatchEngines, type SelectorParsers } from './resource-store.js';
import { WatchCache } from './watch-cache.js';
import type { Clock } from '../util/clock.js';
import { ApiError } from './errors.js';
import type { Auditor } from './audit/index.js';
import { createServiceAllocationRepair, type ServiceAllocationRepair } from '../controllers/serviceallocation/repair.js';

export interface ApiServerOptions {
  store: Store;
  resources: ResourceDefinition[];
  semantics: KindSemantics;
  patch: PatchEngines;
  selectors: SelectorParsers;
  clock: Clock;
  /** Without TLS material no HTTPS server is created (in-process use only, e.g. tests). */
  tls?: { keyPem: string; certPem: string; caPem: string };
  authenticator?: Authenticator;
  authorizer?: Authorizer;
  admission?: AdmissionPlugin[];
  subresources?: Record<string, SubresourceHandler>;
  nonResource?: NonResourceHandler[];
  connect?: ConnectHandler;
  extraReadyChecks?: HealthCheck[];
  /** Audit logging (src/apiserver/audit/); absent = off, as without --audit-policy-file. Closed with the server. */
  audit?: Auditor;
  /**
   * The Service ClusterIP/NodePort reservation repair loop (src/controllers/serviceallocation/),
   * run by every API server as Kubernetes' repair controllers are; false leaves it out.
   */
  serviceAllocationRepair?: { intervalMs?: number; gracePeriodMs?: number } | false;
}

export interface ApiServer {
  registry: ResourceRegistry;
  resources: ResourceStore;
  handler: ApiHandler;
  cache: WatchCache;
  metrics: ApiMetrics;
  admission: AdmissionChain;
  /** Undefined when turned off in the options. */
  serviceAllocationRepair?: ServiceAllocationRepair;
  https?: Server;
  /** Base URL once listening. */
  url: string;
  listen(port: number, host: string): Promise<string>;
  close(): Promise<void>;
}

/** Client certificates signed by the cluster CA: CN is the user, O the groups. */
export function certificateAuthenticator(caPem: string, next?: Authenticator): Authenticator {
  const ca = new X509Certificate(caPem);
  return {
    async authenticate(input) {
      if (input.peerCertificate?.raw) {
        try {
          const cert = new X509Certificate(input.peerCertificate.raw);
          const now = Date.now();
          if (cert.verify(ca.publicKey) && Date.parse(cert.validFrom) <= now && now <= Date.parse(cert.validTo)) {
            const subject = parseSubject(cert.subject);
            const groups = [...(subject.O ?? []), 'system:authenticated'];
            return { username: subject.CN?.[0] ?? '', groups } satisfies UserInfo;
          }
        } catch {
          // not ours: fall through to other credentials
        }
      }
      if (next) return next.authenticate(input);
      if (input.authorizationHeader) return null;
      return { username: 'system:anonymous', groups: ['system:unauthenticated'] };
    },
  };
}

function parseSubject(subject: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const line of subject.split('\n')) {
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const k = line.slice(0, eq);
    (out[k] ??= []).push(line.slice(eq + 1));
  }
  return out;
}

export async function createApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const registry = new ResourceRegistry(options.resources, options.semantics);
  let resourceStore: ResourceStore | undefined;
  const cache = new WatchCache(options.store, (kv) => resourceStore!.decode(kv), {
    onError: (e) => console.error(JSON.stringify({ component: 'watch-cache', level: 'error', error: e.message })),
  });
  const admission = new AdmissionChain(options.admission ?? []);
  resourceStore = new ResourceStore({ store: options.store, registry, cache, admission, patch: options.patch, selectors: options.selectors, clock: options.clock });
  const metrics = new ApiMetrics([
    { name: 'apiserver_storage_size_bytes', help: 'Size of the storage database file in bytes.', collect: () => options.store.sizeBytes() },
    { name: 'apiserver_registered_watchers', help: 'Number of currently registered watchers.', collect: () => cache.watcherCount() },
    { name: 'apiserver_storage_revision', help: 'Current storage revision.', collect: () => cache.currentRevision },
  ]);
  let listening = false;
  const storageCheck: HealthCheck = { name: 'etcd', check: async () => void (await options.store.currentRevision()) };
  const health = healthHandler({
    livez: [{ name: 'ping', check: async () => undefined }, { name: 'log', check: async () => undefined }],
    readyz: [
      { name: 'ping', check: async () => undefined },
      storageCheck,
      { name: 'informer-sync', check: async () => { if (!listening) throw new Error('not serving'); } },
      ...(options.extraReadyChecks ?? []),
    ],
  });
  const allowAll: Authorizer = { authorize: () => ({ allowed: true, reason: '' }) };
  let url = '';
  const handler = new ApiHandler({
    registry,
    resources: resourceStore,
    authorizer: options.authorizer ?? allowAll,
    clock: options.clock,
    serverAddress: () => url.replace(/^https:\/\//, ''),
    nonResource: [health, metrics.handler(), ...(options.nonResource ?? [])],
    subresources: options.subresources,
    observe: (info, status, seconds) => metrics.observe(info, status, seconds),
    audit: options.audit,
  });
  const https = options.tls
    ? createHttpsServer({
        ...options.tls,
        handler,
        authenticator: options.authenticator ?? certificateAuthenticator(options.tls.caPem),
        connect: options.connect,
      })
    : undefined;
  await cache.start();
  const services = registry.lookup('', 'v1', 'services');
  const serviceAllocationRepair =
    options.serviceAllocationRepair === false || !services
      ? undefined
      : createServiceAllocationRepair({
          store: options.store,
          listServices: async () => (await resourceStore.list(services, '', {})).items,
          clock: options.clock,
          ...options.serviceAllocationRepair,
        });
  serviceAllocationRepair?.start();
  return {
    registry,
    resources: resourceStore,
    handler,
    cache,
    metrics,
    admission,
    serviceAllocationRepair,
    https,
    get url() {
      return url;
    },
    listen(port, host) {
      return new Promise((resolve, reject) => {
        if (!https) return reject(new Error('no TLS material: this API server is in-process only'));
        https.once('error', reject);
        https.listen(port, host, () => {
          https.off('error', reject);
          const address = https.address() as AddressInfo;
          const h = address.family === 'IPv6' ? `[${address.address === '::' ? '::1' : address.address}]` : address.address === '0.0.0.0' ? '127.0.0.1' : address.address;
          url = `https://${h}:${address.port}`;
          listening = true;
          resolve(url);
        });
      });
    },
    async close() {
      listening = false;
      serviceAllocationRepair?.stop();
      cache.stop();
      if (https?.listening) {
        await new Promise<void>((resolve) => {
          https.close(() => resolve());
          https.closeAllConnections();
        });
      }
      // After the listener: the last requests' events are in the log.
      await options.audit?.close();
    },
  };
}

export { ApiError };
