// The built-in resources navarch serves, with Kubernetes' discovery data (kube-apiserver v1.34):
// the same names, scopes, short names, categories, verbs, subresources and field selectors that
// `kubectl api-resources` shows against a real cluster, so clients that hard-code them keep working.
import type { KubeObject, ResourceDefinition } from './types.js';

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const NO_DELETECOLLECTION = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];
const CREATE_ONLY = ['create'];

/** Reads a dotted path as the string a field selector compares with (booleans and numbers as Go prints them). */
function fieldValue(obj: KubeObject, path: string): string | undefined {
  let current: unknown = obj;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  if (current === undefined || current === null) return undefined;
  if (typeof current === 'string') return current;
  if (typeof current === 'number' || typeof current === 'boolean') return String(current);
  return undefined;
}

/** Kubernetes converts absent fields to their Go zero value before matching ("" / "false" / "0"). */
function selectors(fields: Record<string, string | { path: string; zero: string }>): ResourceDefinition['fieldSelectors'] {
  const out: NonNullable<ResourceDefinition['fieldSelectors']> = {};
  for (const [name, spec] of Object.entries(fields)) {
    const { path, zero } = typeof spec === 'string' ? { path: spec, zero: '' } : spec;
    out[name] = (obj) => fieldValue(obj, path) ?? zero;
  }
  return out;
}

const eventSelectors = selectors({
  'involvedObject.kind': 'involvedObject.kind',
  'involvedObject.namespace': 'involvedObject.namespace',
  'involvedObject.name': 'involvedObject.name',
  'involvedObject.uid': 'involvedObject.uid',
  'involvedObject.apiVersion': 'involvedObject.apiVersion',
  'involvedObject.resourceVersion': 'involvedObject.resourceVersion',
  'involvedObject.fieldPath': 'involvedObject.fieldPath',
  reason: 'reason',
  reportingComponent: 'reportingComponent',
  source: 'source.component',
  type: 'type',
});

// events.k8s.io/v1 Events share storage with core Events; Kubernetes converts the field labels of
// the new API (regarding.*, reportingController, deprecatedSource) to the core ones.
const eventsV1Selectors = selectors({
  'regarding.kind': 'regarding.kind',
  'regarding.namespace': 'regarding.namespace',
  'regarding.name': 'regarding.name',
  'regarding.uid': 'regarding.uid',
  'regarding.apiVersion': 'regarding.apiVersion',
  'regarding.resourceVersion': 'regarding.resourceVersion',
  'regarding.fieldPath': 'regarding.fieldPath',
  reason: 'reason',
  reportingController: 'reportingController',
  'deprecatedSource.component': 'deprecatedSource.component',
  type: 'type',
});

const statusReplicas = selectors({ 'status.replicas': { path: 'status.replicas', zero: '0' } });

