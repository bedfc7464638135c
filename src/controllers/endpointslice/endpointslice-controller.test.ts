import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/types.js';
import { startTestApiServer, type TestApiServer } from '../../apiserver/testing.js';
import { createEndpointSliceController } from './endpointslice-controller.js';
import { createKubernetesServiceController } from './kubernetes-service.js';
import { controllerName, managedByLabel, serviceNameLabel } from './desired.js';
import { endpointSlicesRef, endpointsRef, podsRef, servicesRef } from './refs.js';

const quiet = () => {};

let server: TestApiServer;
const stop = new AbortController();

before(async () => {
  server = await startTestApiServer();
  void createEndpointSliceController({ client: server.client, logger: quiet }).start(stop.signal);
});
after(async () => {
  stop.abort();
  await server.close();
});

let nsCounter = 0;
async function namespace(): Promise<string> {
  const name = `eps-${++nsCounter}`;
  await server.client.resource({ group: '', version: 'v1', resource: 'namespaces', namespaced: false }).create(undefined, { metadata: { name } });
  return name;
}

interface PodSpec {
  name: string;
  ip?: string;
  ready?: boolean;
  labels?: Record<string, string>;
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  hostname?: string;
  subdomain?: string;
  nodeName?: string;
  terminating?: boolean;
}

async function createPod(ns: string, p: PodSpec): Promise<KubeObject> {
  const pods = server.client.resource(podsRef);
  const created = await pods.create(ns, {
    metadata: { name: p.name, labels: p.labels ?? { app: 'web' }, ...(p.terminating ? { finalizers: ['test/hold'] } : {}) },
    spec: {
      containers: [{ name: 'c', image: 'busybox', ports: p.ports }],
      ...(p.hostname ? { hostname: p.hostname } : {}),
      ...(p.subdomain ? { subdomain: p.subdomain } : {}),
      ...(p.nodeName ? { nodeName: p.nodeName } : {}),
    },
  });
  let pod = created;
  if (p.ip) {
    pod = await pods.updateStatus({
      ...created,
      status: { phase: 'Running', podIP: p.ip, podIPs: [{ ip: p.ip }], conditions: [{ type: 'Ready', status: p.ready === false ? 'False' : 'True' }] },
    });
  }
  if (p.terminating) await pods.delete(ns, p.name, { gracePeriodSeconds: 0 });
  return pod;
}

async function createService(ns: string, spec: Record<string, unknown>, name = 'web'): Promise<KubeObject> {
  return server.client.resource(servicesRef).create(ns, { metadata: { name }, spec: { selector: { app: 'web' }, ...spec } });
}

async function slicesOf(ns: string, service = 'web'): Promise<KubeObject[]> {
  return (await server.client.resource(endpointSlicesRef).list(ns, { labelSelector: `${serviceNameLabel}=${service}` })).items;
}

