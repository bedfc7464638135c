// Which PersistentVolume a claim may bind to, as the PV controller's findMatchingVolume
// (k8s.io/kubernetes/pkg/controller/volume/persistentvolume) decides it. Pure functions over
// plain objects so the rules can be table-tested without a server.
import type { KubeObject } from '../../api/types.js';
import { labelSelectorMatches } from '../../api/selectors/labels.js';
import { parseQuantity } from '../../api/validation/quantity.js';
import { nodeSelectorTermMatches, type NodeSelectorTerm } from '../../scheduler/plugins/node-affinity.js';

export const annBindCompleted = 'pv.kubernetes.io/bind-completed';
export const annBoundByController = 'pv.kubernetes.io/bound-by-controller';
export const annProvisionedBy = 'pv.kubernetes.io/provisioned-by';
export const annStorageProvisioner = 'volume.kubernetes.io/storage-provisioner';
export const annBetaStorageProvisioner = 'volume.beta.kubernetes.io/storage-provisioner';
export const annSelectedNode = 'volume.kubernetes.io/selected-node';
export const annDefaultStorageClass = 'storageclass.kubernetes.io/is-default-class';
export const annBetaDefaultStorageClass = 'storageclass.beta.kubernetes.io/is-default-class';
/** The pre-GA way to name a class, still honoured by Kubernetes when the field is unset. */
export const annBetaStorageClass = 'volume.beta.kubernetes.io/storage-class';

/** The class of a claim: "" (no class) when neither field nor beta annotation names one. */
export function claimClass(claim: KubeObject): string {
  const beta = claim.metadata.annotations?.[annBetaStorageClass];
  if (beta !== undefined) return beta;
  return claim.spec?.storageClassName ?? '';
}

export function volumeClass(volume: KubeObject): string {
  const beta = volume.metadata.annotations?.[annBetaStorageClass];
  if (beta !== undefined) return beta;
  return volume.spec?.storageClassName ?? '';
}

/** Both default to Filesystem: a claim for a Block device never gets a filesystem volume and vice versa. */
export function volumeModeOf(obj: KubeObject): string {
  return obj.spec?.volumeMode ?? 'Filesystem';
}

export function requestedBytes(claim: KubeObject): number {
  return parseQuantity(claim.spec?.resources?.requests?.storage) ?? 0;
}

export function capacityBytes(volume: KubeObject): number {
  return parseQuantity(volume.spec?.capacity?.storage) ?? 0;
}

/** Every mode the claim asks for must be offered by the volume. */
export function accessModesSatisfied(claim: KubeObject, volume: KubeObject): boolean {
  const offered = new Set<string>(volume.spec?.accessModes ?? []);
  return (claim.spec?.accessModes ?? []).every((m: string) => offered.has(m));
}

/** PV.spec.claimRef names this claim (and, once the binder has set it, its uid). */
export function isVolumeBoundToClaim(volume: KubeObject, claim: KubeObject): boolean {
  const ref = volume.spec?.claimRef;
  if (!ref) return false;
  if (ref.name !== claim.metadata.name || (ref.namespace ?? '') !== (claim.metadata.namespace ?? '')) return false;
  return !ref.uid || ref.uid === claim.metadata.uid;
}

/**
 * Why `volume` cannot serve `claim`, or undefined when it can. Storage class and selector are
 * not checked here: a volume pre-bound to the claim (by the admin or the user) skips them, as
 * in Kubernetes' checkVolumeSatisfyClaim.
 */
export function volumeMismatch(claim: KubeObject, volume: KubeObject): string | undefined {
  if (capacityBytes(volume) < requestedBytes(claim)) return 'requested PV is too small';
  if (volumeModeOf(volume) !== volumeModeOf(claim)) return 'incompatible volumeMode';
  if (!accessModesSatisfied(claim, volume)) return 'incompatible accessMode';
  if (claimClass(claim) !== volumeClass(volume)) return 'storageClassName does not match';
  return undefined;
}

/**
 * The volume `claim` should bind to: a volume pre-bound to the claim wins if it fits; else the
 * smallest Available, unclaimed volume of the same class, volume mode and access modes whose
 * labels match the claim's selector and whose capacity covers the request.
 */
export function findBestMatch(claim: KubeObject, volumes: Iterable<KubeObject>): KubeObject | undefined {
  const requested = requestedBytes(claim);
  const wantedClass = claimClass(claim);
  const selector = claim.spec?.selector;
  let best: KubeObject | undefined;
  for (const volume of volumes) {
    if (volume.metadata.deletionTimestamp) continue;
    if (volumeModeOf(volume) !== volumeModeOf(claim)) continue;
    const capacity = capacityBytes(volume);
    if (volume.spec?.claimRef) {
      if (!isVolumeBoundToClaim(volume, claim)) continue;
      // Pre-bound to this claim: the admin's choice beats any better fit.
      if (capacity >= requested) return volume;
      continue;
    }
    if (volume.status?.phase !== 'Available') continue;
    if (volumeClass(volume) !== wantedClass) continue;
    if (selector && !labelSelectorMatches(selector, volume.metadata.labels)) continue;
    if (!accessModesSatisfied(claim, volume)) continue;
    if (capacity < requested) continue;
    if (!best || capacity < capacityBytes(best)) best = volume;
  }
  return best;
}

/** The StorageClass a new claim without storageClassName gets: the newest default, ties by name. */
export function defaultStorageClass(classes: Iterable<KubeObject>): KubeObject | undefined {
  let chosen: KubeObject | undefined;
  for (const sc of classes) {
    const a = sc.metadata.annotations ?? {};
    if (a[annDefaultStorageClass] !== 'true' && a[annBetaDefaultStorageClass] !== 'true') continue;
    if (!chosen) {
      chosen = sc;
      continue;
    }
    const t = Date.parse(sc.metadata.creationTimestamp ?? '') || 0;
    const c = Date.parse(chosen.metadata.creationTimestamp ?? '') || 0;
    if (t > c || (t === c && sc.metadata.name! < chosen.metadata.name!)) chosen = sc;
  }
  return chosen;
}

/** A volume without node affinity is reachable from every node (e.g. NFS); a local one only from its own. */
export function volumeFitsNode(volume: KubeObject, node: KubeObject): boolean {
  const terms = volume.spec?.nodeAffinity?.required?.nodeSelectorTerms;
  if (!terms) return true;
  return terms.some((t: NodeSelectorTerm) => nodeSelectorTermMatches(t, node.metadata.labels ?? {}, node.metadata.name ?? ''));
}
