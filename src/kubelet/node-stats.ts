// The node's own CPU and memory for /stats/summary (what cAdvisor reports for the root
// cgroup): CPU from /proc/stat (busy jiffies → usageCoreNanoSeconds, and a rate between
// samples → usageNanoCores), memory from /proc/meminfo (working set = total − available).
import { readFile } from 'node:fs/promises';

export interface NodeCpuStats { time: string; usageNanoCores: number; usageCoreNanoSeconds: number }
export interface NodeMemoryStats { time: string; workingSetBytes: number; usageBytes: number; availableBytes: number; rssBytes?: number }
export interface NodeStats { cpu: NodeCpuStats; memory: NodeMemoryStats }

/** USER_HZ: the unit of /proc/stat on every Linux architecture we run on. */
const clockTicksPerSecond = 100;
/** Rates over shorter spans than this are mostly jiffy rounding. */
const minimumRateSpanMs = 1000;

export function parseProcStat(text: string): { busyNanoSeconds: number } {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) throw new Error('no aggregate cpu line in /proc/stat');
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).slice(1).map(Number);
  const busy = user + nice + system + irq + softirq + steal;
  void idle;
  void iowait;
  return { busyNanoSeconds: (busy * 1e9) / clockTicksPerSecond };
}

export function parseMeminfo(text: string): { totalBytes: number; freeBytes: number; availableBytes: number } {
  const kb = (key: string) => {
    const m = new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : undefined;
  };
  const total = kb('MemTotal') ?? 0;
  const free = kb('MemFree') ?? 0;
  return { totalBytes: total, freeBytes: free, availableBytes: kb('MemAvailable') ?? free };
}

export interface NodeStatsOptions {
  read?: (path: string) => Promise<string>;
  now?: () => number;
}

/** A sampler: each call reads /proc; the CPU rate is measured against an earlier sample at least 1 s old. */
export function createNodeStats(options: NodeStatsOptions = {}): () => Promise<NodeStats> {
  const read = options.read ?? ((path: string) => readFile(path, 'utf8'));
  const now = options.now ?? Date.now;
  let baseline: { at: number; busy: number } | undefined;
  let rate = 0;
  return async () => {
    const [stat, meminfo] = await Promise.all([read('/proc/stat'), read('/proc/meminfo')]);
    const at = now();
    const { busyNanoSeconds } = parseProcStat(stat);
    if (!baseline) baseline = { at, busy: busyNanoSeconds };
    else if (at - baseline.at >= minimumRateSpanMs) {
      rate = Math.max(0, ((busyNanoSeconds - baseline.busy) * 1000) / (at - baseline.at));
      baseline = { at, busy: busyNanoSeconds };
    }
    const memory = parseMeminfo(meminfo);
    const time = new Date(at).toISOString();
    return {
      cpu: { time, usageNanoCores: Math.round(rate), usageCoreNanoSeconds: Math.round(busyNanoSeconds) },
      memory: { time, workingSetBytes: memory.totalBytes - memory.availableBytes, usageBytes: memory.totalBytes - memory.freeBytes, availableBytes: memory.availableBytes },
    };
  };
}
