// The garbage collector: deletes objects whose owners are gone (background), deletes the
// dependents of an owner being deleted in the foreground before letting it go (the
// `foregroundDeletion` finalizer), and strips ownerReferences from the dependents of an owner
// deleted with orphan propagation (the `orphan` finalizer).
//
// It works from current state only. The owner graph is the informer caches themselves — every
// cache carries an index of objects by the uids of their owners — so a restart loses nothing:
// the initial lists enqueue every object with owners or with a deletion finalizer again. An
// owner is never judged absent from a cache alone: a live GET by name must answer NotFound or
// a different uid first, as Kubernetes does, so a slow watch never deletes a live dependent.
import type { KubeObject, OwnerReference } from '../../api/types.js';
import type { Client } from '../../client/client.js';
import { objectKey, splitObjectKey } from '../../client/client.js';
import type { Clock } from '../../client/clock.js';
import { isNotFound } from '../../client/errors.js';
import type { HandlerRegistration, Logger, SharedInformerFactory } from '../../client/informer.js';
import { dropManagedFields, objectFromDeleted, SharedIndexInformer } from '../../client/informer.js';
import { RateLimitingQueue } from '../../client/workqueue.js';
import { runController, type Controller } from '../framework/controller.js';
import { canListWatchDelete, discoverResources, type DiscoveredResource } from '../framework/discovery.js';

export const ownerUidIndex = 'ownerUid';
export const foregroundDeletionFinalizer = 'foregroundDeletion';
export const orphanFinalizer = 'orphan';

/** Objects indexed by every owner they name (controller or not). */
export function ownerUidIndexFunc(obj: KubeObject): string[] {
  return (obj.metadata.ownerReferences ?? []).map((r) => r.uid);
}

/** Kubernetes' garbage collector ignores Events: they are many, short-lived and never owned. */
const ignoredResources = new Set(['/events', 'events.k8s.io/events']);

export interface GarbageCollectorOptions {
  client: Client;
  informerFactory: SharedInformerFactory;
  clock: Clock;
  workers?: number;
  logger?: Logger;
  /** Resources to watch, fixed; discovered from the API server (and rediscovered) when omitted. */
  resources?: DiscoveredResource[];
  /** How often discovery is read again so custom resources added later are collected (Kubernetes: 30 s). */
  rediscoveryPeriodMs?: number;
  /** Also rediscover as soon as a CustomResourceDefinition changes (default true). */
  watchCustomResourceDefinitions?: boolean;
  discover?: (client: Client) => Promise<DiscoveredResource[]>;
}

interface Watched {
  resource: DiscoveredResource;
  informer: SharedIndexInformer;
  registration: HandlerRegistration;
  /** Set for monitors started after the first discovery: they are ours alone to stop. */
  stop?: AbortController;
}

const crdResource = { group: 'apiextensions.k8s.io', version: 'v1', resource: 'customresourcedefinitions', namespaced: false };

