// The cluster DNS server as a federation's DNS provider (zones from Domain objects, records from
// DNSEndpoints) and kube-dns's stubDomains/upstreamNameservers, over real UDP on loopback: a
// "member" server forwards the federation zone to a "host" server.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { randomInt } from 'node:crypto';
import dnsPacket, { type Packet } from 'dns-packet';
import { createClient } from '../../client/client.js';
import { FakeApiServer } from '../../client/testing/fake-apiserver.js';
import { waitFor } from '../../client/testing/wait.js';
import { parseKubeDnsConfig, parseNameserver } from './kube-dns-config.js';
import { watchDnsExtraSources, federationDnsEndpointsRef, federationDomainsRef } from './extra-sources.js';
import { DnsRecordSource, type DnsEndpointObject, type DnsSnapshot } from './records.js';
import { ClusterDnsServer, queryUdp } from './server.js';

const p = 'web.shop.galactic.svc';
const endpoint: DnsEndpointObject = {
  metadata: { name: 'service-web', namespace: 'shop' },
  spec: {
    endpoints: [
      { dnsName: `${p}.example.com`, recordType: 'A', targets: ['192.0.2.1', '192.0.2.2'], recordTTL: 60 },
      { dnsName: `${p}.eu.example.com`, recordType: 'A', targets: ['192.0.2.1'], recordTTL: 60 },
      { dnsName: `${p}.eu-1a.eu.example.com`, recordType: 'A', targets: ['192.0.2.1'], recordTTL: 60 },
      { dnsName: `${p}.us.example.com`, recordType: 'CNAME', targets: [`${p}.example.com`], recordTTL: 60 },
      { dnsName: `${p}.us-1a.us.example.com`, recordType: 'CNAME', targets: [`${p}.us.example.com`], recordTTL: 60 },
      { dnsName: 'www.example.com', recordType: 'CNAME', targets: ['elsewhere.test'], recordTTL: 30 },
      { dnsName: 'info.example.com', recordType: 'TXT', targets: ['owner=navarch'] },
      // Not in any Domain: never answered (we are not authoritative there).
      { dnsName: 'evil.other.test', recordType: 'A', targets: ['203.0.113.1'] },
    ],
  },
};
const empty: DnsSnapshot = { services: [], endpointSlices: [], pods: [] };
const federated: DnsSnapshot = { ...empty, federationZones: ['example.com.'], dnsEndpoints: [endpoint] };

describe('DnsRecordSource: federation zones', () => {
  const src = new DnsRecordSource(federated, { ttl: 5 });
  const show = (name: string, type: string) => {
    const r = src.lookup(name, type);
    return r.kind === 'answer' ? r.answers.map((a) => `${a.name} ${a.type} ${Array.isArray(a.data) ? a.data.join('') : typeof a.data === 'object' ? a.data.mname : a.data} ${a.ttl}`) : r.kind;
  };
  const cases: [string, string, unknown][] = [
    [`${p}.example.com`, 'A', [`${p}.example.com A 192.0.2.1 60`, `${p}.example.com A 192.0.2.2 60`]],
    [`${p.toUpperCase()}.Example.COM.`, 'A', [`${p}.example.com A 192.0.2.1 60`, `${p}.example.com A 192.0.2.2 60`]],
    [`${p}.eu-1a.eu.example.com`, 'A', [`${p}.eu-1a.eu.example.com A 192.0.2.1 60`]],
    // zone → region → global, followed inside the zone in one answer.
    [`${p}.us-1a.us.example.com`, 'A', [`${p}.us-1a.us.example.com CNAME ${p}.us.example.com 60`, `${p}.us.example.com CNAME ${p}.example.com 60`, `${p}.example.com A 192.0.2.1 60`, `${p}.example.com A 192.0.2.2 60`]],
    [`${p}.us-1a.us.example.com`, 'CNAME', [`${p}.us-1a.us.example.com CNAME ${p}.us.example.com 60`]],
    [`${p}.example.com`, 'AAAA', 'nodata'],
    ['shop.galactic.svc.example.com', 'A', 'nodata'],
    [`nope.shop.galactic.svc.example.com`, 'A', 'nxdomain'],
    ['info.example.com', 'TXT', ['info.example.com TXT owner=navarch 5']],
    ['example.com', 'SOA', ['example.com SOA ns.dns.example.com 5']],
    ['evil.other.test', 'A', 'outside'],
    ['web.shop.svc.cluster.local', 'A', 'nxdomain'],
  ];
  for (const [name, type, want] of cases) test(`${type} ${name}`, () => assert.deepEqual(show(name, type), want));

  test('NXDOMAIN in a federation zone carries that zone`s SOA', () => {
    assert.equal(src.soa(`x.${p}.example.com`).name, 'example.com');
    assert.equal(src.soa('x.svc.cluster.local').name, 'cluster.local');
  });

  test('without a Domain the endpoints are not served', () => {
    const none = new DnsRecordSource({ ...empty, dnsEndpoints: [endpoint] });
    assert.equal(none.lookup(`${p}.example.com`, 'A').kind, 'outside');
  });
});

