// The floor for "pod create → Running": what any runtime must do for a one-container pod with the
// image present — pin a fresh netns, CNI ADD (loopback, then bridge+host-local+portmap as navarch
// configures them) and `runc run -d` of the same image's bundle — with no API, kubelet or shim.
// Everything lives on a test-local bridge and subnet, so nothing collides with a running cluster.
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { OciRuntime } from './oci-runtime.js';
import { ImageStore } from '../images/store.js';
import { mountOverlay, unmount } from '../images/layers.js';
import { defaultConfList, loopbackConfList, type NetworkConfigList, type PluginConf } from '../../network/cni/cni.js';

const execFileP = promisify(execFile);

export interface RawPodBaselineOptions {
  /** A docker-archive of the image (busybox), imported into a private store. */
  imageArchive: string;
  image?: string;
  /** Test-local network: bridge name (≤ 15 chars) and subnet, distinct from any cluster's. */
  bridge: string;
  subnet: string;
  cniBinDir?: string;
}

export interface RawPod {
  /** ms for netns add + CNI ADD (lo, bridge) + runc run -d. */
  startMs: number;
  ip: string;
  /** CNI DEL, netns delete, runc delete, unmount (untimed by callers unless they want it). */
  remove(): Promise<void>;
}

export interface RawPodBaseline {
  start(): Promise<RawPod>;
  close(): Promise<void>;
}

/**
 * Prepares the bundle template (navarch's own generated config.json for the image, so both sides
 * run the same process with the same mounts and limits) and returns a starter for raw pods.
 */
