import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/types.js';
import { createRbacAuthorizer, type RbacLister } from './rbac.js';
import { createUnionAuthorizer, createPrivilegedGroupsAuthorizer } from './union.js';
import { bootstrapClusterRoleBindings, bootstrapClusterRoles, controllerNames, controllerServiceAccountUsername } from './bootstrap-policy.js';
import type { AuthorizationAttributes, PolicyRule, UserInfo } from './types.js';

const rbac = 'rbac.authorization.k8s.io';

function role(namespace: string, name: string, rules: PolicyRule[]): KubeObject {
  return { apiVersion: `${rbac}/v1`, kind: 'Role', metadata: { name, namespace }, rules };
}
function clusterRole(name: string, rules: PolicyRule[]): KubeObject {
  return { apiVersion: `${rbac}/v1`, kind: 'ClusterRole', metadata: { name }, rules };
}
function roleBinding(namespace: string, name: string, roleRef: { kind: string; name: string }, subjects: object[]): KubeObject {
  return { apiVersion: `${rbac}/v1`, kind: 'RoleBinding', metadata: { name, namespace }, roleRef: { apiGroup: rbac, ...roleRef }, subjects };
}
function clusterRoleBinding(name: string, roleName: string, subjects: object[]): KubeObject {
  return { apiVersion: `${rbac}/v1`, kind: 'ClusterRoleBinding', metadata: { name }, roleRef: { apiGroup: rbac, kind: 'ClusterRole', name: roleName }, subjects };
}

function lister(objects: KubeObject[]): RbacLister {
  return {
    clusterRoles: () => objects.filter((o) => o.kind === 'ClusterRole'),
    clusterRoleBindings: () => objects.filter((o) => o.kind === 'ClusterRoleBinding'),
    roles: (ns) => objects.filter((o) => o.kind === 'Role' && o.metadata.namespace === ns),
    roleBindings: (ns) => objects.filter((o) => o.kind === 'RoleBinding' && o.metadata.namespace === ns),
  };
}

const user = (username: string, ...groups: string[]): UserInfo => ({ username, groups: [...groups, 'system:authenticated'] });
const sa = (namespace: string, name: string): UserInfo => ({
  username: `system:serviceaccount:${namespace}:${name}`,
  groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
});

function resource(u: UserInfo, verb: string, resourcePath: string, namespace?: string, name?: string): AuthorizationAttributes {
  // "apps/deployments/scale" or "pods/log" or "pods"
  const parts = resourcePath.split('/');
  let apiGroup = '';
  if (parts.length === 3 || (parts.length === 2 && parts[0].includes('.')) || parts[0] === 'apps' || parts[0] === 'batch') apiGroup = parts.shift()!;
  return { user: u, verb, apiGroup, resource: parts[0], subresource: parts[1], namespace, name, resourceRequest: true };
}
const nonResource = (u: UserInfo, verb: string, path: string): AuthorizationAttributes => ({ user: u, verb, apiGroup: '', path, resourceRequest: false });

