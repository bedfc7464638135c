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
import { startCustomResourceDefinitions, type CustomResourceDefinitions } from '../apiserver/crd/index.js';
import type { NonResourceHandler } from '../apiserver/handler.js';
import { createStore, createMaintenance, SqliteStore } from '../storage/index.js';
import { reviewHandlers } from '../apiserver/reviews.js';
import { tokenRequestHandler } from '../apiserver/token-request.js';
import { createServiceAccountTokenIssuer } from '../apiserver/auth/service-account-token.js';
import { createSecurity, defaultRbacObjects, type Security } from '../apiserver/security.js';
import type { Store } from '../storage/types.js';
import { systemClock } from '../util/clock.js';
import { flag, flagList, type ParsedArgs } from './args.js';
import { parseEvictionThresholds } from '../kubelet/eviction.js';
import { log } from '../util/log.js';
import { dashboardHandler } from '../dashboard/handler.js';
import { dashboardRbacObjects } from '../dashboard/rbac.js';
import { localPathStorageObjects } from '../controllers/volume/local-path.js';
import { defaultStorageClassAdmission } from '../controllers/volume/default-storage-class.js';
import { firstServiceIP, startControlPlane } from './control-plane.js';
import type { Transport } from '../client/transport.js';
import { parseNodeGroupSpec, runSimulatedClusterAutoscaler, type NodeGroupSpec } from '../controllers/clusterautoscaler/index.js';
import { inProcessTransport } from '../apiserver/in-process-transport.js';
import { issueServingCertificate, issueClientCertificate } from '../apiserver/auth/pki.js';
import { createStreamingProxy } from '../apiserver/streaming-proxy.js';
import { createMetricsApi, kubeletSummaryClient } from '../apiserver/metrics-api/metrics-api.js';
import { storageKey } from '../apiserver/resource-store.js';
import { startClusterDns } from '../network/node/cluster-dns.js';
import { hostNetworkNames, primaryNodeIP, startNode, type RunningNode, type RuntimeKind } from './node.js';
import { ingressBootstrapObjects, startIngressController } from '../network/ingress/controller.js';
import { createServiceLoadBalancer } from '../network/servicelb/service-lb.js';
import { NAVARCH_INGRESS_USER, NAVARCH_SERVICE_LB_USER } from '../apiserver/authz/bootstrap-policy.js';
import { registerCertificateExpiryGauge, rotateCertificates, startCertificateRotation, type RotationDeps } from './ops/cert-rotation.js';
import type { RenewalResult } from '../apiserver/auth/cluster-pki.js';
import { startFederation } from '../federation/index.js';
import { auditorFromFlags, type AuditFlags } from '../apiserver/audit/index.js';

export interface ServerConfig {
  dataDir: string;
  port: number;
  bindAddress: string;
  datastore: 'sqlite' | 'etcd' | 'memory';
  etcdEndpoints: string[];
  nodeName: string;
  disableAgent: boolean;
  disable: string[];
  runtime: RuntimeKind;
  tokenFile?: string;
  nodeIP: string;
  clusterCidr: string;
  serviceCidr: string;
  clusterDns: string;
  nodeLabels: Record<string, string>;
  nodeTaints: { key: string; value?: string; effect: string }[];
  /** The kubelet's streaming port (logs/exec/port-forward); 0 picks a free one. */
  kubeletPort: number;
  /** Prefix of host-wide network names (bridge, service device, iptables chains). */
  networkName: string;
  /** Port cluster DNS answers on at the node's address (the kube-dns endpoints); 53 by default. */
  clusterDnsNodePort: number;
  /** The kubelet's --eviction-hard; undefined keeps Kubernetes' defaults. */
  evictionHard?: string;
  /** The built-in ingress controller's listeners (--ingress-http-port/--ingress-https-port, 0 = off). */
  ingressHttpPort: number;
  ingressHttpsPort: number;
  ingressBindAddress: string;
  /** --cluster-autoscaler group=NAME,min=0,max=5,cpu=2,memory=4Gi[,label=k=v] (repeatable): simulated node groups; none = autoscaler off. */
  clusterAutoscaler?: NodeGroupSpec[];
  /** --federation-health-period SECONDS: how often a federation host probes its members (kubefed's 10 s). */
  federationHealthPeriodSeconds?: number;
  /** --audit-policy-file, --audit-log-path, --audit-log-maxage/-maxbackup/-maxsize; no policy = auditing off. */
  audit?: AuditFlags;
}

