import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveBackend, type EndpointSource } from './backends.js';
import type { EndpointSlice, Service } from '../types.js';

const services: Service[] = [
  { metadata: { namespace: 'ns', name: 'multi' }, spec: { ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { name: 'admin', port: 9000, protocol: 'TCP' }, { name: 'dns', port: 53, protocol: 'UDP' }] } },
  { metadata: { namespace: 'ns', name: 'single' }, spec: { ports: [{ port: 8080 }] } },
];
const slices: EndpointSlice[] = [
  {
    metadata: { namespace: 'ns', name: 'multi-a', labels: { 'kubernetes.io/service-name': 'multi' } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080 }, { name: 'admin', port: 9090 }],
    endpoints: [{ addresses: ['10.0.0.2'], conditions: { ready: true } }, { addresses: ['10.0.0.1'] }, { addresses: ['10.0.0.3'], conditions: { ready: false, serving: true, terminating: true } }],
  },
  { metadata: { namespace: 'ns', name: 'multi-b', labels: { 'kubernetes.io/service-name': 'multi' } }, addressType: 'IPv4', ports: [{ name: 'http', port: 8080 }], endpoints: [{ addresses: ['10.0.0.1'] }, { addresses: ['10.0.0.4'] }] },
  { metadata: { namespace: 'ns', name: 'multi-fqdn', labels: { 'kubernetes.io/service-name': 'multi' } }, addressType: 'FQDN', ports: [{ name: 'http', port: 8080 }], endpoints: [{ addresses: ['example.com'] }] },
  { metadata: { namespace: 'ns', name: 'single-a', labels: { 'kubernetes.io/service-name': 'single' } }, addressType: 'IPv4', ports: [{ name: '', port: 80 }], endpoints: [{ addresses: ['10.0.1.1'] }] },
];
const source: EndpointSource = {
  service: (namespace, name) => services.find((s) => s.metadata.namespace === namespace && s.metadata.name === name),
  slices: (namespace, name) => slices.filter((s) => s.metadata.namespace === namespace && s.metadata.labels?.['kubernetes.io/service-name'] === name),
};

const cases: [string, { name: string; port?: { number?: number; name?: string } }, string[] | RegExp][] = [
  ['port by number → the slice port of the same name; ready or unset-ready endpoints, deduplicated, FQDN ignored', { name: 'multi', port: { number: 80 } }, ['10.0.0.1:8080', '10.0.0.2:8080', '10.0.0.4:8080']],
  ['port by name', { name: 'multi', port: { name: 'admin' } }, ['10.0.0.1:9090', '10.0.0.2:9090']],
  ['unnamed single port', { name: 'single', port: { number: 8080 } }, ['10.0.1.1:80']],
  ['unknown port', { name: 'multi', port: { number: 81 } }, /has no port 81/],
  ['UDP port', { name: 'multi', port: { name: 'dns' } }, /is not TCP/],
  ['unknown service', { name: 'nope', port: { number: 80 } }, /service ns\/nope not found/],
];
for (const [name, service, want] of cases) {
  test(name, () => {
    const r = resolveBackend(source, 'ns', { service });
    if (want instanceof RegExp) {
      assert.ok('error' in r);
      assert.match(r.error, want);
    } else {
      assert.ok(!('error' in r), JSON.stringify(r));
      assert.deepEqual(r.addresses.map((a) => `${a.ip}:${a.port}`), want);
    }
  });
}

test('resource backends are refused with a reason', () => {
  const r = resolveBackend(source, 'ns', { resource: { kind: 'StorageBucket', name: 'b' } });
  assert.ok('error' in r && /not supported/.test(r.error));
});
