// The node's OCI image store.
//   blobs/sha256/<hex>        content-addressed blobs (manifests, configs, layer tarballs)
//   layers/<diffid-hex>/fs    each layer unpacked once, shared by every image that has it
//   layers/<diffid-hex>/whiteouts.json
//   meta.json                 references → manifest digests, per-image facts, layer refcounts
// A layer's refcount = images that list it + containers whose rootfs currently stacks it;
// it is deleted when that drops to zero.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { createGunzip } from 'node:zlib';
import { spawn } from 'node:child_process';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Image, ImageConfig, PullProgress } from '../types.js';
import { normalizeReference, parseReference, repositoryName } from './reference.js';
import { unpackLayer, readWhiteouts, type Whiteouts } from './layers.js';

export const mediaTypes = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

export interface Descriptor { mediaType: string; digest: string; size: number; platform?: { os: string; architecture: string; variant?: string }; annotations?: Record<string, string> }
export interface Manifest { schemaVersion: number; mediaType?: string; config: Descriptor; layers: Descriptor[] }
export interface OciImageConfigFile { architecture?: string; os?: string; config?: ImageConfig; rootfs: { type: string; diff_ids: string[] } }

interface ImageMeta { configDigest: string; layers: { digest: string; diffId: string; size: number }[]; repoDigests: string[]; size: number }
interface StoreMeta {
  refs: Record<string, string>; // normalised reference → manifest digest
  images: Record<string, ImageMeta>; // manifest digest → facts
  layers: Record<string, { refs: number; size: number }>; // diffID → refcount
}

export type ProgressFn = (p: PullProgress) => void;

export class ImageStore {
  private meta: StoreMeta;
  private lock: Promise<unknown> = Promise.resolve();

  constructor(readonly root: string) {
    for (const d of ['blobs/sha256', 'layers', 'tmp']) fs.mkdirSync(path.join(root, d), { recursive: true });
    try { this.meta = JSON.parse(fs.readFileSync(path.join(root, 'meta.json'), 'utf8')); } catch { this.meta = { refs: {}, images: {}, layers: {} }; }
  }

  /** Serialises mutations so concurrent pulls cannot lose refcounts. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => {});
    return run;
  }

  private async saveMeta(): Promise<void> {
    const f = path.join(this.root, 'meta.json');
    await fsp.writeFile(f + '.tmp', JSON.stringify(this.meta));
    await fsp.rename(f + '.tmp', f);
  }

  blobPath(digest: string): string {
    const [alg, hex] = digest.split(':');
    if (alg !== 'sha256' || !/^[a-f0-9]{64}$/.test(hex ?? '')) throw new Error(`unsupported digest ${digest}`);
    return path.join(this.root, 'blobs', 'sha256', hex);
  }
  hasBlob(digest: string): boolean { return fs.existsSync(this.blobPath(digest)); }
  tmpPath(): string { return path.join(this.root, 'tmp', randomBytes(8).toString('hex')); }
  layerDir(diffId: string): string { return path.join(this.root, 'layers', diffId.replace(/^sha256:/, '')); }

  async readBlobJson<T>(digest: string): Promise<T> { return JSON.parse(await fsp.readFile(this.blobPath(digest), 'utf8')); }

  async writeBlob(data: Buffer | string): Promise<string> {
    const buf = Buffer.isBuffer(data) ? data : Buffer.from(data);
    const digest = `sha256:${createHash('sha256').update(buf).digest('hex')}`;
    if (!this.hasBlob(digest)) { const t = this.tmpPath(); await fsp.writeFile(t, buf); await fsp.rename(t, this.blobPath(digest)); }
    return digest;
  }

  /** Moves a file into the store under its digest (verified when `expected` is given). */
  async adoptBlob(file: string, expected?: string): Promise<string> {
    const hash = createHash('sha256');
    await pipeline(fs.createReadStream(file), new Transform({ transform(c, _e, cb) { hash.update(c); cb(); } }));
    const digest = `sha256:${hash.digest('hex')}`;
    if (expected && expected !== digest) throw new Error(`blob digest mismatch: expected ${expected}, got ${digest}`);
    if (this.hasBlob(digest)) await fsp.rm(file, { force: true });
    else await fsp.rename(file, this.blobPath(digest)).catch(async () => { await fsp.copyFile(file, this.blobPath(digest)); await fsp.rm(file, { force: true }); });
    return digest;
  }

