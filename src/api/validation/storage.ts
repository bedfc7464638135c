// PersistentVolume, PersistentVolumeClaim (core) and StorageClass (storage.k8s.io).
import type { FieldError } from '../types.js';
import { child, forbidden, invalid, key, notSupported, omitValue, required, tooLong } from './field.js';
import { isDNS1123Subdomain, isQualifiedName } from './names.js';
import { arr, deepEqual, enumField, immutable, isObj, sortedKeys, validateLabelSelector, type Obj } from './common.js';
import { parseQuantity } from './quantity.js';

const accessModes = ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod'];
const volumeModes = ['Block', 'Filesystem'];

function validateAccessModes(modes: unknown, path: string, requiredDetail: string): FieldError[] {
  const errs: FieldError[] = [];
  const list = arr<string>(modes);
  if (list.length === 0) errs.push(required(path, requiredDetail));
  let rwop = false;
  let other = false;
  for (const m of list) {
    if (!accessModes.includes(m)) errs.push(notSupported(path, m, accessModes));
    if (m === 'ReadWriteOncePod') rwop = true;
    else other = true;
  }
  if (rwop && other) errs.push(forbidden(path, 'may not use ReadWriteOncePod with other access modes'));
  return errs;
}

function positiveQuantity(q: unknown, path: string): FieldError[] {
  const v = parseQuantity(q);
  if (v === undefined) return [invalid(path, String(q), "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")];
  if (v <= 0) return [invalid(path, String(q), 'must be greater than zero')];
  return [];
}

const pvSources = [
  'hostPath', 'gcePersistentDisk', 'awsElasticBlockStore', 'glusterfs', 'flocker', 'nfs', 'rbd', 'quobyte', 'cinder', 'cephfs', 'fc',
  'iscsi', 'azureFile', 'vsphereVolume', 'azureDisk', 'photonPersistentDisk', 'portworxVolume', 'scaleIO', 'local', 'storageos', 'csi',
  'flexVolume',
];

export function validatePersistentVolume(obj: Obj): FieldError[] {
  const spec = isObj(obj.spec) ? obj.spec : {};
  const errs: FieldError[] = [];
  errs.push(...validateAccessModes(spec.accessModes, 'spec.accessModes', ''));
  const capacity = isObj(spec.capacity) ? spec.capacity : {};
  if (Object.keys(capacity).length === 0) errs.push(required('spec.capacity', ''));
  if (!('storage' in capacity) || Object.keys(capacity).length > 1) errs.push(notSupported('spec.capacity', omitValue, ['storage']));
  for (const r of sortedKeys(capacity)) errs.push(...positiveQuantity(capacity[r], key('spec.capacity', r)));
  if (spec.storageClassName) for (const msg of isDNS1123Subdomain(spec.storageClassName)) errs.push(invalid('spec.storageClassName', spec.storageClassName, msg));
  if (spec.volumeMode !== undefined && spec.volumeMode !== null && !volumeModes.includes(spec.volumeMode)) {
    errs.push(notSupported('spec.volumeMode', spec.volumeMode, volumeModes));
  }
  const present = pvSources.filter((s) => isObj(spec[s]));
  if (present.length === 0) errs.push(required('spec', 'must specify a volume type'));
  present.slice(1).forEach((s) => errs.push(forbidden(`spec.${s}`, 'may not specify more than 1 volume type')));
  if (isObj(spec.hostPath) && !spec.hostPath.path) errs.push(required('spec.hostPath.path', ''));
  if (isObj(spec.local)) {
    if (!spec.local.path) errs.push(required('spec.local.path', ''));
    if (!isObj(spec.nodeAffinity)) errs.push(required('spec.nodeAffinity', 'Local volume requires node affinity'));
  }
  if (isObj(spec.csi)) {
    if (!spec.csi.driver) errs.push(required('spec.csi.driver', ''));
    if (!spec.csi.volumeHandle) errs.push(required('spec.csi.volumeHandle', ''));
  }
  if (isObj(spec.nfs)) {
    if (!spec.nfs.server) errs.push(required('spec.nfs.server', ''));
    if (!spec.nfs.path) errs.push(required('spec.nfs.path', ''));
  }
  if (spec.persistentVolumeReclaimPolicy) {
    errs.push(...enumField(spec.persistentVolumeReclaimPolicy, 'spec.persistentVolumeReclaimPolicy', ['Delete', 'Recycle', 'Retain']));
  }
  return errs;
}

export function validatePersistentVolumeUpdate(newObj: Obj, oldObj: Obj): FieldError[] {
  const errs: FieldError[] = [];
  const source = (o: Obj) => Object.fromEntries(pvSources.map((s) => [s, o.spec?.[s]]));
  if (!deepEqual(source(newObj), source(oldObj))) {
    errs.push(forbidden('spec.persistentvolumesource', 'spec.persistentvolumesource is immutable after creation'));
  }
  errs.push(...immutable(newObj.spec?.volumeMode ?? null, oldObj.spec?.volumeMode ?? null, 'volumeMode'));
  if (isObj(oldObj.spec?.nodeAffinity)) errs.push(...immutable(newObj.spec?.nodeAffinity ?? null, oldObj.spec.nodeAffinity, 'nodeAffinity', omitValue));
  return errs;
}

