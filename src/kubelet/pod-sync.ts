// The per-pod sync: one level-triggered pass that compares a pod's spec with what the
// runtime shows (sandboxes and containers labelled with the pod's uid) and takes the next
// step — sandbox, volumes, init containers in order, app containers with restart policy
// and CrashLoopBackOff — then computes the status. It never relies on what woke it: a
// restarted kubelet adopts what it finds by label instead of starting duplicates.
import { createHash } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Clock } from '../client/clock.js';
import type { ContainerConfig, ContainerStatus, ImageService, Mount, PodSandboxConfig, RuntimeService, Container as RuntimeContainer, PodSandbox } from '../runtime/types.js';
import { Backoff } from './backoff.js';
import { formatResolvConf, podHostsFile, podResolvConfig, type ClusterDnsSettings } from './dns.js';
import { ContainerConfigError, containerEnvironment, expandVariables, parseQuantity, type ObjectSource } from './env.js';
import type { PodEventRecorder } from './events.js';
import type { PodNetwork, PodNetworkInput } from './network.js';
import { ProbeManager, probeKindLabel, runHandler, type ProbeTarget } from './probes.js';
import { computePodStatus, type ContainerView, type ObservedInstance } from './status.js';
import { VolumeError, VolumeManager } from './volumes.js';

export const labels = {
  podUid: 'io.kubernetes.pod.uid',
  podName: 'io.kubernetes.pod.name',
  podNamespace: 'io.kubernetes.pod.namespace',
  containerName: 'io.kubernetes.container.name',
} as const;

export const annotations = {
  restartCount: 'io.kubernetes.container.restartCount',
  hash: 'io.kubernetes.container.hash',
  terminationMessagePath: 'io.kubernetes.container.terminationMessagePath',
  hostTerminationLog: 'navarch.io/termination-log',
} as const;

export interface PodSyncerOptions {
  nodeName: string;
  runtime: RuntimeService & ImageService;
  network: PodNetwork;
  volumes: VolumeManager;
  objects: ObjectSource;
  recorder: PodEventRecorder;
  clock: Clock;
  dataDir: string;
  dns: ClusterDnsSettings;
  hostIPs: string[];
  allocatable: Record<string, string>;
  /** Triggers another sync of the pod (probe results, backoff expiry). */
  requeue(podUid: string, afterMs: number): void;
  masterServiceVariables?: () => Record<string, string>;
  /** node.k8s.io/v1 RuntimeClass by name (undefined: it does not exist); absent: runtimeClassName cannot be honoured. */
  runtimeClass?: (name: string) => Promise<any | undefined>;
  log?: (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
}

/** What the runtime shows for one pod. */
interface PodRuntimeState {
  sandboxes: PodSandbox[];
  /** Per container name, newest first. */
  byName: Map<string, ContainerStatus[]>;
}

interface PodNetworkRecord { sandboxId: string; ips: string[]; routable: boolean }

export interface SyncResult {
  status: any;
  /** The pod reached a state where nothing more happens until something changes. */
  requeueAfterMs?: number;
}

function hashContainer(container: any): string {
  // Only what cannot change without a restart; image is the one mutable field of a pod's containers.
  return createHash('sha256').update(JSON.stringify({ image: container.image, command: container.command, args: container.args })).digest('hex').slice(0, 8);
}

function linuxResources(container: any): { cpuShares?: number; cpuQuota?: number; cpuPeriod?: number; memoryLimitInBytes?: number } {
  const requestCpu = parseQuantity(container.resources?.requests?.cpu) ?? parseQuantity(container.resources?.limits?.cpu);
  const limitCpu = parseQuantity(container.resources?.limits?.cpu);
  const limitMemory = parseQuantity(container.resources?.limits?.memory);
  const out: ReturnType<typeof linuxResources> = {};
  out.cpuShares = requestCpu ? Math.max(2, Math.round(requestCpu * 1024)) : 2;
  if (limitCpu) { out.cpuPeriod = 100_000; out.cpuQuota = Math.round(limitCpu * 100_000); }
  if (limitMemory) out.memoryLimitInBytes = Math.round(limitMemory);
  return out;
}

export class PodSyncer {
  readonly backoff: Backoff;
  readonly imageBackoff: Backoff;
  readonly probes: ProbeManager;
  /** Why a container is waiting, keyed uid/name; cleared when it starts. */
  private readonly waiting = new Map<string, { reason: string; message?: string }>();
  private readonly terminationMessages = new Map<string, string>();
  private runtimeName = '';

