// The userspace proxier on loopback: ClusterIPs in 127.0.0.0/8 are local, so it can bind them
// directly; backends are plain servers on 127.0.0.1.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import dgram from 'node:dgram';
import { randomInt } from 'node:crypto';
import { UserspaceProxier } from './userspace.js';
import type { EndpointSlice, Service } from '../types.js';

function tcpGet(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    let d = '';
    s.on('data', (b) => (d += b));
    s.on('end', () => resolve(d));
    s.on('error', (e: NodeJS.ErrnoException) => resolve(`ERR ${e.code}`));
  });
}

describe('UserspaceProxier', () => {
  const clusterIP = `127.0.${randomInt(1, 250)}.${randomInt(2, 250)}`;
  const servers: net.Server[] = [];
  const ports: number[] = [];
  let udpBackend: dgram.Socket;
  let now = 0;
  const proxier = new UserspaceProxier({ now: () => now, listenAddress: (svc, port) => ({ host: svc.spec!.clusterIP!, port: 0 }) });

  const svc = (affinity = false): Service => ({
    metadata: { name: 'web', namespace: 'default' },
    spec: { clusterIP, sessionAffinity: affinity ? 'ClientIP' : 'None', ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { name: 'dns', port: 53, protocol: 'UDP' }] },
  });
  const slice = (backendPorts: number[], udpPort?: number): EndpointSlice[] => [
    {
      metadata: { name: 'web-tcp', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['127.0.0.1'] }],
      ports: udpPort ? [{ name: 'dns', port: udpPort, protocol: 'UDP' }] : [],
    },
    ...backendPorts.map((p, i) => ({
      metadata: { name: `web-${i}`, namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4' as const,
      endpoints: [{ addresses: ['127.0.0.1'] }],
      ports: [{ name: 'http', port: p, protocol: 'TCP' as const }],
    })),
  ];
  const tcpPortal = () => proxier.listening().get('default/web:http/TCP')!;

  before(async () => {
    for (const name of ['one', 'two']) {
      const server = net.createServer((s) => s.end(name));
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      servers.push(server);
      ports.push((server.address() as net.AddressInfo).port);
    }
    udpBackend = dgram.createSocket('udp4');
    udpBackend.on('message', (m, r) => udpBackend.send(Buffer.from(`echo:${m}`), r.port, r.address));
    await new Promise<void>((r) => udpBackend.bind(0, '127.0.0.1', () => r()));
  });
  after(async () => {
    await proxier.cleanup();
    for (const s of servers) s.close();
    udpBackend.close();
  });

  test('TCP connections are spread over the endpoints', async () => {
    await proxier.sync({ services: [svc()], endpointSlices: slice(ports, udpBackend.address().port) });
    const { host, port } = tcpPortal();
    assert.equal(host, clusterIP);
    const got = await Promise.all(Array.from({ length: 6 }, () => tcpGet(host, port)));
    assert.deepEqual(new Set(got), new Set(['one', 'two']));
  });

  test('UDP datagrams are relayed and answered', async () => {
    const { port } = proxier.listening().get('default/web:dns/UDP')!;
    const client = dgram.createSocket('udp4');
    const reply = await new Promise<string>((resolve) => {
      client.on('message', (m) => resolve(String(m)));
      client.send('hello', port, clusterIP);
    });
    client.close();
    assert.equal(reply, 'echo:hello');
  });

  test('sessionAffinity ClientIP pins a client until the timeout', async () => {
    await proxier.sync({ services: [svc(true)], endpointSlices: slice(ports) });
    const { host, port } = tcpPortal();
    const got = [];
    for (let i = 0; i < 4; i++) got.push(await tcpGet(host, port));
    assert.equal(new Set(got).size, 1);
  });

  test('a dead endpoint is skipped; no endpoints means the connection is refused', async () => {
    const dead = net.createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', () => r()));
    const deadPort = (dead.address() as net.AddressInfo).port;
    await new Promise<void>((r) => dead.close(() => r()));
    await proxier.sync({ services: [svc()], endpointSlices: slice([deadPort, ports[0]!]) });
    const { host, port } = tcpPortal();
    for (let i = 0; i < 3; i++) assert.equal(await tcpGet(host, port), 'one');
    await proxier.sync({ services: [svc()], endpointSlices: [] });
    assert.equal(await tcpGet(host, port), 'ERR ECONNRESET');
  });

  test('removing the service closes its listeners', async () => {
    const { host, port } = tcpPortal();
    await proxier.sync({ services: [], endpointSlices: [] });
    assert.equal(proxier.listening().size, 0);
    assert.equal(await tcpGet(host, port), 'ERR ECONNREFUSED');
  });
});
