/// <reference types="node" />
// (TypeScript 7 no longer loads @types/* implicitly; this pulls in Node's types for the runtime.)
// The runtime interface the kubelet talks to, shaped after the Kubernetes CRI
// (k8s.io/cri-api runtime/v1: RuntimeService + ImageService). Field names follow the CRI
// loosely (camelCase JSON as in crictl's output) so a later containerd/CRI-over-gRPC
// implementation can map 1:1. The kubelet must never learn which implementation it has.
import type { Readable, Writable, Duplex } from 'node:stream';

export interface PodSandboxMetadata { name: string; uid: string; namespace: string; attempt?: number }
export interface ContainerMetadata { name: string; attempt?: number }

export interface DNSConfig { servers?: string[]; searches?: string[]; options?: string[] }

export interface PortMapping {
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  containerPort: number;
  hostPort?: number;
  hostIp?: string;
}

/** CRI NamespaceMode: POD shares the pod's namespace, CONTAINER gets its own, NODE uses the host's. */
export type NamespaceMode = 'POD' | 'CONTAINER' | 'NODE';

export interface NamespaceOption { network?: NamespaceMode; pid?: NamespaceMode; ipc?: NamespaceMode }

export interface LinuxContainerResources {
  cpuPeriod?: number;
  cpuQuota?: number;
  cpuShares?: number;
  memoryLimitInBytes?: number;
  oomScoreAdj?: number;
}

export interface PodSandboxConfig {
  metadata: PodSandboxMetadata;
  hostname?: string;
  /** Directory under which container logPaths are relative (CRI semantics). */
  logDirectory?: string;
  dnsConfig?: DNSConfig;
  portMappings?: PortMapping[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  linux?: {
    cgroupParent?: string;
    securityContext?: { namespaceOptions?: NamespaceOption; privileged?: boolean };
    resources?: LinuxContainerResources;
  };
}

export interface Mount {
  containerPath: string;
  hostPath: string;
  readonly?: boolean;
  propagation?: 'PROPAGATION_PRIVATE' | 'PROPAGATION_HOST_TO_CONTAINER' | 'PROPAGATION_BIDIRECTIONAL';
}

export interface KeyValue { key: string; value: string }

export interface Capability { addCapabilities?: string[]; dropCapabilities?: string[] }

export interface LinuxContainerSecurityContext {
  runAsUser?: number;
  runAsGroup?: number;
  supplementalGroups?: number[];
  privileged?: boolean;
  readonlyRootfs?: boolean;
  capabilities?: Capability;
  noNewPrivs?: boolean;
}

export interface ContainerConfig {
  metadata: ContainerMetadata;
  image: { image: string };
  /** Overrides the image's ENTRYPOINT (Kubernetes `command`). */
  command?: string[];
  /** Overrides the image's CMD (Kubernetes `args`). */
  args?: string[];
  workingDir?: string;
  envs?: KeyValue[];
  mounts?: Mount[];
  /** Relative to the sandbox's logDirectory (absolute is accepted too). */
  logPath?: string;
  stdin?: boolean;
  stdinOnce?: boolean;
  tty?: boolean;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  linux?: { resources?: LinuxContainerResources; securityContext?: LinuxContainerSecurityContext };
}

export type PodSandboxState = 'SANDBOX_READY' | 'SANDBOX_NOTREADY';
export type ContainerState = 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN';

export interface PodSandboxStatus {
  id: string;
  metadata: PodSandboxMetadata;
  state: PodSandboxState;
  /** Nanoseconds since the epoch would overflow JS numbers; milliseconds are used throughout. */
  createdAt: number;
  network?: { ip?: string; additionalIps?: string[]; /** bind-mounted netns file, for CNI */ namespacePath?: string };
  linux?: { namespaces?: { options?: NamespaceOption } };
  labels: Record<string, string>;
  annotations: Record<string, string>;
  runtimeHandler?: string;
}

export interface PodSandbox {
  id: string;
  metadata: PodSandboxMetadata;
  state: PodSandboxState;
  createdAt: number;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface PodSandboxFilter {
  id?: string;
  state?: PodSandboxState;
  labelSelector?: Record<string, string>;
}

export interface Container {
  id: string;
  podSandboxId: string;
  metadata: ContainerMetadata;
  image: { image: string };
  imageRef: string;
  state: ContainerState;
  createdAt: number;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface ContainerFilter {
  id?: string;
  state?: ContainerState;
  podSandboxId?: string;
  labelSelector?: Record<string, string>;
}

/** Reasons the kubelet copies into ContainerStateTerminated.reason. */
export type ContainerExitReason = 'Completed' | 'Error' | 'OOMKilled' | 'ContainerCannotRun' | 'Unknown' | string;

export interface ContainerStatus {
  id: string;
  metadata: ContainerMetadata;
  state: ContainerState;
  createdAt: number;
  startedAt: number; // 0 when not started
  finishedAt: number; // 0 when not finished
  exitCode: number;
  image: { image: string };
  imageRef: string;
  reason: ContainerExitReason;
  message: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  mounts: Mount[];
  logPath: string;
  /** Host pid of the container's init process while running. */
  pid?: number;
}

export interface ExecSyncResult { stdout: Buffer; stderr: Buffer; exitCode: number }

export interface ExecOptions { tty?: boolean; stdin?: boolean }

/** A running exec or attach session. With tty, stderr is merged into stdout (as in the CRI). */
export interface StreamSession {
  stdin: Writable | null;
  stdout: Readable;
  stderr: Readable | null;
  resize(width: number, height: number): void;
  /** Resolves with the exit code of the exec'd process (attach: of the container). */
  exit: Promise<number>;
  /** Ends the session (closes stdin, detaches the streams). */
  close(): void;
}

export interface ContainerStats {
  attributes: { id: string; metadata: ContainerMetadata; labels: Record<string, string>; annotations: Record<string, string> };
  cpu: { timestamp: number; usageCoreNanoSeconds: number; usageNanoCores: number };
  memory: { timestamp: number; workingSetBytes: number; usageBytes: number; rssBytes?: number };
  writableLayer?: { usedBytes: number };
}

export interface ContainerStatsFilter { id?: string; podSandboxId?: string; labelSelector?: Record<string, string> }

export interface VersionResponse { version: string; runtimeName: string; runtimeVersion: string; runtimeApiVersion: string }

export interface RuntimeService {
  version(): Promise<VersionResponse>;