async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T;
  for (;;) {
    last = await read();
    if (ok(last)) return last;
    if (Date.now() > deadline) throw new Error(`${what} not reached; last: ${JSON.stringify(last, null, 1).slice(0, 1500)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const endpointCount = (slices: KubeObject[]) => slices.reduce((n, s) => n + (s.endpoints?.length ?? 0), 0);

describe('EndpointSlice controller', () => {
  const conditionCases: { name: string; pod: Partial<PodSpec>; publishNotReady?: boolean; want: { ready: boolean; serving: boolean; terminating: boolean } }[] = [
    { name: 'ready pod', pod: { ready: true }, want: { ready: true, serving: true, terminating: false } },
    { name: 'not-ready pod', pod: { ready: false }, want: { ready: false, serving: false, terminating: false } },
    { name: 'terminating ready pod', pod: { ready: true, terminating: true }, want: { ready: false, serving: true, terminating: true } },
    { name: 'not-ready pod, publishNotReadyAddresses', pod: { ready: false }, publishNotReady: true, want: { ready: true, serving: false, terminating: false } },
  ];
  for (const c of conditionCases) {
    test(`conditions: ${c.name}`, async () => {
      const ns = await namespace();
      await createPod(ns, { name: 'p1', ip: '10.42.0.5', ...c.pod });
      const svc = await createService(ns, { ports: [{ port: 80, targetPort: 8080 }], publishNotReadyAddresses: c.publishNotReady });
      const slices = await eventually(() => slicesOf(ns), (s) => endpointCount(s) === 1 && JSON.stringify(s[0]!.endpoints[0].conditions) === JSON.stringify(c.want), 'conditions');
      const slice = slices[0]!;
      assert.equal(slice.addressType, 'IPv4');
      assert.deepEqual(slice.endpoints[0].addresses, ['10.42.0.5']);
      assert.equal(slice.metadata.labels![managedByLabel], controllerName);
      assert.deepEqual(slice.ports, [{ name: '', port: 8080, protocol: 'TCP' }]);
      assert.equal(slice.metadata.ownerReferences![0]!.uid, svc.metadata.uid);
      assert.equal(slice.metadata.ownerReferences![0]!.controller, true);
      assert.equal(slice.endpoints[0].targetRef.name, 'p1');

      // Legacy Endpoints: ready (or published) in addresses, the rest in notReadyAddresses; terminating
      // pods are left out unless not-ready addresses are published.
      const ep = await eventually(() => server.client.resource(endpointsRef).get(ns, 'web'), () => true, 'endpoints');
      const subset = ep.subsets?.[0];
      if (c.pod.terminating && !c.publishNotReady) assert.equal(ep.subsets?.length ?? 0, 0);
      else if (c.want.ready) assert.deepEqual(subset.addresses.map((a: any) => a.ip), ['10.42.0.5']);
      else assert.deepEqual(subset.notReadyAddresses.map((a: any) => a.ip), ['10.42.0.5']);
    });
  }

  test('named targetPort resolves per pod; pods without the port are left out; different ports give different slices', async () => {
    const ns = await namespace();
    await createPod(ns, { name: 'a', ip: '10.42.0.1', ports: [{ name: 'http', containerPort: 8080 }] });
    await createPod(ns, { name: 'b', ip: '10.42.0.2', ports: [{ name: 'http', containerPort: 9090 }] });
    await createPod(ns, { name: 'c', ip: '10.42.0.3', ports: [{ name: 'other', containerPort: 7070 }] });
    await createPod(ns, { name: 'no-ip' });
    await createService(ns, { ports: [{ name: 'web', port: 80, targetPort: 'http' }] });
    const slices = await eventually(() => slicesOf(ns), (s) => endpointCount(s) === 2 && s.length === 2, 'two slices');
    const byPort = new Map(slices.map((s) => [s.ports[0].port, s.endpoints.map((e: any) => e.addresses[0])]));
    assert.deepEqual(byPort.get(8080), ['10.42.0.1']);
    assert.deepEqual(byPort.get(9090), ['10.42.0.2']);
    assert.equal(slices[0]!.ports[0].name, 'web');
    const ep = await eventually(() => server.client.resource(endpointsRef).get(ns, 'web'), (e) => (e.subsets ?? []).length === 2, 'endpoint subsets');
    assert.deepEqual(ep.subsets.map((s: any) => [s.addresses[0].ip, s.ports[0].port]).sort(), [['10.42.0.1', 8080], ['10.42.0.2', 9090]]);
  });

  test('hostname for pods whose subdomain is the service; nodeName and zone', async () => {
    const ns = await namespace();
    await server.client.resource({ group: '', version: 'v1', resource: 'nodes', namespaced: false }).create(undefined, {
      metadata: { name: `node-${ns}`, labels: { 'topology.kubernetes.io/zone': 'zone-a' } },
    });
    await createPod(ns, { name: 'db-0', ip: '10.42.1.1', hostname: 'db-0', subdomain: 'web', nodeName: `node-${ns}` });
    await createPod(ns, { name: 'db-1', ip: '10.42.1.2', hostname: 'db-1', subdomain: 'elsewhere' });
    await createService(ns, { clusterIP: 'None', ports: [{ port: 5432 }] });
    const slices = await eventually(() => slicesOf(ns), (s) => endpointCount(s) === 2, 'slice');
    const byName = new Map(slices[0]!.endpoints.map((e: any) => [e.targetRef.name, e]));
    assert.equal((byName.get('db-0') as any).hostname, 'db-0');
    assert.equal((byName.get('db-0') as any).nodeName, `node-${ns}`);
    assert.equal((byName.get('db-0') as any).zone, 'zone-a');
    assert.equal((byName.get('db-1') as any).hostname, undefined);
    assert.equal(slices[0]!.metadata.labels!['service.kubernetes.io/headless'], '');
    const ep = await eventually(() => server.client.resource(endpointsRef).get(ns, 'web'), (e) => e.subsets?.[0]?.addresses?.length === 2, 'endpoints');
    assert.equal(ep.subsets[0].addresses.find((a: any) => a.ip === '10.42.1.1').hostname, 'db-0');
  });

  test('at most 100 endpoints per slice; shrinking deletes emptied slices; no pods leaves one placeholder', async () => {
    const ns = await namespace();
    await createService(ns, { ports: [{ port: 80 }] });
    await Promise.all(Array.from({ length: 230 }, (_, i) => createPod(ns, { name: `p${i}`, ip: `10.42.${Math.floor(i / 200)}.${(i % 200) + 1}` })));
    let slices = await eventually(() => slicesOf(ns), (s) => endpointCount(s) === 230, '230 endpoints', 8000);
    assert.equal(slices.length, 3);
    assert.ok(slices.every((s) => s.endpoints.length <= 100));
    const seen = new Set(slices.flatMap((s) => s.endpoints.map((e: any) => e.addresses[0])));
    assert.equal(seen.size, 230);

    await server.client.resource(podsRef).deleteCollection(ns, {}, { gracePeriodSeconds: 0 });
    slices = await eventually(() => slicesOf(ns), (s) => s.length === 1 && endpointCount(s) === 0, 'placeholder', 8000);
    assert.deepEqual(slices[0]!.ports ?? [], []);
  });

  test('changes follow the pods: readiness flips, label removal, service deletion', async () => {
    const ns = await namespace();
    const pod = await createPod(ns, { name: 'p', ip: '10.42.3.3', ready: false });
    await createService(ns, { ports: [{ port: 80 }] });
    await eventually(() => slicesOf(ns), (s) => s[0]?.endpoints?.[0]?.conditions?.ready === false, 'not ready');
    const pods = server.client.resource(podsRef);
    const current = await pods.get(ns, 'p');
    await pods.updateStatus({ ...current, status: { ...current.status, conditions: [{ type: 'Ready', status: 'True' }] } });
    await eventually(() => slicesOf(ns), (s) => s[0]?.endpoints?.[0]?.conditions?.ready === true, 'ready');
    await pods.patch(ns, 'p', 'merge', { metadata: { labels: { app: 'other' } } });
    await eventually(() => slicesOf(ns), (s) => s.length === 1 && endpointCount(s) === 0, 'removed');
    await server.client.resource(servicesRef).delete(ns, 'web');
    await eventually(() => slicesOf(ns), (s) => s.length === 0, 'slices deleted');
    await eventually(() => server.client.resource(endpointsRef).list(ns), (l) => l.items.length === 0, 'endpoints deleted');
    assert.ok(pod.metadata.uid);
  });

  test('steady state writes nothing (no fight with server defaulting)', async () => {
    const ns = await namespace();
    await createPod(ns, { name: 'a', ip: '10.42.4.1', ports: [{ name: 'http', containerPort: 8080 }], hostname: 'a', subdomain: 'web' });
    await createPod(ns, { name: 'b', ip: '10.42.4.2', ready: false, ports: [{ name: 'http', containerPort: 8080 }] });
    await createService(ns, { ports: [{ name: 'http', port: 80, targetPort: 'http', appProtocol: 'http' }, { name: 'udp', port: 53, protocol: 'UDP' }] });
    const first = await eventually(() => slicesOf(ns), (s) => endpointCount(s) === 2, 'slices');
    const ep = await eventually(() => server.client.resource(endpointsRef).get(ns, 'web').catch(() => undefined), (e) => !!e?.subsets?.length, 'endpoints');
    await new Promise((r) => setTimeout(r, 300));
    const later = await slicesOf(ns);
    assert.deepEqual(later.map((s) => s.metadata.resourceVersion), first.map((s) => s.metadata.resourceVersion));
    assert.equal((await server.client.resource(endpointsRef).get(ns, 'web')).metadata.resourceVersion, ep!.metadata.resourceVersion);
  });

  test('services without a selector are left alone', async () => {
    const ns = await namespace();
    await server.client.resource(servicesRef).create(ns, { metadata: { name: 'manual' }, spec: { ports: [{ port: 80 }] } });
    await server.client.resource(endpointsRef).create(ns, { metadata: { name: 'manual' }, subsets: [{ addresses: [{ ip: '192.0.2.1' }], ports: [{ port: 80 }] }] });
    await createService(ns, { ports: [{ port: 80 }] }); // a selector service in the same namespace, as a marker
    await eventually(() => slicesOf(ns), (s) => s.length === 1, 'marker');
    assert.equal((await slicesOf(ns, 'manual')).length, 0);
    assert.equal((await server.client.resource(endpointsRef).get(ns, 'manual')).subsets[0].addresses[0].ip, '192.0.2.1');
  });
});

describe('kubernetes Service', () => {
  test('creates the Service, Endpoints and EndpointSlice pointing at the API server, and repairs them', async () => {
    const s = new AbortController();
    void createKubernetesServiceController({ client: server.client, addresses: ['192.0.2.10'], port: 6443, intervalMs: 200, logger: quiet }).start(s.signal);
    try {
      const svc = await eventually(() => server.client.resource(servicesRef).get('default', 'kubernetes').catch(() => undefined), (v) => !!v, 'service');
      assert.equal(svc!.spec.clusterIP, '10.43.0.1');
      assert.deepEqual(svc!.spec.ports.map((p: any) => [p.name, p.port, p.targetPort]), [['https', 443, 6443]]);
      const ep = await eventually(() => server.client.resource(endpointsRef).get('default', 'kubernetes').catch(() => undefined), (v) => !!v, 'endpoints');
      assert.deepEqual(ep!.subsets, [{ addresses: [{ ip: '192.0.2.10' }], ports: [{ name: 'https', port: 6443, protocol: 'TCP' }] }]);
      const slice = await eventually(() => server.client.resource(endpointSlicesRef).get('default', 'kubernetes').catch(() => undefined), (v) => !!v, 'slice');
      assert.deepEqual(slice!.endpoints.map((e: any) => e.addresses[0]), ['192.0.2.10']);
      assert.equal(slice!.metadata.labels![serviceNameLabel], 'kubernetes');
      // Someone breaks the endpoints: the controller puts them back.
      await server.client.resource(endpointsRef).update({ ...ep!, subsets: [{ addresses: [{ ip: '192.0.2.99' }], ports: [{ name: 'https', port: 1, protocol: 'TCP' }] }] });
      await eventually(() => server.client.resource(endpointsRef).get('default', 'kubernetes'), (e) => e.subsets[0].addresses[0].ip === '192.0.2.10', 'repaired');
    } finally {
      s.abort();
    }
  });
});