describe('kube-dns ConfigMap', () => {
  test('parses stubDomains and upstreamNameservers as kube-dns documents them', () => {
    const { forwarding, errors } = parseKubeDnsConfig({
      stubDomains: '{"acme.local": ["1.2.3.4"], "fed.example.com.": ["10.0.0.53:5353", "[2001:db8::1]:53"], "bad_domain!": ["1.1.1.1"], "x.test": ["not-an-ip"]}',
      upstreamNameservers: '["8.8.8.8", "8.8.4.4"]',
    });
    assert.deepEqual(forwarding.stubDomains, [
      { domain: 'fed.example.com', nameservers: [{ host: '10.0.0.53', port: 5353 }, { host: '2001:db8::1', port: 53 }] },
      { domain: 'acme.local', nameservers: [{ host: '1.2.3.4', port: 53 }] },
    ]);
    assert.deepEqual(forwarding.upstreamNameservers, [{ host: '8.8.8.8', port: 53 }, { host: '8.8.4.4', port: 53 }]);
    assert.equal(errors.length, 2);
  });

  test('rejects more than three upstreams, bad JSON, and keeps resolv.conf then', () => {
    assert.equal(parseKubeDnsConfig({ upstreamNameservers: '["1.1.1.1","1.1.1.2","1.1.1.3","1.1.1.4"]' }).forwarding.upstreamNameservers, undefined);
    const r = parseKubeDnsConfig({ stubDomains: '{nope', upstreamNameservers: '' });
    assert.deepEqual(r.forwarding, { stubDomains: [] });
    assert.match(r.errors[0]!, /invalid JSON/);
    assert.deepEqual(parseKubeDnsConfig(undefined), { forwarding: { stubDomains: [] }, errors: [] });
    assert.equal(parseNameserver('1.2.3.4:99999'), undefined);
    assert.equal(parseNameserver('dns.example.com'), undefined);
  });
});

describe('host and member cluster DNS over UDP', () => {
  const subnet = randomInt(1, 250);
  const hostAddr = `127.1.${subnet}.10`;
  const memberAddr = `127.1.${subnet}.11`;
  const upstreamAddr = `127.1.${subnet}.12`;
  let host: ClusterDnsServer;
  let member: ClusterDnsServer;
  let upstream: dgram.Socket;
  let hostPort = 0;
  let memberPort = 0;
  let upstreamQueries: string[] = [];

  before(async () => {
    upstream = dgram.createSocket('udp4');
    upstream.on('message', (msg, rinfo) => {
      const q = dnsPacket.decode(msg);
      const name = q.questions![0]!.name;
      upstreamQueries.push(name);
      const reply: Packet = { id: q.id, type: 'response', flags: dnsPacket.RECURSION_AVAILABLE, questions: q.questions, answers: [{ name, type: 'A', ttl: 60, class: 'IN', data: '198.51.100.7' }] };
      upstream.send(dnsPacket.encode(reply), rinfo.port, rinfo.address);
    });
    await new Promise<void>((r) => upstream.bind(0, upstreamAddr, () => r()));
    host = new ClusterDnsServer({ host: hostAddr, port: 0, upstreams: [{ host: upstreamAddr, port: upstream.address().port }], upstreamTimeoutMs: 1000 });
    host.sync(federated);
    hostPort = (await host.start()).udpPort;
    member = new ClusterDnsServer({ host: memberAddr, port: 0, upstreams: [], upstreamTimeoutMs: 1000 });
    member.sync(empty);
    memberPort = (await member.start()).udpPort;
  });
  after(async () => {
    await host?.stop();
    await member?.stop();
    upstream?.close();
  });

  const ask = (port: number, addr: string, name: string, type = 'A') =>
    queryUdp({ host: addr, port }, { type: 'query', id: randomInt(65536), flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type, class: 'IN' }] }, 2000);

  test('the host answers its federation zone authoritatively, NXDOMAIN with the zone SOA', async () => {
    const r = await ask(hostPort, hostAddr, `${p}.us-1a.us.example.com`);
    assert.equal(r.flag_aa, true);
    assert.deepEqual(r.answers!.map((a) => a.data), [`${p}.us.example.com`, `${p}.example.com`, '192.0.2.1', '192.0.2.2']);
    const missing = await ask(hostPort, hostAddr, `gone.shop.galactic.svc.example.com`);
    assert.equal(missing.rcode, 'NXDOMAIN');
    assert.equal(missing.authorities![0]!.name, 'example.com');
  });

  test('a CNAME leaving the zone is chased upstream', async () => {
    const r = await ask(hostPort, hostAddr, 'www.example.com');
    assert.deepEqual(r.answers!.map((a) => `${a.type} ${a.data}`), ['CNAME elsewhere.test', 'A 198.51.100.7']);
  });

  test('a member forwards the federation zone to the host through a stub domain, other names to upstreamNameservers', async () => {
    assert.equal((await ask(memberPort, memberAddr, `${p}.example.com`)).rcode, 'SERVFAIL', 'no upstream yet');
    member.setForwarding(parseKubeDnsConfig({ stubDomains: JSON.stringify({ 'example.com': [`${hostAddr}:${hostPort}`] }), upstreamNameservers: JSON.stringify([`${upstreamAddr}:${upstream.address().port}`]) }).forwarding);
    upstreamQueries = [];
    const r = await ask(memberPort, memberAddr, `${p}.eu.example.com`);
    assert.deepEqual(r.answers!.map((a) => a.data), ['192.0.2.1']);
    const other = await ask(memberPort, memberAddr, 'api.other.test');
    assert.deepEqual(other.answers!.map((a) => a.data), ['198.51.100.7']);
    assert.deepEqual(upstreamQueries, ['api.other.test'], 'the stub domain never went to the upstream');
    // Failover reaches members too: the host's records change, the member sees it once its cache expires (cleared here by a config change).
    host.sync({ ...federated, dnsEndpoints: [{ ...endpoint, spec: { endpoints: [{ dnsName: `${p}.eu.example.com`, recordType: 'CNAME', targets: [`${p}.example.com`] }, { dnsName: `${p}.example.com`, recordType: 'A', targets: ['192.0.2.2'] }] } }] });
    member.setForwarding({ stubDomains: [{ domain: 'example.com', nameservers: [{ host: hostAddr, port: hostPort }] }] });
    const after = await ask(memberPort, memberAddr, `${p}.eu.example.com`);
    assert.deepEqual(after.answers!.map((a) => a.data), [`${p}.example.com`, '192.0.2.2']);
  });
});

