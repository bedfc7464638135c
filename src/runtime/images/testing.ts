// Helpers for tests that need real images: the busybox image from scripts/images, and small
// hand-made docker-archives (to exercise whiteouts and layer sharing).
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const execFileP = promisify(execFile);
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** Builds (or reuses the cached) busybox docker-archive; returns its path. */
export async function busyboxArchive(cacheDir = path.join(os.tmpdir(), 'navarch-test-cache')): Promise<string> {
  const out = path.join(cacheDir, 'busybox.tar');
  const { stdout } = await execFileP('bash', [path.join(repoRoot, 'scripts/images/build-busybox.sh'), out], { maxBuffer: 1 << 20 });
  return stdout.trim().split('\n').pop()!;
}

export interface LayerSpec { files?: Record<string, string>; dirs?: string[]; whiteouts?: string[]; opaque?: string[] }

/** A docker-archive whose layers are made from `layers` (paths relative to /). */
export async function makeDockerArchive(file: string, tag: string, layers: LayerSpec[], config: Record<string, unknown> = {}): Promise<void> {
  const work = await fsp.mkdtemp(path.join(os.tmpdir(), 'navarch-archive-'));
  try {
    const diffIds: string[] = [];
    const layerPaths: string[] = [];
    for (const [i, l] of layers.entries()) {
      const dir = path.join(work, `l${i}`);
      await fsp.mkdir(dir, { recursive: true });
      for (const d of l.dirs ?? []) await fsp.mkdir(path.join(dir, d), { recursive: true });
      for (const [p, content] of Object.entries(l.files ?? {})) { await fsp.mkdir(path.dirname(path.join(dir, p)), { recursive: true }); await fsp.writeFile(path.join(dir, p), content); }
      for (const w of l.whiteouts ?? []) { await fsp.mkdir(path.join(dir, path.dirname(w)), { recursive: true }); await fsp.writeFile(path.join(dir, path.dirname(w), `.wh.${path.basename(w)}`), ''); }
      for (const o of l.opaque ?? []) { await fsp.mkdir(path.join(dir, o), { recursive: true }); await fsp.writeFile(path.join(dir, o, '.wh..wh..opq'), ''); }
      const tarPath = path.join(work, `layer${i}.tar`);
      await execFileP('tar', ['--sort=name', '--mtime=@0', '--numeric-owner', '--owner=0', '--group=0', '-C', dir, '-cf', tarPath, '.']);
      const hex = createHash('sha256').update(fs.readFileSync(tarPath)).digest('hex');
      await fsp.mkdir(path.join(work, 'out', hex), { recursive: true });
      await fsp.rename(tarPath, path.join(work, 'out', hex, 'layer.tar'));
      diffIds.push(`sha256:${hex}`);
      layerPaths.push(`${hex}/layer.tar`);
    }
    const cfg = JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['sh'], ...config }, rootfs: { type: 'layers', diff_ids: diffIds } });
    const cfgHex = createHash('sha256').update(cfg).digest('hex');
    await fsp.writeFile(path.join(work, 'out', `${cfgHex}.json`), cfg);
    await fsp.writeFile(path.join(work, 'out', 'manifest.json'), JSON.stringify([{ Config: `${cfgHex}.json`, RepoTags: [tag], Layers: layerPaths }]));
    await execFileP('tar', ['-C', path.join(work, 'out'), '-cf', file, '.']);
  } finally {
    await fsp.rm(work, { recursive: true, force: true });
  }
}
