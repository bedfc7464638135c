// Cluster DNS records, following the Kubernetes DNS specification for Services and Pods
// (github.com/kubernetes/dns/blob/master/docs/specification.md): built once per sync from the
// objects, then answered from memory.
import type { Answer } from 'dns-packet';
import type { EndpointSlice, Pod, Service } from '../types.js';
import { indexSlicesByService } from '../proxy/endpoints.js';

export interface DnsSnapshot {
  services: Service[];
  endpointSlices: EndpointSlice[];
  pods: Pod[];
  /**
   * Federation (KubeFed multicluster DNS): the zones of the Domain objects, answered
   * authoritatively (NXDOMAIN for unknown names, their own SOA), and the DNSEndpoint objects
   * whose endpoints are served in them — this cluster acting as the DNS provider, as CoreDNS
   * with external-dns does for KubeFed.
   */
  federationZones?: string[];
  dnsEndpoints?: DnsEndpointObject[];
}

/** The part of a DNSEndpoint (external-dns' shape) the server reads. */
export interface DnsEndpointObject {
  metadata: { name?: string; namespace?: string };
  spec?: { endpoints?: { dnsName: string; recordType: string; targets?: string[]; recordTTL?: number }[] };
}

export interface DnsRecordOptions {
  clusterDomain?: string;
  ttl?: number;
}

export type LookupResult =
  | { kind: 'answer'; answers: Answer[]; additionals: Answer[] }
  /** The name exists, but not with this type. */
  | { kind: 'nodata' }
  | { kind: 'nxdomain' }
  /** Not our zone: forward it. */
  | { kind: 'outside' };

type RecordType = 'A' | 'AAAA' | 'SRV' | 'CNAME' | 'PTR' | 'TXT';
interface StoredRecord {
  type: RecordType;
  data: unknown;
  /** Records from DNSEndpoints carry their own TTL (recordTTL); cluster records use the source's. */
  ttl?: number;
}

/** Longest chain of CNAMEs inside our zones followed in one answer (loops end here too). */
const maxCnameChain = 8;
const normalize = (name: string) => name.toLowerCase().replace(/\.$/, '');

const isIPv4 = (ip: string) => /^\d+\.\d+\.\d+\.\d+$/.test(ip);
const dashed = (ip: string) => (isIPv4(ip) ? ip.replace(/\./g, '-') : expandIPv6(ip).replace(/:/g, '-'));

function expandIPv6(ip: string): string {
  const [head, tail] = ip.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const missing = tail === undefined ? 0 : 8 - h.length - t.length;
  return [...h, ...Array(missing).fill('0'), ...t].map((g) => g.padStart(4, '0')).join(':');
}

export function reverseName(ip: string): string {
  if (isIPv4(ip)) return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
  return `${expandIPv6(ip).replace(/:/g, '').split('').reverse().join('.')}.ip6.arpa`;
}

export class DnsRecordSource {
  readonly clusterDomain: string;
  readonly ttl: number;
  /** Federation zones, longest first so a name finds its closest zone. */
  private readonly federationZones: string[];
  private readonly records = new Map<string, StoredRecord[]>();
  /** Every name that exists (owns records or has a descendant that does): NODATA, not NXDOMAIN. */
  private readonly existing = new Set<string>();

  constructor(snapshot: DnsSnapshot, options: DnsRecordOptions = {}) {
    this.clusterDomain = (options.clusterDomain ?? 'cluster.local').toLowerCase().replace(/\.$/, '');
    this.ttl = options.ttl ?? 5;
    this.federationZones = [...new Set((snapshot.federationZones ?? []).map(normalize).filter((z) => z && z !== this.clusterDomain))].sort((a, b) => b.length - a.length);
    // A zone's apex always exists: it owns the SOA even before any record does.
    for (const zone of [this.clusterDomain, ...this.federationZones]) this.existing.add(zone);
    this.build(snapshot);
  }

  /** The zone a name belongs to, if it is ours. */
  zoneOf(name: string): string | undefined {
    const n = normalize(name);
    if (n === this.clusterDomain || n.endsWith(`.${this.clusterDomain}`)) return this.clusterDomain;
    return this.federationZones.find((z) => n === z || n.endsWith(`.${z}`));
  }

