// The Kubernetes DNS specification, table-driven against the record source, then the same over
// real UDP and TCP sockets on loopback with a fake upstream resolver (never the internet).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { randomInt } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import dnsPacket, { type Packet } from 'dns-packet';
import { DnsRecordSource, reverseName, type DnsSnapshot } from './records.js';
import { ClusterDnsServer, queryTcp, queryUdp, upstreamsFromResolvConf } from './server.js';

const snapshot: DnsSnapshot = {
  services: [
    { metadata: { name: 'web', namespace: 'shop' }, spec: { clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { port: 81 }] } },
    { metadata: { name: 'db', namespace: 'shop' }, spec: { clusterIP: 'None', ports: [{ name: 'redis', port: 6379 }] } },
    { metadata: { name: 'ext', namespace: 'shop' }, spec: { type: 'ExternalName', externalName: 'db.example.test' } },
  ],
  endpointSlices: [
    {
      metadata: { name: 'db-1', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'db' } },
      addressType: 'IPv4',
      endpoints: [
        { addresses: ['10.244.0.5'], hostname: 'db-0', conditions: { ready: true } },
        { addresses: ['10.244.0.6'], conditions: { ready: true } },
        { addresses: ['10.244.0.7'], hostname: 'db-2', conditions: { ready: false } },
      ],
      ports: [{ name: 'redis', port: 6379, protocol: 'TCP' }],
    },
  ],
  pods: [{ metadata: { name: 'p', namespace: 'shop' }, status: { podIP: '10.244.0.9' } }],
};

describe('DnsRecordSource', () => {
  const src = new DnsRecordSource(snapshot, { ttl: 5 });
  const data = (name: string, type: string) => {
    const r = src.lookup(name, type);
    return r.kind === 'answer' ? r.answers.map((a) => (typeof a.data === 'object' ? `${a.data.port} ${a.data.target}` : a.data)).sort() : r.kind;
  };
  const cases: [string, string, unknown][] = [
    ['web.shop.svc.cluster.local', 'A', ['10.96.0.10']],
    ['WEB.Shop.svc.cluster.local.', 'A', ['10.96.0.10']],
    ['web.shop.svc.cluster.local', 'AAAA', 'nodata'],
    ['_http._tcp.web.shop.svc.cluster.local', 'SRV', ['80 web.shop.svc.cluster.local']],
    ['_http._udp.web.shop.svc.cluster.local', 'SRV', 'nxdomain'],
    ['db.shop.svc.cluster.local', 'A', ['10.244.0.5', '10.244.0.6']],
    ['_redis._tcp.db.shop.svc.cluster.local', 'SRV', ['6379 10-244-0-6.db.shop.svc.cluster.local', '6379 db-0.db.shop.svc.cluster.local']],
    ['db-0.db.shop.svc.cluster.local', 'A', ['10.244.0.5']],
    ['db-2.db.shop.svc.cluster.local', 'A', 'nxdomain'],
    ['ext.shop.svc.cluster.local', 'A', ['db.example.test']],
    ['10-244-0-9.shop.pod.cluster.local', 'A', ['10.244.0.9']],
    ['10-244-0-9.other.pod.cluster.local', 'A', 'nxdomain'],
    [reverseName('10.96.0.10'), 'PTR', ['web.shop.svc.cluster.local']],
    [reverseName('10.244.0.5'), 'PTR', ['db-0.db.shop.svc.cluster.local']],
    [reverseName('10.244.0.9'), 'PTR', ['10-244-0-9.shop.pod.cluster.local']],
    [reverseName('192.0.2.1'), 'PTR', 'outside'],
    ['shop.svc.cluster.local', 'A', 'nodata'],
    ['nope.shop.svc.cluster.local', 'A', 'nxdomain'],
    ['web.shop.svc.cluster.local.shop.svc.cluster.local', 'A', 'nxdomain'],
    ['example.test', 'A', 'outside'],
  ];
  for (const [name, type, want] of cases) test(`${type} ${name}`, () => assert.deepEqual(data(name, type), want));

  test('SRV answers carry the targets addresses as additionals', () => {
    const r = src.lookup('_redis._tcp.db.shop.svc.cluster.local', 'SRV');
    assert.ok(r.kind === 'answer');
    assert.deepEqual(r.additionals.map((a) => a.data).sort(), ['10.244.0.5', '10.244.0.6']);
  });
});

