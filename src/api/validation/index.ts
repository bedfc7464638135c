// Entry points the apiserver calls: validateObject on create, validateUpdate on update
// (both after applyDefaults), and statusError422 to turn the errors into Kubernetes' Status.
import type { FieldError, KubeObject } from '../types.js';
import { errorString } from './field.js';
import { nameIsDNS1035Label, nameIsDNSLabel, nameIsDNSSubdomain, nameIsPathSegment, type NameValidator } from './names.js';
import { validateObjectMeta, validateObjectMetaUpdate, type Obj } from './common.js';
import { validatePod, validatePodUpdate } from './pod.js';
import {
  validateControllerRevision,
  validateControllerRevisionUpdate,
  validateDaemonSet,
  validateDeployment,
  validateReplicaSet,
  validateReplicationController,
  validateSelectorUpdate,
  validateStatefulSet,
  validateStatefulSetUpdate,
} from './apps.js';
import { validateCronJob, validateCronJobUpdate, validateJob, validateJobUpdate } from './batch.js';
import {
  validateConfigMap,
  validateConfigMapUpdate,
  validateEndpoints,
  validateEvent,
  validateLimitRange,
  validateNamespace,
  validateNode,
  validateNodeUpdate,
  validatePodTemplate,
  validateResourceQuota,
  validateSecret,
  validateSecretUpdate,
  validateService,
  validateServiceAccount,
  validateServiceUpdate,
} from './core.js';
import {
  validatePersistentVolume,
  validatePersistentVolumeClaim,
  validatePersistentVolumeClaimUpdate,
  validatePersistentVolumeUpdate,
  validateStorageClass,
  validateStorageClassUpdate,
} from './storage.js';
import {
  validateBindingUpdate,
  validateClusterRole,
  validateClusterRoleBinding,
  validateCustomResourceDefinition,
  validateCustomResourceDefinitionUpdate,
  validateEndpointSlice,
  validateEndpointSliceUpdate,
  validateHPAv1,
  validateHPAv2,
  validateIngress,
  validateIngressClass,
  validateIngressClassUpdate,
  validateLease,
  validateNetworkPolicy,
  validatePodDisruptionBudget,
  validatePriorityClass,
  validatePriorityClassUpdate,
  validateRole,
  validateRoleBinding,
  validateRuntimeClass,
  validateRuntimeClassUpdate,
} from './other.js';

export interface KindValidation {
  /** How metadata.name is checked (default: DNS-1123 subdomain). */
  name?: NameValidator;
  namespaced: boolean;
  validate?: (obj: Obj) => FieldError[];
  /** Extra checks on update, after validate(newObj). */
  validateUpdate?: (newObj: Obj, oldObj: Obj) => FieldError[];
  /** When set, replaces validate(newObj) on update (the old object changes what is allowed). */
  validateForUpdate?: (newObj: Obj, oldObj: Obj) => FieldError[];
}

/** HPA has two shapes in one kind; the apiVersion picks the rules. */
function validateHPA(obj: Obj): FieldError[] {
  return String(obj.apiVersion ?? '').endsWith('/v1') ? validateHPAv1(obj) : validateHPAv2(obj);
}

