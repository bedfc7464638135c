// Pod volumes on the node: <dataDir>/pods/<uid>/volumes/<plugin>/<name>, as the kubelet lays
// them out. Content volumes (configMap, secret, downwardAPI, projected) are rewritten on each
// sync with Kubernetes' atomic-writer layout (a timestamped dir behind a "..data" symlink),
// so a running container sees an update all at once.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Mount } from '../runtime/types.js';
import { formatMap, podFieldValue, resourceFieldValue } from './env.js';

const run = promisify(execFile);

export interface VolumeSource {
  configMap(namespace: string, name: string): Promise<any | undefined>;
  secret(namespace: string, name: string): Promise<any | undefined>;
  persistentVolumeClaim(namespace: string, name: string): Promise<any | undefined>;
  persistentVolume(name: string): Promise<any | undefined>;
  /** TokenRequest; undefined when the server does not serve it. */
  serviceAccountToken(namespace: string, serviceAccount: string, request: { audiences?: string[]; expirationSeconds: number; podName: string; podUid: string }): Promise<string | undefined>;
}

export class VolumeError extends Error {
  constructor(readonly volume: string, detail: string) {
    super(`MountVolume.SetUp failed for volume "${volume}" : ${detail}`);
  }
}

export interface VolumeManagerOptions {
  dataDir: string;
  source: VolumeSource;
  allocatable: Record<string, string>;
  /** tmpfs for emptyDir medium Memory needs mount(2); without it a plain directory is used. */
  canMount: boolean;
}

type FileEntry = { path: string; content: Buffer; mode?: number };

function modeOf(mode: number | undefined, fallback: number): number {
  return mode ?? fallback;
}

function keyItems(data: Record<string, Buffer>, items: any[] | undefined, defaultMode: number, optional: boolean, what: string): FileEntry[] {
  if (!items || items.length === 0) return Object.entries(data).map(([key, content]) => ({ path: key, content, mode: defaultMode }));
  const out: FileEntry[] = [];
  for (const item of items) {
    const content = data[item.key];
    if (content === undefined) {
      if (optional) continue;
      throw new Error(`configuration key "${item.key}" not found in ${what}`);
    }
    out.push({ path: item.path, content, mode: modeOf(item.mode, defaultMode) });
  }
  return out;
}

/** Writes files behind "..data" atomically and removes what the previous version had. */
async function atomicWrite(dir: string, files: FileEntry[], now: number): Promise<void> {
  await fsp.mkdir(dir, { recursive: true });
  const versionName = `..${new Date(now).toISOString().replace(/[:.]/g, '_')}.${process.pid}.${Math.floor(Math.random() * 1e9)}`;
  const versionDir = path.join(dir, versionName);
  await fsp.mkdir(versionDir);
  for (const file of files) {
    if (file.path.split('/').includes('..') || path.isAbsolute(file.path)) throw new Error(`invalid path ${file.path}`);
    const target = path.join(versionDir, file.path);
    await fsp.mkdir(path.dirname(target), { recursive: true });
    await fsp.writeFile(target, file.content, { mode: file.mode ?? 0o644 });
    await fsp.chmod(target, file.mode ?? 0o644);
  }
  const dataLink = path.join(dir, '..data');
  const tmpLink = path.join(dir, '..data_tmp');
  await fsp.rm(tmpLink, { force: true });
  await fsp.symlink(versionName, tmpLink);
  const previous = await fsp.readlink(dataLink).catch(() => undefined);
  await fsp.rename(tmpLink, dataLink);
  // Top-level entries are symlinks through ..data, so renaming ..data switches them all at once.
  const topLevel = new Set(files.map((f) => f.path.split('/')[0]!));
  for (const name of topLevel) {
    const link = path.join(dir, name);
    const existing = await fsp.readlink(link).catch(() => undefined);
    if (existing !== path.join('..data', name)) {
      await fsp.rm(link, { recursive: true, force: true });
      await fsp.symlink(path.join('..data', name), link);
    }
  }
  for (const entry of await fsp.readdir(dir)) {
    if (entry.startsWith('..') || topLevel.has(entry)) continue;
    await fsp.rm(path.join(dir, entry), { recursive: true, force: true });
  }
  if (previous && previous !== versionName) await fsp.rm(path.join(dir, previous), { recursive: true, force: true });
}

function decodeSecret(secret: any): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries<string>(secret.data ?? {})) out[k] = Buffer.from(v, 'base64');
  for (const [k, v] of Object.entries<string>(secret.stringData ?? {})) out[k] = Buffer.from(v);
  return out;
}

function decodeConfigMap(cm: any): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries<string>(cm.data ?? {})) out[k] = Buffer.from(v);
  for (const [k, v] of Object.entries<string>(cm.binaryData ?? {})) out[k] = Buffer.from(v, 'base64');
  return out;
}

async function isMountPoint(dir: string): Promise<boolean> {
  const mounts = await fsp.readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  return mounts.split('\n').some((line) => line.split(' ')[4] === dir);
}

export class VolumeManager {
  constructor(private readonly options: VolumeManagerOptions) {}