// The examples of https://kubernetes.io/docs/reference/access-authn-authz/rbac/.
const documented = [
  role('default', 'pod-reader', [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'watch', 'list'] }]),
  roleBinding('default', 'read-pods', { kind: 'Role', name: 'pod-reader' }, [{ kind: 'User', name: 'jane', apiGroup: rbac }]),
  clusterRole('secret-reader', [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'watch', 'list'] }]),
  roleBinding('development', 'read-secrets', { kind: 'ClusterRole', name: 'secret-reader' }, [{ kind: 'User', name: 'dave', apiGroup: rbac }]),
  clusterRoleBinding('read-secrets-global', 'secret-reader', [{ kind: 'Group', name: 'manager', apiGroup: rbac }]),
  role('default', 'pod-and-pod-logs-reader', [{ apiGroups: [''], resources: ['pods', 'pods/log'], verbs: ['get', 'list'] }]),
  roleBinding('default', 'logs', { kind: 'Role', name: 'pod-and-pod-logs-reader' }, [{ kind: 'User', name: 'logan', apiGroup: rbac }]),
  role('default', 'configmap-updater', [{ apiGroups: [''], resources: ['configmaps'], resourceNames: ['my-configmap'], verbs: ['update', 'get'] }]),
  roleBinding('default', 'cm', { kind: 'Role', name: 'configmap-updater' }, [{ kind: 'User', name: 'cora', apiGroup: rbac }]),
  clusterRole('health-checker', [{ nonResourceURLs: ['/healthz', '/healthz/*'], verbs: ['get', 'post'] }]),
  clusterRoleBinding('health', 'health-checker', [{ kind: 'User', name: 'hank', apiGroup: rbac }]),
  clusterRole('scaler', [{ apiGroups: ['*'], resources: ['*/scale'], verbs: ['get', 'update'] }]),
  clusterRoleBinding('scaler', 'scaler', [{ kind: 'User', name: 'sam', apiGroup: rbac }]),
  // ServiceAccount subjects: explicit namespace, and defaulted to the binding's namespace
  roleBinding('kube-system', 'sa-explicit', { kind: 'Role', name: 'pod-reader-ks' }, [{ kind: 'ServiceAccount', name: 'default', namespace: 'kube-system' }]),
  role('kube-system', 'pod-reader-ks', [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }]),
  roleBinding('qa', 'sa-implicit', { kind: 'ClusterRole', name: 'secret-reader' }, [{ kind: 'ServiceAccount', name: 'robot' }]),
  roleBinding('qa', 'all-qa-sas', { kind: 'ClusterRole', name: 'view-deployments' }, [{ kind: 'Group', name: 'system:serviceaccounts:qa', apiGroup: rbac }]),
  clusterRole('view-deployments', [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list'] }]),
  clusterRoleBinding('sa-global', 'secret-reader', [{ kind: 'ServiceAccount', name: 'auditor', namespace: 'audit' }]),
  // a binding to a role that does not exist grants nothing
  roleBinding('default', 'dangling', { kind: 'Role', name: 'missing' }, [{ kind: 'User', name: 'jane', apiGroup: rbac }]),
  clusterRole('wildcard-verbs', [{ apiGroups: ['batch'], resources: ['jobs'], verbs: ['*'] }]),
  roleBinding('ci', 'ci-jobs', { kind: 'ClusterRole', name: 'wildcard-verbs' }, [{ kind: 'Group', name: 'ci', apiGroup: rbac }]),
];

const cases: { name: string; attrs: AuthorizationAttributes; allowed: boolean }[] = [
  { name: 'jane reads pods in default', attrs: resource(user('jane'), 'get', 'pods', 'default', 'web'), allowed: true },
  { name: 'jane lists pods in default', attrs: resource(user('jane'), 'list', 'pods', 'default'), allowed: true },
  { name: 'jane cannot delete pods', attrs: resource(user('jane'), 'delete', 'pods', 'default', 'web'), allowed: false },
  { name: 'jane cannot read pods elsewhere', attrs: resource(user('jane'), 'get', 'pods', 'kube-system', 'x'), allowed: false },
  { name: 'jane cannot read pods/log (subresource is separate)', attrs: resource(user('jane'), 'get', 'pods/log', 'default', 'web'), allowed: false },
  { name: 'jane cannot list pods cluster-wide', attrs: resource(user('jane'), 'list', 'pods'), allowed: false },
  { name: 'dave reads secrets in development via ClusterRole', attrs: resource(user('dave'), 'get', 'secrets', 'development', 's'), allowed: true },
  { name: 'dave cannot read secrets in default', attrs: resource(user('dave'), 'get', 'secrets', 'default', 's'), allowed: false },
  { name: 'dave cannot list secrets cluster-wide', attrs: resource(user('dave'), 'list', 'secrets'), allowed: false },
  { name: 'manager group reads secrets anywhere', attrs: resource(user('mia', 'manager'), 'list', 'secrets', 'any-ns'), allowed: true },
  { name: 'manager group lists secrets across namespaces', attrs: resource(user('mia', 'manager'), 'list', 'secrets'), allowed: true },
  { name: 'logan reads pods/log', attrs: resource(user('logan'), 'get', 'pods/log', 'default', 'web'), allowed: true },
  { name: 'logan cannot exec', attrs: resource(user('logan'), 'create', 'pods/exec', 'default', 'web'), allowed: false },
  { name: 'cora updates my-configmap', attrs: resource(user('cora'), 'update', 'configmaps', 'default', 'my-configmap'), allowed: true },
  { name: 'cora cannot update another configmap', attrs: resource(user('cora'), 'update', 'configmaps', 'default', 'other'), allowed: false },
  { name: 'resourceNames never match a list', attrs: resource(user('cora'), 'list', 'configmaps', 'default'), allowed: false },
  { name: 'resourceNames never match a create', attrs: resource(user('cora'), 'create', 'configmaps', 'default'), allowed: false },
  { name: 'hank gets /healthz', attrs: nonResource(user('hank'), 'get', '/healthz'), allowed: true },
  { name: 'hank posts /healthz/etcd (trailing *)', attrs: nonResource(user('hank'), 'post', '/healthz/etcd'), allowed: true },
  { name: 'hank cannot get /healthzfoo', attrs: nonResource(user('hank'), 'get', '/healthzfoo'), allowed: false },
  { name: 'hank cannot delete /healthz', attrs: nonResource(user('hank'), 'delete', '/healthz'), allowed: false },
  { name: 'sam updates deployments/scale via */scale', attrs: resource(user('sam'), 'update', 'apps/deployments/scale', 'default', 'web'), allowed: true },
  { name: 'sam cannot update deployments', attrs: resource(user('sam'), 'update', 'apps/deployments', 'default', 'web'), allowed: false },
  { name: 'kube-system default SA reads pods there', attrs: resource(sa('kube-system', 'default'), 'get', 'pods', 'kube-system', 'p'), allowed: true },
  { name: 'default SA of another namespace does not', attrs: resource(sa('default', 'default'), 'get', 'pods', 'kube-system', 'p'), allowed: false },
  { name: 'SA subject without namespace defaults to the binding namespace', attrs: resource(sa('qa', 'robot'), 'get', 'secrets', 'qa', 's'), allowed: true },
  { name: 'same-named SA elsewhere is not matched', attrs: resource(sa('dev', 'robot'), 'get', 'secrets', 'qa', 's'), allowed: false },
  { name: 'group of all SAs in qa', attrs: resource(sa('qa', 'anything'), 'list', 'apps/deployments', 'qa'), allowed: true },
  { name: 'cluster binding to SA', attrs: resource(sa('audit', 'auditor'), 'list', 'secrets'), allowed: true },
  { name: 'verb * in a RoleBinding', attrs: resource(user('carl', 'ci'), 'deletecollection', 'batch/jobs', 'ci'), allowed: true },
  { name: 'verb * does not cross API groups', attrs: resource(user('carl', 'ci'), 'delete', 'apps/deployments', 'ci', 'x'), allowed: false },
  { name: 'system:masters bypasses RBAC', attrs: resource(user('root', 'system:masters'), 'delete', 'nodes', undefined, 'n1'), allowed: true },
  { name: 'unknown user', attrs: resource(user('nobody'), 'get', 'pods', 'default', 'p'), allowed: false },
];

describe('RBAC authorizer (documented examples)', () => {
  const authorizer = createRbacAuthorizer(lister(documented));
  for (const c of cases) {
    test(c.name, () => {
      const result = authorizer.authorize(c.attrs);
      assert.equal(result.decision, c.allowed ? 'allow' : 'noopinion', result.reason);
    });
  }

  test('allow reasons name the binding and role as Kubernetes does', () => {
    assert.equal(
      authorizer.authorize(resource(user('jane'), 'get', 'pods', 'default', 'p')).reason,
      'RBAC: allowed by RoleBinding "read-pods/default" of Role "pod-reader" to User "jane"',
    );
    assert.equal(
      authorizer.authorize(resource(user('mia', 'manager'), 'get', 'secrets', 'x', 's')).reason,
      'RBAC: allowed by ClusterRoleBinding "read-secrets-global" of ClusterRole "secret-reader" to Group "manager"',
    );
    assert.equal(
      authorizer.authorize(resource(sa('qa', 'robot'), 'get', 'secrets', 'qa', 's')).reason,
      'RBAC: allowed by RoleBinding "sa-implicit/qa" of ClusterRole "secret-reader" to ServiceAccount "robot/qa"',
    );
  });

  test('rulesFor lists cluster and namespace rules, flags missing roles', () => {
    const rules = authorizer.rulesFor(user('jane'), 'default');
    assert.deepEqual(rules.resourceRules, [{ verbs: ['get', 'watch', 'list'], apiGroups: [''], resources: ['pods'] }]);
    assert.equal(rules.incomplete, true);
    assert.match(rules.evaluationError ?? '', /role.rbac.authorization.k8s.io "missing" not found/);
    const hank = authorizer.rulesFor(user('hank'), 'default');
    assert.deepEqual(hank.nonResourceRules, [{ verbs: ['get', 'post'], nonResourceURLs: ['/healthz', '/healthz/*'] }]);
    assert.equal(hank.incomplete, false);
    const cora = authorizer.rulesFor(user('cora'), 'default');
    assert.deepEqual(cora.resourceRules[0].resourceNames, ['my-configmap']);
  });
});

describe('bootstrap policy', () => {
  const roles = bootstrapClusterRoles();
  const bindings = bootstrapClusterRoleBindings();
  const authorizer = createRbacAuthorizer(lister([...roles, ...bindings]));
  const allowed = (attrs: AuthorizationAttributes) => authorizer.authorize(attrs).decision === 'allow';
  const anonymous: UserInfo = { username: 'system:anonymous', groups: ['system:unauthenticated'] };

  test('every object is labelled and annotated as an rbac default, names are unique, bindings resolve', () => {
    const names = new Set<string>();
    for (const o of [...roles, ...bindings]) {
      assert.equal(o.metadata.labels?.['kubernetes.io/bootstrapping'], 'rbac-defaults', o.metadata.name);
      assert.equal(o.metadata.annotations?.['rbac.authorization.kubernetes.io/autoupdate'], 'true');
      const key = `${o.kind}/${o.metadata.name}`;
      assert.ok(!names.has(key), `duplicate ${key}`);
      names.add(key);
    }
    for (const b of bindings) assert.ok(roles.some((r) => r.metadata.name === b.roleRef.name), `binding ${b.metadata.name} → missing role ${b.roleRef.name}`);
  });

  test('aggregated roles carry their selectors and labels', () => {
    const byName = (n: string) => roles.find((r) => r.metadata.name === n)!;
    assert.deepEqual(byName('view').aggregationRule, { clusterRoleSelectors: [{ matchLabels: { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' } }] });
    assert.equal(byName('view').metadata.labels?.['rbac.authorization.k8s.io/aggregate-to-edit'], 'true');
    assert.equal(byName('edit').metadata.labels?.['rbac.authorization.k8s.io/aggregate-to-admin'], 'true');
    assert.equal(byName('system:aggregate-to-view').metadata.labels?.['rbac.authorization.k8s.io/aggregate-to-view'], 'true');
  });

  test('anonymous may read health and version only; authenticated users may discover APIs', () => {
    assert.ok(allowed(nonResource(anonymous, 'get', '/healthz')));
    assert.ok(allowed(nonResource(anonymous, 'get', '/version')));
    assert.ok(!allowed(nonResource(anonymous, 'get', '/api')));
    assert.ok(!allowed(resource(anonymous, 'list', 'pods', 'default')));
    assert.ok(allowed(nonResource(user('jane'), 'get', '/apis/apps/v1')));
    assert.ok(allowed(nonResource(user('jane'), 'get', '/openapi/v3')));
    assert.ok(allowed(resource(user('jane'), 'create', 'authorization.k8s.io/selfsubjectaccessreviews')));
    assert.ok(!allowed(nonResource(user('jane'), 'get', '/metrics')));
    assert.ok(allowed(nonResource(user('prom', 'system:monitoring'), 'get', '/metrics')));
  });

  test('view, edit and admin bound in a namespace', () => {
    const extra = [
      roleBinding('team', 'viewer', { kind: 'ClusterRole', name: 'view' }, [{ kind: 'User', name: 'vera', apiGroup: rbac }]),
      roleBinding('team', 'editor', { kind: 'ClusterRole', name: 'edit' }, [{ kind: 'User', name: 'ed', apiGroup: rbac }]),
      roleBinding('team', 'administrator', { kind: 'ClusterRole', name: 'admin' }, [{ kind: 'User', name: 'ada', apiGroup: rbac }]),
    ];
    const a = createRbacAuthorizer(lister([...roles, ...bindings, ...extra]));
    const can = (u: string, verb: string, res: string, name?: string) => a.authorize(resource(user(u), verb, res, 'team', name)).decision === 'allow';
    assert.ok(can('vera', 'list', 'pods'));
    assert.ok(can('vera', 'get', 'pods/log', 'p'));
    assert.ok(can('vera', 'watch', 'apps/deployments'));
    assert.ok(!can('vera', 'get', 'secrets', 's'), 'view must not read secrets');
    assert.ok(!can('vera', 'create', 'pods'));
    assert.ok(can('ed', 'create', 'apps/deployments'));
    assert.ok(can('ed', 'update', 'apps/deployments/scale', 'web'));
    assert.ok(can('ed', 'create', 'pods/exec', 'p'));
    assert.ok(can('ed', 'get', 'secrets', 's'));
    assert.ok(!can('ed', 'create', 'rbac.authorization.k8s.io/rolebindings'));
    assert.ok(!can('ed', 'update', 'endpoints', 'e'), 'edit must not write endpoints');
    assert.ok(can('ada', 'create', 'rbac.authorization.k8s.io/rolebindings'));
    assert.ok(can('ada', 'delete', 'batch/jobs', 'j'));
    assert.ok(!can('ada', 'update', 'resourcequotas', 'q'));
    assert.ok(a.authorize(resource(user('ada'), 'list', 'pods', 'elsewhere')).decision === 'noopinion');
  });

  test('controller service accounts get exactly their roles', () => {
    assert.ok(controllerNames().includes('deployment-controller'));
    const deploy = sa('kube-system', 'deployment-controller');
    assert.equal(deploy.username, controllerServiceAccountUsername('deployment-controller'));
    assert.ok(allowed(resource(deploy, 'create', 'apps/replicasets', 'default')));
    assert.ok(allowed(resource(deploy, 'update', 'apps/deployments/status', 'default', 'web')));
    assert.ok(!allowed(resource(deploy, 'create', 'pods', 'default')));
    const rs = sa('kube-system', 'replicaset-controller');
    assert.ok(allowed(resource(rs, 'create', 'pods', 'default')));
    assert.ok(allowed(resource(rs, 'create', 'events', 'default')));
    assert.ok(allowed(resource(sa('kube-system', 'generic-garbage-collector'), 'delete', 'apps/replicasets', 'default', 'x')));
    assert.ok(allowed(resource(sa('kube-system', 'horizontal-pod-autoscaler'), 'update', 'apps/deployments/scale', 'default', 'web')));
    assert.ok(allowed(resource(sa('kube-system', 'namespace-controller'), 'update', 'namespaces/finalize', undefined, 'gone')));
    assert.ok(!allowed(resource(sa('default', 'deployment-controller'), 'create', 'apps/replicasets', 'default')), 'only kube-system SAs');
  });

  test('components: scheduler binds pods, proxy and dns watch slices, bootstrappers request certificates', () => {
    assert.ok(allowed(resource(user('system:kube-scheduler'), 'create', 'pods/binding', 'default', 'p')));
    assert.ok(allowed(resource(user('system:kube-scheduler'), 'update', 'coordination.k8s.io/leases', 'kube-system', 'kube-scheduler')));
    assert.ok(!allowed(resource(user('system:kube-scheduler'), 'update', 'coordination.k8s.io/leases', 'kube-system', 'other')));
    assert.ok(allowed(resource(user('system:navarch:proxy'), 'watch', 'discovery.k8s.io/endpointslices')));
    assert.ok(allowed(resource(user('system:navarch:dns'), 'list', 'services')));
    assert.ok(!allowed(resource(user('system:navarch:dns'), 'list', 'secrets')));
    // kube-dns's ConfigMap by name only (a watch with fieldSelector=metadata.name=kube-dns), not every ConfigMap.
    assert.ok(allowed(resource(user('system:navarch:dns'), 'watch', 'configmaps', 'kube-system', 'kube-dns')));
    assert.ok(!allowed(resource(user('system:navarch:dns'), 'watch', 'configmaps', 'kube-system')));
    assert.ok(!allowed(resource(user('system:navarch:dns'), 'get', 'configmaps', 'kube-system', 'other')));
    const joiner: UserInfo = { username: 'system:bootstrap:abcdef', groups: ['system:bootstrappers', 'system:authenticated'] };
    assert.ok(allowed(resource(joiner, 'create', 'certificates.k8s.io/certificatesigningrequests')));
    assert.ok(allowed(resource(joiner, 'create', 'certificates.k8s.io/certificatesigningrequests/nodeclient')));
    assert.ok(!allowed(resource(joiner, 'list', 'pods')));
  });
});

describe('union authorizer', () => {
  test('first decision wins; no opinion passes on', () => {
    const deny = { authorize: () => ({ decision: 'deny' as const, reason: 'nope' }) };
    const none = { authorize: () => ({ decision: 'noopinion' as const, reason: 'dunno' }) };
    const yes = { authorize: () => ({ decision: 'allow' as const, reason: 'ok' }) };
    const attrs = resource(user('x'), 'get', 'pods', 'default', 'p');
    assert.deepEqual(createUnionAuthorizer([none, yes, deny]).authorize(attrs), { decision: 'allow', reason: 'ok' });
    assert.deepEqual(createUnionAuthorizer([none, deny, yes]).authorize(attrs), { decision: 'deny', reason: 'nope' });
    assert.deepEqual(createUnionAuthorizer([none, none]).authorize(attrs), { decision: 'noopinion', reason: 'dunno, dunno' });
    const privileged = createPrivilegedGroupsAuthorizer(['system:masters']);
    assert.equal(privileged.authorize(resource(user('r', 'system:masters'), 'delete', 'nodes', undefined, 'n')).decision, 'allow');
    assert.equal(privileged.authorize(attrs).decision, 'noopinion');
  });
});
