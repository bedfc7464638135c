// Real Linux containers through runc (default) or crun, one shim per container.
//
// Pod network namespace: a bind-mounted namespace made with `ip netns add` (/run/netns/…),
// not a pause process. It costs no process per pod, survives agent restarts, is exactly what
// CNI plugins expect as CNI_NETNS, and is what containerd/CRI-O do today ("pinned" netns).
// Containers join it via linux.namespaces[network].path. pid/ipc/uts are per container.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { Duplex } from 'node:stream';
import { RuntimeError, type VersionResponse, type ContainerState } from '../types.js';
import { ShimRuntime, shellQuote, type ContainerRecord, type SandboxRecord, type HostCommand, type ShimRuntimeOptions } from '../shim/shim-runtime.js';
import type { ShimSpec, ShimState } from '../shim/shim-client.js';
import type { ImageStore } from '../images/store.js';
import { mountOverlay, copyLayers, unmount } from '../images/layers.js';
import { generateSpec, hostMaxOpenFiles } from './spec.js';

const execFileP = promisify(execFile);

export interface OciRuntimeOptions extends ShimRuntimeOptions {
  images: ImageStore;
  /** 'runc' (default) or 'crun', or a path to either. */
  runtimeBinary?: string;
  /** runc's own state directory; a tmpfs is right (it describes live containers only). */
  runtimeStateRoot?: string;
  /** Parent cgroup for pods without linux.cgroupParent. */
  cgroupRoot?: string;
  /** Where the cgroup v1 hierarchies are mounted. */
  cgroupFs?: string;
  /** A statically linked busybox on the host, used for port-forward inside the pod netns. */
  hostBusybox?: string;
  /** Where pinned pod namespaces other than the netns (IPC) are bind-mounted. */
  namespaceDir?: string;
  /** Force the copy rootfs (no overlayfs). */
  rootfsMode?: 'overlay' | 'copy';
}

/** Checks what the runtime needs before anything is created; throws an actionable error. */
export function preflight(runtimeBinary = 'runc', cgroupFs = '/sys/fs/cgroup'): void {
  if (process.getuid?.() !== 0) throw new RuntimeError('Unavailable', 'the oci runtime needs root (it creates namespaces, cgroups and mounts); use the process runtime otherwise');
  try { execFileSync(runtimeBinary, ['--version'], { stdio: 'pipe' }); } catch { throw new RuntimeError('Unavailable', `${runtimeBinary} not found: install it (apt-get install ${path.basename(runtimeBinary)})`); }
  if (path.basename(runtimeBinary) === 'crun' && fs.existsSync(path.join(cgroupFs, 'unified')) && fs.existsSync(path.join(cgroupFs, 'memory'))) {
    throw new RuntimeError('Unavailable', crunHybridMessage);
  }
}

/** Child subreaper that runs `runc run -d` and exits with the status of the container's init. */
const ttyReaper = [
  'syscall(157, 36, 1, 0, 0, 0) == 0 or die "prctl(PR_SET_CHILD_SUBREAPER): $!\\n";',
  'my $pidfile = shift @ARGV;',
  'my $runc = fork() // die "fork: $!\\n";',
  'if (!$runc) { exec(@ARGV) or die "exec: $!\\n"; }',
  'waitpid($runc, 0); exit((($? >> 8) || 1)) if $? != 0;',
  'open(my $f, "<", $pidfile) or die "pid file: $!\\n"; my $pid = <$f>; close($f); chomp($pid);',
  'while ((my $w = waitpid(-1, 0)) > 0) { if ($w == $pid) { my $s = $?; exit(($s & 127) ? 128 + ($s & 127) : ($s >> 8)); } }',
  'exit(255);',
].join(' ');

const crunHybridMessage = 'crun does not support cgroups in hybrid mode (v1 controllers with a v2 "unified" mount), which this host uses: run with --container-runtime=runc instead';