  constructor(private readonly o: PodSyncerOptions) {
    this.backoff = new Backoff(o.clock);
    this.imageBackoff = new Backoff(o.clock);
    this.probes = new ProbeManager({
      runtime: o.runtime,
      clock: o.clock,
      onChange: (uid) => o.requeue(uid, 0),
      onFailure: (target, kind, output) => {
        const pod = this.podsByUid.get(target.podUid);
        if (pod) o.recorder.event(pod, 'Warning', 'Unhealthy', `${probeKindLabel(kind)} probe failed: ${output}`, target.containerName);
      },
    });
  }

  /** The last pod object seen per uid (for probe events). */
  private readonly podsByUid = new Map<string, any>();

  private key(pod: any, name: string): string {
    return `${pod.metadata.uid}/${name}`;
  }

  private podDir(uid: string): string {
    return this.o.volumes.podDir(uid);
  }

  private logDirectory(pod: any): string {
    return path.join(this.o.dataDir, 'logs', `${pod.metadata.namespace}_${pod.metadata.name}_${pod.metadata.uid}`);
  }

  async runtimeNameOnce(): Promise<string> {
    if (!this.runtimeName) {
      const v = await this.o.runtime.version();
      // "navarch-oci" with runc reports runtimeName "runc"; any "navarch-x" is shown as "x".
      this.runtimeName = v.runtimeName.replace(/^navarch-/, '');
    }
    return this.runtimeName;
  }

  async observe(uid: string): Promise<PodRuntimeState> {
    const sandboxes = (await this.o.runtime.listPodSandbox({ labelSelector: { [labels.podUid]: uid } })).sort((a, b) => b.createdAt - a.createdAt);
    const containers = await this.o.runtime.listContainers({ labelSelector: { [labels.podUid]: uid } });
    const statuses = (await Promise.all(containers.map((c) => this.o.runtime.containerStatus(c.id).catch(() => undefined)))).filter((s): s is ContainerStatus => !!s);
    const byName = new Map<string, ContainerStatus[]>();
    for (const s of statuses) {
      const name = s.labels[labels.containerName] ?? s.metadata.name;
      if (!byName.has(name)) byName.set(name, []);
      byName.get(name)!.push(s);
    }
    for (const list of byName.values()) list.sort((a, b) => this.restartCountOf(b) - this.restartCountOf(a) || b.createdAt - a.createdAt);
    return { sandboxes, byName };
  }

  private restartCountOf(s: { annotations: Record<string, string> }): number {
    return Number(s.annotations[annotations.restartCount] ?? 0);
  }

  private async instance(s: ContainerStatus): Promise<ObservedInstance> {
    let message = this.terminationMessages.get(s.id);
    if (message === undefined && s.state === 'CONTAINER_EXITED') {
      const file = s.annotations[annotations.hostTerminationLog];
      message = file ? (await fsp.readFile(file, 'utf8').catch(() => '')).slice(0, 4096) : '';
      if (!message && s.exitCode !== 0 && s.annotations['io.kubernetes.container.terminationMessagePolicy'] === 'FallbackToLogsOnError' && s.logPath) {
        message = await tailLog(s.logPath, 80, 2048);
      }
      this.terminationMessages.set(s.id, message);
    }
    return {
      id: s.id, state: s.state, createdAt: s.createdAt, startedAt: s.startedAt, finishedAt: s.finishedAt, exitCode: s.exitCode,
      reason: s.reason, message: message || s.message || undefined, image: s.image.image, imageRef: s.imageRef, restartCount: this.restartCountOf(s),
    };
  }

  private async readNetwork(uid: string): Promise<PodNetworkRecord | undefined> {
    try {
      return JSON.parse(await fsp.readFile(path.join(this.podDir(uid), 'network.json'), 'utf8'));
    } catch {
      return undefined;
    }
  }

  private networkInput(pod: any, sandboxId: string, namespacePath: string): PodNetworkInput {
    const portMappings = (pod.spec.containers ?? []).flatMap((c: any) => (c.ports ?? []).map((p: any) => ({ protocol: p.protocol ?? 'TCP', containerPort: p.containerPort, hostPort: p.hostPort, hostIp: p.hostIP })));
    return { namespacePath, podName: pod.metadata.name, podNamespace: pod.metadata.namespace, podUid: pod.metadata.uid, sandboxId, portMappings };
  }

