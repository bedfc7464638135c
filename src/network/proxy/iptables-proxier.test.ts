// Real traffic through real rules: three network namespaces on a test bridge act as two backend
// pods and one client; the Service's ClusterIP lives in a test-only range covered by a blackhole
// route, so nothing for it can leave by the default route.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { IptablesProxier } from './iptables-proxier.js';
import { ensureBlackholeRoutes, type BlackholeRoutes } from './blackhole.js';
import { NetnsLab, randomSuffix, sh, startEchoName, tcpRequestsFrom } from '../testing/netns.js';
import type { EndpointSlice, Service } from '../types.js';

const isRoot = process.getuid?.() === 0;

describe('IptablesProxier in network namespaces', { skip: !isRoot }, () => {
  const lab = new NetnsLab('px');
  const octet = randomInt(10, 250);
  const podNet = `10.250.${octet}`;
  const serviceNet = `10.251.${octet}`;
  const prefix = `NV${randomSuffix(2).toUpperCase()}P`;
  const proxier = new IptablesProxier({ nodeIPs: ['127.0.0.1'], clusterCIDR: `${podNet}.0/24`, chainPrefix: prefix, nodeName: 'node-a' });
  let client = '';
  let blackhole: BlackholeRoutes | undefined;

  const service: Service = {
    metadata: { name: 'web', namespace: 'default' },
    spec: { clusterIP: `${serviceNet}.10`, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] },
  };
  const empty: Service = { metadata: { name: 'empty', namespace: 'default' }, spec: { clusterIP: `${serviceNet}.11`, ports: [{ port: 80 }] } };
  const slice = (ips: string[]): EndpointSlice => ({
    metadata: { name: 'web-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true }, nodeName: 'node-a' })),
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  });

  before(async () => {
    lab.onDispose(() => proxier.cleanup());
    lab.onDispose(async () => blackhole?.cleanup());
    blackhole = await ensureBlackholeRoutes(`${serviceNet}.0/24`);
    const bridge = await lab.addBridge('px', `${podNet}.1/24`);
    // A more specific route than the blackhole, into a dummy device: the REJECT rule must answer
    // before routing sends the packet there (a route back into the bridge would trigger ICMP
    // redirects, which eat the host's ICMP rate limit for the client).
    const sink = await lab.addSink('px');
    await sh('ip', ['route', 'add', `${serviceNet}.11/32`, 'dev', sink]);
    const a = await lab.addNamespace('a');
    const b = await lab.addNamespace('b');
    client = await lab.addNamespace('c');
    await lab.attach(a, bridge, `${podNet}.2/24`, `${podNet}.1`, 1);
    await lab.attach(b, bridge, `${podNet}.3/24`, `${podNet}.1`, 2);
    await lab.attach(client, bridge, `${podNet}.4/24`, `${podNet}.1`, 3);
    for (const [ns, name] of [[a, 'pod-a'], [b, 'pod-b']] as const) {
      const server = startEchoName(ns, 8080, name);
      lab.onDispose(async () => server.stop());
      await server.ready;
    }
  });
  after(() => lab.dispose());

  test('ClusterIP reaches both backends and balances between them', async () => {
    const outcome = await proxier.sync({ services: [service, empty], endpointSlices: [slice([`${podNet}.2`, `${podNet}.3`])] });
    assert.equal(outcome.applied, true);
    const replies = await tcpRequestsFrom(client, `${serviceNet}.10`, 80, 16);
    assert.ok(replies.every((r) => r === 'pod-a' || r === 'pod-b'), replies.join(','));
    assert.ok(replies.includes('pod-a') && replies.includes('pod-b'), `both backends used: ${replies.join(',')}`);
  });

  test('a service without endpoints is refused, not black-holed', async () => {
    const [reply] = await tcpRequestsFrom(client, `${serviceNet}.11`, 80, 1);
    assert.equal(reply, 'ERR ECONNREFUSED');
  });

  test('a virtual address without rules fails fast on the blackhole route', async () => {
    const [reply] = await tcpRequestsFrom(client, `${serviceNet}.12`, 80, 1);
    assert.equal(reply, 'ERR EHOSTUNREACH');
  });

  test('an unchanged snapshot applies nothing; a removed endpoint stops receiving traffic', async () => {
    const again = await proxier.sync({ services: [service, empty], endpointSlices: [slice([`${podNet}.2`, `${podNet}.3`])] });
    assert.equal(again.applied, false);
    const shrunk = await proxier.sync({ services: [service, empty], endpointSlices: [slice([`${podNet}.3`])] });
    assert.equal(shrunk.applied, true);
    assert.equal(shrunk.removedChains, 1, 'the SEP chain of the removed endpoint is deleted');
    const replies = await tcpRequestsFrom(client, `${serviceNet}.10`, 80, 6);
    assert.deepEqual(new Set(replies), new Set(['pod-b']));
  });

  test('cleanup removes every chain and hook', async () => {
    await proxier.cleanup();
    for (const table of ['nat', 'filter']) {
      const saved = await sh('iptables-save', ['-t', table]);
      assert.ok(!saved.includes(prefix), `${table} still mentions ${prefix}`);
    }
  });
});
