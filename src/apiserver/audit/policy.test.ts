import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePolicy, PolicyRuleEvaluator, type AuditAttributes } from './policy.js';

// The example policy from Kubernetes' "Auditing" page.
const documentedExample = `
apiVersion: audit.k8s.io/v1 # This is required.
kind: Policy
omitStages:
  - "RequestReceived"
rules:
  - level: RequestResponse
    resources:
    - group: ""
      resources: ["pods"]
  - level: Metadata
    resources:
    - group: ""
      resources: ["pods/log", "pods/status"]
  - level: None
    resources:
    - group: ""
      resources: ["configmaps"]
      resourceNames: ["controller-leader"]
  - level: None
    users: ["system:kube-proxy"]
    verbs: ["watch"]
    resources:
    - group: ""
      resources: ["endpoints", "services"]
  - level: None
    userGroups: ["system:authenticated"]
    nonResourceURLs:
    - "/api*"
    - "/version"
  - level: Request
    resources:
    - group: ""
      resources: ["configmaps"]
    namespaces: ["kube-system"]
  - level: Metadata
    resources:
    - group: ""
      resources: ["secrets", "configmaps"]
  - level: Request
    resources:
    - group: ""
    - group: "extensions"
  - level: Metadata
    omitStages:
      - "RequestReceived"
`;

const jane = { username: 'jane', groups: ['dev', 'system:authenticated'] };
const req = (verb: string, resource: string, extra: Partial<AuditAttributes> = {}): AuditAttributes => {
  const [r, sub = ''] = resource.split('/');
  return { ...jane, verb, resourceRequest: true, apiGroup: '', resource: r, subresource: sub, namespace: 'default', name: '', path: '', ...extra };
};
const nonResource = (path: string, user = jane): AuditAttributes => ({ ...user, verb: 'get', resourceRequest: false, apiGroup: '', resource: '', subresource: '', namespace: '', name: '', path });

describe('audit policy: the documented example', () => {
  const evaluator = new PolicyRuleEvaluator(parsePolicy(documentedExample, 'example.yaml'));
  const cases: [string, AuditAttributes, string][] = [
    ['pod changes at RequestResponse', req('create', 'pods'), 'RequestResponse'],
    ['"pods" does not match a pods subresource', req('get', 'pods/log', { name: 'web' }), 'Metadata'],
    ['pods/status at Metadata', req('update', 'pods/status', { name: 'web' }), 'Metadata'],
    ['the leader configmap is not recorded', req('update', 'configmaps', { name: 'controller-leader' }), 'None'],
    ['other configmaps in default at Metadata', req('update', 'configmaps', { name: 'other' }), 'Metadata'],
    ['a list has no name: resourceNames does not match it', req('list', 'configmaps'), 'Metadata'],
    ['configmaps in kube-system at Request', req('create', 'configmaps', { namespace: 'kube-system' }), 'Request'],
    ['kube-proxy watching services: not recorded', req('watch', 'services', { username: 'system:kube-proxy' }), 'None'],
    ['kube-proxy listing services: core at Request', req('list', 'services', { username: 'system:kube-proxy' }), 'Request'],
    ['another user watching endpoints: core at Request', req('watch', 'endpoints'), 'Request'],
    ['secrets at Metadata', req('get', 'secrets', { name: 's' }), 'Metadata'],
    ['extensions group at Request', req('list', 'ingresses', { apiGroup: 'extensions' }), 'Request'],
    ['apps group falls to the catch-all', req('create', 'deployments', { apiGroup: 'apps' }), 'Metadata'],
    ['/api* wildcard for authenticated users', nonResource('/apis/apps/v1'), 'None'],
    ['/version exactly', nonResource('/version'), 'None'],
    ['/version/ is not /version', nonResource('/version/'), 'Metadata'],
    ['unauthenticated /api falls to the catch-all', nonResource('/api', { username: 'system:anonymous', groups: ['system:unauthenticated'] }), 'Metadata'],
    ['/healthz falls to the catch-all', nonResource('/healthz'), 'Metadata'],
  ];
  for (const [name, attributes, level] of cases) {
    test(name, () => assert.equal(evaluator.evaluate(attributes).level, level));
  }

  test('policy-level and rule-level omitStages combine', () => {
    assert.deepEqual(evaluator.evaluate(req('create', 'pods')).omitStages, ['RequestReceived']);
  });
});

