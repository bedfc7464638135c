// Several runtimes behind one CRI endpoint, chosen per pod by RunPodSandbox's runtimeHandler
// (what containerd does with its `runtimes.<name>` table). Every later call names only a
// sandbox or container id, so the owner of each id is remembered — and, since this object
// dies with the agent while pods do not, recovered from each handler's own list calls when
// an id is not known yet.
import type { Duplex } from 'node:stream';
import {
  RuntimeError,
  type Container, type ContainerConfig, type ContainerFilter, type ContainerStats, type ContainerStatsFilter, type ContainerStatus,
  type ExecOptions, type ExecSyncResult, type PodSandbox, type PodSandboxConfig, type PodSandboxFilter, type PodSandboxStatus,
  type RuntimeHandlerInfo, type RuntimeService, type StreamSession, type VersionResponse,
} from '../types.js';

export interface MultiRuntimeOptions {
  /** Handler used when runPodSandbox names none (""); must be a key of handlers. */
  defaultHandler: string;
  handlers: Record<string, RuntimeService>;
  /**
   * Handlers this node knows of but cannot run (e.g. crun failing its preflight), with the
   * reason: a pod asking for one gets that reason instead of "no runtime configured".
   */
  unavailable?: Record<string, string>;
}

type Closable = { close?: () => Promise<void> };

export class MultiRuntime implements RuntimeService {
  private readonly handlers: Map<string, RuntimeService>;
  private readonly unavailable: Map<string, string>;
  readonly defaultHandler: string;
  private readonly sandboxOwner = new Map<string, string>();
  private readonly containerOwner = new Map<string, string>();

  constructor(opts: MultiRuntimeOptions) {
    if (!opts.handlers[opts.defaultHandler]) throw new Error(`default runtime handler "${opts.defaultHandler}" is not among the handlers (${Object.keys(opts.handlers).join(', ')})`);
    this.handlers = new Map(Object.entries(opts.handlers));
    this.unavailable = new Map(Object.entries(opts.unavailable ?? {}));
    this.defaultHandler = opts.defaultHandler;
  }

  /** Names of the handlers that run pods (the default first). */
  handlerNames(): string[] {
    return [this.defaultHandler, ...[...this.handlers.keys()].filter((n) => n !== this.defaultHandler)];
  }

  async runtimeHandlers(): Promise<RuntimeHandlerInfo[]> {
    const features = { recursiveReadOnlyMounts: false, userNamespaces: false };
    return [{ name: '', features: { ...features } }, ...this.handlerNames().map((name) => ({ name, features: { ...features } }))];
  }

  async version(): Promise<VersionResponse> {
    return this.handlers.get(this.defaultHandler)!.version();
  }

  /** The handler that owns a sandbox, asking every handler's list when it is not known yet; undefined when none has it. */
  async sandboxHandler(podSandboxId: string): Promise<string | undefined> {
    const known = this.sandboxOwner.get(podSandboxId);
    if (known) return known;
    await this.relistSandboxes();
    return this.sandboxOwner.get(podSandboxId);
  }

  async containerHandler(containerId: string): Promise<string | undefined> {
    const known = this.containerOwner.get(containerId);
    if (known) return known;
    await this.relistContainers();
    return this.containerOwner.get(containerId);
  }

  private async relistSandboxes(): Promise<PodSandbox[]> {
    const all: PodSandbox[] = [];
    for (const [name, rt] of this.handlers) {
      for (const s of await rt.listPodSandbox({})) { this.sandboxOwner.set(s.id, name); all.push(s); }
    }
    return all;
  }

  private async relistContainers(): Promise<void> {
    for (const [name, rt] of this.handlers) {
      for (const c of await rt.listContainers({})) this.containerOwner.set(c.id, name);
    }
  }

  // An id nobody owns goes to the default handler, whose own NotFound / idempotent no-op
  // semantics then apply unchanged.
  private async forSandbox(id: string): Promise<RuntimeService> {
    return this.handlers.get((await this.sandboxHandler(id)) ?? this.defaultHandler)!;
  }

  private async forContainer(id: string): Promise<RuntimeService> {
    return this.handlers.get((await this.containerHandler(id)) ?? this.defaultHandler)!;
  }

  async runPodSandbox(config: PodSandboxConfig, runtimeHandler = ''): Promise<string> {
    const name = runtimeHandler || this.defaultHandler;
    const rt = this.handlers.get(name);
    if (!rt) {
      const why = this.unavailable.get(name);
      // containerd's wording, which kubelets and users grep for.
      if (why !== undefined) throw new RuntimeError('FailedPrecondition', `failed to get sandbox runtime: runtime "${name}" is configured but unavailable: ${why}`);
      throw new RuntimeError('InvalidArgument', `failed to get sandbox runtime: no runtime for "${name}" is configured`);
    }
    const id = await rt.runPodSandbox(config, name);
    this.sandboxOwner.set(id, name);
    return id;
  }