  /**
   * Records an image: unpacks its layers (skipping those present) and points `refs` at it.
   * `repoDigest` is what a registry calls it (the index digest for a manifest list).
   */
  async commitImage(manifestDigest: string, refs: string[], repoDigest: string | undefined, onProgress?: ProgressFn, progressBase?: Partial<PullProgress>): Promise<void> {
    const manifest = await this.readBlobJson<Manifest>(manifestDigest);
    const config = await this.readBlobJson<OciImageConfigFile>(manifest.config.digest);
    const diffIds = config.rootfs?.diff_ids ?? [];
    if (diffIds.length !== manifest.layers.length) throw new Error(`image config lists ${diffIds.length} layers, manifest ${manifest.layers.length}`);
    let done = 0;
    const total = manifest.layers.length;
    for (let i = 0; i < total; i++) {
      const layer = manifest.layers[i];
      const dir = this.layerDir(diffIds[i]);
      if (!fs.existsSync(path.join(dir, 'whiteouts.json'))) {
        const tmp = this.tmpPath();
        try {
          const { whiteouts } = await unpackLayer(this.blobPath(layer.digest), path.join(tmp, 'fs'), diffIds[i]);
          await fsp.writeFile(path.join(tmp, 'whiteouts.json'), JSON.stringify(whiteouts));
          await fsp.rm(dir, { recursive: true, force: true });
          await fsp.rename(tmp, dir);
        } catch (e) { await fsp.rm(tmp, { recursive: true, force: true }); throw e; }
      }
      done++;
      onProgress?.({ ref: refs[0] ?? manifestDigest, layersDone: done, layersTotal: total, bytesDone: 0, bytesTotal: 0, ...progressBase, status: `unpacked layer ${done}/${total}` });
    }
    await this.exclusive(async () => {
      let img = this.meta.images[manifestDigest];
      if (!img) {
        img = { configDigest: manifest.config.digest, layers: manifest.layers.map((l, i) => ({ digest: l.digest, diffId: diffIds[i], size: l.size })), repoDigests: [], size: manifest.layers.reduce((s, l) => s + l.size, 0) + manifest.config.size };
        this.meta.images[manifestDigest] = img;
        for (const l of img.layers) {
          const e = (this.meta.layers[l.diffId] ??= { refs: 0, size: l.size });
          e.refs++;
        }
      }
      for (const r of refs) {
        const name = normalizeReference(r);
        const previous = this.meta.refs[name];
        this.meta.refs[name] = manifestDigest;
        if (repoDigest) {
          const rd = `${repositoryName(parseReference(name))}@${repoDigest}`;
          if (!img.repoDigests.includes(rd)) img.repoDigests.push(rd);
        }
        if (previous && previous !== manifestDigest) await this.dropIfUnreferenced(previous);
      }
      await this.saveMeta();
    });
  }

  /** Resolves a reference, an image id (config digest, or a prefix of it) or name@digest. */
  resolve(ref: string): string | undefined {
    const byId = ref.replace(/^sha256:/, '');
    if (/^[a-f0-9]{12,64}$/.test(byId)) {
      for (const [m, img] of Object.entries(this.meta.images)) if (img.configDigest.slice(7).startsWith(byId)) return m;
    }
    let name: string;
    try { name = normalizeReference(ref); } catch { return undefined; }
    if (this.meta.refs[name]) return this.meta.refs[name];
    const p = parseReference(name);
    if (p.digest) {
      const rd = `${repositoryName(p)}@${p.digest}`;
      for (const [m, img] of Object.entries(this.meta.images)) if (m === p.digest || img.repoDigests.includes(rd)) return m;
    }
    return undefined;
  }

  private async toImage(manifestDigest: string): Promise<Image> {
    const img = this.meta.images[manifestDigest];
    const config = await this.readBlobJson<OciImageConfigFile>(img.configDigest);
    const user = config.config?.User ?? '';
    const uid = /^\d+/.test(user) ? parseInt(user, 10) : undefined;
    return {
      id: img.configDigest,
      repoTags: Object.entries(this.meta.refs).filter(([n, m]) => m === manifestDigest && !n.includes('@')).map(([n]) => n),
      repoDigests: img.repoDigests,
      size: img.size,
      uid,
      username: uid === undefined && user ? user.split(':')[0] : undefined,
      spec: config.config ?? {},
    };
  }

  async list(): Promise<Image[]> { return Promise.all(Object.keys(this.meta.images).map((m) => this.toImage(m))); }
  async status(ref: string): Promise<Image | null> { const m = this.resolve(ref); return m ? this.toImage(m) : null; }

  /** What a container needs: the config and its layer directories (bottom first). */
  async rootfsOf(ref: string): Promise<{ manifestDigest: string; image: Image; layers: { diffId: string; fsDir: string; whiteouts: Whiteouts }[] }> {
    const m = this.resolve(ref);
    if (!m) throw Object.assign(new Error(`image "${ref}" not present`), { code: 'NotFound' });
    const img = this.meta.images[m];
    const layers = await Promise.all(img.layers.map(async (l) => ({ diffId: l.diffId, fsDir: path.join(this.layerDir(l.diffId), 'fs'), whiteouts: await readWhiteouts(this.layerDir(l.diffId)) })));
    return { manifestDigest: m, image: await this.toImage(m), layers };
  }