export function createGarbageCollector(options: GarbageCollectorOptions): Controller {
  const { client, clock } = options;
  const log = options.logger ?? (() => undefined);
  const queue = new RateLimitingQueue<string>({ clock });
  const watched = new Map<string, Watched>();
  /** uid → where the object lives, so an owner seen in any cache can be found by uid. */
  const byUid = new Map<string, { id: string; key: string }>();
  let ready = false;

  const idOf = (r: DiscoveredResource) => `${r.group}/${r.resource}`;
  const itemKey = (id: string, obj: KubeObject) => `${id}|${objectKey(obj)}`;

  function resourceForOwner(ref: OwnerReference): DiscoveredResource | undefined {
    const slash = ref.apiVersion.lastIndexOf('/');
    const group = slash < 0 ? '' : ref.apiVersion.slice(0, slash);
    for (const w of watched.values()) if (w.resource.group === group && w.resource.kind === ref.kind) return w.resource;
    return undefined;
  }

  function dependentsOf(uid: string): { id: string; obj: KubeObject }[] {
    const out: { id: string; obj: KubeObject }[] = [];
    for (const [id, w] of watched) for (const obj of w.informer.getIndexer().byIndex(ownerUidIndex, uid)) out.push({ id, obj });
    return out;
  }

  function enqueueByUid(uid: string): void {
    const where = byUid.get(uid);
    if (where) queue.add(`${where.id}|${where.key}`);
  }

  function needsAttention(obj: KubeObject): boolean {
    const finalizers = obj.metadata.finalizers ?? [];
    return (obj.metadata.ownerReferences?.length ?? 0) > 0 || (!!obj.metadata.deletionTimestamp && (finalizers.includes(orphanFinalizer) || finalizers.includes(foregroundDeletionFinalizer)));
  }

  /**
   * Starts a monitor. The first discovery's resources share the factory's caches with the other
   * controllers; later ones (custom resources) get a private informer, so the monitor can be
   * stopped when its resource leaves discovery without stopping anyone else's cache.
   */
  function watch(resource: DiscoveredResource, runningSignal?: AbortSignal): void {
    const id = idOf(resource);
    if (watched.has(id)) return;
    let informer: SharedIndexInformer;
    let stop: AbortController | undefined;
    if (runningSignal) {
      informer = new SharedIndexInformer(client.resource(resource), { clock, logger: log, indexers: { [ownerUidIndex]: ownerUidIndexFunc }, transform: dropManagedFields });
      stop = new AbortController();
      runningSignal.addEventListener('abort', () => stop!.abort(), { once: true });
      informer.run(stop.signal).catch((err) => log('error', 'monitor stopped', { controller: 'garbage-collector', resource: resource.resource, error: String(err) }));
    } else {
      informer = options.informerFactory.forResource(resource, { indexers: { [ownerUidIndex]: ownerUidIndexFunc } });
    }
    const registration = informer.addEventHandler({
      onAdd(obj) {
        byUid.set(obj.metadata.uid!, { id, key: objectKey(obj) });
        if (needsAttention(obj)) queue.add(itemKey(id, obj));
      },
      onUpdate(old, obj) {
        byUid.set(obj.metadata.uid!, { id, key: objectKey(obj) });
        // Only changes to the owner graph or to deletion matter: a pod's status churn must not cost owner lookups.
        const graphChanged =
          JSON.stringify(old.metadata.ownerReferences ?? []) !== JSON.stringify(obj.metadata.ownerReferences ?? []) ||
          old.metadata.deletionTimestamp !== obj.metadata.deletionTimestamp ||
          JSON.stringify(old.metadata.finalizers ?? []) !== JSON.stringify(obj.metadata.finalizers ?? []) ||
          old.metadata.resourceVersion === obj.metadata.resourceVersion;
        if (graphChanged && needsAttention(obj)) queue.add(itemKey(id, obj));
        // Owners that were dropped or unblocked may be waiting for this dependent.
        for (const ref of old.metadata.ownerReferences ?? []) enqueueByUid(ref.uid);
      },
      onDelete(deleted) {
        const obj = objectFromDeleted(deleted);
        byUid.delete(obj.metadata.uid!);
        // Its dependents may now be garbage; its owners may be waiting for it to go.
        for (const dep of dependentsOf(obj.metadata.uid!)) queue.add(itemKey(dep.id, dep.obj));
        for (const ref of obj.metadata.ownerReferences ?? []) enqueueByUid(ref.uid);
      },
    });
    watched.set(id, { resource, informer, registration, stop });
  }

  function unwatch(id: string): void {
    const w = watched.get(id);
    if (!w) return;
    w.registration.remove();
    w.stop?.abort();
    watched.delete(id);
    for (const [uid, where] of byUid) if (where.id === id) byUid.delete(uid);
  }

  const wanted = (r: DiscoveredResource) => canListWatchDelete(r) && !ignoredResources.has(`${r.group}/${r.resource}`);
  const discover = () => (options.discover ?? discoverResources)(client);

  /** Resync with discovery: monitors for new resources, none for removed ones. */
  async function rediscover(signal: AbortSignal): Promise<void> {
    const resources = (await discover()).filter(wanted);
    if (signal.aborted) return;
    const ids = new Set(resources.map(idOf));
    for (const r of resources) {
      if (watched.has(idOf(r))) continue;
      log('info', 'monitoring new resource', { controller: 'garbage-collector', resource: idOf(r) });
      watch(r, signal);
    }
    for (const id of [...watched.keys()]) {
      if (ids.has(id)) continue;
      log('info', 'resource left discovery; monitor stopped', { controller: 'garbage-collector', resource: id });
      unwatch(id);
    }
  }

  /** Runs rediscovery one at a time; a request while one runs schedules exactly one more. */
  function rediscoveryLoop(signal: AbortSignal): () => void {
    let running = false;
    let again = false;
    const run = async () => {
      if (running) {
        again = true;
        return;
      }
      running = true;
      try {
        do {
          again = false;
          try {
            await rediscover(signal);
          } catch (err) {
            log('warn', 'rediscovery failed', { controller: 'garbage-collector', error: String(err) });
          }
        } while (again && !signal.aborted);
      } finally {
        running = false;
      }
    };
    const period = options.rediscoveryPeriodMs ?? 30_000;
    let timer: ReturnType<Clock['setTimeout']> | undefined;
    const tick = () => {
      timer = clock.setTimeout(() => {
        if (signal.aborted) return;
        void run().finally(() => !signal.aborted && tick());
      }, period);
    };
    tick();
    signal.addEventListener('abort', () => timer && clock.clearTimeout(timer), { once: true });
    return () => void run();
  }

  type OwnerState = 'solid' | 'dangling' | 'waitingForDependentsDeletion' | 'unknown';

  /** Classifies one owner with a live read (the cache may lag). */
  async function ownerState(dependent: KubeObject, ref: OwnerReference): Promise<OwnerState> {
    const resource = resourceForOwner(ref);
    if (!resource) return 'unknown';
    try {
      const owner = await client.resource(resource).get(resource.namespaced ? dependent.metadata.namespace : undefined, ref.name);
      if (owner.metadata.uid !== ref.uid) return 'dangling';
      if (owner.metadata.deletionTimestamp && owner.metadata.finalizers?.includes(foregroundDeletionFinalizer)) return 'waitingForDependentsDeletion';
      return 'solid';
    } catch (err) {
      if (isNotFound(err)) return 'dangling';
      throw err;
    }
  }

  async function patchMetadata(w: Watched, obj: KubeObject, metadata: Record<string, unknown>): Promise<void> {
    try {
      await client.resource(w.resource).patch(obj.metadata.namespace, obj.metadata.name!, 'merge', { metadata: { ...metadata, resourceVersion: obj.metadata.resourceVersion } });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  async function deleteObject(w: Watched, obj: KubeObject, propagationPolicy: 'Background' | 'Foreground' | 'Orphan'): Promise<void> {
    try {
      await client.resource(w.resource).delete(obj.metadata.namespace, obj.metadata.name!, { propagationPolicy, preconditions: { uid: obj.metadata.uid } });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  async function removeFinalizer(w: Watched, obj: KubeObject, finalizer: string): Promise<void> {
    const remaining = (obj.metadata.finalizers ?? []).filter((f) => f !== finalizer);
    await patchMetadata(w, obj, { finalizers: remaining.length ? remaining : null });
  }

  /** The `orphan` finalizer: dependents keep running, without this owner. */
  async function orphanDependents(w: Watched, owner: KubeObject): Promise<void> {
    for (const dep of dependentsOf(owner.metadata.uid!)) {
      const refs = (dep.obj.metadata.ownerReferences ?? []).filter((r) => r.uid !== owner.metadata.uid);
      await patchMetadata(watched.get(dep.id)!, dep.obj, { ownerReferences: refs.length ? refs : null });
    }
    await removeFinalizer(w, owner, orphanFinalizer);
  }

  /** The `foregroundDeletion` finalizer: delete dependents, let the owner go once no blocking one is left. */
  async function deleteDependentsFirst(w: Watched, owner: KubeObject): Promise<void> {
    const uid = owner.metadata.uid!;
    let blocking = 0;
    for (const dep of dependentsOf(uid)) {
      const ref = dep.obj.metadata.ownerReferences!.find((r) => r.uid === uid)!;
      if (ref.blockOwnerDeletion) blocking++;
      if (dep.obj.metadata.deletionTimestamp) continue;
      // A dependent that has dependents of its own is deleted in the foreground too, so the chain unwinds bottom-up.
      const policy = dependentsOf(dep.obj.metadata.uid!).length > 0 ? 'Foreground' : 'Background';
      await deleteObject(watched.get(dep.id)!, dep.obj, policy);
    }
    if (blocking === 0) await removeFinalizer(w, owner, foregroundDeletionFinalizer);
  }

  /** attemptToDeleteItem: is this dependent garbage? */
  async function attemptToDelete(w: Watched, obj: KubeObject): Promise<void> {
    const refs = obj.metadata.ownerReferences ?? [];
    if (!refs.length) return;
    // Owners present in our caches and not being deleted in the foreground are alive: no need to ask the server.
    const cachedOwner = (ref: OwnerReference) => {
      const where = byUid.get(ref.uid);
      const owner = where && watched.get(where.id)?.informer.getIndexer().get(where.key);
      return owner && owner.metadata.uid === ref.uid ? owner : undefined;
    };
    if (refs.every((ref) => {
      const owner = cachedOwner(ref);
      return owner && !(owner.metadata.deletionTimestamp && owner.metadata.finalizers?.includes(foregroundDeletionFinalizer));
    })) return;
    const solid: OwnerReference[] = [];
    const dangling: OwnerReference[] = [];
    const waiting: OwnerReference[] = [];
    for (const ref of refs) {
      const state = await ownerState(obj, ref);
      if (state === 'solid' || state === 'unknown') solid.push(ref);
      else if (state === 'dangling') dangling.push(ref);
      else waiting.push(ref);
    }
    if (solid.length) {
      if (!dangling.length && !waiting.length) return;
      // Still owned by someone: drop the dead owners, and stop blocking owners waiting on us.
      const danglingUids = new Set(dangling.map((r) => r.uid));
      const waitingUids = new Set(waiting.map((r) => r.uid));
      const next = refs.filter((r) => !danglingUids.has(r.uid)).map((r) => (waitingUids.has(r.uid) && r.blockOwnerDeletion ? { ...r, blockOwnerDeletion: false } : r));
      await patchMetadata(w, obj, { ownerReferences: next });
      return;
    }
    const finalizers = obj.metadata.finalizers ?? [];
    let policy: 'Background' | 'Foreground' | 'Orphan';
    if (waiting.length && dependentsOf(obj.metadata.uid!).length) policy = 'Foreground';
    else if (finalizers.includes(orphanFinalizer)) policy = 'Orphan';
    else if (finalizers.includes(foregroundDeletionFinalizer)) policy = 'Foreground';
    else policy = 'Background';
    await deleteObject(w, obj, policy);
  }

  async function reconcile(key: string): Promise<void> {
    const bar = key.indexOf('|');
    const w = watched.get(key.slice(0, bar));
    if (!w) return;
    const { namespace, name } = splitObjectKey(key.slice(bar + 1));
    const obj = w.informer.getIndexer().getByName(namespace, name);
    if (!obj) return;
    const finalizers = obj.metadata.finalizers ?? [];
    if (obj.metadata.deletionTimestamp) {
      if (finalizers.includes(orphanFinalizer)) return orphanDependents(w, obj);
      if (finalizers.includes(foregroundDeletionFinalizer)) {
        await deleteDependentsFirst(w, obj);
        // Its own owners may be gone too; that changes nothing for an object already going.
        return;
      }
      return;
    }
    await attemptToDelete(w, obj);
  }

  return {
    name: 'garbage-collector',
    reconcile,
    hasSynced: () => ready && [...watched.values()].every((w) => w.informer.hasSynced()),
    async start(signal) {
      try {
        const resources = options.resources ?? (await discover());
        for (const r of resources) if (wanted(r)) watch(r);
        if (!options.resources) {
          const trigger = rediscoveryLoop(signal);
          if (options.watchCustomResourceDefinitions ?? true) {
            // A new CRD is served once Established: its update events tell us when to look again.
            options.informerFactory.forResource(crdResource).addEventHandler({ onAdd: trigger, onUpdate: trigger, onDelete: trigger });
          }
        }
        ready = true;
        await runController({ name: 'garbage-collector', queue, informers: [...watched.values()].map((w) => w.informer), reconcile, workers: options.workers ?? 5, signal, logger: log });
      } catch (err) {
        log('error', 'controller stopped', { controller: 'garbage-collector', error: String(err) });
      }
    },
  };
}
