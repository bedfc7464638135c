// Unpacking layer tarballs into directories that overlayfs can stack, and the copy fallback.
//
// Extraction uses the system GNU tar rather than a hand-written reader: layers carry hard
// links, device nodes, PAX/GNU long names, sparse files and xattrs, which tar gets right and a
// small reader would get subtly wrong. Node does the streaming (gunzip, diffID hashing,
// progress); tar only writes files. OCI whiteouts are then converted to overlayfs' form:
//   .wh.NAME        → character device 0:0 named NAME
//   .wh..wh..opq    → xattr trusted.overlay.opaque="y" on the directory
// and recorded in whiteouts.json so the copy fallback can apply them as deletions.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { createGunzip } from 'node:zlib';
import { spawn, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

const execFileP = promisify(execFile);

export interface Whiteouts { deleted: string[]; opaque: string[] }

/** Reads a blob, gunzips if needed, checks the diffID and extracts into `dir`. */
export async function unpackLayer(blobPath: string, dir: string, expectedDiffId: string | undefined, onBytes?: (n: number) => void): Promise<{ diffId: string; whiteouts: Whiteouts }> {
  await fsp.mkdir(dir, { recursive: true });
  const head = Buffer.alloc(2);
  const fh = await fsp.open(blobPath, 'r');
  await fh.read(head, 0, 2, 0);
  await fh.close();
  const gz = head[0] === 0x1f && head[1] === 0x8b;
  const hash = createHash('sha256');
  const tar = spawn('tar', ['-x', '-f', '-', '--ignore-zeros', '-C', dir, '--numeric-owner', '--same-owner', '-p', '--xattrs', '--xattrs-include=*', '--no-overwrite-dir'], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  tar.stderr!.on('data', (d) => { stderr += d; });
  const tarDone = new Promise<number>((resolve, reject) => { tar.on('error', reject); tar.on('close', (c) => resolve(c ?? 1)); });
  const tee = new Transform({ transform(chunk, _e, cb) { hash.update(chunk); cb(null, chunk); } });
  const counter = new Transform({ transform(chunk, _e, cb) { onBytes?.(chunk.length); cb(null, chunk); } });
  // --ignore-zeros (above) keeps tar reading to the end, so the diffID covers every byte.
  const stages: any[] = [fs.createReadStream(blobPath), counter];
  if (gz) stages.push(createGunzip());
  stages.push(tee, tar.stdin!);
  await pipeline(stages);
  const code = await tarDone;
  if (code !== 0) throw new Error(`unpacking layer ${path.basename(blobPath)} failed: ${stderr.trim()}`);
  const diffId = `sha256:${hash.digest('hex')}`;
  if (expectedDiffId && expectedDiffId !== diffId) throw new Error(`layer ${path.basename(blobPath)}: diffID ${diffId} does not match the image config's ${expectedDiffId}`);
  const whiteouts = await convertWhiteouts(dir);
  return { diffId, whiteouts };
}

async function convertWhiteouts(root: string): Promise<Whiteouts> {
  const result: Whiteouts = { deleted: [], opaque: [] };
  const walk = async (rel: string): Promise<void> => {
    const entries = await fsp.readdir(path.join(root, rel), { withFileTypes: true });
    for (const e of entries) {
      const r = path.join(rel, e.name);
      if (e.name === '.wh..wh..opq') {
        await fsp.rm(path.join(root, r));
        result.opaque.push(rel || '.');
        await setOpaque(path.join(root, rel)).catch(() => {});
      } else if (e.name.startsWith('.wh.')) {
        await fsp.rm(path.join(root, r), { recursive: true, force: true });
        const target = path.join(rel, e.name.slice(4));
        result.deleted.push(target);
        await execFileP('mknod', [path.join(root, target), 'c', '0', '0']).catch(() => {});
      } else if (e.isDirectory()) await walk(r);
    }
  };
  await walk('');
  return result;
}

/**
 * Node has no setxattr and Debian's base has no setfattr; Perl (always present: dpkg needs it)
 * can make the syscall. Failure leaves the layer usable by the copy fallback only.
 */
async function setOpaque(dir: string): Promise<void> {
  await execFileP('perl', ['-e', 'my ($p, $n, $v) = ($ARGV[0], "trusted.overlay.opaque", "y"); syscall(188, $p, $n, $v, 1, 0) == 0 or die "setxattr: $!"', dir]);
}

export async function readWhiteouts(layerDir: string): Promise<Whiteouts> {
  try { return JSON.parse(await fsp.readFile(path.join(layerDir, 'whiteouts.json'), 'utf8')); } catch { return { deleted: [], opaque: [] }; }
}

/** Mounts overlayfs: lowers are layer fs dirs bottom-first. */
export async function mountOverlay(lowers: string[], upper: string, work: string, target: string): Promise<void> {
  await Promise.all([upper, work, target].map((d) => fsp.mkdir(d, { recursive: true })));
  const lowerdir = [...lowers].reverse().join(':');
  const opts = lowers.length ? `lowerdir=${lowerdir},upperdir=${upper},workdir=${work}` : '';
  if (!opts) throw new Error('an image needs at least one layer');
  await execFileP('mount', ['-t', 'overlay', 'overlay', '-o', opts, target]);
}

/** The copy fallback (no overlayfs, e.g. nested in an overlay without support): apply layers in order. */
export async function copyLayers(layers: { fsDir: string; whiteouts: Whiteouts }[], target: string): Promise<void> {
  await fsp.mkdir(target, { recursive: true });
  for (const l of layers) {
    for (const d of l.whiteouts.opaque) {
      const t = path.join(target, d);
      for (const e of await fsp.readdir(t).catch(() => [] as string[])) await fsp.rm(path.join(t, e), { recursive: true, force: true });
    }
    await execFileP('cp', ['-a', `${l.fsDir}/.`, target]);
    // Deleting the copied whiteout node also deletes what lower layers had at that path.
    for (const d of l.whiteouts.deleted) await fsp.rm(path.join(target, d), { recursive: true, force: true });
  }
}

export async function unmount(target: string): Promise<void> {
  await execFileP('umount', [target]).catch(async (e) => {
    if (!/not mounted|no mount point|not found/i.test(String(e.stderr ?? e))) await execFileP('umount', ['-l', target]);
  });
}