  /** Containers lease the layers they stack so removing the image cannot pull them away. */
  async leaseLayers(diffIds: string[], delta: 1 | -1): Promise<void> {
    await this.exclusive(async () => {
      for (const d of diffIds) {
        const e = this.meta.layers[d];
        if (!e) continue;
        e.refs += delta;
        // A layer an image still lists is never removed by containers letting go of it, even if a
        // release is repeated (e.g. a container removed again after an agent restart).
        const usedByImages = Object.values(this.meta.images).filter((img) => img.layers.some((l) => l.diffId === d)).length;
        if (e.refs < usedByImages) e.refs = usedByImages;
        if (e.refs <= 0) { delete this.meta.layers[d]; await fsp.rm(this.layerDir(d), { recursive: true, force: true }); }
      }
      await this.saveMeta();
    });
  }

  async remove(ref: string): Promise<void> {
    await this.exclusive(async () => {
      const m = this.resolve(ref);
      if (!m) return;
      let name: string | undefined;
      try { name = normalizeReference(ref); } catch {}
      if (name && this.meta.refs[name] === m) delete this.meta.refs[name];
      else for (const [n, d] of Object.entries(this.meta.refs)) if (d === m) delete this.meta.refs[n]; // by id: every tag
      await this.dropIfUnreferenced(m);
      await this.saveMeta();
    });
  }

  private async dropIfUnreferenced(manifestDigest: string): Promise<void> {
    if (Object.values(this.meta.refs).includes(manifestDigest)) return;
    const img = this.meta.images[manifestDigest];
    if (!img) return;
    delete this.meta.images[manifestDigest];
    const stillUsed = new Set<string>();
    for (const [m, other] of Object.entries(this.meta.images)) { stillUsed.add(m); stillUsed.add(other.configDigest); for (const l of other.layers) stillUsed.add(l.digest); }
    for (const l of img.layers) {
      const e = this.meta.layers[l.diffId];
      if (e && --e.refs <= 0) { delete this.meta.layers[l.diffId]; await fsp.rm(this.layerDir(l.diffId), { recursive: true, force: true }); }
    }
    for (const d of [manifestDigest, img.configDigest, ...img.layers.map((l) => l.digest)]) if (!stillUsed.has(d)) await fsp.rm(this.blobPath(d), { force: true });
  }

  layerRefCount(diffId: string): number { return this.meta.layers[diffId]?.refs ?? 0; }

  async usage(): Promise<{ usedBytes: number; inodesUsed: number }> {
    let usedBytes = 0; let inodesUsed = 0;
    const walk = async (d: string): Promise<void> => {
      for (const e of await fsp.readdir(d, { withFileTypes: true }).catch(() => [])) {
        const p = path.join(d, e.name);
        inodesUsed++;
        if (e.isDirectory()) await walk(p);
        else if (e.isFile()) usedBytes += (await fsp.lstat(p)).size;
      }
    };
    await walk(this.root);
    return { usedBytes, inodesUsed };
  }

  /**
   * Imports a `docker save` (manifest.json) or OCI image layout (index.json) tarball,
   * gzip-compressed or not. Returns the references it recorded.
   */
  async importArchive(file: string, onProgress?: ProgressFn): Promise<string[]> {
    const staging = this.tmpPath();
    await fsp.mkdir(staging, { recursive: true });
    try {
      const total = (await fsp.stat(file)).size;
      let read = 0;
      const report = (status: string, layersDone = 0, layersTotal = 0) => onProgress?.({ ref: path.basename(file), bytesDone: read, bytesTotal: total, layersDone, layersTotal, status });
      const head = Buffer.alloc(2);
      const fh = await fsp.open(file, 'r'); await fh.read(head, 0, 2, 0); await fh.close();
      const tar = spawn('tar', ['-x', '-f', '-', '--ignore-zeros', '-C', staging, '--no-same-owner'], { stdio: ['pipe', 'ignore', 'pipe'] });
      let stderr = '';
      tar.stderr!.on('data', (d) => { stderr += d; });
      const closed = new Promise<number>((r, j) => { tar.on('error', j); tar.on('close', (c) => r(c ?? 1)); });
      let lastReport = 0;
      const counter = new Transform({ transform(c, _e, cb) { read += c.length; if (read - lastReport > 4 << 20) { lastReport = read; report('reading archive'); } cb(null, c); } });
      const stages: any[] = [fs.createReadStream(file), counter];
      if (head[0] === 0x1f && head[1] === 0x8b) stages.push(createGunzip());
      stages.push(tar.stdin!);
      await pipeline(stages);
      if ((await closed) !== 0) throw new Error(`reading image archive ${file}: ${stderr.trim()}`);
      report('archive read');
      if (fs.existsSync(path.join(staging, 'manifest.json'))) return await this.importDockerArchive(staging, report);
      if (fs.existsSync(path.join(staging, 'index.json'))) return await this.importOciLayout(staging, report);
      throw new Error(`${file} is neither a docker-archive (manifest.json) nor an OCI archive (index.json)`);
    } finally {
      await fsp.rm(staging, { recursive: true, force: true });
    }
  }

