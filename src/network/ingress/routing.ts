// Ingress rules → a route table, and request (host, path) → route. Pure: no I/O, so the whole of
// Kubernetes' matching rules is table-tested here.
//
// Matching follows the Ingress spec and ingress-nginx, the reference implementation:
//  - The Host header (lower-cased, port dropped) picks one virtual host: an exact `host` first,
//    else a `*.suffix` wildcard (matching exactly one more DNS label), else the rules without a
//    host. Only that virtual host's paths are considered.
//  - Within it the longest path wins; for equal paths Exact beats Prefix; then the oldest Ingress.
//    Prefix matches element-wise ("/foo" matches "/foo", "/foo/", "/foo/bar", not "/foobar"; a
//    trailing slash on the rule is ignored). ImplementationSpecific is treated as Prefix.
//  - Nothing matched: the oldest handled Ingress's defaultBackend, else 404.
import type { Ingress, IngressBackend, IngressClass, PathType } from './types.js';

export const ingressControllerName = 'navarch.io/ingress';
export const defaultClassAnnotation = 'ingressclass.kubernetes.io/is-default-class';
/** Deprecated before ingressClassName existed, still honoured by every controller. */
export const legacyClassAnnotation = 'kubernetes.io/ingress.class';

export interface Route {
  /** The Ingress this route came from, "namespace/name". */
  ingress: string;
  namespace: string;
  host: string;
  path: string;
  pathType: PathType;
  backend: IngressBackend;
}

export interface TlsEntry {
  ingress: string;
  namespace: string;
  secretName: string;
  /** Empty: any host (the Ingress spec's default). */
  hosts: string[];
}

export interface RouteTable {
  exact: Map<string, Route[]>;
  /** Keyed by the suffix after "*." */
  wildcard: Map<string, Route[]>;
  anyHost: Route[];
  defaultBackend?: { ingress: string; namespace: string; backend: IngressBackend };
  tls: TlsEntry[];
  /** Every handled Ingress, "namespace/name", sorted oldest first. */
  ingresses: string[];
}

/**
 * Whether this controller handles the Ingress: its ingressClassName (or legacy annotation) names a
 * class whose controller is ours, or it names no class and one of our classes is the default.
 */
export function handlesIngress(ingress: Ingress, classes: IngressClass[], controller = ingressControllerName): boolean {
  const ours = classes.filter((c) => c.spec?.controller === controller && !c.metadata.deletionTimestamp);
  const className = ingress.spec?.ingressClassName ?? ingress.metadata.annotations?.[legacyClassAnnotation];
  if (className) return ours.some((c) => c.metadata.name === className);
  return ours.some((c) => c.metadata.annotations?.[defaultClassAnnotation] === 'true');
}

function age(ingress: Ingress): string {
  return `${ingress.metadata.creationTimestamp ?? ''}\u0000${ingress.metadata.namespace ?? ''}/${ingress.metadata.name ?? ''}`;
}

/** Normalised request host: lower case, without a port, without a trailing dot. */
export function normaliseHost(host: string | undefined): string {
  let h = (host ?? '').trim().toLowerCase();
  if (h.startsWith('[')) h = h.slice(0, h.indexOf(']') + 1);
  else if (h.includes(':')) h = h.slice(0, h.indexOf(':'));
  return h.endsWith('.') ? h.slice(0, -1) : h;
}

const typeRank: Record<PathType, number> = { Exact: 0, Prefix: 1, ImplementationSpecific: 1 };

function routeOrder(a: Route & { age: string }, b: Route & { age: string }): number {
  if (a.path.length !== b.path.length) return b.path.length - a.path.length;
  if (typeRank[a.pathType] !== typeRank[b.pathType]) return typeRank[a.pathType] - typeRank[b.pathType];
  return a.age < b.age ? -1 : a.age > b.age ? 1 : 0;
}

