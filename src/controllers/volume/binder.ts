// The PersistentVolume binder (kube-controller-manager's persistentvolume-binder-controller):
// binds Pending claims to Available volumes, keeps both sides' phases right, releases volumes
// whose claim is gone and reclaims them per persistentVolumeReclaimPolicy. It also stands in
// for the scheduler's VolumeBinding step: once a pod using an unbound WaitForFirstConsumer
// claim is on a node, it binds a static volume reachable from that node or marks the claim
// `volume.kubernetes.io/selected-node` so the class's provisioner creates one there.
//
// One queue holds both kinds: a key with a "/" is a claim ("namespace/name"), a key without
// one a volume (cluster-scoped names never contain "/").
import type { KubeObject } from '../../api/types.js';
import type { Client } from '../../client/client.js';
import type { Clock } from '../../client/clock.js';
import { isConflict, isNotFound } from '../../client/errors.js';
import { objectFromDeleted, type Logger, type SharedInformerFactory } from '../../client/informer.js';
import { RateLimitingQueue } from '../../client/workqueue.js';
import { queueController, type Controller } from '../framework/controller.js';
import { formatTime, type EventRecorder } from '../framework/events.js';
import { podsResource } from '../framework/resources.js';
import {
  annBetaStorageProvisioner,
  annBindCompleted,
  annBoundByController,
  annProvisionedBy,
  annSelectedNode,
  annStorageProvisioner,
  claimClass,
  findBestMatch,
  isVolumeBoundToClaim,
  volumeFitsNode,
  volumeMismatch,
} from './matching.js';
import { nodesResource, persistentVolumeClaimsResource, persistentVolumesResource, podsByClaimIndex, storageClassesResource, volumesByClaimIndex } from './resources.js';

export interface PersistentVolumeBinderOptions {
  client: Client;
  informerFactory: SharedInformerFactory;
  clock: Clock;
  recorder: EventRecorder;
  logger?: Logger;
  workers?: number;
  /** Kubernetes' --pvclaimbinder-sync-period: how often every claim and volume is looked at again. */
  resyncPeriodMs?: number;
}

export const binderControllerName = 'persistentvolume-binder';

const claimKey = (namespace: string | undefined, name: string) => `${namespace ?? ''}/${name}`;

/** "namespace/claim" for every persistentVolumeClaim volume of a pod. */
export function claimKeysOfPod(pod: KubeObject): string[] {
  return (pod.spec?.volumes ?? []).filter((v: any) => v.persistentVolumeClaim?.claimName).map((v: any) => claimKey(pod.metadata.namespace, v.persistentVolumeClaim.claimName));
}

function claimRefKey(volume: KubeObject): string[] {
  const ref = volume.spec?.claimRef;
  return ref?.name ? [claimKey(ref.namespace, ref.name)] : [];
}

function isPodRunnable(pod: KubeObject): boolean {
  return !pod.metadata.deletionTimestamp && pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed';
}

