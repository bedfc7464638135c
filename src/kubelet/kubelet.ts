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
import { EvictionManager, admitPod, defaultEvictionHard, evictionReserved, hostStatsSource, parseEvictionThresholds, podSumStatsSource, type EvictionStatsSource, type EvictionThreshold } from './eviction.js';
import type { PodNetwork } from './network.js';
import { hostFacts, nodeCapacity, nodeLabels, nodeStatus, type NodeFacts } from './node-status.js';
import { PodSyncer, labels } from './pod-sync.js';
import { StaticPodSource, configAnnotations, isMirrorPod, mirrorPodFor } from './static-pods.js';
import { qosClass, rfc3339, sameStatus } from './status.js';
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
const runtimeClassesRef: ResourceRef = { group: 'node.k8s.io', version: 'v1', resource: 'runtimeclasses', namespaced: false, kind: 'RuntimeClass' };
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
  /** Kubernetes' --eviction-hard; default memory.available<100Mi,nodefs.available<10%,nodefs.inodesFree<5%,imagefs.available<15%. Empty: no eviction. */
  evictionHard?: string | EvictionThreshold[];
  /**
   * Where eviction signals come from: 'host' (/proc/meminfo, statfs of the data dir; default) or
   * 'pods' (memory capacity minus the pods' working sets: simulated nodes), or a source of one's own.
   */
  evictionStats?: 'host' | 'pods' | EvictionStatsSource;
  /** Kubernetes' housekeeping interval for the eviction manager (10 s). */
  evictionMonitoringIntervalMs?: number;
  /** Kubernetes' --eviction-pressure-transition-period (5 min). */
  evictionPressureTransitionPeriodMs?: number;
  /** Static pod manifests (Kubernetes' staticPodPath); default <dataDir>/manifests, null: none. */
  staticPodPath?: string | null;
  /** Kubernetes' --file-check-frequency (20 s). */
  staticPodRescanMs?: number;
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
  // Mirror pods only report a static pod's status; the kubelet never runs them.
  const podByUid = (uid: string): any | undefined =>
    informer.getIndexer().list().find((p: any) => p.metadata.uid === uid && !isMirrorPod(p)) ?? staticPods?.get(uid);
  const staticPodPath = options.staticPodPath === undefined ? `${options.dataDir}/manifests` : options.staticPodPath;
  const staticPods = staticPodPath === null ? undefined : new StaticPodSource({
    dir: staticPodPath, nodeName: options.nodeName, clock, rescanMs: options.staticPodRescanMs, log,
    onChange: () => { for (const p of staticPods!.pods()) trigger(p.metadata.uid); for (const uid of staticStatus.keys()) if (!staticPods!.get(uid)) trigger(uid); void syncMirrorPods(); },
  });
  /** The status of each static pod, kept here (the API may be unreachable) and copied to its mirror. */
  const staticStatus = new Map<string, any>();
  /** Pods evicted but maybe not yet seen Failed through the informer. */
  const evicted = new Set<string>();
  let eviction: EvictionManager | undefined;

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
    runtimeClass: (name) => get(runtimeClassesRef, undefined, name),
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
    if (staticPods?.get(pod.metadata.uid) === pod) {
      staticStatus.set(pod.metadata.uid, status);
      await writeMirrorStatus(pod);
      return;
    }
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
      staticStatus.delete(uid);
      evicted.delete(uid);
      return;
    }
    if (staticPods?.get(uid) === pod) {
      const result = await syncer.sync({ ...pod, status: staticStatus.get(uid) });
      await writeStatus(pod, result.status);
      trigger(uid, result.requeueAfterMs ?? 10_000);
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
    // A pod that never started is admitted (or refused) against the node's pressure now.
    if (eviction && !pod.status?.startTime && (pod.status?.phase ?? 'Pending') === 'Pending') {
      const admission = admitPod(pod, eviction.pressure(), qosClass(pod));
      if (!admission.admit) {
        recorder.event(pod, 'Warning', admission.reason, admission.message.replace(/^Pod was rejected: /, ''));
        evicted.add(uid);
        await writeStatus(pod, { ...(pod.status ?? {}), phase: 'Failed', reason: admission.reason, message: admission.message, qosClass: qosClass(pod) });
        return;
      }
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
      runtimeHandlers: await options.runtime.runtimeHandlers?.(),
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
      const status = nodeStatus(facts, eviction?.pressure() ?? { memory: false, disk: false, pid: false }, ready, clock.now(), node.status ?? {});
      await nodes.updateStatus({ ...node, status });
    }, undefined, clock);
  }

  // ---- static pods: their mirrors in the API ----

  let nodeUid: string | undefined;
  let mirrorSync: { running: boolean; again: boolean } = { running: false, again: false };
  const mirrorKey = (p: any) => `${p.metadata.namespace}/${p.metadata.name}`;

  async function writeMirrorStatus(staticPod: any): Promise<void> {
    const status = staticStatus.get(staticPod.metadata.uid);
    if (!status) return;
    const mirror = informer.getIndexer().list().find((p: any) => isMirrorPod(p) && mirrorKey(p) === mirrorKey(staticPod));
    if (!mirror || mirror.metadata.deletionTimestamp || mirror.metadata.annotations[configAnnotations.mirror] !== staticPod.metadata.uid) return;
    const base = written.get(mirror.metadata.uid);
    const current = base && resourceVersionNumber(base) > resourceVersionNumber(mirror) ? base : mirror;
    if (sameStatus(current.status, status)) return;
    try {
      written.set(mirror.metadata.uid, await pods.updateStatus({ ...current, status }));
    } catch (err) {
      // The mirror changed or went; the mirror reconcile (or the next sync) writes again.
      if (!isConflict(err) && !isNotFound(err)) throw err;
      written.delete(mirror.metadata.uid);
    }
  }

  /** Level-triggered: one mirror per static pod, with the static pod's hash; nothing else. */
  async function syncMirrorPods(): Promise<void> {
    if (!staticPods || abort.signal.aborted) return;
    if (mirrorSync.running) { mirrorSync.again = true; return; }
    mirrorSync.running = true;
    try {
      do {
        mirrorSync.again = false;
        await reconcileMirrors().catch((err) => { log('warn', 'mirror pod sync failed', { error: String(err) }); schedule(() => void syncMirrorPods(), 2_000); });
      } while (mirrorSync.again && !abort.signal.aborted);
    } finally {
      mirrorSync.running = false;
    }
  }

  async function reconcileMirrors(): Promise<void> {
    const wanted = new Map(staticPods!.pods().map((p) => [mirrorKey(p), p]));
    const mirrors = informer.getIndexer().list().filter(isMirrorPod);
    const present = new Set<string>();
    for (const mirror of mirrors) {
      const staticPod = wanted.get(mirrorKey(mirror));
      const current = !!staticPod && !mirror.metadata.deletionTimestamp && mirror.metadata.annotations[configAnnotations.mirror] === staticPod.metadata.uid;
      if (current) { present.add(mirrorKey(mirror)); continue; }
      // Deleted by someone, outdated, or its file is gone: the mirror goes (the static pod keeps running if it still exists).
      try {
        await pods.delete(mirror.metadata.namespace, mirror.metadata.name, { gracePeriodSeconds: 0, preconditions: { uid: mirror.metadata.uid } });
      } catch (err) {
        if (!isNotFound(err) && !isConflict(err)) throw err;
      }
      written.delete(mirror.metadata.uid);
      log('info', 'deleted mirror pod', { pod: mirrorKey(mirror) });
    }
    for (const [key, staticPod] of wanted) {
      if (present.has(key)) continue;
      nodeUid ??= (await nodes.get(undefined, options.nodeName)).metadata.uid as string;
      try {
        const created = await pods.create(staticPod.metadata.namespace, mirrorPodFor(staticPod, { name: options.nodeName, uid: nodeUid! }));
        written.set(created.metadata.uid as string, created);
        log('info', 'created mirror pod', { pod: key });
      } catch (err) {
        // The old mirror may still be on its way out; the informer's delete event brings us back.
        if (!isAlreadyExists(err)) throw err;
        schedule(() => void syncMirrorPods(), 1_000);
        continue;
      }
    }
    for (const staticPod of wanted.values()) trigger(staticPod.metadata.uid);
  }

  // ---- node-pressure eviction ----

  async function evictPod(pod: any, message: string): Promise<void> {
    const uid = pod.metadata.uid;
    evicted.add(uid);
    recorder.event(pod, 'Warning', 'Evicted', message);
    const base = written.get(uid) && resourceVersionNumber(written.get(uid)) > resourceVersionNumber(pod) ? written.get(uid) : pod;
    const old = base.status ?? {};
    const now = rfc3339(clock.now());
    const conditions = [...(old.conditions ?? []).filter((c: any) => c.type !== 'DisruptionTarget'),
      { type: 'DisruptionTarget', status: 'True', lastProbeTime: null, lastTransitionTime: now, reason: 'TerminationByKubelet', message }];
    // A terminal phase makes the next sync kill every container at once (hard thresholds have no grace period).
    await writeStatus(pod, { ...old, phase: 'Failed', reason: 'Evicted', message, conditions });
    trigger(uid);
  }

  function activePods(): any[] {
    const list = [...informer.getIndexer().list().filter((p: any) => !isMirrorPod(p)), ...(staticPods?.pods() ?? [])];
    return list.filter((p: any) => {
      if (evicted.has(p.metadata.uid) || p.metadata.deletionTimestamp) return false;
      const cached = written.get(p.metadata.uid);
      const phase = (cached && resourceVersionNumber(cached) > resourceVersionNumber(p) ? cached : p).status?.phase;
      return phase !== 'Succeeded' && phase !== 'Failed';
    });
  }

  function evictionStatsSource(): EvictionStatsSource {
    const choice = options.evictionStats ?? 'host';
    if (choice === 'host') return hostStatsSource({ dataDir: options.dataDir, runtime: options.runtime });
    if (choice === 'pods') return podSumStatsSource({ memoryCapacityBytes: facts.memoryBytes, runtime: options.runtime, dataDir: options.dataDir });
    return choice;
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
      const thresholds = typeof options.evictionHard === 'string' || options.evictionHard === undefined ? parseEvictionThresholds(options.evictionHard ?? defaultEvictionHard) : options.evictionHard;
      facts.evictionReserved ??= evictionReserved(thresholds, facts.memoryBytes, facts.ephemeralStorageBytes);
      allocatable = nodeCapacity(facts).allocatable;
      if (thresholds.length > 0) {
        eviction = new EvictionManager({
          clock, thresholds, stats: evictionStatsSource(), activePods, evict: evictPod, log,
          pressureTransitionPeriodMs: options.evictionPressureTransitionPeriodMs,
        });
      }
      await registerNode();
      await renewLease();
      every(statusEveryMs, 'node status update', updateNodeStatus);
      every(10_000, 'lease renewal', renewLease);
      const onPod = (pod: any) => {
        if (!pod?.metadata?.uid) return;
        if (isMirrorPod(pod)) { void syncMirrorPods(); return; }
        trigger(pod.metadata.uid);
      };
      informer.addEventHandler({
        onAdd: onPod,
        onUpdate: (_old: any, pod: any) => onPod(pod),
        onDelete: (obj: any) => onPod(obj?.obj ?? obj),
      });
      void informer.run(abort.signal);
      await informer.waitForSync(abort.signal);
      if (staticPods) { await staticPods.start(); void syncMirrorPods(); }
      if (eviction) {
        const manager = eviction;
        every(options.evictionMonitoringIntervalMs ?? 10_000, 'eviction manager', async () => {
          const before = manager.pressure();
          await manager.synchronize();
          const after = manager.pressure();
          // A pressure transition reaches the Node at once, not at the next status update.
          if (before.memory !== after.memory || before.disk !== after.disk) await updateNodeStatus();
        });
      }
      void relist();
      void housekeeping();
    },
    async stop() {
      if (abort.signal.aborted) return;
      abort.abort();
      staticPods?.stop();
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
