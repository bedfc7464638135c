// Live collections shared by the views: each one is a list + watch kept in a Map, started when
// a render first asks for it and stopped when a render no longer does — so only what is on the
// screen is watched. Pure of the DOM: importable in Node for tests.
import { resourcePath, queryString } from './api.js';
import { applyEvent, listAndWatch } from './watch.js';

export const resources = {
  nodes: { group: '', version: 'v1', resource: 'nodes', kind: 'Node', namespaced: false },
  namespaces: { group: '', version: 'v1', resource: 'namespaces', kind: 'Namespace', namespaced: false },
  pods: { group: '', version: 'v1', resource: 'pods', kind: 'Pod', namespaced: true },
  services: { group: '', version: 'v1', resource: 'services', kind: 'Service', namespaced: true },
  events: { group: '', version: 'v1', resource: 'events', kind: 'Event', namespaced: true },
  configmaps: { group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespaced: true },
  deployments: { group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', namespaced: true, scalable: true },
  replicasets: { group: 'apps', version: 'v1', resource: 'replicasets', kind: 'ReplicaSet', namespaced: true, scalable: true },
  statefulsets: { group: 'apps', version: 'v1', resource: 'statefulsets', kind: 'StatefulSet', namespaced: true, scalable: true },
  daemonsets: { group: 'apps', version: 'v1', resource: 'daemonsets', kind: 'DaemonSet', namespaced: true },
  jobs: { group: 'batch', version: 'v1', resource: 'jobs', kind: 'Job', namespaced: true },
  cronjobs: { group: 'batch', version: 'v1', resource: 'cronjobs', kind: 'CronJob', namespaced: true },
};

/** The resource key ("deployments") of a kind ("Deployment"), for links from owner references and events. */
export function resourceKeyOfKind(kind) {
  return Object.keys(resources).find((key) => resources[key].kind === kind);
}

export function byNamespaceAndName(a, b) {
  const ns = (a.metadata?.namespace ?? '').localeCompare(b.metadata?.namespace ?? '');
  return ns !== 0 ? ns : (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '');
}

export class Collections {
  /** @param {{ api: any, onChange: () => void, watch?: typeof listAndWatch }} deps */
  constructor(deps) {
    this.deps = deps;
    this.entries = new Map();
    this.used = new Set();
  }

  /** The current items of a collection (sorted by namespace/name), starting its watch if needed. */
  use(ref, namespace = '', query = {}) {
    const path = resourcePath(ref, ref.namespaced ? namespace : '');
    const key = path + queryString(query);
    this.used.add(key);
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { items: new Map(), state: 'syncing', error: null, synced: false, controller: new AbortController(), sorted: null };
      this.entries.set(key, entry);
      const current = entry;
      const watch = this.deps.watch ?? listAndWatch;
      watch({
        api: this.deps.api,
        path,
        query,
        signal: current.controller.signal,
        onReplace: (items) => {
          current.items = new Map();
          for (const item of items) applyEvent(current.items, 'ADDED', { apiVersion: ref.group ? `${ref.group}/${ref.version}` : ref.version, kind: ref.kind, ...item });
          current.synced = true;
          current.sorted = null;
          this.deps.onChange();
        },
        onEvent: (type, object) => {
          applyEvent(current.items, type, object);
          current.sorted = null;
          this.deps.onChange();
        },
        onState: (state, error) => {
          current.state = state;
          current.error = error ?? null;
          this.deps.onChange();
        },
      });
    }
    entry.sorted ??= [...entry.items.values()].sort(byNamespaceAndName);
    return { items: entry.sorted, state: entry.state, error: entry.error, synced: entry.synced };
  }

  beginRender() {
    this.used = new Set();
  }

  /** Stops the watches the last render did not ask for. */
  endRender() {
    for (const [key, entry] of this.entries) {
      if (this.used.has(key)) continue;
      entry.controller.abort();
      this.entries.delete(key);
    }
  }

  /** One word for the header: live when every watch streams, else the worst state. */
  overallState() {
    const states = [...this.entries.values()].map((e) => e.state);
    for (const s of ['failed', 'retrying', 'syncing']) if (states.includes(s)) return s;
    return 'live';
  }

  stopAll() {
    this.beginRender();
    this.endRender();
  }
}
