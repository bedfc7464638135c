// The resources the volume controllers read and write, as client ResourceRefs.
import type { ResourceRef } from '../../client/client.js';

export const persistentVolumesResource: ResourceRef = { group: '', version: 'v1', resource: 'persistentvolumes', namespaced: false, kind: 'PersistentVolume' };
export const persistentVolumeClaimsResource: ResourceRef = { group: '', version: 'v1', resource: 'persistentvolumeclaims', namespaced: true, kind: 'PersistentVolumeClaim' };
export const storageClassesResource: ResourceRef = { group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses', namespaced: false, kind: 'StorageClass' };
export const nodesResource: ResourceRef = { group: '', version: 'v1', resource: 'nodes', namespaced: false, kind: 'Node' };

/** Index of pods by the claims their volumes use ("namespace/claimName"). */
export const podsByClaimIndex = 'persistentVolumeClaim';
/** Index of volumes by the claim their claimRef names ("namespace/claimName"). */
export const volumesByClaimIndex = 'claimRef';
