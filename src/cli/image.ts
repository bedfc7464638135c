// `navarch image import|ls|rm`: the node's image store (<data-dir>/images/store) from the shell.
// The store serialises its writers only inside one process, so while a server or agent runs on
// the data dir an import is dropped into <data-dir>/images/ (imported when the node starts) and
// removal is refused; with no node running, the store is changed directly.
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseArgs, flag } from './args.js';
import { defaultDataDir } from './server.js';
import { NodeImageService } from '../runtime/images/image-service.js';
import type { Image, PullProgress } from '../runtime/types.js';

export interface ImageCommandIO {
  out(line: string): void;
  /** Pids of navarch servers/agents using dataDir (Linux: from /proc). */
  runningNodes(dataDir: string): number[];
}

const usage = `Usage:
  navarch image import FILE... [--data-dir DIR]   import docker-archive / OCI-archive tarballs
  navarch image ls [--data-dir DIR]               list images (REPOSITORY TAG IMAGE ID SIZE)
  navarch image rm REF... [--data-dir DIR]        remove images by reference or ID`;

/** navarch processes (server or agent) whose --data-dir is dataDir. */
export function runningNodesFromProc(dataDir: string, procRoot = '/proc'): number[] {
  const want = resolve(dataDir);
  const pids: number[] = [];
  let entries: string[] = [];
  try { entries = readdirSync(procRoot).filter((e) => /^\d+$/.test(e)); } catch { return []; }
  for (const pid of entries) {
    if (Number(pid) === process.pid) continue;
    let argv: string[];
    try { argv = readFileSync(join(procRoot, pid, 'cmdline'), 'utf8').split('\0').filter(Boolean); } catch { continue; }
    if (!argv.some((a) => /navarch|cli\/main\.(js|ts)$/.test(a))) continue;
    if (!argv.includes('server') && !argv.includes('agent')) continue;
    const parsed = parseArgs(argv.slice(argv.findIndex((a) => a === 'server' || a === 'agent') + 1));
    if (resolve(flag(parsed, 'data-dir') ?? defaultDataDir()) === want) pids.push(Number(pid));
  }
  return pids;
}

export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  return i === 0 ? `${v}B` : `${v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0)}${units[i]}`;
}

/** Rows as crictl/docker print them: one per tag, `<none>` for untagged images. */
export function imageRows(images: Image[]): string[] {
  const rows: string[][] = [['REPOSITORY', 'TAG', 'IMAGE ID', 'SIZE']];
  for (const image of images.slice().sort((a, b) => (a.repoTags[0] ?? '~').localeCompare(b.repoTags[0] ?? '~'))) {
    const id = image.id.replace(/^sha256:/, '').slice(0, 13);
    const tags = image.repoTags.length ? image.repoTags : ['<none>:<none>'];
    for (const ref of tags) {
      const colon = ref.lastIndexOf(':');
      const slash = ref.lastIndexOf('/');
      const [repo, tag] = colon > slash ? [ref.slice(0, colon), ref.slice(colon + 1)] : [ref, '<none>'];
      rows.push([repo, tag, id, humanSize(image.size)]);
    }
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]! + 3))).join(''));
}

function progressPrinter(out: (line: string) => void): (p: PullProgress) => void {
  let last = '';
  return (p) => {
    const layers = p.layersTotal ? ` (layer ${p.layersDone}/${p.layersTotal})` : '';
    const bytes = p.bytesTotal ? ` ${humanSize(p.bytesDone)}/${humanSize(p.bytesTotal)}` : '';
    const line = `  ${p.status}${layers}${bytes}`;
    if (line !== last) { last = line; out(line); }
  };
}

export async function runImageCommand(argv: string[], io: ImageCommandIO = { out: (l) => console.log(l), runningNodes: (d) => runningNodesFromProc(d) }): Promise<number> {
  const [sub, ...rest] = argv;
  const args = parseArgs(rest);
  const dataDir = resolve(flag(args, 'data-dir') ?? defaultDataDir());
  const service = () => new NodeImageService({ root: join(dataDir, 'images', 'store') });
  switch (sub) {
    case 'import': {
      if (args.positional.length === 0) { io.out(usage); return 2; }
      const running = io.runningNodes(dataDir);
      for (const file of args.positional) {
        if (!existsSync(file)) { io.out(`error: ${file}: no such file`); return 1; }
        if (running.length) {
          const target = join(dataDir, 'images', basename(file));
          mkdirSync(join(dataDir, 'images'), { recursive: true });
          copyFileSync(file, target);
          io.out(`a navarch node is running on ${dataDir} (pid ${running.join(', ')}): copied ${file} to ${target}; it will be imported at the node's next start`);
          continue;
        }
        io.out(`importing ${file}`);
        const refs = await service().importImageArchive(file, progressPrinter(io.out));
        for (const ref of refs) io.out(`imported ${ref}`);
      }
      return 0;
    }
    case 'ls':
    case 'list':
      for (const line of imageRows(await service().listImages())) io.out(line);
      return 0;
    case 'rm':
    case 'remove': {
      if (args.positional.length === 0) { io.out(usage); return 2; }
      const running = io.runningNodes(dataDir);
      if (running.length) { io.out(`error: a navarch node is running on ${dataDir} (pid ${running.join(', ')}); stop it first, or remove images through the cluster`); return 1; }
      const images = service();
      let status = 0;
      for (const ref of args.positional) {
        const byId = (await images.listImages()).find((i) => ref.length >= 4 && i.id.replace(/^sha256:/, '').startsWith(ref.replace(/^sha256:/, '')));
        const target = byId ? byId.id : ref;
        if (!byId && !(await images.imageStatus(ref))) { io.out(`error: no such image: ${ref}`); status = 1; continue; }
        await images.removeImage(target);
        io.out(`Deleted: ${target}`);
      }
      return status;
    }
    default:
      io.out(usage);
      return sub === undefined || sub === 'help' || sub === '--help' ? 0 : 2;
  }
}
