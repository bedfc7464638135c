// A node: the runtime (runc/crun, process or fake), its image store (with the air-gap
// auto-import of <data-dir>/images/*.tar), the pod network (CNI for runc; none for the others),
// the per-node service proxy and NetworkPolicy enforcement, and the kubelet. Used by
// `navarch server` (in-process transport) and `navarch agent` (HTTPS with a node certificate).
import { existsSync, mkdirSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import type { Transport } from '../client/transport.js';
import { createKubelet, type Kubelet } from '../kubelet/kubelet.js';
import { noopPodNetwork, type PodNetwork } from '../kubelet/network.js';
import { startNodeNetworking, type NodeNetworking } from '../network/node/node-networking.js';
import { createCniPodNetwork } from '../network/node/pod-network.js';
import { FakeNode, FakeRuntime } from '../runtime/fake/fake-runtime.js';
import { NodeImageService } from '../runtime/images/image-service.js';
import { OciRuntime, preflight } from '../runtime/oci/oci-runtime.js';
import { MultiRuntime } from '../runtime/multi/multi-runtime.js';
import { ProcessRuntime } from '../runtime/process/process-runtime.js';
import type { ImageService, RuntimeService } from '../runtime/types.js';
import { withImageService } from '../runtime/with-image-service.js';
export { withImageService };
import { log } from '../util/log.js';

export type RuntimeKind = 'runc' | 'crun' | 'process' | 'fake';

export interface NodeConfig {
  dataDir: string;
  nodeName: string;
  nodeIP?: string;
  runtime: RuntimeKind;
  clusterDns?: string;
  clusterCidr?: string;
  serviceCidr?: string;
  nodeLabels?: Record<string, string>;
  nodeTaints?: { key: string; value?: string; effect: string }[];
  /** Kubelet serving certificate (streaming: logs/exec/port-forward) and the CA its clients must present. */
  serving?: { certPem: string; keyPem: string; clientCaPem: string; port?: number };
  /** Registry mirrors: "docker.io" → "http://127.0.0.1:5000". */
  mirrors?: Record<string, string[]>;
  insecureRegistries?: string[];
  /** Kubernetes' --eviction-hard (kubelet defaults when absent; "" turns eviction off). */
  evictionHard?: string;
  /** Names this node's host networking: bridge `<name>0`, device `<name>-svc`, iptables chains `<NAME>-*` (default navarch). */
  networkName?: string;
}

/** Host-wide names a node's networking uses, so two clusters on one host never touch each other's. */
export function hostNetworkNames(networkName = 'navarch'): { bridge: string; serviceInterface: string; chainPrefix: string } {
  if (!/^[a-z][a-z0-9]{0,6}$/.test(networkName)) throw new Error(`--network-name must be 1-7 lowercase letters/digits starting with a letter (got "${networkName}")`);
  return { bridge: `${networkName}0`, serviceInterface: `${networkName}-svc`, chainPrefix: networkName.toUpperCase() };
}

export interface RunningNode {
  kubelet: Kubelet;
  networking?: NodeNetworking;
  images: NodeImageService | undefined;
  stop(): Promise<void>;
}

/** The host's first non-loopback IPv4 address: the node's InternalIP. */
export function primaryNodeIP(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

export async function startNode(config: NodeConfig, transport: Transport, signal: AbortSignal): Promise<RunningNode> {
  const nodeIP = config.nodeIP ?? primaryNodeIP();
  const root = join(config.dataDir, 'node');
  mkdirSync(root, { recursive: true });
  let runtime: RuntimeService & ImageService;
  let images: NodeImageService | undefined;
  let network: PodNetwork;
  let networking: NodeNetworking | undefined;
  /** Releases the runtime's agent-side helpers (pre-warmed standby shims); pods keep running. */
  let closeRuntime: () => Promise<void> = async () => undefined;
  const nodeSignal = new AbortController();
  signal.addEventListener('abort', () => nodeSignal.abort(), { once: true });

  if (config.runtime === 'fake') {
    const fake = new FakeRuntime(new FakeNode());
    images = undefined;
    runtime = fake as unknown as RuntimeService & ImageService;
    network = noopPodNetwork({ nodeIP, podCIDR: '10.42.250.0/24' });
  } else {
    images = new NodeImageService({ root: join(config.dataDir, 'images', 'store'), mirrors: config.mirrors, insecureRegistries: config.insecureRegistries });
    const imageDrop = join(config.dataDir, 'images');
    if (existsSync(imageDrop)) {
      const imported = await images.importDirectory(imageDrop, (p) => log.debug('images', 'import', { ...p })).catch((e) => {
        log.warn('images', 'auto-import failed', { dir: imageDrop, error: (e as Error).message });
        return [];
      });
      if (imported.length) log.info('images', 'imported', { images: imported });
    }
    if (config.runtime === 'process') {
      // One handler, but named: a RuntimeClass asking for another one fails as in containerd.
      const multi = new MultiRuntime({ defaultHandler: 'process', handlers: { process: new ProcessRuntime({ root: join(root, 'process') }) } });
      closeRuntime = () => multi.close();
      runtime = withImageService(multi, images);
      network = noopPodNetwork({ nodeIP });
    } else {
      preflight(config.runtime);
      const multi = ociNodeRuntimes(config.runtime, root, images);
      closeRuntime = () => multi.close();
      runtime = withImageService(multi, images);
      const names = hostNetworkNames(config.networkName);
      networking = await startNodeNetworking({
        transport,
        chainPrefix: names.chainPrefix,
        serviceInterface: names.serviceInterface,
        nodeName: config.nodeName,
        nodeIP,
        clusterCidr: config.clusterCidr,
        serviceCidr: config.serviceCidr,
        clusterDns: config.clusterDns,
        mode: 'iptables',
        signal: nodeSignal.signal,
      });
      const n = networking;
      const cni = createCniPodNetwork({ nodeName: config.nodeName, podCidr: () => n.podCidr(), confDir: join(root, 'cni', 'net.d'), stateDir: join(root, 'cni', 'state'), bridge: names.bridge });
      // Pods of the process handler share the host's network: CNI has no namespace to wire.
      network = perHandlerPodNetwork(multi, { process: noopPodNetwork({ nodeIP }) }, cni);
    }
  }

  const kubelet = createKubelet({
    transport,
    nodeName: config.nodeName,
    runtime,
    network,
    dataDir: join(root, 'kubelet'),
    nodeIP,
    clusterDNS: [config.clusterDns ?? '10.43.0.10'],
    clusterDomain: 'cluster.local',
    nodeLabels: config.nodeLabels,
    nodeTaints: config.nodeTaints,
    evictionHard: config.evictionHard,
    // A fake node's memory is simulated: its pressure is the pods' reported usage, never the host's.
    evictionStats: config.runtime === 'fake' ? 'pods' : 'host',
    serving: config.serving ? { certPem: config.serving.certPem, keyPem: config.serving.keyPem, clientCaPem: config.serving.clientCaPem, port: config.serving.port ?? 10250 } : undefined,
    log: (level, msg, fields) => log[level]('kubelet', msg, fields),
  });
  await kubelet.start(nodeSignal.signal);
  log.info('node', 'started', { node: config.nodeName, runtime: config.runtime, nodeIP });
  return {
    kubelet,
    networking,
    images,
    async stop() {
      nodeSignal.abort();
      await kubelet.stop();
      await closeRuntime();
      if (networking) await networking.stopped;
    },
  };
}

/**
 * The runtime handlers of a runc/crun node (RuntimeClass `handler` values): the node's OCI
 * runtime as default, `process` (host processes), and the other OCI binary when its preflight
 * passes — otherwise it is kept as unavailable, so a pod asking for it gets the reason.
 */
export function ociNodeRuntimes(kind: 'runc' | 'crun', root: string, images: NodeImageService): MultiRuntime {
  const handlers: Record<string, RuntimeService> = {
    [kind]: new OciRuntime({ root: join(root, 'oci'), images: images.store, runtimeBinary: kind }),
    process: new ProcessRuntime({ root: join(root, 'process') }),
  };
  const unavailable: Record<string, string> = {};
  const other = kind === 'runc' ? 'crun' : 'runc';
  try {
    preflight(other);
    handlers[other] = new OciRuntime({ root: join(root, `oci-${other}`), images: images.store, runtimeBinary: other, runtimeStateRoot: `/run/navarch/${other}-handler` });
  } catch (e) {
    unavailable[other] = (e as Error).message;
    log.info('node', 'runtime handler unavailable', { handler: other, reason: unavailable[other] });
  }
  return new MultiRuntime({ defaultHandler: kind, handlers, unavailable });
}

/** Routes a sandbox's network to the PodNetwork of the handler that owns it (fallback: the node's CNI). */
export function perHandlerPodNetwork(runtime: MultiRuntime, byHandler: Record<string, PodNetwork>, fallback: PodNetwork): PodNetwork {
  const pick = async (sandboxId: string) => byHandler[(await runtime.sandboxHandler(sandboxId).catch(() => undefined)) ?? ''] ?? fallback;
  return {
    async setUp(input) { return (await pick(input.sandboxId)).setUp(input); },
    async tearDown(input) { return (await pick(input.sandboxId)).tearDown(input); },
  };
}

/**
 * Stops and removes every pod sandbox and container a node left in its data dir (processes,
 * rootfs mounts, network namespaces), through the runtime's own records — for `cluster delete`.
 */
export async function removeNodeWorkloads(dataDir: string): Promise<number> {
  let removed = 0;
  const images = new NodeImageService({ root: join(dataDir, 'images', 'store') });
  for (const handler of ['oci', 'oci-crun', 'oci-runc', 'process']) {
    const root = join(dataDir, 'node', handler);
    if (!existsSync(root)) continue;
    const runtime = handler === 'process'
      ? new ProcessRuntime({ root, prewarmShim: false })
      : new OciRuntime({ root, images: images.store, prewarmShim: false, ...(handler === 'oci' ? {} : { runtimeBinary: handler.slice(4), runtimeStateRoot: `/run/navarch/${handler.slice(4)}-handler` }) });
    removed += await removeAll(runtime);
  }
  return removed;
}

async function removeAll(runtime: RuntimeService): Promise<number> {
  const sandboxes = await runtime.listPodSandbox({});
  for (const container of await runtime.listContainers({})) {
    await runtime.stopContainer(container.id, 0).catch(() => undefined);
    await runtime.removeContainer(container.id).catch(() => undefined);
  }
  for (const sandbox of sandboxes) {
    await runtime.stopPodSandbox(sandbox.id).catch(() => undefined);
    await runtime.removePodSandbox(sandbox.id).catch(() => undefined);
  }
  return sandboxes.length;
}
