// The local-path provisioner (`navarch.io/local-path`, after rancher/local-path-provisioner):
// a claim of a class with this provisioner, once the binder has marked it with the node its
// first consumer runs on (volume.kubernetes.io/selected-node), gets a PersistentVolume that is
// a directory on that node: hostPath `<basePath>/pvc-<uid>_<namespace>_<name>`, type
// DirectoryOrCreate (only the node can create directories on itself: its kubelet does, when it
// mounts the volume) and a required node affinity for that node, so the claim's data and its
// pods stay together. On reclaim (Released + Delete) it removes the directory when the node's
// disk is reachable from this process (the all-in-one server's own node), then the volume.
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { KubeObject } from '../../api/types.js';
import type { Client } from '../../client/client.js';
import type { Clock } from '../../client/clock.js';
import { isAlreadyExists, isConflict, isNotFound } from '../../client/errors.js';
import { objectFromDeleted, type Logger, type SharedInformerFactory } from '../../client/informer.js';
import { RateLimitingQueue } from '../../client/workqueue.js';
import { runController, type Controller } from '../framework/controller.js';
import type { EventRecorder } from '../framework/events.js';
import { annBetaStorageProvisioner, annDefaultStorageClass, annProvisionedBy, annSelectedNode, annStorageProvisioner, claimClass } from './matching.js';
import { persistentVolumeClaimsResource, persistentVolumesResource, storageClassesResource } from './resources.js';

export const localPathProvisionerName = 'navarch.io/local-path';
export const localPathStorageClassName = 'local-path';
export const defaultLocalPathBase = '/var/lib/navarch/storage';
/** On provisioned volumes: the node whose disk holds the directory. */
export const annLocalPathNode = 'navarch.io/local-path-node';
export const localPathControllerName = 'local-path-provisioner';

/** The default StorageClass every cluster starts with. */
export function localPathStorageClass(): KubeObject {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: localPathStorageClassName, annotations: { [annDefaultStorageClass]: 'true' } },
    provisioner: localPathProvisionerName,
    reclaimPolicy: 'Delete',
    volumeBindingMode: 'WaitForFirstConsumer',
  } as KubeObject;
}

