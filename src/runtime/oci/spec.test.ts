import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateSpec, capabilitiesFor, processArgs, defaultCapabilities, hostMaxOpenFiles, type SpecInput } from './spec.js';
import type { ContainerConfig } from '../types.js';

const base = (config: Partial<ContainerConfig> = {}, extra: Partial<SpecInput> = {}): SpecInput => ({
  containerId: 'c1',
  config: { metadata: { name: 'app' }, image: { image: 'busybox' }, ...config },
  sandbox: { metadata: { name: 'pod', uid: 'u', namespace: 'ns' }, hostname: 'pod' },
  image: { Entrypoint: ['/entry'], Cmd: ['--serve'], Env: ['PATH=/img/bin', 'A=1'], WorkingDir: '/srv', User: 'www' },
  netnsPath: '/run/netns/navarch-x',
  cgroupsPath: '/navarch/podu/c1',
  etcFiles: { hosts: '/s/hosts', resolvConf: '/s/resolv.conf', hostname: '/s/hostname' },
  resolveUser: (n) => (n === 'www' ? { uid: 33, gid: 33 } : undefined),
  ...extra,
});

test('command and args follow Kubernetes over ENTRYPOINT/CMD', () => {
  const img = { Entrypoint: ['/e'], Cmd: ['c'] };
  const cfg = (c: Partial<ContainerConfig>) => ({ metadata: { name: 'x' }, image: { image: 'i' }, ...c });
  assert.deepEqual(processArgs(cfg({}), img), ['/e', 'c']);
  assert.deepEqual(processArgs(cfg({ args: ['a'] }), img), ['/e', 'a']);
  assert.deepEqual(processArgs(cfg({ command: ['/x'] }), img), ['/x']);
  assert.deepEqual(processArgs(cfg({ command: ['/x'], args: ['a'] }), img), ['/x', 'a']);
});

test('capabilities: containerd defaults, add/drop, ALL, privileged', () => {
  const caps = (sc: any) => capabilitiesFor({ metadata: { name: 'x' }, image: { image: 'i' }, linux: { securityContext: sc } });
  assert.deepEqual(caps({}), defaultCapabilities);
  assert.ok(caps({ capabilities: { addCapabilities: ['NET_ADMIN'] } }).includes('CAP_NET_ADMIN'));
  assert.ok(!caps({ capabilities: { dropCapabilities: ['NET_RAW'] } }).includes('CAP_NET_RAW'));
  assert.deepEqual(caps({ capabilities: { dropCapabilities: ['ALL'], addCapabilities: ['NET_BIND_SERVICE'] } }), ['CAP_NET_BIND_SERVICE']);
  assert.ok(caps({ privileged: true }).includes('CAP_SYS_ADMIN'));
});

test('spec: env, user, cwd, namespaces, mounts, resources', () => {
  const spec = generateSpec(base({
    envs: [{ key: 'A', value: '2' }],
    mounts: [{ containerPath: '/data', hostPath: '/var/data', readonly: true, propagation: 'PROPAGATION_HOST_TO_CONTAINER' }, { containerPath: '/etc/hosts', hostPath: '/kubelet/hosts' }],
    linux: { resources: { cpuShares: 512, cpuQuota: 50000, cpuPeriod: 100000, memoryLimitInBytes: 64 << 20, oomScoreAdj: 900 }, securityContext: { readonlyRootfs: true, noNewPrivs: true } },
  }, { maxOpenFiles: 20000 }));
  assert.deepEqual(spec.process.args, ['/entry', '--serve']);
  assert.ok(spec.process.env.includes('PATH=/img/bin'));
  assert.ok(spec.process.env.includes('A=2'), 'container env overrides image env');
  assert.ok(spec.process.env.includes('HOSTNAME=pod'));
  assert.deepEqual(spec.process.user, { uid: 33, gid: 33, additionalGids: [] });
  assert.equal(spec.process.cwd, '/srv');
  assert.equal(spec.process.noNewPrivileges, true);
  assert.equal(spec.process.oomScoreAdj, 900);
  assert.deepEqual(spec.process.rlimits, [{ type: 'RLIMIT_NOFILE', hard: 20000, soft: 20000 }]);
  assert.equal(spec.root.readonly, true);
  assert.equal(spec.hostname, 'pod');
  assert.deepEqual(spec.linux.namespaces, [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'network', path: '/run/netns/navarch-x' }]);
  assert.equal(spec.linux.cgroupsPath, '/navarch/podu/c1');
  assert.deepEqual(spec.linux.resources.cpu, { shares: 512, quota: 50000, period: 100000 });
  assert.deepEqual(spec.linux.resources.memory, { limit: 64 << 20, swap: 64 << 20 });
  const dest = (d: string) => spec.mounts.filter((m: any) => m.destination === d);
  for (const d of ['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys', '/sys/fs/cgroup', '/etc/resolv.conf', '/etc/hostname']) assert.equal(dest(d).length, 1, d);
  assert.deepEqual(dest('/etc/hosts').map((m: any) => m.source), ['/kubelet/hosts'], "the kubelet's mount wins");
  assert.deepEqual(dest('/data')[0].options, ['rbind', 'rslave', 'ro']);
  assert.ok(spec.linux.maskedPaths.includes('/proc/kcore'));
});

test('spec: host network, numeric user, missing user and missing command', () => {
  const spec = generateSpec(base({ linux: { securityContext: { runAsUser: 1000, runAsGroup: 2000 } } }, {
    sandbox: { metadata: { name: 'p', uid: 'u', namespace: 'n' }, linux: { securityContext: { namespaceOptions: { network: 'NODE' } } } }, netnsPath: undefined,
  }));
  assert.deepEqual(spec.linux.namespaces.map((n: any) => n.type), ['pid', 'ipc', 'mount']);
  assert.equal(spec.process.user.uid, 1000);
  assert.equal(spec.process.user.gid, 2000);
  assert.throws(() => generateSpec(base({}, { image: { Cmd: ['x'], User: 'nobody' } })), /unable to find user nobody/);
  assert.throws(() => generateSpec(base({}, { image: {} })), /no command specified/);
});

test('RLIMIT_NOFILE follows the host hard limit', () => {
  assert.equal(hostMaxOpenFiles('Max open files            1024                 20000                files\n'), 20000);
  assert.equal(hostMaxOpenFiles('Max open files            1024                 unlimited            files\n'), 1048576);
});
