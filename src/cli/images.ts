// The busybox image every fresh navarch cluster has (so `kubectl run --image=busybox` works with
// no registry): built once from Debian packages by scripts/images/build-busybox.sh, then dropped
// into each node's <data-dir>/images/, which the node imports at start.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { homedir } from 'node:os';

// src/cli when run from source, dist/src/cli when built.
const repoRoot = resolve(import.meta.dirname, import.meta.dirname.includes('/dist/') ? '../../..' : '../..');

export function buildBusyboxImage(say: (line: string) => void = () => undefined): string | undefined {
  const script = join(repoRoot, 'scripts', 'images', 'build-busybox.sh');
  const out = join(process.env.NAVARCH_IMAGE_CACHE ?? join(homedir(), '.cache', 'navarch'), 'busybox.tar');
  if (!existsSync(script)) return undefined;
  say('==> preparing the busybox image (built from Debian packages, cached)');
  const result = spawnSync('bash', [script, out], { encoding: 'utf8' });
  if (result.status !== 0) {
    say(`    could not build the busybox image: ${(result.stderr || result.stdout).trim().split('\n').slice(-3).join(' ')} — pods using busybox will need a registry`);
    return undefined;
  }
  return out;
}

/** Copies the image tarball into each node's image drop folder (skipped when already there). */
export function provideImage(tarball: string, dataDirs: string[]): void {
  for (const dir of dataDirs) {
    const target = join(dir, 'images', 'busybox.tar');
    mkdirSync(dirname(target), { recursive: true });
    if (existsSync(target) && statSync(target).size === statSync(tarball).size) continue;
    copyFileSync(tarball, target);
  }
}
