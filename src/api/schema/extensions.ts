// Kubernetes' list/map/patch markers for the built-in types. client-node's models drop them, so they
// are written here from Kubernetes' Go type tags (+listType, +listMapKey, +patchMergeKey,
// +patchStrategy, +mapType, +structType) — strategic merge patch and server-side apply depend on them.
import type { SchemaNode } from '../types.js';

type Extensions = Pick<SchemaNode,
  'x-kubernetes-patch-merge-key' | 'x-kubernetes-patch-strategy' | 'x-kubernetes-list-type' | 'x-kubernetes-list-map-keys' | 'x-kubernetes-map-type'>;

const atomic: Extensions = { 'x-kubernetes-list-type': 'atomic' };
const set: Extensions = { 'x-kubernetes-list-type': 'set' };
const atomicMap: Extensions = { 'x-kubernetes-map-type': 'atomic' };
/** A list merged by one key, both by strategic merge patch and by server-side apply. */
function mergeBy(key: string, strategy = 'merge', mapKeys: string[] = [key]): Extensions {
  return {
    'x-kubernetes-patch-merge-key': key,
    'x-kubernetes-patch-strategy': strategy,
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': mapKeys,
  };
}
function mapList(...keys: string[]): Extensions {
  return { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': keys };
}
const conditions = mergeBy('type');

const CORE = 'io.k8s.api.core.v1.';
const META = 'io.k8s.apimachinery.pkg.apis.meta.v1.';

const containerFields: Record<string, Extensions> = {
  command: atomic,
  args: atomic,
  ports: mergeBy('containerPort', 'merge', ['containerPort', 'protocol']),
  envFrom: atomic,
  env: mergeBy('name'),
  resizePolicy: atomic,
  restartPolicyRules: atomic,
  volumeMounts: mergeBy('mountPath'),
  volumeDevices: mergeBy('devicePath'),
};

/** Per definition name, per field (JSON name): the markers on that field. */
export const fieldExtensions: Record<string, Record<string, Extensions>> = {
  [`${META}ObjectMeta`]: {
    finalizers: { 'x-kubernetes-patch-strategy': 'merge', 'x-kubernetes-list-type': 'set' },
    ownerReferences: mergeBy('uid'),
    managedFields: atomic,
  },
  [`${META}LabelSelector`]: { matchExpressions: atomic },
  [`${META}LabelSelectorRequirement`]: { values: atomic },
  [`${META}Status`]: {},
  [`${META}StatusDetails`]: { causes: atomic },
  [`${META}APIResource`]: { verbs: atomic, shortNames: atomic, categories: atomic },

  [`${CORE}PodSpec`]: {
    volumes: mergeBy('name', 'merge,retainKeys'),
    initContainers: mergeBy('name'),
    containers: mergeBy('name'),
    ephemeralContainers: mergeBy('name'),
    imagePullSecrets: mergeBy('name'),
    tolerations: atomic,
    hostAliases: mergeBy('ip'),
    readinessGates: atomic,
    topologySpreadConstraints: mergeBy('topologyKey', 'merge', ['topologyKey', 'whenUnsatisfiable']),
    schedulingGates: mergeBy('name'),
    resourceClaims: mergeBy('name', 'merge,retainKeys'),
    nodeSelector: atomicMap,
  },
  [`${CORE}PodStatus`]: {
    conditions,
    podIPs: mergeBy('ip'),
    hostIPs: { 'x-kubernetes-patch-merge-key': 'ip', 'x-kubernetes-patch-strategy': 'merge', 'x-kubernetes-list-type': 'atomic' },
    initContainerStatuses: atomic,
    containerStatuses: atomic,
    ephemeralContainerStatuses: atomic,
    resourceClaimStatuses: mergeBy('name', 'merge,retainKeys'),
  },
  [`${CORE}Container`]: containerFields,
  [`${CORE}EphemeralContainer`]: containerFields,
  [`${CORE}ContainerStatus`]: { volumeMounts: mergeBy('mountPath'), allocatedResourcesStatus: mapList('name') },
  [`${CORE}ResourceRequirements`]: { claims: mapList('name') },
  [`${CORE}PodSecurityContext`]: { supplementalGroups: atomic, sysctls: atomic },
  [`${CORE}Capabilities`]: { add: atomic, drop: atomic },
  [`${CORE}ExecAction`]: { command: atomic },
  [`${CORE}HTTPGetAction`]: { httpHeaders: atomic },
  [`${CORE}PodDNSConfig`]: { nameservers: atomic, searches: atomic, options: atomic },
  [`${CORE}TopologySpreadConstraint`]: { matchLabelKeys: atomic },
  [`${CORE}NodeSelector`]: { nodeSelectorTerms: atomic },
  [`${CORE}NodeSelectorTerm`]: { matchExpressions: atomic, matchFields: atomic },
  [`${CORE}NodeSelectorRequirement`]: { values: atomic },
  [`${CORE}NodeAffinity`]: { preferredDuringSchedulingIgnoredDuringExecution: atomic },
  [`${CORE}PodAffinity`]: { requiredDuringSchedulingIgnoredDuringExecution: atomic, preferredDuringSchedulingIgnoredDuringExecution: atomic },
  [`${CORE}PodAntiAffinity`]: { requiredDuringSchedulingIgnoredDuringExecution: atomic, preferredDuringSchedulingIgnoredDuringExecution: atomic },
  [`${CORE}PodAffinityTerm`]: { namespaces: atomic, matchLabelKeys: atomic, mismatchLabelKeys: atomic },
  [`${CORE}ConfigMapVolumeSource`]: { items: atomic },
  [`${CORE}SecretVolumeSource`]: { items: atomic },
  [`${CORE}ConfigMapProjection`]: { items: atomic },
  [`${CORE}SecretProjection`]: { items: atomic },
  [`${CORE}DownwardAPIVolumeSource`]: { items: atomic },
  [`${CORE}DownwardAPIProjection`]: { items: atomic },
  [`${CORE}ProjectedVolumeSource`]: { sources: atomic },
  [`${CORE}Service`]: {},
  [`${CORE}ServiceSpec`]: {
    ports: mergeBy('port', 'merge', ['port', 'protocol']),
    selector: atomicMap,
    clusterIPs: atomic,
    externalIPs: atomic,
    loadBalancerSourceRanges: atomic,
    ipFamilies: atomic,
  },
  [`${CORE}ServiceStatus`]: { conditions },
  [`${CORE}LoadBalancerStatus`]: { ingress: atomic },
  [`${CORE}LoadBalancerIngress`]: { ports: atomic },
  [`${CORE}NodeSpec`]: { taints: atomic, podCIDRs: { 'x-kubernetes-patch-strategy': 'merge', 'x-kubernetes-list-type': 'set' } },
  [`${CORE}NodeStatus`]: { conditions, addresses: mergeBy('type'), images: atomic, volumesInUse: atomic, volumesAttached: atomic, runtimeHandlers: atomic },
  [`${CORE}NamespaceSpec`]: { finalizers: atomic },
  [`${CORE}NamespaceStatus`]: { conditions },
  [`${CORE}PersistentVolumeClaimSpec`]: { accessModes: atomic },
  [`${CORE}PersistentVolumeClaimStatus`]: { conditions, accessModes: atomic },
  [`${CORE}PersistentVolumeSpec`]: { accessModes: atomic, mountOptions: atomic },
  [`${CORE}ReplicationControllerSpec`]: { selector: atomicMap },
  [`${CORE}ReplicationControllerStatus`]: { conditions },
  [`${CORE}ResourceQuotaSpec`]: { scopes: atomic },
  [`${CORE}ScopeSelector`]: { matchExpressions: atomic },
  [`${CORE}Endpoints`]: { subsets: atomic },
  [`${CORE}EndpointSubset`]: { addresses: atomic, notReadyAddresses: atomic, ports: atomic },
  [`${CORE}ServiceAccount`]: { secrets: mergeBy('name'), imagePullSecrets: atomic },
  [`${CORE}LimitRangeSpec`]: { limits: atomic },
  [`${CORE}ComponentStatus`]: { conditions: mergeBy('type') },

  'io.k8s.api.apps.v1.DeploymentStatus': { conditions },
  'io.k8s.api.apps.v1.DaemonSetStatus': { conditions },
  'io.k8s.api.apps.v1.ReplicaSetStatus': { conditions },
  'io.k8s.api.apps.v1.StatefulSetStatus': { conditions },
  'io.k8s.api.apps.v1.StatefulSetSpec': { volumeClaimTemplates: atomic },

  'io.k8s.api.batch.v1.JobStatus': {
    conditions: { 'x-kubernetes-patch-merge-key': 'type', 'x-kubernetes-patch-strategy': 'merge', 'x-kubernetes-list-type': 'atomic' },
  },
  'io.k8s.api.batch.v1.CronJobStatus': { active: atomic },
  'io.k8s.api.batch.v1.PodFailurePolicy': { rules: atomic },
  'io.k8s.api.batch.v1.PodFailurePolicyRule': { onPodConditions: atomic },
  'io.k8s.api.batch.v1.PodFailurePolicyOnExitCodesRequirement': { values: set },
  'io.k8s.api.batch.v1.SuccessPolicy': { rules: atomic },

  'io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerSpec': { metrics: atomic },
  'io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerStatus': { conditions, currentMetrics: atomic },
  'io.k8s.api.autoscaling.v2.HPAScalingRules': { policies: atomic },

  'io.k8s.api.policy.v1.PodDisruptionBudgetStatus': { conditions },

  'io.k8s.api.networking.v1.NetworkPolicySpec': { ingress: atomic, egress: atomic, policyTypes: atomic },
  'io.k8s.api.networking.v1.NetworkPolicyIngressRule': { ports: atomic, from: atomic },
  'io.k8s.api.networking.v1.NetworkPolicyEgressRule': { ports: atomic, to: atomic },
  'io.k8s.api.networking.v1.IPBlock': { except: atomic },
  'io.k8s.api.networking.v1.IngressSpec': { tls: atomic, rules: atomic },
  'io.k8s.api.networking.v1.IngressTLS': { hosts: atomic },
  'io.k8s.api.networking.v1.HTTPIngressRuleValue': { paths: atomic },
  'io.k8s.api.networking.v1.IngressLoadBalancerStatus': { ingress: atomic },
  'io.k8s.api.networking.v1.IngressLoadBalancerIngress': { ports: atomic },

  'io.k8s.api.discovery.v1.EndpointSlice': { endpoints: atomic, ports: atomic },
  'io.k8s.api.discovery.v1.Endpoint': { addresses: set },
  'io.k8s.api.discovery.v1.EndpointHints': { forZones: atomic, forNodes: atomic },

  'io.k8s.api.rbac.v1.Role': { rules: atomic },
  'io.k8s.api.rbac.v1.ClusterRole': { rules: atomic },
  'io.k8s.api.rbac.v1.RoleBinding': { subjects: atomic },
  'io.k8s.api.rbac.v1.ClusterRoleBinding': { subjects: atomic },
  'io.k8s.api.rbac.v1.AggregationRule': { clusterRoleSelectors: atomic },
  'io.k8s.api.rbac.v1.PolicyRule': { verbs: atomic, apiGroups: atomic, resources: atomic, resourceNames: atomic, nonResourceURLs: atomic },

  'io.k8s.api.certificates.v1.CertificateSigningRequestSpec': { usages: atomic, groups: atomic },
  'io.k8s.api.certificates.v1.CertificateSigningRequestStatus': { conditions: mapList('type') },

  'io.k8s.api.storage.v1.StorageClass': { mountOptions: atomic, allowedTopologies: atomic },
  'io.k8s.api.storage.v1.CSINodeSpec': { drivers: mergeBy('name') },
  'io.k8s.api.storage.v1.CSINodeDriver': { topologyKeys: atomic },
  'io.k8s.api.storage.v1.CSIDriverSpec': { volumeLifecycleModes: set, tokenRequests: atomic },

  'io.k8s.api.admissionregistration.v1.MutatingWebhookConfiguration': { webhooks: mergeBy('name') },
  'io.k8s.api.admissionregistration.v1.ValidatingWebhookConfiguration': { webhooks: mergeBy('name') },
  'io.k8s.api.admissionregistration.v1.MutatingWebhook': { rules: atomic, admissionReviewVersions: atomic, matchConditions: mergeBy('name') },
  'io.k8s.api.admissionregistration.v1.ValidatingWebhook': { rules: atomic, admissionReviewVersions: atomic, matchConditions: mergeBy('name') },

  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionSpec': { versions: atomic },
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionStatus': { conditions: mapList('type'), storedVersions: atomic },
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionNames': { shortNames: atomic, categories: atomic },
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionVersion': { additionalPrinterColumns: atomic, selectableFields: atomic },

  'io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIServiceStatus': { conditions },
};

/** Types that Kubernetes marks +structType=atomic (replaced whole by apply, never merged field by field). */
export const atomicStructs = new Set<string>([
  `${META}LabelSelector`,
  `${META}OwnerReference`,
  `${CORE}ObjectReference`,
  `${CORE}LocalObjectReference`,
  `${CORE}TypedLocalObjectReference`,
  `${CORE}NodeSelector`,
  `${CORE}NodeSelectorTerm`,
  `${CORE}TopologySelectorTerm`,
  `${CORE}ConfigMapKeySelector`,
  `${CORE}SecretKeySelector`,
  `${CORE}ObjectFieldSelector`,
  `${CORE}ResourceFieldSelector`,
  `${CORE}ClientIPConfig`,
  `${CORE}SessionAffinityConfig`,
  `${CORE}TopologySelectorLabelRequirement`,
]);

const QUANTITY_MAPS = ['limits', 'requests'];
/** String (or map-of-string) fields that are really resource.Quantity: the generator flattens them to strings. */
export const quantityFields: Record<string, string[]> = {
  [`${CORE}ResourceRequirements`]: QUANTITY_MAPS,
  [`${CORE}VolumeResourceRequirements`]: QUANTITY_MAPS,
  [`${CORE}ResourceQuotaSpec`]: ['hard'],
  [`${CORE}ResourceQuotaStatus`]: ['hard', 'used'],
  [`${CORE}LimitRangeItem`]: ['max', 'min', 'default', 'defaultRequest', 'maxLimitRequestRatio'],
  [`${CORE}NodeStatus`]: ['capacity', 'allocatable'],
  [`${CORE}PersistentVolumeSpec`]: ['capacity'],
  [`${CORE}PersistentVolumeClaimStatus`]: ['capacity', 'allocatedResources'],
  [`${CORE}EmptyDirVolumeSource`]: ['sizeLimit'],
  [`${CORE}ResourceFieldSelector`]: ['divisor'],
  [`${CORE}ContainerStatus`]: ['allocatedResources'],
  [`${CORE}PodSpec`]: ['overhead'],
  'io.k8s.api.node.v1.Overhead': ['podFixed'],
  'io.k8s.api.storage.v1.CSIStorageCapacity': ['capacity', 'maximumVolumeSize'],
  'io.k8s.api.autoscaling.v2.MetricTarget': ['value', 'averageValue'],
  'io.k8s.api.autoscaling.v2.MetricValueStatus': ['value', 'averageValue'],
};

/** Fields the generator types as `any`: the Kubernetes definition they really name. */
export const untypedFields: Record<string, Record<string, string>> = {
  'io.k8s.api.apps.v1.ControllerRevision': { data: 'io.k8s.apimachinery.pkg.runtime.RawExtension' },
  [`${META}ManagedFieldsEntry`]: { fieldsV1: `${META}FieldsV1` },
  [`${META}WatchEvent`]: { object: 'io.k8s.apimachinery.pkg.runtime.RawExtension' },
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceSubresources': {
    status: 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceSubresourceStatus',
  },
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps': {
    default: 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON',
    example: 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON',
    items: 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrArray',
    additionalProperties: 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrBool',
    additionalItems: 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrBool',
  },
};
