// Opens the configured datastore.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Store } from './types.js';
import { createMemoryStore } from './memory/memory-store.js';
import { openSqliteStore } from './sqlite/sqlite-store.js';

export interface StoreOptions {
  backend: 'sqlite' | 'etcd' | 'memory';
  path?: string;
  etcdEndpoints?: string[];
  prefix?: string;
}

export async function createStore(options: StoreOptions): Promise<Store> {
  switch (options.backend) {
    case 'memory':
      return createMemoryStore();
    case 'sqlite':
      mkdirSync(dirname(options.path!), { recursive: true });
      return openSqliteStore(options.path!);
    default:
      throw new Error(`datastore ${options.backend} is not available yet`);
  }
}
