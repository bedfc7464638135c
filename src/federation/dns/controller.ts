// Multi-cluster DNS for federated Services, in KubeFed's two steps:
// - the ServiceDNSRecord controller reads the same-named Service in every *ready* member and
//   writes `status.dns` (load-balancer ingress, zones and region of the member) and
//   `status.domain` (from the Domain the record refers to);
// - the DNSEndpoint controller turns that status into a DNSEndpoint (owned by the record) with
//   KubeFed's global/region/zone names, which a DNS provider (navarch's cluster DNS, or
//   external-dns) serves.
// A member that is not ready contributes no entry, so its addresses leave DNS (failover).
import type { KubeObject } from '../../api/types.js';
import { objectKey, retryOnConflict, splitObjectKey, type Client, type ResourceRef } from '../../client/client.js';
import { Controller } from '../../client/controller.js';
import { isAlreadyExists, isNotFound } from '../../client/errors.js';
import { SharedInformerFactory } from '../../client/informer.js';
import { federationSystemNamespace, multiclusterDnsGroup, type DNSEndpoint, type Domain, type ServiceDNSRecord } from '../api.js';
import type { FederationControllerDeps } from '../members.js';

export type { FederationControllerDeps };
import { dnsEndpointName, serviceDnsEndpoints } from './records.js';

