// The namespace controller: when a namespace is Terminating (deletionTimestamp set), delete
// every namespaced resource in it, report progress in Kubernetes' status conditions, and once
// nothing is left remove the "kubernetes" entry from spec.finalizers through
// PUT /api/v1/namespaces/{name}/finalize — after which the API server removes the namespace.
import type { KubeObject } from '../../api/types.js';
import type { Client } from '../../client/client.js';
import type { Clock } from '../../client/clock.js';
import { isConflict, isMethodNotAllowed, isNotFound } from '../../client/errors.js';
import type { Logger, SharedInformerFactory } from '../../client/informer.js';
import { RateLimitingQueue } from '../../client/workqueue.js';
import { runController, type Controller, type ReconcileResult } from '../framework/controller.js';
import { discoverResources, type DiscoveredResource } from '../framework/discovery.js';
import { formatTime } from '../framework/events.js';
import { namespacesResource } from '../framework/resources.js';

export const kubernetesFinalizer = 'kubernetes';

export interface NamespaceControllerOptions {
  client: Client;
  informerFactory: SharedInformerFactory;
  clock: Clock;
  workers?: number;
  logger?: Logger;
  /** Namespaced resources to empty; discovered on each sync when omitted (custom resources come and go). */
  resources?: () => Promise<DiscoveredResource[]>;
}

export interface ContentDeletionResult {
  /** Seconds until graceful deletions (pods) should have finished; 0 when none pending. */
  estimateSeconds: number;
  /** Remaining objects per "resource.group". */
  remaining: Map<string, number>;
  /** Remaining finalizers (on remaining objects) → how many objects carry each. */
  finalizers: Map<string, number>;
  errors: string[];
}

const groupResource = (r: DiscoveredResource) => `${r.resource}.${r.group}`;

/**
 * Deletes everything in `namespace` (deletecollection where served, else one by one) and
 * reports what is left. Kubernetes' NamespacedResourcesDeleter.deleteAllContent.
 */
export async function deleteNamespaceContent(client: Client, resources: DiscoveredResource[], namespace: string, nowMs: number): Promise<ContentDeletionResult> {
  const result: ContentDeletionResult = { estimateSeconds: 0, remaining: new Map(), finalizers: new Map(), errors: [] };
  for (const r of resources) {
    if (!r.namespaced || !r.verbs.includes('list') || !(r.verbs.includes('delete') || r.verbs.includes('deletecollection'))) continue;
    const rc = client.resource(r);
    try {
      if (r.verbs.includes('deletecollection')) {
        await rc.deleteCollection(namespace, {}, { propagationPolicy: 'Background' });
      } else {
        for (const item of (await rc.list(namespace)).items) {
          if (!item.metadata.deletionTimestamp) await rc.delete(namespace, item.metadata.name!, { propagationPolicy: 'Background' }).catch((err) => {
            if (!isNotFound(err)) throw err;
          });
        }
      }
      const left = (await rc.list(namespace)).items;
      if (!left.length) continue;
      result.remaining.set(groupResource(r), left.length);
      for (const item of left) {
        for (const f of item.metadata.finalizers ?? []) result.finalizers.set(f, (result.finalizers.get(f) ?? 0) + 1);
        // Pods terminating gracefully: expect them gone once their grace period passes.
        if (item.metadata.deletionTimestamp) {
          const seconds = Math.ceil((Date.parse(item.metadata.deletionTimestamp) - nowMs) / 1000);
          if (seconds > result.estimateSeconds) result.estimateSeconds = seconds;
        }
      }
    } catch (err) {
      if (isNotFound(err) || isMethodNotAllowed(err)) continue;
      result.errors.push(`${groupResource(r)}: ${(err as Error).message}`);
    }
  }
  return result;
}

interface Condition {
  type: string;
  status: 'True' | 'False';
  lastTransitionTime?: string;
  reason: string;
  message: string;
}

/** The five conditions Kubernetes keeps on a Terminating namespace, in its order. */
export function namespaceConditions(content: ContentDeletionResult | undefined, discoveryError?: string): Condition[] {
  const conditions: Condition[] = [];
  conditions.push(
    discoveryError
      ? { type: 'NamespaceDeletionDiscoveryFailure', status: 'True', reason: 'DiscoveryFailed', message: `Discovery failed for some groups: ${discoveryError}` }
      : { type: 'NamespaceDeletionDiscoveryFailure', status: 'False', reason: 'ResourcesDiscovered', message: 'All resources successfully discovered' },
  );
  conditions.push({ type: 'NamespaceDeletionGroupVersionParsingFailure', status: 'False', reason: 'ParsedGroupVersions', message: 'All legacy kube types successfully parsed' });
  if (!content) return conditions;
  conditions.push(
    content.errors.length
      ? { type: 'NamespaceDeletionContentFailure', status: 'True', reason: 'ContentDeletionFailed', message: `Failed to delete all resource types, ${content.errors.length} remaining: ${content.errors.join(', ')}` }
      : { type: 'NamespaceDeletionContentFailure', status: 'False', reason: 'ContentDeleted', message: 'All content successfully deleted, may be waiting on finalization' },
  );
  const remaining = [...content.remaining].sort(([a], [b]) => (a < b ? -1 : 1)).map(([gr, n]) => `${gr} has ${n} resource instances`);
  conditions.push(
    remaining.length
      ? { type: 'NamespaceContentRemaining', status: 'True', reason: 'SomeResourcesRemain', message: `Some resources are remaining: ${remaining.join(', ')}` }
      : { type: 'NamespaceContentRemaining', status: 'False', reason: 'ContentRemoved', message: 'All content successfully removed' },
  );
  const finalizers = [...content.finalizers].sort(([a], [b]) => (a < b ? -1 : 1)).map(([f, n]) => `${f} in ${n} resource instances`);
  conditions.push(
    finalizers.length
      ? { type: 'NamespaceFinalizersRemaining', status: 'True', reason: 'SomeFinalizersRemain', message: `Some content in the namespace has finalizers remaining: ${finalizers.join(', ')}` }
      : { type: 'NamespaceFinalizersRemaining', status: 'False', reason: 'ContentHasNoFinalizers', message: 'All content-preserving finalizers finished' },
  );
  return conditions;
}

