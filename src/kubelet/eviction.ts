// The eviction manager (Kubernetes' pkg/kubelet/eviction): every monitoring interval it
// observes the node's eviction signals, compares them with the hard thresholds, reports
// MemoryPressure/DiskPressure (held for the pressure transition period after the last
// observation, so the condition does not flap), and evicts at most one pod per interval,
// ranked as Kubernetes ranks them. Signals and pod usage come from an injected stats
// source, time from an injected clock, and the kill from an injected callback.
import fsp from 'node:fs/promises';
import type { Clock } from '../client/clock.js';
import type { RuntimeService } from '../runtime/types.js';
import { parseQuantity } from './env.js';
import { labels } from './pod-sync.js';
import type { Pressure } from './node-status.js';

export type EvictionSignal = 'memory.available' | 'nodefs.available' | 'nodefs.inodesFree' | 'imagefs.available' | 'imagefs.inodesFree';

const knownSignals: EvictionSignal[] = ['memory.available', 'nodefs.available', 'nodefs.inodesFree', 'imagefs.available', 'imagefs.inodesFree'];

/** Kubernetes' defaults for --eviction-hard on Linux. */
export const defaultEvictionHard = 'memory.available<100Mi,nodefs.available<10%,nodefs.inodesFree<5%,imagefs.available<15%';

export interface EvictionThreshold {
  signal: EvictionSignal;
  /** Only LessThan exists in Kubernetes. */
  operator: 'LessThan';
  /** Absolute value (bytes or inodes), or… */
  quantity?: number;
  /** …a fraction of capacity in (0, 1]. */
  percentage?: number;
}

/** Parses `memory.available<100Mi,nodefs.available<10%` (kubelet's --eviction-hard); throws with Kubernetes-like messages. */
export function parseEvictionThresholds(spec: string): EvictionThreshold[] {
  const out: EvictionThreshold[] = [];
  const seen = new Set<string>();
  for (const part of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([a-zA-Z.]+)<(.+)$/.exec(part);
    if (!m) throw new Error(`invalid eviction threshold "${part}": expected <signal><<quantity>`);
    const signal = m[1] as EvictionSignal;
    if (!knownSignals.includes(signal)) throw new Error(`unsupported eviction signal ${m[1]}`);
    if (seen.has(signal)) throw new Error(`found duplicate eviction threshold for signal ${signal}`);
    seen.add(signal);
    const value = m[2]!.trim();
    if (value.endsWith('%')) {
      const p = Number(value.slice(0, -1));
      if (!Number.isFinite(p) || p <= 0 || p > 100) throw new Error(`eviction percentage threshold ${signal} must be positive and at most 100%: ${value}`);
      out.push({ signal, operator: 'LessThan', percentage: p / 100 });
    } else {
      const q = parseQuantity(value);
      if (q === undefined || !Number.isFinite(q)) throw new Error(`invalid quantity "${value}" for eviction threshold ${signal}`);
      if (q < 0) throw new Error(`eviction threshold ${signal} must be positive: ${value}`);
      out.push({ signal, operator: 'LessThan', quantity: q });
    }
  }
  return out;
}

/** One observed signal: what is available out of what exists. */
export interface SignalObservation { available: number; capacity: number }

export type Observations = Partial<Record<EvictionSignal, SignalObservation>>;

/** Per pod uid, per container name: usage as the runtime measures it. */
export interface ContainerUsage { memoryWorkingSetBytes: number; diskBytes: number }
export type PodUsage = Map<string, Map<string, ContainerUsage>>;

export interface EvictionStatsSource {
  observe(): Promise<{ signals: Observations; pods: PodUsage }>;
}

/** Working sets (and writable layers) of running containers per pod, from the runtime's cgroup stats. */
export async function podUsageFromRuntime(runtime: Pick<RuntimeService, 'listContainerStats'>): Promise<PodUsage> {
  const pods: PodUsage = new Map();
  for (const s of await runtime.listContainerStats()) {
    const uid = s.attributes.labels[labels.podUid];
    if (!uid) continue;
    const name = s.attributes.labels[labels.containerName] ?? s.attributes.metadata.name;
    if (!pods.has(uid)) pods.set(uid, new Map());
    pods.get(uid)!.set(name, { memoryWorkingSetBytes: s.memory.workingSetBytes, diskBytes: s.writableLayer?.usedBytes ?? 0 });
  }
  return pods;
}

