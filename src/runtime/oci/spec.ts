// OCI runtime-spec (config.json) generation from a CRI container config, following what
// containerd's CRI plugin produces so workloads behave the same under navarch.
import type { ContainerConfig, ImageConfig, Mount, PodSandboxConfig } from '../types.js';

/** containerd's default capability set (oci.defaultUnixCaps). */
export const defaultCapabilities = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

export const allCapabilities = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW',
  'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD',
  'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG',
  'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ',
];

const maskedPaths = ['/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware'];
const readonlyPaths = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

export interface SpecInput {
  containerId: string;
  config: ContainerConfig;
  sandbox: PodSandboxConfig;
  image: ImageConfig;
  /** Bind-mounted network namespace; undefined = the host's network. */
  netnsPath?: string;
  cgroupsPath: string;
  /** The pod's pinned IPC namespace, shared by its containers. */
  ipcNamespacePath?: string;
  /** Files the runtime generated for the pod (used unless the kubelet mounts its own). */
  etcFiles: { hosts?: string; resolvConf?: string; hostname?: string };
  /** The RLIMIT_NOFILE to give (containerd: 1048576, capped here by the host's hard limit). */
  maxOpenFiles?: number;
  /** User and group ids resolved from the image's /etc/passwd for a named USER. */
  resolveUser?: (name: string) => { uid: number; gid: number } | undefined;
}

function normaliseCap(c: string): string { const u = c.toUpperCase(); return u.startsWith('CAP_') ? u : `CAP_${u}`; }

export function capabilitiesFor(config: ContainerConfig): string[] {
  const sc = config.linux?.securityContext;
  if (sc?.privileged) return [...allCapabilities];
  let caps = new Set(defaultCapabilities);
  const add = sc?.capabilities?.addCapabilities ?? [];
  const drop = sc?.capabilities?.dropCapabilities ?? [];
  if (add.some((c) => c.toUpperCase() === 'ALL')) caps = new Set(allCapabilities);
  else for (const c of add) caps.add(normaliseCap(c));
  if (drop.some((c) => c.toUpperCase() === 'ALL')) caps = new Set(add.filter((c) => c.toUpperCase() !== 'ALL').map(normaliseCap));
  else for (const c of drop) caps.delete(normaliseCap(c));
  return [...caps];
}

/** Kubernetes semantics: command replaces ENTRYPOINT (and drops CMD), args replace CMD. */
export function processArgs(config: ContainerConfig, image: ImageConfig): string[] {
  const command = config.command?.length ? config.command : image.Entrypoint ?? [];
  const args = config.args?.length ? config.args : config.command?.length ? [] : image.Cmd ?? [];
  return [...command, ...args];
}

function propagation(m: Mount): string {
  switch (m.propagation) {
    case 'PROPAGATION_BIDIRECTIONAL': return 'rshared';
    case 'PROPAGATION_HOST_TO_CONTAINER': return 'rslave';
    default: return 'rprivate';
  }
}