/** Builds the table from the Ingresses this controller handles (callers filter with handlesIngress). */
export function buildRouteTable(ingresses: Ingress[]): RouteTable {
  const sorted = [...ingresses].filter((i) => !i.metadata.deletionTimestamp).sort((a, b) => (age(a) < age(b) ? -1 : age(a) > age(b) ? 1 : 0));
  const exact = new Map<string, (Route & { age: string })[]>();
  const wildcard = new Map<string, (Route & { age: string })[]>();
  const anyHost: (Route & { age: string })[] = [];
  const table: RouteTable = { exact: new Map(), wildcard: new Map(), anyHost: [], tls: [], ingresses: [] };
  for (const ingress of sorted) {
    const namespace = ingress.metadata.namespace ?? 'default';
    const key = `${namespace}/${ingress.metadata.name}`;
    table.ingresses.push(key);
    const spec = ingress.spec ?? {};
    if (spec.defaultBackend && !table.defaultBackend) table.defaultBackend = { ingress: key, namespace, backend: spec.defaultBackend };
    for (const tls of spec.tls ?? []) {
      if (tls.secretName) table.tls.push({ ingress: key, namespace, secretName: tls.secretName, hosts: (tls.hosts ?? []).map((h) => h.toLowerCase()) });
    }
    for (const rule of spec.rules ?? []) {
      const host = (rule.host ?? '').toLowerCase();
      for (const p of rule.http?.paths ?? []) {
        const pathType = p.pathType ?? 'ImplementationSpecific';
        const route = { ingress: key, namespace, host, path: p.path || '/', pathType, backend: p.backend, age: age(ingress) };
        if (!host) anyHost.push(route);
        else if (host.startsWith('*.')) push(wildcard, host.slice(2), route);
        else push(exact, host, route);
      }
    }
  }
  const finish = (list: (Route & { age: string })[]): Route[] => list.sort(routeOrder).map(({ age: _age, ...r }) => r);
  for (const [h, list] of exact) table.exact.set(h, finish(list));
  for (const [h, list] of wildcard) table.wildcard.set(h, finish(list));
  table.anyHost = finish(anyHost);
  return table;
}

function push<V>(map: Map<string, V[]>, key: string, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** Element-wise prefix match, as the Ingress spec defines it. */
export function pathMatches(route: Pick<Route, 'path' | 'pathType'>, requestPath: string): boolean {
  if (route.pathType === 'Exact') return requestPath === route.path;
  const prefix = route.path.length > 1 && route.path.endsWith('/') ? route.path.replace(/\/+$/, '') : route.path;
  if (prefix === '/' || prefix === '') return true;
  return requestPath === prefix || requestPath.startsWith(prefix + '/');
}

/** The virtual host's routes a request host selects (see the header for the order). */
export function virtualHost(table: RouteTable, host: string): Route[] {
  const h = normaliseHost(host);
  const exact = table.exact.get(h);
  if (exact) return exact;
  const dot = h.indexOf('.');
  if (dot > 0) {
    const wild = table.wildcard.get(h.slice(dot + 1));
    if (wild) return wild;
  }
  return table.anyHost;
}

export type Match = { kind: 'route'; route: Route } | { kind: 'default'; ingress: string; namespace: string; backend: IngressBackend } | { kind: 'none' };

export function matchRequest(table: RouteTable, host: string | undefined, rawPath: string): Match {
  const q = rawPath.search(/[?#]/);
  const path = q >= 0 ? rawPath.slice(0, q) : rawPath || '/';
  for (const route of virtualHost(table, host ?? '')) if (pathMatches(route, path)) return { kind: 'route', route };
  if (table.defaultBackend) return { kind: 'default', ...table.defaultBackend };
  return { kind: 'none' };
}

/** Certificate choice for a TLS handshake: exact host, then `*.` wildcard, then an entry without hosts, then any. */
export function tlsEntryFor(table: RouteTable, serverName: string | undefined): TlsEntry | undefined {
  const h = normaliseHost(serverName);
  if (h) {
    const exact = table.tls.find((t) => t.hosts.includes(h));
    if (exact) return exact;
    const dot = h.indexOf('.');
    const wild = dot > 0 ? table.tls.find((t) => t.hosts.includes(`*.${h.slice(dot + 1)}`)) : undefined;
    if (wild) return wild;
  }
  return table.tls.find((t) => t.hosts.length === 0) ?? table.tls[0];
}
