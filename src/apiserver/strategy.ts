// Per-kind storage behaviour that is not defaulting or validation: what create resets, which
// updates bump generation, which kinds may be created by PUT, how deletion proceeds — the
// "strategy" of Kubernetes' generic registry.
import type { KubeObject } from '../api/types.js';
import type { ServedResource } from './registry.js';
import { deepEqual } from '../util/json.js';

export interface Strategy {
  /** Status is owned by controllers: reset on create, ignored on main-resource updates. */
  statusSubresource: boolean;
  /** PUT of a missing object creates it. */
  allowCreateOnUpdate: boolean;
  /** PUT without metadata.resourceVersion overwrites whatever is there. */
  allowUnconditionalUpdate: boolean;
  /** Default propagation policy of DELETE. */
  defaultPropagation: 'Background' | 'Orphan' | 'Foreground';
  prepareForCreate?(obj: KubeObject): void;
  prepareForUpdate?(obj: KubeObject, old: KubeObject, subresource: string): void;
  /** Something other than metadata.finalizers still holds the object while it is deleted (a namespace's spec.finalizers). */
  pendingDeletion?(obj: KubeObject): boolean;
  /** Graceful deletion: return the grace period to apply, or 0 to delete now. */
  gracePeriod?(obj: KubeObject, requested: number | undefined): number;
}

const createOnUpdate = new Set(['Endpoints', 'Event', 'Event.events.k8s.io', 'Lease.coordination.k8s.io', 'EndpointSlice.discovery.k8s.io']);

export function strategyFor(resource: ServedResource): Strategy {
  const gk = resource.groupKind;
  const strategy: Strategy = {
    statusSubresource: (resource.subresources ?? []).includes('status'),
    allowCreateOnUpdate: createOnUpdate.has(gk) || (!!resource.custom && false),
    allowUnconditionalUpdate: true,
    defaultPropagation: gk === 'ReplicationController' ? 'Background' : 'Background',
  };
  switch (gk) {
    case 'Namespace':
      strategy.prepareForCreate = (obj) => {
        obj.spec = { ...(obj.spec ?? {}), finalizers: ['kubernetes'] };
        obj.status = { phase: 'Active' };
        // Kubernetes labels every namespace with its own name so namespaceSelectors can pick it.
        obj.metadata.labels = { ...(obj.metadata.labels ?? {}), 'kubernetes.io/metadata.name': obj.metadata.name! };
      };
      strategy.pendingDeletion = (obj) => (obj.spec?.finalizers?.length ?? 0) > 0;
      strategy.prepareForUpdate = (obj, old, subresource) => {
        obj.spec = old.spec; // spec.finalizers only change through /finalize
        if (subresource !== 'status') obj.status = old.status;
        obj.metadata.labels = { ...(obj.metadata.labels ?? {}), 'kubernetes.io/metadata.name': old.metadata.name! };
      };
      break;
    case 'Pod':
      strategy.prepareForCreate = (obj) => {
        obj.status = { phase: 'Pending', qosClass: podQosClass(obj) };
      };
      strategy.gracePeriod = (obj, requested) => {
        // An unscheduled pod, or one that never ran, goes at once; a running pod gets its grace period so the kubelet can stop it.
        if (!obj.spec?.nodeName) return 0;
        if (obj.status?.phase === 'Succeeded' || obj.status?.phase === 'Failed') return 0;
        if (requested !== undefined) return requested;
        return obj.spec?.terminationGracePeriodSeconds ?? 30;
      };
      break;
    case 'Job.batch':
      // Unless the user manages the selector, a Job selects its pods by its own uid.
      strategy.prepareForCreate = (obj) => {
        obj.status = {};
        const spec = (obj.spec ??= {});
        if (spec.manualSelector === true) return;
        const uid = obj.metadata.uid!;
        const name = obj.metadata.name!;
        spec.selector = { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } };
        const template = (spec.template ??= {});
        template.metadata ??= {};
        template.metadata.labels = {
          ...(template.metadata.labels ?? {}),
          'batch.kubernetes.io/controller-uid': uid,
          'batch.kubernetes.io/job-name': name,
          'controller-uid': uid,
          'job-name': name,
        };
      };
      break;
    case 'PersistentVolume':
      strategy.prepareForCreate = (obj) => {
        obj.status = { phase: 'Pending' };
      };
      break;
    case 'PersistentVolumeClaim':
      strategy.prepareForCreate = (obj) => {
        obj.status = { phase: 'Pending' };
      };
      break;
    case 'Node':
      strategy.statusSubresource = true;
      // Nodes may set their status on create (the kubelet registers with it).
      strategy.prepareForCreate = undefined;
      break;
    case 'CustomResourceDefinition.apiextensions.k8s.io':
      strategy.prepareForCreate = (obj) => {
        obj.status = { conditions: [], acceptedNames: { kind: '', plural: '' }, storedVersions: [] };
      };
      break;
  }
  return strategy;
}

/** Guaranteed when every container has equal cpu+memory requests and limits; BestEffort when none set any. */
export function podQosClass(pod: KubeObject): string {
  const containers = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  let any = false;
  let guaranteed = true;
  for (const c of containers) {
    const requests = c.resources?.requests ?? {};
    const limits = c.resources?.limits ?? {};
    if (Object.keys(requests).length || Object.keys(limits).length) any = true;
    for (const r of ['cpu', 'memory']) {
      const limit = limits[r];
      const request = requests[r] ?? limit;
      if (limit === undefined || String(request) !== String(limit)) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

/** Everything outside metadata and status is "spec" for generation purposes. */
export function specChanged(obj: KubeObject, old: KubeObject): boolean {
  const strip = (o: KubeObject) => {
    const { metadata: _m, status: _s, ...rest } = o;
    return rest;
  };
  return !deepEqual(strip(obj), strip(old));
}
