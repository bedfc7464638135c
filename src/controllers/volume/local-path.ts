// The local-path provisioner (`navarch.io/local-path`, after rancher/local-path-provisioner):
// a claim of a class with this provisioner, once the binder has marked it with the node its
// first consumer runs on (volume.kubernetes.io/selected-node), gets a PersistentVolume that is
// a directory on that node: hostPath `<basePath>/pvc-<uid>_<namespace>_<name>`, type
// DirectoryOrCreate (only the node can create directories on itself: its kubelet does, when it
// mounts the volume) and a required node affinity for that node, so the claim's data and its
// pods stay together. On reclaim (Released + Delete) it removes the directory — in-process on
// the server's own node, elsewhere with a helper pod on that node — then the volume.
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { KubeObject } from '../../api/types.js';
import type { Client } from '../../client/client.js';
import type { Clock } from '../../client/clock.js';
import { isAlreadyExists, isConflict, isNotFound } from '../../client/errors.js';
import { objectFromDeleted, type Logger, type SharedInformerFactory } from '../../client/informer.js';
import { RateLimitingQueue } from '../../client/workqueue.js';
import { queueController, type Controller, type ReconcileResult } from '../framework/controller.js';
import { podsResource } from '../framework/resources.js';
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
      if (!isVolumeDirectory(base, directory)) return 'not-local';
      await removeDirectory(path.resolve(directory));
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
  /** Removes released volumes' directories on nodes whose disk this process shares; other nodes get a helper pod. */
  directories?: LocalPathDirectories;
  /** The helper pods' image (default busybox, pulled only if the node lacks it). */
  helperImage?: string;
  /** How long a helper pod may take before it counts as failed (default 120 s, as rancher's). */
  helperTimeoutMs?: number;
  resyncPeriodMs?: number;
}

/** Where helper pods run, as rancher's provisioner runs them beside itself. */
export const helperNamespace = 'kube-system';
export const defaultHelperImage = 'busybox';
/** On helper pods: the volume they work for (also the label selector of our pod watch). */
export const helperForLabel = 'navarch.io/local-path-helper-for';
const helperRetryBaseMs = 2_000;
const helperRetryMaxMs = 5 * 60_000;

/**
 * True only for a directory this provisioner names: directly inside `basePath` and called
 * `pvc-…`. Never the base itself, never a path that climbs out of it.
 */
export function isVolumeDirectory(basePath: string, directory: string): boolean {
  const resolved = path.resolve(directory);
  return path.dirname(resolved) === path.resolve(basePath) && path.basename(resolved).startsWith('pvc-') && !/[\0\n]/.test(resolved);
}

export function helperPodName(action: 'create' | 'delete', volumeName: string): string {
  return `helper-pod-${action}-${volumeName}`.slice(0, 253);
}

/**
 * The short-lived pod that changes a volume's directory on its node: pinned there by nodeName
 * (no scheduler, so it runs even on a cordoned or full node), tolerating every taint, at
 * system-node-critical priority, with only the base directory mounted from the host.
 */
export function helperPod(options: { action: 'delete'; volumeName: string; node: string; directory: string; basePath: string; image: string }): KubeObject {
  if (!isVolumeDirectory(options.basePath, options.directory)) throw new Error(`refusing to touch ${options.directory}: not a volume directory under ${options.basePath}`);
  const base = path.resolve(options.basePath);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: helperPodName(options.action, options.volumeName),
      namespace: helperNamespace,
      labels: { app: localPathControllerName, [helperForLabel]: options.volumeName },
    },
    spec: {
      nodeName: options.node,
      restartPolicy: 'Never',
      priorityClassName: 'system-node-critical',
      tolerations: [{ operator: 'Exists' }],
      automountServiceAccountToken: false,
      terminationGracePeriodSeconds: 0,
      containers: [
        {
          name: 'helper-pod',
          image: options.image,
          imagePullPolicy: 'IfNotPresent',
          command: ['rm', '-rf', path.resolve(options.directory)],
          volumeMounts: [{ name: 'data', mountPath: base }],
        },
      ],
      volumes: [{ name: 'data', hostPath: { path: base, type: 'DirectoryOrCreate' } }],
    },
  } as KubeObject;
}