const replicaScale = { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.spec.selector' };

function core(kind: string, resource: string, rest: Partial<ResourceDefinition> = {}): ResourceDefinition {
  return { group: '', version: 'v1', kind, resource, singular: kind.toLowerCase(), namespaced: true, verbs: ALL_VERBS, ...rest };
}
function grouped(group: string, version: string, kind: string, resource: string, rest: Partial<ResourceDefinition> = {}): ResourceDefinition {
  return { group, version, kind, resource, singular: kind.toLowerCase(), namespaced: true, verbs: ALL_VERBS, ...rest };
}
function review(group: string, kind: string, resource: string, namespaced = false): ResourceDefinition {
  return grouped(group, 'v1', kind, resource, { namespaced, verbs: CREATE_ONLY, createOnly: true });
}

/** Every built-in resource, in the order Kubernetes lists them within each group version. */
export const builtinResources: ResourceDefinition[] = [
  // core/v1
  core('Binding', 'bindings', { verbs: CREATE_ONLY }),
  core('ComponentStatus', 'componentstatuses', { namespaced: false, verbs: ['get', 'list'], shortNames: ['cs'] }),
  core('ConfigMap', 'configmaps', { shortNames: ['cm'] }),
  core('Endpoints', 'endpoints', { singular: 'endpoints', shortNames: ['ep'] }),
  core('Event', 'events', { shortNames: ['ev'], fieldSelectors: eventSelectors }),
  core('LimitRange', 'limitranges', { shortNames: ['limits'] }),
  core('Namespace', 'namespaces', {
    namespaced: false, verbs: NO_DELETECOLLECTION, shortNames: ['ns'], subresources: ['finalize', 'status'],
    fieldSelectors: selectors({ 'status.phase': 'status.phase' }),
  }),
  core('Node', 'nodes', {
    namespaced: false, shortNames: ['no'], subresources: ['proxy', 'status'],
    fieldSelectors: selectors({ 'spec.unschedulable': { path: 'spec.unschedulable', zero: 'false' } }),
  }),
  core('PersistentVolumeClaim', 'persistentvolumeclaims', { shortNames: ['pvc'], subresources: ['status'] }),
  core('PersistentVolume', 'persistentvolumes', { namespaced: false, shortNames: ['pv'], subresources: ['status'] }),
  core('Pod', 'pods', {
    shortNames: ['po'], categories: ['all'],
    subresources: ['attach', 'binding', 'ephemeralcontainers', 'eviction', 'exec', 'log', 'portforward', 'proxy', 'resize', 'status'],
    fieldSelectors: selectors({
      'spec.nodeName': 'spec.nodeName',
      'spec.restartPolicy': 'spec.restartPolicy',
      'spec.schedulerName': 'spec.schedulerName',
      'spec.serviceAccountName': 'spec.serviceAccountName',
      'spec.hostNetwork': { path: 'spec.hostNetwork', zero: 'false' },
      'status.phase': 'status.phase',
      'status.podIP': 'status.podIP',
      'status.nominatedNodeName': 'status.nominatedNodeName',
    }),
  }),
  core('PodTemplate', 'podtemplates'),
  core('ReplicationController', 'replicationcontrollers', {
    shortNames: ['rc'], categories: ['all'], subresources: ['scale', 'status'], scale: replicaScale, fieldSelectors: statusReplicas,
  }),
  core('ResourceQuota', 'resourcequotas', { shortNames: ['quota'], subresources: ['status'] }),
  core('Secret', 'secrets', { fieldSelectors: selectors({ type: 'type' }) }),
  core('ServiceAccount', 'serviceaccounts', { shortNames: ['sa'], subresources: ['token'] }),
  core('Service', 'services', {
    shortNames: ['svc'], categories: ['all'], subresources: ['proxy', 'status'],
    fieldSelectors: selectors({ 'spec.clusterIP': 'spec.clusterIP', 'spec.type': 'spec.type' }),
  }),

  // apps/v1
  grouped('apps', 'v1', 'ControllerRevision', 'controllerrevisions'),
  grouped('apps', 'v1', 'DaemonSet', 'daemonsets', { shortNames: ['ds'], categories: ['all'], subresources: ['status'] }),
  grouped('apps', 'v1', 'Deployment', 'deployments', {
    shortNames: ['deploy'], categories: ['all'], subresources: ['scale', 'status'], scale: replicaScale,
  }),
  grouped('apps', 'v1', 'ReplicaSet', 'replicasets', {
    shortNames: ['rs'], categories: ['all'], subresources: ['scale', 'status'], scale: replicaScale, fieldSelectors: statusReplicas,
  }),
  grouped('apps', 'v1', 'StatefulSet', 'statefulsets', {
    shortNames: ['sts'], categories: ['all'], subresources: ['scale', 'status'], scale: replicaScale,
  }),

  // authentication.k8s.io/v1
  review('authentication.k8s.io', 'SelfSubjectReview', 'selfsubjectreviews'),
  review('authentication.k8s.io', 'TokenReview', 'tokenreviews'),

  // authorization.k8s.io/v1
  review('authorization.k8s.io', 'LocalSubjectAccessReview', 'localsubjectaccessreviews', true),
  review('authorization.k8s.io', 'SelfSubjectAccessReview', 'selfsubjectaccessreviews'),
  review('authorization.k8s.io', 'SelfSubjectRulesReview', 'selfsubjectrulesreviews'),
  review('authorization.k8s.io', 'SubjectAccessReview', 'subjectaccessreviews'),

  // autoscaling/v2 (preferred) and v1: one stored resource served in two versions
  grouped('autoscaling', 'v2', 'HorizontalPodAutoscaler', 'horizontalpodautoscalers', {
    shortNames: ['hpa'], categories: ['all'], subresources: ['status'],
  }),
  grouped('autoscaling', 'v1', 'HorizontalPodAutoscaler', 'horizontalpodautoscalers', {
    shortNames: ['hpa'], categories: ['all'], subresources: ['status'],
  }),

  // batch/v1
  grouped('batch', 'v1', 'CronJob', 'cronjobs', { shortNames: ['cj'], categories: ['all'], subresources: ['status'] }),
  grouped('batch', 'v1', 'Job', 'jobs', {
    categories: ['all'], subresources: ['status'],
    fieldSelectors: selectors({ 'status.successful': { path: 'status.succeeded', zero: '0' } }),
  }),

  // certificates.k8s.io/v1
  grouped('certificates.k8s.io', 'v1', 'CertificateSigningRequest', 'certificatesigningrequests', {
    namespaced: false, shortNames: ['csr'], subresources: ['approval', 'status'],
    fieldSelectors: selectors({ 'spec.signerName': 'spec.signerName' }),
  }),

  // coordination.k8s.io/v1
  grouped('coordination.k8s.io', 'v1', 'Lease', 'leases'),

  // discovery.k8s.io/v1
  grouped('discovery.k8s.io', 'v1', 'EndpointSlice', 'endpointslices'),

  // events.k8s.io/v1
  grouped('events.k8s.io', 'v1', 'Event', 'events', {
    shortNames: ['ev'], fieldSelectors: eventsV1Selectors, storageGroupResource: 'events',
  }),

  // networking.k8s.io/v1
  grouped('networking.k8s.io', 'v1', 'IngressClass', 'ingressclasses', { namespaced: false }),
  grouped('networking.k8s.io', 'v1', 'Ingress', 'ingresses', { shortNames: ['ing'], subresources: ['status'] }),
  grouped('networking.k8s.io', 'v1', 'NetworkPolicy', 'networkpolicies', { shortNames: ['netpol'] }),

  // node.k8s.io/v1
  grouped('node.k8s.io', 'v1', 'RuntimeClass', 'runtimeclasses', { namespaced: false }),

  // policy/v1
  grouped('policy', 'v1', 'PodDisruptionBudget', 'poddisruptionbudgets', { shortNames: ['pdb'], subresources: ['status'] }),

  // rbac.authorization.k8s.io/v1
  grouped('rbac.authorization.k8s.io', 'v1', 'ClusterRoleBinding', 'clusterrolebindings', { namespaced: false }),
  grouped('rbac.authorization.k8s.io', 'v1', 'ClusterRole', 'clusterroles', { namespaced: false }),
  grouped('rbac.authorization.k8s.io', 'v1', 'RoleBinding', 'rolebindings'),
  grouped('rbac.authorization.k8s.io', 'v1', 'Role', 'roles'),

  // storage.k8s.io/v1
  grouped('storage.k8s.io', 'v1', 'CSIDriver', 'csidrivers', { namespaced: false }),
  grouped('storage.k8s.io', 'v1', 'CSINode', 'csinodes', { namespaced: false }),
  grouped('storage.k8s.io', 'v1', 'StorageClass', 'storageclasses', { namespaced: false, shortNames: ['sc'] }),
  grouped('storage.k8s.io', 'v1', 'VolumeAttachment', 'volumeattachments', { namespaced: false, subresources: ['status'] }),

  // admissionregistration.k8s.io/v1: stored and served; navarch does not call the webhooks yet
  grouped('admissionregistration.k8s.io', 'v1', 'MutatingWebhookConfiguration', 'mutatingwebhookconfigurations', {
    namespaced: false, categories: ['api-extensions'],
  }),
  grouped('admissionregistration.k8s.io', 'v1', 'ValidatingWebhookConfiguration', 'validatingwebhookconfigurations', {
    namespaced: false, categories: ['api-extensions'],
  }),

  // apiextensions.k8s.io/v1
  grouped('apiextensions.k8s.io', 'v1', 'CustomResourceDefinition', 'customresourcedefinitions', {
    namespaced: false, shortNames: ['crd', 'crds'], categories: ['api-extensions'], subresources: ['status'],
  }),

  // scheduling.k8s.io/v1
  grouped('scheduling.k8s.io', 'v1', 'PriorityClass', 'priorityclasses', { namespaced: false, shortNames: ['pc'] }),

  // apiregistration.k8s.io/v1
  grouped('apiregistration.k8s.io', 'v1', 'APIService', 'apiservices', {
    namespaced: false, categories: ['api-extensions'], subresources: ['status'],
  }),

  // metrics.k8s.io/v1beta1: read-only, computed from kubelet summaries by the API server itself
  // (src/apiserver/metrics-api/) instead of an aggregated metrics-server; nothing is stored.
  grouped('metrics.k8s.io', 'v1beta1', 'NodeMetrics', 'nodes', { namespaced: false, verbs: ['get', 'list'] }),
  grouped('metrics.k8s.io', 'v1beta1', 'PodMetrics', 'pods', { verbs: ['get', 'list'] }),
];

export interface ApiGroupVersions {
  /** '' for the legacy core group served at /api. */
  name: string;
  /** Served versions, preferred first (the order of APIGroup.versions in /apis). */
  versions: string[];
  preferredVersion: string;
}

/** The groups in the order kube-apiserver lists them at /apis (by the aggregator's group priority). */
export const builtinApiGroups: ApiGroupVersions[] = [
  { name: 'apiregistration.k8s.io', versions: ['v1'], preferredVersion: 'v1' },
  { name: 'apps', versions: ['v1'], preferredVersion: 'v1' },
  { name: 'events.k8s.io', versions: ['v1'], preferredVersion: 'v1' },
  { name: 'authentication.k8s.io', versions: ['v1'], preferredVersion: 'v1' },
  { name: 'authorization.k8s.io', versions: ['v1'], preferredVersion: 'v1' },
  { name: 'autoscaling', versions: ['v2', 'v1'], preferredVersion: 'v2' },
  { name: 'batch', versions: ['v1'], preferredVersion: 'v1' },
  { name: 'certificates.k8s.io', versions: ['v1'], preferredVersion: 'v1' },
  { name: 'networking.k8s.io', versions: ['v1'], preferredVersion: 'v1' },
  { name: 'policy', versions: ['v1'], preferredVersion: 'v1' },
  { name: 'rbac.authorization.k8s.io', versions: ['v1'], preferredVersion: 'v1' },
  { name: 'storage.k8s.io', versions: ['v1'], preferredVersion: 'v1' },
  { name: 'admissionregistration.k8s.io', versions: ['v1'], preferredVersion: 'v1' },
  { name: 'apiextensions.k8s.io', versions: ['v1'], preferredVersion: 'v1' },
  { name: 'scheduling.k8s.io', versions: ['v1'], preferredVersion: 'v1' },
  { name: 'coordination.k8s.io', versions: ['v1'], preferredVersion: 'v1' },
  { name: 'node.k8s.io', versions: ['v1'], preferredVersion: 'v1' },
  { name: 'discovery.k8s.io', versions: ['v1'], preferredVersion: 'v1' },
  { name: 'metrics.k8s.io', versions: ['v1beta1'], preferredVersion: 'v1beta1' },
];

/** What discovery says about one subresource: its verbs and, when it is not the parent kind, its kind. */
export interface SubresourceInfo {
  verbs: string[];
  group?: string;
  version?: string;
  kind: string;
}

/** Kubernetes' discovery entry for `parent/subresource` (e.g. deployments/scale → autoscaling/v1 Scale). */
export function subresourceInfo(parent: ResourceDefinition, subresource: string): SubresourceInfo | undefined {
  const same = { kind: parent.kind };
  switch (subresource) {
    case 'status':
      return { ...same, verbs: ['get', 'patch', 'update'] };
    case 'scale':
      return { group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] };
    case 'binding':
      return { group: '', version: 'v1', kind: 'Binding', verbs: ['create'] };
    case 'eviction':
      return { group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] };
    case 'ephemeralcontainers':
    case 'resize':
      return { ...same, verbs: ['get', 'patch', 'update'] };
    case 'log':
      return { ...same, verbs: ['get'] };
    case 'exec':
    case 'attach':
    case 'portforward':
      return { group: '', version: 'v1', kind: subresource === 'exec' ? 'PodExecOptions' : subresource === 'attach' ? 'PodAttachOptions' : 'PodPortForwardOptions', verbs: ['create', 'get'] };
    case 'proxy':
      return { group: '', version: 'v1', kind: `${parent.kind}ProxyOptions`, verbs: ['create', 'delete', 'get', 'patch', 'update'] };
    case 'finalize':
      return { ...same, verbs: ['update'] };
    case 'approval':
      return { ...same, verbs: ['get', 'patch', 'update'] };
    case 'token':
      return { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest', verbs: ['create'] };
    default:
      return undefined;
  }
}
