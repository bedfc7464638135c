// Kubernetes' default RBAC policy (plugin/pkg/auth/authorizer/rbac/bootstrappolicy), as API
// objects the server reconciles at start: the user-facing roles (cluster-admin, admin, edit, view),
// the discovery roles, the node and bootstrap roles, the control-plane components, one
// system:controller:* role per controller navarch runs, and navarch's own components. Names and
// rules follow Kubernetes so existing manifests and `kubectl auth can-i` answers carry over.

import type { KubeObject } from '../../api/types.js';
import type { PolicyRule } from './types.js';

const RBAC_API_VERSION = 'rbac.authorization.k8s.io/v1';
const RBAC_GROUP = 'rbac.authorization.k8s.io';
export const BOOTSTRAPPING_LABEL = 'kubernetes.io/bootstrapping';
export const AUTOUPDATE_ANNOTATION = 'rbac.authorization.kubernetes.io/autoupdate';
export const AGGREGATE_TO_ADMIN = 'rbac.authorization.k8s.io/aggregate-to-admin';
export const AGGREGATE_TO_EDIT = 'rbac.authorization.k8s.io/aggregate-to-edit';
export const AGGREGATE_TO_VIEW = 'rbac.authorization.k8s.io/aggregate-to-view';
export const CONTROLLER_ROLE_PREFIX = 'system:controller:';

/** Component identities (client certificate CNs) the server issues for its built-in parts. */
export const KUBE_SCHEDULER_USER = 'system:kube-scheduler';
export const KUBE_CONTROLLER_MANAGER_USER = 'system:kube-controller-manager';
export const KUBE_PROXY_USER = 'system:kube-proxy';
export const NAVARCH_PROXY_USER = 'system:navarch:proxy';
export const NAVARCH_DNS_USER = 'system:navarch:dns';
export const NAVARCH_INGRESS_USER = 'system:navarch:ingress';
export const NAVARCH_NETWORK_POLICY_USER = 'system:navarch:network-policy';
export const NAVARCH_SERVICE_LB_USER = 'system:navarch:service-lb';

const core = '';
const apps = 'apps';
const batch = 'batch';
const extensions = 'extensions';
const autoscaling = 'autoscaling';
const policy = 'policy';
const networking = 'networking.k8s.io';
const discovery = 'discovery.k8s.io';
const storage = 'storage.k8s.io';
const coordination = 'coordination.k8s.io';
const certificates = 'certificates.k8s.io';
const authentication = 'authentication.k8s.io';
const authorization = 'authorization.k8s.io';
const metrics = 'metrics.k8s.io';

const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'update', 'patch', 'delete', 'deletecollection'];
const READ_WRITE = [...READ, ...WRITE];
const READ_UPDATE = [...READ, 'update', 'patch'];

function rule(verbs: string[], groups: string[], resources: string[], resourceNames?: string[]): PolicyRule {
  const r: PolicyRule = { verbs: [...verbs], apiGroups: [...groups], resources: [...resources] };
  if (resourceNames) r.resourceNames = [...resourceNames];
  return r;
}

function urls(verbs: string[], nonResourceURLs: string[]): PolicyRule {
  return { verbs: [...verbs], nonResourceURLs: [...nonResourceURLs] };
}

/** Controllers record what they do as Events, through either Events API. */
function eventsRule(): PolicyRule {
  return rule(['create', 'update', 'patch'], [core, 'events.k8s.io'], ['events']);
}

function metadata(name: string, labels: Record<string, string> = {}) {
  return {
    name,
    labels: { [BOOTSTRAPPING_LABEL]: 'rbac-defaults', ...labels },
    annotations: { [AUTOUPDATE_ANNOTATION]: 'true' },
  };
}

function clusterRole(name: string, rules: PolicyRule[], labels?: Record<string, string>): KubeObject {
  return { apiVersion: RBAC_API_VERSION, kind: 'ClusterRole', metadata: metadata(name, labels), rules };
}

type SubjectSpec = { users?: string[]; groups?: string[]; serviceAccounts?: { namespace: string; name: string }[] };