  async stopPodSandbox(podSandboxId: string): Promise<void> {
    await (await this.forSandbox(podSandboxId)).stopPodSandbox(podSandboxId);
  }

  async removePodSandbox(podSandboxId: string): Promise<void> {
    const owner = await this.sandboxHandler(podSandboxId);
    await this.handlers.get(owner ?? this.defaultHandler)!.removePodSandbox(podSandboxId);
    this.sandboxOwner.delete(podSandboxId);
    // Its containers went with it: forget those the owner no longer lists.
    if (owner) {
      const live = new Set((await this.handlers.get(owner)!.listContainers({})).map((c) => c.id));
      for (const [id, h] of [...this.containerOwner]) if (h === owner && !live.has(id)) this.containerOwner.delete(id);
    }
  }

  async podSandboxStatus(podSandboxId: string): Promise<PodSandboxStatus> {
    return (await this.forSandbox(podSandboxId)).podSandboxStatus(podSandboxId);
  }

  async listPodSandbox(filter: PodSandboxFilter = {}): Promise<PodSandbox[]> {
    const out: PodSandbox[] = [];
    for (const [name, rt] of this.handlers) {
      for (const s of await rt.listPodSandbox(filter)) { this.sandboxOwner.set(s.id, name); out.push(s); }
    }
    return out;
  }

  async createContainer(podSandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig): Promise<string> {
    const owner = (await this.sandboxHandler(podSandboxId)) ?? this.defaultHandler;
    const id = await this.handlers.get(owner)!.createContainer(podSandboxId, config, sandboxConfig);
    this.containerOwner.set(id, owner);
    return id;
  }

  async startContainer(containerId: string): Promise<void> {
    await (await this.forContainer(containerId)).startContainer(containerId);
  }

  async stopContainer(containerId: string, timeoutSeconds: number): Promise<void> {
    await (await this.forContainer(containerId)).stopContainer(containerId, timeoutSeconds);
  }

  async removeContainer(containerId: string): Promise<void> {
    await (await this.forContainer(containerId)).removeContainer(containerId);
    this.containerOwner.delete(containerId);
  }

  async listContainers(filter: ContainerFilter = {}): Promise<Container[]> {
    const out: Container[] = [];
    for (const [name, rt] of this.handlers) {
      for (const c of await rt.listContainers(filter)) { this.containerOwner.set(c.id, name); out.push(c); }
    }
    return out;
  }

  async containerStatus(containerId: string): Promise<ContainerStatus> {
    return (await this.forContainer(containerId)).containerStatus(containerId);
  }

  async execSync(containerId: string, cmd: string[], timeoutSeconds?: number): Promise<ExecSyncResult> {
    return (await this.forContainer(containerId)).execSync(containerId, cmd, timeoutSeconds);
  }

  async exec(containerId: string, cmd: string[], options?: ExecOptions): Promise<StreamSession> {
    return (await this.forContainer(containerId)).exec(containerId, cmd, options);
  }

  async attach(containerId: string, options?: ExecOptions): Promise<StreamSession> {
    return (await this.forContainer(containerId)).attach(containerId, options);
  }

  async reopenContainerLog(containerId: string): Promise<void> {
    await (await this.forContainer(containerId)).reopenContainerLog(containerId);
  }

  async containerStats(containerId: string): Promise<ContainerStats> {
    return (await this.forContainer(containerId)).containerStats(containerId);
  }

  async listContainerStats(filter: ContainerStatsFilter = {}): Promise<ContainerStats[]> {
    if (filter.id) return (await this.forContainer(filter.id)).listContainerStats(filter);
    if (filter.podSandboxId) return (await this.forSandbox(filter.podSandboxId)).listContainerStats(filter);
    const out: ContainerStats[] = [];
    for (const rt of this.handlers.values()) out.push(...(await rt.listContainerStats(filter)));
    return out;
  }

  async portForward(podSandboxId: string, port: number): Promise<Duplex> {
    return (await this.forSandbox(podSandboxId)).portForward(podSandboxId, port);
  }

  /** Ends each handler's agent-side resources (never its pods). */
  async close(): Promise<void> {
    for (const rt of this.handlers.values()) await (rt as Closable).close?.();
  }
}