export async function openRawPodBaseline(options: RawPodBaselineOptions): Promise<RawPodBaseline> {
  const image = options.image ?? 'busybox';
  const cniBin = options.cniBinDir ?? '/usr/lib/cni';
  const root = await fsp.mkdtemp(path.join(os.tmpdir(), 'navarch-rawpod-'));
  const runcRoot = path.join(root, 'runc');
  const cgroupRoot = `/navarch-rawpod-${path.basename(root)}`;
  const images = new ImageStore(path.join(root, 'images'));
  await images.importArchive(options.imageArchive);
  const rt = new OciRuntime({ root: path.join(root, 'state'), images, runtimeStateRoot: path.join(root, 'rt-runc'), cgroupRoot, prewarmShim: false });
  const sc = { metadata: { name: 'raw', uid: 'raw', namespace: 'default' }, logDirectory: path.join(root, 'logs') };
  // The sandbox stays until close(): its /etc/hosts and resolv.conf are the template's bind sources.
  const sb = await rt.runPodSandbox(sc);
  const templateId = await rt.createContainer(sb, { metadata: { name: 'template' }, image: { image }, command: ['sleep', '3600'], logPath: 'template.log' }, sc);
  const template = JSON.parse(await fsp.readFile(path.join(root, 'state/containers', templateId, 'bundle/config.json'), 'utf8'));
  const { layers } = await images.rootfsOf(image);
  const network: NetworkConfigList = defaultConfList({ podCIDR: options.subnet, bridge: options.bridge, name: `raw-${options.bridge}`, ipamDataDir: path.join(root, 'ipam') });
  const loopback = loopbackConfList();
  let seq = 0;

  const plugin = (command: 'ADD' | 'DEL', list: NetworkConfigList, conf: PluginConf, id: string, netns: string, ifName: string, prev?: unknown): Promise<unknown> => {
    const config: Record<string, unknown> = { ...conf, cniVersion: list.cniVersion, name: list.name, ...(prev ? { prevResult: prev } : {}) };
    delete config.capabilities;
    return new Promise((resolve, reject) => {
      const c = spawn(path.join(cniBin, conf.type), [], { env: { PATH: process.env.PATH, CNI_COMMAND: command, CNI_CONTAINERID: id, CNI_NETNS: netns, CNI_IFNAME: ifName, CNI_PATH: cniBin }, stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      c.stdout.on('data', (d) => (out += d));
      c.stderr.resume();
      c.on('error', reject);
      c.on('exit', (code) => (code === 0 ? resolve(out.trim() ? JSON.parse(out) : prev) : reject(new Error(`CNI ${conf.type} ${command} exited ${code}: ${out}`))));
      c.stdin.end(JSON.stringify(config));
    });
  };
  const add = async (list: NetworkConfigList, id: string, netns: string, ifName: string) => {
    let prev: unknown;
    for (const conf of list.plugins) prev = await plugin('ADD', list, conf, id, netns, ifName, prev);
    return prev as { ips?: { address: string }[] };
  };
  const del = async (list: NetworkConfigList, id: string, netns: string, ifName: string, prev: unknown) => {
    for (const conf of [...list.plugins].reverse()) await plugin('DEL', list, conf, id, netns, ifName, prev).catch(() => undefined);
  };

  return {
    async start() {
      const id = `raw-${seq++}-${path.basename(root).slice(-6)}`;
      const bundle = path.join(root, 'bundles', id);
      await mountOverlay(layers.map((l) => l.fsDir), path.join(bundle, 'upper'), path.join(bundle, 'work'), path.join(bundle, 'rootfs'));
      const netnsName = `nvraw-${id}`;
      const netns = `/run/netns/${netnsName}`;
      const config = structuredClone(template);
      config.linux.cgroupsPath = `${cgroupRoot}/${id}`;
      config.linux.namespaces = config.linux.namespaces.map((n: { type: string; path?: string }) => (n.type === 'network' ? { type: 'network', path: netns } : n));
      // ipc: the template points at the template sandbox's pinned IPC namespace; a raw pod has its own.
      config.linux.namespaces = config.linux.namespaces.map((n: { type: string; path?: string }) => (n.type === 'ipc' ? { type: 'ipc' } : n));
      await fsp.writeFile(path.join(bundle, 'config.json'), JSON.stringify(config));

      const t0 = performance.now();
      await execFileP('ip', ['netns', 'add', netnsName]);
      await add(loopback, id, netns, 'lo');
      const result = await add(network, id, netns, 'eth0');
      await new Promise<void>((resolve, reject) => {
        // stdio must not be pipes: the detached container would hold them open.
        const c = spawn('runc', ['--root', runcRoot, 'run', '-d', '--bundle', bundle, id], { stdio: 'ignore' });
        c.on('error', reject);
        c.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`runc run -d exited ${code}`))));
      });
      const startMs = performance.now() - t0;
      return {
        startMs,
        ip: result.ips?.[0]?.address.split('/')[0] ?? '',
        async remove() {
          await execFileP('runc', ['--root', runcRoot, 'delete', '--force', id]).catch(() => undefined);
          await del(network, id, netns, 'eth0', result);
          await del(loopback, id, netns, 'lo', undefined);
          await execFileP('ip', ['netns', 'delete', netnsName]).catch(() => undefined);
          await unmount(path.join(bundle, 'rootfs'));
        },
      };
    },
    async close() {
      await rt.removeContainer(templateId).catch(() => undefined);
      await rt.removePodSandbox(sb).catch(() => undefined);
      await rt.close();
      await execFileP('ip', ['link', 'del', options.bridge]).catch(() => undefined);
      for (const ctrl of await fsp.readdir('/sys/fs/cgroup').catch(() => [] as string[])) {
        for (const sub of await fsp.readdir(path.join('/sys/fs/cgroup', ctrl, cgroupRoot)).catch(() => [] as string[])) await fsp.rmdir(path.join('/sys/fs/cgroup', ctrl, cgroupRoot, sub)).catch(() => {});
        await fsp.rmdir(path.join('/sys/fs/cgroup', ctrl, cgroupRoot)).catch(() => {});
      }
      await fsp.rm(root, { recursive: true, force: true });
    },
  };
}