  podDir(uid: string): string {
    return path.join(this.options.dataDir, 'pods', uid);
  }

  /** Sets up (or refreshes) every volume of the pod; returns name → host path. */
  async setUp(pod: any, now: number): Promise<Map<string, string>> {
    const paths = new Map<string, string>();
    for (const volume of pod.spec?.volumes ?? []) {
      try {
        paths.set(volume.name, await this.setUpOne(pod, volume, now));
      } catch (err) {
        if (err instanceof VolumeError) throw err;
        throw new VolumeError(volume.name, (err as Error).message);
      }
    }
    return paths;
  }

  private volumeDir(pod: any, plugin: string, name: string): string {
    return path.join(this.podDir(pod.metadata.uid), 'volumes', plugin, name);
  }

  private async setUpOne(pod: any, volume: any, now: number): Promise<string> {
    const ns = pod.metadata.namespace;
    const { source } = this.options;
    if (volume.emptyDir) {
      const dir = this.volumeDir(pod, 'kubernetes.io~empty-dir', volume.name);
      await fsp.mkdir(dir, { recursive: true, mode: 0o777 });
      if (volume.emptyDir.medium === 'Memory' && this.options.canMount && !(await isMountPoint(dir))) {
        const size = volume.emptyDir.sizeLimit ? [`-o`, `size=${volume.emptyDir.sizeLimit.replace(/i$/, '')}`] : [];
        await run('mount', ['-t', 'tmpfs', ...size, 'tmpfs', dir]);
      }
      await fsp.chmod(dir, 0o777);
      return dir;
    }
    if (volume.hostPath) return this.hostPath(volume);
    if (volume.configMap) {
      const dir = this.volumeDir(pod, 'kubernetes.io~configmap', volume.name);
      const cm = await source.configMap(ns, volume.configMap.name);
      if (!cm && !volume.configMap.optional) throw new VolumeError(volume.name, `configmap "${volume.configMap.name}" not found`);
      const files = cm ? keyItems(decodeConfigMap(cm), volume.configMap.items, volume.configMap.defaultMode ?? 0o644, !!volume.configMap.optional, `ConfigMap ${ns}/${volume.configMap.name}`) : [];
      await atomicWrite(dir, files, now);
      return dir;
    }
    if (volume.secret) {
      const dir = this.volumeDir(pod, 'kubernetes.io~secret', volume.name);
      const secret = await source.secret(ns, volume.secret.secretName);
      if (!secret && !volume.secret.optional) throw new VolumeError(volume.name, `secret "${volume.secret.secretName}" not found`);
      const files = secret ? keyItems(decodeSecret(secret), volume.secret.items, volume.secret.defaultMode ?? 0o644, !!volume.secret.optional, `Secret ${ns}/${volume.secret.secretName}`) : [];
      await atomicWrite(dir, files, now);
      return dir;
    }
    if (volume.downwardAPI) {
      const dir = this.volumeDir(pod, 'kubernetes.io~downward-api', volume.name);
      await atomicWrite(dir, this.downwardFiles(pod, volume.downwardAPI.items ?? [], volume.downwardAPI.defaultMode ?? 0o644), now);
      return dir;
    }
    if (volume.projected) {
      const dir = this.volumeDir(pod, 'kubernetes.io~projected', volume.name);
      await atomicWrite(dir, await this.projectedFiles(pod, volume), now);
      return dir;
    }
    if (volume.persistentVolumeClaim) {
      const claim = await source.persistentVolumeClaim(ns, volume.persistentVolumeClaim.claimName);
      if (!claim) throw new VolumeError(volume.name, `persistentvolumeclaim "${volume.persistentVolumeClaim.claimName}" not found`);
      if (!claim.spec?.volumeName || claim.status?.phase !== 'Bound') throw new VolumeError(volume.name, `PVC ${ns}/${claim.metadata.name} is not bound`);
      const pv = await source.persistentVolume(claim.spec.volumeName);
      const hostPath = pv?.spec?.hostPath?.path ?? pv?.spec?.local?.path;
      if (!hostPath) throw new VolumeError(volume.name, `persistentvolume "${claim.spec.volumeName}" has no hostPath or local path this node can mount`);
      // A provisioned volume starts empty and open to every user (as rancher's local-path
      // provisioner makes it), so a container running as non-root can write its data there.
      const created = await fsp.mkdir(hostPath, { recursive: true });
      if (created !== undefined && pv.spec.hostPath?.type === 'DirectoryOrCreate') await fsp.chmod(hostPath, 0o777);
      return hostPath;
    }
    throw new VolumeError(volume.name, 'volume type is not supported by this node');
  }

