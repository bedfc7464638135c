import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/types.js';
import { createNodeAuthorizer, nodeIdentity, podReferences } from './node.js';
import type { AuthorizationAttributes, UserInfo } from './types.js';

const node1: UserInfo = { username: 'system:node:node-1', groups: ['system:nodes', 'system:authenticated'] };

const webPod: KubeObject = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web', namespace: 'shop', uid: 'u1' },
  spec: {
    nodeName: 'node-1',
    serviceAccountName: 'web-sa',
    imagePullSecrets: [{ name: 'registry' }],
    containers: [
      {
        name: 'app',
        envFrom: [{ configMapRef: { name: 'app-env' } }],
        env: [{ name: 'PW', valueFrom: { secretKeyRef: { name: 'db-password', key: 'pw' } } }],
      },
    ],
    initContainers: [{ name: 'init', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'init-config', key: 'x' } } }] }],
    volumes: [
      { name: 'certs', secret: { secretName: 'tls' } },
      { name: 'conf', configMap: { name: 'nginx-conf' } },
      { name: 'proj', projected: { sources: [{ secret: { name: 'projected-secret' } }, { configMap: { name: 'projected-cm' } }] } },
      { name: 'data', persistentVolumeClaim: { claimName: 'data' } },
      { name: 'scratch', ephemeral: { volumeClaimTemplate: { spec: {} } } },
      { name: 'csi', csi: { driver: 'x', nodePublishSecretRef: { name: 'csi-creds' } } },
    ],
  },
};
const otherPod: KubeObject = { metadata: { name: 'db', namespace: 'shop' }, spec: { nodeName: 'node-2', volumes: [{ name: 's', secret: { secretName: 'db-only' } }] } };

const pods = [webPod, otherPod];
const claims: Record<string, KubeObject> = {
  'shop/data': { metadata: { name: 'data', namespace: 'shop' }, spec: { volumeName: 'pv-data' } },
};
const authorizer = createNodeAuthorizer({
  podsOnNode: (name) => pods.filter((p) => p.spec?.nodeName === name),
  persistentVolumeClaim: (ns, name) => claims[`${ns}/${name}`],
});

function attrs(verb: string, group: string, resourcePath: string, namespace?: string, name?: string, user = node1): AuthorizationAttributes {
  const [resource, subresource] = resourcePath.split('/');
  return { user, verb, apiGroup: group, resource, subresource, namespace, name, resourceRequest: true };
}