  lookup(rawName: string, type: string): LookupResult {
    const name = normalize(rawName);
    const inZone = this.zoneOf(name) !== undefined;
    const stored = this.records.get(name);
    if (!inZone) {
      // Reverse lookups we know are answered; the rest of in-addr.arpa belongs upstream.
      if (stored && (type === 'PTR' || type === 'ANY')) return this.answer(name, stored.filter((r) => r.type === 'PTR'));
      return { kind: 'outside' };
    }
    if (type === 'SOA' && this.zoneOf(name) === name) return { kind: 'answer', answers: [this.soa(name)], additionals: [] };
    if (!stored && !this.existing.has(name)) return { kind: 'nxdomain' };
    const list = stored ?? [];
    const cname = list.find((r) => r.type === 'CNAME');
    if (cname && type !== 'CNAME') return this.followCname(name, cname, type);
    const matches = type === 'ANY' ? list : list.filter((r) => r.type === type);
    if (matches.length === 0) return { kind: 'nodata' };
    return this.answer(name, matches);
  }

  /** The SOA of the zone `name` is in (the cluster domain's when there is no name or it is not ours). */
  soa(name?: string): Answer {
    const zone = (name && this.zoneOf(name)) || this.clusterDomain;
    return {
      name: zone,
      type: 'SOA',
      ttl: this.ttl,
      data: { mname: `ns.dns.${zone}`, rname: `hostmaster.${zone}`, serial: 1, refresh: 7200, retry: 1800, expire: 86400, minimum: this.ttl },
    };
  }

  /**
   * A CNAME, followed while its target is inside our zones (as an authoritative server does:
   * a federation zone name falling back to its region, then to the global name). A target
   * outside is left for the server to chase upstream.
   */
  private followCname(name: string, first: StoredRecord, type: string): LookupResult {
    const answers: Answer[] = [this.toAnswer(name, first)];
    let target = normalize(String(first.data));
    for (let hop = 0; hop < maxCnameChain && this.zoneOf(target); hop++) {
      const list = this.records.get(target) ?? [];
      const next = list.find((r) => r.type === 'CNAME');
      if (next) {
        answers.push(this.toAnswer(target, next));
        target = normalize(String(next.data));
        continue;
      }
      for (const r of list) if (type === 'ANY' || r.type === type) answers.push(this.toAnswer(target, r));
      break;
    }
    return { kind: 'answer', answers, additionals: [] };
  }

  private toAnswer(name: string, r: StoredRecord): Answer {
    return { name, type: r.type, ttl: r.ttl ?? this.ttl, class: 'IN', data: r.data };
  }

  private answer(name: string, list: StoredRecord[]): LookupResult {
    const answers: Answer[] = list.map((r) => this.toAnswer(name, r));
    const additionals: Answer[] = [];
    for (const r of list) {
      if (r.type !== 'SRV') continue;
      const target = (r.data as { target: string }).target;
      for (const t of this.records.get(target) ?? []) {
        if (t.type === 'A' || t.type === 'AAAA') additionals.push({ name: target, type: t.type, ttl: this.ttl, class: 'IN', data: t.data });
      }
    }
    return { kind: 'answer', answers, additionals };
  }

  private add(name: string, type: RecordType, data: unknown, ttl?: number): void {
    const n = name.toLowerCase();
    let list = this.records.get(n);
    if (!list) this.records.set(n, (list = []));
    if (list.some((r) => r.type === type && JSON.stringify(r.data) === JSON.stringify(data))) return;
    list.push(ttl === undefined ? { type, data } : { type, data, ttl });
    // Mark every ancestor inside the zone as existing (empty non-terminals answer NODATA).
    const zone = this.zoneOf(n);
    if (zone) {
      let p = n;
      while (p !== zone && p.includes('.')) {
        p = p.slice(p.indexOf('.') + 1);
        this.existing.add(p);
      }
    }
  }

  private addAddress(name: string, ip: string): void {
    this.add(name, isIPv4(ip) ? 'A' : 'AAAA', ip);
  }