export class OciRuntime extends ShimRuntime {
  private readonly images: ImageStore;
  private readonly binary: string;
  private readonly stateRoot: string;
  private readonly cgroupRoot: string;
  private readonly cgroupFs: string;
  private readonly hostBusybox: string;
  private readonly rootfsMode?: 'overlay' | 'copy';
  private readonly namespaceDir: string;

  constructor(opts: OciRuntimeOptions) {
    super(opts);
    this.images = opts.images;
    this.binary = opts.runtimeBinary ?? 'runc';
    this.stateRoot = opts.runtimeStateRoot ?? '/run/navarch/runc';
    this.cgroupRoot = opts.cgroupRoot ?? '/navarch';
    this.cgroupFs = opts.cgroupFs ?? '/sys/fs/cgroup';
    this.hostBusybox = opts.hostBusybox ?? '/bin/busybox';
    this.rootfsMode = opts.rootfsMode;
    this.namespaceDir = opts.namespaceDir ?? '/run/navarch/ns';
    preflight(this.binary, this.cgroupFs);
  }

  private runtimeArgs(...args: string[]): string[] { return [this.binary, '--root', this.stateRoot, ...args]; }

  async version(): Promise<VersionResponse> {
    const { stdout } = await execFileP(this.binary, ['--version']);
    const v = /version\s+(\S+)/.exec(stdout)?.[1] ?? 'unknown';
    return { version: '0.1.0', runtimeName: path.basename(this.binary), runtimeVersion: v, runtimeApiVersion: 'v1' };
  }