export function createPersistentVolumeBinder(options: PersistentVolumeBinderOptions): Controller {
  const log = options.logger ?? (() => undefined);
  const resync = options.resyncPeriodMs ?? 15_000;
  const queue = new RateLimitingQueue<string>({ clock: options.clock });
  const volumes = options.informerFactory.forResource(persistentVolumesResource, { indexers: { [volumesByClaimIndex]: claimRefKey } });
  const claims = options.informerFactory.forResource(persistentVolumeClaimsResource);
  const classes = options.informerFactory.forResource(storageClassesResource);
  const pods = options.informerFactory.forResource(podsResource, { indexers: { [podsByClaimIndex]: claimKeysOfPod } });
  const nodes = options.informerFactory.forResource(nodesResource);
  const volumeClient = options.client.resource(persistentVolumesResource);
  const claimClient = options.client.resource(persistentVolumeClaimsResource);
  const recorder = options.recorder;

  const enqueueClaim = (c: KubeObject) => queue.add(claimKey(c.metadata.namespace, c.metadata.name!));
  const enqueueVolume = (v: KubeObject) => {
    queue.add(v.metadata.name!);
    for (const key of claimRefKey(v)) queue.add(key);
  };
  const enqueueUnboundClaims = () => {
    for (const c of claims.getIndexer().list()) if (!c.spec?.volumeName) enqueueClaim(c);
  };
  claims.addEventHandler(
    {
      onAdd: enqueueClaim,
      onUpdate: (_old, c) => enqueueClaim(c),
      onDelete(d) {
        const c = objectFromDeleted(d);
        enqueueClaim(c);
        // The volumes this claim held must now be released.
        for (const v of volumes.getIndexer().byIndex(volumesByClaimIndex, claimKey(c.metadata.namespace, c.metadata.name!))) queue.add(v.metadata.name!);
      },
    },
    resync,
  );
  volumes.addEventHandler(
    {
      onAdd(v) {
        enqueueVolume(v);
        if (!v.spec?.claimRef) enqueueUnboundClaims();
      },
      onUpdate(old, v) {
        enqueueVolume(v);
        if (!v.spec?.claimRef && (old.spec?.claimRef || old.status?.phase !== v.status?.phase)) enqueueUnboundClaims();
      },
      onDelete: (d) => enqueueVolume(objectFromDeleted(d)),
    },
    resync,
  );
  classes.addEventHandler({ onAdd: enqueueUnboundClaims, onUpdate: enqueueUnboundClaims });
  const enqueueClaimsOfPod = (pod: KubeObject) => {
    if (!pod.spec?.nodeName) return;
    for (const key of claimKeysOfPod(pod)) queue.add(key);
  };
  pods.addEventHandler({ onAdd: enqueueClaimsOfPod, onUpdate: (_o, p) => enqueueClaimsOfPod(p) });

  // ---- writes -----------------------------------------------------------------------------

  async function setVolumePhase(volume: KubeObject, phase: string, message?: string): Promise<KubeObject> {
    if (volume.status?.phase === phase && (message === undefined || volume.status?.message === message)) return volume;
    const updated = structuredClone(volume);
    updated.status = { ...(updated.status ?? {}), phase, lastPhaseTransitionTime: formatTime(options.clock.now()) };
    if (message !== undefined) updated.status.message = message;
    else delete updated.status.message;
    return volumeClient.updateStatus(updated);
  }

  async function setClaimPending(claim: KubeObject): Promise<void> {
    if (claim.status?.phase === 'Pending') return;
    const updated = structuredClone(claim);
    updated.status = { ...(updated.status ?? {}), phase: 'Pending' };
    await claimClient.updateStatus(updated);
  }

  async function setClaimLost(claim: KubeObject, message: string): Promise<void> {
    if (claim.status?.phase === 'Lost') return;
    const updated = structuredClone(claim);
    updated.status = { ...(updated.status ?? {}), phase: 'Lost' };
    await claimClient.updateStatus(updated);
    recorder.event(claim, 'Warning', 'ClaimLost', message);
  }

  /**
   * Both halves of a bind, in Kubernetes' order: volume.claimRef, volume phase, claim.volumeName
   * and annotations, claim status. Each write is conditional on the object we read, so two
   * claims racing for one volume end with one winner and one Conflict (retried from a fresh cache).
   */
  async function bind(volume: KubeObject, claim: KubeObject): Promise<void> {
    const ref = volume.spec?.claimRef;
    if (!ref || ref.uid !== claim.metadata.uid || ref.name !== claim.metadata.name || ref.namespace !== claim.metadata.namespace) {
      const updated = structuredClone(volume);
      updated.spec.claimRef = {
        kind: 'PersistentVolumeClaim',
        namespace: claim.metadata.namespace,
        name: claim.metadata.name,
        uid: claim.metadata.uid,
        apiVersion: 'v1',
        resourceVersion: claim.metadata.resourceVersion,
      };
      if (!ref) updated.metadata.annotations = { ...(updated.metadata.annotations ?? {}), [annBoundByController]: 'yes' };
      volume = await volumeClient.update(updated);
    }
    volume = await setVolumePhase(volume, 'Bound');

    const annotations = claim.metadata.annotations ?? {};
    if (claim.spec?.volumeName !== volume.metadata.name || annotations[annBindCompleted] !== 'yes') {
      const updated = structuredClone(claim);
      updated.metadata.annotations = { ...annotations, [annBindCompleted]: 'yes' };
      if (!updated.spec.volumeName) updated.metadata.annotations[annBoundByController] = 'yes';
      updated.spec.volumeName = volume.metadata.name;
      claim = await claimClient.update(updated);
    }
    const status = claim.status ?? {};
    const capacity = volume.spec?.capacity ?? {};
    const accessModes = volume.spec?.accessModes ?? [];
    if (status.phase !== 'Bound' || JSON.stringify(status.capacity ?? {}) !== JSON.stringify(capacity) || JSON.stringify(status.accessModes ?? []) !== JSON.stringify(accessModes)) {
      const updated = structuredClone(claim);
      updated.status = { ...status, phase: 'Bound', capacity, accessModes };
      await claimClient.updateStatus(updated);
      if (status.phase !== 'Bound') log('info', 'bound claim', { controller: binderControllerName, claim: claimKey(claim.metadata.namespace, claim.metadata.name!), volume: volume.metadata.name });
    }
  }

  // ---- claims -------------------------------------------------------------------------------

  function storageClassOf(claim: KubeObject): KubeObject | undefined {
    const name = claimClass(claim);
    return name ? classes.getIndexer().getByName(undefined, name) : undefined;
  }

  function nodeObject(name: string): KubeObject {
    // A pod may name a node this cache has not seen yet; its hostname label is still known.
    return nodes.getIndexer().getByName(undefined, name) ?? ({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name } } } as KubeObject);
  }

  /** The node of the first running pod that uses the claim: WaitForFirstConsumer's "first consumer". */
  function consumerNode(claim: KubeObject): string | undefined {
    const users = pods.getIndexer().byIndex(podsByClaimIndex, claimKey(claim.metadata.namespace, claim.metadata.name!));
    return users.find((p) => p.spec?.nodeName && isPodRunnable(p))?.spec.nodeName;
  }

  async function syncUnboundClaim(claim: KubeObject): Promise<void> {
    const allVolumes = volumes.getIndexer().list();
    if (claim.spec?.volumeName) return syncPreboundClaim(claim);

    const storageClass = storageClassOf(claim);
    const className = claimClass(claim);
    const delayed = storageClass?.volumeBindingMode === 'WaitForFirstConsumer';
    let selectedNode = claim.metadata.annotations?.[annSelectedNode];
    if (delayed && !selectedNode) {
      const node = consumerNode(claim);
      // Without a consumer only volumes pre-bound to this claim may bind (as Kubernetes' delayBinding).
      const candidates = node ? allVolumes.filter((v) => volumeFitsNode(v, nodeObject(node))) : allVolumes.filter((v) => v.spec?.claimRef);
      const match = findBestMatch(claim, candidates);
      if (match) return bind(match, claim);
      if (!node) {
        await setClaimPending(claim);
        recorder.event(claim, 'Normal', 'WaitForFirstConsumer', 'waiting for first consumer to be created before binding');
        return;
      }
      selectedNode = node;
    } else {
      const candidates = selectedNode ? allVolumes.filter((v) => volumeFitsNode(v, nodeObject(selectedNode!))) : allVolumes;
      const match = findBestMatch(claim, candidates);
      if (match) return bind(match, claim);
    }

    await setClaimPending(claim);
    if (!className) {
      recorder.event(claim, 'Normal', 'FailedBinding', 'no persistent volumes available for this claim and no storage class is set');
      return;
    }
    if (!storageClass) {
      recorder.event(claim, 'Warning', 'ProvisioningFailed', `storageclass.storage.k8s.io "${className}" not found`);
      return;
    }
    const provisioner: string = storageClass.provisioner;
    if (provisioner === 'kubernetes.io/no-provisioner') {
      recorder.event(claim, 'Normal', 'FailedBinding', 'no persistent volumes available for this claim and no storage class is set');
      return;
    }
    // Hand the claim to the class's provisioner (and, for delayed binding, tell it where).
    const annotations = claim.metadata.annotations ?? {};
    if (annotations[annStorageProvisioner] !== provisioner || annotations[annBetaStorageProvisioner] !== provisioner || (selectedNode && annotations[annSelectedNode] !== selectedNode)) {
      const updated = structuredClone(claim);
      updated.metadata.annotations = { ...annotations, [annStorageProvisioner]: provisioner, [annBetaStorageProvisioner]: provisioner };
      if (selectedNode) updated.metadata.annotations[annSelectedNode] = selectedNode;
      await claimClient.update(updated);
    }
    recorder.event(
      claim,
      'Normal',
      'ExternalProvisioning',
      `Waiting for a volume to be created either by the external provisioner '${provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`,
    );
  }

  /** The user named a volume in claim.spec.volumeName. */
  async function syncPreboundClaim(claim: KubeObject): Promise<void> {
    const volume = volumes.getIndexer().getByName(undefined, claim.spec.volumeName);
    if (!volume) return setClaimPending(claim);
    if (!volume.spec?.claimRef) {
      const mismatch = volumeMismatch(claim, volume);
      if (mismatch) {
        await setClaimPending(claim);
        recorder.event(claim, 'Warning', 'VolumeMismatch', `Cannot bind to requested volume "${volume.metadata.name}": ${mismatch}`);
        return;
      }
      return bind(volume, claim);
    }
    if (isVolumeBoundToClaim(volume, claim)) return bind(volume, claim);
    await setClaimPending(claim);
    recorder.event(claim, 'Warning', 'FailedBinding', `volume "${volume.metadata.name}" already bound to a different claim.`);
  }

  async function syncBoundClaim(claim: KubeObject): Promise<void> {
    if (!claim.spec?.volumeName) return setClaimLost(claim, 'Bound claim has lost reference to PersistentVolume. Data on the volume is lost!');
    let volume = volumes.getIndexer().getByName(undefined, claim.spec.volumeName);
    if (!volume) {
      // Confirm with the server: a lagging cache must never mark a claim Lost.
      volume = await volumeClient.get(undefined, claim.spec.volumeName).catch((err) => (isNotFound(err) ? undefined : Promise.reject(err)));
      if (!volume) return setClaimLost(claim, 'Bound claim has lost its PersistentVolume. Data on the volume is lost!');
    }
    if (!volume.spec?.claimRef || isVolumeBoundToClaim(volume, claim)) return bind(volume, claim);
    await setClaimLost(claim, 'Two claims are bound to the same volume, this one is bound incorrectly');
  }

  async function syncClaim(namespace: string, name: string): Promise<void> {
    const claim = claims.getIndexer().getByName(namespace, name);
    if (!claim) return;
    if (claim.metadata.annotations?.[annBindCompleted] === 'yes') return syncBoundClaim(claim);
    return syncUnboundClaim(claim);
  }

  // ---- volumes ------------------------------------------------------------------------------

  /** The claim a volume's claimRef names, read from the server when the cache has none. */
  async function liveClaim(ref: { namespace?: string; name: string }): Promise<KubeObject | undefined> {
    const cached = claims.getIndexer().getByName(ref.namespace, ref.name);
    if (cached) return cached;
    return claimClient.get(ref.namespace, ref.name).catch((err) => (isNotFound(err) ? undefined : Promise.reject(err)));
  }

  async function reclaim(volume: KubeObject): Promise<void> {
    const policy = volume.spec?.persistentVolumeReclaimPolicy ?? 'Retain';
    if (policy === 'Retain') return;
    if (policy === 'Recycle') {
      if (volume.status?.phase === 'Failed') return;
      await setVolumePhase(volume, 'Failed', 'No recycler plugin found for the volume!');
      recorder.event(volume, 'Warning', 'VolumeFailedRecycle', 'No recycler plugin found for the volume!');
      return;
    }
    // Delete: a provisioner deletes what it created (it alone knows how to free the storage).
    if (volume.metadata.annotations?.[annProvisionedBy]) return;
    // A volume nobody provisioned: the object goes, the data it points at is left in place.
    try {
      await volumeClient.delete(undefined, volume.metadata.name!, { preconditions: { uid: volume.metadata.uid } });
    } catch (err) {
      if (!isNotFound(err) && !isConflict(err)) throw err;
    }
  }

  async function syncVolume(name: string): Promise<void> {
    const volume = volumes.getIndexer().getByName(undefined, name);
    if (!volume || volume.metadata.deletionTimestamp) return;
    const ref = volume.spec?.claimRef;
    if (!ref) {
      await setVolumePhase(volume, 'Available');
      return;
    }
    // Pre-bound by an admin to a claim that has not bound yet.
    if (!ref.uid) {
      await setVolumePhase(volume, 'Available');
      return;
    }
    let claim = await liveClaim(ref);
    if (claim && claim.metadata.uid !== ref.uid) claim = undefined;
    if (!claim) {
      if (volume.status?.phase === 'Failed') return;
      const released = volume.status?.phase === 'Released' ? volume : await setVolumePhase(volume, 'Released');
      await reclaim(released);
      return;
    }
    if (!claim.spec?.volumeName || claim.spec.volumeName === volume.metadata.name) {
      await setVolumePhase(volume, 'Bound');
      return;
    }
    // The claim went to another volume: undo our half of the bind (an admin's pre-bind stays).
    if (volume.metadata.annotations?.[annBoundByController] === 'yes') {
      const updated = structuredClone(volume);
      delete updated.spec.claimRef;
      delete updated.metadata.annotations?.[annBoundByController];
      await setVolumePhase(await volumeClient.update(updated), 'Available');
    }
  }

  async function reconcile(key: string): Promise<void> {
    const slash = key.indexOf('/');
    try {
      if (slash < 0) await syncVolume(key);
      else await syncClaim(key.slice(0, slash), key.slice(slash + 1));
    } catch (err) {
      // Our view was stale: the next round starts from the objects as they are now.
      if (isNotFound(err)) return;
      throw err;
    }
  }

  const informers = [volumes, claims, classes, pods, nodes];
  return queueController({ name: binderControllerName, queue, informers, reconcile, workers: options.workers ?? 1, logger: log });
}
