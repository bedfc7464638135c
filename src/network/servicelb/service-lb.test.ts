import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApiServer } from '../../apiserver/testing.js';
import type { ResourceRef } from '../../client/client.js';
import { createServiceLoadBalancer, loadBalancerAddresses } from './service-lb.js';

const services: ResourceRef = { group: '', version: 'v1', resource: 'services', namespaced: true, kind: 'Service' };
const nodes: ResourceRef = { group: '', version: 'v1', resource: 'nodes', namespaced: false, kind: 'Node' };
const events: ResourceRef = { group: '', version: 'v1', resource: 'events', namespaced: true, kind: 'Event' };
const quiet = () => {};

function node(name: string, ip: string, ready: boolean): any {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name },
    status: { addresses: [{ type: 'InternalIP', address: ip }, { type: 'Hostname', address: name }], conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  };
}

async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('addresses: Ready nodes only, sorted numerically, fallback when none', () => {
  assert.deepEqual(loadBalancerAddresses([node('b', '10.0.0.10', true), node('a', '10.0.0.9', true), node('c', '10.0.0.11', false)], ['192.0.2.1']), ['10.0.0.9', '10.0.0.10']);
  assert.deepEqual(loadBalancerAddresses([node('c', '10.0.0.11', false)], ['192.0.2.1']), ['192.0.2.1']);
});

test('LoadBalancer Services get node addresses at once, follow node changes, and lose them when no longer LoadBalancer', async () => {
  const server = await startTestApiServer();
  const stop = new AbortController();
  try {
    const svc = server.client.resource<any>(services);
    const nodeClient = server.client.resource<any>(nodes);
    await nodeClient.create(undefined, node('n1', '10.0.0.1', true));
    const lb = createServiceLoadBalancer({ transport: server.transport({ username: 'system:navarch:service-lb', groups: ['system:authenticated'] }), fallbackAddresses: ['192.0.2.1'], logger: quiet });
    const running = lb.start(stop.signal);

    await svc.create('default', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { type: 'LoadBalancer', selector: { app: 'web' }, ports: [{ port: 8080, targetPort: 80 }] } });
    await svc.create('default', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'plain' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } });
    await svc.create('default', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'other-class' }, spec: { type: 'LoadBalancer', loadBalancerClass: 'example.com/lb', selector: { app: 'web' }, ports: [{ port: 81 }] } });

    const web = await eventually(() => svc.get('default', 'web'), (s) => !!s.status?.loadBalancer?.ingress, 'web ingress');
    assert.deepEqual(web.status.loadBalancer.ingress, [{ ip: '10.0.0.1', ipMode: 'VIP' }]);

    await nodeClient.create(undefined, node('n2', '10.0.0.2', true));
    await eventually(() => svc.get('default', 'web'), (s) => s.status?.loadBalancer?.ingress?.length === 2, 'second node address');

    const ev = await eventually(() => server.client.resource<any>(events).list('default'), (l) => l.items.some((e: any) => e.reason === 'EnsuredLoadBalancer'), 'events');
    assert.ok(ev.items.some((e: any) => e.reason === 'EnsuringLoadBalancer' && e.involvedObject.name === 'web'));

    assert.equal((await svc.get('default', 'plain')).status?.loadBalancer?.ingress, undefined);
    assert.equal((await svc.get('default', 'other-class')).status?.loadBalancer?.ingress, undefined);

    const current = await svc.get('default', 'web');
    await svc.update({ ...current, spec: { ...current.spec, type: 'ClusterIP', ports: [{ port: 8080, targetPort: 80 }] } });
    await eventually(() => svc.get('default', 'web'), (s) => !s.status?.loadBalancer?.ingress?.length, 'ingress removed');
    stop.abort();
    await running;
  } finally {
    stop.abort();
    await server.close();
  }
});