  private async importDockerArchive(staging: string, report: (s: string, d?: number, t?: number) => void): Promise<string[]> {
    const entries: { Config: string; RepoTags?: string[] | null; Layers: string[] }[] = JSON.parse(await fsp.readFile(path.join(staging, 'manifest.json'), 'utf8'));
    const refs: string[] = [];
    for (const entry of entries) {
      const configDigest = await this.adoptBlob(path.join(staging, entry.Config));
      const config = await this.readBlobJson<OciImageConfigFile>(configDigest);
      const layers: Descriptor[] = [];
      for (let i = 0; i < entry.Layers.length; i++) {
        const lp = path.join(staging, entry.Layers[i]);
        const head = Buffer.alloc(2);
        const fh = await fsp.open(lp, 'r'); await fh.read(head, 0, 2, 0); await fh.close();
        const size = (await fsp.stat(lp)).size;
        // A layer whose diffID is already unpacked needs no further work beyond the blob.
        const digest = await this.adoptBlob(lp);
        layers.push({ mediaType: head[0] === 0x1f && head[1] === 0x8b ? mediaTypes.ociLayerGzip : mediaTypes.ociLayer, digest, size });
        report(`layer ${i + 1}/${entry.Layers.length} stored${fs.existsSync(this.layerDir(config.rootfs.diff_ids[i])) ? ' (already present)' : ''}`, i + 1, entry.Layers.length);
      }
      const manifest: Manifest = { schemaVersion: 2, mediaType: mediaTypes.ociManifest, config: { mediaType: mediaTypes.ociConfig, digest: configDigest, size: (await fsp.stat(this.blobPath(configDigest))).size }, layers };
      const manifestDigest = await this.writeBlob(JSON.stringify(manifest));
      const tags = (entry.RepoTags ?? []).map(normalizeReference);
      await this.commitImage(manifestDigest, tags, undefined);
      refs.push(...(tags.length ? tags : [configDigest]));
    }
    return refs;
  }

  private async importOciLayout(staging: string, report: (s: string, d?: number, t?: number) => void): Promise<string[]> {
    const index: { manifests: Descriptor[] } = JSON.parse(await fsp.readFile(path.join(staging, 'index.json'), 'utf8'));
    const refs: string[] = [];
    const adopt = async (d: Descriptor) => {
      if (this.hasBlob(d.digest)) return;
      await this.adoptBlob(path.join(staging, 'blobs', ...d.digest.split(':')), d.digest);
    };
    for (const top of index.manifests) {
      let desc = top;
      await adopt(desc);
      if (desc.mediaType === mediaTypes.ociIndex || desc.mediaType === mediaTypes.dockerList) {
        const inner = await this.readBlobJson<{ manifests: Descriptor[] }>(desc.digest);
        desc = pickPlatform(inner.manifests);
        await adopt(desc);
      }
      const manifest = await this.readBlobJson<Manifest>(desc.digest);
      await adopt(manifest.config);
      for (let i = 0; i < manifest.layers.length; i++) { await adopt(manifest.layers[i]); report(`layer ${i + 1}/${manifest.layers.length} stored`, i + 1, manifest.layers.length); }
      const name = top.annotations?.['io.containerd.image.name'] ?? top.annotations?.['org.opencontainers.image.ref.name'];
      const tags: string[] = [];
      if (name) {
        // A bare tag ("latest") names no repository; such an image is kept by id only.
        try { if (!/^[\w][\w.-]*$/.test(name)) tags.push(normalizeReference(name)); } catch {}
      }
      await this.commitImage(desc.digest, tags, top.digest);
      refs.push(...(tags.length ? tags : [desc.digest]));
    }
    return refs;
  }
}

/** From a manifest list, the linux/amd64 entry (what this node runs). */
export function pickPlatform(manifests: Descriptor[], os = 'linux', architecture = 'amd64'): Descriptor {
  const m = manifests.find((d) => d.platform?.os === os && d.platform?.architecture === architecture) ?? (manifests.length === 1 && !manifests[0].platform ? manifests[0] : undefined);
  if (!m) throw new Error(`no manifest for ${os}/${architecture} in the manifest list (has ${manifests.map((d) => `${d.platform?.os}/${d.platform?.architecture}`).join(', ')})`);
  return m;
}
