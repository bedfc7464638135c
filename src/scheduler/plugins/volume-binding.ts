// VolumeBinding: a pod's PersistentVolumeClaims decide where it may run.
//  - bound claims: the PV's nodeAffinity must match the node;
//  - unbound claims of a WaitForFirstConsumer class: the node needs a matching Available PV
//    (static) or the class must be able to provision there (allowedTopologies);
//  - unbound claims of an Immediate class: wait for the PV controller (unschedulable).
// PreBind writes the decision: a static PV gets its claimRef (and the claim its volumeName),
// a dynamically provisioned claim gets the volume.kubernetes.io/selected-node annotation
// the external provisioner waits for.
import type { KubeObject } from '../../api/types.js';
import type { Client } from '../../client/client.js';
import { status, type CycleState, type Plugin, type Status } from '../framework.js';
import type { NodeInfo, PodInfo, StorageView } from '../node-info.js';
import { intValue } from '../resources.js';
import { nodeSelectorMatches } from './node-affinity.js';

export const errReasonBindConflict = "node(s) didn't find available persistent volumes to bind";
export const errReasonNodeConflict = 'node(s) had volume node affinity conflict';
export const errReasonPVNotExist = 'node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)';
export const errReasonImmediateUnbound = 'pod has unbound immediate PersistentVolumeClaims';
export const selectedNodeAnnotation = 'volume.kubernetes.io/selected-node';

const pvRef = { group: '', version: 'v1', resource: 'persistentvolumes', namespaced: false, kind: 'PersistentVolume' };
const pvcRef = { group: '', version: 'v1', resource: 'persistentvolumeclaims', namespaced: true, kind: 'PersistentVolumeClaim' };

interface PodVolumes {
  bound: { claim: KubeObject; pv?: KubeObject }[];
  delayed: KubeObject[];
}

interface NodeDecision {
  static: { claim: KubeObject; pv: KubeObject }[];
  dynamic: KubeObject[];
}

const stateKey = 'VolumeBinding/pod';
const decisionsKey = 'VolumeBinding/decisions';

/** Claim names a pod uses, including generic ephemeral volumes (`<pod>-<volume>`). */
export function podClaimNames(pod: KubeObject): string[] {
  const names: string[] = [];
  for (const v of pod.spec?.volumes ?? []) {
    if (v.persistentVolumeClaim?.claimName) names.push(v.persistentVolumeClaim.claimName);
    else if (v.ephemeral) names.push(`${pod.metadata.name}-${v.name}`);
  }
  return names;
}

function storageClassOf(claim: KubeObject): string {
  return claim.spec?.storageClassName ?? '';
}

function isWaitForFirstConsumer(storage: StorageView, claim: KubeObject): boolean {
  const className = storageClassOf(claim);
  return !!className && storage.storageClasses.get(className)?.volumeBindingMode === 'WaitForFirstConsumer';
}

function pvMatchesClaim(pv: KubeObject, claim: KubeObject, node: NodeInfo): boolean {
  if (pv.metadata.deletionTimestamp) return false;
  const ref = pv.spec?.claimRef;
  if (ref && (ref.namespace !== claim.metadata.namespace || ref.name !== claim.metadata.name || (ref.uid && ref.uid !== claim.metadata.uid))) return false;
  // A new PV is Pending until the PV controller sees it; only Released/Failed ones are out of play.
  if (!ref && (pv.status?.phase === 'Released' || pv.status?.phase === 'Failed')) return false;
  if ((pv.spec?.storageClassName ?? '') !== storageClassOf(claim)) return false;
  if ((pv.spec?.volumeMode ?? 'Filesystem') !== (claim.spec?.volumeMode ?? 'Filesystem')) return false;
  const modes: string[] = pv.spec?.accessModes ?? [];
  for (const m of claim.spec?.accessModes ?? []) if (!modes.includes(m)) return false;
  if (intValue(pv.spec?.capacity?.storage) < intValue(claim.spec?.resources?.requests?.storage)) return false;
  const selector = claim.spec?.selector;
  if (selector) {
    for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (pv.metadata.labels?.[k] !== v) return false;
  }
  return !pv.spec?.nodeAffinity?.required || (node.node !== undefined && nodeSelectorMatches(pv.spec.nodeAffinity.required, node.node));
}

function canProvision(storage: StorageView, claim: KubeObject, node: NodeInfo): boolean {
  const sc = storage.storageClasses.get(storageClassOf(claim));
  if (!sc || !sc.provisioner || sc.provisioner === 'kubernetes.io/no-provisioner') return false;
  const topologies: any[] = sc.allowedTopologies ?? [];
  if (topologies.length === 0) return true;
  return topologies.some((term) => (term.matchLabelExpressions ?? []).every((e: any) => (e.values ?? []).includes(node.labels[e.key])));
}

