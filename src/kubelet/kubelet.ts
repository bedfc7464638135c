// The node agent as an API client: registers the Node, renews its Lease, watches the pods
// bound to it and runs one serialized, level-triggered sync loop per pod (PodSyncer),
// writing status through pods/status and deleting pods once they have terminated.
import fsp from 'node:fs/promises';
import { createClient, retryOnConflict, type Client, type ResourceRef } from '../client/client.js';
import { systemClock, type Clock, type TimerHandle } from '../client/clock.js';
import { isAlreadyExists, isConflict, isNotFound } from '../client/errors.js';
import { SharedIndexInformer } from '../client/informer.js';
import type { Transport } from '../client/transport.js';
import type { ImageService, RuntimeService } from '../runtime/types.js';
import type { ClusterDnsSettings } from './dns.js';
import { createEventRecorder } from './events.js';
import type { PodNetwork } from './network.js';
import { hostFacts, nodeCapacity, nodeLabels, nodeStatus, type NodeFacts } from './node-status.js';
import { PodSyncer, labels } from './pod-sync.js';
import { sameStatus } from './status.js';
import { VolumeManager } from './volumes.js';
import { startStreamingServer, type StreamingServer, type StreamingServerOptions } from './streaming/server.js';
import { createNodeStats, type NodeStats } from './node-stats.js';

export const podsRef: ResourceRef = { group: '', version: 'v1', resource: 'pods', namespaced: true, kind: 'Pod' };
export const nodesRef: ResourceRef = { group: '', version: 'v1', resource: 'nodes', namespaced: false, kind: 'Node' };
const leasesRef: ResourceRef = { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespaced: true, kind: 'Lease' };
const configMapsRef: ResourceRef = { group: '', version: 'v1', resource: 'configmaps', namespaced: true, kind: 'ConfigMap' };
const secretsRef: ResourceRef = { group: '', version: 'v1', resource: 'secrets', namespaced: true, kind: 'Secret' };
const servicesRef: ResourceRef = { group: '', version: 'v1', resource: 'services', namespaced: true, kind: 'Service' };
const pvcRef: ResourceRef = { group: '', version: 'v1', resource: 'persistentvolumeclaims', namespaced: true, kind: 'PersistentVolumeClaim' };
const pvRef: ResourceRef = { group: '', version: 'v1', resource: 'persistentvolumes', namespaced: false, kind: 'PersistentVolume' };
const serviceAccountsRef: ResourceRef = { group: '', version: 'v1', resource: 'serviceaccounts', namespaced: true, kind: 'ServiceAccount' };

export interface KubeletOptions {
  transport: Transport;
  nodeName: string;
  runtime: RuntimeService & ImageService;
  network: PodNetwork;
  clock?: Clock;
  dataDir: string;
  /** The node's address (Node InternalIP, hostIP of pods). */
  nodeIP: string;
  clusterDNS?: string[];
  clusterDomain?: string;
  nodeLabels?: Record<string, string>;
  nodeTaints?: Array<{ key: string; value?: string; effect: string }>;
  /** Overrides of the host's facts (tests, hollow nodes). */
  facts?: Partial<NodeFacts>;
  maxPods?: number;
  /** HTTPS serving of logs/exec/attach/port-forward; absent: no streaming server. */
  serving?: Omit<StreamingServerOptions, 'runtime' | 'dataDir' | 'pods' | 'summary'>;
  /**
   * The node's own CPU and memory for /stats/summary; the host's /proc when absent. Hollow
   * nodes pass `null` so their summary adds up their simulated pods instead.
   */
  nodeStats?: (() => Promise<NodeStats>) | null;
  /** The node's resolv.conf (dnsPolicy Default); /etc/resolv.conf when absent. */
  hostResolvConf?: string;
  nodeStatusUpdateFrequencyMs?: number;
  leaseDurationSeconds?: number;
  /** How often the runtime is relisted for container state changes (Kubernetes' PLEG: 1 s). */
  relistPeriodMs?: number;
  /** tmpfs mounts for emptyDir medium Memory; default: when running as root. */
  canMount?: boolean;
  log?: (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
}

export interface Kubelet {
  start(signal?: AbortSignal): Promise<void>;
  stop(): Promise<void>;
  /** The streaming server's port once started (0 without one). */
  readonly port: number;
  /** For tests: resolves when every pending pod sync has finished. */
  idle(): Promise<void>;
}

interface Worker {
  uid: string;
  key: string;
  running: boolean;
  pending: boolean;
  timer?: TimerHandle;
  dueAt?: number;
  done: Promise<void>;
}

function microTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '000Z');
}

