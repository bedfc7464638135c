// Authentication and authorization wired to the server's watch cache: the authenticator looks
// up bootstrap tokens and service accounts, the Node + RBAC authorizers read pods and RBAC
// objects from memory (never storage), as Kubernetes' informer-backed listers do.
import type { KubeObject } from '../api/types.js';
import { createAuthenticator, type Authenticator as TokenAuthenticator } from './auth/authenticator.js';
import { createNodeAuthorizer } from './authz/node.js';
import { createRbacAuthorizer } from './authz/rbac.js';
import { createUnionAuthorizer } from './authz/union.js';
import { bootstrapClusterRoleBindings, bootstrapClusterRoles } from './authz/bootstrap-policy.js';
import type { Authorizer } from './handler.js';
import type { Authenticator } from './http-server.js';
import type { RulesLister } from './reviews.js';
import type { ResourceRegistry } from './registry.js';
import type { WatchCache } from './watch-cache.js';
import { storageKey } from './resource-store.js';

export interface SecurityDeps {
  cache: WatchCache;
  registry: ResourceRegistry;
  caPem: string;
  serviceAccountPublicKeyPem: string;
  joinToken?: string;
  issuer?: string;
}

export interface Security {
  authenticator: Authenticator;
  authorizer: Authorizer;
  rules: RulesLister;
}

export function createSecurity(deps: SecurityDeps): Security {
  const { cache, registry } = deps;
  const prefix = (group: string, version: string, resource: string) => registry.lookup(group, version, resource)!;
  const listAll = (group: string, version: string, resource: string, namespace?: string): KubeObject[] => {
    const r = prefix(group, version, resource);
    const all = cache.list(r.storagePrefix).map((c) => c.object);
    return namespace === undefined ? all : all.filter((o) => o.metadata.namespace === namespace);
  };
  const getOne = (group: string, version: string, resource: string, namespace: string, name: string): KubeObject | null => {
    const r = prefix(group, version, resource);
    return cache.get(storageKey(r, namespace, name))?.object ?? null;
  };
  const tokens: TokenAuthenticator = createAuthenticator({
    caPem: deps.caPem,
    serviceAccountPublicKey: deps.serviceAccountPublicKeyPem,
    issuer: deps.issuer ?? 'https://kubernetes.default.svc.cluster.local',
    lookupBootstrapToken: (id) => getOne('', 'v1', 'secrets', 'kube-system', `bootstrap-token-${id}`),
    lookupServiceAccount: (ns, name) => getOne('', 'v1', 'serviceaccounts', ns, name),
    lookupPod: (ns, name) => getOne('', 'v1', 'pods', ns, name),
    lookupSecret: (ns, name) => getOne('', 'v1', 'secrets', ns, name),
    lookupNode: (name) => getOne('', 'v1', 'nodes', '', name),
    joinToken: deps.joinToken,
  });
  const rbac = createRbacAuthorizer({
    clusterRoles: () => listAll('rbac.authorization.k8s.io', 'v1', 'clusterroles'),
    clusterRoleBindings: () => listAll('rbac.authorization.k8s.io', 'v1', 'clusterrolebindings'),
    roles: (ns) => listAll('rbac.authorization.k8s.io', 'v1', 'roles', ns),
    roleBindings: (ns) => listAll('rbac.authorization.k8s.io', 'v1', 'rolebindings', ns),
  });
  const node = createNodeAuthorizer({
    podsOnNode: (nodeName) => listAll('', 'v1', 'pods').filter((p) => p.spec?.nodeName === nodeName),
    persistentVolumeClaim: (ns, name) => getOne('', 'v1', 'persistentvolumeclaims', ns, name),
  } as Parameters<typeof createNodeAuthorizer>[0]);
  const union = createUnionAuthorizer([node, rbac]);
  return {
    authenticator: {
      async authenticate(input) {
        return tokens.authenticate(input);
      },
    },
    authorizer: {
      authorize(a) {
        const d = union.authorize({
          user: a.user,
          verb: a.verb,
          namespace: a.namespace || undefined,
          apiGroup: a.apiGroup,
          resource: a.resource || undefined,
          subresource: a.subresource || undefined,
          name: a.name || undefined,
          path: a.path,
          resourceRequest: a.resourceRequest,
        });
        return { allowed: d.decision === 'allow', reason: d.decision === 'allow' ? d.reason : d.decision === 'deny' ? d.reason : '' };
      },
    },
    rules: {
      rulesFor: (user, namespace) => union.rulesFor(user, namespace),
    },
  };
}

/** Kubernetes' default ClusterRoles and ClusterRoleBindings, for the bootstrap step. */
export function defaultRbacObjects(): { group: string; version: string; resource: string; object: KubeObject }[] {
  return [
    ...bootstrapClusterRoles().map((object) => ({ group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterroles', object })),
    ...bootstrapClusterRoleBindings().map((object) => ({ group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterrolebindings', object })),
  ];
}
