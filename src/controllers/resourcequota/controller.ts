// The resource quota controller: keeps each ResourceQuota's status.hard (a copy of spec.hard)
// and status.used (what the namespace's objects use of every resource the quota limits)
// current. The admission plugin (admission.ts) charges new objects against status.used as they
// are created; this controller corrects it from the real objects (for example after a delete)
// on every change and at least every 5 minutes, as --resource-quota-sync-period does.
import type { KubeObject } from '../../api/types.js';
import type { Client, ResourceRef } from '../../client/client.js';
import { objectKey, splitObjectKey } from '../../client/client.js';
import type { Clock } from '../../client/clock.js';
import { isNotFound } from '../../client/errors.js';
import type { Logger, SharedIndexInformer, SharedInformerFactory } from '../../client/informer.js';
import { objectFromDeleted } from '../../client/informer.js';
import { RateLimitingQueue } from '../../client/workqueue.js';
import { queueController, type Controller, type ReconcileResult } from '../framework/controller.js';
import { addUsage, countedResources, usageOf, usedFor, type Usage } from './usage.js';

export const resourceQuotasResource: ResourceRef = { group: '', version: 'v1', resource: 'resourcequotas', namespaced: true, kind: 'ResourceQuota' };

export interface ResourceQuotaControllerOptions {
  client: Client;
  informerFactory: SharedInformerFactory;
  clock: Clock;
  /** Full recalculation period (default 5 minutes). */
  resyncPeriodMs?: number;
  workers?: number;
  logger?: Logger;
}

export function createResourceQuotaController(options: ResourceQuotaControllerOptions): Controller {
  const { client, clock } = options;
  const log = options.logger ?? (() => undefined);
  const resyncMs = options.resyncPeriodMs ?? 5 * 60_000;
  const quotas = options.informerFactory.forResource(resourceQuotasResource);
  const counted = new Map<string, SharedIndexInformer<KubeObject>>();
  for (const [key, r] of Object.entries(countedResources)) {
    if (key === 'resourcequotas') continue;
    counted.set(key, options.informerFactory.forResource({ group: r.group, version: 'v1', resource: r.resource, namespaced: true, kind: r.kind }));
  }
  const quotaClient = client.resource(resourceQuotasResource);
  const queue = new RateLimitingQueue<string>({ clock });

  quotas.addEventHandler({ onAdd: (q) => queue.add(objectKey(q)), onUpdate: (_o, q) => queue.add(objectKey(q)) });
  const enqueueNamespace = (obj: KubeObject) => {
    for (const q of quotas.getIndexer().listByNamespace(obj.metadata.namespace!)) queue.add(objectKey(q));
  };
  for (const informer of counted.values()) {
    informer.addEventHandler({ onAdd: enqueueNamespace, onUpdate: (_o, n) => enqueueNamespace(n), onDelete: (o) => enqueueNamespace(objectFromDeleted(o)) });
  }

  function namespaceUsage(namespace: string): Usage {
    const usage: Usage = {};
    for (const [key, informer] of counted) for (const obj of informer.getIndexer().listByNamespace(namespace)) addUsage(usage, usageOf(key, obj));
    const quotaCount = quotas.getIndexer().listByNamespace(namespace).length;
    return addUsage(usage, { resourcequotas: quotaCount, 'count/resourcequotas': quotaCount });
  }

  async function reconcile(key: string): Promise<ReconcileResult | void> {
    const { namespace, name } = splitObjectKey(key);
    const quota = quotas.getIndexer().getByName(namespace, name);
    if (!quota) return;
    const hard: Record<string, unknown> = quota.spec?.hard ?? {};
    const status = { ...quota.status, hard, used: usedFor(hard, namespaceUsage(namespace!)) };
    if (JSON.stringify(status) !== JSON.stringify(quota.status ?? {})) {
      try {
        await quotaClient.updateStatus({ ...quota, status });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    return { requeueAfterMs: resyncMs };
  }

  const informers = [quotas, ...counted.values()];
  return queueController({ name: 'resourcequota', queue, informers, reconcile, workers: options.workers ?? 2, logger: log });
}