function clusterRoleBinding(name: string, roleName: string, subjects: SubjectSpec): KubeObject {
  return {
    apiVersion: RBAC_API_VERSION,
    kind: 'ClusterRoleBinding',
    metadata: metadata(name),
    roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: roleName },
    subjects: [
      ...(subjects.users ?? []).map((n) => ({ apiGroup: RBAC_GROUP, kind: 'User', name: n })),
      ...(subjects.groups ?? []).map((n) => ({ apiGroup: RBAC_GROUP, kind: 'Group', name: n })),
      ...(subjects.serviceAccounts ?? []).map((sa) => ({ kind: 'ServiceAccount', name: sa.name, namespace: sa.namespace })),
    ],
  };
}

/**
 * What a kubelet needs (Kubernetes' NodeRules). The Node authorizer grants these only to node
 * identities and narrows the object-specific ones (secrets, configmaps, volumes, tokens, leases)
 * to objects related to the node's pods.
 */
export function nodeRules(): PolicyRule[] {
  return [
    rule(['create'], [authentication], ['tokenreviews']),
    rule(['create'], [authorization], ['subjectaccessreviews', 'localsubjectaccessreviews']),
    rule(READ, [core], ['services']),
    rule(['create', 'get', 'list', 'watch'], [core], ['nodes']),
    rule(['update', 'patch'], [core], ['nodes/status']),
    rule(['update', 'patch'], [core], ['nodes']),
    rule(['create', 'update', 'patch'], [core], ['events']),
    rule(READ, [core], ['pods']),
    rule(['create', 'delete'], [core], ['pods']),
    rule(['update', 'patch'], [core], ['pods/status']),
    rule(['create'], [core], ['pods/eviction']),
    rule(READ, [core], ['secrets', 'configmaps']),
    rule(['get'], [core], ['persistentvolumeclaims', 'persistentvolumes']),
    rule(['get'], [core], ['endpoints']),
    rule(['create', 'get', 'list', 'watch'], [certificates], ['certificatesigningrequests']),
    rule(['get', 'create', 'update', 'patch', 'delete'], [coordination], ['leases']),
    rule(['get'], [storage], ['volumeattachments']),
    rule(['create'], [core], ['serviceaccounts/token']),
    rule(['get', 'update', 'patch'], [core], ['persistentvolumeclaims/status']),
    rule(['get', 'watch', 'list'], [storage], ['csidrivers']),
    rule(['get', 'create', 'update', 'patch', 'delete'], [storage], ['csinodes']),
    rule(READ, ['node.k8s.io'], ['runtimeclasses']),
    // A navarch node also runs the service proxy and NetworkPolicy enforcement (as a k3s agent
    // embeds kube-proxy and its policy controller), so it reads what those need.
    rule(['list', 'watch'], [discovery], ['endpointslices']),
    rule(['list', 'watch'], [networking], ['networkpolicies']),
    rule(['list', 'watch'], [core], ['namespaces']),
  ];
}

function aggregateToAdminRules(): PolicyRule[] {
  return [
    rule(['create'], [authorization], ['localsubjectaccessreviews']),
    rule(READ_WRITE, [RBAC_GROUP], ['roles', 'rolebindings']),
  ];
}

function aggregateToEditRules(): PolicyRule[] {
  return [
    rule(READ, [core], ['pods/attach', 'pods/proxy', 'pods/exec', 'pods/portforward', 'secrets', 'services/proxy']),
    rule(['impersonate'], [core], ['serviceaccounts']),
    rule(WRITE, [core], ['pods', 'pods/attach', 'pods/proxy', 'pods/exec', 'pods/portforward']),
    rule(['create'], [core], ['pods/eviction']),
    // endpoints left out on purpose: writing them lets a user steer Service traffic (CVE-2021-25740).
    rule(WRITE, [core], ['replicationcontrollers', 'replicationcontrollers/scale', 'serviceaccounts', 'services', 'services/proxy', 'persistentvolumeclaims', 'configmaps', 'secrets', 'events']),
    rule(['create'], [core], ['serviceaccounts/token']),
    rule(WRITE, [apps], ['statefulsets', 'statefulsets/scale', 'daemonsets', 'deployments', 'deployments/scale', 'deployments/rollback', 'replicasets', 'replicasets/scale']),
    rule(WRITE, [autoscaling], ['horizontalpodautoscalers']),
    rule(WRITE, [batch], ['jobs', 'cronjobs']),
    rule(WRITE, [extensions], ['daemonsets', 'deployments', 'deployments/scale', 'deployments/rollback', 'ingresses', 'replicasets', 'replicasets/scale', 'replicationcontrollers/scale', 'networkpolicies']),
    rule(WRITE, [policy], ['poddisruptionbudgets']),
    rule(WRITE, [networking], ['networkpolicies', 'ingresses']),
    rule(WRITE, [coordination], ['leases']),
  ];
}