describe('watchDnsExtraSources', () => {
  const configMaps = { group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespaced: true };

  test('reads the kube-dns ConfigMap; without the federation CRDs serves no federation zone and does not block', async () => {
    const api = new FakeApiServer([configMaps]);
    api.put(configMaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-dns', namespace: 'kube-system' }, data: { stubDomains: '{"example.com": ["10.0.0.53"]}' } });
    const abort = new AbortController();
    let changes = 0;
    const extras = watchDnsExtraSources({ client: createClient(api.transport()), signal: abort.signal, onChange: () => changes++ });
    try {
      assert.equal(await extras.ready, true);
      assert.deepEqual(extras.forwarding().stubDomains, [{ domain: 'example.com', nameservers: [{ host: '10.0.0.53', port: 53 }] }]);
      assert.deepEqual(extras.federation(), { federationZones: [], dnsEndpoints: [] });
      assert.ok(changes >= 1);
    } finally {
      abort.abort();
    }
  });

  test('with the CRDs, Domains and DNSEndpoints feed the snapshot and changes are signalled', async () => {
    const api = new FakeApiServer([configMaps, { ...federationDomainsRef, kind: 'Domain' }, { ...federationDnsEndpointsRef, kind: 'DNSEndpoint' }]);
    api.put(federationDomainsRef, { apiVersion: 'multiclusterdns.kubefed.io/v1alpha1', kind: 'Domain', metadata: { name: 'galactic', namespace: 'kube-federation-system' }, domain: 'example.com' });
    const abort = new AbortController();
    let changes = 0;
    const extras = watchDnsExtraSources({ client: createClient(api.transport()), signal: abort.signal, onChange: () => changes++ });
    try {
      await waitFor(() => extras.federation().federationZones!.length === 1, 3000, 'Domain seen');
      assert.deepEqual(extras.federation().federationZones, ['example.com']);
      const before = changes;
      api.put(federationDnsEndpointsRef, { apiVersion: 'multiclusterdns.kubefed.io/v1alpha1', kind: 'DNSEndpoint', ...endpoint });
      await waitFor(() => extras.federation().dnsEndpoints!.length === 1 && changes > before, 3000, 'DNSEndpoint seen');
      const src = new DnsRecordSource({ ...empty, ...extras.federation() });
      assert.equal(src.lookup(`${p}.example.com`, 'A').kind, 'answer');
      assert.deepEqual(extras.forwarding(), { stubDomains: [] }, 'no ConfigMap: nothing to forward specially');
    } finally {
      abort.abort();
    }
  });
});
