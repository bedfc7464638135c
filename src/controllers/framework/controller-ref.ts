// Controller references: how a controller marks the objects it manages, as Kubernetes' metav1.
import type { KubeObject, OwnerReference } from '../../api/types.js';

export function getControllerOf(obj: KubeObject): OwnerReference | undefined {
  return obj.metadata.ownerReferences?.find((ref) => ref.controller === true);
}

/** controller=true so only one owner manages the object; blockOwnerDeletion so foreground deletion waits for it. */
export function newControllerRef(owner: KubeObject, apiVersion: string, kind: string): OwnerReference {
  return { apiVersion, kind, name: owner.metadata.name!, uid: owner.metadata.uid!, controller: true, blockOwnerDeletion: true };
}

export function isBeingDeleted(obj: KubeObject): boolean {
  return !!obj.metadata.deletionTimestamp;
}

/** Index function for "objects by the uid of their controller": one shared function so informers can share the index. */
export function controllerUidIndexFunc(obj: KubeObject): string[] {
  const ref = getControllerOf(obj);
  return ref ? [ref.uid] : [];
}
