// Kubernetes' PodControllerRefManager.ClaimPods, shared by the ReplicaSet, DaemonSet and
// StatefulSet controllers: a controller adopts orphans it selects and releases pods it owns but
// no longer selects, so ownership always follows the selector.
import type { KubeObject } from '../../api/types.js';
import { matches, type Selector } from '../../api/selectors/labels.js';
import type { ResourceClient } from '../../client/client.js';
import { isNotFound } from '../../client/errors.js';
import { getControllerOf, newControllerRef } from './controller-ref.js';

export interface PodClaim {
  owner: KubeObject;
  apiVersion: string;
  kind: string;
  selector: Selector;
  /** Extra membership test beyond the selector (StatefulSet's isMemberOf); applies to release too. */
  filter?: (pod: KubeObject) => boolean;
  pods: ResourceClient;
  /** A live read of the owner (undefined when gone): Kubernetes' RecheckDeletionTimestamp. */
  getOwner: () => Promise<KubeObject | undefined>;
}

/** Returns the pods the owner manages after adopting and releasing; adoption happens at most after one live owner read. */
export async function claimPods(claim: PodClaim, candidates: KubeObject[]): Promise<KubeObject[]> {
  const { owner } = claim;
  const claimed: KubeObject[] = [];
  let adoptable: boolean | undefined;
  const wanted = (pod: KubeObject) => matches(claim.selector, pod.metadata.labels) && (claim.filter?.(pod) ?? true);
  for (const pod of candidates) {
    const ref = getControllerOf(pod);
    if (ref) {
      if (ref.uid !== owner.metadata.uid) continue;
      if (wanted(pod)) {
        claimed.push(pod);
        continue;
      }
      // A set being deleted leaves its pods to the garbage collector rather than orphaning them.
      if (owner.metadata.deletionTimestamp) continue;
      await releasePod(claim, pod);
      continue;
    }
    if (!wanted(pod) || owner.metadata.deletionTimestamp || pod.metadata.deletionTimestamp) continue;
    adoptable ??= await canAdopt(claim);
    if (!adoptable) continue;
    const adopted = await adoptPod(claim, pod);
    if (adopted) claimed.push(adopted);
  }
  return claimed;
}

/** The cached owner may be stale: adopt only for the same object (uid) that is not being deleted. */
async function canAdopt(claim: PodClaim): Promise<boolean> {
  const fresh = await claim.getOwner();
  return !!fresh && fresh.metadata.uid === claim.owner.metadata.uid && !fresh.metadata.deletionTimestamp;
}

/** The resourceVersion in the patch is a precondition: a pod changed since we looked is left for the next sync. */
async function adoptPod(claim: PodClaim, pod: KubeObject): Promise<KubeObject | undefined> {
  const refs = [...(pod.metadata.ownerReferences ?? []), newControllerRef(claim.owner, claim.apiVersion, claim.kind)];
  try {
    return await claim.pods.patch(pod.metadata.namespace, pod.metadata.name!, 'merge', {
      metadata: { ownerReferences: refs, uid: pod.metadata.uid, resourceVersion: pod.metadata.resourceVersion },
    });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

async function releasePod(claim: PodClaim, pod: KubeObject): Promise<void> {
  const refs = (pod.metadata.ownerReferences ?? []).filter((r) => r.uid !== claim.owner.metadata.uid);
  try {
    await claim.pods.patch(pod.metadata.namespace, pod.metadata.name!, 'merge', {
      metadata: { ownerReferences: refs.length ? refs : null, uid: pod.metadata.uid, resourceVersion: pod.metadata.resourceVersion },
    });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

/** getOwner for claimPods from a resource client: NotFound means gone. */
export function liveOwner(client: ResourceClient, owner: KubeObject): () => Promise<KubeObject | undefined> {
  return async () => {
    try {
      return await client.get(owner.metadata.namespace, owner.metadata.name!);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  };
}