  private sandboxConfig(pod: any, attempt: number): PodSandboxConfig {
    const resolv = podResolvConfig(pod, this.o.dns);
    return {
      metadata: { name: pod.metadata.name, namespace: pod.metadata.namespace, uid: pod.metadata.uid, attempt },
      hostname: pod.spec.hostNetwork ? undefined : (pod.spec.hostname ?? pod.metadata.name),
      logDirectory: this.logDirectory(pod),
      dnsConfig: { servers: resolv.servers, searches: resolv.searches, options: resolv.options },
      portMappings: this.networkInput(pod, '', '').portMappings,
      labels: { [labels.podUid]: pod.metadata.uid, [labels.podName]: pod.metadata.name, [labels.podNamespace]: pod.metadata.namespace, ...(pod.metadata.labels ?? {}) },
      annotations: { ...(pod.metadata.annotations ?? {}) },
      linux: {
        cgroupParent: `kubepods/pod${pod.metadata.uid}`,
        securityContext: {
          namespaceOptions: { network: pod.spec.hostNetwork ? 'NODE' : 'POD', pid: pod.spec.hostPID ? 'NODE' : pod.spec.shareProcessNamespace ? 'POD' : 'CONTAINER', ipc: pod.spec.hostIPC ? 'NODE' : 'POD' },
        },
      },
    };
  }

  /**
   * The CRI runtime handler of the pod's RuntimeClass ("" = the node's default), looked up
   * when its sandbox is made, as Kubernetes' runtimeClassManager does; a missing class fails
   * the sandbox (and is retried) with Kubernetes' lister error.
   */
  private async runtimeHandler(pod: any): Promise<string> {
    const name: string | undefined = pod.spec?.runtimeClassName;
    if (!name) return '';
    const rc = this.o.runtimeClass ? await this.o.runtimeClass(name) : undefined;
    if (!rc) throw new Error(`runtimeclass.node.k8s.io "${name}" not found`);
    return rc.handler ?? '';
  }

  /** One pass for a pod that is not being deleted. */
  async sync(pod: any): Promise<SyncResult> {
    this.podsByUid.set(pod.metadata.uid, pod);
    const runtimeName = await this.runtimeNameOnce();
    const uid = pod.metadata.uid;
    let state = await this.observe(uid);
    let requeueAfterMs: number | undefined;
    const terminal = pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';

    let sandbox = state.sandboxes.find((s) => s.state === 'SANDBOX_READY');
    let network = await this.readNetwork(uid);
    let volumePaths: Map<string, string> | undefined;
    let blocked = false;

    if (terminal) {
      // A finished pod never runs again; make sure nothing of it still runs.
      await this.stopPodResources(pod, state, 0);
      state = await this.observe(uid);
      sandbox = undefined;
    } else {
      try {
        volumePaths = await this.o.volumes.setUp(pod, this.o.clock.now());
      } catch (err) {
        if (!(err instanceof VolumeError)) throw err;
        this.o.recorder.event(pod, 'Warning', 'FailedMount', err.message);
        blocked = true;
        requeueAfterMs = 2_000;
      }
      if (!blocked && !sandbox) {
        const dead = state.sandboxes;
        if (dead.length > 0) {
          this.o.recorder.event(pod, 'Normal', 'SandboxChanged', 'Pod sandbox changed, it will be killed and re-created.');
          for (const s of dead) {
            await this.tearDownNetwork(pod, s.id);
            await this.o.runtime.stopPodSandbox(s.id);
          }
        }
        const config = this.sandboxConfig(pod, dead.length);
        await fsp.mkdir(config.logDirectory!, { recursive: true });
        let createdId: string | undefined;
        try {
          const id = await this.o.runtime.runPodSandbox(config, await this.runtimeHandler(pod));
          createdId = id;
          network = { sandboxId: id, ips: [...this.o.hostIPs], routable: true };
          if (!pod.spec.hostNetwork) {
            const status = await this.o.runtime.podSandboxStatus(id);
            const result = await this.o.network.setUp(this.networkInput(pod, id, status.network?.namespacePath ?? ''));
            network = { sandboxId: id, ips: result.ips, routable: result.routable !== false };
          }
          await fsp.mkdir(this.podDir(uid), { recursive: true });
          await fsp.writeFile(path.join(this.podDir(uid), 'network.json'), JSON.stringify(network));
          state = await this.observe(uid);
          sandbox = state.sandboxes.find((s) => s.id === id);
        } catch (err) {
          this.o.recorder.event(pod, 'Warning', 'FailedCreatePodSandBox', `Failed to create pod sandbox: ${(err as Error).message}`);
          // A sandbox without its network must not host containers: remove it so the next sync starts over.
          if (createdId) {
            await this.tearDownNetwork(pod, createdId).catch(() => undefined);
            await this.o.runtime.stopPodSandbox(createdId).catch(() => undefined);
            await this.o.runtime.removePodSandbox(createdId).catch(() => undefined);
          }
          network = undefined;
          blocked = true;
          requeueAfterMs = 5_000;
        }
      }
    }

    const podIPs = pod.spec.hostNetwork ? [...this.o.hostIPs] : sandbox && network?.sandboxId === sandbox.id ? network.ips : [];
    if (sandbox && !blocked && !terminal) {
      await this.writeEtcFiles(pod, podIPs);
      const next = await this.syncContainers(pod, state, sandbox, volumePaths!, podIPs, network?.routable !== false);
      if (next !== undefined) requeueAfterMs = requeueAfterMs === undefined ? next : Math.min(requeueAfterMs, next);
      state = await this.observe(uid);
    }

    const status = await this.computeStatus(pod, state, !!sandbox && !terminal, podIPs, runtimeName);
    // A pod whose restartPolicy lets it end stops its sandbox once it did.
    if (!terminal && (status.phase === 'Succeeded' || status.phase === 'Failed')) await this.stopPodResources(pod, state, 0);
    return { status, requeueAfterMs };
  }

