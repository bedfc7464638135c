// `navarch server`: one process with the API server, controllers, scheduler and a node agent
// (like k3s). This file only wires components together; each lives in its own folder.
import { mkdir } from 'node:fs/promises';
import { hostname, networkInterfaces, homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { ensureClusterPki, clusterSecretBundle, type ClusterPki } from '../apiserver/auth/cluster-pki.js';
import { sealSecrets, unsealSecrets } from '../apiserver/auth/seal.js';
import { existsSync, readFileSync } from 'node:fs';
import { writeKubeconfig } from '../apiserver/auth/kubeconfig.js';
import { builtinSemantics } from '../apiserver/builtin-semantics.js';
import { createApiServer, type ApiServer } from '../apiserver/index.js';
import { patchEngines } from '../apiserver/patch-engines.js';
import { selectorParsers } from '../apiserver/selector-parsers.js';
import { bootstrapClusterObjects, clusterInfoObjects } from '../apiserver/bootstrap.js';
import { renderKubeconfig } from '../apiserver/auth/kubeconfig.js';
import { subresourceHandlers } from '../apiserver/subresources.js';
import { defaultAdmission } from '../apiserver/admission-plugins.js';
import { builtinResources } from '../api/resources.js';
import { createSchemaRegistry } from '../api/schema/index.js';
import { openApiHandler } from '../apiserver/openapi-handler.js';
import { createStore, createMaintenance, SqliteStore } from '../storage/index.js';
import { reviewHandlers } from '../apiserver/reviews.js';
import { tokenRequestHandler } from '../apiserver/token-request.js';
import { createServiceAccountTokenIssuer } from '../apiserver/auth/service-account-token.js';
import { createSecurity, defaultRbacObjects, type Security } from '../apiserver/security.js';
import type { Store } from '../storage/types.js';
import { systemClock } from '../util/clock.js';
import { flag, flagList, type ParsedArgs } from './args.js';
import { log } from '../util/log.js';
import { dashboardHandler } from '../dashboard/handler.js';
import { dashboardRbacObjects } from '../dashboard/rbac.js';
import { startControlPlane } from './control-plane.js';

export interface ServerConfig {
  dataDir: string;
  port: number;
  bindAddress: string;
  datastore: 'sqlite' | 'etcd' | 'memory';
  etcdEndpoints: string[];
  nodeName: string;
  disableAgent: boolean;
  disable: string[];
  runtime: string;
  tokenFile?: string;
}

export function defaultDataDir(): string {
  return process.env.NAVARCH_DATA_DIR ?? join(homedir(), '.navarch');
}

export function serverConfigFromArgs(args: ParsedArgs): ServerConfig {
  const datastore = flag(args, 'datastore', 'sqlite') as ServerConfig['datastore'];
  if (!['sqlite', 'etcd', 'memory'].includes(datastore)) throw new Error(`--datastore must be sqlite, etcd or memory (got "${datastore}")`);
  return {
    dataDir: resolve(flag(args, 'data-dir') ?? defaultDataDir()),
    port: Number(flag(args, 'port', '6443')),
    bindAddress: flag(args, 'bind-address', '0.0.0.0')!,
    datastore,
    etcdEndpoints: flagList(args, 'etcd-endpoints'),
    nodeName: flag(args, 'node-name') ?? hostname().toLowerCase(),
    disableAgent: args.flags.has('disable-agent'),
    disable: flagList(args, 'disable'),
    runtime: flag(args, 'runtime', 'runc')!,
    tokenFile: flag(args, 'token-file'),
  };
}

function localAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (!a.internal) out.push(a.address);
  return out;
}

const sealedSecretsKey = '/navarch/bootstrap/cluster-secrets';

/**
 * The cluster CA and signing keys live sealed (encrypted with the join token) in the datastore,
 * so every server sharing it — the HA path over etcd — serves the same cluster. The first server
 * seals its secrets there; the next ones need the same token (--token-file) to unseal them.
 */
async function clusterPkiFromDatastore(store: Store, config: ServerConfig): Promise<ClusterPki> {
  const pkiOptions = { hostNames: [hostname()], ips: localAddresses() };
  const token = config.tokenFile ? readFileSync(config.tokenFile, 'utf8').trim() : undefined;
  const { kv } = await store.get(sealedSecretsKey);
  if (kv) {
    const localToken = token ?? (existsSync(join(config.dataDir, 'token')) ? readFileSync(join(config.dataDir, 'token'), 'utf8').trim() : undefined);
    if (!localToken) {
      throw new Error(`this datastore already holds a cluster; start with --token-file pointing at that cluster's token (the first server's <data-dir>/token)`);
    }
    let bundle;
    try {
      bundle = unsealSecrets(kv.value, localToken);
    } catch {
      throw new Error(`the token does not unlock the cluster secrets in this datastore; use the token of the server that created it (its <data-dir>/token)`);
    }
    return ensureClusterPki(config.dataDir, { ...pkiOptions, bundle, token: localToken });
  }
  const pki = await ensureClusterPki(config.dataDir, { ...pkiOptions, token });
  const created = await store.create(sealedSecretsKey, sealSecrets(clusterSecretBundle(pki), pki.token));
  if (!created.succeeded) {
    // Another server sealed its secrets first: ours must not be used.
    throw new Error('another server initialised this datastore at the same moment; start this server again with --token-file <that server\'s token>');
  }
  return pki;
}