function aggregateToViewRules(): PolicyRule[] {
  return [
    rule(READ, [core], ['pods', 'replicationcontrollers', 'replicationcontrollers/scale', 'serviceaccounts', 'services', 'services/status', 'endpoints', 'persistentvolumeclaims', 'persistentvolumeclaims/status', 'configmaps']),
    rule(READ, [core], ['limitranges', 'resourcequotas', 'bindings', 'events', 'pods/status', 'resourcequotas/status', 'namespaces/status', 'replicationcontrollers/status', 'pods/log']),
    // Reading namespaces through a RoleBinding shows only that namespace: how users learn where they have access.
    rule(READ, [core], ['namespaces']),
    rule(READ, [discovery], ['endpointslices']),
    rule(READ, [apps], ['controllerrevisions', 'statefulsets', 'statefulsets/status', 'statefulsets/scale', 'daemonsets', 'daemonsets/status', 'deployments', 'deployments/status', 'deployments/scale', 'replicasets', 'replicasets/status', 'replicasets/scale']),
    rule(READ, [autoscaling], ['horizontalpodautoscalers', 'horizontalpodautoscalers/status']),
    rule(READ, [batch], ['jobs', 'cronjobs', 'cronjobs/status', 'jobs/status']),
    rule(READ, [extensions], ['daemonsets', 'daemonsets/status', 'deployments', 'deployments/scale', 'deployments/status', 'ingresses', 'ingresses/status', 'replicasets', 'replicasets/scale', 'replicasets/status', 'replicationcontrollers/scale', 'networkpolicies']),
    rule(READ, [policy], ['poddisruptionbudgets', 'poddisruptionbudgets/status']),
    rule(READ, [networking], ['networkpolicies', 'ingresses', 'ingresses/status']),
    rule(READ, [metrics], ['pods', 'nodes']),
  ];
}

function aggregated(name: string, selectorLabel: string, rules: PolicyRule[], labels?: Record<string, string>): KubeObject {
  // Shipped with the rules the aggregation controller would compute, so the roles work before it runs.
  return { ...clusterRole(name, rules, labels), aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [selectorLabel]: 'true' } }] } };
}