export const serviceDnsRecordsRef: ResourceRef = { group: multiclusterDnsGroup, version: 'v1alpha1', resource: 'servicednsrecords', namespaced: true, kind: 'ServiceDNSRecord' };
export const dnsEndpointsRef: ResourceRef = { group: multiclusterDnsGroup, version: 'v1alpha1', resource: 'dnsendpoints', namespaced: true, kind: 'DNSEndpoint' };
export const domainsRef: ResourceRef = { group: multiclusterDnsGroup, version: 'v1alpha1', resource: 'domains', namespaced: true, kind: 'Domain' };
const servicesRef: ResourceRef = { group: '', version: 'v1', resource: 'services', namespaced: true, kind: 'Service' };
const endpointSlicesRef: ResourceRef = { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', namespaced: true, kind: 'EndpointSlice' };

/** Member Services are read, not watched: a record is re-checked this often (and on every member change). */
export const defaultMemberResyncMs = 30_000;

type ClusterDns = NonNullable<NonNullable<ServiceDNSRecord['status']>['dns']>[number];

/** Runs a Controller until deps.signal aborts or stop() is called. */
function run(deps: FederationControllerDeps, factory: SharedInformerFactory, controller: Controller, onStop: () => void): { stop(): void } {
  const stopping = new AbortController();
  const stop = () => {
    if (stopping.signal.aborted) return;
    stopping.abort();
    onStop();
  };
  if (deps.signal.aborted) stop();
  else deps.signal.addEventListener('abort', stop, { once: true });
  factory.start(stopping.signal);
  controller.start(stopping.signal).catch((e) => deps.logger('error', 'controller stopped', { controller: controller.name, error: String(e) }));
  return { stop };
}

async function serviceHasReadyEndpoints(client: Client, namespace: string, name: string): Promise<boolean> {
  const slices = await client.resource(endpointSlicesRef).list(namespace, { labelSelector: `kubernetes.io/service-name=${name}` });
  return slices.items.some((s) => (s.endpoints ?? []).some((e: any) => e.conditions?.ready !== false && (e.addresses ?? []).length > 0));
}

export function createServiceDnsRecordController(deps: FederationControllerDeps & { memberResyncMs?: number }): { stop(): void; controller: Controller } {
  const name = 'servicednsrecord-controller';
  const factory = new SharedInformerFactory(deps.host, { clock: deps.clock, logger: deps.logger });
  const records = factory.forResource<ServiceDNSRecord>(serviceDnsRecordsRef);
  const domains = factory.forResource<Domain>(domainsRef, { namespace: federationSystemNamespace });
  const resource = deps.host.resource<ServiceDNSRecord>(serviceDnsRecordsRef);

  async function clusterEntries(record: ServiceDNSRecord): Promise<ClusterDns[]> {
    const namespace = record.metadata.namespace!;
    const service = record.metadata.name!;
    const ready = deps.members
      .list()
      .filter((m) => m.ready)
      .sort((a, b) => (a.name < b.name ? -1 : 1));
    const entries = await Promise.all(
      ready.map(async (member): Promise<ClusterDns | undefined> => {
        let svc: KubeObject;
        try {
          svc = await member.client.resource(servicesRef).get(namespace, service);
        } catch (e) {
          if (isNotFound(e)) return undefined;
          // Readiness is probed elsewhere; a failed read now is a member we cannot vouch for.
          deps.logger('warn', 'reading member service failed', { controller: name, cluster: member.name, object: `${namespace}/${service}`, error: String(e) });
          return undefined;
        }
        let ingress: { ip?: string; hostname?: string }[] = (svc.status?.loadBalancer?.ingress ?? []).map((i: any) => ({ ...(i.ip ? { ip: i.ip } : {}), ...(i.hostname ? { hostname: i.hostname } : {}) }));
        if (ingress.length > 0 && !record.spec.allowServiceWithoutEndpoints) {
          const has = await serviceHasReadyEndpoints(member.client, namespace, service).catch(() => false);
          if (!has) ingress = [];
        }
        const entry: ClusterDns = { cluster: member.name, loadBalancer: { ...(ingress.length ? { ingress } : {}) } };
        if (member.cluster.status?.zones?.length) entry.zones = [...member.cluster.status.zones];
        if (member.cluster.status?.region) entry.region = member.cluster.status.region;
        return entry;
      }),
    );
    return entries.filter((e): e is ClusterDns => !!e);
  }

  async function reconcile(key: string) {
    const record = records.getIndexer().get(key);
    if (!record || record.metadata.deletionTimestamp) return;
    const domain = domains.getIndexer().getByName(federationSystemNamespace, record.spec.domainRef);
    if (!domain) {
      deps.logger('warn', 'domain not found', { controller: name, object: key, domain: record.spec.domainRef });
      return { requeueAfterMs: deps.memberResyncMs ?? defaultMemberResyncMs };
    }
    const status: ServiceDNSRecord['status'] = { domain: domain.domain, dns: await clusterEntries(record) };
    const { namespace, name: recordName } = splitObjectKey(key);
    let current = record;
    let first = true;
    await retryOnConflict(
      async () => {
        if (!first) current = await resource.get(namespace, recordName);
        first = false;
        if (JSON.stringify(current.status ?? {}) === JSON.stringify(status)) return;
        await resource.updateStatus({ ...current, status });
      },
      undefined,
      deps.clock,
    ).catch((e) => {
      if (!isNotFound(e)) throw e;
    });
    return { requeueAfterMs: deps.memberResyncMs ?? defaultMemberResyncMs };
  }

  const controller = new Controller({ name, clock: deps.clock, logger: deps.logger, reconciler: { reconcile: (key) => reconcile(key) } });
  controller.watch(records);
  const enqueueAll = () => {
    for (const r of records.getIndexer().list()) controller.enqueue(objectKey(r));
  };
  controller.watch(domains, { mapToKeys: (domain) => records.getIndexer().list().filter((r) => r.spec?.domainRef === domain.metadata.name).map((r) => objectKey(r)) });
  const unsubscribe = deps.members.onChange(enqueueAll);
  const handle = run(deps, factory, controller, unsubscribe);
  return { ...handle, controller };
}

function ownerReferenceTo(record: ServiceDNSRecord) {
  return { apiVersion: `${multiclusterDnsGroup}/v1alpha1`, kind: 'ServiceDNSRecord', name: record.metadata.name!, uid: record.metadata.uid!, controller: true, blockOwnerDeletion: true };
}

export function createDnsEndpointController(deps: FederationControllerDeps): { stop(): void; controller: Controller } {
  const name = 'dnsendpoint-controller';
  const factory = new SharedInformerFactory(deps.host, { clock: deps.clock, logger: deps.logger });
  const records = factory.forResource<ServiceDNSRecord>(serviceDnsRecordsRef);
  const endpoints = factory.forResource<DNSEndpoint>(dnsEndpointsRef);
  const resource = deps.host.resource<DNSEndpoint>(dnsEndpointsRef);

  async function reconcile(key: string) {
    const record = records.getIndexer().get(key);
    // A deleted record's DNSEndpoint goes with it through its ownerReference (garbage collector).
    if (!record || record.metadata.deletionTimestamp) return;
    const { namespace } = splitObjectKey(key);
    const want: DNSEndpoint = {
      apiVersion: `${multiclusterDnsGroup}/v1alpha1`,
      kind: 'DNSEndpoint',
      metadata: { name: dnsEndpointName(record.metadata.name!), namespace, ownerReferences: [ownerReferenceTo(record)] },
      spec: { endpoints: serviceDnsEndpoints(record) },
    };
    const write = async (): Promise<'created-meanwhile' | void> => {
      let have: DNSEndpoint | undefined;
      try {
        have = await resource.get(namespace, want.metadata.name!);
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      if (!have) {
        try {
          await resource.create(namespace, want);
          return;
        } catch (e) {
          if (isAlreadyExists(e)) return 'created-meanwhile';
          throw e;
        }
      }
      const owners = have.metadata.ownerReferences ?? [];
      const owned = owners.some((o) => o.uid === record.metadata.uid);
      if (owned && JSON.stringify(have.spec?.endpoints ?? []) === JSON.stringify(want.spec.endpoints)) return;
      await resource.update({
        ...have,
        // A record deleted and re-created under the same name takes its DNSEndpoint over.
        metadata: { ...have.metadata, ownerReferences: owned ? owners : [...owners.filter((o) => o.kind !== 'ServiceDNSRecord'), ownerReferenceTo(record)] },
        spec: { ...have.spec, endpoints: want.spec.endpoints },
      });
    };
    await retryOnConflict(async () => {
      if ((await write()) === 'created-meanwhile') await write();
    }, undefined, deps.clock);
  }

  const controller = new Controller({ name, clock: deps.clock, logger: deps.logger, reconciler: { reconcile: async (key) => void (await reconcile(key)) } });
  controller.watch(records);
  // A DNSEndpoint edited or deleted by someone else is put back.
  controller.watch(endpoints, { mapToKeys: (ep) => (ep.metadata.ownerReferences ?? []).filter((o) => o.kind === 'ServiceDNSRecord').map((o) => `${ep.metadata.namespace}/${o.name}`) });
  return { ...run(deps, factory, controller, () => undefined), controller };
}
