// ServiceDNSRecord → status.dns → DNSEndpoint, against in-memory host and member API servers,
// including DNS failover when a member turns not ready.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient } from '../../client/client.js';
import { systemClock } from '../../client/clock.js';
import { FakeApiServer } from '../../client/testing/fake-apiserver.js';
import { federationSystemNamespace, type DNSEndpoint, type ServiceDNSRecord } from '../api.js';
import { eventually, silentLogger, TestMemberClusters } from '../scheduling/testing.js';
import { createDnsEndpointController, createServiceDnsRecordController, dnsEndpointsRef, domainsRef, serviceDnsRecordsRef } from './controller.js';

const servicesRef = { group: '', version: 'v1', resource: 'services', kind: 'Service', namespaced: true };
const slicesRef = { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', kind: 'EndpointSlice', namespaced: true };

function member(ip: string, withEndpoints: boolean) {
  const server = new FakeApiServer([servicesRef, slicesRef]);
  server.put(servicesRef, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' }, spec: { type: 'LoadBalancer', ports: [{ port: 80 }] }, status: { loadBalancer: { ingress: [{ ip }] } } });
  if (withEndpoints) {
    server.put(slicesRef, {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'web-1', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['10.244.0.5'], conditions: { ready: true } }],
    });
  }
  return createClient(server.transport());
}

describe('multi-cluster DNS controllers', () => {
  test('publish ready members under global, region and zone names; a member going not ready leaves DNS', async () => {
    const host = new FakeApiServer([
      { ...serviceDnsRecordsRef, kind: 'ServiceDNSRecord' },
      { ...dnsEndpointsRef, kind: 'DNSEndpoint' },
      { ...domainsRef, kind: 'Domain' },
    ]);
    const client = createClient(host.transport());
    const members = new TestMemberClusters()
      .add('a', member('192.0.2.1', true), { zones: ['eu-1a'], region: 'eu' })
      .add('b', member('192.0.2.2', true), { zones: ['eu-1b'], region: 'eu' })
      .add('c', member('192.0.2.3', false), { zones: ['us-1a'], region: 'us' });
    await client.resource(domainsRef).create(federationSystemNamespace, { apiVersion: 'multiclusterdns.kubefed.io/v1alpha1', kind: 'Domain', metadata: { name: 'galactic', namespace: federationSystemNamespace }, domain: 'example.com' });
    const record = await client.resource<ServiceDNSRecord>(serviceDnsRecordsRef).create('shop', {
      apiVersion: 'multiclusterdns.kubefed.io/v1alpha1',
      kind: 'ServiceDNSRecord',
      metadata: { name: 'web', namespace: 'shop' },
      spec: { domainRef: 'galactic', recordTTL: 60 },
    });
    const abort = new AbortController();
    const deps = { host: client, members, clock: systemClock(), logger: silentLogger, signal: abort.signal };
    const controllers = [createServiceDnsRecordController(deps), createDnsEndpointController(deps)];
    const records = async () => {
      const ep = await client.resource<DNSEndpoint>(dnsEndpointsRef).get('shop', 'service-web');
      return (ep.spec.endpoints ?? []).map((e) => `${e.dnsName.replace('web.shop.galactic.svc.', '')} ${e.recordType} ${e.targets.join(' ').replaceAll('web.shop.galactic.svc.', '')}`);
    };
    const waitRecords = async (want: string[]) =>
      eventually(async () => JSON.stringify(await records()) === JSON.stringify(want), 'DNSEndpoint').catch(async (e) => assert.fail(`${e.message}; have ${JSON.stringify(await records().catch(String))}`));
    try {
      const status = await eventually(async () => {
        const r = await client.resource<ServiceDNSRecord>(serviceDnsRecordsRef).get('shop', 'web');
        return r.status?.dns?.length === 3 && r.status;
      }, 'status.dns');
      assert.equal(status.domain, 'example.com');
      assert.deepEqual(status.dns, [
        { cluster: 'a', loadBalancer: { ingress: [{ ip: '192.0.2.1' }] }, zones: ['eu-1a'], region: 'eu' },
        { cluster: 'b', loadBalancer: { ingress: [{ ip: '192.0.2.2' }] }, zones: ['eu-1b'], region: 'eu' },
        // No ready endpoints behind the load balancer: not published.
        { cluster: 'c', loadBalancer: {}, zones: ['us-1a'], region: 'us' },
      ]);

      await waitRecords([
        'eu-1a.eu.example.com A 192.0.2.1',
        'eu-1b.eu.example.com A 192.0.2.2',
        'eu.example.com A 192.0.2.1 192.0.2.2',
        'example.com A 192.0.2.1 192.0.2.2',
        'us-1a.us.example.com CNAME us.example.com',
        'us.example.com CNAME example.com',
      ]);
      const ep = await client.resource<DNSEndpoint>(dnsEndpointsRef).get('shop', 'service-web');
      assert.deepEqual(ep.metadata.ownerReferences?.map((o) => [o.kind, o.name, o.uid, o.controller]), [['ServiceDNSRecord', 'web', record.metadata.uid, true]]);
      assert.ok(ep.spec.endpoints!.every((e) => e.recordTTL === 60));

      members.setReady('a', false);
      await waitRecords(['eu-1b.eu.example.com A 192.0.2.2', 'eu.example.com A 192.0.2.2', 'example.com A 192.0.2.2', 'us-1a.us.example.com CNAME us.example.com', 'us.example.com CNAME example.com']);

      // Someone edits the DNSEndpoint: it is put back.
      await client.resource(dnsEndpointsRef).patch('shop', 'service-web', 'merge', { spec: { endpoints: [] } });
      await waitRecords(['eu-1b.eu.example.com A 192.0.2.2', 'eu.example.com A 192.0.2.2', 'example.com A 192.0.2.2', 'us-1a.us.example.com CNAME us.example.com', 'us.example.com CNAME example.com']);

      // allowServiceWithoutEndpoints publishes c's load balancer too.
      await client.resource(serviceDnsRecordsRef).patch('shop', 'web', 'merge', { spec: { allowServiceWithoutEndpoints: true } });
      await waitRecords(['eu-1b.eu.example.com A 192.0.2.2', 'eu.example.com A 192.0.2.2', 'example.com A 192.0.2.2 192.0.2.3', 'us-1a.us.example.com A 192.0.2.3', 'us.example.com A 192.0.2.3']);
    } finally {
      for (const c of controllers) c.stop();
      abort.abort();
    }
  });
});