export const kindValidations: Record<string, KindValidation> = {
  Pod: { namespaced: true, validate: validatePod, validateUpdate: validatePodUpdate },
  PodTemplate: { namespaced: true, validate: validatePodTemplate },
  ReplicationController: { namespaced: true, validate: validateReplicationController },
  Service: { namespaced: true, name: nameIsDNS1035Label, validate: validateService, validateUpdate: validateServiceUpdate },
  Endpoints: { namespaced: true, validate: validateEndpoints },
  ConfigMap: { namespaced: true, validate: validateConfigMap, validateUpdate: validateConfigMapUpdate },
  Secret: { namespaced: true, validate: validateSecret, validateUpdate: validateSecretUpdate },
  ServiceAccount: { namespaced: true, validate: validateServiceAccount },
  Namespace: { namespaced: false, name: nameIsDNSLabel, validate: validateNamespace },
  Node: { namespaced: false, validate: validateNode, validateUpdate: validateNodeUpdate },
  PersistentVolume: { namespaced: false, validate: validatePersistentVolume, validateUpdate: validatePersistentVolumeUpdate },
  PersistentVolumeClaim: { namespaced: true, validate: validatePersistentVolumeClaim, validateUpdate: validatePersistentVolumeClaimUpdate },
  ResourceQuota: { namespaced: true, validate: validateResourceQuota },
  LimitRange: { namespaced: true, validate: validateLimitRange },
  Event: { namespaced: true, validate: validateEvent },
  'Event.events.k8s.io': { namespaced: true },
  'Deployment.apps': { namespaced: true, validate: validateDeployment, validateUpdate: validateSelectorUpdate },
  'ReplicaSet.apps': { namespaced: true, validate: validateReplicaSet, validateUpdate: validateSelectorUpdate },
  'DaemonSet.apps': { namespaced: true, validate: validateDaemonSet, validateUpdate: validateSelectorUpdate },
  'StatefulSet.apps': { namespaced: true, validate: validateStatefulSet, validateUpdate: validateStatefulSetUpdate },
  'ControllerRevision.apps': { namespaced: true, validate: validateControllerRevision, validateUpdate: validateControllerRevisionUpdate },
  'Job.batch': { namespaced: true, validate: validateJob, validateUpdate: validateJobUpdate },
  'CronJob.batch': { namespaced: true, validate: validateCronJob, validateForUpdate: validateCronJobUpdate },
  'Ingress.networking.k8s.io': { namespaced: true, validate: validateIngress },
  'IngressClass.networking.k8s.io': { namespaced: false, validate: validateIngressClass, validateUpdate: validateIngressClassUpdate },
  'NetworkPolicy.networking.k8s.io': { namespaced: true, validate: validateNetworkPolicy },
  'HorizontalPodAutoscaler.autoscaling': { namespaced: true, validate: validateHPA },
  'PodDisruptionBudget.policy': { namespaced: true, validate: validatePodDisruptionBudget },
  'StorageClass.storage.k8s.io': { namespaced: false, validate: validateStorageClass, validateUpdate: validateStorageClassUpdate },
  'CSIDriver.storage.k8s.io': { namespaced: false },
  'CSINode.storage.k8s.io': { namespaced: false },
  'VolumeAttachment.storage.k8s.io': { namespaced: false },
  'Role.rbac.authorization.k8s.io': { namespaced: true, name: nameIsPathSegment, validate: validateRole },
  'ClusterRole.rbac.authorization.k8s.io': { namespaced: false, name: nameIsPathSegment, validate: validateClusterRole },
  'RoleBinding.rbac.authorization.k8s.io': { namespaced: true, name: nameIsPathSegment, validate: validateRoleBinding, validateUpdate: validateBindingUpdate },
  'ClusterRoleBinding.rbac.authorization.k8s.io': {
    namespaced: false,
    name: nameIsPathSegment,
    validate: validateClusterRoleBinding,
    validateUpdate: validateBindingUpdate,
  },
  'Lease.coordination.k8s.io': { namespaced: true, validate: validateLease },
  'EndpointSlice.discovery.k8s.io': { namespaced: true, validate: validateEndpointSlice, validateUpdate: validateEndpointSliceUpdate },
  'PriorityClass.scheduling.k8s.io': { namespaced: false, validate: validatePriorityClass, validateUpdate: validatePriorityClassUpdate },
  'RuntimeClass.node.k8s.io': { namespaced: false, name: nameIsDNSSubdomain, validate: validateRuntimeClass, validateUpdate: validateRuntimeClassUpdate },
  'CustomResourceDefinition.apiextensions.k8s.io': {
    namespaced: false,
    validate: validateCustomResourceDefinition,
    validateUpdate: validateCustomResourceDefinitionUpdate,
  },
  'APIService.apiregistration.k8s.io': { namespaced: false },
  'CertificateSigningRequest.certificates.k8s.io': { namespaced: false },
  'ValidatingWebhookConfiguration.admissionregistration.k8s.io': { namespaced: false },
  'MutatingWebhookConfiguration.admissionregistration.k8s.io': { namespaced: false },
};

export interface ValidateOptions {
  /** Overrides the scope from the table (for custom resources: from their CRD). */
  namespaced?: boolean;
}

function metaOptions(gk: string, opts: ValidateOptions) {
  const entry = kindValidations[gk];
  return { nameValidator: entry?.name ?? nameIsDNSSubdomain, namespaced: opts.namespaced ?? entry?.namespaced };
}

/** All problems with a new object; [] when valid. Call after applyDefaults. */
export function validateObject(gk: string, obj: KubeObject, opts: ValidateOptions = {}): FieldError[] {
  const errs = validateObjectMeta(obj.metadata, metaOptions(gk, opts));
  const entry = kindValidations[gk];
  if (entry?.validate) errs.push(...entry.validate(obj));
  return errs;
}

/** All problems with an update from oldObj to newObj, including those validateObject finds. */
export function validateUpdate(gk: string, newObj: KubeObject, oldObj: KubeObject, opts: ValidateOptions = {}): FieldError[] {
  const entry = kindValidations[gk];
  const errs = validateObjectMetaUpdate(newObj.metadata, oldObj.metadata);
  errs.push(...validateObjectMeta(newObj.metadata, metaOptions(gk, opts)));
  if (entry?.validateForUpdate) errs.push(...entry.validateForUpdate(newObj, oldObj));
  else if (entry?.validate) errs.push(...entry.validate(newObj));
  if (entry?.validateUpdate) errs.push(...entry.validateUpdate(newObj, oldObj));
  return errs;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason: 'Invalid';
  details: { name: string; group?: string; kind: string; causes: Array<{ reason: string; message: string; field: string }> };
  code: 422;
}

/** errors.NewInvalid: `Deployment.apps "x" is invalid: [a: ..., b: ...]` (no brackets for one error). */
export function statusError422(gk: string, name: string, errors: FieldError[]): Status {
  const dot = gk.indexOf('.');
  const kind = dot < 0 ? gk : gk.slice(0, dot);
  const group = dot < 0 ? '' : gk.slice(dot + 1);
  // The aggregate de-duplicates identical messages but keeps order.
  const messages = [...new Set(errors.map(errorString))];
  let message = `${gk} ${JSON.stringify(name)} is invalid`;
  if (messages.length === 1) message += `: ${messages[0]}`;
  else if (messages.length > 1) message += `: [${messages.join(', ')}]`;
  const details: Status['details'] = { name, ...(group ? { group } : {}), kind, causes: errors.map((e) => ({ reason: e.type, message: e.message, field: e.field })) };
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: 'Invalid', details, code: 422 };
}

export type { FieldError };
export { errorString };