  async computeStatus(pod: any, state: PodRuntimeState, sandboxReady: boolean, podIPs: string[], runtimeName: string, terminating = false): Promise<any> {
    const view = async (container: any, init: boolean): Promise<ContainerView> => {
      const instances = state.byName.get(container.name) ?? [];
      const current = instances[0] ? await this.instance(instances[0]) : undefined;
      const previous = instances[1] ? await this.instance(instances[1]) : undefined;
      const running = current?.state === 'CONTAINER_RUNNING';
      const waiting = this.waiting.get(this.key(pod, container.name));
      return {
        name: container.name,
        image: container.image,
        current,
        previous,
        waiting: current?.state === 'CONTAINER_RUNNING' ? undefined : waiting,
        ready: running && !init && this.probes.ready(current!.id) && !terminating,
        started: running && this.probes.started(current!.id),
      };
    };
    const initContainers = await Promise.all((pod.spec.initContainers ?? []).map((c: any) => view(c, true)));
    const containers = await Promise.all((pod.spec.containers ?? []).map((c: any) => view(c, false)));
    return computePodStatus({ pod, sandboxReady, podIPs, hostIPs: this.o.hostIPs, initContainers, containers, runtimeName, now: this.o.clock.now(), terminating });
  }

  private async writeEtcFiles(pod: any, podIPs: string[]): Promise<void> {
    const dir = this.podDir(pod.metadata.uid);
    await fsp.mkdir(dir, { recursive: true });
    await fsp.writeFile(path.join(dir, 'etc-hosts'), podHostsFile(pod, podIPs, this.o.dns.clusterDomain));
    await fsp.writeFile(path.join(dir, 'resolv.conf'), formatResolvConf(podResolvConfig(pod, this.o.dns)));
  }