/** In the shape of dashboardRbacObjects(), for bootstrapClusterObjects (created once, then the admin's). */
export function localPathStorageObjects(): { group: string; version: string; resource: string; object: KubeObject }[] {
  return [{ group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses', object: localPathStorageClass() }];
}

/** The directory of a claim's volume under `basePath`, named as rancher's provisioner names it. */
export function localPathFor(basePath: string, claim: KubeObject): string {
  return path.join(basePath, `pvc-${claim.metadata.uid}_${claim.metadata.namespace}_${claim.metadata.name}`);
}

export interface LocalPathDirectories {
  /** Removes a volume's directory on `node`; 'not-local' when this process cannot reach that node's disk. */
  remove(node: string, directory: string): Promise<'removed' | 'not-local'>;
}

/**
 * Removes directories on the nodes whose disk this process shares (the all-in-one server's own
 * node), and only directories this provisioner names (`<basePath>/pvc-…`): a PersistentVolume
 * is user-editable input, never a licence to delete arbitrary paths.
 */
export function localDirectoryRemover(options: { localNodeNames: string[]; basePath: string; removeDirectory?: (directory: string) => Promise<void> }): LocalPathDirectories {
  const base = path.resolve(options.basePath);
  const removeDirectory = options.removeDirectory ?? ((directory: string) => rm(directory, { recursive: true, force: true }));
  return {
    async remove(node, directory) {
      if (!options.localNodeNames.includes(node)) return 'not-local';
      const resolved = path.resolve(directory);
      if (path.dirname(resolved) !== base || !path.basename(resolved).startsWith('pvc-')) return 'not-local';
      await removeDirectory(resolved);
      return 'removed';
    },
  };
}

export interface LocalPathProvisionerOptions {
  client: Client;
  informerFactory: SharedInformerFactory;
  clock: Clock;
  recorder: EventRecorder;
  logger?: Logger;
  workers?: number;
  /** Where volume directories go on every node (default /var/lib/navarch/storage). */
  basePath?: string;
  /** Removes released volumes' directories; without it they stay on disk (the volume object still goes). */
  directories?: LocalPathDirectories;
  resyncPeriodMs?: number;
}

const claimKey = (namespace: string | undefined, name: string) => `${namespace ?? ''}/${name}`;

function provisionerOf(claim: KubeObject): string | undefined {
  const a = claim.metadata.annotations ?? {};
  return a[annStorageProvisioner] ?? a[annBetaStorageProvisioner];
}

/** The node of a provisioned volume: our annotation, else its kubernetes.io/hostname affinity. */
export function nodeOfVolume(volume: KubeObject): string | undefined {
  const annotated = volume.metadata.annotations?.[annLocalPathNode];
  if (annotated) return annotated;
  for (const term of volume.spec?.nodeAffinity?.required?.nodeSelectorTerms ?? []) {
    const expr = (term.matchExpressions ?? []).find((e: any) => e.key === 'kubernetes.io/hostname' && e.operator === 'In');
    if (expr?.values?.length === 1) return expr.values[0];
  }
  return undefined;
}

/** The PersistentVolume for `claim` on `node`, pre-bound to the claim so the binder completes the bind. */
export function localPathVolume(claim: KubeObject, storageClass: KubeObject, node: string, basePath: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: {
      name: `pvc-${claim.metadata.uid}`,
      annotations: { [annProvisionedBy]: localPathProvisionerName, [annLocalPathNode]: node },
    },
    spec: {
      capacity: { storage: claim.spec.resources.requests.storage },
      accessModes: [...(claim.spec.accessModes ?? [])],
      persistentVolumeReclaimPolicy: storageClass.reclaimPolicy ?? 'Delete',
      storageClassName: storageClass.metadata.name,
      volumeMode: 'Filesystem',
      ...(storageClass.mountOptions ? { mountOptions: [...storageClass.mountOptions] } : {}),
      claimRef: {
        kind: 'PersistentVolumeClaim',
        apiVersion: 'v1',
        namespace: claim.metadata.namespace,
        name: claim.metadata.name,
        uid: claim.metadata.uid,
        resourceVersion: claim.metadata.resourceVersion,
      },
      hostPath: { path: localPathFor(basePath, claim), type: 'DirectoryOrCreate' },
      nodeAffinity: {
        required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] }] },
      },
    },
  } as KubeObject;
}

