// The Node authorizer: what a kubelet (user system:node:<name>, group system:nodes) may do, modelled
// on Kubernetes' plugin/pkg/auth/authorizer/node. Objects a node may read are those its pods use
// (secrets, configmaps, PVCs and their PVs, service account tokens); writes are limited to its own
// Node, Lease, CSINode and the pods bound to it. Everything else a kubelet needs comes from the
// static node rules. Instead of Kubernetes' graph, relations are found through an injected lookup
// of the pods bound to the node (an informer index on spec.nodeName).

import type { KubeObject } from '../../api/types.js';
import { nodeRules } from './bootstrap-policy.js';
import { rulesAllow } from './rbac.js';
import type { AuthorizationAttributes, Authorizer, Decision, PolicyRule, RuleResolver, SubjectRulesReviewStatus, UserInfo } from './types.js';

export const NODES_GROUP = 'system:nodes';
const NODE_USER_PREFIX = 'system:node:';
const NODE_LEASE_NAMESPACE = 'kube-node-lease';

export interface NodeGraph {
  /** Pods whose spec.nodeName is `nodeName`. */
  podsOnNode(nodeName: string): KubeObject[];
  /** For PV access: the claim a pod references (its spec.volumeName names the PV). */
  persistentVolumeClaim?(namespace: string, name: string): KubeObject | undefined;
}

/** The node name of a node identity, or undefined for any other user. */
export function nodeIdentity(user: UserInfo): string | undefined {
  if (!user.groups.includes(NODES_GROUP) || !user.username.startsWith(NODE_USER_PREFIX)) return undefined;
  const name = user.username.slice(NODE_USER_PREFIX.length);
  return name || undefined;
}

const CONTAINER_LISTS = ['initContainers', 'containers', 'ephemeralContainers'] as const;

interface PodReferences {
  secrets: Set<string>;
  configMaps: Set<string>;
  claims: Set<string>;
  serviceAccount: string;
}

/** Everything in a pod spec that names a Secret, ConfigMap or PersistentVolumeClaim. */
export function podReferences(pod: KubeObject): PodReferences {
  const spec = (pod.spec ?? {}) as Record<string, any>;
  const refs: PodReferences = { secrets: new Set(), configMaps: new Set(), claims: new Set(), serviceAccount: spec.serviceAccountName || spec.serviceAccount || 'default' };
  const addSecret = (name: unknown) => typeof name === 'string' && name && refs.secrets.add(name);
  const addConfigMap = (name: unknown) => typeof name === 'string' && name && refs.configMaps.add(name);
  for (const pullSecret of spec.imagePullSecrets ?? []) addSecret(pullSecret?.name);
  for (const list of CONTAINER_LISTS) {
    for (const container of spec[list] ?? []) {
      for (const envFrom of container.envFrom ?? []) {
        addSecret(envFrom.secretRef?.name);
        addConfigMap(envFrom.configMapRef?.name);
      }
      for (const env of container.env ?? []) {
        addSecret(env.valueFrom?.secretKeyRef?.name);
        addConfigMap(env.valueFrom?.configMapKeyRef?.name);
      }
    }
  }
  for (const volume of spec.volumes ?? []) {
    addSecret(volume.secret?.secretName);
    addConfigMap(volume.configMap?.name);
    for (const source of volume.projected?.sources ?? []) {
      addSecret(source.secret?.name);
      addConfigMap(source.configMap?.name);
    }
    if (volume.persistentVolumeClaim?.claimName) refs.claims.add(volume.persistentVolumeClaim.claimName);
    // Generic ephemeral volumes get a claim named <pod>-<volume>.
    if (volume.ephemeral) refs.claims.add(`${pod.metadata.name}-${volume.name}`);
    // Volume plugins that take credentials name a Secret in secretRef or a plugin-specific field.
    for (const plugin of Object.values(volume) as any[]) {
      if (plugin && typeof plugin === 'object') {
        addSecret(plugin.secretRef?.name);
        addSecret(plugin.nodePublishSecretRef?.name);
      }
    }
    addSecret(volume.azureFile?.secretName);
  }
  return refs;
}

export interface NodeAuthorizer extends Authorizer, RuleResolver {}

