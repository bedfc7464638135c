// The cluster DNS server's inputs beyond Services, EndpointSlices and Pods, kept in informer
// caches: the kube-dns ConfigMap (stubDomains, upstreamNameservers) and, when the cluster is a
// KubeFed host, Domain and DNSEndpoint objects (the federation zones it answers).
//
// Domain and DNSEndpoint are custom resources: a cluster without their CRDs must run DNS all
// the same. Their informers start only once a list succeeds (re-probed every
// `probeIntervalMs`), and they live in a factory of their own, so a missing CRD never holds up
// the cluster DNS caches' sync.
import type { KubeObject } from '../../api/types.js';
import type { Client, ResourceRef } from '../../client/client.js';
import { systemClock, type Clock } from '../../client/clock.js';
import { isNotFound } from '../../client/errors.js';
import { SharedInformerFactory, type Logger, type SharedIndexInformer } from '../../client/informer.js';
import { kubeDnsConfigMapName, kubeDnsConfigMapNamespace, parseKubeDnsConfig, type KubeDnsForwarding } from './kube-dns-config.js';
import type { DnsEndpointObject, DnsSnapshot } from './records.js';

const configMapsRef: ResourceRef = { group: '', version: 'v1', resource: 'configmaps', namespaced: true, kind: 'ConfigMap' };
export const federationDomainsRef: ResourceRef = { group: 'multiclusterdns.kubefed.io', version: 'v1alpha1', resource: 'domains', namespaced: true, kind: 'Domain' };
export const federationDnsEndpointsRef: ResourceRef = { group: 'multiclusterdns.kubefed.io', version: 'v1alpha1', resource: 'dnsendpoints', namespaced: true, kind: 'DNSEndpoint' };

export interface DnsExtraSourcesOptions {
  client: Client;
  signal: AbortSignal;
  /** Called after anything here changed: re-run the DNS sync. */
  onChange: () => void;
  clock?: Clock;
  logger?: Logger;
  /** How often an absent Domain/DNSEndpoint CRD is looked for again (default 30 s). */
  probeIntervalMs?: number;
}

export interface DnsExtraSources {
  /** The federation part of a DnsSnapshot (empty while the CRDs are absent). */
  federation(): Pick<DnsSnapshot, 'federationZones' | 'dnsEndpoints'>;
  /** What the kube-dns ConfigMap asks for (nothing when it does not exist). */
  forwarding(): KubeDnsForwarding;
  /** Resolves once the ConfigMap cache has synced (the federation caches never block). */
  ready: Promise<boolean>;
}

export function watchDnsExtraSources(options: DnsExtraSourcesOptions): DnsExtraSources {
  const clock = options.clock ?? systemClock();
  const logger = options.logger ?? (() => undefined);
  const factory = new SharedInformerFactory(options.client, { clock, logger });
  const configMaps = factory.forResource<KubeObject>(configMapsRef, { namespace: kubeDnsConfigMapNamespace, fieldSelector: `metadata.name=${kubeDnsConfigMapName}` });
  const handler = { onAdd: options.onChange, onUpdate: options.onChange, onDelete: options.onChange };
  configMaps.addEventHandler(handler);
  factory.start(options.signal);

  let domains: SharedIndexInformer<KubeObject> | undefined;
  let endpoints: SharedIndexInformer<KubeObject> | undefined;
  let lastErrors = '';

  // Absent CRD: 404 on list. Anything else (a server starting up) is retried the same way.
  const probe = async () => {
    if (options.signal.aborted) return;
    try {
      await options.client.resource(federationDomainsRef).list(undefined, { limit: 1 });
      await options.client.resource(federationDnsEndpointsRef).list(undefined, { limit: 1 });
      domains = factory.forResource<KubeObject>(federationDomainsRef);
      endpoints = factory.forResource<KubeObject>(federationDnsEndpointsRef);
      domains.addEventHandler(handler);
      endpoints.addEventHandler(handler);
      logger('info', 'serving federation DNS from Domain and DNSEndpoint objects', { component: 'cluster-dns' });
    } catch (e) {
      if (!isNotFound(e)) logger('warn', 'probing federation DNS resources failed', { component: 'cluster-dns', error: String(e) });
      const timer = clock.setTimeout(() => void probe(), options.probeIntervalMs ?? 30_000);
      options.signal.addEventListener('abort', () => clock.clearTimeout(timer), { once: true });
    }
  };
  void probe();

  return {
    federation() {
      if (!domains || !endpoints) return { federationZones: [], dnsEndpoints: [] };
      const federationZones = domains
        .getIndexer()
        .list()
        .map((d) => (typeof d.domain === 'string' ? d.domain : ''))
        .filter(Boolean);
      return { federationZones, dnsEndpoints: endpoints.getIndexer().list() as DnsEndpointObject[] };
    },
    forwarding() {
      const configMap = configMaps.getIndexer().getByName(kubeDnsConfigMapNamespace, kubeDnsConfigMapName);
      const { forwarding, errors } = parseKubeDnsConfig(configMap?.data);
      const joined = errors.join('; ');
      if (joined && joined !== lastErrors) logger('warn', 'kube-dns ConfigMap has invalid entries', { component: 'cluster-dns', object: `${kubeDnsConfigMapNamespace}/${kubeDnsConfigMapName}`, errors });
      lastErrors = joined;
      return forwarding;
    },
    ready: configMaps.waitForSync(options.signal),
  };
}