export function validatePersistentVolumeClaimSpec(spec: unknown, path: string): FieldError[] {
  const s = isObj(spec) ? spec : {};
  const errs: FieldError[] = [];
  errs.push(...validateAccessModes(s.accessModes, child(path, 'accessModes'), 'at least 1 access mode is required'));
  if (isObj(s.selector)) errs.push(...validateLabelSelector(s.selector, child(path, 'selector')));
  const storage = s.resources?.requests?.storage;
  if (storage === undefined || storage === null) errs.push(required(key(child(path, 'resources'), 'storage'), ''));
  else errs.push(...positiveQuantity(storage, key(child(path, 'resources'), 'storage')));
  if (s.storageClassName) for (const msg of isDNS1123Subdomain(s.storageClassName)) errs.push(invalid(child(path, 'storageClassName'), s.storageClassName, msg));
  if (s.volumeMode !== undefined && s.volumeMode !== null && !volumeModes.includes(s.volumeMode)) {
    errs.push(notSupported(child(path, 'volumeMode'), s.volumeMode, volumeModes));
  }
  return errs;
}

export function validatePersistentVolumeClaim(obj: Obj): FieldError[] {
  return validatePersistentVolumeClaimSpec(obj.spec, 'spec');
}

export function validatePersistentVolumeClaimUpdate(newObj: Obj, oldObj: Obj): FieldError[] {
  const errs: FieldError[] = [];
  const n = structuredClone(newObj.spec ?? {});
  const o = structuredClone(oldObj.spec ?? {});
  // The binder sets volumeName once; bound claims may grow and change their volume attributes class.
  if (!o.volumeName) o.volumeName = n.volumeName;
  if (newObj.status?.phase === 'Bound') {
    if (isObj(n.resources?.requests)) n.resources.requests.storage = o.resources?.requests?.storage;
    n.volumeAttributesClassName = o.volumeAttributesClassName;
  }
  if (!deepEqual(n, o)) errs.push(forbidden('spec', 'spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims'));
  const newSize = parseQuantity(newObj.spec?.resources?.requests?.storage);
  const oldSize = parseQuantity(oldObj.spec?.resources?.requests?.storage);
  if (newSize !== undefined && oldSize !== undefined && newSize < oldSize) {
    errs.push(forbidden('spec.resources.requests.storage', 'field can not be less than previous value'));
  }
  return errs;
}

const maxProvisionerParameterSize = 256 * 1024;
const maxProvisionerParameterLen = 512;

export function validateStorageClass(obj: Obj): FieldError[] {
  const errs: FieldError[] = [];
  if (!obj.provisioner) errs.push(required('provisioner', ''));
  else for (const msg of isQualifiedName(String(obj.provisioner).toLowerCase())) errs.push(invalid('provisioner', obj.provisioner, msg));
  if (isObj(obj.parameters)) {
    const keys = Object.keys(obj.parameters);
    if (keys.length > maxProvisionerParameterLen) errs.push(tooLong('parameters', maxProvisionerParameterLen));
    let size = 0;
    for (const k of keys.sort()) {
      if (k.length === 0) errs.push(invalid('parameters', k, 'field can not be empty.'));
      size += k.length + String(obj.parameters[k]).length;
    }
    if (size > maxProvisionerParameterSize) errs.push(tooLong('parameters', maxProvisionerParameterSize));
  }
  if (obj.reclaimPolicy) errs.push(...enumField(obj.reclaimPolicy, 'reclaimPolicy', ['Delete', 'Retain']));
  errs.push(...enumField(obj.volumeBindingMode, 'volumeBindingMode', ['Immediate', 'WaitForFirstConsumer']));
  return errs;
}

export function validateStorageClassUpdate(newObj: Obj, oldObj: Obj): FieldError[] {
  const errs: FieldError[] = [];
  if (!deepEqual(newObj.parameters ?? null, oldObj.parameters ?? null)) errs.push(forbidden('parameters', 'updates to parameters are forbidden.'));
  if ((newObj.provisioner ?? '') !== (oldObj.provisioner ?? '')) errs.push(forbidden('provisioner', 'updates to provisioner are forbidden.'));
  if ((newObj.reclaimPolicy ?? '') !== (oldObj.reclaimPolicy ?? '')) errs.push(forbidden('reclaimPolicy', 'updates to reclaimPolicy are forbidden.'));
  errs.push(...immutable(newObj.volumeBindingMode ?? null, oldObj.volumeBindingMode ?? null, 'volumeBindingMode'));
  return errs;
}