export function createNodeAuthorizer(graph: NodeGraph): NodeAuthorizer {
  const staticRules = nodeRules();

  const allow = (reason = ''): Decision => ({ decision: 'allow', reason });
  const noRelation = (node: string, attrs: AuthorizationAttributes): Decision => ({
    decision: 'noopinion',
    reason: `no relationship found between node '${node}' and this object${attrs.name ? ` (${attrs.resource} ${attrs.namespace ? attrs.namespace + '/' : ''}${attrs.name})` : ''}`,
  });

  const podsInNamespace = (node: string, namespace: string | undefined) =>
    graph.podsOnNode(node).filter((pod) => pod.metadata.namespace === namespace);

  function referencedBy(node: string, attrs: AuthorizationAttributes, pick: (refs: PodReferences) => Set<string>): boolean {
    if (!attrs.name) return false;
    return podsInNamespace(node, attrs.namespace).some((pod) => pick(podReferences(pod)).has(attrs.name!));
  }

  /** Reads of one named object; list/watch only with a name (a metadata.name field selector). */
  const isSingleObjectRead = (attrs: AuthorizationAttributes) => ['get', 'list', 'watch'].includes(attrs.verb) && !!attrs.name;

  function authorizeForNode(node: string, attrs: AuthorizationAttributes): Decision | undefined {
    const group = attrs.apiGroup;
    const sub = attrs.subresource ?? '';
    if (group === '') {
      switch (attrs.resource) {
        case 'secrets':
          if (sub) return noRelation(node, attrs);
          return isSingleObjectRead(attrs) && referencedBy(node, attrs, (r) => r.secrets) ? allow() : noRelation(node, attrs);
        case 'configmaps':
          if (sub) return noRelation(node, attrs);
          return isSingleObjectRead(attrs) && referencedBy(node, attrs, (r) => r.configMaps) ? allow() : noRelation(node, attrs);
        case 'persistentvolumeclaims': {
          const readOrStatus = sub === '' ? attrs.verb === 'get' : sub === 'status' && ['get', 'update', 'patch'].includes(attrs.verb);
          return readOrStatus && referencedBy(node, attrs, (r) => r.claims) ? allow() : noRelation(node, attrs);
        }
        case 'persistentvolumes': {
          if (sub || attrs.verb !== 'get' || !attrs.name || !graph.persistentVolumeClaim) return noRelation(node, attrs);
          const bound = graph.podsOnNode(node).some((pod) =>
            [...podReferences(pod).claims].some((claim) => graph.persistentVolumeClaim!(pod.metadata.namespace ?? '', claim)?.spec?.volumeName === attrs.name),
          );
          return bound ? allow() : noRelation(node, attrs);
        }
        case 'serviceaccounts':
          if (sub === 'token' && attrs.verb === 'create') {
            return podsInNamespace(node, attrs.namespace).some((pod) => podReferences(pod).serviceAccount === attrs.name) ? allow() : noRelation(node, attrs);
          }
          return noRelation(node, attrs);
        case 'nodes':
          // Reads of all nodes and creating one's own Node come from the rules; writes only to oneself.
          if (['update', 'patch', 'delete'].includes(attrs.verb) || (attrs.verb === 'create' && attrs.name)) {
            if (attrs.name !== node) return noRelation(node, attrs);
          }
          return undefined;
        case 'pods': {
          const bound = () => !!attrs.name && podsInNamespace(node, attrs.namespace).some((pod) => pod.metadata.name === attrs.name);
          if (sub === 'status' || sub === 'eviction') return bound() ? undefined : noRelation(node, attrs);
          // Mirror pods: a node deletes only pods bound to it; creation is checked by admission.
          if (sub === '' && attrs.verb === 'delete') return bound() ? undefined : noRelation(node, attrs);
          return undefined;
        }
      }
      return undefined;
    }
    if (group === 'coordination.k8s.io' && attrs.resource === 'leases') {
      // The node heartbeat: its own Lease in kube-node-lease, nothing else.
      if (attrs.namespace !== NODE_LEASE_NAMESPACE) return noRelation(node, attrs);
      if (attrs.verb === 'create' && !attrs.name) return undefined;
      return attrs.name === node ? undefined : noRelation(node, attrs);
    }
    if (group === 'storage.k8s.io' && attrs.resource === 'csinodes') {
      if (attrs.verb === 'create' && !attrs.name) return undefined;
      return attrs.name === node ? undefined : noRelation(node, attrs);
    }
    return undefined;
  }

  return {
    authorize(attrs: AuthorizationAttributes): Decision {
      const node = nodeIdentity(attrs.user);
      if (!node) return { decision: 'noopinion', reason: '' };
      if (attrs.resourceRequest) {
        const decision = authorizeForNode(node, attrs);
        if (decision) return decision;
      }
      return rulesAllow(attrs, staticRules) ? allow() : { decision: 'noopinion', reason: '' };
    },
    rulesFor(user: UserInfo, _namespace: string): SubjectRulesReviewStatus {
      // The object-specific grants cannot be listed as rules, hence incomplete, as in Kubernetes.
      if (!nodeIdentity(user)) return { resourceRules: [], nonResourceRules: [], incomplete: false };
      const rules = staticRules.filter((r: PolicyRule) => !(r.resources ?? []).some((res) => ['secrets', 'configmaps', 'persistentvolumeclaims', 'persistentvolumes', 'serviceaccounts/token'].includes(res)));
      return {
        resourceRules: rules.map((r) => ({ verbs: [...r.verbs], apiGroups: [...(r.apiGroups ?? [])], resources: [...(r.resources ?? [])] })),
        nonResourceRules: [],
        incomplete: true,
      };
    },
  };
}