function controllerRoles(): { name: string; rules: PolicyRule[] }[] {
  return [
    {
      name: 'clusterrole-aggregation-controller',
      rules: [rule(['escalate', 'get', 'list', 'watch', 'update', 'patch'], [RBAC_GROUP], ['clusterroles'])],
    },
    {
      name: 'cronjob-controller',
      rules: [
        rule(['get', 'list', 'watch', 'update'], [batch], ['cronjobs']),
        rule(['get', 'list', 'watch', 'create', 'update', 'delete', 'patch'], [batch], ['jobs']),
        rule(['update'], [batch], ['cronjobs/status']),
        rule(['update'], [batch], ['cronjobs/finalizers']),
        rule(['list', 'watch', 'delete'], [core], ['pods']),
        eventsRule(),
      ],
    },
    {
      name: 'daemon-set-controller',
      rules: [
        rule(READ, [extensions, apps], ['daemonsets']),
        rule(['update'], [extensions, apps], ['daemonsets/status']),
        rule(['update'], [extensions, apps], ['daemonsets/finalizers']),
        rule(['list', 'watch'], [core], ['nodes']),
        rule(['list', 'watch', 'create', 'delete', 'patch'], [core], ['pods']),
        rule(['create'], [core], ['pods/binding']),
        rule([...READ, 'create', 'delete', 'update', 'patch'], [apps], ['controllerrevisions']),
        eventsRule(),
      ],
    },
    {
      name: 'deployment-controller',
      rules: [
        rule(['get', 'list', 'watch', 'update'], [extensions, apps], ['deployments']),
        rule(['update'], [extensions, apps], ['deployments/status']),
        rule(['update'], [extensions, apps], ['deployments/finalizers']),
        rule([...READ, 'create', 'update', 'patch', 'delete'], [apps, extensions], ['replicasets']),
        rule(['get', 'list', 'watch', 'update'], [core], ['pods']),
        eventsRule(),
      ],
    },
    {
      name: 'disruption-controller',
      rules: [
        rule(READ, [extensions, apps], ['deployments']),
        rule(READ, [apps, extensions], ['replicasets']),
        rule(READ, [core], ['replicationcontrollers']),
        rule(READ, [policy], ['poddisruptionbudgets']),
        rule(READ, [apps], ['statefulsets']),
        rule(['update'], [policy], ['poddisruptionbudgets/status']),
        rule(['patch', 'update'], [core], ['pods/status']),
        rule(['get'], ['*'], ['*/scale']),
        eventsRule(),
      ],
    },
    {
      name: 'endpoint-controller',
      rules: [
        rule(READ, [core], ['services', 'pods']),
        rule([...READ, 'create', 'update', 'delete'], [core], ['endpoints']),
        rule(['create'], [core], ['endpoints/restricted']),
        eventsRule(),
      ],
    },
    {
      name: 'endpointslice-controller',
      rules: [
        rule(READ, [core], ['services', 'pods', 'nodes']),
        // Slices carry a blockOwnerDeletion owner reference to their Service.
        rule(['update'], [core], ['services/finalizers']),
        rule([...READ, 'create', 'update', 'delete'], [discovery], ['endpointslices']),
        // navarch's EndpointSlice controller also mirrors the legacy Endpoints (kube's endpoint-controller).
        rule([...READ, 'create', 'update', 'delete'], [core], ['endpoints']),
        rule(['create'], [core], ['endpoints/restricted']),
        eventsRule(),
      ],
    },
    {
      name: 'generic-garbage-collector',
      rules: [rule(['get', 'list', 'watch', 'patch', 'update', 'delete'], ['*'], ['*']), eventsRule()],
    },
    {
      name: 'horizontal-pod-autoscaler',
      rules: [
        rule(READ, [autoscaling], ['horizontalpodautoscalers']),
        rule(['update'], [autoscaling], ['horizontalpodautoscalers/status']),
        rule(['get', 'update'], ['*'], ['*/scale']),
        rule(['list', 'watch'], [core], ['pods']),
        rule(['list', 'watch'], [metrics], ['pods']),
        rule(READ, ['custom.metrics.k8s.io'], ['*']),
        rule(READ, ['external.metrics.k8s.io'], ['*']),
        eventsRule(),
      ],
    },
    {
      name: 'job-controller',
      rules: [
        rule(['get', 'list', 'watch', 'update', 'patch'], [batch], ['jobs']),
        rule(['update'], [batch], ['jobs/status']),
        rule(['update'], [batch], ['jobs/finalizers']),
        rule(['list', 'watch', 'create', 'delete', 'patch'], [core], ['pods']),
        eventsRule(),
      ],
    },
    {
      name: 'namespace-controller',
      rules: [
        rule(['get', 'list', 'watch', 'delete'], [core], ['namespaces']),
        rule(['update'], [core], ['namespaces/finalize', 'namespaces/status']),
        rule(['get', 'list', 'watch', 'delete', 'deletecollection'], ['*'], ['*']),
      ],
    },
    {
      name: 'node-controller',
      rules: [
        rule(['get', 'list', 'watch', 'update', 'delete', 'patch'], [core], ['nodes']),
        rule(['patch', 'update'], [core], ['nodes/status']),
        rule(['patch', 'update'], [core], ['pods/status']),
        rule(['list', 'watch', 'get', 'delete'], [core], ['pods']),
        eventsRule(),
      ],
    },
    {
      name: 'persistent-volume-binder',
      rules: [
        rule(['get', 'list', 'watch', 'update', 'create', 'delete'], [core], ['persistentvolumes']),
        rule(['update'], [core], ['persistentvolumes/status']),
        rule(['get', 'list', 'watch', 'update'], [core], ['persistentvolumeclaims']),
        rule(['update'], [core], ['persistentvolumeclaims/status']),
        rule(['list', 'watch', 'get', 'create', 'delete'], [core], ['pods']),
        rule(READ, [storage], ['storageclasses']),
        rule(['list', 'watch'], [core], ['nodes']),
        eventsRule(),
        rule(['watch'], [core], ['events']),
        rule(['get'], [core], ['services']),
      ],
    },
    {
      name: 'pod-garbage-collector',
      rules: [
        rule(['list', 'watch', 'delete'], [core], ['pods']),
        rule(READ, [core], ['nodes']),
        rule(['patch'], [core], ['pods/status']),
      ],
    },
    {
      name: 'pvc-protection-controller',
      rules: [rule(['get', 'list', 'watch', 'update'], [core], ['persistentvolumeclaims']), rule(['list', 'watch', 'get'], [core], ['pods']), eventsRule()],
    },
    {
      name: 'pv-protection-controller',
      rules: [rule(['get', 'list', 'watch', 'update'], [core], ['persistentvolumes']), eventsRule()],
    },
    {
      name: 'replicaset-controller',
      rules: [
        rule(['get', 'list', 'watch', 'update'], [apps, extensions], ['replicasets']),
        rule(['update'], [apps, extensions], ['replicasets/status']),
        rule(['update'], [apps, extensions], ['replicasets/finalizers']),
        rule(['list', 'watch', 'patch', 'create', 'delete'], [core], ['pods']),
        eventsRule(),
      ],
    },
    {
      name: 'resourcequota-controller',
      rules: [rule(['list', 'watch'], ['*'], ['*']), rule(['update'], [core], ['resourcequotas/status']), eventsRule()],
    },
    {
      name: 'root-ca-cert-publisher',
      rules: [rule(['create', 'update'], [core], ['configmaps']), eventsRule()],
    },
    {
      name: 'service-account-controller',
      rules: [rule(['create'], [core], ['serviceaccounts']), eventsRule()],
    },
    {
      name: 'statefulset-controller',
      rules: [
        rule(['list', 'watch'], [core], ['pods']),
        rule(READ, [apps], ['statefulsets']),
        rule(['update'], [apps], ['statefulsets/status']),
        rule(['update'], [apps], ['statefulsets/finalizers']),
        rule(['get', 'create', 'delete', 'update', 'patch'], [core], ['pods']),
        rule(['get', 'create', 'delete', 'update', 'patch', 'list', 'watch'], [apps], ['controllerrevisions']),
        rule(['get', 'create', 'list', 'watch'], [core], ['persistentvolumeclaims']),
        rule(['update', 'delete'], [core], ['persistentvolumeclaims']),
        rule(['update'], [core], ['pods/finalizers']),
        eventsRule(),
      ],
    },
    {
      name: 'ttl-after-finished-controller',
      rules: [rule(['get', 'list', 'watch', 'delete'], [batch], ['jobs']), eventsRule()],
    },
    {
      name: 'certificate-controller',
      rules: [
        rule(['get', 'list', 'watch', 'delete'], [certificates], ['certificatesigningrequests']),
        rule(['update'], [certificates], ['certificatesigningrequests/status', 'certificatesigningrequests/approval']),
        rule(['approve'], [certificates], ['signers'], ['kubernetes.io/kube-apiserver-client-kubelet']),
        rule(['sign'], [certificates], ['signers'], [
          'kubernetes.io/legacy-unknown',
          'kubernetes.io/kube-apiserver-client',
          'kubernetes.io/kube-apiserver-client-kubelet',
          'kubernetes.io/kubelet-serving',
        ]),
        rule(['create'], [authorization], ['subjectaccessreviews']),
        eventsRule(),
      ],
    },
  ];
}

