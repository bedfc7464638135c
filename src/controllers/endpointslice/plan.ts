// Turning desired endpoints into as few EndpointSlice writes as possible (kube's reconciler):
// an endpoint stays in the slice it is already in; new endpoints fill existing slices before
// new ones are made; emptied slices go; a Service with no endpoints keeps one empty
// placeholder slice so consumers can tell "no endpoints" from "not processed yet".
import type { KubeObject } from '../../api/types.js';
import {
  controllerName,
  endpointIdentity,
  headlessLabel,
  managedByLabel,
  maxEndpointsPerSlice,
  serviceNameLabel,
  slicePortsKey,
  type AddressType,
  type PortSetEndpoints,
  type SliceEndpoint,
  type SlicePort,
} from './desired.js';

export interface SlicePlan {
  create: KubeObject[];
  update: KubeObject[];
  delete: KubeObject[];
}

/** Labels a managed slice carries: the Service's own, plus the two the API documents. */
export function sliceLabels(service: KubeObject): Record<string, string> {
  const labels: Record<string, string> = { ...(service.metadata.labels ?? {}) };
  delete labels[headlessLabel];
  if (service.spec?.clusterIP === 'None') labels[headlessLabel] = '';
  labels[serviceNameLabel] = service.metadata.name!;
  labels[managedByLabel] = controllerName;
  return labels;
}

function ownerReference(service: KubeObject) {
  return { apiVersion: 'v1', kind: 'Service', name: service.metadata.name!, uid: service.metadata.uid!, controller: true, blockOwnerDeletion: true };
}

/** Slice names as kube generates them: "<service>-" plus a random suffix, within 63 characters. */
export function sliceGenerateName(serviceName: string): string {
  return `${serviceName.slice(0, 57)}-`;
}

function newSlice(service: KubeObject, addressType: AddressType, ports: SlicePort[], endpoints: SliceEndpoint[]): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      generateName: sliceGenerateName(service.metadata.name!),
      namespace: service.metadata.namespace,
      labels: sliceLabels(service),
      ownerReferences: [ownerReference(service)],
    },
    addressType,
    endpoints,
    ports,
  };
}

function normalEndpoint(e: any): string {
  return JSON.stringify([
    e.addresses ?? [],
    e.conditions?.ready ?? null,
    e.conditions?.serving ?? null,
    e.conditions?.terminating ?? null,
    e.hostname ?? '',
    e.nodeName ?? '',
    e.zone ?? '',
    e.targetRef?.kind ?? '',
    e.targetRef?.namespace ?? '',
    e.targetRef?.name ?? '',
    e.targetRef?.uid ?? '',
  ]);
}

function sameLabels(a: Record<string, string> | undefined, b: Record<string, string>): boolean {
  const ka = Object.keys(a ?? {});
  return ka.length === Object.keys(b).length && ka.every((k) => a![k] === b[k]);
}

function ownedBy(slice: KubeObject, service: KubeObject): boolean {
  return (slice.metadata.ownerReferences ?? []).some((r: any) => r.kind === 'Service' && r.uid === service.metadata.uid && r.controller);
}

/**
 * The writes that take `existing` (the slices this controller manages for the Service) to
 * `desired` (per address family, grouped by port list).
 */
export function planSlices(service: KubeObject, desired: Map<AddressType, PortSetEndpoints[]>, existing: KubeObject[]): SlicePlan {
  const plan: SlicePlan = { create: [], update: [], delete: [] };
  const labels = sliceLabels(service);
  const sortedExisting = [...existing].sort((a, b) => (a.metadata.name! < b.metadata.name! ? -1 : 1));
  // Slices of an earlier Service with the same name (other uid) are never reused.
  const candidates = sortedExisting.filter((s) => ownedBy(s, service));
  for (const s of sortedExisting) if (!ownedBy(s, service)) plan.delete.push(s);
  const unclaimed = new Set(candidates);
  let kept = 0;

  for (const [family, groups] of desired) {
    for (const group of groups) {
      const want = new Map(group.endpoints.map((e) => [endpointIdentity(e), e]));
      const placed = new Set<string>();
      const slots: { slice?: KubeObject; endpoints: SliceEndpoint[] }[] = [];
      for (const slice of candidates) {
        if (!unclaimed.has(slice) || slice.addressType !== family || slicePortsKey(slice) !== group.key) continue;
        unclaimed.delete(slice);
        const endpoints: SliceEndpoint[] = [];
        for (const e of slice.endpoints ?? []) {
          const id = endpointIdentity(e);
          const w = want.get(id);
          if (w && !placed.has(id) && endpoints.length < maxEndpointsPerSlice) {
            placed.add(id);
            endpoints.push(w);
          }
        }
        slots.push({ slice, endpoints });
      }
      const remaining = group.endpoints.filter((e) => !placed.has(endpointIdentity(e)));
      for (const slot of slots) while (slot.endpoints.length < maxEndpointsPerSlice && remaining.length > 0) slot.endpoints.push(remaining.shift()!);
      while (remaining.length > 0) slots.push({ endpoints: remaining.splice(0, maxEndpointsPerSlice) });
      for (const slot of slots) {
        if (!slot.slice) {
          plan.create.push(newSlice(service, family, group.ports, slot.endpoints));
          kept++;
        } else if (slot.endpoints.length === 0) {
          plan.delete.push(slot.slice);
        } else {
          kept++;
          const s = slot.slice;
          const changed =
            !sameLabels(s.metadata.labels, labels) ||
            (s.endpoints ?? []).length !== slot.endpoints.length ||
            (s.endpoints ?? []).some((e: any, i: number) => normalEndpoint(e) !== normalEndpoint(slot.endpoints[i]));
          if (changed) plan.update.push({ ...s, metadata: { ...s.metadata, labels }, endpoints: slot.endpoints, ports: group.ports });
        }
      }
    }
  }
  const leftovers = candidates.filter((s) => unclaimed.has(s));
  if (kept === 0) {
    // No endpoints at all: keep (or make) exactly one empty placeholder slice.
    const family = [...desired.keys()][0] ?? 'IPv4';
    const reusable = leftovers.find((s) => s.addressType === family) ?? plan.delete.find((s) => ownedBy(s, service) && s.addressType === family);
    if (reusable) {
      plan.delete = plan.delete.filter((s) => s !== reusable);
      const index = leftovers.indexOf(reusable);
      if (index >= 0) leftovers.splice(index, 1);
      const isPlaceholder = (reusable.endpoints ?? []).length === 0 && (reusable.ports ?? []).length === 0 && sameLabels(reusable.metadata.labels, labels);
      if (!isPlaceholder) plan.update.push({ ...reusable, metadata: { ...reusable.metadata, labels }, endpoints: [], ports: [] });
    } else {
      plan.create.push(newSlice(service, family, [], []));
    }
  }
  plan.delete.push(...leftovers);
  return plan;
}
