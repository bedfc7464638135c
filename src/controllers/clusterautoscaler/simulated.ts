// The built-in "cloud": node groups whose members are hollow nodes (kubemark-style) — real
// kubelets over the fake runtime, in this process, each registering through the API under its
// own identity system:node:<name> like any node. Adding a member starts a kubelet; removing one
// stops it and deletes its Node object. Pods bound there really run, as simulated containers.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { KubeObject } from '../../api/types.js';
import type { Client } from '../../client/client.js';
import type { Clock } from '../../client/clock.js';
import { isNotFound } from '../../client/errors.js';
import type { Transport } from '../../client/transport.js';
import { createKubelet } from '../../kubelet/kubelet.js';
import { noopPodNetwork } from '../../kubelet/network.js';
import { nodeCapacity, nodeLabels, goArchitecture, type NodeFacts } from '../../kubelet/node-status.js';
import { FakeNode, FakeRuntime } from '../../runtime/fake/fake-runtime.js';
import type { AuthConfig, FilesystemUsage, Image, ImageService, RuntimeService } from '../../runtime/types.js';
import { withImageService } from '../../runtime/with-image-service.js';
import { nodeGroupLabel, type NodeGroup, type NodeGroupProvider, type NodeGroupSpec } from './node-group.js';

/** A started member; stop() ends its kubelet (the "machine" goes away). */
export interface HollowNode {
  stop(): Promise<void>;
}

/** Starts the member `name` of a group described by `spec`; resolves once its kubelet runs. */
export type HollowNodeStarter = (name: string, spec: NodeGroupSpec) => Promise<HollowNode>;

/** The facts a hollow kubelet reports instead of the host's: the group's machine shape. */
export function hollowNodeFacts(name: string, spec: NodeGroupSpec): Partial<NodeFacts> {
  return { cpuCores: spec.cpu, memoryBytes: spec.memoryBytes, ephemeralStorageBytes: spec.ephemeralStorageBytes, maxPods: spec.maxPods, hostname: name };
}

/**
 * Hollow nodes pull nothing: every image is "present" at once, as on kubemark's hollow
 * nodes, so a pod's image never keeps it from starting on a simulated machine.
 */
export class HollowImageService implements ImageService {
  private image(ref: string): Image {
    return { id: `sha256:${Buffer.from(ref).toString('hex').padEnd(64, '0').slice(0, 64)}`, repoTags: [ref], repoDigests: [], size: 0 };
  }
  async listImages(): Promise<Image[]> {
    return [];
  }
  async imageStatus(ref: string): Promise<Image | null> {
    return this.image(ref);
  }
  async pullImage(ref: string, _auth?: AuthConfig): Promise<string> {
    return this.image(ref).id;
  }
  async removeImage(): Promise<void> {}
  async imageFsInfo(): Promise<FilesystemUsage[]> {
    return [];
  }
}

export interface HollowKubeletOptions {
  /** The API as system:node:<nodeName> (the server passes an in-process transport). */
  transportFor(nodeName: string): Transport;
  /** Each member keeps its kubelet state in <dataDir>/<name>, removed with the member. */
  dataDir: string;
  clock?: Clock;
  /** Reported as every hollow node's InternalIP (nothing listens there for them). */
  nodeIP?: string;
  clusterDns?: string;
  log?: (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
}

/** Starts in-process kubelets on the fake runtime: what SimulatedNodeGroup adds as members. */
export function hollowKubeletStarter(options: HollowKubeletOptions): HollowNodeStarter {
  return async (name, spec) => {
    const dataDir = join(options.dataDir, name);
    await mkdir(dataDir, { recursive: true });
    const runtime = withImageService(new FakeRuntime(new FakeNode({ writeLogs: false })), new HollowImageService());
    const kubelet = createKubelet({
      transport: options.transportFor(name),
      nodeName: name,
      runtime,
      // Pod addresses are reported only (routable: false): nothing can send traffic to them.
      network: noopPodNetwork({ nodeIP: options.nodeIP ?? '127.0.0.1', podCIDR: '10.42.248.0/22' }),
      clock: options.clock,
      dataDir,
      nodeIP: options.nodeIP ?? '127.0.0.1',
      clusterDNS: [options.clusterDns ?? '10.43.0.10'],
      nodeLabels: spec.labels,
      nodeTaints: spec.taints,
      facts: hollowNodeFacts(name, spec),
      canMount: false,
      log: options.log,
    });
    await kubelet.start();
    return {
      async stop() {
        await kubelet.stop();
        for (const sandbox of await runtime.listPodSandbox().catch(() => [])) await runtime.removePodSandbox(sandbox.id).catch(() => undefined);
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  };
}

/** The Node a hollow member registers as, computed the way its kubelet computes it. */
export function simulatedTemplateNode(spec: NodeGroupSpec): KubeObject {
  const name = `template-node-for-${spec.name}`;
  const facts: NodeFacts = {
    nodeName: name,
    nodeIP: '127.0.0.1',
    hostname: name,
    cpuCores: spec.cpu,
    memoryBytes: spec.memoryBytes,
    ephemeralStorageBytes: spec.ephemeralStorageBytes,
    maxPods: spec.maxPods,
    kernelVersion: '',
    osImage: '',
    architecture: goArchitecture(),
    containerRuntimeVersion: 'fake://0.1.0',
    kubeletVersion: '',
    kubeletPort: 0,
    machineID: '',
    bootID: '',
  };
  const { capacity, allocatable } = nodeCapacity(facts);
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: nodeLabels(facts, { ...spec.labels, [nodeGroupLabel]: spec.name }) },
    spec: spec.taints.length ? { taints: spec.taints.map((t) => ({ ...t })) } : {},
    status: { capacity, allocatable, conditions: [{ type: 'Ready', status: 'True' }] },
  } as KubeObject;
}

interface Member {
  name: string;
  started: Promise<HollowNode | undefined>;
}

export class SimulatedNodeGroup implements NodeGroup {
  private readonly members = new Map<string, Member>();
  private nextIndex = 1;

