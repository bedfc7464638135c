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

type RecordType = 'A' | 'AAAA' | 'SRV' | 'CNAME' | 'PTR';
interface StoredRecord {
  type: RecordType;
  data: unknown;
}

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
  private readonly records = new Map<string, StoredRecord[]>();
  /** Every name that exists (owns records or has a descendant that does): NODATA, not NXDOMAIN. */
  private readonly existing = new Set<string>();

  constructor(snapshot: DnsSnapshot, options: DnsRecordOptions = {}) {
    this.clusterDomain = (options.clusterDomain ?? 'cluster.local').toLowerCase().replace(/\.$/, '');
    this.ttl = options.ttl ?? 5;
    this.build(snapshot);
  }

  /** The zone a name belongs to, if it is ours. */
  zoneOf(name: string): string | undefined {
    const n = name.toLowerCase().replace(/\.$/, '');
    if (n === this.clusterDomain || n.endsWith(`.${this.clusterDomain}`)) return this.clusterDomain;
    return undefined;
  }

  lookup(rawName: string, type: string): LookupResult {
    const name = rawName.toLowerCase().replace(/\.$/, '');
    const inZone = this.zoneOf(name) !== undefined;
    const stored = this.records.get(name);
    if (!inZone) {
      // Reverse lookups we know are answered; the rest of in-addr.arpa belongs upstream.
      if (stored && (type === 'PTR' || type === 'ANY')) return this.answer(name, stored.filter((r) => r.type === 'PTR'));
      return { kind: 'outside' };
    }
    if (!stored && !this.existing.has(name)) return { kind: 'nxdomain' };
    const list = stored ?? [];
    const cname = list.find((r) => r.type === 'CNAME');
    if (cname && type !== 'CNAME') return this.answer(name, [cname]);
    const matches = type === 'ANY' ? list : list.filter((r) => r.type === type);
    if (matches.length === 0) return { kind: 'nodata' };
    return this.answer(name, matches);
  }

  soa(): Answer {
    return {
      name: this.clusterDomain,
      type: 'SOA',
      ttl: this.ttl,
      data: { mname: `ns.dns.${this.clusterDomain}`, rname: `hostmaster.${this.clusterDomain}`, serial: 1, refresh: 7200, retry: 1800, expire: 86400, minimum: this.ttl },
    };
  }

  private answer(name: string, list: StoredRecord[]): LookupResult {
    const answers: Answer[] = list.map((r) => ({ name, type: r.type, ttl: this.ttl, class: 'IN', data: r.data }));
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

  private add(name: string, type: RecordType, data: unknown): void {
    const n = name.toLowerCase();
    let list = this.records.get(n);
    if (!list) this.records.set(n, (list = []));
    if (list.some((r) => r.type === type && JSON.stringify(r.data) === JSON.stringify(data))) return;
    list.push({ type, data });
    // Mark every ancestor inside the zone as existing (empty non-terminals answer NODATA).
    if (this.zoneOf(n)) {
      let p = n;
      while (p !== this.clusterDomain && p.includes('.')) {
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
  }
}
