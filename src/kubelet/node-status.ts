// The Node object this kubelet registers and keeps current: capacity, allocatable, labels,
// taints, conditions with Kubernetes' reasons and messages, nodeInfo, addresses.
import os from 'node:os';
import fs from 'node:fs';
import { rfc3339 } from './status.js';

export interface NodeFacts {
  nodeName: string;
  nodeIP: string;
  hostname: string;
  cpuCores: number;
  memoryBytes: number;
  ephemeralStorageBytes: number;
  maxPods: number;
  kernelVersion: string;
  osImage: string;
  architecture: string;
  containerRuntimeVersion: string;
  kubeletVersion: string;
  kubeletPort: number;
  machineID: string;
  bootID: string;
  /** CRI runtime handlers (status.runtimeHandlers); absent when the runtime reports none. */
  runtimeHandlers?: { name: string; features: { recursiveReadOnlyMounts: boolean; userNamespaces: boolean } }[];
  /** What the hard eviction thresholds hold back from allocatable; Kubernetes' defaults (100Mi, 10%) when absent. */
  evictionReserved?: { memoryBytes: number; ephemeralStorageBytes: number };
}

export function goArchitecture(arch: string = process.arch): string {
  return ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' } as Record<string, string>)[arch] ?? arch;
}

export function hostOsImage(): string {
  const text = (() => { try { return fs.readFileSync('/etc/os-release', 'utf8'); } catch { return ''; } })();
  const m = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(text);
  return m?.[1] ?? `${os.type()} ${os.release()}`;
}

function readId(path: string): string {
  try { return fs.readFileSync(path, 'utf8').trim(); } catch { return ''; }
}

export function hostFacts(): Pick<NodeFacts, 'hostname' | 'cpuCores' | 'memoryBytes' | 'kernelVersion' | 'osImage' | 'architecture' | 'machineID' | 'bootID'> {
  return {
    hostname: os.hostname(),
    cpuCores: os.cpus().length || 1,
    memoryBytes: os.totalmem(),
    kernelVersion: os.release(),
    osImage: hostOsImage(),
    architecture: goArchitecture(),
    machineID: readId('/etc/machine-id'),
    bootID: readId('/proc/sys/kernel/random/boot_id'),
  };
}

function ki(bytes: number): string {
  return `${Math.floor(bytes / 1024)}Ki`;
}

export function nodeCapacity(facts: NodeFacts): { capacity: Record<string, string>; allocatable: Record<string, string> } {
  const capacity = { cpu: String(facts.cpuCores), memory: ki(facts.memoryBytes), 'ephemeral-storage': ki(facts.ephemeralStorageBytes), pods: String(facts.maxPods) };
  // The hard eviction thresholds come off allocatable (capacity - reserved - eviction threshold).
  const reserved = facts.evictionReserved ?? { memoryBytes: 100 * 1024 * 1024, ephemeralStorageBytes: facts.ephemeralStorageBytes * 0.1 };
  const allocatable = { ...capacity, memory: ki(Math.max(0, facts.memoryBytes - reserved.memoryBytes)), 'ephemeral-storage': String(Math.max(0, Math.floor(facts.ephemeralStorageBytes - reserved.ephemeralStorageBytes))) };
  return { capacity, allocatable };
}

export function nodeLabels(facts: NodeFacts, custom: Record<string, string>): Record<string, string> {
  return {
    'beta.kubernetes.io/arch': facts.architecture,
    'beta.kubernetes.io/os': 'linux',
    'kubernetes.io/arch': facts.architecture,
    'kubernetes.io/hostname': facts.nodeName,
    'kubernetes.io/os': 'linux',
    ...custom,
  };
}

export interface Pressure { memory: boolean; disk: boolean; pid: boolean }

function condition(type: string, status: boolean, reason: string, message: string, now: number, old: any[]): any {
  const previous = old.find((c) => c.type === type);
  const s = status ? 'True' : 'False';
  return {
    type,
    status: s,
    lastHeartbeatTime: rfc3339(now),
    lastTransitionTime: previous && previous.status === s ? previous.lastTransitionTime : rfc3339(now),
    reason,
    message,
  };
}

export function nodeConditions(pressure: Pressure, ready: boolean, now: number, old: any[] = []): any[] {
  return [
    condition('MemoryPressure', pressure.memory, pressure.memory ? 'KubeletHasInsufficientMemory' : 'KubeletHasSufficientMemory', pressure.memory ? 'kubelet has insufficient memory available' : 'kubelet has sufficient memory available', now, old),
    condition('DiskPressure', pressure.disk, pressure.disk ? 'KubeletHasDiskPressure' : 'KubeletHasNoDiskPressure', pressure.disk ? 'kubelet has disk pressure' : 'kubelet has no disk pressure', now, old),
    condition('PIDPressure', pressure.pid, pressure.pid ? 'KubeletHasInsufficientPID' : 'KubeletHasSufficientPID', pressure.pid ? 'kubelet has insufficient PID available' : 'kubelet has sufficient PID available', now, old),
    condition('Ready', ready, ready ? 'KubeletReady' : 'KubeletNotReady', ready ? 'kubelet is posting ready status' : 'container runtime is down', now, old),
  ];
}

export function nodeStatus(facts: NodeFacts, pressure: Pressure, ready: boolean, now: number, old: any = {}, images: any[] = []): any {
  const { capacity, allocatable } = nodeCapacity(facts);
  return {
    capacity,
    allocatable,
    conditions: nodeConditions(pressure, ready, now, old.conditions ?? []),
    addresses: [
      { type: 'InternalIP', address: facts.nodeIP },
      { type: 'Hostname', address: facts.hostname },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: facts.kubeletPort } },
    nodeInfo: {
      machineID: facts.machineID,
      systemUUID: facts.machineID,
      bootID: facts.bootID,
      kernelVersion: facts.kernelVersion,
      osImage: facts.osImage,
      containerRuntimeVersion: facts.containerRuntimeVersion,
      kubeletVersion: facts.kubeletVersion,
      kubeProxyVersion: facts.kubeletVersion,
      operatingSystem: 'linux',
      architecture: facts.architecture,
    },
    images,
    ...(facts.runtimeHandlers?.length ? { runtimeHandlers: facts.runtimeHandlers } : {}),
  };
}
