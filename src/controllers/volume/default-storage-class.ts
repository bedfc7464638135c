// The DefaultStorageClass admission plugin: a new claim that names no class (storageClassName
// unset — an explicit "" means "no class" and is kept) gets the cluster's default StorageClass.
// When several classes are marked default, the newest wins (Kubernetes ≥ 1.26).
import type { AdmissionPlugin } from '../../apiserver/admission.js';
import type { AdmissionConfig } from '../../apiserver/admission-plugins.js';
import { annBetaStorageClass, defaultStorageClass } from './matching.js';

export function defaultStorageClassAdmission(config: Pick<AdmissionConfig, 'resources' | 'registry'>): AdmissionPlugin {
  return {
    name: 'DefaultStorageClass',
    async admit(a) {
      if (a.operation !== 'CREATE' || a.resource.groupKind !== 'PersistentVolumeClaim' || a.subresource || !a.object) return;
      const claim = a.object;
      const spec = claim.spec ?? (claim.spec = {});
      if (spec.storageClassName !== undefined && spec.storageClassName !== null) return;
      if (claim.metadata.annotations?.[annBetaStorageClass] !== undefined) return;
      const served = config.registry().lookup('storage.k8s.io', 'v1', 'storageclasses');
      if (!served) return;
      const { items } = await config.resources().list(served, '', {});
      const chosen = defaultStorageClass(items);
      if (chosen) spec.storageClassName = chosen.metadata.name;
    },
  };
}