export interface RunningServer {
  api: ApiServer;
  store: Store;
  url: string;
  kubeconfigPath: string;
  stop(): Promise<void>;
}

export async function startServer(config: ServerConfig): Promise<RunningServer> {
  const started = Date.now();
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const store = await createStore({
    backend: config.datastore,
    path: join(config.dataDir, 'db', 'state.db'),
    etcdEndpoints: config.etcdEndpoints,
  });
  const pki = await clusterPkiFromDatastore(store, config);
  let apiRef: ApiServer | undefined;
  const tokenIssuer = createServiceAccountTokenIssuer({ privateKeyPem: pki.serviceAccountKeyPem, issuer: 'https://kubernetes.default.svc.cluster.local' });
  let security: Security | undefined;
  // /readyz turns green only once the kubeconfig users need is in place.
  let ready = false;
  const schemas = createSchemaRegistry({ kinds: builtinResources });
  const api = await createApiServer({
    admission: defaultAdmission({ resources: () => apiRef!.resources, registry: () => apiRef!.registry }),
    nonResource: [(request) => openApiHandler(apiRef!.registry, schemas, () => [])(request), ...(config.disable.includes('dashboard') ? [] : [dashboardHandler()])],
    subresources: {
      ...subresourceHandlers({ registry: () => apiRef!.registry, resources: () => apiRef!.resources, now: () => new Date() }),
      '/serviceaccounts/token': tokenRequestHandler({ issuer: () => tokenIssuer, resources: () => apiRef!.resources, registry: () => apiRef!.registry }),
      ...reviewHandlers({ authorizer: () => security!.authorizer, authenticator: () => security!.authenticator, rules: () => security!.rules }),
    },
    store,
    resources: builtinResources,
    semantics: builtinSemantics(schemas),
    patch: patchEngines(),
    selectors: selectorParsers,
    clock: systemClock,
    tls: { keyPem: pki.serving.keyPem, certPem: pki.serving.certPem, caPem: pki.ca.certPem },
    extraReadyChecks: [{ name: 'kubeconfig', check: async () => { if (!ready) throw new Error('starting'); } }],
    authenticator: { authenticate: (input) => security!.authenticator.authenticate(input) },
    authorizer: { authorize: (attributes) => security!.authorizer.authorize(attributes) },
  });
  security = createSecurity({ cache: api.cache, registry: api.registry, caPem: pki.ca.certPem, serviceAccountPublicKeyPem: pki.serviceAccountPublicKeyPem, joinToken: pki.token });
  apiRef = api;
  await bootstrapClusterObjects(api, [...defaultRbacObjects(), ...dashboardRbacObjects(), ...clusterInfoObjects(pki.ca.certPem, `https://${hostname()}:${config.port}`, renderKubeconfig)]);
  const url = await api.listen(config.port, config.bindAddress);
  const kubeconfigPath = join(config.dataDir, 'kubeconfig');
  await writeKubeconfig(kubeconfigPath, {
    server: `https://127.0.0.1:${new URL(url).port}`,
    caPem: pki.ca.certPem,
    clientCertPem: pki.admin.certPem,
    clientKeyPem: pki.admin.keyPem,
  });
  const components = new AbortController();
  startControlPlane({ api, ca: pki.ca, disabled: new Set(config.disable) }, components.signal);
  ready = true;
  // Old revisions are compacted (keeping 5 minutes of history for watch resumption) and the
  // WAL checkpointed, so the database file does not grow without bound.
  let maintenanceTimer: NodeJS.Timeout | undefined;
  if (store instanceof SqliteStore) {
    const maintenance = createMaintenance(store, { retainMinutes: 5 });
    maintenanceTimer = setInterval(() => {
      maintenance.run().catch((e) => log.warn('storage', 'maintenance failed', { error: (e as Error).message }));
    }, 60_000);
    maintenanceTimer.unref();
  }
  log.info('apiserver', 'serving', { url, dataDir: config.dataDir, datastore: config.datastore, startupMs: Date.now() - started });
  return {
    api,
    store,
    url,
    kubeconfigPath,
    async stop() {
      components.abort();
      if (maintenanceTimer) clearInterval(maintenanceTimer);
      await api.close();
      await store.close();
    },
  };
}

export async function runServerCommand(args: ParsedArgs): Promise<void> {
  const config = serverConfigFromArgs(args);
  const server = await startServer(config);
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('server', 'shutting down', { signal });
    await server.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}