  private async hostPath(volume: any): Promise<string> {
    const p: string = volume.hostPath.path;
    const type: string = volume.hostPath.type ?? '';
    const stat = await fsp.stat(p).catch(() => undefined);
    const fail = (what: string) => { throw new VolumeError(volume.name, `hostPath type check failed: ${p} is not a ${what}`); };
    switch (type) {
      case 'DirectoryOrCreate':
        if (!stat) await fsp.mkdir(p, { recursive: true, mode: 0o755 });
        else if (!stat.isDirectory()) fail('directory');
        break;
      case 'Directory':
        if (!stat?.isDirectory()) fail('directory');
        break;
      case 'FileOrCreate':
        if (!stat) { await fsp.mkdir(path.dirname(p), { recursive: true }); await fsp.writeFile(p, '', { mode: 0o644 }); }
        else if (!stat.isFile()) fail('file');
        break;
      case 'File':
        if (!stat?.isFile()) fail('file');
        break;
      case 'Socket':
        if (!stat?.isSocket()) fail('socket');
        break;
      case 'CharDevice':
        if (!stat?.isCharacterDevice()) fail('character device');
        break;
      case 'BlockDevice':
        if (!stat?.isBlockDevice()) fail('block device');
        break;
    }
    return p;
  }

  private downwardFiles(pod: any, items: any[], defaultMode: number): FileEntry[] {
    return items.map((item) => {
      let value = '';
      if (item.fieldRef) {
        const field = item.fieldRef.fieldPath;
        value = field === 'metadata.labels' ? formatMap(pod.metadata.labels) : field === 'metadata.annotations' ? formatMap(pod.metadata.annotations) : podFieldValue(pod, field) ?? '';
      } else if (item.resourceFieldRef) {
        const container = (pod.spec.containers ?? []).find((c: any) => c.name === item.resourceFieldRef.containerName);
        value = resourceFieldValue(container, item.resourceFieldRef, this.options.allocatable);
      }
      return { path: item.path, content: Buffer.from(value), mode: modeOf(item.mode, defaultMode) };
    });
  }

  private async projectedFiles(pod: any, volume: any): Promise<FileEntry[]> {
    const ns = pod.metadata.namespace;
    const defaultMode = volume.projected.defaultMode ?? 0o644;
    const files: FileEntry[] = [];
    for (const source of volume.projected.sources ?? []) {
      if (source.configMap) {
        const cm = await this.options.source.configMap(ns, source.configMap.name);
        if (!cm) {
          if (source.configMap.optional) continue;
          throw new VolumeError(volume.name, `configmap "${source.configMap.name}" not found`);
        }
        files.push(...keyItems(decodeConfigMap(cm), source.configMap.items, defaultMode, !!source.configMap.optional, `ConfigMap ${ns}/${source.configMap.name}`));
      } else if (source.secret) {
        const secret = await this.options.source.secret(ns, source.secret.name);
        if (!secret) {
          if (source.secret.optional) continue;
          throw new VolumeError(volume.name, `secret "${source.secret.name}" not found`);
        }
        files.push(...keyItems(decodeSecret(secret), source.secret.items, defaultMode, !!source.secret.optional, `Secret ${ns}/${source.secret.name}`));
      } else if (source.downwardAPI) {
        files.push(...this.downwardFiles(pod, source.downwardAPI.items ?? [], defaultMode));
      } else if (source.serviceAccountToken) {
        const token = await this.options.source.serviceAccountToken(ns, pod.spec.serviceAccountName ?? 'default', {
          audiences: source.serviceAccountToken.audience ? [source.serviceAccountToken.audience] : undefined,
          expirationSeconds: source.serviceAccountToken.expirationSeconds ?? 3607,
          podName: pod.metadata.name,
          podUid: pod.metadata.uid,
        });
        // Without TokenRequest on the server there is no token to project; the other files still are.
        if (token !== undefined) files.push({ path: source.serviceAccountToken.path, content: Buffer.from(token), mode: defaultMode });
      }
    }
    return files;
  }

  /** Unmounts tmpfs volumes and removes the pod's directory (never a hostPath or PV path). */
  async tearDown(uid: string): Promise<void> {
    const emptyDirs = path.join(this.podDir(uid), 'volumes', 'kubernetes.io~empty-dir');
    for (const name of await fsp.readdir(emptyDirs).catch(() => [] as string[])) {
      const dir = path.join(emptyDirs, name);
      if (await isMountPoint(dir)) await run('umount', [dir]).catch(() => run('umount', ['-l', dir]));
    }
    if (fs.existsSync(this.podDir(uid))) await fsp.rm(this.podDir(uid), { recursive: true, force: true });
  }

  /** Container mounts from volumeMounts (subPath resolved under the volume). */
  mounts(container: any, volumes: Map<string, string>): Mount[] {
    const out: Mount[] = [];
    for (const vm of container.volumeMounts ?? []) {
      const base = volumes.get(vm.name);
      if (!base) throw new VolumeError(vm.name, `volume "${vm.name}" is not set up`);
      let hostPath = base;
      if (vm.subPath) {
        if (vm.subPath.split('/').includes('..') || path.isAbsolute(vm.subPath)) throw new VolumeError(vm.name, `invalid subPath ${vm.subPath}`);
        hostPath = path.join(base, vm.subPath);
        if (!fs.existsSync(hostPath)) fs.mkdirSync(hostPath, { recursive: true });
      }
      out.push({ containerPath: vm.mountPath, hostPath, readonly: !!vm.readOnly });
    }
    return out;
  }
}
