// Measures createContainer+startContainer against a raw `runc run -d` of the same bundle
// (same image layers, same generated config.json), alternating the two to share noise.
// Run: node --import tsx src/runtime/oci/start-overhead.ts [iterations]   (root, runc)
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { OciRuntime } from './oci-runtime.js';
import { ImageStore } from '../images/store.js';
import { mountOverlay, unmount } from '../images/layers.js';
import { busyboxArchive } from '../images/testing.js';

const execFileP = promisify(execFile);

export interface OverheadReport { iterations: number; navarchMedianMs: number; /** of which createContainer (rootfs + spec) */ createMedianMs: number; rawRuncMedianMs: number; ratio: number; navarchMs: number[]; rawRuncMs: number[] }

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

export async function measureStartOverhead(iterations = 5): Promise<OverheadReport> {
  const root = await fsp.mkdtemp(path.join(os.tmpdir(), 'navarch-overhead-'));
  const runcRoot = path.join(root, 'runc');
  const cgroupRoot = `/navarch-overhead-${path.basename(root)}`;
  const images = new ImageStore(path.join(root, 'images'));
  await images.importArchive(await busyboxArchive());
  const rt = new OciRuntime({ root: path.join(root, 'state'), images, runtimeStateRoot: runcRoot, cgroupRoot });
  const sc = { metadata: { name: 'bench', uid: 'bench', namespace: 'default' }, logDirectory: path.join(root, 'logs') };
  const sb = await rt.runPodSandbox(sc);
  const navarchMs: number[] = [];
  const rawRuncMs: number[] = [];
  const createMs: number[] = [];
  try {
    const { layers } = await images.rootfsOf('busybox');
    for (let i = 0; i < iterations; i++) {
      const t0 = performance.now();
      const id = await rt.createContainer(sb, { metadata: { name: `c${i}` }, image: { image: 'busybox' }, command: ['sleep', '1000'], logPath: `c${i}.log` }, sc);
      const tCreated = performance.now();
      await rt.startContainer(id);
      navarchMs.push(performance.now() - t0);
      createMs.push(tCreated - t0);

      // The raw baseline: same config.json, its own overlay (prepared outside the timing).
      const config = JSON.parse(await fsp.readFile(path.join(root, 'state/containers', id, 'bundle/config.json'), 'utf8'));
      const rawId = `raw-${i}-${path.basename(root)}`;
      const bundle = path.join(root, 'raw', rawId);
      await mountOverlay(layers.map((l) => l.fsDir), path.join(bundle, 'upper'), path.join(bundle, 'work'), path.join(bundle, 'rootfs'));
      config.linux.cgroupsPath = `${cgroupRoot}/${rawId}`;
      await fsp.writeFile(path.join(bundle, 'config.json'), JSON.stringify(config));
      const t1 = performance.now();
      // stdio must not be pipes: the detached container would hold them open.
      await new Promise<void>((resolve, reject) => {
        const c = spawn('runc', ['--root', runcRoot, 'run', '-d', '--bundle', bundle, rawId], { stdio: 'ignore' });
        c.on('error', reject);
        c.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`runc run -d exited ${code}`))));
      });
      rawRuncMs.push(performance.now() - t1);

      await execFileP('runc', ['--root', runcRoot, 'delete', '--force', rawId]).catch(() => {});
      await unmount(path.join(bundle, 'rootfs'));
      await rt.removeContainer(id);
    }
  } finally {
    await rt.removePodSandbox(sb);
    await rt.close();
    for (const ctrl of await fsp.readdir('/sys/fs/cgroup')) {
      for (const sub of await fsp.readdir(path.join('/sys/fs/cgroup', ctrl, cgroupRoot)).catch(() => [] as string[])) await fsp.rmdir(path.join('/sys/fs/cgroup', ctrl, cgroupRoot, sub)).catch(() => {});
      await fsp.rmdir(path.join('/sys/fs/cgroup', ctrl, cgroupRoot)).catch(() => {});
    }
    await fsp.rm(root, { recursive: true, force: true });
  }
  const n = median(navarchMs); const r = median(rawRuncMs);
  return { iterations, navarchMedianMs: n, createMedianMs: median(createMs), rawRuncMedianMs: r, ratio: n / r, navarchMs, rawRuncMs };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const report = await measureStartOverhead(Number(process.argv[2] ?? 10));
  console.log(JSON.stringify(report, null, 2));
}
