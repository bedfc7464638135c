// Test helpers for federation controllers — tests only, never shipped: a MemberClusters whose
// readiness a test flips by hand (the real one follows the cluster health controller), and a
// poll on real time for conditions reached through in-memory API servers.
import type { Client } from '../../client/client.js';
import type { KubeFedCluster } from '../api.js';
import { federationSystemNamespace } from '../api.js';
import type { MemberCluster, MemberClusters } from '../members.js';

export class TestMemberClusters implements MemberClusters {
  private readonly members = new Map<string, MemberCluster>();
  private readonly handlers = new Set<() => void>();

  add(name: string, client: Client, options: { ready?: boolean; zones?: string[]; region?: string } = {}): this {
    const cluster: KubeFedCluster = {
      apiVersion: 'core.kubefed.io/v1beta1',
      kind: 'KubeFedCluster',
      metadata: { name, namespace: federationSystemNamespace },
      spec: { apiEndpoint: `https://${name}.invalid:6443`, secretRef: { name: `${name}-secret` } },
      status: { conditions: [{ type: 'Ready', status: options.ready === false ? 'False' : 'True' }], zones: options.zones, region: options.region },
    };
    this.members.set(name, { name, cluster, client, ready: options.ready ?? true });
    this.notify();
    return this;
  }

  setReady(name: string, ready: boolean): void {
    const member = this.members.get(name);
    if (!member) throw new Error(`no member ${name}`);
    this.members.set(name, { ...member, ready });
    this.notify();
  }

  /** Tells subscribers something changed although nothing did (a level-triggered controller must not write). */
  notify(): void {
    for (const h of this.handlers) h();
  }

  list(): MemberCluster[] {
    return [...this.members.values()];
  }

  get(name: string): MemberCluster | undefined {
    return this.members.get(name);
  }

  onChange(handler: () => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }
}

/** Polls `check` until it returns something truthy (real time: the API servers are in memory). */
export async function eventually<T>(check: () => Promise<T | false | undefined> | T | false | undefined, what: string, timeoutMs = 4000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${timeoutMs} ms${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const silentLogger = () => undefined;