export function createLocalPathProvisioner(options: LocalPathProvisionerOptions): Controller {
  const log = options.logger ?? (() => undefined);
  const basePath = options.basePath ?? defaultLocalPathBase;
  const resync = options.resyncPeriodMs ?? 15_000;
  const queue = new RateLimitingQueue<string>({ clock: options.clock });
  const volumes = options.informerFactory.forResource(persistentVolumesResource);
  const claims = options.informerFactory.forResource(persistentVolumeClaimsResource);
  const classes = options.informerFactory.forResource(storageClassesResource);
  const volumeClient = options.client.resource(persistentVolumesResource);
  const recorder = options.recorder;

  const enqueueClaim = (c: KubeObject) => queue.add(claimKey(c.metadata.namespace, c.metadata.name!));
  claims.addEventHandler({ onAdd: enqueueClaim, onUpdate: (_o, c) => enqueueClaim(c) }, resync);
  const enqueueVolume = (v: KubeObject) => v.metadata.annotations?.[annProvisionedBy] === localPathProvisionerName && queue.add(v.metadata.name!);
  volumes.addEventHandler({ onAdd: enqueueVolume, onUpdate: (_o, v) => enqueueVolume(v), onDelete: (d) => enqueueVolume(objectFromDeleted(d)) }, resync);

  function failed(claim: KubeObject, storageClass: KubeObject, reason: string): void {
    recorder.event(claim, 'Warning', 'ProvisioningFailed', `failed to provision volume with StorageClass "${storageClass.metadata.name}": ${reason}`);
  }

  async function syncClaim(namespace: string, name: string): Promise<void> {
    const claim = claims.getIndexer().getByName(namespace, name);
    if (!claim || claim.metadata.deletionTimestamp || claim.spec?.volumeName) return;
    if (claim.status?.phase && claim.status.phase !== 'Pending') return;
    if (provisionerOf(claim) !== localPathProvisionerName) return;
    const storageClass = classes.getIndexer().getByName(undefined, claimClass(claim));
    if (!storageClass || storageClass.provisioner !== localPathProvisionerName) return;
    const volumeName = `pvc-${claim.metadata.uid}`;
    if (volumes.getIndexer().getByName(undefined, volumeName)) return;
    const node = claim.metadata.annotations?.[annSelectedNode];
    if (!node) {
      // With WaitForFirstConsumer the binder names the node once a pod using the claim is placed.
      if (storageClass.volumeBindingMode !== 'WaitForFirstConsumer') failed(claim, storageClass, 'configuration error, no node was specified');
      return;
    }
    if (claim.spec?.selector) return failed(claim, storageClass, 'claim Selector is not supported');
    if ((claim.spec?.volumeMode ?? 'Filesystem') !== 'Filesystem') return failed(claim, storageClass, 'only the Filesystem volume mode is supported');
    recorder.event(claim, 'Normal', 'Provisioning', `External provisioner is provisioning volume for claim "${namespace}/${name}"`);
    try {
      await volumeClient.create(undefined, localPathVolume(claim, storageClass, node, basePath));
    } catch (err) {
      if (isAlreadyExists(err)) return;
      failed(claim, storageClass, String((err as Error).message ?? err));
      throw err;
    }
    recorder.event(claim, 'Normal', 'ProvisioningSucceeded', `Successfully provisioned volume ${volumeName}`);
    log('info', 'provisioned volume', { controller: localPathControllerName, claim: `${namespace}/${name}`, volume: volumeName, node });
  }

  async function syncVolume(name: string): Promise<void> {
    const volume = volumes.getIndexer().getByName(undefined, name);
    if (!volume || volume.metadata.deletionTimestamp) return;
    if (volume.metadata.annotations?.[annProvisionedBy] !== localPathProvisionerName) return;
    if (volume.status?.phase !== 'Released' || volume.spec?.persistentVolumeReclaimPolicy !== 'Delete') return;
    const node = nodeOfVolume(volume);
    const directory: string | undefined = volume.spec?.hostPath?.path ?? volume.spec?.local?.path;
    const outcome = node && directory && options.directories ? await options.directories.remove(node, directory) : 'not-local';
    if (outcome === 'not-local') {
      recorder.event(volume, 'Warning', 'VolumeFailedDelete', `directory ${directory ?? '(none)'} on node ${node ?? '(unknown)'} was left in place: this provisioner cannot reach that node's disk`);
    }
    try {
      await volumeClient.delete(undefined, name, { preconditions: { uid: volume.metadata.uid } });
    } catch (err) {
      if (!isNotFound(err) && !isConflict(err)) throw err;
    }
    log('info', 'deleted released volume', { controller: localPathControllerName, volume: name, node, directory, outcome });
  }

  async function reconcile(key: string): Promise<void> {
    const slash = key.indexOf('/');
    if (slash < 0) await syncVolume(key);
    else await syncClaim(key.slice(0, slash), key.slice(slash + 1));
  }

  const informers = [volumes, claims, classes];
  return {
    name: localPathControllerName,
    reconcile,
    hasSynced: () => informers.every((i) => i.hasSynced()),
    start: (signal) =>
      runController({ name: localPathControllerName, queue, informers, reconcile, workers: options.workers ?? 1, signal, logger: log }).catch((err) => {
        log('error', 'controller stopped', { controller: localPathControllerName, error: String(err) });
      }),
  };
}