export function createNamespaceController(options: NamespaceControllerOptions): Controller {
  const { client, clock } = options;
  const log = options.logger ?? (() => undefined);
  const namespaces = options.informerFactory.forResource(namespacesResource);
  const nsClient = client.resource(namespacesResource);
  const queue = new RateLimitingQueue<string>({ clock });
  const resources = options.resources ?? (() => discoverResources(client));

  namespaces.addEventHandler({
    onAdd: (ns) => ns.metadata.deletionTimestamp && queue.add(ns.metadata.name!),
    onUpdate: (_old, ns) => ns.metadata.deletionTimestamp && queue.add(ns.metadata.name!),
  });

  async function writeStatus(ns: KubeObject, conditions: Condition[]): Promise<KubeObject> {
    const now = formatTime(clock.now());
    const previous: Condition[] = ns.status?.conditions ?? [];
    const merged = conditions.map((c) => {
      const old = previous.find((p) => p.type === c.type);
      return { ...c, lastTransitionTime: old && old.status === c.status ? old.lastTransitionTime : now };
    });
    const status = { ...(ns.status ?? {}), phase: 'Terminating', conditions: merged };
    if (JSON.stringify(status) === JSON.stringify(ns.status)) return ns;
    try {
      return await nsClient.updateStatus({ ...ns, status });
    } catch (err) {
      if (isNotFound(err)) return ns;
      throw err;
    }
  }

  /** PUT .../finalize; where the server does not serve it, spec.finalizers through the main resource. */
  async function finalize(ns: KubeObject): Promise<void> {
    const body = { ...ns, spec: { ...(ns.spec ?? {}), finalizers: (ns.spec?.finalizers ?? []).filter((f: string) => f !== kubernetesFinalizer) } };
    try {
      await nsClient.updateSubresource(undefined, ns.metadata.name!, 'finalize', body);
    } catch (err) {
      if (isNotFound(err)) return;
      if (!isMethodNotAllowed(err)) throw err;
      log('warn', 'namespaces/finalize not served; updating spec.finalizers through the namespace', { namespace: ns.metadata.name });
      const updated = await nsClient.update(body);
      // Kubernetes keeps spec.finalizers out of reach of a plain update; so may our server.
      if ((updated.spec?.finalizers ?? []).includes(kubernetesFinalizer)) {
        throw new Error(`namespace ${ns.metadata.name}: the API server serves neither PUT /finalize nor spec.finalizers updates; it cannot be finalized`);
      }
    }
  }

  async function reconcile(name: string): Promise<ReconcileResult | void> {
    let ns: KubeObject;
    try {
      ns = await nsClient.get(undefined, name);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    if (!ns.metadata.deletionTimestamp) return;
    if (!(ns.spec?.finalizers ?? []).includes(kubernetesFinalizer)) return;
    let discovered: DiscoveredResource[];
    try {
      discovered = await resources();
    } catch (err) {
      await writeStatus(ns, namespaceConditions(undefined, (err as Error).message));
      throw err;
    }
    const content = await deleteNamespaceContent(client, discovered, name, clock.now());
    ns = await writeStatus(ns, namespaceConditions(content));
    if (content.errors.length) throw new Error(`namespace ${name}: ${content.errors.join('; ')}`);
    if (content.remaining.size) {
      // Kubernetes waits for graceful deletions to finish, then looks again.
      return { requeueAfterMs: Math.max(1, content.estimateSeconds) * 1000 };
    }
    try {
      await finalize(ns);
    } catch (err) {
      if (isConflict(err)) queue.add(name);
      else throw err;
    }
  }

  return {
    name: 'namespace',
    reconcile,
    hasSynced: () => namespaces.hasSynced(),
    start: (signal) =>
      runController({ name: 'namespace', queue, informers: [namespaces], reconcile, workers: options.workers ?? 2, signal, logger: log }).catch((err) => {
        log('error', 'controller stopped', { controller: 'namespace', error: String(err) });
      }),
  };
}