  private build(snapshot: DnsSnapshot): void {
    const d = this.clusterDomain;
    const slicesByService = indexSlicesByService(snapshot.endpointSlices);
    const ptrTaken = new Set<string>();

    for (const svc of snapshot.services) {
      const spec = svc.spec ?? {};
      const ns = svc.metadata.namespace ?? 'default';
      const base = `${svc.metadata.name}.${ns}.svc.${d}`;
      if (spec.type === 'ExternalName' && spec.externalName) {
        this.add(base, 'CNAME', spec.externalName.replace(/\.$/, ''));
        continue;
      }
      const headless = spec.clusterIP === 'None' || (!spec.clusterIP && !(spec.clusterIPs?.length));
      const slices = (slicesByService.get(`${ns}/${svc.metadata.name}`) ?? []).filter((s) => s.addressType !== 'FQDN');
      this.existing.add(base);
      let p = base;
      while (p !== d) {
        p = p.slice(p.indexOf('.') + 1);
        this.existing.add(p);
      }

      if (!headless) {
        for (const ip of spec.clusterIPs?.length ? spec.clusterIPs : [spec.clusterIP!]) {
          this.addAddress(base, ip);
          this.add(reverseName(ip), 'PTR', base);
          ptrTaken.add(ip);
        }
        for (const port of spec.ports ?? []) {
          if (!port.name) continue;
          const srv = { priority: 0, weight: 100, port: port.port, target: base };
          this.add(`_${port.name}._${(port.protocol ?? 'TCP').toLowerCase()}.${base}`, 'SRV', srv);
          this.add(base, 'SRV', srv);
        }
        continue;
      }

      // Headless: the ready endpoints themselves (or all, with publishNotReadyAddresses).
      for (const slice of slices) {
        for (const e of slice.endpoints ?? []) {
          if (e.conditions?.ready === false && !spec.publishNotReadyAddresses) continue;
          for (const ip of e.addresses) {
            const own = `${e.hostname ?? dashed(ip)}.${base}`;
            this.addAddress(base, ip);
            this.addAddress(own, ip);
            if (!ptrTaken.has(ip)) {
              this.add(reverseName(ip), 'PTR', own);
              ptrTaken.add(ip);
            }
            for (const port of slice.ports ?? []) {
              if (!port.name || port.port === undefined) continue;
              const srv = { priority: 0, weight: 100, port: port.port, target: own };
              this.add(`_${port.name}._${(port.protocol ?? 'TCP').toLowerCase()}.${base}`, 'SRV', srv);
              this.add(base, 'SRV', srv);
            }
          }
        }
      }
    }

    for (const pod of snapshot.pods) {
      if (pod.spec?.hostNetwork) continue;
      const ns = pod.metadata.namespace ?? 'default';
      const ips = pod.status?.podIPs?.map((p) => p.ip) ?? (pod.status?.podIP ? [pod.status.podIP] : []);
      for (const ip of ips) {
        const name = `${dashed(ip)}.${ns}.pod.${d}`;
        this.addAddress(name, ip);
        if (!ptrTaken.has(ip)) {
          this.add(reverseName(ip), 'PTR', name);
          ptrTaken.add(ip);
        }
      }
    }
    this.addDnsEndpoints(snapshot.dnsEndpoints ?? []);
  }

  /**
   * DNSEndpoint records inside a federation zone. Names elsewhere are skipped: answering them
   * would make us authoritative for zones we do not own (and shadow the real ones upstream).
   */
  private addDnsEndpoints(objects: DnsEndpointObject[]): void {
    for (const obj of objects) {
      for (const ep of obj.spec?.endpoints ?? []) {
        const name = normalize(ep.dnsName ?? '');
        const zone = this.zoneOf(name);
        if (!zone || zone === this.clusterDomain) continue;
        const ttl = typeof ep.recordTTL === 'number' && ep.recordTTL > 0 ? ep.recordTTL : undefined;
        const targets = ep.targets ?? [];
        switch ((ep.recordType ?? '').toUpperCase()) {
          case 'A':
            for (const t of targets) if (isIPv4(t)) this.add(name, 'A', t, ttl);
            break;
          case 'AAAA':
            for (const t of targets) if (t.includes(':')) this.add(name, 'AAAA', t, ttl);
            break;
          case 'CNAME':
            // One CNAME per name (RFC 1034); it may not sit beside other data.
            if (targets[0] && !(this.records.get(name) ?? []).length) this.add(name, 'CNAME', normalize(targets[0]), ttl);
            break;
          case 'TXT':
            for (const t of targets) this.add(name, 'TXT', [t], ttl);
            break;
        }
      }
    }
  }
}