function helperFailureDetail(pod: KubeObject): string {
  const terminated = pod.status?.containerStatuses?.[0]?.state?.terminated;
  if (terminated) return ` (exit code ${terminated.exitCode}${terminated.reason ? `, ${terminated.reason}` : ''}${terminated.message ? `: ${terminated.message}` : ''})`;
  return pod.status?.message ? ` (${pod.status.message})` : '';
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
  const podClient = options.client.resource(podsResource);
  const helperImage = options.helperImage ?? defaultHelperImage;
  const helperTimeoutMs = options.helperTimeoutMs ?? 120_000;
  // Only our helper pods: a label-selected watch in one namespace, not every pod in the cluster.
  const helperPods = options.informerFactory.forResource(podsResource, { namespace: helperNamespace, labelSelector: helperForLabel });

  const enqueueClaim = (c: KubeObject) => queue.add(claimKey(c.metadata.namespace, c.metadata.name!));
  claims.addEventHandler({ onAdd: enqueueClaim, onUpdate: (_o, c) => enqueueClaim(c) }, resync);
  const enqueueVolume = (v: KubeObject) => v.metadata.annotations?.[annProvisionedBy] === localPathProvisionerName && queue.add(v.metadata.name!);
  volumes.addEventHandler({ onAdd: enqueueVolume, onUpdate: (_o, v) => enqueueVolume(v), onDelete: (d) => enqueueVolume(objectFromDeleted(d)) }, resync);
  // A helper pod that finished wakes its volume. Deletions do not: after a failure the volume
  // waits out its backoff rather than starting the next helper the moment the old one is gone.
  const enqueueHelper = (p: KubeObject) => {
    const volumeName = p.metadata.labels?.[helperForLabel];
    if (volumeName && (p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed')) queue.add(volumeName);
  };
  helperPods.addEventHandler({ onAdd: enqueueHelper, onUpdate: (_o, p) => enqueueHelper(p) });

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

  // Released volumes whose helper pod failed or timed out, with when the next attempt may start:
  // per controller, so two provisioners (tests, leader hand-over) never share a backoff.
  const failures = new Map<string, { count: number; retryAt: number }>();

  function recordFailure(volume: KubeObject, message: string): number {
    const name = volume.metadata.name!;
    const count = (failures.get(name)?.count ?? 0) + 1;
    const delay = Math.min(helperRetryBaseMs * 2 ** (count - 1), helperRetryMaxMs);
    failures.set(name, { count, retryAt: options.clock.now() + delay });
    recorder.event(volume, 'Warning', 'VolumeFailedDelete', message);
    return delay;
  }

  async function deleteHelper(pod: KubeObject): Promise<void> {
    try {
      await podClient.delete(helperNamespace, pod.metadata.name!, { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid } });
    } catch (err) {
      if (!isNotFound(err) && !isConflict(err)) throw err;
    }
  }

  async function deleteVolumeObject(volume: KubeObject): Promise<void> {
    try {
      await volumeClient.delete(undefined, volume.metadata.name!, { preconditions: { uid: volume.metadata.uid } });
    } catch (err) {
      if (!isNotFound(err) && !isConflict(err)) throw err;
    }
    failures.delete(volume.metadata.name!);
  }

  /**
   * Removes the directory on a node this process cannot reach with a short-lived pod there, as
   * rancher's provisioner does: create it, wait (pod updates requeue the volume) for it to
   * finish, then delete it. Returns 'done' once the directory is gone.
   */
  async function removeWithHelperPod(volume: KubeObject, node: string, directory: string): Promise<'done' | ReconcileResult> {
    const name = volume.metadata.name!;
    const podName = helperPodName('delete', name);
    const pod = helperPods.getIndexer().getByName(helperNamespace, podName);
    if (!pod || pod.metadata.labels?.[helperForLabel] !== name) {
      try {
        await podClient.create(helperNamespace, helperPod({ action: 'delete', volumeName: name, node, directory, basePath, image: helperImage }));
        log('info', 'started helper pod', { controller: localPathControllerName, volume: name, node, pod: podName });
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
      }
      return { requeueAfterMs: helperTimeoutMs };
    }
    if (pod.metadata.deletionTimestamp) return { requeueAfterMs: 1000 };
    const phase = pod.status?.phase;
    if (phase === 'Succeeded') {
      await deleteHelper(pod);
      return 'done';
    }
    const age = options.clock.now() - Date.parse(pod.metadata.creationTimestamp ?? '');
    if (phase === 'Failed' || !(age < helperTimeoutMs)) {
      const why = phase === 'Failed' ? `helper pod ${helperNamespace}/${podName} failed${helperFailureDetail(pod)}` : `helper pod ${helperNamespace}/${podName} did not complete within ${helperTimeoutMs / 1000}s (phase ${phase ?? 'unknown'})`;
      await deleteHelper(pod);
      const delay = recordFailure(volume, `failed to delete volume ${name}: removing ${directory} on node ${node}: ${why}`);
      log('warn', 'helper pod failed', { controller: localPathControllerName, volume: name, node, pod: podName, retryInMs: delay });
      return { requeueAfterMs: delay };
    }
    return { requeueAfterMs: helperTimeoutMs - age };
  }

  async function syncVolume(name: string): Promise<ReconcileResult | void> {
    const volume = volumes.getIndexer().getByName(undefined, name);
    if (!volume) {
      failures.delete(name);
      return;
    }
    if (volume.metadata.deletionTimestamp) return;
    if (volume.metadata.annotations?.[annProvisionedBy] !== localPathProvisionerName) return;
    if (volume.status?.phase !== 'Released' || volume.spec?.persistentVolumeReclaimPolicy !== 'Delete') return;
    const failure = failures.get(name);
    if (failure && failure.retryAt > options.clock.now()) return { requeueAfterMs: failure.retryAt - options.clock.now() };
    const node = nodeOfVolume(volume);
    const directory: string | undefined = volume.spec?.hostPath?.path ?? volume.spec?.local?.path;
    if (!node || !directory || !isVolumeDirectory(basePath, directory)) {
      // A PersistentVolume is user-editable: a path outside our base is never ours to remove, and
      // removing only the object would orphan the data silently. Kubernetes keeps such a volume.
      const delay = recordFailure(volume, `failed to delete volume ${name}: directory ${directory ?? '(none)'} on node ${node ?? '(unknown)'} is not a ${localPathProvisionerName} volume directory under ${basePath}`);
      return { requeueAfterMs: delay };
    }
    let local: 'removed' | 'not-local' = 'not-local';
    try {
      if (options.directories) local = await options.directories.remove(node, directory);
    } catch (err) {
      return { requeueAfterMs: recordFailure(volume, `failed to delete volume ${name}: removing ${directory}: ${String((err as Error).message ?? err)}`) };
    }
    if (local === 'not-local') {
      const outcome = await removeWithHelperPod(volume, node, directory);
      if (outcome !== 'done') return outcome;
    }
    await deleteVolumeObject(volume);
    log('info', 'deleted released volume', { controller: localPathControllerName, volume: name, node, directory, via: local === 'removed' ? 'local' : 'helper-pod' });
  }

  async function reconcile(key: string): Promise<ReconcileResult | void> {
    const slash = key.indexOf('/');
    if (slash < 0) return syncVolume(key);
    await syncClaim(key.slice(0, slash), key.slice(slash + 1));
  }

  const informers = [volumes, claims, classes, helperPods];
  return queueController({ name: localPathControllerName, queue, informers, reconcile, workers: options.workers ?? 1, logger: log });
}
