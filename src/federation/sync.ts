// The sync (propagation) controller, generic over every FederatedTypeConfig whose
// propagation is Enabled: each Federated<Kind> in the host becomes its target object in every
// ready member it is placed in, and is removed from members it is no longer placed in.
//
// Level-triggered: a reconcile reads the federated object from the host cache and each
// member's object by GET, and writes only what differs from what it would render (a hash of
// the last rendered object rides along as an annotation, so fields the member's own
// controllers own are never fought over). Periodic resync and member readiness changes
// re-run every object, so a member that comes back gets its objects.
import type { KubeObject } from '../api/types.js';
import type { Client, ResourceClient, ResourceRef } from '../client/client.js';
import type { Clock } from '../client/clock.js';
import { createController, type Controller } from '../client/controller.js';
import { isAlreadyExists, isConflict, isNotFound } from '../client/errors.js';
import type { HandlerRegistration, Logger, SharedIndexInformer, SharedInformerFactory } from '../client/informer.js';
import { objectFromDeleted } from '../client/informer.js';
import {
  federatedTypeConfigsResource,
  federationSystemNamespace,
  managedLabel,
  namespacesResource,
  type FederatedResource,
  type FederatedTypeConfig,
  type FederationCondition,
} from './api.js';
import type { MemberCluster, MemberClusters } from './members.js';
import { mergeForUpdate, placedClusters, renderedHashAnnotation, renderTarget } from './render.js';

/** Finalizer that keeps a federated object until its propagated copies are removed (kubefed's name). */
export const syncFinalizer = 'kubefed.io/sync-controller';

export interface SyncControllerOptions {
  host: Client;
  /** Host informers; federated types get informers from it as their FederatedTypeConfigs appear. */
  informers: SharedInformerFactory;
  members: MemberClusters;
  clock: Clock;
  logger?: Logger;
  /** How often every federated object is reconciled even without events (default 60 s). */
  resyncPeriodMs?: number;
  workers?: number;
}

export interface SyncController {
  /** Runs until `signal` aborts. */
  run(signal: AbortSignal): Promise<void>;
  /** Reconciles one "<federatedtypeconfig>|<namespace>/<name>" key now (tests). */
  reconcile(key: string): Promise<void>;
  hasSynced(): boolean;
}

interface ActiveType {
  config: FederatedTypeConfig;
  informer: SharedIndexInformer<FederatedResource>;
  registration: HandlerRegistration;
}

function federatedRef(config: FederatedTypeConfig): ResourceRef {
  const type = config.spec.federatedType;
  return { group: type.group, version: type.version, resource: type.pluralName, namespaced: type.scope === 'Namespaced', kind: type.kind };
}

function targetRef(config: FederatedTypeConfig): ResourceRef {
  const type = config.spec.targetType;
  return { group: type.group ?? '', version: type.version, resource: type.pluralName, namespaced: type.scope === 'Namespaced', kind: type.kind };
}