async function filesystemSignals(dir: string, imageDir?: string): Promise<Observations> {
  const out: Observations = {};
  const fs = await fsp.statfs(dir).catch(() => undefined);
  if (fs) {
    out['nodefs.available'] = { available: fs.bavail * fs.bsize, capacity: fs.blocks * fs.bsize };
    if (fs.files > 0) out['nodefs.inodesFree'] = { available: fs.ffree, capacity: fs.files };
  }
  const image = imageDir ? await fsp.statfs(imageDir).catch(() => undefined) : fs;
  if (image) {
    out['imagefs.available'] = { available: image.bavail * image.bsize, capacity: image.blocks * image.bsize };
    if (image.files > 0) out['imagefs.inodesFree'] = { available: image.ffree, capacity: image.files };
  }
  return out;
}

/** MemTotal and MemAvailable of /proc/meminfo, in bytes. */
export function parseMeminfo(text: string): { total: number; available: number } | undefined {
  const field = (name: string) => {
    const m = new RegExp(`^${name}:\\s+(\\d+)\\s*kB`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : undefined;
  };
  const total = field('MemTotal');
  const available = field('MemAvailable');
  return total === undefined || available === undefined ? undefined : { total, available };
}

/** A real node: memory from /proc/meminfo, nodefs/imagefs from statfs of the kubelet's data dir. */
export function hostStatsSource(options: { dataDir: string; imageDir?: string; runtime: Pick<RuntimeService, 'listContainerStats'>; meminfoPath?: string }): EvictionStatsSource {
  return {
    async observe() {
      const signals = await filesystemSignals(options.dataDir, options.imageDir);
      const mem = parseMeminfo(await fsp.readFile(options.meminfoPath ?? '/proc/meminfo', 'utf8').catch(() => ''));
      if (mem) signals['memory.available'] = { available: mem.available, capacity: mem.total };
      return { signals, pods: await podUsageFromRuntime(options.runtime) };
    },
  };
}

/**
 * A simulated node (fake runtime, hollow nodes, tests): memory.available is the node's memory
 * capacity minus the pods' working sets, so what a test configures is exactly what is seen.
 * Filesystems are the data dir's unless `filesystems` overrides them.
 */
export function podSumStatsSource(options: { memoryCapacityBytes: number; runtime: Pick<RuntimeService, 'listContainerStats'>; dataDir?: string; filesystems?: () => Promise<Observations> }): EvictionStatsSource {
  return {
    async observe() {
      const pods = await podUsageFromRuntime(options.runtime);
      let used = 0;
      for (const containers of pods.values()) for (const c of containers.values()) used += c.memoryWorkingSetBytes;
      const signals: Observations = options.filesystems ? await options.filesystems() : options.dataDir ? await filesystemSignals(options.dataDir) : {};
      signals['memory.available'] = { available: Math.max(0, options.memoryCapacityBytes - used), capacity: options.memoryCapacityBytes };
      return { signals, pods };
    },
  };
}

/** What the thresholds hold back from node allocatable (memory.available and nodefs.available). */
export function evictionReserved(thresholds: EvictionThreshold[], memoryBytes: number, ephemeralStorageBytes: number): { memoryBytes: number; ephemeralStorageBytes: number } {
  const of = (signal: EvictionSignal, capacity: number) => {
    const t = thresholds.find((x) => x.signal === signal);
    return t ? thresholdValue(t, capacity) : 0;
  };
  return { memoryBytes: of('memory.available', memoryBytes), ephemeralStorageBytes: of('nodefs.available', ephemeralStorageBytes) };
}

function thresholdValue(t: EvictionThreshold, capacity: number): number {
  return t.quantity ?? Math.round((t.percentage ?? 0) * capacity);
}

/** The thresholds whose signal is below its value now. Signals not observed never trigger. */
export function thresholdsMet(thresholds: EvictionThreshold[], observations: Observations): EvictionThreshold[] {
  return thresholds.filter((t) => {
    const o = observations[t.signal];
    return o !== undefined && o.available < thresholdValue(t, o.capacity);
  });
}

const signalResource: Record<EvictionSignal, 'memory' | 'ephemeral-storage' | 'inodes'> = {
  'memory.available': 'memory',
  'nodefs.available': 'ephemeral-storage',
  'nodefs.inodesFree': 'inodes',
  'imagefs.available': 'ephemeral-storage',
  'imagefs.inodesFree': 'inodes',
};

function conditionOf(signal: EvictionSignal): 'memory' | 'disk' {
  return signal === 'memory.available' ? 'memory' : 'disk';
}

/** Kubernetes' resource.Quantity rendering of a byte count in BinarySI: the largest exact suffix. */
export function formatBinaryQuantity(value: number): string {
  const v = Math.round(value);
  if (v === 0) return '0';
  const suffixes = ['Ei', 'Pi', 'Ti', 'Gi', 'Mi', 'Ki'];
  for (let i = 0; i < suffixes.length; i++) {
    const unit = 2 ** (10 * (6 - i));
    if (v % unit === 0) return `${v / unit}${suffixes[i]}`;
  }
  return String(v);
}

function formatResource(resource: string, value: number): string {
  return resource === 'inodes' ? String(Math.round(value)) : formatBinaryQuantity(value);
}

// ---- ranking (Kubernetes' rankMemoryPressure / rankDiskPressureFunc) ----

export interface RankedPod {
  pod: any;
  /** Per container name. */
  usage: Map<string, ContainerUsage>;
}

function requestOf(container: any, resource: 'memory' | 'ephemeral-storage'): number {
  return parseQuantity(container.resources?.requests?.[resource] ?? container.resources?.limits?.[resource]) ?? 0;
}

function podRequest(pod: any, resource: 'memory' | 'ephemeral-storage'): number {
  // Effective request: the larger of the sum of app containers and the largest init container.
  const apps = (pod.spec?.containers ?? []).reduce((sum: number, c: any) => sum + requestOf(c, resource), 0);
  const init = Math.max(0, ...(pod.spec?.initContainers ?? []).map((c: any) => requestOf(c, resource)));
  return Math.max(apps, init);
}

function podUsage(p: RankedPod, resource: 'memory' | 'ephemeral-storage' | 'inodes'): number {
  let sum = 0;
  for (const u of p.usage.values()) sum += resource === 'memory' ? u.memoryWorkingSetBytes : u.diskBytes;
  return sum;
}

function priority(pod: any): number {
  return pod.spec?.priority ?? 0;
}

/**
 * Orders pods for eviction under pressure of `resource`, as Kubernetes does: pods whose usage
 * exceeds their requests first, then lower priority first, then the larger usage above
 * requests first. (A BestEffort pod requests nothing, so any usage exceeds it.)
 */
export function rankForEviction(pods: RankedPod[], resource: 'memory' | 'ephemeral-storage' | 'inodes'): RankedPod[] {
  const requestResource = resource === 'inodes' ? undefined : resource;
  const over = (p: RankedPod) => podUsage(p, resource) - (requestResource ? podRequest(p.pod, requestResource) : 0);
  return [...pods].sort((a, b) => {
    const exceedsA = over(a) > 0, exceedsB = over(b) > 0;
    if (exceedsA !== exceedsB) return exceedsA ? -1 : 1;
    const byPriority = priority(a.pod) - priority(b.pod);
    if (byPriority !== 0) return byPriority;
    return over(b) - over(a);
  });
}

const systemCriticalPriority = 2_000_000_000;

/** Kubernetes never evicts critical pods: static and mirror pods, and system-critical priorities. */
export function isCriticalPod(pod: any): boolean {
  const a = pod.metadata?.annotations ?? {};
  if (a['kubernetes.io/config.mirror'] !== undefined) return true;
  if (a['kubernetes.io/config.source'] !== undefined && a['kubernetes.io/config.source'] !== 'api') return true;
  return priority(pod) >= systemCriticalPriority;
}

/** Kubernetes' eviction message (with its trailing space). */
export function evictionMessage(resource: string, thresholdQuantity: number, available: number, ranked: RankedPod): string {
  let message = `The node was low on resource: ${resource}. Threshold quantity: ${formatResource(resource, thresholdQuantity)}, available: ${formatResource(resource, available)}. `;
  if (resource === 'memory' || resource === 'ephemeral-storage') {
    for (const c of ranked.pod.spec?.containers ?? []) {
      const used = resource === 'memory' ? ranked.usage.get(c.name)?.memoryWorkingSetBytes ?? 0 : ranked.usage.get(c.name)?.diskBytes ?? 0;
      const request = requestOf(c, resource);
      if (used > request) message += `Container ${c.name} was using ${formatBinaryQuantity(used)}, request is ${formatBinaryQuantity(request)}, has larger consumption of ${resource}. `;
    }
  }
  return message;
}

/**
 * Kubernetes' eviction admission: under MemoryPressure a new BestEffort pod is refused, under
 * DiskPressure every new pod is; critical pods always run. A refused pod ends Failed/Evicted.
 */
export function admitPod(pod: any, pressure: Pressure, qosClass: string): { admit: true } | { admit: false; reason: 'Evicted'; message: string } {
  if (isCriticalPod(pod)) return { admit: true };
  const conditions: string[] = [];
  if (pressure.memory && qosClass === 'BestEffort') conditions.push('MemoryPressure');
  if (pressure.disk) conditions.push('DiskPressure');
  if (conditions.length === 0) return { admit: true };
  return { admit: false, reason: 'Evicted', message: `Pod was rejected: The node had condition: [${conditions.join(', ')}]. ` };
}

// ---- the manager ----

export interface EvictionManagerOptions {
  clock: Clock;
  thresholds: EvictionThreshold[];
  stats: EvictionStatsSource;
  /** The pods the kubelet runs that are not yet terminal. */
  activePods(): any[];
  /** Kills the pod now and records it Failed/Evicted with this message. */
  evict(pod: any, message: string): Promise<void>;
  /** Kubernetes' --eviction-pressure-transition-period (5 min). */
  pressureTransitionPeriodMs?: number;
  log?: (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
}

export interface EvictionResult {
  pressure: Pressure;
  /** Which thresholds were below their value in this pass. */
  met: EvictionThreshold[];
  evicted?: { pod: any; message: string };
}

export class EvictionManager {
  /** When a condition's threshold was last seen met. */
  private readonly lastObserved = new Map<'memory' | 'disk', number>();
  private current: Pressure = { memory: false, disk: false, pid: false };

  constructor(private readonly o: EvictionManagerOptions) {}

  /** The conditions the node status reports now. */
  pressure(): Pressure {
    return { ...this.current };
  }

  /** One monitoring pass (Kubernetes' synchronize): at most one pod is evicted. */
  async synchronize(): Promise<EvictionResult> {
    const now = this.o.clock.now();
    const { signals, pods } = await this.o.stats.observe();
    const met = thresholdsMet(this.o.thresholds, signals);
    for (const t of met) this.lastObserved.set(conditionOf(t.signal), now);
    const period = this.o.pressureTransitionPeriodMs ?? 5 * 60_000;
    const held = (c: 'memory' | 'disk') => {
      const at = this.lastObserved.get(c);
      return at !== undefined && now - at < period;
    };
    this.current = { memory: held('memory'), disk: held('disk'), pid: false };
    if (met.length === 0) return { pressure: this.pressure(), met };

    // Memory first, then disk (Kubernetes sorts thresholds so memory is reclaimed first).
    const threshold = [...met].sort((a, b) => knownSignals.indexOf(a.signal) - knownSignals.indexOf(b.signal))[0]!;
    const observation = signals[threshold.signal]!;
    const resource = signalResource[threshold.signal];
    const candidates = this.o.activePods()
      .filter((p) => !isCriticalPod(p))
      .map((pod): RankedPod => ({ pod, usage: pods.get(pod.metadata.uid) ?? new Map() }));
    const ranked = rankForEviction(candidates, resource);
    const victim = ranked[0];
    if (!victim) {
      this.o.log?.('warn', 'eviction manager: unable to evict any pods from the node', { signal: threshold.signal });
      return { pressure: this.pressure(), met };
    }
    const message = evictionMessage(resource, thresholdValue(threshold, observation.capacity), observation.available, victim);
    this.o.log?.('info', 'eviction manager: pod is evicted', { pod: `${victim.pod.metadata.namespace}/${victim.pod.metadata.name}`, signal: threshold.signal });
    await this.o.evict(victim.pod, message);
    return { pressure: this.pressure(), met, evicted: { pod: victim.pod, message } };
  }
}