function resourceVersionNumber(o: any): number {
  return Number(o?.metadata?.resourceVersion ?? 0);
}

export function createKubelet(options: KubeletOptions): Kubelet {
  const clock = options.clock ?? systemClock();
  const client: Client = createClient(options.transport);
  const pods = client.resource(podsRef);
  const nodes = client.resource(nodesRef);
  const leases = client.resource(leasesRef);
  const log = options.log ?? ((level, msg, fields) => { if (level !== 'info') process.stderr.write(JSON.stringify({ level, component: 'kubelet', msg, ...fields }) + '\n'); });
  const statusEveryMs = options.nodeStatusUpdateFrequencyMs ?? 10_000;
  const relistMs = options.relistPeriodMs ?? 1_000;
  const host = hostFacts();
  let facts: NodeFacts;
  let servingPort = 0;
  let streaming: StreamingServer | undefined;
  const abort = new AbortController();
  const timers = new Set<TimerHandle>();
  const workers = new Map<string, Worker>();
  /** Our last written pod per uid, fresher than the informer cache right after a write. */
  const written = new Map<string, any>();

  const get = async (ref: ResourceRef, ns: string | undefined, name: string) => {
    try { return await client.resource(ref).get(ns, name); } catch (err) { if (isNotFound(err)) return undefined; throw err; }
  };
  let tokenRequestServed = true;

  const informer = new SharedIndexInformer<any>(pods, { fieldSelector: `spec.nodeName=${options.nodeName}`, clock, logger: (l, m, f) => log(l, m, f) });
  const podByUid = (uid: string): any | undefined => informer.getIndexer().list().find((p: any) => p.metadata.uid === uid);

  const dns: ClusterDnsSettings = { clusterDNS: options.clusterDNS ?? [], clusterDomain: options.clusterDomain ?? 'cluster.local', hostResolvConf: '' };
  let allocatable: Record<string, string> = {};
  const volumes = new VolumeManager({
    dataDir: options.dataDir,
    allocatable: new Proxy({}, { get: (_t, k: string) => allocatable[k] }) as Record<string, string>,
    canMount: options.canMount ?? process.getuid?.() === 0,
    source: {
      configMap: (ns, name) => get(configMapsRef, ns, name),
      secret: (ns, name) => get(secretsRef, ns, name),
      persistentVolumeClaim: (ns, name) => get(pvcRef, ns, name),
      persistentVolume: (name) => get(pvRef, undefined, name),
      async serviceAccountToken(ns, sa, request) {
        if (!tokenRequestServed) return undefined;
        try {
          const response = await client.resource(serviceAccountsRef).createSubresource(ns, sa, 'token', {
            apiVersion: 'authentication.k8s.io/v1',
            kind: 'TokenRequest',
            spec: { audiences: request.audiences ?? [], expirationSeconds: request.expirationSeconds, boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: request.podName, uid: request.podUid } },
          });
          return response?.status?.token;
        } catch (err: any) {
          if (err?.code === 404 || err?.code === 405) { tokenRequestServed = false; return undefined; }
          throw err;
        }
      },
    },
  });

  const recorder = createEventRecorder(client, options.nodeName, clock, (err) => log('warn', 'event write failed', { error: err.message }));
  const syncer = new PodSyncer({
    nodeName: options.nodeName,
    runtime: options.runtime,
    network: options.network,
    volumes,
    recorder,
    clock,
    dataDir: options.dataDir,
    dns,
    hostIPs: [options.nodeIP],
    get allocatable() { return allocatable; },
    objects: {
      configMap: (ns, name) => get(configMapsRef, ns, name),
      secret: (ns, name) => get(secretsRef, ns, name),
      async services(ns) {
        const list = (await client.resource(servicesRef).list(ns)).items;
        // The API server's own service is always linked (KUBERNETES_SERVICE_HOST…).
        if (ns !== 'default') {
          const master = await get(servicesRef, 'default', 'kubernetes');
          if (master) list.push(master);
        }
        return list;
      },
    },
    requeue: (uid, afterMs) => trigger(uid, afterMs),
    log,
  });

  function schedule(fn: () => void, ms: number): TimerHandle {
    const handle = clock.setTimeout(() => { timers.delete(handle); fn(); }, ms);
    timers.add(handle);
    return handle;
  }

  function trigger(uid: string, afterMs = 0): void {
    if (abort.signal.aborted) return;
    let w = workers.get(uid);
    if (!w) {
      w = { uid, key: uid, running: false, pending: false, done: Promise.resolve() };
      workers.set(uid, w);
    }
    const worker = w;
    if (afterMs > 0) {
      const due = clock.now() + afterMs;
      if (worker.timer && worker.dueAt !== undefined && worker.dueAt <= due) return;
      if (worker.timer) { clock.clearTimeout(worker.timer); timers.delete(worker.timer); }
      worker.dueAt = due;
      worker.timer = schedule(() => { worker.timer = undefined; worker.dueAt = undefined; trigger(uid, 0); }, afterMs);
      return;
    }
    worker.pending = true;
    if (worker.running) return;
    worker.running = true;
    worker.done = (async () => {
      while (worker.pending && !abort.signal.aborted) {
        worker.pending = false;
        try {
          await syncOne(uid);
        } catch (err) {
          log('error', 'pod sync failed', { podUid: uid, error: (err as Error).stack ?? String(err) });
          trigger(uid, 2_000);
        }
      }
      worker.running = false;
    })();
  }

  async function writeStatus(pod: any, status: any): Promise<void> {
    const cached = written.get(pod.metadata.uid);
    const base = cached && resourceVersionNumber(cached) > resourceVersionNumber(pod) ? cached : pod;
    if (sameStatus(base.status, status)) return;
    await retryOnConflict(async () => {
      let current = base;
      try {
        const updated = await pods.updateStatus({ ...current, status });
        written.set(pod.metadata.uid, updated);
      } catch (err) {
        if (!isConflict(err)) throw err;
        current = await pods.get(pod.metadata.namespace, pod.metadata.name);
        if (current.metadata.uid !== pod.metadata.uid) return;
        const updated = await pods.updateStatus({ ...current, status });
        written.set(pod.metadata.uid, updated);
      }
    }, undefined, clock);
  }

  async function syncOne(uid: string): Promise<void> {
    let pod = podByUid(uid);
    if (!pod) {
      await syncer.cleanup(uid);
      workers.delete(uid);
      written.delete(uid);
      return;
    }
    const cached = written.get(uid);
    if (cached && resourceVersionNumber(cached) > resourceVersionNumber(pod)) pod = { ...pod, status: cached.status };
    if (pod.metadata.deletionTimestamp) {
      const status = await syncer.terminate(pod);
      await writeStatus(pod, status).catch((err) => { if (!isNotFound(err)) throw err; });
      try {
        await pods.delete(pod.metadata.namespace, pod.metadata.name, { gracePeriodSeconds: 0, preconditions: { uid } });
      } catch (err) {
        if (!isNotFound(err) && !isConflict(err)) throw err;
      }
      await syncer.cleanup(uid, pod);
      return;
    }
    const result = await syncer.sync(pod);
    await writeStatus(pod, result.status);
    // Level-triggered: every pod is looked at again at least every 10 s.
    trigger(uid, result.requeueAfterMs ?? 10_000);
  }

  // PLEG: relist containers and wake the pods whose containers changed state.
  let lastStates = new Map<string, string>();
  async function relist(): Promise<void> {
    try {
      const containers = await options.runtime.listContainers();
      const states = new Map<string, string>();
      const changed = new Set<string>();
      for (const c of containers) {
        const uid = c.labels[labels.podUid];
        if (!uid) continue;
        states.set(c.id, c.state);
        if (lastStates.get(c.id) !== c.state) changed.add(uid);
      }
      lastStates = states;
      for (const uid of changed) if (podByUid(uid)) trigger(uid);
    } catch (err) {
      log('warn', 'relist failed', { error: String(err) });
    }
    if (!abort.signal.aborted) schedule(() => void relist(), relistMs);
  }

  // Housekeeping: anything on the node for a pod the API no longer has is removed.
  async function housekeeping(): Promise<void> {
    try {
      for (const uid of await syncer.knownUids()) if (!podByUid(uid) && !workers.get(uid)?.running) trigger(uid);
      syncer.backoff.gc();
    } catch (err) {
      log('warn', 'housekeeping failed', { error: String(err) });
    }
    if (!abort.signal.aborted) schedule(() => void housekeeping(), 2_000);
  }

  async function nodeFacts(): Promise<NodeFacts> {
    const version = await options.runtime.version();
    const serverVersion = await client.getPath('/version').catch(() => ({ gitVersion: 'v1.31.0' }));
    const fsStats = await fsp.statfs(options.dataDir).catch(() => undefined);
    return {
      nodeName: options.nodeName,
      nodeIP: options.nodeIP,
      ...host,
      hostname: options.nodeName,
      ephemeralStorageBytes: fsStats ? fsStats.blocks * fsStats.bsize : 0,
      maxPods: options.maxPods ?? 110,
      containerRuntimeVersion: `${version.runtimeName.replace(/^navarch-/, '')}://${version.runtimeVersion}`,
      kubeletVersion: serverVersion.gitVersion,
      kubeletPort: servingPort,
      ...options.facts,
    };
  }

  async function registerNode(): Promise<void> {
    const desired = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: options.nodeName, labels: nodeLabels(facts, options.nodeLabels ?? {}), annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' } },
      spec: options.nodeTaints?.length ? { taints: options.nodeTaints } : {},
    };
    try {
      await nodes.create(undefined, desired as any);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      // Re-registration: the node keeps what others set, our labels win.
      await nodes.patch(undefined, options.nodeName, 'merge', { metadata: { labels: desired.metadata.labels } });
    }
    await updateNodeStatus();
  }

  async function updateNodeStatus(): Promise<void> {
    let ready = true;
    try { await options.runtime.version(); } catch { ready = false; }
    await retryOnConflict(async () => {
      const node = await nodes.get(undefined, options.nodeName);
      const status = nodeStatus(facts, { memory: false, disk: false, pid: false }, ready, clock.now(), node.status ?? {});
      await nodes.updateStatus({ ...node, status });
    }, undefined, clock);
  }

  async function renewLease(): Promise<void> {
    const name = options.nodeName;
    const now = microTime(clock.now());
    try {
      const lease = await leases.get('kube-node-lease', name);
      await leases.update({ ...lease, spec: { ...lease.spec, holderIdentity: name, leaseDurationSeconds: options.leaseDurationSeconds ?? 40, renewTime: now } });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      const node = await nodes.get(undefined, name);
      await leases.create('kube-node-lease', {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name, namespace: 'kube-node-lease', ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name, uid: node.metadata.uid }] },
        spec: { holderIdentity: name, leaseDurationSeconds: options.leaseDurationSeconds ?? 40, renewTime: now },
      } as any);
    }
  }

  function every(ms: number, what: string, fn: () => Promise<void>): void {
    const tick = async () => {
      try { await fn(); } catch (err) { log('warn', `${what} failed`, { error: String(err) }); }
      if (!abort.signal.aborted) schedule(() => void tick(), ms);
    };
    schedule(() => void tick(), ms);
  }

  return {
    get port() { return servingPort; },
    async start(signal) {
      signal?.addEventListener('abort', () => void this.stop(), { once: true });
      await fsp.mkdir(options.dataDir, { recursive: true });
      dns.hostResolvConf = options.hostResolvConf ?? (await fsp.readFile('/etc/resolv.conf', 'utf8').catch(() => ''));
      if (options.serving) {
        const nodeStats = options.nodeStats === undefined ? createNodeStats() : options.nodeStats;
        streaming = await startStreamingServer({
          ...options.serving,
          runtime: options.runtime,
          dataDir: options.dataDir,
          pods: () => informer.getIndexer().list(),
          summary: async () => ({ node: { nodeName: options.nodeName, ...(nodeStats ? await nodeStats().catch(() => ({})) : {}) }, pods: [] }),
        });
        servingPort = streaming.port;
      }
      facts = await nodeFacts();
      allocatable = nodeCapacity(facts).allocatable;
      await registerNode();
      await renewLease();
      every(statusEveryMs, 'node status update', updateNodeStatus);
      every(10_000, 'lease renewal', renewLease);
      informer.addEventHandler({
        onAdd: (pod: any) => trigger(pod.metadata.uid),
        onUpdate: (_old: any, pod: any) => trigger(pod.metadata.uid),
        onDelete: (obj: any) => { const pod = obj?.obj ?? obj; if (pod?.metadata?.uid) trigger(pod.metadata.uid); },
      });
      void informer.run(abort.signal);
      await informer.waitForSync(abort.signal);
      void relist();
      void housekeeping();
    },
    async stop() {
      if (abort.signal.aborted) return;
      abort.abort();
      for (const t of timers) clock.clearTimeout(t);
      timers.clear();
      syncer.probes.stopAll();
      await Promise.all([...workers.values()].map((w) => w.done));
      await streaming?.close();
    },
    async idle() {
      for (let i = 0; i < 100; i++) {
        const busy = [...workers.values()].filter((w) => w.running);
        if (busy.length === 0) return;
        await Promise.all(busy.map((w) => w.done));
      }
    },
  };
}
