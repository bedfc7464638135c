// Cluster DNS fed by a real in-process API server, answering on a loopback address (127/8 is
// local already, so nothing is added to any interface and no packet leaves loopback).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestApiServer, type TestApiServer } from '../../apiserver/testing.js';
import { createEndpointSliceController } from '../../controllers/endpointslice/endpointslice-controller.js';
import { podsRef, servicesRef, endpointSlicesRef } from '../../controllers/endpointslice/refs.js';
import { queryUdp } from '../dns/server.js';
import { startClusterDns, type ClusterDns } from './cluster-dns.js';

const quiet = () => {};

describe('cluster DNS', () => {
  const stop = new AbortController();
  const host = `127.53.${randomInt(1, 250)}.10`;
  let server: TestApiServer;
  let dns: ClusterDns;
  let dir = '';

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nvt-dns-'));
    // No upstreams: a name outside the cluster must fail here, never leave the machine.
    await writeFile(join(dir, 'resolv.conf'), '');
    server = await startTestApiServer();
    void createEndpointSliceController({ client: server.client, logger: quiet }).start(stop.signal);
    dns = await startClusterDns({ transport: server.transport(), listen: `${host}:0`, upstreamResolvConf: join(dir, 'resolv.conf'), signal: stop.signal, logger: quiet, clusterIP: '10.43.0.10' });
    assert.equal(await dns.ready, true);
  });
  after(async () => {
    stop.abort();
    await dns?.stopped;
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const ask = (name: string, type: 'A' | 'SRV') => queryUdp({ host, port: dns.addresses[0]!.udpPort }, { type: 'query', id: randomInt(1, 65535), flags: 256, questions: [{ type, name }] } as any, 1000);

  async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string): Promise<T> {
    const deadline = Date.now() + 3000;
    for (;;) {
      const v = await read();
      if (ok(v)) return v;
      if (Date.now() > deadline) throw new Error(`${what}: ${JSON.stringify(v).slice(0, 500)}`);
      await new Promise((r) => setTimeout(r, 30));
    }
  }

  test('A for a ClusterIP Service and SRV for its named port, as soon as they are created', async () => {
    await server.client.resource(servicesRef).create('default', { metadata: { name: 'web' }, spec: { clusterIP: '10.43.7.7', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, protocol: 'TCP' }] } });
    const a = await eventually(() => ask('web.default.svc.cluster.local', 'A'), (r: any) => r.answers?.length > 0, 'A record');
    assert.deepEqual((a as any).answers.map((x: any) => x.data), ['10.43.7.7']);
    const srv: any = await ask('_http._tcp.web.default.svc.cluster.local', 'SRV');
    assert.equal(srv.answers[0].data.port, 80);
    assert.equal(srv.answers[0].data.target, 'web.default.svc.cluster.local');
    const missing: any = await ask('nope.default.svc.cluster.local', 'A');
    assert.equal(missing.rcode, 'NXDOMAIN');
  });

  test('headless Service: A records follow the ready pods through the EndpointSlice controller', async () => {
    const pods = server.client.resource(podsRef);
    for (const [name, ip] of [['db-0', '10.42.0.20'], ['db-1', '10.42.0.21']]) {
      const p = await pods.create('default', { metadata: { name, labels: { app: 'db' } }, spec: { hostname: name, subdomain: 'db', containers: [{ name: 'c', image: 'busybox' }] } });
      await pods.updateStatus({ ...p, status: { phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: 'True' }] } });
    }
    await server.client.resource(servicesRef).create('default', { metadata: { name: 'db' }, spec: { clusterIP: 'None', selector: { app: 'db' }, ports: [{ port: 5432 }] } });
    const a: any = await eventually(() => ask('db.default.svc.cluster.local', 'A'), (r: any) => r.answers?.length === 2, 'headless A');
    assert.deepEqual(a.answers.map((x: any) => x.data).sort(), ['10.42.0.20', '10.42.0.21']);
    const one: any = await eventually(() => ask('db-0.db.default.svc.cluster.local', 'A'), (r: any) => r.answers?.length === 1, 'hostname A');
    assert.equal(one.answers[0].data, '10.42.0.20');
  });

  test('the kube-dns Service and its endpoints exist', async () => {
    const svc = await eventually(() => server.client.resource(servicesRef).get('kube-system', 'kube-dns').catch(() => undefined), (s) => !!s, 'kube-dns');
    assert.equal(svc!.spec.clusterIP, '10.43.0.10');
    assert.deepEqual(svc!.spec.ports.map((p: any) => [p.name, p.protocol, p.port]), [['dns', 'UDP', 53], ['dns-tcp', 'TCP', 53]]);
    const slice = await server.client.resource(endpointSlicesRef).get('kube-system', 'kube-dns');
    assert.equal(slice.endpoints[0].addresses[0], host);
    assert.equal(slice.ports.find((p: any) => p.protocol === 'UDP').port, dns.addresses[0]!.udpPort);
  });
});
