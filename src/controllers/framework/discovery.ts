// Which resources the API serves, read from discovery (/api/v1, /apis and each group's
// preferred version), as the garbage collector and namespace controller need: every
// listable, watchable, deletable resource, so custom resources are covered too.
import type { Client, ResourceRef } from '../../client/client.js';

export interface DiscoveredResource extends ResourceRef {
  kind: string;
  verbs: string[];
}

/** Same storage, served twice: counting both would double every delete. */
const duplicates = new Set(['events.k8s.io/events']);

export async function discoverResources(client: Client): Promise<DiscoveredResource[]> {
  const out: DiscoveredResource[] = [];
  const add = (group: string, version: string, list: any) => {
    for (const r of list?.resources ?? []) {
      if (r.name.includes('/')) continue;
      if (duplicates.has(`${group}/${r.name}`)) continue;
      out.push({ group, version, resource: r.name, namespaced: !!r.namespaced, kind: r.kind, verbs: r.verbs ?? [] });
    }
  };
  add('', 'v1', await client.getPath('/api/v1'));
  const groups = await client.getPath('/apis');
  for (const g of groups.groups ?? []) {
    const preferred = g.preferredVersion ?? g.versions?.[0];
    if (!preferred) continue;
    try {
      add(g.name, preferred.version, await client.getPath(`/apis/${preferred.groupVersion}`));
    } catch {
      // An aggregated group that is down must not stop the others (Kubernetes skips it too).
    }
  }
  return out;
}

export const canListWatchDelete = (r: DiscoveredResource) => ['list', 'watch', 'delete'].every((v) => r.verbs.includes(v));