  /** Returns a delay after which the pod wants another sync (backoff expiry), if any. */
  private async syncContainers(pod: any, state: PodRuntimeState, sandbox: PodSandbox, volumes: Map<string, string>, podIPs: string[], routable: boolean): Promise<number | undefined> {
    const restartPolicy = pod.spec.restartPolicy ?? 'Always';
    const keep = new Set<string>();
    let requeue: number | undefined;
    const want = (ms: number) => { requeue = requeue === undefined ? ms : Math.min(requeue, ms); };

    // Init containers run one at a time, in order; app containers wait until all succeeded.
    for (const container of pod.spec.initContainers ?? []) {
      const current = state.byName.get(container.name)?.[0];
      if (current?.state === 'CONTAINER_EXITED' && current.exitCode === 0) continue;
      if (current?.state === 'CONTAINER_RUNNING' || current?.state === 'CONTAINER_CREATED') {
        keep.add(current.id);
        this.gcInstances(state, container.name);
        this.probes.removeExcept(pod.metadata.uid, this.allRunning(state));
        return 1_000;
      }
      if (current?.state === 'CONTAINER_EXITED') {
        if (restartPolicy === 'Never') return undefined; // the pod has failed; status says so
        const delay = await this.restartWithBackoff(pod, container, current, sandbox, volumes, podIPs, routable, true);
        if (delay !== undefined) want(delay);
        return requeue ?? 1_000;
      }
      await this.startContainer(pod, container, 0, sandbox, volumes, podIPs, routable, true);
      return 1_000;
    }

    for (const container of pod.spec.containers ?? []) {
      const instances = state.byName.get(container.name) ?? [];
      let current = instances[0];
      if (current?.state === 'CONTAINER_RUNNING') {
        const failed = this.probes.failed(current.id);
        const changed = current.annotations[annotations.hash] && current.annotations[annotations.hash] !== hashContainer(container);
        if (!failed && !changed) {
          keep.add(current.id);
          continue;
        }
        const message = changed
          ? `Container ${container.name} definition changed, will be restarted`
          : `Container ${container.name} failed ${failed} probe, will be restarted`;
        await this.killContainer(pod, container, current.id, pod.spec.terminationGracePeriodSeconds ?? 30, message);
        current = await this.o.runtime.containerStatus(current.id);
        if (changed) {
          // A spec change is not a crash: restart at once.
          await this.startContainer(pod, container, this.restartCountOf(current) + 1, sandbox, volumes, podIPs, routable, false);
          continue;
        }
      }
      if (current?.state === 'CONTAINER_CREATED') {
        keep.add(current.id);
        continue;
      }
      if (current?.state === 'CONTAINER_EXITED' || current?.state === 'CONTAINER_UNKNOWN') {
        const restart = restartPolicy === 'Always' || (restartPolicy === 'OnFailure' && current.exitCode !== 0);
        if (!restart) continue;
        const delay = await this.restartWithBackoff(pod, container, current, sandbox, volumes, podIPs, routable, false);
        if (delay !== undefined) want(delay);
        continue;
      }
      if (!current) {
        const delay = await this.startContainer(pod, container, 0, sandbox, volumes, podIPs, routable, false);
        if (delay !== undefined) want(delay);
      }
    }
    for (const name of state.byName.keys()) this.gcInstances(state, name);
    this.probes.removeExcept(pod.metadata.uid, this.allRunning(await this.observe(pod.metadata.uid)));
    return requeue;
  }

  private allRunning(state: PodRuntimeState): Set<string> {
    const ids = new Set<string>();
    for (const list of state.byName.values()) for (const s of list) if (s.state === 'CONTAINER_RUNNING') ids.add(s.id);
    return ids;
  }

  /** Keeps the newest two instances of a container (the current and the one `--previous` shows). */
  private gcInstances(state: PodRuntimeState, name: string): void {
    const list = state.byName.get(name) ?? [];
    for (const old of list.slice(2)) {
      if (old.state === 'CONTAINER_RUNNING') continue;
      void this.o.runtime.removeContainer(old.id).catch(() => {});
      this.terminationMessages.delete(old.id);
    }
  }

  private async restartWithBackoff(pod: any, container: any, exited: ContainerStatus, sandbox: PodSandbox, volumes: Map<string, string>, podIPs: string[], routable: boolean, init: boolean): Promise<number | undefined> {
    const key = this.key(pod, container.name);
    const finishedAt = exited.finishedAt || this.o.clock.now();
    if (this.backoff.isInBackOffSince(key, finishedAt)) {
      const waitMs = this.backoff.get(key);
      const podRef = `${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})`;
      this.waiting.set(key, { reason: 'CrashLoopBackOff', message: `back-off ${formatDuration(waitMs)} restarting failed container=${container.name} pod=${podRef}` });
      this.o.recorder.event(pod, 'Warning', 'BackOff', `Back-off restarting failed container ${container.name} in pod ${podRef}`, container.name, init);
      return this.backoff.remaining(key, finishedAt) + 1;
    }
    this.backoff.next(key, finishedAt);
    return this.startContainer(pod, container, this.restartCountOf(exited) + 1, sandbox, volumes, podIPs, routable, init);
  }