  constructor(
    readonly spec: NodeGroupSpec,
    private readonly deps: { start: HollowNodeStarter; client: Client; log?: (msg: string, fields: Record<string, unknown>) => void },
  ) {}

  get name(): string {
    return this.spec.name;
  }
  get minSize(): number {
    return this.spec.minSize;
  }
  get maxSize(): number {
    return this.spec.maxSize;
  }

  targetSize(): number {
    return this.members.size;
  }

  memberNames(): string[] {
    return [...this.members.keys()];
  }

  templateNode(): KubeObject {
    return simulatedTemplateNode(this.spec);
  }

  async increaseSize(delta: number): Promise<void> {
    if (!(delta > 0)) throw new Error(`size increase must be positive (got ${delta})`);
    if (this.targetSize() + delta > this.maxSize) throw new Error(`size increase too large: desired ${this.targetSize() + delta}, max ${this.maxSize}`);
    for (let i = 0; i < delta; i++) {
      while (this.members.has(`${this.name}-${this.nextIndex}`)) this.nextIndex++;
      const name = `${this.name}-${this.nextIndex++}`;
      const labels = { ...this.spec.labels, [nodeGroupLabel]: this.name };
      // Like a cloud, the request returns at once; the machine registers when it is up. A
      // member that fails to start leaves the group so the next loop can ask again.
      const started = this.deps.start(name, { ...this.spec, labels }).catch((err) => {
        this.deps.log?.('hollow node failed to start', { node: name, error: String((err as Error)?.message ?? err) });
        this.members.delete(name);
        return undefined;
      });
      this.members.set(name, { name, started });
    }
  }

  async deleteNodes(nodes: KubeObject[]): Promise<void> {
    const names = nodes.map((n) => n.metadata.name!);
    for (const name of names) if (!this.members.has(name)) throw new Error(`node ${name} does not belong to node group ${this.name}`);
    if (this.targetSize() - names.length < this.minSize) throw new Error(`node group ${this.name}: deleting ${names.length} node(s) would go below min size ${this.minSize}`);
    for (const name of names) {
      const member = this.members.get(name)!;
      this.members.delete(name);
      const hollow = await member.started;
      await hollow?.stop();
      try {
        await this.deps.client.resource(nodesResource).delete(undefined, name);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }

  /** Stops every member's kubelet (the server shutting down); Node objects stay, as machines would. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.members.values()].map(async (m) => (await m.started)?.stop()));
  }
}

const nodesResource = { group: '', version: 'v1', resource: 'nodes', namespaced: false, kind: 'Node' };

export class SimulatedNodeGroupProvider implements NodeGroupProvider {
  readonly name = 'simulated';
  readonly groups: SimulatedNodeGroup[];

  constructor(specs: NodeGroupSpec[], deps: { start: HollowNodeStarter; client: Client; log?: (msg: string, fields: Record<string, unknown>) => void }) {
    const seen = new Set<string>();
    for (const s of specs) {
      if (seen.has(s.name)) throw new Error(`node group ${s.name} is configured twice`);
      seen.add(s.name);
    }
    this.groups = specs.map((s) => new SimulatedNodeGroup(s, deps));
  }

  nodeGroups(): NodeGroup[] {
    return this.groups;
  }

  nodeGroupForNode(node: KubeObject): NodeGroup | undefined {
    const name = node.metadata.name!;
    return this.groups.find((g) => g.memberNames().includes(name));
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.groups.map((g) => g.stopAll()));
  }
}