  private netnsName(id: string): string { return `navarch-${id.slice(0, 16)}`; }
  private podCgroup(rec: SandboxRecord): string {
    return rec.config.linux?.cgroupParent || `${this.cgroupRoot}/pod${rec.config.metadata.uid.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  }

  protected async setUpSandbox(rec: SandboxRecord): Promise<void> {
    const dir = this.sandboxDir(rec.id);
    const cfg = rec.config;
    const hostname = cfg.hostname ?? cfg.metadata.name;
    await fsp.writeFile(path.join(dir, 'hostname'), `${hostname}\n`);
    await fsp.writeFile(path.join(dir, 'hosts'), `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n`);
    const dns = cfg.dnsConfig;
    const resolv = dns
      ? [...(dns.searches?.length ? [`search ${dns.searches.join(' ')}`] : []), ...(dns.servers ?? []).map((s) => `nameserver ${s}`), ...(dns.options?.length ? [`options ${dns.options.join(' ')}`] : [])].join('\n') + '\n'
      : await fsp.readFile('/etc/resolv.conf', 'utf8').catch(() => '');
    await fsp.writeFile(path.join(dir, 'resolv.conf'), resolv);
    if (cfg.linux?.securityContext?.namespaceOptions?.network !== 'NODE') {
      const name = this.netnsName(rec.id);
      await execFileP('ip', ['netns', 'add', name]);
      rec.netnsPath = `/run/netns/${name}`;
      // CNI's loopback plugin would do this too; a pod without CNI still needs 127.0.0.1.
      await execFileP('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    }
    rec.extra = { cgroupParent: this.podCgroup(rec) };
    if (cfg.linux?.securityContext?.namespaceOptions?.ipc !== 'NODE') {
      // Containers of a pod share IPC (SysV, POSIX mqueues): a namespace pinned by bind mount,
      // like the netns, so no process has to hold it.
      await fsp.mkdir(this.namespaceDir, { recursive: true });
      const ipc = path.join(this.namespaceDir, `${rec.id.slice(0, 16)}-ipc`);
      await fsp.writeFile(ipc, '');
      await execFileP('unshare', [`--ipc=${ipc}`, 'true']);
      rec.extra.ipcNamespacePath = ipc;
    }
    await this.applyPodResources(rec);
  }

  /** Pod-level limits (the sum the kubelet computes) on the pod cgroup all containers nest in. */
  private async applyPodResources(rec: SandboxRecord): Promise<void> {
    const r = rec.config.linux?.resources;
    if (!r) return;
    const parent = rec.extra!.cgroupParent as string;
    const set = async (ctrl: string, file: string, value: number | undefined) => {
      if (value === undefined || value <= 0) return;
      const dir = path.join(this.cgroupFs, ctrl, parent);
      await fsp.mkdir(dir, { recursive: true });
      await fsp.writeFile(path.join(dir, file), String(value));
    };
    await set('memory', 'memory.limit_in_bytes', r.memoryLimitInBytes);
    await set('cpu', 'cpu.shares', r.cpuShares);
    await set('cpu', 'cpu.cfs_period_us', r.cpuPeriod);
    await set('cpu', 'cpu.cfs_quota_us', r.cpuQuota);
  }

  protected async tearDownSandbox(rec: SandboxRecord): Promise<void> {
    if (rec.netnsPath && fs.existsSync(rec.netnsPath)) {
      await execFileP('ip', ['netns', 'delete', path.basename(rec.netnsPath)]).catch(async () => {
        await unmount(rec.netnsPath!); await fsp.rm(rec.netnsPath!, { force: true });
      });
    }
    const ipc = rec.extra?.ipcNamespacePath as string | undefined;
    if (ipc && fs.existsSync(ipc)) { await unmount(ipc).catch(() => {}); await fsp.rm(ipc, { force: true }); }
    const parent = (rec.extra?.cgroupParent as string | undefined) ?? this.podCgroup(rec);
    for (const ctrl of ['cpu', 'cpuacct', 'memory', 'pids', 'cpuset', 'blkio', 'devices', 'freezer', 'systemd', 'unified']) {
      await fsp.rmdir(path.join(this.cgroupFs, ctrl, parent)).catch(() => {});
    }
  }

  private readPasswd(rootfs: string, name: string): { uid: number; gid: number } | undefined {
    try {
      for (const line of fs.readFileSync(path.join(rootfs, 'etc/passwd'), 'utf8').split('\n')) {
        const f = line.split(':');
        if (f[0] === name) return { uid: parseInt(f[2], 10), gid: parseInt(f[3], 10) };
      }
    } catch {}
    return undefined;
  }

  protected async prepareContainer(rec: ContainerRecord, sandbox: SandboxRecord): Promise<void> {
    let image;
    try { image = await this.images.rootfsOf(rec.config.image.image); } catch (e: any) {
      throw new RuntimeError('NotFound', `image "${rec.config.image.image}" not present on the node: ${e.message}`);
    }
    rec.imageRef = image.image.id;
    const dir = this.containerDir(rec.id);
    const bundle = path.join(dir, 'bundle');
    const rootfs = path.join(bundle, 'rootfs');
    const diffIds = image.layers.map((l) => l.diffId);
    await this.images.leaseLayers(diffIds, 1);
    rec.extra = { bundle, diffIds, rootfsMode: 'copy' };
    let mode = this.rootfsMode ?? 'overlay';
    if (mode === 'overlay') {
      try { await mountOverlay(image.layers.map((l) => l.fsDir), path.join(dir, 'upper'), path.join(dir, 'work'), rootfs); }
      catch { mode = 'copy'; } // e.g. the data dir is itself on overlayfs
    }
    if (mode === 'copy') await copyLayers(image.layers, rootfs);
    rec.extra.rootfsMode = mode;
    const sdir = this.sandboxDir(sandbox.id);
    const cgroupsPath = `${sandbox.extra?.cgroupParent ?? this.podCgroup(sandbox)}/${rec.id}`;
    rec.extra.cgroupsPath = cgroupsPath;
    const spec = generateSpec({
      containerId: rec.id, config: rec.config, sandbox: sandbox.config, image: image.image.spec ?? {}, netnsPath: sandbox.netnsPath, cgroupsPath,
      ipcNamespacePath: sandbox.extra?.ipcNamespacePath as string | undefined,
      etcFiles: { hosts: path.join(sdir, 'hosts'), resolvConf: path.join(sdir, 'resolv.conf'), hostname: path.join(sdir, 'hostname') },
      resolveUser: (name) => this.readPasswd(rootfs, name),
      maxOpenFiles: hostMaxOpenFiles(await fsp.readFile('/proc/self/limits', 'utf8').catch(() => '')),
    });
    await fsp.writeFile(path.join(bundle, 'config.json'), JSON.stringify(spec, null, 1));
  }

  protected shimSpec(rec: ContainerRecord, _sandbox: SandboxRecord, stateDir: string): ShimSpec {
    const hasMemoryLimit = (rec.config.linux?.resources?.memoryLimitInBytes ?? 0) > 0;
    const pidFile = path.join(stateDir, 'container.pid');
    let argv = this.runtimeArgs('run', '--bundle', rec.extra!.bundle, '--pid-file', pidFile, rec.id);
    if (rec.config.tty) {
      // A terminal container: `script` provides a pty; runc run -d hands it to the container
      // as its stdio; Perl (present wherever dpkg is) becomes a child subreaper, so the
      // container's init is re-parented to it and its exit status still reaches the shim.
      argv = ['script', '-qfec', [
        'perl', '-e', ttyReaper, pidFile, ...this.runtimeArgs('run', '-d', '--bundle', rec.extra!.bundle, '--pid-file', pidFile, rec.id),
      ].map(shellQuote).join(' '), '/dev/null'];
    }
    return {
      argv,
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' },
      cwd: rec.extra!.bundle,
      logPath: rec.logPath,
      stdin: rec.config.stdin,
      stdinOnce: rec.config.stdinOnce,
      stateDir,
      pidFile,
      oomEventsArgv: hasMemoryLimit ? this.runtimeArgs('events', rec.id) : undefined,
      oomKillFile: hasMemoryLimit ? path.join(this.cgroupFs, 'memory', rec.extra!.cgroupsPath, 'memory.oom_control') : undefined,
    };
  }

  override async startContainer(containerId: string): Promise<void> {
    try { await super.startContainer(containerId); } catch (e: any) {
      if (/hybrid/i.test(String(e.message))) throw new RuntimeError('Unavailable', crunHybridMessage);
      throw e;
    }
  }

  protected async signalContainer(rec: ContainerRecord, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    await execFileP(this.binary, ['--root', this.stateRoot, 'kill', rec.id, signal.slice(3)]).catch((e) => {
      if (!/not running|does not exist|container not/i.test(String(e.stderr ?? e))) throw new RuntimeError('Internal', `${this.binary} kill ${rec.id}: ${e.stderr ?? e}`);
    });
  }

  protected async cleanupContainer(rec: ContainerRecord): Promise<void> {
    await execFileP(this.binary, ['--root', this.stateRoot, 'delete', '--force', rec.id]).catch(() => {});
    const bundle = rec.extra?.bundle as string | undefined;
    if (bundle && rec.extra?.rootfsMode === 'overlay') await unmount(path.join(bundle, 'rootfs')).catch(() => {});
    if (rec.extra?.diffIds) { await this.images.leaseLayers(rec.extra.diffIds, -1); rec.extra.diffIds = undefined; }
  }

  protected override refineLostContainer(rec: ContainerRecord, state: ShimState): { state: ContainerState; reason: string; message: string } {
    try {
      const st = JSON.parse(execFileSync(this.binary, ['--root', this.stateRoot, 'state', rec.id], { stdio: 'pipe' }).toString());
      if (st.status === 'running') return { state: 'CONTAINER_RUNNING', reason: '', message: 'the container supervisor is gone; exit status will not be recorded' };
    } catch {}
    return super.refineLostContainer(rec, state);
  }

  protected execCommand(rec: ContainerRecord, cmd: string[], state: ShimState, tty = false): HostCommand {
    const env = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' };
    // runc exec starts from the bundle's process spec: same user, env, cwd, capabilities.
    if (!tty) return { argv: this.runtimeArgs('exec', rec.id, ...cmd), env };
    // A terminal: runc copies stdio through pipes unless detached, and its own tty mode hands
    // the pty over a console socket as SCM_RIGHTS, which Node cannot receive. So the process
    // is exec'd detached onto the host pty (from `script`), this wrapper waits for it (it is
    // reparented inside the container, so it can end as a zombie) and the exit code comes
    // back through a file in the container's /dev tmpfs. Needs /bin/sh in the image.
    const tag = `.navarch-exec-${Math.random().toString(36).slice(2)}`;
    const wrapper = [
      'pidfile=$(mktemp); rt="$1"; shift; root="$1"; shift; id="$1"; shift; initpid="$1"; shift; tag="$1"; shift',
      '"$rt" --root "$root" exec -d --pid-file "$pidfile" "$id" /bin/sh -c \'"$@"; echo $? > /dev/\'"$tag" sh "$@" || exit 126',
      'pid=$(cat "$pidfile"); rm -f "$pidfile"',
      'while [ -e /proc/$pid ] && ! grep -q "^[0-9]* (.*) Z" /proc/$pid/stat 2>/dev/null; do sleep 0.05; done',
      'f=/proc/$initpid/root/dev/$tag; code=$(cat "$f" 2>/dev/null || echo 0); rm -f "$f"; exit $code',
    ].join('\n');
    return { argv: ['sh', '-c', wrapper, 'navarch-exec', this.binary, this.stateRoot, rec.id, String(state.started!.pid), tag, ...cmd], env };
  }

  protected async sampleUsage(rec: ContainerRecord): Promise<{ cpuNanoSeconds: number; workingSetBytes: number; usageBytes: number }> {
    const cg = rec.extra!.cgroupsPath as string;
    const cpu = Number(await fsp.readFile(path.join(this.cgroupFs, 'cpuacct', cg, 'cpuacct.usage'), 'utf8'));
    const usage = Number(await fsp.readFile(path.join(this.cgroupFs, 'memory', cg, 'memory.usage_in_bytes'), 'utf8'));
    const stat = await fsp.readFile(path.join(this.cgroupFs, 'memory', cg, 'memory.stat'), 'utf8');
    const inactiveFile = Number(/^total_inactive_file (\d+)$/m.exec(stat)?.[1] ?? 0);
    // The kubelet's working set: usage minus what the kernel can drop at once.
    return { cpuNanoSeconds: cpu, usageBytes: usage, workingSetBytes: Math.max(0, usage - inactiveFile) };
  }

  /**
   * Node cannot enter a network namespace, so a helper does: `nsenter --net` + a static
   * busybox `nc` relays bytes to 127.0.0.1:port inside the pod (dockershim used socat alike).
   */
  async portForward(podSandboxId: string, port: number): Promise<Duplex> {
    const sb = this.sandbox(podSandboxId);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RuntimeError('InvalidArgument', `invalid port ${port}`);
    const argv = sb.netnsPath ? ['nsenter', `--net=${sb.netnsPath}`, this.hostBusybox, 'nc', '127.0.0.1', String(port)] : [this.hostBusybox, 'nc', '127.0.0.1', String(port)];
    const child = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'ignore'] });
    await new Promise<void>((resolve, reject) => { child.once('spawn', resolve); child.once('error', reject); });
    const out = child.stdout!;
    const inp = child.stdin!;
    inp.on('error', () => {}); // nc gone: the read side reports the end
    const duplex = new Duplex({
      read() { out.resume(); },
      write(chunk, _enc, cb) { if (inp.writable) inp.write(chunk, () => cb()); else cb(); },
      final(cb) { inp.end(); cb(); },
      destroy(err, cb) { child.kill(); cb(err); },
    });
    out.on('data', (d: Buffer) => { if (!duplex.push(d)) out.pause(); });
    out.on('end', () => duplex.push(null));
    return duplex;
  }
}