const cases: { name: string; attrs: AuthorizationAttributes; allowed: boolean }[] = [
  { name: 'secret in a volume of a bound pod', attrs: attrs('get', '', 'secrets', 'shop', 'tls'), allowed: true },
  { name: 'secret from env', attrs: attrs('get', '', 'secrets', 'shop', 'db-password'), allowed: true },
  { name: 'image pull secret', attrs: attrs('get', '', 'secrets', 'shop', 'registry'), allowed: true },
  { name: 'projected secret', attrs: attrs('get', '', 'secrets', 'shop', 'projected-secret'), allowed: true },
  { name: 'CSI node publish secret', attrs: attrs('get', '', 'secrets', 'shop', 'csi-creds'), allowed: true },
  { name: 'single-object watch of a referenced secret', attrs: attrs('watch', '', 'secrets', 'shop', 'tls'), allowed: true },
  { name: 'secret of a pod on another node', attrs: attrs('get', '', 'secrets', 'shop', 'db-only'), allowed: false },
  { name: 'same secret name in another namespace', attrs: attrs('get', '', 'secrets', 'other', 'tls'), allowed: false },
  { name: 'listing all secrets', attrs: attrs('list', '', 'secrets', 'shop'), allowed: false },
  { name: 'writing a referenced secret', attrs: attrs('update', '', 'secrets', 'shop', 'tls'), allowed: false },
  { name: 'configmap from envFrom', attrs: attrs('get', '', 'configmaps', 'shop', 'app-env'), allowed: true },
  { name: 'configmap from init container env', attrs: attrs('get', '', 'configmaps', 'shop', 'init-config'), allowed: true },
  { name: 'configmap volume', attrs: attrs('get', '', 'configmaps', 'shop', 'nginx-conf'), allowed: true },
  { name: 'projected configmap', attrs: attrs('get', '', 'configmaps', 'shop', 'projected-cm'), allowed: true },
  { name: 'unrelated configmap', attrs: attrs('get', '', 'configmaps', 'shop', 'kube-root-ca.crt-not-used'), allowed: false },
  { name: 'claim of a bound pod', attrs: attrs('get', '', 'persistentvolumeclaims', 'shop', 'data'), allowed: true },
  { name: 'generic ephemeral claim', attrs: attrs('get', '', 'persistentvolumeclaims', 'shop', 'web-scratch'), allowed: true },
  { name: 'claim status update (expansion)', attrs: attrs('patch', '', 'persistentvolumeclaims/status', 'shop', 'data'), allowed: true },
  { name: 'deleting a claim', attrs: attrs('delete', '', 'persistentvolumeclaims', 'shop', 'data'), allowed: false },
  { name: 'PV bound to a claim of a bound pod', attrs: attrs('get', '', 'persistentvolumes', undefined, 'pv-data'), allowed: true },
  { name: 'other PV', attrs: attrs('get', '', 'persistentvolumes', undefined, 'pv-other'), allowed: false },
  { name: 'token for the pod service account', attrs: attrs('create', '', 'serviceaccounts/token', 'shop', 'web-sa'), allowed: true },
  { name: 'token for another service account', attrs: attrs('create', '', 'serviceaccounts/token', 'shop', 'admin'), allowed: false },
  { name: 'update own node', attrs: attrs('patch', '', 'nodes', undefined, 'node-1'), allowed: true },
  { name: 'update own node status', attrs: attrs('update', '', 'nodes/status', undefined, 'node-1'), allowed: true },
  { name: 'update another node status', attrs: attrs('update', '', 'nodes/status', undefined, 'node-2'), allowed: false },
  { name: 'delete own node (not in node rules)', attrs: attrs('delete', '', 'nodes', undefined, 'node-1'), allowed: false },
  { name: 'read all nodes', attrs: attrs('list', '', 'nodes'), allowed: true },
  { name: 'register itself', attrs: attrs('create', '', 'nodes'), allowed: true },
  { name: 'own lease', attrs: attrs('update', 'coordination.k8s.io', 'leases', 'kube-node-lease', 'node-1'), allowed: true },
  { name: 'create own lease', attrs: attrs('create', 'coordination.k8s.io', 'leases', 'kube-node-lease'), allowed: true },
  { name: 'another node lease', attrs: attrs('update', 'coordination.k8s.io', 'leases', 'kube-node-lease', 'node-2'), allowed: false },
  { name: 'leader-election lease', attrs: attrs('update', 'coordination.k8s.io', 'leases', 'kube-system', 'kube-scheduler'), allowed: false },
  { name: 'read pods', attrs: attrs('watch', '', 'pods'), allowed: true },
  { name: 'status of a bound pod', attrs: attrs('patch', '', 'pods/status', 'shop', 'web'), allowed: true },
  { name: 'status of a pod on another node', attrs: attrs('patch', '', 'pods/status', 'shop', 'db'), allowed: false },
  { name: 'delete a bound (mirror) pod', attrs: attrs('delete', '', 'pods', 'shop', 'web'), allowed: true },
  { name: 'delete a pod on another node', attrs: attrs('delete', '', 'pods', 'shop', 'db'), allowed: false },
  { name: 'update a pod spec', attrs: attrs('update', '', 'pods', 'shop', 'web'), allowed: false },
  { name: 'evict a bound pod', attrs: attrs('create', '', 'pods/eviction', 'shop', 'web'), allowed: true },
  { name: 'create events', attrs: attrs('create', '', 'events', 'shop'), allowed: true },
  { name: 'request a certificate', attrs: attrs('create', 'certificates.k8s.io', 'certificatesigningrequests'), allowed: true },
  { name: 'read services for env vars', attrs: attrs('list', '', 'services'), allowed: true },
  { name: 'own CSINode', attrs: attrs('update', 'storage.k8s.io', 'csinodes', undefined, 'node-1'), allowed: true },
  { name: 'another CSINode', attrs: attrs('update', 'storage.k8s.io', 'csinodes', undefined, 'node-2'), allowed: false },
  { name: 'deployments are not node business', attrs: attrs('list', 'apps', 'deployments', 'shop'), allowed: false },
];

describe('node authorizer', () => {
  for (const c of cases) {
    test(c.name, () => {
      const result = authorizer.authorize(c.attrs);
      assert.equal(result.decision, c.allowed ? 'allow' : 'noopinion', result.reason);
    });
  }

  test('only node identities are judged', () => {
    assert.equal(nodeIdentity(node1), 'node-1');
    assert.equal(nodeIdentity({ username: 'system:node:node-1', groups: ['system:authenticated'] }), undefined, 'group required');
    assert.equal(nodeIdentity({ username: 'jane', groups: ['system:nodes'] }), undefined);
    const jane: UserInfo = { username: 'jane', groups: ['system:authenticated'] };
    assert.deepEqual(authorizer.authorize(attrs('get', '', 'secrets', 'shop', 'tls', jane)), { decision: 'noopinion', reason: '' });
  });

  test('refusals explain the missing relationship', () => {
    assert.match(authorizer.authorize(attrs('get', '', 'secrets', 'shop', 'db-only')).reason, /no relationship found between node 'node-1' and this object/);
  });

  test('pod references', () => {
    const refs = podReferences(webPod);
    assert.deepEqual([...refs.secrets].sort(), ['csi-creds', 'db-password', 'projected-secret', 'registry', 'tls']);
    assert.deepEqual([...refs.configMaps].sort(), ['app-env', 'init-config', 'nginx-conf', 'projected-cm']);
    assert.deepEqual([...refs.claims].sort(), ['data', 'web-scratch']);
    assert.equal(refs.serviceAccount, 'web-sa');
    assert.equal(podReferences({ metadata: { name: 'x' }, spec: {} }).serviceAccount, 'default');
  });

  test('rules review is marked incomplete', () => {
    const rules = authorizer.rulesFor(node1, 'shop');
    assert.equal(rules.incomplete, true);
    assert.ok(rules.resourceRules.some((r) => r.resources?.includes('nodes')));
    assert.ok(!rules.resourceRules.some((r) => r.resources?.includes('secrets')));
  });
});
