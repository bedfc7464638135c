// Discovery documents, legacy (/api, /apis, /apis/<g>/<v>) and aggregated
// (apidiscovery.k8s.io v2 and v2beta1), all computed from the registry.
import { createHash } from 'node:crypto';
import type { ResourceRegistry, ServedResource } from './registry.js';
import { apiVersionOf } from './registry.js';

interface SubresourceInfo {
  verbs: string[];
  kind: { group: string; version: string; kind: string } | 'self';
}

const subresourceInfo: Record<string, SubresourceInfo> = {
  status: { verbs: ['get', 'patch', 'update'], kind: 'self' },
  scale: { verbs: ['get', 'patch', 'update'], kind: { group: 'autoscaling', version: 'v1', kind: 'Scale' } },
  binding: { verbs: ['create'], kind: { group: '', version: 'v1', kind: 'Binding' } },
  eviction: { verbs: ['create'], kind: { group: 'policy', version: 'v1', kind: 'Eviction' } },
  log: { verbs: ['get'], kind: 'self' },
  exec: { verbs: ['create', 'get'], kind: { group: '', version: 'v1', kind: 'PodExecOptions' } },
  attach: { verbs: ['create', 'get'], kind: { group: '', version: 'v1', kind: 'PodAttachOptions' } },
  portforward: { verbs: ['create', 'get'], kind: { group: '', version: 'v1', kind: 'PodPortForwardOptions' } },
  proxy: { verbs: ['create', 'delete', 'get', 'patch', 'update'], kind: 'self' },
  ephemeralcontainers: { verbs: ['get', 'patch', 'update'], kind: 'self' },
  resize: { verbs: ['get', 'patch', 'update'], kind: 'self' },
  token: { verbs: ['create'], kind: { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' } },
  finalize: { verbs: ['update'], kind: 'self' },
  approval: { verbs: ['get', 'patch', 'update'], kind: 'self' },
};

const proxyKinds: Record<string, string> = { pods: 'PodProxyOptions', nodes: 'NodeProxyOptions', services: 'ServiceProxyOptions' };

function subresourceKind(resource: ServedResource, name: string): { group: string; version: string; kind: string } {
  const info = subresourceInfo[name];
  if (name === 'proxy') return { group: '', version: 'v1', kind: proxyKinds[resource.resource] ?? resource.kind };
  if (!info || info.kind === 'self') return { group: resource.group, version: resource.version, kind: resource.kind };
  return info.kind;
}

function storageVersionHash(resource: ServedResource): string {
  return createHash('sha256').update(`${resource.group}/${resource.storageVersion}/${resource.kind}`).digest('base64').slice(0, 11);
}

export function apiVersions(serverAddress: string): object {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

export function apiGroupList(registry: ResourceRegistry): object {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: registry
      .groups()
      .filter((g) => g.group !== '')
      .map((g) => apiGroup(g.group, g.versions)),
  };
}

function apiGroup(group: string, versions: string[]): object {
  return {
    name: group,
    versions: versions.map((v) => ({ groupVersion: `${group}/${v}`, version: v })),
    preferredVersion: { groupVersion: `${group}/${versions[0]}`, version: versions[0] },
  };
}

export function apiGroupDocument(registry: ResourceRegistry, group: string): object | undefined {
  const g = registry.groups().find((x) => x.group === group);
  if (!g) return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(g.group, g.versions) };
}

export function apiResourceList(registry: ResourceRegistry, group: string, version: string): object | undefined {
  const resources = registry.all().filter((r) => r.group === group && r.version === version);
  if (resources.length === 0) return undefined;
  const list: object[] = [];
  for (const r of resources) {
    const entry: Record<string, unknown> = {
      name: r.resource,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: r.verbs,
    };
    if (r.shortNames?.length) entry.shortNames = r.shortNames;
    if (r.categories?.length) entry.categories = r.categories;
    if (r.verbs.length) entry.storageVersionHash = storageVersionHash(r);
    list.push(entry);
    for (const sub of r.subresources ?? []) {
      const kind = subresourceKind(r, sub);
      const subEntry: Record<string, unknown> = { name: `${r.resource}/${sub}`, singularName: '', namespaced: r.namespaced, kind: kind.kind, verbs: subresourceInfo[sub]?.verbs ?? ['get'] };
      if (kind.group !== r.group || kind.version !== r.version) {
        if (kind.group) subEntry.group = kind.group;
        subEntry.version = kind.version;
      }
      list.push(subEntry);
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf(group, version), resources: list };
}

/** Aggregated discovery: `legacy` = the core group (/api), otherwise every named group (/apis). */
export function aggregatedDiscovery(registry: ResourceRegistry, legacy: boolean, version: 'v2' | 'v2beta1'): object {
  const items = registry
    .groups()
    .filter((g) => (legacy ? g.group === '' : g.group !== ''))
    .map((g) => ({
      metadata: { name: g.group, creationTimestamp: null },
      versions: g.versions.map((v) => ({
        version: v,
        freshness: 'Current',
        resources: registry
          .all()
          .filter((r) => r.group === g.group && r.version === v)
          .map((r) => {
            const entry: Record<string, unknown> = {
              resource: r.resource,
              responseKind: { group: r.group, version: r.version, kind: r.kind },
              scope: r.namespaced ? 'Namespaced' : 'Cluster',
              singularResource: r.singular,
              verbs: r.verbs,
            };
            if (r.shortNames?.length) entry.shortNames = r.shortNames;
            if (r.categories?.length) entry.categories = r.categories;
            if (r.subresources?.length) {
              entry.subresources = r.subresources.map((sub) => ({
                subresource: sub,
                responseKind: subresourceKind(r, sub),
                verbs: subresourceInfo[sub]?.verbs ?? ['get'],
              }));
            }
            return entry;
          }),
      })),
    }));
  return { kind: 'APIGroupDiscoveryList', apiVersion: `apidiscovery.k8s.io/${version}`, metadata: {}, items };
}