export function volumeBinding(handle: { client?: Client } = {}): Plugin {
  /** PVs promised to pods between Reserve and the informer seeing their claimRef. */
  const assumedPVs = new Map<string, string>();
  return {
    name: 'VolumeBinding',
    preFilter(state: CycleState, pod: PodInfo) {
      const names = podClaimNames(pod.pod);
      if (names.length === 0) return { code: 'Skip', reasons: [] };
      const storage = state.snapshot.storage;
      const ns = pod.pod.metadata.namespace ?? '';
      const volumes: PodVolumes = { bound: [], delayed: [] };
      let immediateUnbound = false;
      for (const name of names) {
        const claim = storage.pvcs.get(`${ns}/${name}`);
        if (!claim) return status('UnschedulableAndUnresolvable', `persistentvolumeclaim "${name}" not found`);
        if (claim.metadata.deletionTimestamp) return status('UnschedulableAndUnresolvable', `persistentvolumeclaim "${name}" is being deleted`);
        if (claim.spec?.volumeName) volumes.bound.push({ claim, pv: storage.pvs.get(claim.spec.volumeName) });
        else if (isWaitForFirstConsumer(storage, claim)) volumes.delayed.push(claim);
        else immediateUnbound = true;
      }
      if (immediateUnbound) return status('UnschedulableAndUnresolvable', errReasonImmediateUnbound);
      state.write(stateKey, volumes);
      state.write(decisionsKey, new Map<string, NodeDecision>());
      return undefined;
    },
    filter(state, pod, node) {
      const volumes = state.read<PodVolumes>(stateKey)!;
      for (const { pv } of volumes.bound) {
        if (!pv) return status('UnschedulableAndUnresolvable', errReasonPVNotExist);
        const required = pv.spec?.nodeAffinity?.required;
        if (required && !nodeSelectorMatches(required, node.node!)) return status('UnschedulableAndUnresolvable', errReasonNodeConflict);
      }
      if (volumes.delayed.length === 0) return undefined;
      const storage = state.snapshot.storage;
      const decision: NodeDecision = { static: [], dynamic: [] };
      const taken = new Set<string>();
      for (const claim of volumes.delayed) {
        let best: KubeObject | undefined;
        for (const pv of storage.pvs.values()) {
          const name = pv.metadata.name!;
          if (taken.has(name) || (assumedPVs.has(name) && assumedPVs.get(name) !== pod.key)) continue;
          if (!pvMatchesClaim(pv, claim, node)) continue;
          if (!best || intValue(pv.spec?.capacity?.storage) < intValue(best.spec?.capacity?.storage)) best = pv;
        }
        if (best) {
          taken.add(best.metadata.name!);
          decision.static.push({ claim, pv: best });
        } else if (canProvision(storage, claim, node)) {
          decision.dynamic.push(claim);
        } else {
          return status('UnschedulableAndUnresolvable', errReasonBindConflict);
        }
      }
      state.read<Map<string, NodeDecision>>(decisionsKey)!.set(node.name, decision);
      return undefined;
    },
    reserve(state, pod, nodeName) {
      const decision = state.read<Map<string, NodeDecision>>(decisionsKey)?.get(nodeName);
      for (const { pv } of decision?.static ?? []) assumedPVs.set(pv.metadata.name!, pod.key);
      return undefined;
    },
    unreserve(_state, pod) {
      for (const [pv, owner] of assumedPVs) if (owner === pod.key) assumedPVs.delete(pv);
    },
    async preBind(state, pod, nodeName): Promise<Status | undefined> {
      const decision = state.read<Map<string, NodeDecision>>(decisionsKey)?.get(nodeName);
      if (!decision || (!decision.static.length && !decision.dynamic.length)) return undefined;
      if (!handle.client) return status('Error', 'VolumeBinding needs an API client to bind volumes');
      const pvs = handle.client.resource(pvRef);
      const pvcs = handle.client.resource(pvcRef);
      try {
        for (const { claim, pv } of decision.static) {
          const fresh = await pvs.get(undefined, pv.metadata.name!);
          fresh.spec.claimRef = { kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace: claim.metadata.namespace, name: claim.metadata.name, uid: claim.metadata.uid, resourceVersion: claim.metadata.resourceVersion };
          await pvs.update(fresh);
          await pvcs.patch(claim.metadata.namespace, claim.metadata.name!, 'merge', { spec: { volumeName: pv.metadata.name } });
        }
        for (const claim of decision.dynamic) {
          await pvcs.patch(claim.metadata.namespace, claim.metadata.name!, 'merge', { metadata: { annotations: { [selectedNodeAnnotation]: nodeName } } });
        }
      } catch (err) {
        return status('Error', `binding volumes: ${(err as Error).message}`);
      }
      return undefined;
    },
  };
}