describe('audit policy: matching forms', () => {
  const policy = parsePolicy(
    JSON.stringify({
      apiVersion: 'audit.k8s.io/v1beta1',
      kind: 'Policy',
      omitManagedFields: true,
      rules: [
        { level: 'None', namespaces: [''], verbs: ['get'] },
        { level: 'Request', resources: [{ group: '', resources: ['*/status'] }], omitManagedFields: false },
        { level: 'RequestResponse', resources: [{ group: 'apps', resources: ['deployments/*'] }] },
        { level: 'Metadata', resources: [{ group: 'batch', resources: ['*'] }], omitStages: ['ResponseStarted'] },
        { level: 'Request', nonResourceURLs: ['*'] },
      ],
    }),
    'policy.json',
  );
  const evaluator = new PolicyRuleEvaluator(policy);
  test('"" namespace selects cluster-scoped requests only', () => {
    assert.equal(evaluator.evaluate(req('get', 'nodes', { namespace: '', name: 'n1' })).level, 'None');
    assert.equal(evaluator.evaluate(req('get', 'jobs', { apiGroup: 'batch', name: 'j' })).level, 'Metadata');
    assert.equal(evaluator.evaluate(req('get', 'jobs', { apiGroup: 'batch', name: 'j', namespace: '' })).level, 'None');
  });
  test('*/status matches any resource\'s status, not the resource', () => {
    assert.equal(evaluator.evaluate(req('update', 'services/status', { name: 's' })).level, 'Request');
    assert.equal(evaluator.evaluate(req('update', 'services', { name: 's' })).level, 'None');
  });
  test('deployments/* matches subresources not the resource itself', () => {
    assert.equal(evaluator.evaluate(req('update', 'deployments/scale', { apiGroup: 'apps', name: 'd' })).level, 'RequestResponse');
    assert.equal(evaluator.evaluate(req('update', 'deployments', { apiGroup: 'apps', name: 'd' })).level, 'None');
  });
  test('* matches every resource and subresource of the group', () => {
    assert.equal(evaluator.evaluate(req('create', 'jobs', { apiGroup: 'batch' })).level, 'Metadata');
    assert.equal(evaluator.evaluate(req('update', 'jobs/status', { apiGroup: 'batch', name: 'j' })).level, 'Metadata', '*/status is for the core group only');
    assert.deepEqual(evaluator.evaluate(req('create', 'jobs', { apiGroup: 'batch' })).omitStages, ['ResponseStarted']);
  });
  test('a nonResourceURLs rule never matches resource requests', () => {
    assert.equal(evaluator.evaluate(nonResource('/metrics')).level, 'Request');
    assert.equal(evaluator.evaluate(req('list', 'pods')).level, 'None');
  });
  test('omitManagedFields: the rule overrides the policy', () => {
    assert.equal(evaluator.evaluate(req('update', 'services/status', { name: 's' })).omitManagedFields, false);
    assert.equal(evaluator.evaluate(req('create', 'jobs', { apiGroup: 'batch' })).omitManagedFields, true);
  });
});

describe('audit policy: validation names the file and the field', () => {
  const invalid: [string, string, RegExp][] = [
    ['no rules', 'apiVersion: audit.k8s.io/v1\nkind: Policy\n', /rules: Required value/],
    ['wrong apiVersion', 'apiVersion: audit.k8s.io/v2\nkind: Policy\nrules: [{level: None}]', /apiVersion: Unsupported value: "audit.k8s.io\/v2"/],
    ['wrong kind', 'apiVersion: audit.k8s.io/v1\nkind: Pilicy\nrules: [{level: None}]', /kind: must be "Policy"/],
    ['unknown level', 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: Everything}]', /rules\[0\]\.level: Unsupported value: "Everything"/],
    ['missing level', 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{verbs: [get]}]', /rules\[0\]\.level: Required value/],
    ['unknown stage', 'apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [Started]\nrules: [{level: None}]', /omitStages\[0\]: Unsupported value: "Started"/],
    ['typo in a rule field', 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: None, user: [bob]}]', /rules\[0\]\.user: unknown field/],
    ['versioned group', 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: None, resources: [{group: apps/v1}]}]', /rules\[0\]\.resources\[0\]\.group: Invalid value: "apps\/v1"/],
    ['resourceNames without resources', 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: None, resources: [{resourceNames: [x]}]}]', /resourceNames requires at least one resource/],
    ['both kinds of rule', 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: None, nonResourceURLs: [/x], namespaces: [a]}]', /cannot apply to both/],
    ['relative URL', 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: None, nonResourceURLs: [healthz]}]', /must start with "\/"/],
    ['star inside a URL', 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: None, nonResourceURLs: ["/a*/b"]}]', /only allowed at the end/],
    ['not YAML', 'rules: [', /not valid YAML or JSON/],
  ];
  for (const [name, text, message] of invalid) {
    test(name, () => {
      assert.throws(() => parsePolicy(text, '/etc/audit/policy.yaml'), (e: Error) => {
        assert.match(e.message, /\/etc\/audit\/policy\.yaml/);
        assert.match(e.message, message);
        return true;
      });
    });
  }
});