describe('ClusterDnsServer over UDP and TCP', () => {
  const host = `127.0.${randomInt(1, 250)}.${randomInt(2, 250)}`;
  const upstreamHost = `127.0.${randomInt(1, 250)}.1`;
  let upstream: dgram.Socket;
  let upstreamQueries = 0;
  let server: ClusterDnsServer;
  let udpPort = 0;
  let tcpPort = 0;
  let dir = '';

  before(async () => {
    // Fake upstream: knows db.example.test and www.example.test, NXDOMAIN otherwise.
    upstream = dgram.createSocket('udp4');
    upstream.on('message', (msg, rinfo) => {
      upstreamQueries++;
      const q = dnsPacket.decode(msg);
      const name = q.questions![0]!.name;
      const known = name === 'db.example.test' || name === 'www.example.test';
      const reply: Packet = {
        id: q.id,
        type: 'response',
        flags: dnsPacket.RECURSION_AVAILABLE | (known ? 0 : 3),
        questions: q.questions,
        answers: known && q.questions![0]!.type === 'A' ? [{ name, type: 'A', ttl: 60, class: 'IN', data: '192.0.2.77' }] : [],
      };
      upstream.send(dnsPacket.encode(reply), rinfo.port, rinfo.address);
    });
    await new Promise<void>((r) => upstream.bind(0, upstreamHost, () => r()));
    dir = await mkdtemp(path.join(tmpdir(), 'navarch-dns-'));
    await writeFile(path.join(dir, 'resolv.conf'), `nameserver ${host}\nnameserver ${upstreamHost}\noptions ndots:5\n`);
    const upstreams = (await upstreamsFromResolvConf(path.join(dir, 'resolv.conf'), [host])).map((u) => ({ ...u, port: upstream.address().port }));
    assert.deepEqual(upstreams.map((u) => u.host), [upstreamHost]);
    server = new ClusterDnsServer({ host, port: 0, upstreams, ttl: 5, upstreamTimeoutMs: 1000 });
    server.sync(snapshot);
    ({ udpPort, tcpPort } = await server.start());
  });
  after(async () => {
    await server?.cleanup();
    upstream?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const ask = (name: string, type: string, transport: 'udp' | 'tcp' = 'udp') => {
    const q: Packet = { type: 'query', id: randomInt(65536), flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type, class: 'IN' }] };
    return transport === 'udp' ? queryUdp({ host, port: udpPort }, q, 2000) : queryTcp({ host, port: tcpPort }, q, 2000);
  };

  for (const transport of ['udp', 'tcp'] as const) {
    test(`${transport}: a ClusterIP service is an authoritative A record with TTL 5`, async () => {
      const r = await ask('web.shop.svc.cluster.local', 'A', transport);
      assert.equal(r.rcode, 'NOERROR');
      assert.equal(r.flag_aa, true);
      assert.deepEqual(r.answers!.map((a) => [a.data, a.ttl]), [['10.96.0.10', 5]]);
    });
  }

  test('a missing name in the zone is NXDOMAIN with the SOA in authority', async () => {
    const r = await ask('missing.shop.svc.cluster.local', 'A');
    assert.equal(r.rcode, 'NXDOMAIN');
    assert.equal(r.authorities![0]!.type, 'SOA');
    assert.equal(r.authorities![0]!.name, 'cluster.local');
  });

  test('NODATA: NOERROR, no answers, SOA in authority', async () => {
    const r = await ask('web.shop.svc.cluster.local', 'AAAA', 'tcp');
    assert.equal(r.rcode, 'NOERROR');
    assert.equal(r.answers!.length, 0);
    assert.equal(r.authorities![0]!.type, 'SOA');
  });

  test('search-path expansions of an outside name fail fast in-zone, the bare name is forwarded', async () => {
    for (const suffix of ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local']) {
      assert.equal((await ask(`www.example.test.${suffix}`, 'A')).rcode, 'NXDOMAIN');
    }
    const before = upstreamQueries;
    const r = await ask('www.example.test', 'A');
    assert.deepEqual(r.answers!.map((a) => a.data), ['192.0.2.77']);
    assert.equal(upstreamQueries, before + 1, 'in-zone names never go upstream');
    const again = await ask('www.example.test', 'A');
    assert.deepEqual(again.answers!.map((a) => a.data), ['192.0.2.77']);
    assert.equal(upstreamQueries, before + 1, 'the second answer came from the cache');
    assert.equal((await ask('nothing.example.test', 'A', 'tcp')).rcode, 'NXDOMAIN');
  });

  test('ExternalName answers CNAME and chases the target upstream', async () => {
    const r = await ask('ext.shop.svc.cluster.local', 'A');
    assert.deepEqual(r.answers!.map((a) => `${a.type} ${a.data}`), ['CNAME db.example.test', 'A 192.0.2.77']);
  });

  test('headless SRV over UDP lists per-endpoint targets', async () => {
    const r = await ask('_redis._tcp.db.shop.svc.cluster.local', 'SRV');
    assert.equal(r.answers!.length, 2);
    assert.ok(r.additionals!.some((a) => a.type === 'A' && a.data === '10.244.0.5'));
  });

  test('PTR for a service IP', async () => {
    const r = await ask('10.0.96.10.in-addr.arpa', 'PTR');
    assert.deepEqual(r.answers!.map((a) => a.data), ['web.shop.svc.cluster.local']);
  });

  test('sync is level-triggered: a removed service disappears', async () => {
    server.sync({ ...snapshot, services: snapshot.services.filter((s) => s.metadata.name !== 'web') });
    assert.equal((await ask('web.shop.svc.cluster.local', 'A')).rcode, 'NXDOMAIN');
    server.sync(snapshot);
  });
});