/** The --audit-* flags, as kube-apiserver spells them. */
export function auditFlagsFromArgs(args: ParsedArgs): AuditFlags {
  const count = (name: string) => {
    const v = flag(args, name);
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v)) throw new Error(`--${name} must be a non-negative whole number (got "${v}")`);
    return Number(v);
  };
  return {
    policyFile: flag(args, 'audit-policy-file'),
    logPath: flag(args, 'audit-log-path'),
    logMaxAgeDays: count('audit-log-maxage'),
    logMaxBackups: count('audit-log-maxbackup'),
    logMaxSizeMB: count('audit-log-maxsize'),
  };
}

/** --node-label k=v (repeatable) */
export function parseNodeLabels(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq <= 0) throw new Error(`--node-label must be key=value (got "${v}")`);
    out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}

/** --node-taint key=value:Effect or key:Effect (repeatable) */
export function parseNodeTaints(values: string[]): { key: string; value?: string; effect: string }[] {
  return values.map((v) => {
    const m = /^([^=:]+)(?:=([^:]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$/.exec(v);
    if (!m) throw new Error(`--node-taint must be key[=value]:NoSchedule|PreferNoSchedule|NoExecute (got "${v}")`);
    return m[2] !== undefined ? { key: m[1], value: m[2], effect: m[3] } : { key: m[1], effect: m[3] };
  });
}

export function runtimeFromArgs(args: ParsedArgs): RuntimeKind {
  const runtime = flag(args, 'runtime', 'runc')!;
  if (!['runc', 'crun', 'process', 'fake'].includes(runtime)) throw new Error(`--runtime must be runc, crun, process or fake (got "${runtime}")`);
  return runtime as RuntimeKind;
}

export function defaultDataDir(): string {
  return process.env.NAVARCH_DATA_DIR ?? join(homedir(), '.navarch');
}

/** --eviction-hard memory.available<100Mi,nodefs.available<10%: checked here so a typo fails before anything starts. */
export function evictionHardFromArgs(args: ParsedArgs): string | undefined {
  const value = args.flags.has('eviction-hard') ? (flag(args, 'eviction-hard') ?? '') : undefined;
  if (value !== undefined) {
    try { parseEvictionThresholds(value); } catch (err) { throw new Error(`--eviction-hard: ${(err as Error).message}`); }
  }
  return value;
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
    runtime: runtimeFromArgs(args),
    tokenFile: flag(args, 'token-file'),
    nodeIP: flag(args, 'node-ip') ?? primaryNodeIP(),
    clusterCidr: flag(args, 'cluster-cidr', '10.42.0.0/16')!,
    serviceCidr: flag(args, 'service-cidr', '10.43.0.0/16')!,
    clusterDns: flag(args, 'cluster-dns', '10.43.0.10')!,
    nodeLabels: parseNodeLabels(flagList(args, 'node-label')),
    nodeTaints: parseNodeTaints(flagList(args, 'node-taint')),
    kubeletPort: Number(flag(args, 'kubelet-port', '10250')),
    networkName: flag(args, 'network-name', 'navarch')!,
    clusterDnsNodePort: Number(flag(args, 'cluster-dns-node-port', '53')),
    evictionHard: evictionHardFromArgs(args),
    ingressHttpPort: Number(flag(args, 'ingress-http-port', '80')),
    ingressHttpsPort: Number(flag(args, 'ingress-https-port', '443')),
    ingressBindAddress: flag(args, 'ingress-bind-address') ?? flag(args, 'bind-address', '0.0.0.0')!,
    // Raw values: each one is a comma-separated group spec, so flagList's comma split would break it.
    clusterAutoscaler: (args.flags.get('cluster-autoscaler') ?? []).map(parseNodeGroupSpec),
    federationHealthPeriodSeconds: Number(flag(args, 'federation-health-period', '10')),
    audit: auditFlagsFromArgs(args),
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
  // The first service address (the kubernetes Service) is in the serving certificate, as in Kubernetes.
  const pkiOptions = { hostNames: [hostname()], ips: [...localAddresses(), firstServiceIP(config.serviceCidr)] };
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
  /** One certificate rotation pass now (the 12-hourly timer runs the same). */
  rotateCertificates(): Promise<RenewalResult>;
  stop(): Promise<void>;
}

export async function startServer(config: ServerConfig): Promise<RunningServer> {
  const started = Date.now();
  // Before anything starts: an invalid policy stops the server with the file and field named.
  const audit = auditorFromFlags(config.audit ?? {}, (message) => log.warn('audit', message));
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const store = await createStore({
    backend: config.datastore,
    path: join(config.dataDir, 'db', 'state.db'),
    etcdEndpoints: config.etcdEndpoints,
  });
  const pki = await clusterPkiFromDatastore(store, config);
  let apiRef: ApiServer | undefined;
  // logs/exec/attach/port-forward go to the pod's kubelet, which trusts this client certificate.
  const kubeletClient = await issueClientCertificate(pki.ca, { user: 'kube-apiserver-kubelet-client', groups: ['system:masters'] });
  const cached = (resource: string, namespace: string, name: string) => {
    const r = apiRef!.registry.lookup('', 'v1', resource)!;
    return Promise.resolve(apiRef!.cache.get(storageKey(r, namespace, name))?.object);
  };
  const tokenIssuer = createServiceAccountTokenIssuer({ privateKeyPem: pki.serviceAccountKeyPem, issuer: 'https://kubernetes.default.svc.cluster.local' });
  let security: Security | undefined;
  // /readyz turns green only once the kubeconfig users need is in place.
  let ready = false;
  const schemas = createSchemaRegistry({ kinds: builtinResources });
  // CRDs are served by a controller started once the server listens; OpenAPI includes the established ones.
  let crds: CustomResourceDefinitions | undefined;
  let openApi: NonResourceHandler | undefined;
  // metrics.k8s.io (kubectl top, the HPA) scrapes kubelets with the streaming proxy's client certificate.
  const listCore = async (resource: string, namespace: string) => (await apiRef!.resources.list(apiRef!.registry.lookup('', 'v1', resource)!, namespace, {})).items;
  const metricsApi = createMetricsApi({
    listNodes: () => listCore('nodes', ''),
    listPods: (namespace) => listCore('pods', namespace),
    fetchSummary: kubeletSummaryClient({ caPem: pki.ca.certPem, clientCertPem: kubeletClient.certPem, clientKeyPem: kubeletClient.keyPem }),
    now: () => Date.now(),
    onScrapeError: (node, error) => console.error(JSON.stringify({ component: 'metrics-api', level: 'warn', node, error: error.message })),
  });
  const api = await createApiServer({
    admission: [
      ...defaultAdmission({ resources: () => apiRef!.resources, registry: () => apiRef!.registry, serviceCidr: config.serviceCidr }),
      defaultStorageClassAdmission({ resources: () => apiRef!.resources, registry: () => apiRef!.registry }),
    ],
    nonResource: [(request) => (openApi ??= openApiHandler(apiRef!.registry, schemas, () => crds?.customResourceDefinitions() ?? []))(request), ...(config.disable.includes('dashboard') ? [] : [dashboardHandler()])],
    subresources: {
      ...subresourceHandlers({ registry: () => apiRef!.registry, resources: () => apiRef!.resources, now: () => new Date() }),
      '/serviceaccounts/token': tokenRequestHandler({ issuer: () => tokenIssuer, resources: () => apiRef!.resources, registry: () => apiRef!.registry }),
      ...reviewHandlers({ authorizer: () => security!.authorizer, authenticator: () => security!.authenticator, rules: () => security!.rules }),
      ...metricsApi.handlers,
    },
    store,
    resources: builtinResources,
    semantics: builtinSemantics(schemas, builtinResources),
    patch: patchEngines(),
    selectors: selectorParsers,
    clock: systemClock,
    tls: { keyPem: pki.serving.keyPem, certPem: pki.serving.certPem, caPem: pki.ca.certPem },
    connect: createStreamingProxy({
      getPod: (namespace, name) => cached('pods', namespace, name),
      getNode: (name) => cached('nodes', '', name),
      caPem: pki.ca.certPem,
      clientCertPem: kubeletClient.certPem,
      clientKeyPem: kubeletClient.keyPem,
    }),
    extraReadyChecks: [
      { name: 'kubeconfig', check: async () => { if (!ready) throw new Error('starting'); } },
      { name: 'poststarthook/crd-informer-synced', check: async () => { if (!crds?.hasSynced()) throw new Error('CRDs not yet served'); } },
    ],
    authenticator: { authenticate: (input) => security!.authenticator.authenticate(input) },
    authorizer: { authorize: (attributes) => security!.authorizer.authorize(attributes) },
    audit,
  });
  security = createSecurity({ cache: api.cache, registry: api.registry, caPem: pki.ca.certPem, serviceAccountPublicKeyPem: pki.serviceAccountPublicKeyPem, joinToken: pki.token });
  apiRef = api;
  const ingressEnabled = !config.disable.includes('ingress');
  await bootstrapClusterObjects(api, [
    ...defaultRbacObjects(),
    ...dashboardRbacObjects(),
    ...localPathStorageObjects(),
    ...clusterInfoObjects(pki.ca.certPem, `https://${hostname()}:${config.port}`, renderKubeconfig),
    ...(ingressEnabled ? ingressBootstrapObjects() : []),
  ]);
  const url = await api.listen(config.port, config.bindAddress);
  const kubeconfigPath = join(config.dataDir, 'kubeconfig');
  await writeKubeconfig(kubeconfigPath, {
    server: `https://127.0.0.1:${new URL(url).port}`,
    caPem: pki.ca.certPem,
    clientCertPem: pki.admin.certPem,
    clientKeyPem: pki.admin.keyPem,
  });
  registerCertificateExpiryGauge(api.metrics.registry, () => pki);
  // Leaf certificates are renewed in place (and re-read after `navarch certificate rotate`),
  // so a long-running server never serves an expired certificate and needs no restart.
  const rotationDeps: RotationDeps = {
    pki,
    https: api.https,
    onAdminRenewed: (renewed) =>
      writeKubeconfig(kubeconfigPath, { server: `https://127.0.0.1:${new URL(url).port}`, caPem: renewed.ca.certPem, clientCertPem: renewed.admin.certPem, clientKeyPem: renewed.admin.keyPem }),
    log: (msg, fields) => log.info('certificates', msg, fields),
  };
  const rotation = startCertificateRotation({ ...rotationDeps, onError: (e) => log.warn('certificates', 'rotation failed', { error: e.message }) });
  const components = new AbortController();
  crds = startCustomResourceDefinitions(api, components.signal, { schemas });
  startControlPlane(
    {
      api,
      ca: pki.ca,
      disabled: new Set(config.disable),
      apiAddresses: [config.nodeIP],
      apiPort: Number(new URL(url).port),
      clusterCidr: config.clusterCidr,
      serviceCidr: config.serviceCidr,
      localNodeNames: config.disableAgent ? [] : [config.nodeName],
      storagePath: join(config.dataDir, 'storage'),
      components: [
        {
          // Like k3s' servicelb, on one server at a time; without Ready nodes Services get this server's address.
          name: 'servicelb',
          lease: 'kube-controller-manager',
          user: { username: NAVARCH_SERVICE_LB_USER, groups: ['system:authenticated'] },
          start: (transport, signal) => createServiceLoadBalancer({ transport, fallbackAddresses: [config.nodeIP] }).start(signal),
        },
        {
          // Idle (one CRD watch) unless `navarch federation init` made this cluster a federation host.
          name: 'federation',
          lease: 'kube-controller-manager',
          user: { username: 'system:navarch:federation', groups: ['system:masters', 'system:authenticated'] },
          start: (transport: Transport, signal: AbortSignal) =>
            startFederation({ transport, signal, healthPeriodMs: (config.federationHealthPeriodSeconds ?? 10) * 1000 }).done,
        },
        ...(config.clusterAutoscaler?.length
          ? [
              {
                // Its hollow nodes live in this process: on one server at a time, like the controllers.
                name: 'cluster-autoscaler',
                lease: 'kube-controller-manager',
                user: { username: 'system:cluster-autoscaler', groups: ['system:masters', 'system:authenticated'] },
                start: (transport: Transport, signal: AbortSignal) =>
                  runSimulatedClusterAutoscaler(
                    {
                      transport,
                      nodeTransport: (name) => inProcessTransport(api.handler, { username: `system:node:${name}`, groups: ['system:nodes', 'system:authenticated'] }, `navarch-kubelet/${name}`),
                      groups: config.clusterAutoscaler!,
                      dataDir: join(config.dataDir, 'hollow-nodes'),
                      clusterDns: config.clusterDns,
                    },
                    signal,
                  ),
              },
            ]
          : []),
      ],
    },
    components.signal,
  );
  // The ingress proxy is data plane: every server runs one (no leader election), on its own address.
  if (ingressEnabled && (config.ingressHttpPort > 0 || config.ingressHttpsPort > 0)) {
    startIngressController(
      {
        transport: inProcessTransport(api.handler, { username: NAVARCH_INGRESS_USER, groups: ['system:authenticated'] }, 'navarch-ingress'),
        http: config.ingressHttpPort > 0 ? { host: config.ingressBindAddress, port: config.ingressHttpPort } : undefined,
        https: config.ingressHttpsPort > 0 ? { host: config.ingressBindAddress, port: config.ingressHttpsPort } : undefined,
        statusAddresses: [config.nodeIP],
      },
      components.signal,
    ).catch((e) => log.error('ingress', 'ingress controller failed to start', { error: (e as Error).message }));
  }
  // The node side of an all-in-one server: the same kubelet an agent runs, as system:node:<name>.
  let node: RunningNode | undefined;
  if (!config.disableAgent) {
    const nodeUser = { username: `system:node:${config.nodeName}`, groups: ['system:nodes', 'system:authenticated'] };
    const serving = await issueServingCertificate(pki.ca, { hostNames: [config.nodeName, hostname()], ips: [config.nodeIP, '127.0.0.1'] });
    node = await startNode(
      {
        dataDir: config.dataDir,
        nodeName: config.nodeName,
        nodeIP: config.nodeIP,
        runtime: config.runtime,
        clusterDns: config.clusterDns,
        clusterCidr: config.clusterCidr,
        serviceCidr: config.serviceCidr,
        nodeLabels: { 'node-role.kubernetes.io/control-plane': 'true', ...config.nodeLabels },
        nodeTaints: config.nodeTaints,
        networkName: config.networkName,
        evictionHard: config.evictionHard,
        serving: { certPem: serving.certPem, keyPem: serving.keyPem, clientCaPem: pki.ca.certPem, port: config.kubeletPort },
      },
      inProcessTransport(api.handler, nodeUser, `navarch-kubelet/${config.nodeName}`),
      components.signal,
    );
  }
  // Cluster DNS runs as a process of the server (k3s runs CoreDNS as a pod), on the kube-dns ClusterIP.
  if (!config.disable.includes('dns') && !config.disableAgent && (config.runtime === 'runc' || config.runtime === 'crun')) {
    startClusterDns({
      transport: inProcessTransport(api.handler, { username: 'system:navarch:dns', groups: ['system:authenticated'] }, 'navarch-dns'),
      listen: `${config.clusterDns}:53`,
      listenInterface: hostNetworkNames(config.networkName).serviceInterface,
      nodeIP: config.nodeIP,
      nodePort: config.clusterDnsNodePort,
      nodeName: config.nodeName,
      signal: components.signal,
    }).catch((e) => log.error('dns', 'cluster DNS failed to start', { error: (e as Error).message }));
  }
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
    rotateCertificates: () => rotateCertificates(rotationDeps),
    async stop() {
      components.abort();
      rotation.stop();
      await crds?.stopped;
      await node?.stop().catch(() => undefined);
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
