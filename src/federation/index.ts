// Starts the federation control plane in a host cluster: member clusters, the cluster health
// controller, the sync controller and any extra controllers plugged in (replica scheduling,
// DNS). It stays idle — one CRD watch — until kubefedclusters.core.kubefed.io is Established,
// so a cluster that is not a federation host pays nothing for it.
import type { KubeObject } from '../api/types.js';
import { createClient } from '../client/client.js';
import { systemClock, type Clock } from '../client/clock.js';
import { dropManagedFields, SharedInformerFactory, stderrLogger, type Logger } from '../client/informer.js';
import type { Transport } from '../client/transport.js';
import type { KubeFedCluster } from './api.js';
import { createClusterHealthController } from './cluster-health.js';
import { kubeFedClustersCrdName } from './crds.js';
import { createMemberClusters, type FederationControllerDeps, type MemberEndpoint } from './members.js';

export type { FederationControllerDeps };
import { createSyncController } from './sync.js';
import { createReplicaSchedulingController } from './scheduling/controller.js';
import { createDnsEndpointController, createServiceDnsRecordController } from './dns/controller.js';

/** A federation controller beside health and sync: built per activation, stopped with it. */
export type FederationControllerFactory = (deps: FederationControllerDeps) => { stop(): void };

/** Replica spreading and failover (ReplicaSchedulingPreference) and multi-cluster DNS (ServiceDNSRecord → DNSEndpoint). */
export const builtinFederationControllers: FederationControllerFactory[] = [createReplicaSchedulingController, createServiceDnsRecordController, createDnsEndpointController];

export interface StartFederationOptions {
  /** The host cluster's API. */
  transport: Transport;
  signal: AbortSignal;
  clock?: Clock;
  logger?: Logger;
  /** Default builtinFederationControllers. */
  controllers?: FederationControllerFactory[];
  /** Cluster health probe period (default 10 s) and consecutive failures before NotReady (default 3). */
  healthPeriodMs?: number;
  failureThreshold?: number;
  /** Every federated object is reconciled at least this often (default 60 s). */
  resyncPeriodMs?: number;
  /** Builds the transport to a member (default: HTTPS from the KubeFedCluster and its Secret). */
  memberTransport?: (endpoint: MemberEndpoint, cluster: KubeFedCluster) => Transport;
}

export interface RunningFederation {
  /** True while the host has the federation API and the controllers run. */
  active(): boolean;
  /** Resolves after `signal` aborted and everything stopped. */
  done: Promise<void>;
}

const customResourceDefinitionsResource = { group: 'apiextensions.k8s.io', version: 'v1', resource: 'customresourcedefinitions', namespaced: false, kind: 'CustomResourceDefinition' };

function established(crd: KubeObject | undefined): boolean {
  return !!crd && !crd.metadata.deletionTimestamp && ((crd as any).status?.conditions ?? []).some((c: any) => c.type === 'Established' && c.status === 'True');
}

export function startFederation(options: StartFederationOptions): RunningFederation {
  const clock = options.clock ?? systemClock();
  const logger = options.logger ?? stderrLogger;
  const host = createClient(options.transport, { clock });
  const crdInformers = new SharedInformerFactory(host, { clock, logger, transform: dropManagedFields });
  const crds = crdInformers.forResource<KubeObject>(customResourceDefinitionsResource, { fieldSelector: `metadata.name=${kubeFedClustersCrdName}` });
  let current: { abort: AbortController; done: Promise<void> } | undefined;
  const runs: Promise<void>[] = [];

  const reconcile = () => {
    const wanted = established(crds.getIndexer().get(kubeFedClustersCrdName)) && !options.signal.aborted;
    if (wanted && !current) {
      const abort = new AbortController();
      const onAbort = () => abort.abort();
      options.signal.addEventListener('abort', onAbort, { once: true });
      const done = runFederation(abort.signal).finally(() => options.signal.removeEventListener('abort', onAbort));
      current = { abort, done };
      runs.push(done);
    } else if (!wanted && current) {
      logger('info', 'federation API removed; stopping federation controllers', { component: 'federation' });
      current.abort.abort();
      current = undefined;
    }
  };
  crds.addEventHandler({ onAdd: reconcile, onUpdate: reconcile, onDelete: reconcile });

  async function runFederation(signal: AbortSignal): Promise<void> {
    logger('info', 'federation API found; starting federation controllers', { component: 'federation' });
    const informers = new SharedInformerFactory(host, { clock, logger, transform: dropManagedFields });
    const members = createMemberClusters({ informers, transportFor: options.memberTransport, clock, logger });
    const health = createClusterHealthController({ host, members, clock, logger, periodMs: options.healthPeriodMs, failureThreshold: options.failureThreshold });
    const sync = createSyncController({ host, informers, members, clock, logger, resyncPeriodMs: options.resyncPeriodMs });
    informers.start(signal);
    if (!(await members.waitForSync(signal))) return informers.shutdown();
    const extras = (options.controllers ?? builtinFederationControllers).map((factory) => factory({ host, members, clock, logger, signal }));
    const stopped = Promise.all([health.run(signal), sync.run(signal)]);
    await stopped.catch((err) => logger('error', 'federation controller failed', { component: 'federation', error: (err as Error).message }));
    for (const extra of extras) extra.stop();
    await informers.shutdown();
  }

  crdInformers.start(options.signal);
  return {
    active: () => !!current,
    done: (async () => {
      await new Promise<void>((resolve) => (options.signal.aborted ? resolve() : options.signal.addEventListener('abort', () => resolve(), { once: true })));
      await crdInformers.shutdown();
      await Promise.all(runs);
    })(),
  };
}

export type { MemberCluster, MemberClusters, MemberEndpoint } from './members.js';
export { createMemberClusters } from './members.js';
export { createClusterHealthController } from './cluster-health.js';
export { createSyncController, syncFinalizer } from './sync.js';
export { federationCustomResourceDefinitions, defaultFederatedTypeConfigs, kubeFedClustersCrdName } from './crds.js';