/** The default ClusterRoles, in a stable order. */
export function bootstrapClusterRoles(): KubeObject[] {
  const adminRules = [...aggregateToAdminRules(), ...aggregateToEditRules(), ...aggregateToViewRules()];
  const editRules = [...aggregateToEditRules(), ...aggregateToViewRules()];
  const roles: KubeObject[] = [
    clusterRole('cluster-admin', [rule(['*'], ['*'], ['*']), urls(['*'], ['*'])]),
    clusterRole('system:discovery', [
      urls(['get'], ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/']),
    ]),
    clusterRole('system:public-info-viewer', [urls(['get'], ['/healthz', '/livez', '/readyz', '/version', '/version/'])]),
    clusterRole('system:basic-user', [
      rule(['create'], [authorization], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews']),
      rule(['create'], [authentication], ['selfsubjectreviews']),
    ]),
    clusterRole('system:monitoring', [
      urls(['get'], ['/healthz', '/healthz/*', '/livez', '/livez/*', '/metrics', '/metrics/slis', '/readyz', '/readyz/*']),
    ]),
    clusterRole('system:service-account-issuer-discovery', [urls(['get'], ['/.well-known/openid-configuration', '/.well-known/openid-configuration/', '/openid/v1/jwks', '/openid/v1/jwks/'])]),
    aggregated('admin', AGGREGATE_TO_ADMIN, adminRules),
    aggregated('edit', AGGREGATE_TO_EDIT, editRules, { [AGGREGATE_TO_ADMIN]: 'true' }),
    aggregated('view', AGGREGATE_TO_VIEW, aggregateToViewRules(), { [AGGREGATE_TO_EDIT]: 'true' }),
    clusterRole('system:aggregate-to-admin', aggregateToAdminRules(), { [AGGREGATE_TO_ADMIN]: 'true' }),
    clusterRole('system:aggregate-to-edit', aggregateToEditRules(), { [AGGREGATE_TO_EDIT]: 'true' }),
    clusterRole('system:aggregate-to-view', aggregateToViewRules(), { [AGGREGATE_TO_VIEW]: 'true' }),
    clusterRole('system:heapster', [rule(READ, [core], ['events', 'pods', 'nodes', 'namespaces']), rule(READ, [extensions], ['deployments'])]),
    clusterRole('system:node', nodeRules()),
    clusterRole('system:node-problem-detector', [rule(['get'], [core], ['nodes']), rule(['patch'], [core], ['nodes/status']), eventsRule()]),
    clusterRole('system:kubelet-api-admin', [
      rule(READ, [core], ['nodes']),
      rule(['proxy'], [core], ['nodes']),
      rule(['*'], [core], ['nodes/proxy', 'nodes/metrics', 'nodes/stats', 'nodes/log', 'nodes/spec', 'nodes/configz', 'nodes/healthz', 'nodes/pods', 'nodes/checkpoint']),
    ]),
    clusterRole('system:node-bootstrapper', [rule(['create', 'get', 'list', 'watch'], [certificates], ['certificatesigningrequests'])]),
    clusterRole('system:auth-delegator', [rule(['create'], [authentication], ['tokenreviews']), rule(['create'], [authorization], ['subjectaccessreviews'])]),
    clusterRole('system:kube-aggregator', [rule(READ, [core], ['services', 'endpoints'])]),
    clusterRole('system:kube-controller-manager', [
      eventsRule(),
      rule(['create'], [coordination], ['leases']),
      rule(['get', 'update'], [coordination], ['leases'], ['kube-controller-manager']),
      rule(['create'], [core], ['secrets', 'serviceaccounts']),
      rule(['delete'], [core], ['secrets']),
      rule(['get'], [core], ['namespaces', 'secrets', 'serviceaccounts', 'configmaps']),
      rule(['update'], [core], ['secrets', 'serviceaccounts']),
      rule(['create'], [authentication], ['tokenreviews']),
      rule(['create'], [authorization], ['subjectaccessreviews']),
      rule(['list', 'watch'], ['*'], ['*']),
      rule(['create'], [core], ['serviceaccounts/token']),
    ]),
    clusterRole('system:kube-dns', [rule(['list', 'watch'], [core], ['endpoints', 'services'])]),
    clusterRole('system:persistent-volume-provisioner', [
      rule(['get', 'list', 'watch', 'create', 'delete'], [core], ['persistentvolumes']),
      rule(['get', 'list', 'watch', 'update'], [core], ['persistentvolumeclaims']),
      rule(READ, [storage], ['storageclasses']),
      rule(['watch'], [core], ['events']),
      eventsRule(),
    ]),
    clusterRole('system:certificates.k8s.io:certificatesigningrequests:nodeclient', [rule(['create'], [certificates], ['certificatesigningrequests/nodeclient'])]),
    clusterRole('system:certificates.k8s.io:certificatesigningrequests:selfnodeclient', [rule(['create'], [certificates], ['certificatesigningrequests/selfnodeclient'])]),
    clusterRole('system:volume-scheduler', [
      rule(READ_UPDATE, [core], ['persistentvolumes']),
      rule(READ, [storage], ['storageclasses']),
      rule(READ_UPDATE, [core], ['persistentvolumeclaims']),
    ]),
    clusterRole('system:certificates.k8s.io:legacy-unknown-approver', [rule(['approve'], [certificates], ['signers'], ['kubernetes.io/legacy-unknown'])]),
    clusterRole('system:certificates.k8s.io:kubelet-serving-approver', [rule(['approve'], [certificates], ['signers'], ['kubernetes.io/kubelet-serving'])]),
    clusterRole('system:certificates.k8s.io:kube-apiserver-client-approver', [rule(['approve'], [certificates], ['signers'], ['kubernetes.io/kube-apiserver-client'])]),
    clusterRole('system:certificates.k8s.io:kube-apiserver-client-kubelet-approver', [rule(['approve'], [certificates], ['signers'], ['kubernetes.io/kube-apiserver-client-kubelet'])]),
    clusterRole('system:node-proxier', [
      rule(['list', 'watch'], [core], ['services', 'endpoints']),
      rule(READ, [core], ['nodes']),
      eventsRule(),
      rule(['list', 'watch'], [discovery], ['endpointslices']),
    ]),
    clusterRole('system:kube-scheduler', [
      eventsRule(),
      rule(['create'], [coordination], ['leases']),
      rule(['get', 'update'], [coordination], ['leases'], ['kube-scheduler']),
      rule(READ, [core], ['nodes']),
      rule(['get', 'list', 'watch', 'delete'], [core], ['pods']),
      rule(['create'], [core], ['pods/binding', 'bindings']),
      rule(['patch', 'update'], [core], ['pods/status']),
      rule(READ, [core], ['replicationcontrollers', 'services']),
      rule(READ, [apps, extensions], ['replicasets']),
      rule(READ, [apps], ['statefulsets']),
      rule(READ, [policy], ['poddisruptionbudgets']),
      rule(READ, [core], ['persistentvolumeclaims', 'persistentvolumes']),
      rule(['create'], [authentication], ['tokenreviews']),
      rule(['create'], [authorization], ['subjectaccessreviews']),
      rule(READ, [storage], ['csinodes', 'csidrivers', 'csistoragecapacities']),
      rule(READ, [core], ['namespaces', 'configmaps']),
      // Kubernetes binds system:volume-scheduler to the scheduler too: volume binding writes PVs/PVCs.
      rule([...READ, 'patch', 'update'], [core], ['persistentvolumes']),
      rule(['patch', 'update'], [core], ['persistentvolumeclaims']),
      rule(READ, [storage], ['storageclasses']),
      rule(READ, ['scheduling.k8s.io'], ['priorityclasses']),
    ]),
    // navarch's own components.
    clusterRole('system:navarch:dns', [
      rule(['list', 'watch'], [core], ['endpoints', 'services', 'pods', 'namespaces']),
      rule(['list', 'watch'], [discovery], ['endpointslices']),
      // DNS runs as a node process, so it publishes kube-system/kube-dns and its endpoints itself.
      rule(['get', 'create', 'update', 'patch'], [core], ['services', 'endpoints']),
      rule(['get', 'create', 'update', 'patch'], [discovery], ['endpointslices']),
      // kube-dns's own ConfigMap (stubDomains, upstreamNameservers), watched by name.
      rule(['get', 'list', 'watch'], [core], ['configmaps'], ['kube-dns']),
      // On a federation host, the zones it is authoritative for.
      rule(['list', 'watch'], ['multiclusterdns.kubefed.io'], ['domains', 'dnsendpoints']),
    ]),
    clusterRole('system:navarch:ingress', [
      rule(READ, [networking], ['ingresses', 'ingressclasses']),
      rule(['update', 'patch'], [networking], ['ingresses/status']),
      rule(READ, [core], ['services', 'secrets', 'endpoints']),
      rule(READ, [discovery], ['endpointslices']),
      eventsRule(),
    ]),
    clusterRole('system:navarch:network-policy', [rule(READ, [networking], ['networkpolicies']), rule(READ, [core], ['pods', 'namespaces', 'nodes']), eventsRule()]),
    clusterRole('system:navarch:service-lb', [
      rule(READ, [core], ['services', 'nodes']),
      rule(['update', 'patch'], [core], ['services/status']),
      rule([...READ, 'create', 'update', 'patch', 'delete'], [apps], ['daemonsets']),
      eventsRule(),
    ]),
  ];
  for (const controller of controllerRoles()) roles.push(clusterRole(CONTROLLER_ROLE_PREFIX + controller.name, controller.rules));
  return roles;
}

/** The default ClusterRoleBindings. */
export function bootstrapClusterRoleBindings(): KubeObject[] {
  const bindings: KubeObject[] = [
    clusterRoleBinding('cluster-admin', 'cluster-admin', { groups: ['system:masters'] }),
    clusterRoleBinding('system:discovery', 'system:discovery', { groups: ['system:authenticated'] }),
    clusterRoleBinding('system:basic-user', 'system:basic-user', { groups: ['system:authenticated'] }),
    clusterRoleBinding('system:public-info-viewer', 'system:public-info-viewer', { groups: ['system:authenticated', 'system:unauthenticated'] }),
    clusterRoleBinding('system:monitoring', 'system:monitoring', { groups: ['system:monitoring'] }),
    clusterRoleBinding('system:service-account-issuer-discovery', 'system:service-account-issuer-discovery', { groups: ['system:serviceaccounts'] }),
    clusterRoleBinding('system:node-proxier', 'system:node-proxier', { users: [KUBE_PROXY_USER, NAVARCH_PROXY_USER] }),
    clusterRoleBinding('system:kube-controller-manager', 'system:kube-controller-manager', { users: [KUBE_CONTROLLER_MANAGER_USER] }),
    clusterRoleBinding('system:kube-dns', 'system:kube-dns', { serviceAccounts: [{ namespace: 'kube-system', name: 'kube-dns' }] }),
    clusterRoleBinding('system:kube-scheduler', 'system:kube-scheduler', { users: [KUBE_SCHEDULER_USER] }),
    clusterRoleBinding('system:volume-scheduler', 'system:volume-scheduler', { users: [KUBE_SCHEDULER_USER] }),
    // Kubernetes keeps this binding without subjects: nodes get their rights from the Node authorizer.
    clusterRoleBinding('system:node', 'system:node', {}),
    // Joining nodes (bootstrap tokens, the server token) may ask for a client certificate, and get it
    // approved automatically, like kubeadm's kubeadm:kubelet-bootstrap and node-autoapprove-bootstrap.
    clusterRoleBinding('system:node-bootstrapper', 'system:node-bootstrapper', { groups: ['system:bootstrappers'] }),
    clusterRoleBinding('system:certificates.k8s.io:certificatesigningrequests:nodeclient', 'system:certificates.k8s.io:certificatesigningrequests:nodeclient', { groups: ['system:bootstrappers'] }),
    clusterRoleBinding('system:certificates.k8s.io:certificatesigningrequests:selfnodeclient', 'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient', { groups: ['system:nodes'] }),
    clusterRoleBinding('system:navarch:dns', 'system:navarch:dns', { users: [NAVARCH_DNS_USER] }),
    clusterRoleBinding('system:navarch:ingress', 'system:navarch:ingress', { users: [NAVARCH_INGRESS_USER] }),
    clusterRoleBinding('system:navarch:network-policy', 'system:navarch:network-policy', { users: [NAVARCH_NETWORK_POLICY_USER] }),
    clusterRoleBinding('system:navarch:service-lb', 'system:navarch:service-lb', { users: [NAVARCH_SERVICE_LB_USER] }),
  ];
  for (const controller of controllerRoles()) {
    const name = CONTROLLER_ROLE_PREFIX + controller.name;
    bindings.push(clusterRoleBinding(name, name, { serviceAccounts: [{ namespace: 'kube-system', name: controller.name }] }));
  }
  return bindings;
}

/** The identity a built-in controller uses when it runs with its own service account credentials. */
export function controllerServiceAccountUsername(controller: string): string {
  return `system:serviceaccount:kube-system:${controller}`;
}

/** Names of the controllers that have a system:controller:* role. */
export function controllerNames(): string[] {
  return controllerRoles().map((c) => c.name);
}