export function generateSpec(input: SpecInput): Record<string, any> {
  const { config, sandbox, image } = input;
  const sc = config.linux?.securityContext ?? {};
  const privileged = !!sc.privileged;
  const args = processArgs(config, image);
  if (args.length === 0) throw new Error('no command specified: the image has no ENTRYPOINT/CMD and the container no command');

  const env = new Map<string, string>();
  env.set('PATH', '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
  for (const e of image.Env ?? []) { const i = e.indexOf('='); if (i > 0) env.set(e.slice(0, i), e.slice(i + 1)); }
  if (sandbox.hostname) env.set('HOSTNAME', sandbox.hostname);
  if (config.tty && !env.has('TERM')) env.set('TERM', 'xterm');
  for (const kv of config.envs ?? []) env.set(kv.key, kv.value);

  let uid = 0; let gid = 0;
  if (sc.runAsUser !== undefined) uid = sc.runAsUser;
  else if (image.User) {
    const [u, g] = image.User.split(':');
    if (/^\d+$/.test(u)) uid = parseInt(u, 10);
    else { const r = input.resolveUser?.(u); if (!r) throw new Error(`unable to find user ${u}: no matching entries in passwd file`); uid = r.uid; gid = r.gid; }
    if (g !== undefined && /^\d+$/.test(g)) gid = parseInt(g, 10);
  }
  if (sc.runAsGroup !== undefined) gid = sc.runAsGroup;

  const caps = capabilitiesFor(config);
  const mounts: Record<string, any>[] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', privileged ? 'rw' : 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', privileged ? 'rw' : 'ro'] },
  ];
  const userMounts = config.mounts ?? [];
  const mounted = new Set(userMounts.map((m) => m.containerPath));
  if (!mounted.has('/dev/shm')) mounts.push({ destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] });
  const etc: [string, string | undefined][] = [['/etc/hosts', input.etcFiles.hosts], ['/etc/resolv.conf', input.etcFiles.resolvConf], ['/etc/hostname', input.etcFiles.hostname]];
  for (const [dest, src] of etc) if (src && !mounted.has(dest)) mounts.push({ destination: dest, type: 'bind', source: src, options: ['rbind', 'rprivate', sc.readonlyRootfs ? 'ro' : 'rw'] });
  for (const m of userMounts) {
    mounts.push({ destination: m.containerPath, type: 'bind', source: m.hostPath, options: ['rbind', propagation(m), m.readonly ? 'ro' : 'rw'] });
  }

  const namespaces: Record<string, string>[] = [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }];
  const nsOpts = sandbox.linux?.securityContext?.namespaceOptions ?? {};
  if (nsOpts.network !== 'NODE' && input.netnsPath) namespaces.push({ type: 'network', path: input.netnsPath });
  if (nsOpts.pid === 'NODE') namespaces.splice(0, 1);
  if (nsOpts.ipc === 'NODE') namespaces.splice(namespaces.findIndex((n) => n.type === 'ipc'), 1);
  else if (input.ipcNamespacePath) namespaces.find((n) => n.type === 'ipc')!.path = input.ipcNamespacePath;

  const res = config.linux?.resources ?? {};
  const resources: Record<string, any> = {
    devices: privileged ? [{ allow: true, access: 'rwm' }] : [{ allow: false, access: 'rwm' }],
  };
  const cpu: Record<string, number> = {};
  if (res.cpuShares) cpu.shares = res.cpuShares;
  if (res.cpuQuota && res.cpuQuota > 0) cpu.quota = res.cpuQuota;
  if (res.cpuPeriod) cpu.period = res.cpuPeriod;
  if (Object.keys(cpu).length) resources.cpu = cpu;
  if (res.memoryLimitInBytes && res.memoryLimitInBytes > 0) resources.memory = { limit: res.memoryLimitInBytes, swap: res.memoryLimitInBytes };

  const spec: Record<string, any> = {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid, gid, additionalGids: sc.supplementalGroups ?? [] },
      args,
      env: [...env].map(([k, v]) => `${k}=${v}`),
      cwd: config.workingDir || image.WorkingDir || '/',
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      // Raising past the agent's own hard limit needs CAP_SYS_RESOURCE in the init namespace.
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: input.maxOpenFiles ?? 1048576, soft: input.maxOpenFiles ?? 1048576 }],
      noNewPrivileges: !!sc.noNewPrivs,
      ...(res.oomScoreAdj !== undefined ? { oomScoreAdj: res.oomScoreAdj } : {}),
    },
    root: { path: 'rootfs', readonly: !!sc.readonlyRootfs },
    hostname: nsOpts.network === 'NODE' ? undefined : sandbox.hostname,
    mounts,
    linux: {
      cgroupsPath: input.cgroupsPath,
      resources,
      namespaces,
      ...(privileged ? {} : { maskedPaths, readonlyPaths }),
    },
    annotations: { 'io.kubernetes.cri.container-name': config.metadata.name, 'io.kubernetes.cri.sandbox-name': sandbox.metadata.name, 'io.kubernetes.cri.sandbox-namespace': sandbox.metadata.namespace },
  };
  // A pod on the host's network still gets its own UTS namespace only if it has a hostname to set.
  if (!spec.hostname) { spec.linux.namespaces = namespaces.filter((n) => n.type !== 'uts'); delete spec.hostname; }
  return spec;
}

/** The hard RLIMIT_NOFILE of this process, from /proc/self/limits. */
export function hostMaxOpenFiles(limitsText: string): number | undefined {
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(limitsText);
  if (!m) return undefined;
  return m[2] === 'unlimited' ? 1048576 : Math.min(1048576, parseInt(m[2], 10));
}