  /** Pull policy, then create and start; waiting reasons on the way. Returns a requeue delay when blocked on a backoff. */
  private async startContainer(pod: any, container: any, restartCount: number, sandbox: PodSandbox, volumes: Map<string, string>, podIPs: string[], routable: boolean, init: boolean): Promise<number | undefined> {
    const key = this.key(pod, container.name);
    const image: string = container.image;
    const ev = (type: 'Normal' | 'Warning', reason: string, message: string) => this.o.recorder.event(pod, type, reason, message, container.name, init);
    const policy = container.imagePullPolicy ?? (image.endsWith(':latest') || !/:[^/]+$/.test(image.split('@')[0]!) ? 'Always' : 'IfNotPresent');
    const present = await this.o.runtime.imageStatus(image);
    if (policy === 'Never' && !present) {
      const message = `Container image "${image}" is not present with pull policy of Never`;
      this.waiting.set(key, { reason: 'ErrImageNeverPull', message });
      ev('Warning', 'ErrImageNeverPull', message);
      return 10_000;
    }
    if (policy === 'Always' || !present) {
      const pullKey = `${key}/${image}`;
      const lastFailure = this.pullFailures.get(pullKey);
      if (lastFailure !== undefined && this.imageBackoff.isInBackOffSince(pullKey, lastFailure)) {
        this.waiting.set(key, { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}"` });
        ev('Normal', 'BackOff', `Back-off pulling image "${image}"`);
        return this.imageBackoff.remaining(pullKey, lastFailure) + 1;
      }
      ev('Normal', 'Pulling', `Pulling image "${image}"`);
      const started = this.o.clock.now();
      let usedLocal = false;
      try {
        await this.o.runtime.pullImage(image);
      } catch (err) {
        // Offline clusters (navarch's normal case): with pull policy Always and a registry that
        // cannot be reached at all, the image already on the node is used, and the user is told.
        if (present && /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ENETUNREACH|EHOSTUNREACH|ETIMEDOUT|timed out|timeout/i.test((err as Error).message)) {
          ev('Warning', 'PullSkipped', `Registry unreachable (${(err as Error).message}); using the image "${image}" present on the node`);
          usedLocal = true;
        } else {
        const failedAt = this.o.clock.now();
        this.imageBackoff.next(pullKey, failedAt);
        this.pullFailures.set(pullKey, failedAt);
        const message = `Failed to pull image "${image}": ${(err as Error).message}`;
        this.waiting.set(key, { reason: 'ErrImagePull', message });
        ev('Warning', 'Failed', message);
        ev('Warning', 'Failed', 'Error: ErrImagePull');
        return this.imageBackoff.get(pullKey) + 1;
        }
      }
      this.pullFailures.delete(pullKey);
      if (!usedLocal) {
      const seconds = ((this.o.clock.now() - started) / 1000).toFixed(3).replace(/\.?0+$/, '') || '0';
      const size = (await this.o.runtime.imageStatus(image))?.size ?? 0;
      ev('Normal', 'Pulled', `Successfully pulled image "${image}" in ${seconds}s (${seconds}s including waiting). Image size: ${size} bytes.`);
      }
    } else {
      ev('Normal', 'Pulled', `Container image "${image}" already present on machine`);
    }

    let config: ContainerConfig;
    try {
      config = await this.containerConfig(pod, container, restartCount, volumes);
    } catch (err) {
      const reason = err instanceof ContainerConfigError ? 'CreateContainerConfigError' : err instanceof VolumeError ? 'CreateContainerConfigError' : 'CreateContainerError';
      this.waiting.set(key, { reason, message: (err as Error).message });
      ev('Warning', 'Failed', `Error: ${(err as Error).message}`);
      return 5_000;
    }
    let id: string;
    try {
      id = await this.o.runtime.createContainer(sandbox.id, config, this.sandboxConfig(pod, 0));
    } catch (err) {
      this.waiting.set(key, { reason: 'CreateContainerError', message: (err as Error).message });
      ev('Warning', 'Failed', `Error: ${(err as Error).message}`);
      return 5_000;
    }
    ev('Normal', 'Created', `Created container ${container.name}`);
    try {
      await this.o.runtime.startContainer(id);
    } catch (err) {
      this.waiting.set(key, { reason: 'RunContainerError', message: (err as Error).message });
      ev('Warning', 'Failed', `Error: ${(err as Error).message}`);
      return 5_000;
    }
    this.waiting.delete(key);
    ev('Normal', 'Started', `Started container ${container.name}`);
    const target: ProbeTarget = { podUid: pod.metadata.uid, containerName: container.name, containerId: id, podIP: routable ? podIPs[0] : undefined, container };
    if (container.lifecycle?.postStart) {
      const outcome = await runHandler(this.o.runtime, target, container.lifecycle.postStart, pod.spec.terminationGracePeriodSeconds ?? 30);
      if (outcome.result === 'failure') {
        ev('Warning', 'FailedPostStartHook', `PostStartHook failed: ${outcome.output}`);
        await this.killContainer(pod, container, id, pod.spec.terminationGracePeriodSeconds ?? 30, `FailedPostStartHook`);
        return undefined;
      }
    }
    if (!init) this.probes.add(target);
    return undefined;
  }

  private readonly pullFailures = new Map<string, number>();

  private async containerConfig(pod: any, container: any, restartCount: number, volumes: Map<string, string>): Promise<ContainerConfig> {
    const envs = await containerEnvironment({ pod, container, source: this.o.objects, allocatable: this.o.allocatable, masterServiceVariables: this.o.masterServiceVariables?.() });
    const envMap = new Map(envs.map((e) => [e.key, e.value]));
    const expand = (s: string) => expandVariables(s, (n) => envMap.get(n));
    const mounts: Mount[] = this.o.volumes.mounts(container, volumes);
    const dir = this.podDir(pod.metadata.uid);
    const mounted = new Set(mounts.map((m) => m.containerPath));
    if (!pod.spec.hostNetwork && !mounted.has('/etc/hosts')) mounts.push({ containerPath: '/etc/hosts', hostPath: path.join(dir, 'etc-hosts') });
    if (!mounted.has('/etc/resolv.conf')) mounts.push({ containerPath: '/etc/resolv.conf', hostPath: path.join(dir, 'resolv.conf') });
    const terminationPath = container.terminationMessagePath ?? '/dev/termination-log';
    const hostTerminationLog = path.join(dir, 'containers', container.name, `${restartCount}-termination-log`);
    await fsp.mkdir(path.dirname(hostTerminationLog), { recursive: true });
    await fsp.writeFile(hostTerminationLog, '', { mode: 0o666 });
    mounts.push({ containerPath: terminationPath, hostPath: hostTerminationLog });
    const sc = { ...(pod.spec.securityContext ?? {}), ...(container.securityContext ?? {}) };
    return {
      metadata: { name: container.name, attempt: restartCount },
      image: { image: container.image },
      command: container.command?.map(expand),
      args: container.args?.map(expand),
      workingDir: container.workingDir,
      envs,
      mounts,
      logPath: `${container.name}/${restartCount}.log`,
      stdin: !!container.stdin,
      stdinOnce: !!container.stdinOnce,
      tty: !!container.tty,
      labels: { [labels.podUid]: pod.metadata.uid, [labels.podName]: pod.metadata.name, [labels.podNamespace]: pod.metadata.namespace, [labels.containerName]: container.name },
      annotations: {
        [annotations.restartCount]: String(restartCount),
        [annotations.hash]: hashContainer(container),
        [annotations.terminationMessagePath]: terminationPath,
        [annotations.hostTerminationLog]: hostTerminationLog,
        'io.kubernetes.container.terminationMessagePolicy': container.terminationMessagePolicy ?? 'File',
        ...(pod.metadata.annotations ?? {}),
      },
      linux: {
        resources: linuxResources(container),
        securityContext: {
          runAsUser: sc.runAsUser, runAsGroup: sc.runAsGroup, privileged: sc.privileged, readonlyRootfs: sc.readOnlyRootFilesystem,
          supplementalGroups: pod.spec.securityContext?.supplementalGroups,
          capabilities: sc.capabilities ? { addCapabilities: sc.capabilities.add, dropCapabilities: sc.capabilities.drop } : undefined,
          noNewPrivs: sc.allowPrivilegeEscalation === false,
        },
      },
    };
  }

  /** preStop within the grace period, then stop with what is left of it. */
  async killContainer(pod: any, container: any | undefined, containerId: string, gracePeriodSeconds: number, message?: string): Promise<void> {
    const name = container?.name ?? containerId;
    const init = !!(pod.spec.initContainers ?? []).find((c: any) => c.name === name);
    this.o.recorder.event(pod, 'Normal', 'Killing', message ?? `Stopping container ${name}`, name, init);
    const started = this.o.clock.now();
    if (container?.lifecycle?.preStop && gracePeriodSeconds > 0) {
      const network = await this.readNetwork(pod.metadata.uid);
      const target: ProbeTarget = { podUid: pod.metadata.uid, containerName: name, containerId, podIP: network?.routable ? network.ips[0] : undefined, container };
      const outcome = await withTimeout(runHandler(this.o.runtime, target, container.lifecycle.preStop, gracePeriodSeconds), gracePeriodSeconds * 1000);
      if (outcome && outcome.result === 'failure') this.o.recorder.event(pod, 'Warning', 'FailedPreStopHook', `PreStopHook failed: ${outcome.output}`, name, init);
    }
    const left = Math.max(gracePeriodSeconds > 0 ? 2 : 0, Math.ceil(gracePeriodSeconds - (this.o.clock.now() - started) / 1000));
    await this.o.runtime.stopContainer(containerId, left);
  }

  private async tearDownNetwork(pod: any, sandboxId: string): Promise<void> {
    if (pod.spec?.hostNetwork) return;
    const status = await this.o.runtime.podSandboxStatus(sandboxId).catch(() => undefined);
    await this.o.network.tearDown(this.networkInput(pod, sandboxId, status?.network?.namespacePath ?? ''));
  }

  /** Stops every container (in parallel, app containers first) and the sandboxes. */
  async stopPodResources(pod: any, state: PodRuntimeState, gracePeriodSeconds: number): Promise<void> {
    const specOf = (name: string) => [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((c: any) => c.name === name);
    const running = [...state.byName.entries()].flatMap(([name, list]) => list.filter((s) => s.state === 'CONTAINER_RUNNING').map((s) => ({ name, id: s.id })));
    await Promise.all(running.map((c) => this.killContainer(pod, specOf(c.name), c.id, gracePeriodSeconds)));
    for (const s of state.sandboxes) {
      if (s.state !== 'SANDBOX_READY') continue;
      await this.tearDownNetwork(pod, s.id);
      await this.o.runtime.stopPodSandbox(s.id);
    }
    this.probes.removePod(pod.metadata.uid);
  }

  /** Graceful termination of a pod being deleted; resolves with the final status once everything stopped. */
  async terminate(pod: any): Promise<any> {
    const runtimeName = await this.runtimeNameOnce();
    const uid = pod.metadata.uid;
    const grace = pod.metadata.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
    let state = await this.observe(uid);
    await this.stopPodResources(pod, state, grace);
    state = await this.observe(uid);
    const network = await this.readNetwork(uid);
    const status = await this.computeStatus(pod, state, false, network?.ips ?? [], runtimeName, true);
    // Containers stopped for deletion: the pod ends Succeeded only if every container did.
    const all = [...(status.containerStatuses ?? [])];
    if (status.phase !== 'Succeeded' && status.phase !== 'Failed') {
      status.phase = all.length > 0 && all.every((c: any) => c.state.terminated?.exitCode === 0) ? 'Succeeded' : 'Failed';
    }
    return status;
  }

  /** Removes everything of a pod uid from the node: containers, sandboxes, network, volumes, logs. */
  async cleanup(uid: string, pod?: any): Promise<void> {
    const state = await this.observe(uid);
    const fakePod = pod ?? { metadata: { uid, name: '', namespace: '' }, spec: {} };
    if ([...state.byName.values()].some((l) => l.some((s) => s.state === 'CONTAINER_RUNNING')) || state.sandboxes.some((s) => s.state === 'SANDBOX_READY')) {
      await this.stopPodResources(fakePod, state, 0);
    }
    for (const s of state.sandboxes) {
      await this.tearDownNetwork(fakePod, s.id).catch(() => {});
      await this.o.runtime.removePodSandbox(s.id);
    }
    for (const list of state.byName.values()) for (const s of list) await this.o.runtime.removeContainer(s.id).catch(() => {});
    await this.o.volumes.tearDown(uid);
    this.probes.removePod(uid);
    this.backoff.forgetPrefix(`${uid}/`);
    this.imageBackoff.forgetPrefix(`${uid}/`);
    for (const key of [...this.waiting.keys()]) if (key.startsWith(`${uid}/`)) this.waiting.delete(key);
    for (const key of [...this.pullFailures.keys()]) if (key.startsWith(`${uid}/`)) this.pullFailures.delete(key);
    this.podsByUid.delete(uid);
  }

  /** Pod uids that have anything on this node. */
  async knownUids(): Promise<Set<string>> {
    const uids = new Set<string>();
    for (const s of await this.o.runtime.listPodSandbox()) if (s.labels[labels.podUid]) uids.add(s.labels[labels.podUid]);
    return uids;
  }
}

function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return s % 60 ? `${m}m${s % 60}s` : `${m}m0s`;
}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const result = await Promise.race([p, new Promise<undefined>((r) => { timer = setTimeout(() => r(undefined), ms); })]);
  clearTimeout(timer);
  return result;
}

/** Last lines of a CRI log file, as the message text (for FallbackToLogsOnError). */
export async function tailLog(logPath: string, lines: number, maxBytes: number): Promise<string> {
  const text = await fsp.readFile(logPath, 'utf8').catch(() => '');
  const contents = text.split('\n').filter(Boolean).map((l) => /^\S+ (?:stdout|stderr) [PF] (.*)$/s.exec(l)?.[1] ?? l);
  const out = contents.slice(-lines).join('\n');
  return out.length > maxBytes ? out.slice(out.length - maxBytes) : out;
}

export type { RuntimeContainer };