  runPodSandbox(config: PodSandboxConfig, runtimeHandler?: string): Promise<string>;
  /** Stops every container of the sandbox and releases its resources; idempotent. */
  stopPodSandbox(podSandboxId: string): Promise<void>;
  /** Removes the sandbox and its containers; idempotent (NotFound is not an error). */
  removePodSandbox(podSandboxId: string): Promise<void>;
  podSandboxStatus(podSandboxId: string): Promise<PodSandboxStatus>;
  listPodSandbox(filter?: PodSandboxFilter): Promise<PodSandbox[]>;

  createContainer(podSandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig): Promise<string>;
  startContainer(containerId: string): Promise<void>;
  /** SIGTERM (or the image's stop signal), then SIGKILL after timeoutSeconds; idempotent. */
  stopContainer(containerId: string, timeoutSeconds: number): Promise<void>;
  removeContainer(containerId: string): Promise<void>;
  listContainers(filter?: ContainerFilter): Promise<Container[]>;
  containerStatus(containerId: string): Promise<ContainerStatus>;

  execSync(containerId: string, cmd: string[], timeoutSeconds?: number): Promise<ExecSyncResult>;
  exec(containerId: string, cmd: string[], options?: ExecOptions): Promise<StreamSession>;
  attach(containerId: string, options?: ExecOptions): Promise<StreamSession>;
  /** Makes the log writer reopen logPath (after the kubelet rotated it). */
  reopenContainerLog(containerId: string): Promise<void>;

  containerStats(containerId: string): Promise<ContainerStats>;
  listContainerStats(filter?: ContainerStatsFilter): Promise<ContainerStats[]>;

  /** A byte stream to `port` on the sandbox's loopback, inside its network namespace. */
  portForward(podSandboxId: string, port: number): Promise<Duplex>;

  /**
   * CRI RuntimeStatus.runtime_handlers: the handlers runPodSandbox accepts, the default one
   * named "" (as containerd reports it). Absent: the runtime knows only its default.
   */
  runtimeHandlers?(): Promise<RuntimeHandlerInfo[]>;
}

export interface RuntimeHandlerInfo {
  name: string;
  features: { recursiveReadOnlyMounts: boolean; userNamespaces: boolean };
}

export interface AuthConfig { username?: string; password?: string; auth?: string; identityToken?: string; registryToken?: string }

export interface Image {
  id: string; // config digest, "sha256:…"
  repoTags: string[];
  repoDigests: string[];
  size: number;
  uid?: number;
  username?: string;
  /** The image config (Entrypoint, Cmd, Env, WorkingDir, User…), as in the OCI image config. */
  spec?: ImageConfig;
}

export interface ImageConfig {
  Entrypoint?: string[];
  Cmd?: string[];
  Env?: string[];
  WorkingDir?: string;
  User?: string;
  StopSignal?: string;
  ExposedPorts?: Record<string, unknown>;
  Labels?: Record<string, string>;
}

export interface PullProgress { ref: string; layersDone: number; layersTotal: number; bytesDone: number; bytesTotal: number; status: string }

export interface FilesystemUsage { timestamp: number; fsId: { mountpoint: string }; usedBytes: number; inodesUsed: number }

export interface ImageService {
  listImages(): Promise<Image[]>;
  /** null when the image is not present (CRI returns an empty status, not an error). */
  imageStatus(ref: string): Promise<Image | null>;
  pullImage(ref: string, auth?: AuthConfig, onProgress?: (p: PullProgress) => void): Promise<string>;
  removeImage(ref: string): Promise<void>;
  imageFsInfo(): Promise<FilesystemUsage[]>;
}

/** Errors carry a CRI-ish code so the kubelet can tell "gone" from "broken". */
export class RuntimeError extends Error {
  constructor(readonly code: 'NotFound' | 'AlreadyExists' | 'FailedPrecondition' | 'InvalidArgument' | 'Unavailable' | 'Internal' | 'DeadlineExceeded', message: string) {
    super(message);
    this.name = 'RuntimeError';
  }
}

export function notFound(kind: string, id: string): RuntimeError {
  return new RuntimeError('NotFound', `${kind} "${id}" not found`);
}

export function matchesLabels(labels: Record<string, string>, selector?: Record<string, string>): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector)) if (labels[k] !== v) return false;
  return true;
}
