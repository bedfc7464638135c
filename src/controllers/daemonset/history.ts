// ControllerRevisions as DaemonSets and StatefulSets keep them (k8s.io/kubernetes/pkg/controller/history):
// one immutable snapshot of the pod template per distinct template, named `<owner>-<hash>`,
// labelled `controller-revision-hash`, numbered by `revision`; the highest number is current.
// Rolling back to an older template re-numbers its revision instead of creating a duplicate.
import type { KubeObject } from '../../api/types.js';
import type { Client, ResourceRef } from '../../client/client.js';
import { isAlreadyExists, isNotFound } from '../../client/errors.js';
import { newControllerRef, getControllerOf } from '../framework/controller-ref.js';
import { canonicalJson } from '../../util/json.js';
import { computeTemplateHash } from '../deployment/hash.js';

export const controllerRevisionHashLabel = 'controller-revision-hash';
export const controllerRevisionsResource: ResourceRef = { group: 'apps', version: 'v1', resource: 'controllerrevisions', namespaced: true, kind: 'ControllerRevision' };

/** What a revision records: the owner's spec.template, as the `$patch: replace` patch Kubernetes stores. */
export function revisionData(owner: KubeObject): any {
  return { spec: { template: { ...structuredClone(owner.spec?.template ?? {}), $patch: 'replace' } } };
}

export function revisionHash(owner: KubeObject): string {
  return computeTemplateHash(owner.spec?.template ?? {}, owner.status?.collisionCount);
}

export function revisionsOwnedBy(all: KubeObject[], owner: KubeObject): KubeObject[] {
  return all.filter((r) => getControllerOf(r)?.uid === owner.metadata.uid).sort((a, b) => (a.revision ?? 0) - (b.revision ?? 0) || a.metadata.name!.localeCompare(b.metadata.name!));
}

const sameData = (a: KubeObject, b: any) => canonicalJson(a.data) === canonicalJson(b);

/**
 * The revision for the owner's current template, created (or re-numbered to the newest) when
 * needed. `revisions` are the owner's revisions, oldest first.
 */
export async function ensureCurrentRevision(client: Client, owner: KubeObject, ownerKind: { apiVersion: string; kind: string }, revisions: KubeObject[]): Promise<KubeObject> {
  const api = client.resource(controllerRevisionsResource);
  const data = revisionData(owner);
  const hash = revisionHash(owner);
  const maxRevision = revisions.reduce((m, r) => Math.max(m, r.revision ?? 0), 0);
  const existing = revisions.find((r) => sameData(r, data)) ?? revisions.find((r) => r.metadata.labels?.[controllerRevisionHashLabel] === hash);
  if (existing) {
    if ((existing.revision ?? 0) === maxRevision) return existing;
    return api.update({ ...existing, revision: maxRevision + 1 });
  }
  const revision: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: {
      name: `${owner.metadata.name}-${hash}`,
      namespace: owner.metadata.namespace,
      labels: { ...(owner.spec?.selector?.matchLabels ?? owner.spec?.template?.metadata?.labels ?? {}), [controllerRevisionHashLabel]: hash },
      ownerReferences: [newControllerRef(owner, ownerKind.apiVersion, ownerKind.kind)],
    },
    data,
    revision: maxRevision + 1,
  };
  try {
    return await api.create(owner.metadata.namespace, revision);
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
    // Left behind by an earlier sync whose cache had not caught up: use it if it is ours and equal.
    const found = await api.get(owner.metadata.namespace, revision.metadata.name!);
    if (getControllerOf(found)?.uid === owner.metadata.uid && sameData(found, data)) {
      return (found.revision ?? 0) === maxRevision ? found : api.update({ ...found, revision: Math.max(maxRevision + 1, found.revision ?? 0) });
    }
    throw err;
  }
}

/** Deletes the oldest revisions beyond `limit` that no live pod still runs (`inUse` hashes) and that are not `keep`. */
export async function truncateHistory(client: Client, revisions: KubeObject[], keep: Set<string>, inUse: Set<string>, limit: number): Promise<void> {
  const api = client.resource(controllerRevisionsResource);
  const removable = revisions.filter((r) => !keep.has(r.metadata.name!) && !inUse.has(r.metadata.labels?.[controllerRevisionHashLabel] ?? ''));
  const excess = removable.length - Math.max(0, limit);
  for (const r of removable.slice(0, Math.max(0, excess))) {
    await api.delete(r.metadata.namespace, r.metadata.name!, { preconditions: { uid: r.metadata.uid } }).catch((err) => {
      if (!isNotFound(err)) throw err;
    });
  }
}

/** The template a revision recorded (the `$patch` directive stripped). */
export function templateOfRevision(revision: KubeObject): any {
  const { $patch: _patch, ...template } = revision.data?.spec?.template ?? {};
  return template;
}
