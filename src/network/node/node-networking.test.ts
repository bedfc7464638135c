// A whole node's networking, for real, inside network namespaces this test makes (nothing on the
// host changes): a "node" namespace runs the service proxy and routes (every host tool is run
// through `ip netns exec <node>`); two "pods" sit on a bridge inside it; a "client" namespace is
// routed through it. A real in-process API server and the EndpointSlice controller feed it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestApiServer, type TestApiServer } from '../../apiserver/testing.js';
import { createEndpointSliceController } from '../../controllers/endpointslice/endpointslice-controller.js';
import { podsRef, servicesRef, nodesRef } from '../../controllers/endpointslice/refs.js';
import { runCommand, type CommandRunner } from '../exec.js';
import { randomSuffix, sh, startEchoName, tcpRequestsFrom } from '../testing/netns.js';
import { startNodeNetworking, type NodeNetworking } from './node-networking.js';
import { createCniPodNetwork } from './pod-network.js';
import { routeProtocol } from './routes.js';

const isRoot = process.getuid?.() === 0;
const quiet = () => {};

async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what} not reached: ${JSON.stringify(v).slice(0, 600)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('node networking in network namespaces', { skip: !isRoot }, () => {
  const sfx = randomSuffix();
  const ns = { node: `nvt-nn-node-${sfx}`, p1: `nvt-nn-p1-${sfx}`, p2: `nvt-nn-p2-${sfx}`, p3: `nvt-nn-p3-${sfx}`, client: `nvt-nn-c-${sfx}` };
  const inNode: CommandRunner = (file, args, options) => runCommand('ip', ['netns', 'exec', ns.node, file, ...args], options);
  const stopEverything = new AbortController();
  const echoes: { stop(): void }[] = [];
  let server: TestApiServer;
  let networking: NodeNetworking;
  let dir = '';

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nvt-nn-'));
    for (const n of Object.values(ns)) {
      await sh('ip', ['netns', 'add', n]);
      await sh('ip', ['-n', n, 'link', 'set', 'lo', 'up']);
    }
    await sh('ip', ['netns', 'exec', ns.node, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
    await sh('ip', ['-n', ns.node, 'link', 'add', 'br0', 'type', 'bridge']);
    await sh('ip', ['-n', ns.node, 'addr', 'add', '10.250.0.1/24', 'dev', 'br0']);
    await sh('ip', ['-n', ns.node, 'link', 'set', 'br0', 'up']);
    for (const [pod, ip] of [[ns.p1, '10.250.0.11'], [ns.p2, '10.250.0.12']] as const) {
      const veth = pod === ns.p1 ? 'vp1' : 'vp2';
      await sh('ip', ['-n', ns.node, 'link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', pod]);
      await sh('ip', ['-n', ns.node, 'link', 'set', veth, 'master', 'br0', 'up']);
      await sh('ip', ['-n', pod, 'addr', 'add', `${ip}/24`, 'dev', 'eth0']);
      await sh('ip', ['-n', pod, 'link', 'set', 'eth0', 'up']);
      await sh('ip', ['-n', pod, 'route', 'add', 'default', 'via', '10.250.0.1']);
    }
    // The client is routed (not bridged) through the node, so replies pass the node's conntrack.
    await sh('ip', ['-n', ns.node, 'link', 'add', 'vc', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.client]);
    await sh('ip', ['-n', ns.node, 'addr', 'add', '10.251.0.1/30', 'dev', 'vc']);
    await sh('ip', ['-n', ns.node, 'link', 'set', 'vc', 'up']);
    await sh('ip', ['-n', ns.client, 'addr', 'add', '10.251.0.2/30', 'dev', 'eth0']);
    await sh('ip', ['-n', ns.client, 'link', 'set', 'eth0', 'up']);
    await sh('ip', ['-n', ns.client, 'route', 'add', 'default', 'via', '10.251.0.1']);
    for (const [pod, name] of [[ns.p1, 'p1'], [ns.p2, 'p2']] as const) {
      const e = startEchoName(pod, 8080, name);
      echoes.push(e);
      await e.ready;
    }

    server = await startTestApiServer();
    void createEndpointSliceController({ client: server.client, logger: quiet }).start(stopEverything.signal);
    const nodes = server.client.resource(nodesRef);
    await nodes.create(undefined, { metadata: { name: 'node-a' }, spec: { podCIDR: '10.250.1.0/24', podCIDRs: ['10.250.1.0/24'] }, status: { addresses: [{ type: 'InternalIP', address: '10.251.0.1' }] } });
    await nodes.create(undefined, { metadata: { name: 'node-b' }, spec: { podCIDR: '10.250.9.0/24', podCIDRs: ['10.250.9.0/24'] } });
    // Node status is a subresource: the InternalIP goes in through it, as a kubelet would.
    const b = await nodes.get(undefined, 'node-b');
    await nodes.updateStatus({ ...b, status: { addresses: [{ type: 'InternalIP', address: '10.250.0.99' }] } });
    const pods = server.client.resource(podsRef);
    for (const [name, ip] of [['p1', '10.250.0.11'], ['p2', '10.250.0.12']]) {
      const p = await pods.create('default', { metadata: { name, labels: { app: 'echo' } }, spec: { nodeName: 'node-a', containers: [{ name: 'c', image: 'busybox' }] } });
      await pods.updateStatus({ ...p, status: { phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: 'True' }] } });
    }
    const services = server.client.resource(servicesRef);
    await services.create('default', { metadata: { name: 'echo' }, spec: { clusterIP: '10.43.0.50', selector: { app: 'echo' }, ports: [{ port: 80, targetPort: 8080 }] } });
    await services.create('default', { metadata: { name: 'nobody' }, spec: { clusterIP: '10.43.0.51', selector: { app: 'none' }, ports: [{ port: 80 }] } });

    networking = await startNodeNetworking({
      transport: server.transport(),
      nodeName: 'node-a',
      nodeIP: '10.251.0.1',
      clusterCidr: '10.250.0.0/16',
      serviceCidr: '10.43.0.0/16',
      mode: 'iptables',
      signal: stopEverything.signal,
      run: inNode,
      logger: quiet,
      minSyncIntervalMs: 20,
    });
    assert.equal(await networking.ready, true);
  });

  after(async () => {
    stopEverything.abort();
    for (const e of echoes) e.stop();
    await networking?.stopped;
    await server?.close();
    for (const n of Object.values(ns)) await runCommand('ip', ['netns', 'del', n]).catch(() => {});
    await rm(dir, { recursive: true, force: true });
  });

  const routes = async () => JSON.parse(await sh('ip', ['-n', ns.node, '-4', '-j', 'route', 'show', 'proto', routeProtocol]) || '[]') as any[];

  test('a ClusterIP reaches both pods through the proxy; a Service without endpoints is refused', async () => {
    const answers = await eventually(() => tcpRequestsFrom(ns.client, '10.43.0.50', 80, 8), (a) => a.includes('p1') && a.includes('p2'), 'both backends');
    assert.ok(answers.every((a) => a === 'p1' || a === 'p2'), answers.join(','));
    const refused = await tcpRequestsFrom(ns.client, '10.43.0.51', 80, 1);
    assert.match(refused[0]!, /^ERR (ECONNREFUSED|EHOSTUNREACH)$/);
  });

  test('endpoint changes reach the rules: a deleted pod stops receiving traffic', async () => {
    await server.client.resource(podsRef).delete('default', 'p2', { gracePeriodSeconds: 0 });
    await eventually(() => tcpRequestsFrom(ns.client, '10.43.0.50', 80, 6), (a) => a.every((x) => x === 'p1'), 'only p1');
  });

  test('routes: host-gw to other nodes, the service CIDR to the dummy device, unowned pod space unreachable', async () => {
    const have = await eventually(routes, (r) => r.some((x) => x.dst === '10.250.9.0/24'), 'route to node-b');
    assert.deepEqual(have.find((r) => r.dst === '10.250.9.0/24').gateway, '10.250.0.99');
    assert.equal(have.find((r) => r.dst === '10.43.0.0/16').dev, 'navarch-svc');
    assert.equal(have.find((r) => r.dst === '10.250.0.0/16').type, 'unreachable');
    assert.ok(!have.some((r) => r.dst === '10.250.1.0/24'), 'no route of ours for our own podCIDR');
    await server.client.resource(nodesRef).delete(undefined, 'node-b');
    await eventually(routes, (r) => !r.some((x) => x.dst === '10.250.9.0/24'), 'route to node-b removed');
  });

  test('NetworkPolicy: an ingress policy cuts the client off from the selected pod, and deleting it restores access', async () => {
    assert.deepEqual(await tcpRequestsFrom(ns.client, '10.250.0.11', 8080, 1), ['p1']);
    const policiesClient = server.client.resource({ group: 'networking.k8s.io', version: 'v1', resource: 'networkpolicies', namespaced: true });
    await policiesClient.create('default', {
      metadata: { name: 'friends-only' },
      spec: { podSelector: { matchLabels: { app: 'echo' } }, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: { matchLabels: { role: 'friend' } } }] }] },
    });
    await eventually(() => tcpRequestsFrom(ns.client, '10.250.0.11', 8080, 1, 400), (a) => a[0] !== 'p1', 'blocked');
    await policiesClient.delete('default', 'friends-only');
    await eventually(() => tcpRequestsFrom(ns.client, '10.250.0.11', 8080, 1, 400), (a) => a[0] === 'p1', 'allowed again');
    assert.ok(networking.policySyncs() >= 2);
  });

  test('CNI pod network: a pod gets an address from the node podCIDR and is reachable; teardown frees it', async () => {
    const network = createCniPodNetwork({ nodeName: 'node-a', podCidr: () => networking.podCidr(), confDir: join(dir, 'net.d'), stateDir: join(dir, 'cni'), run: inNode, bridge: 'navarch0' });
    const pod = { namespacePath: `/var/run/netns/${ns.p3}`, podName: 'p3', podNamespace: 'default', podUid: 'uid-p3', sandboxId: `sandbox${sfx}` };
    const { ips } = await network.setUp(pod);
    assert.match(ips[0]!, /^10\.250\.1\.\d+$/);
    const echo = startEchoName(ns.p3, 8080, 'p3');
    echoes.push(echo);
    await echo.ready;
    assert.deepEqual(await tcpRequestsFrom(ns.client, ips[0]!, 8080, 1), ['p3']);
    await network.tearDown(pod);
    const addrs = await sh('ip', ['-n', ns.p3, '-4', '-o', 'addr', 'show']);
    assert.ok(!addrs.includes(ips[0]!), addrs);
  });

  test('stopping removes every rule, route and device it made', async () => {
    const stop = new AbortController();
    const other = await startNodeNetworking({ transport: server.transport(), nodeName: 'node-a', nodeIP: '10.251.0.1', clusterCidr: '10.250.0.0/16', serviceCidr: '10.43.0.0/16', mode: 'iptables', signal: stop.signal, run: inNode, logger: quiet, chainPrefix: 'NVTEST', serviceInterface: 'nvt-svc' });
    assert.equal(await other.ready, true);
    assert.match(await sh('ip', ['netns', 'exec', ns.node, 'iptables-save', '-t', 'nat']), /NVTEST-SERVICES/);
    stop.abort();
    await other.stopped;
    assert.doesNotMatch(await sh('ip', ['netns', 'exec', ns.node, 'iptables-save']), /NVTEST/);
    const link = await runCommand('ip', ['-n', ns.node, 'link', 'show', 'nvt-svc']);
    assert.notEqual(link.code, 0);
  });
});
