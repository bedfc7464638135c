// A federation in one process — for tests only, never imported by shipped code: a host and
// members, each a real in-process API server (memory store), the federation CRDs installed in
// the host, and members reached through transports a test can cut off to simulate an outage.
import { startTestApiServer, type TestApiServer } from '../apiserver/testing.js';
import type { Client } from '../client/client.js';
import type { Transport } from '../client/transport.js';
import { federationSystemNamespace, kubeFedClustersResource, namespacesResource, secretsResource, federatedTypeConfigsResource } from './api.js';
import { defaultFederatedTypeConfigs, federationCustomResourceDefinitions } from './crds.js';
import type { MemberEndpoint } from './members.js';

export interface FederationFixture {
  host: TestApiServer;
  members: Map<string, TestApiServer>;
  /** Names of members whose API server currently answers. */
  reachable: Set<string>;
  /** A MemberClusters transportFor: https://<member-name> reaches that member while it is reachable. */
  memberTransport(endpoint: MemberEndpoint): Transport;
  /** What `navarch federation join` writes in the host. */
  join(name: string, labels?: Record<string, string>): Promise<void>;
  close(): Promise<void>;
}

const crdResource = { group: 'apiextensions.k8s.io', version: 'v1', resource: 'customresourcedefinitions', namespaced: false };

async function waitEstablished(client: Client, name: string): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const crd: any = await client.resource(crdResource).get(undefined, name);
    if ((crd.status?.conditions ?? []).some((c: any) => c.type === 'Established' && c.status === 'True')) return;
    if (Date.now() > deadline) throw new Error(`CRD ${name} not Established`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export async function startFederationFixture(memberNames: string[]): Promise<FederationFixture> {
  const host = await startTestApiServer();
  const crds = federationCustomResourceDefinitions();
  for (const crd of crds) await host.client.resource(crdResource).create(undefined, crd);
  for (const crd of crds) await waitEstablished(host.client, crd.metadata.name!);
  await host.client.resource(namespacesResource).create(undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: federationSystemNamespace } });
  for (const config of defaultFederatedTypeConfigs()) await host.client.resource(federatedTypeConfigsResource).create(federationSystemNamespace, config);
  const members = new Map<string, TestApiServer>();
  for (const name of memberNames) members.set(name, await startTestApiServer());
  const reachable = new Set(memberNames);
  const unreachable = (name: string) => new Error(`connect ECONNREFUSED ${name}`);
  return {
    host,
    members,
    reachable,
    memberTransport(endpoint) {
      const name = new URL(endpoint.server).hostname;
      const target = () => {
        const member = members.get(name);
        return member && reachable.has(name) ? member.transport() : undefined;
      };
      return {
        request: (req) => target()?.request(req) ?? Promise.reject(unreachable(name)),
        watch: (req, onEvent, onClose) => {
          const transport = target();
          if (transport) return transport.watch(req, onEvent, onClose);
          queueMicrotask(() => onClose(unreachable(name)));
          return { stop() {} };
        },
      };
    },
    async join(name, labels) {
      await host.client.resource(secretsResource).create(federationSystemNamespace, {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: `${name}-token`, namespace: federationSystemNamespace },
        data: { token: Buffer.from(`token-of-${name}`).toString('base64') },
      } as any);
      await host.client.resource(kubeFedClustersResource).create(federationSystemNamespace, {
        apiVersion: 'core.kubefed.io/v1beta1',
        kind: 'KubeFedCluster',
        metadata: { name, namespace: federationSystemNamespace, labels },
        spec: { apiEndpoint: `https://${name}`, secretRef: { name: `${name}-token` } },
      } as any);
    },
    async close() {
      for (const member of members.values()) await member.close();
      await host.close();
    },
  };
}
