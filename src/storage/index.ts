// The storage layer's front door: pick a backend by name. Only the API server calls this.

import type { Store } from './types.js';
import { createMemoryStore } from './memory/memory-store.js';
import { openSqliteStore } from './sqlite/sqlite-store.js';
import { openEtcdStore } from './etcd/etcd-store.js';

export * from './types.js';
export { createMemoryStore } from './memory/memory-store.js';
export { openSqliteStore, SqliteStore, DatastoreOpenError, type SqliteStoreOptions } from './sqlite/sqlite-store.js';
export { createMaintenance, type Maintenance, type MaintenanceOptions, type MaintenanceReport } from './sqlite/maintenance.js';
export { openEtcdStore, EtcdStore, type EtcdStoreOptions } from './etcd/etcd-store.js';

export interface CreateStoreOptions {
  backend: 'sqlite' | 'etcd' | 'memory';
  /** sqlite: the datastore file (e.g. <data-dir>/db/state.db). Required for sqlite. */
  path?: string;
  /** etcd: client URLs. Required for etcd. */
  etcdEndpoints?: string[];
  /** etcd: key namespace shared by every key (like --etcd-prefix). The embedded backends own their
   *  whole keyspace and ignore it. */
  prefix?: string;
}

export async function createStore(options: CreateStoreOptions): Promise<Store> {
  switch (options.backend) {
    case 'memory':
      return createMemoryStore();
    case 'sqlite':
      if (!options.path) throw new Error("the sqlite datastore needs a file path ('path')");
      return openSqliteStore(options.path);
    case 'etcd':
      if (!options.etcdEndpoints || options.etcdEndpoints.length === 0) throw new Error("the etcd datastore needs at least one endpoint ('etcdEndpoints')");
      return openEtcdStore({ endpoints: options.etcdEndpoints, namespace: options.prefix ?? '' });
    default:
      throw new Error(`unknown storage backend '${(options as { backend: string }).backend}' (expected sqlite, etcd or memory)`);
  }
}
