// The CRI ImageService over the local store and the registry client.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { AuthConfig, FilesystemUsage, Image, ImageService, PullProgress } from '../types.js';
import { ImageStore } from './store.js';
import { RegistryClient, type RegistryOptions } from './registry.js';

export interface NodeImageServiceOptions extends RegistryOptions {
  /** The image store's directory, e.g. <data-dir>/images/store. */
  root: string;
  now?: () => number;
}

export class NodeImageService implements ImageService {
  readonly store: ImageStore;
  readonly registry: RegistryClient;
  private readonly now: () => number;

  constructor(opts: NodeImageServiceOptions) {
    this.store = new ImageStore(opts.root);
    this.registry = new RegistryClient(this.store, opts);
    this.now = opts.now ?? Date.now;
  }

  listImages(): Promise<Image[]> { return this.store.list(); }
  imageStatus(ref: string): Promise<Image | null> { return this.store.status(ref); }
  pullImage(ref: string, auth?: AuthConfig, onProgress?: (p: PullProgress) => void): Promise<string> { return this.registry.pull(ref, auth, onProgress); }
  removeImage(ref: string): Promise<void> { return this.store.remove(ref); }

  /** `navarch image import` and the <data-dir>/images/ drop folder. */
  importImageArchive(path: string, onProgress?: (p: PullProgress) => void): Promise<string[]> { return this.store.importArchive(path, onProgress); }

  /**
   * The drop folder: imports every *.tar / *.tar.gz / *.tgz in `dir` not imported before in
   * its current form (name, size and mtime are remembered in `<dir>/.imported.json`).
   */
  async importDirectory(dir: string, onProgress?: (p: PullProgress) => void): Promise<string[]> {
    const ledgerPath = path.join(dir, '.imported.json');
    let ledger: Record<string, string> = {};
    try { ledger = JSON.parse(await fsp.readFile(ledgerPath, 'utf8')); } catch {}
    const refs: string[] = [];
    for (const name of (await fsp.readdir(dir).catch(() => [] as string[])).sort()) {
      if (!/\.(tar|tar\.gz|tgz)$/.test(name)) continue;
      const st = await fsp.stat(path.join(dir, name));
      const key = `${st.size}:${st.mtimeMs}`;
      if (ledger[name] === key) continue;
      refs.push(...(await this.importImageArchive(path.join(dir, name), onProgress)));
      ledger[name] = key;
      await fsp.writeFile(ledgerPath, JSON.stringify(ledger));
    }
    return refs;
  }

  async imageFsInfo(): Promise<FilesystemUsage[]> {
    const u = await this.store.usage();
    let mountpoint = this.store.root;
    try { mountpoint = fs.realpathSync(this.store.root); } catch {}
    return [{ timestamp: this.now(), fsId: { mountpoint }, usedBytes: u.usedBytes, inodesUsed: u.inodesUsed }];
  }
}
