// Two small controllers Kubernetes runs for every namespace:
//  - serviceaccount-controller: a "default" ServiceAccount exists in every active namespace;
//  - root-ca-cert-publisher: a "kube-root-ca.crt" ConfigMap holds the cluster CA (ca.crt) in
//    every active namespace, put back as it should be if someone edits or deletes it.
import type { KubeObject } from '../../api/types.js';
import type { Client } from '../../client/client.js';
import type { Clock } from '../../client/clock.js';
import { isAlreadyExists, isNotFound } from '../../client/errors.js';
import type { Logger, SharedInformerFactory } from '../../client/informer.js';
import { objectFromDeleted } from '../../client/informer.js';
import { RateLimitingQueue } from '../../client/workqueue.js';
import { runController, type Controller } from '../framework/controller.js';
import { configMapsResource, namespacesResource, serviceAccountsResource } from '../framework/resources.js';

export const defaultServiceAccountName = 'default';
export const rootCaConfigMapName = 'kube-root-ca.crt';
export const rootCaDescription =
  'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.';

interface Options {
  client: Client;
  informerFactory: SharedInformerFactory;
  clock: Clock;
  workers?: number;
  logger?: Logger;
}

const active = (ns: KubeObject | undefined) => !!ns && !ns.metadata.deletionTimestamp && ns.status?.phase !== 'Terminating';

function namespaceQueue(options: Options, watchedName: string, watched: ReturnType<SharedInformerFactory['forResource']>) {
  const queue = new RateLimitingQueue<string>({ clock: options.clock });
  const namespaces = options.informerFactory.forResource(namespacesResource);
  namespaces.addEventHandler({ onAdd: (ns) => queue.add(ns.metadata.name!), onUpdate: (_o, ns) => queue.add(ns.metadata.name!) });
  const byObject = (obj: KubeObject) => obj.metadata.name === watchedName && queue.add(obj.metadata.namespace!);
  watched.addEventHandler({ onUpdate: (_o, obj) => byObject(obj), onDelete: (d) => byObject(objectFromDeleted(d)) });
  return { queue, namespaces };
}

export function createServiceAccountsController(options: Options): Controller {
  const log = options.logger ?? (() => undefined);
  const serviceAccounts = options.informerFactory.forResource(serviceAccountsResource);
  const { queue, namespaces } = namespaceQueue(options, defaultServiceAccountName, serviceAccounts);
  const saClient = options.client.resource(serviceAccountsResource);

  async function reconcile(namespace: string): Promise<void> {
    if (!active(namespaces.getIndexer().getByName(undefined, namespace))) return;
    if (serviceAccounts.getIndexer().getByName(namespace, defaultServiceAccountName)) return;
    try {
      await saClient.create(namespace, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: defaultServiceAccountName, namespace } });
    } catch (err) {
      // Already there (cache lag), or the namespace went away meanwhile.
      if (isAlreadyExists(err) || isNotFound(err)) return;
      if ((err as { code?: number }).code === 403) return;
      throw err;
    }
  }

  return {
    name: 'serviceaccount',
    reconcile,
    hasSynced: () => namespaces.hasSynced() && serviceAccounts.hasSynced(),
    start: (signal) =>
      runController({ name: 'serviceaccount', queue, informers: [namespaces, serviceAccounts], reconcile, workers: options.workers ?? 2, signal, logger: log }).catch((err) => {
        log('error', 'controller stopped', { controller: 'serviceaccount', error: String(err) });
      }),
  };
}

export function createRootCaPublisher(options: Options & { caPem: string }): Controller {
  const log = options.logger ?? (() => undefined);
  // Only the one ConfigMap per namespace matters: watch just those, as Kubernetes does.
  const configMaps = options.informerFactory.forResource(configMapsResource, { fieldSelector: `metadata.name=${rootCaConfigMapName}` });
  const { queue, namespaces } = namespaceQueue(options, rootCaConfigMapName, configMaps);
  const cmClient = options.client.resource(configMapsResource);

  async function reconcile(namespace: string): Promise<void> {
    if (!active(namespaces.getIndexer().getByName(undefined, namespace))) return;
    const existing = configMaps.getIndexer().getByName(namespace, rootCaConfigMapName);
    try {
      if (!existing) {
        await cmClient.create(namespace, {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: rootCaConfigMapName, namespace, annotations: { 'kubernetes.io/description': rootCaDescription } },
          data: { 'ca.crt': options.caPem },
        });
        return;
      }
      const data = existing.data ?? {};
      const dataOk = Object.keys(data).length === 1 && data['ca.crt'] === options.caPem;
      const annotationOk = existing.metadata.annotations?.['kubernetes.io/description'] === rootCaDescription;
      if (dataOk && annotationOk) return;
      const updated = structuredClone(existing);
      updated.data = { 'ca.crt': options.caPem };
      updated.metadata.annotations = { ...(updated.metadata.annotations ?? {}), 'kubernetes.io/description': rootCaDescription };
      delete updated.binaryData;
      await cmClient.update(updated);
    } catch (err) {
      if (isAlreadyExists(err) || isNotFound(err)) return;
      if ((err as { code?: number }).code === 403) return; // namespace terminating
      throw err;
    }
  }

  return {
    name: 'root-ca-cert-publisher',
    reconcile,
    hasSynced: () => namespaces.hasSynced() && configMaps.hasSynced(),
    start: (signal) =>
      runController({ name: 'root-ca-cert-publisher', queue, informers: [namespaces, configMaps], reconcile, workers: options.workers ?? 2, signal, logger: log }).catch((err) => {
        log('error', 'controller stopped', { controller: 'root-ca-cert-publisher', error: String(err) });
      }),
  };
}
