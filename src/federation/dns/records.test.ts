// KubeFed's DNS names and the zone → region → global CNAME fallback, table-driven.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServiceDNSRecord } from '../api.js';
import { dnsEndpointName, serviceDnsEndpoints } from './records.js';

type Dns = NonNullable<NonNullable<ServiceDNSRecord['status']>['dns']>;
const record = (dns: Dns, spec: Partial<ServiceDNSRecord['spec']> = {}): ServiceDNSRecord => ({
  metadata: { name: 'web', namespace: 'shop' },
  spec: { domainRef: 'galactic', recordTTL: 60, ...spec },
  status: { domain: 'example.com', dns },
});
const lb = (...ips: string[]) => ({ ingress: ips.map((ip) => ({ ip })) });
const show = (r: ServiceDNSRecord) => serviceDnsEndpoints(r).map((e) => `${e.dnsName} ${e.recordType} ${e.targets.join(' ')} ${e.recordTTL}`);
const p = 'web.shop.galactic.svc';

describe('serviceDnsEndpoints', () => {
  test('every level healthy: A records at zone, region and global', () => {
    assert.deepEqual(
      show(
        record([
          { cluster: 'a', loadBalancer: lb('192.0.2.1'), zones: ['eu-1a'], region: 'eu' },
          { cluster: 'b', loadBalancer: lb('192.0.2.2'), zones: ['us-1a'], region: 'us' },
        ]),
      ),
      [
        `${p}.eu-1a.eu.example.com A 192.0.2.1 60`,
        `${p}.eu.example.com A 192.0.2.1 60`,
        `${p}.example.com A 192.0.2.1 192.0.2.2 60`,
        `${p}.us-1a.us.example.com A 192.0.2.2 60`,
        `${p}.us.example.com A 192.0.2.2 60`,
      ],
    );
  });

  test('a zone without endpoints CNAMEs to its region, a region without any to the global name', () => {
    assert.deepEqual(
      show(
        record([
          { cluster: 'a', loadBalancer: lb('192.0.2.1'), zones: ['eu-1a'], region: 'eu' },
          { cluster: 'b', loadBalancer: lb(), zones: ['eu-1b'], region: 'eu' },
          { cluster: 'c', zones: ['us-1a'], region: 'us' },
        ]),
      ),
      [
        `${p}.eu-1a.eu.example.com A 192.0.2.1 60`,
        `${p}.eu-1b.eu.example.com CNAME ${p}.eu.example.com 60`,
        `${p}.eu.example.com A 192.0.2.1 60`,
        `${p}.example.com A 192.0.2.1 60`,
        `${p}.us-1a.us.example.com CNAME ${p}.us.example.com 60`,
        `${p}.us.example.com CNAME ${p}.example.com 60`,
      ],
    );
  });

  test('no domain yet, no records; no healthy cluster, no global A', () => {
    assert.deepEqual(serviceDnsEndpoints({ ...record([]), status: {} }), []);
    assert.deepEqual(show(record([{ cluster: 'a', zones: ['z'], region: 'r' }])), [`${p}.r.example.com CNAME ${p}.example.com 60`, `${p}.z.r.example.com CNAME ${p}.r.example.com 60`]);
  });

  test('default TTL 300, dnsPrefix alias, externalName replaces the service name, hostnames skipped', () => {
    const r = record([{ cluster: 'a', loadBalancer: { ingress: [{ hostname: 'lb.cloud.test' }, { ip: '192.0.2.9' }] } }], { recordTTL: undefined, dnsPrefix: 'www', externalName: 'shop-front' });
    assert.deepEqual(show(r), ['shop-front.shop.galactic.svc.example.com A 192.0.2.9 300', 'www.example.com CNAME shop-front.shop.galactic.svc.example.com 300']);
    assert.equal(dnsEndpointName('web'), 'service-web');
  });
});
