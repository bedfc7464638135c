// KubeFed's multi-cluster DNS naming, pure: from a ServiceDNSRecord's status (per-cluster
// load-balancer addresses, zones and region) to the DNS endpoints a provider publishes.
//
//   global: <service>.<namespace>.<federation>.svc.<domain>
//   region: <service>.<namespace>.<federation>.svc.<region>.<domain>
//   zone:   <service>.<namespace>.<federation>.svc.<zone>.<region>.<domain>
//
// <federation> is the Domain object's name (the record's domainRef), <domain> its `domain`.
// A name with healthy addresses is an A record of them; a zone without any is a CNAME to its
// region name, a region without any a CNAME to the global name — so clients fall back to the
// nearest healthy level. The global name exists only while some cluster has an address.
import type { DNSEndpoint, ServiceDNSRecord } from '../api.js';

export type DnsEndpointRecord = NonNullable<DNSEndpoint['spec']['endpoints']>[number];

/** KubeFed's default when a ServiceDNSRecord sets no recordTTL. */
export const defaultRecordTtl = 300;

const isIPv4 = (s: string) => /^\d{1,3}(\.\d{1,3}){3}$/.test(s);

/** The DNSEndpoint a ServiceDNSRecord produces is named after it with KubeFed's "service-" prefix. */
export function dnsEndpointName(recordName: string): string {
  return `service-${recordName}`;
}

export function serviceDnsEndpoints(record: ServiceDNSRecord): DnsEndpointRecord[] {
  const domain = record.status?.domain?.replace(/\.$/, '');
  if (!domain) return [];
  const ttl = record.spec?.recordTTL ?? defaultRecordTtl;
  const service = record.spec?.externalName || record.metadata.name!;
  const prefix = `${service}.${record.metadata.namespace}.${record.spec.domainRef}.svc`.toLowerCase();
  const global = `${prefix}.${domain}`;
  const regionName = (region: string) => `${prefix}.${region}.${domain}`;
  const zoneName = (zone: string, region: string) => `${prefix}.${zone}.${region}.${domain}`;

  const all = new Set<string>();
  const byRegion = new Map<string, Set<string>>();
  const byZone = new Map<string, { zone: string; region: string; targets: Set<string> }>();
  for (const cluster of record.status?.dns ?? []) {
    // Hostname ingresses (cloud load balancers with DNS names) would need resolving; only
    // addresses are published, as A records.
    const ips = (cluster.loadBalancer?.ingress ?? []).map((i) => i.ip).filter((ip): ip is string => !!ip && isIPv4(ip));
    for (const ip of ips) all.add(ip);
    if (!cluster.region) continue;
    let regionTargets = byRegion.get(cluster.region);
    if (!regionTargets) byRegion.set(cluster.region, (regionTargets = new Set()));
    for (const ip of ips) regionTargets.add(ip);
    for (const zone of cluster.zones ?? []) {
      const key = `${zone}\u0000${cluster.region}`;
      let entry = byZone.get(key);
      if (!entry) byZone.set(key, (entry = { zone, region: cluster.region, targets: new Set() }));
      for (const ip of ips) entry.targets.add(ip);
    }
  }

  const endpoints: DnsEndpointRecord[] = [];
  const a = (dnsName: string, targets: Set<string>) => endpoints.push({ dnsName, recordTTL: ttl, recordType: 'A', targets: [...targets].sort(compareIPs) });
  const cname = (dnsName: string, target: string) => endpoints.push({ dnsName, recordTTL: ttl, recordType: 'CNAME', targets: [target] });
  if (all.size > 0) a(global, all);
  for (const [region, targets] of byRegion) {
    if (targets.size > 0) a(regionName(region), targets);
    else cname(regionName(region), global);
  }
  for (const { zone, region, targets } of byZone.values()) {
    if (targets.size > 0) a(zoneName(zone, region), targets);
    else cname(zoneName(zone, region), regionName(region));
  }
  // A short alias under the domain itself, e.g. "www.example.com" → the global name.
  if (record.spec?.dnsPrefix) cname(`${record.spec.dnsPrefix}.${domain}`.toLowerCase(), global);
  return endpoints.sort((x, y) => (x.dnsName < y.dnsName ? -1 : x.dnsName > y.dnsName ? 1 : x.recordType.localeCompare(y.recordType)));
}

function compareIPs(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 4; i++) if (pa[i] !== pb[i]) return pa[i]! - pb[i]!;
  return 0;
}
