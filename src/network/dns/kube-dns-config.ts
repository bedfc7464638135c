// kube-dns's documented configuration, the ConfigMap kube-system/kube-dns:
//   stubDomains:         '{"acme.local": ["1.2.3.4"], "fed.example.com": ["10.0.0.53:5353"]}'
//   upstreamNameservers: '["8.8.8.8", "8.8.4.4"]'
// A stub domain's names go to its nameservers instead of the upstreams; upstreamNameservers
// replace those from resolv.conf (at most three, as kube-dns allows). Member clusters of a
// federation use a stub domain to send the federation zone to the host cluster's DNS.
import { isIP } from 'node:net';
import type { Upstream } from './server.js';

export const kubeDnsConfigMapNamespace = 'kube-system';
export const kubeDnsConfigMapName = 'kube-dns';
export const maxUpstreamNameservers = 3;

export interface StubDomain {
  domain: string;
  nameservers: Upstream[];
}

export interface KubeDnsForwarding {
  stubDomains: StubDomain[];
  /** Undefined: keep the resolv.conf upstreams. */
  upstreamNameservers?: Upstream[];
}

/** "1.2.3.4", "1.2.3.4:5353", "2001:db8::1", "[2001:db8::1]:5353"; undefined when not an address. */
export function parseNameserver(text: string): Upstream | undefined {
  const s = text.trim();
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (bracketed) return isIP(bracketed[1]!) === 6 ? withPort(bracketed[1]!, bracketed[2]) : undefined;
  if (isIP(s)) return { host: s, port: 53 };
  const hostPort = /^([^:]+):(\d+)$/.exec(s);
  if (hostPort && isIP(hostPort[1]!) === 4) return withPort(hostPort[1]!, hostPort[2]);
  return undefined;
}

function withPort(host: string, port: string | undefined): Upstream | undefined {
  const p = port === undefined ? 53 : Number(port);
  return Number.isInteger(p) && p > 0 && p < 65536 ? { host, port: p } : undefined;
}

const domainPattern = /^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/;

/**
 * The forwarding the ConfigMap's data asks for. Invalid entries are reported and skipped, the
 * rest still applies (kube-dns refuses the whole key; serving the valid part keeps DNS useful
 * while the ConfigMap is fixed).
 */
export function parseKubeDnsConfig(data: Record<string, string> | undefined): { forwarding: KubeDnsForwarding; errors: string[] } {
  const errors: string[] = [];
  const forwarding: KubeDnsForwarding = { stubDomains: [] };
  const parseJson = (key: string): unknown => {
    const text = data?.[key];
    if (text === undefined || text.trim() === '') return undefined;
    try {
      return JSON.parse(text);
    } catch (e) {
      errors.push(`${key}: invalid JSON: ${(e as Error).message}`);
      return undefined;
    }
  };
  const stub = parseJson('stubDomains');
  if (stub !== undefined) {
    if (typeof stub !== 'object' || stub === null || Array.isArray(stub)) errors.push('stubDomains: must be a JSON object of domain to nameserver list');
    else {
      for (const [rawDomain, list] of Object.entries(stub as Record<string, unknown>)) {
        const domain = rawDomain.toLowerCase().replace(/\.$/, '');
        if (!domainPattern.test(domain)) {
          errors.push(`stubDomains: invalid domain ${JSON.stringify(rawDomain)}`);
          continue;
        }
        const nameservers = Array.isArray(list) ? list.map((n) => (typeof n === 'string' ? parseNameserver(n) : undefined)) : [];
        if (!Array.isArray(list) || nameservers.length === 0 || nameservers.some((n) => !n)) {
          errors.push(`stubDomains: ${domain}: must be a non-empty list of nameserver IPs (optionally ip:port)`);
          continue;
        }
        forwarding.stubDomains.push({ domain, nameservers: nameservers as Upstream[] });
      }
      // Longest first: the most specific stub domain wins.
      forwarding.stubDomains.sort((a, b) => b.domain.length - a.domain.length);
    }
  }
  const upstream = parseJson('upstreamNameservers');
  if (upstream !== undefined) {
    const list = Array.isArray(upstream) ? upstream.map((n) => (typeof n === 'string' ? parseNameserver(n) : undefined)) : undefined;
    if (!list || list.some((n) => !n)) errors.push('upstreamNameservers: must be a JSON list of nameserver IPs (optionally ip:port)');
    else if (list.length > maxUpstreamNameservers) errors.push(`upstreamNameservers: at most ${maxUpstreamNameservers} nameservers`);
    else if (list.length > 0) forwarding.upstreamNameservers = list as Upstream[];
  }
  return { forwarding, errors };
}

/** The stub domain a name falls in, if any. */
export function stubDomainFor(stubDomains: StubDomain[], name: string): StubDomain | undefined {
  const n = name.toLowerCase().replace(/\.$/, '');
  return stubDomains.find((s) => n === s.domain || n.endsWith(`.${s.domain}`));
}
