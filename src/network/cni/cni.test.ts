// Runs the standard CNI plugins for real against network namespaces the test creates. The pod
// range is a random 10.250.x.0/24 on a test bridge; host-local keeps its state in a temp dir.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { CniClient, CniError, defaultConfList, fileResultCache, loadConfList, loopbackConfList, podCIDRFromNode, podIPFromResult, writeDefaultConfList, type RuntimeConf } from './cni.js';
import { NetnsLab, sh } from '../testing/netns.js';

const isRoot = process.getuid?.() === 0;

describe('CNI client with the standard plugins', { skip: !isRoot }, () => {
  const lab = new NetnsLab('cni');
  const octet = randomInt(10, 250);
  const podCIDR = `10.250.${octet}.0/24`;
  const bridge = `nvc${lab.suffix}`;
  let dir = '';
  let client: CniClient;
  const pods: { ns: string; rt: RuntimeConf; ip?: string }[] = [];

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'navarch-cni-'));
    client = new CniClient({ pluginDirs: ['/usr/lib/cni', '/opt/cni/bin'], cache: fileResultCache(path.join(dir, 'results')) });
    lab.onDispose(async () => {
      for (const p of pods) await client.del(network(), p.rt).catch(() => {});
      await sh('ip', ['link', 'del', bridge]).catch(() => {});
      await rm(dir, { recursive: true, force: true });
    });
    for (const label of ['a', 'b']) {
      const ns = await lab.addNamespace(label);
      pods.push({ ns, rt: { containerId: `navarch-test-${label}-${lab.suffix}`, netns: `/var/run/netns/${ns}`, ifName: 'eth0', args: { K8S_POD_NAMESPACE: 'default', K8S_POD_NAME: `pod-${label}` } } });
    }
  });
  after(() => lab.dispose());

  const network = () => defaultConfList({ podCIDR, bridge, name: `navarch-test-${lab.suffix}`, ipamDataDir: path.join(dir, 'ipam') });

  test('the default conflist round-trips through the loader', async () => {
    const file = await writeDefaultConfList(path.join(dir, 'net.d'), { podCIDR, bridge });
    const loaded = await loadConfList(file);
    assert.deepEqual(loaded.plugins.map((p) => p.type), ['bridge', 'portmap']);
    assert.equal(loaded.plugins[0]!.bridge, bridge);
  });

  test('the pod CIDR comes from the Node object', () => {
    assert.equal(podCIDRFromNode({ metadata: { name: 'n' }, spec: { podCIDR: '10.244.1.0/24', podCIDRs: ['fd00::/64', '10.244.1.0/24'] } }), '10.244.1.0/24');
    assert.equal(podCIDRFromNode({ metadata: { name: 'n' } }), undefined);
  });

  test('VERSION reports 1.0.0 support', async () => {
    const v = await client.version('bridge');
    assert.ok(v.supportedVersions.includes('1.0.0'));
  });

  test('ADD gives each pod an address in the pod CIDR, and pods reach the gateway and each other', async () => {
    const latencies: number[] = [];
    for (const [i, pod] of pods.entries()) {
      await client.add(loopbackConfList(), { ...pod.rt, ifName: 'lo' });
      const rt = { ...pod.rt, capabilityArgs: i === 0 ? { portMappings: [{ hostPort: 40000 + octet, containerPort: 80, protocol: 'tcp' as const }] } : undefined };
      pod.rt = rt;
      const t0 = performance.now();
      const result = await client.add(network(), rt);
      latencies.push(performance.now() - t0);
      pod.ip = podIPFromResult(result);
      assert.ok(pod.ip?.startsWith(`10.250.${octet}.`), `pod IP ${pod.ip}`);
      assert.ok(result.interfaces?.some((x) => x.name === 'eth0' && x.sandbox), 'container interface reported');
      assert.equal(result.ips?.[0]?.gateway, `10.250.${octet}.1`);
    }
    console.log(`CNI ADD latency (bridge+host-local+portmap): ${latencies.map((l) => l.toFixed(1)).join(' ms, ')} ms`);
    assert.notEqual(pods[0]!.ip, pods[1]!.ip);
    await sh('ip', ['netns', 'exec', pods[0]!.ns, 'busybox', 'ping', '-c', '1', '-W', '2', `10.250.${octet}.1`]);
    await sh('ip', ['netns', 'exec', pods[0]!.ns, 'busybox', 'ping', '-c', '1', '-W', '2', pods[1]!.ip!]);
    await sh('ip', ['netns', 'exec', pods[1]!.ns, 'busybox', 'ping', '-c', '1', '-W', '2', '127.0.0.1']);
    const nat = await sh('iptables-save', ['-t', 'nat']);
    assert.match(nat, new RegExp(`--dport ${40000 + octet} `), 'portmap received the portMappings runtimeConfig');
  });

  // (The pod with a port mapping is not CHECKed: this portmap build insists on an IPv6 DNAT chain
  // it never created for an IPv4-only pod.)
  test('CHECK passes for an attached pod', async () => {
    await client.check(network(), pods[1]!.rt);
  });

  test('errors carry the plugin code and message', async () => {
    const bad = { cniVersion: '1.0.0', name: 'bad', plugins: [{ type: 'bridge', bridge, ipam: { type: 'host-local', ranges: [[{ subnet: 'not-a-cidr' }]] } }] };
    await assert.rejects(client.add(bad, { ...pods[0]!.rt, ifName: 'eth9' }), (e: unknown) => e instanceof CniError && e.code > 0 && /not-a-cidr|invalid/i.test(e.msg));
    await assert.rejects(client.version('no-such-plugin'), /failed to find plugin/);
  });

  test('DEL releases the address and the port mapping; a second DEL still succeeds', async () => {
    const ipamDir = path.join(dir, 'ipam', network().name);
    assert.ok((await readdir(ipamDir)).includes(pods[0]!.ip!));
    await client.del(network(), pods[0]!.rt);
    assert.ok(!(await readdir(ipamDir)).includes(pods[0]!.ip!), 'host-local released the IP');
    const nat = await sh('iptables-save', ['-t', 'nat']);
    assert.doesNotMatch(nat, new RegExp(`--dport ${40000 + octet} `));
    await client.del(network(), pods[0]!.rt);
  });
});