function timestamp(clock: Clock): string {
  return new Date(clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const keySeparator = '|';

export function createSyncController(options: SyncControllerOptions): SyncController {
  const logger = options.logger ?? (() => {});
  const resyncPeriodMs = options.resyncPeriodMs ?? 60_000;
  const types = new Map<string, ActiveType>();
  const configs = options.informers.forResource<FederatedTypeConfig>(federatedTypeConfigsResource, { namespace: federationSystemNamespace });

  const controller: Controller = createController({
    name: 'federation-sync',
    clock: options.clock,
    logger,
    workers: options.workers ?? 2,
    reconciler: { reconcile: (key) => reconcileKey(key).then((requeue) => (requeue ? { requeue: true } : undefined)) },
  });

  const keyOf = (configName: string, obj: KubeObject) => {
    const meta = objectFromDeleted(obj).metadata;
    return `${configName}${keySeparator}${meta.namespace ? `${meta.namespace}/` : ''}${meta.name}`;
  };

  function enqueueAll(): void {
    for (const [name, active] of types) for (const obj of active.informer.getIndexer().list()) controller.enqueue(keyOf(name, obj));
  }

  function syncTypes(): void {
    const wanted = new Map<string, FederatedTypeConfig>();
    for (const config of configs.getIndexer().list()) if (config.spec?.propagation === 'Enabled') wanted.set(config.metadata.name!, config);
    for (const [name, active] of types) {
      const next = wanted.get(name);
      if (!next || JSON.stringify(next.spec) !== JSON.stringify(active.config.spec)) {
        active.registration.remove();
        types.delete(name);
      }
    }
    for (const [name, config] of wanted) {
      if (types.has(name)) continue;
      const informer = options.informers.forResource<FederatedResource>(federatedRef(config), { resyncPeriodMs });
      const enqueue = (obj: KubeObject) => controller.enqueue(keyOf(name, obj));
      const registration = informer.addEventHandler(
        { onAdd: enqueue, onUpdate: (_old, obj) => enqueue(obj), onDelete: (obj) => enqueue(objectFromDeleted(obj)) },
        resyncPeriodMs,
      );
      types.set(name, { config, informer, registration });
      logger('info', 'propagating federated type', { component: 'federation', federatedType: config.spec.federatedType.kind, targetType: config.spec.targetType.kind });
    }
  }
  configs.addEventHandler({ onAdd: syncTypes, onUpdate: syncTypes, onDelete: syncTypes });

  /** Returns true when some member could not be brought up to date (retry with backoff). */
  async function reconcileKey(key: string): Promise<boolean> {
    const separator = key.indexOf(keySeparator);
    const active = types.get(key.slice(0, separator));
    if (!active) return false;
    if (!active.informer.hasSynced()) return true;
    const cached = active.informer.getIndexer().get(key.slice(separator + 1));
    if (!cached) return false;
    const federated = structuredClone(cached);
    const { config } = active;
    const host = options.host.resource<FederatedResource>(federatedRef(config));
    if (federated.metadata.deletionTimestamp) return removeEverywhere(config, federated, host);
    if (!(federated.metadata.finalizers ?? []).includes(syncFinalizer)) {
      // The update is seen by the informer and reconciled again; propagating first would leak copies if it is deleted meanwhile.
      await host.patch(federated.metadata.namespace, federated.metadata.name!, 'merge', {
        metadata: { finalizers: [...(federated.metadata.finalizers ?? []), syncFinalizer], resourceVersion: federated.metadata.resourceVersion },
      });
      return false;
    }
    const members = options.members.list();
    const placed = new Set(placedClusters(federated.spec?.placement, members.map((m) => m.cluster)));
    const clusters: { name: string; status?: string }[] = [];
    let failed = false;
    await Promise.all(
      members.map(async (member) => {
        if (placed.has(member.name)) {
          const status = member.ready ? await propagate(config, federated, member) : 'ClusterNotReady';
          clusters.push(status ? { name: member.name, status } : { name: member.name });
          if (status && status !== 'ClusterNotReady') failed = true;
        } else if (member.ready) {
          if (!(await removeFrom(config, federated, member))) failed = true;
        }
      }),
    );
    clusters.sort((a, b) => a.name.localeCompare(b.name));
    await writeStatus(host, federated, clusters);
    return failed;
  }

  async function ensureNamespace(member: MemberCluster, namespace: string): Promise<void> {
    const namespaces = member.client.resource(namespacesResource);
    try {
      await namespaces.get(undefined, namespace);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      try {
        await namespaces.create(undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
      } catch (createErr) {
        if (!isAlreadyExists(createErr)) throw createErr;
      }
    }
  }

  /** Creates or updates the rendered object in one member; returns the failure status, if any. */
  async function propagate(config: FederatedTypeConfig, federated: FederatedResource, member: MemberCluster): Promise<string | undefined> {
    const ref = targetRef(config);
    const target = member.client.resource(ref);
    const rendered = renderTarget(config, federated, member.name);
    const namespace = ref.namespaced ? federated.metadata.namespace : undefined;
    const fields = { component: 'federation', cluster: member.name, kind: ref.kind, object: `${namespace ? `${namespace}/` : ''}${rendered.metadata.name}` };
    let existing: KubeObject | undefined;
    try {
      existing = await target.get(namespace, rendered.metadata.name!);
    } catch (err) {
      if (!isNotFound(err)) {
        logger('warn', 'reading the member object failed', { ...fields, error: (err as Error).message });
        return 'CachedRetrievalFailed';
      }
    }
    if (!existing) {
      try {
        if (namespace) await ensureNamespace(member, namespace);
        await target.create(namespace, rendered);
        logger('info', 'created in member cluster', fields);
        return undefined;
      } catch (err) {
        logger('warn', 'creating in member cluster failed', { ...fields, error: (err as Error).message });
        return 'CreationFailed';
      }
    }
    if (existing.metadata.deletionTimestamp) return 'ManagedResourceBeingDeleted';
    const annotations = existing.metadata.annotations ?? {};
    if (existing.metadata.labels?.[managedLabel] === 'true' && annotations[renderedHashAnnotation] === rendered.metadata.annotations![renderedHashAnnotation]) {
      return undefined;
    }
    try {
      await target.update(mergeForUpdate(existing, rendered));
      logger('info', 'updated in member cluster', fields);
      return undefined;
    } catch (err) {
      if (isConflict(err)) return 'UpdateFailed';
      logger('warn', 'updating in member cluster failed', { ...fields, error: (err as Error).message });
      return 'UpdateFailed';
    }
  }

  /** Deletes the propagated object from one member, if it is there and ours. Returns false on failure. */
  async function removeFrom(config: FederatedTypeConfig, federated: FederatedResource, member: MemberCluster): Promise<boolean> {
    const ref = targetRef(config);
    const target: ResourceClient = member.client.resource(ref);
    const namespace = ref.namespaced ? federated.metadata.namespace : undefined;
    const name = federated.metadata.name!;
    try {
      const existing = await target.get(namespace, name);
      if (existing.metadata.labels?.[managedLabel] !== 'true' || existing.metadata.deletionTimestamp) return true;
      await target.delete(namespace, name, { propagationPolicy: 'Background', preconditions: { uid: existing.metadata.uid } });
      logger('info', 'deleted from member cluster', { component: 'federation', cluster: member.name, kind: ref.kind, object: `${namespace ? `${namespace}/` : ''}${name}` });
      return true;
    } catch (err) {
      if (isNotFound(err)) return true;
      logger('warn', 'deleting from member cluster failed', { component: 'federation', cluster: member.name, kind: ref.kind, error: (err as Error).message });
      return false;
    }
  }

  async function removeEverywhere(config: FederatedTypeConfig, federated: FederatedResource, host: ResourceClient<FederatedResource>): Promise<boolean> {
    const finalizers = federated.metadata.finalizers ?? [];
    if (!finalizers.includes(syncFinalizer)) return false;
    // Members that are not ready cannot be reached; like kubefed, their copies are left behind rather than blocking deletion forever.
    const results = await Promise.all(options.members.list().filter((m) => m.ready).map((m) => removeFrom(config, federated, m)));
    if (!results.every(Boolean)) return true;
    try {
      await host.patch(federated.metadata.namespace, federated.metadata.name!, 'merge', {
        metadata: { finalizers: finalizers.filter((f) => f !== syncFinalizer), resourceVersion: federated.metadata.resourceVersion },
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    return false;
  }

  async function writeStatus(host: ResourceClient<FederatedResource>, federated: FederatedResource, clusters: { name: string; status?: string }[]): Promise<void> {
    const failing = clusters.filter((c) => c.status);
    const propagated = failing.length === 0;
    const previous = federated.status?.conditions?.find((c) => c.type === 'Propagation');
    const now = timestamp(options.clock);
    const wanted: FederationCondition = propagated
      ? { type: 'Propagation', status: 'True' }
      : { type: 'Propagation', status: 'False', reason: 'CheckClusters', message: `not propagated to ${failing.map((c) => `${c.name} (${c.status})`).join(', ')}` };
    const same =
      federated.status?.observedGeneration === federated.metadata.generation &&
      JSON.stringify(federated.status?.clusters ?? []) === JSON.stringify(clusters) &&
      previous?.status === wanted.status &&
      previous?.reason === wanted.reason &&
      previous?.message === wanted.message;
    if (same) return;
    const condition: FederationCondition = {
      ...wanted,
      lastUpdateTime: now,
      lastTransitionTime: previous && previous.status === wanted.status && previous.lastTransitionTime ? previous.lastTransitionTime : now,
    };
    const others = (federated.status?.conditions ?? []).filter((c) => c.type !== 'Propagation');
    try {
      await host.updateStatus({
        ...federated,
        status: { ...federated.status, observedGeneration: federated.metadata.generation, conditions: [...others, condition], clusters },
      });
    } catch (err) {
      // A newer version is already on its way through the informer and will be reconciled.
      if (!isConflict(err) && !isNotFound(err)) throw err;
    }
  }

  return {
    async run(signal) {
      const unsubscribe = options.members.onChange(enqueueAll);
      try {
        await controller.start(signal);
      } finally {
        unsubscribe();
      }
    },
    async reconcile(key) {
      await reconcileKey(key);
    },
    hasSynced: () => configs.hasSynced() && [...types.values()].every((t) => t.informer.hasSynced()),
  };
}
