import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultFederatedTypeConfigs } from './crds.js';
import { applyOverrides, matchesSelector, mergeForUpdate, placedClusters, renderedHashAnnotation, renderTarget } from './render.js';
import type { FederatedResource, KubeFedCluster } from './api.js';

const cluster = (name: string, labels?: Record<string, string>) => ({ metadata: { name, labels }, spec: { apiEndpoint: 'x', secretRef: { name: 'y' } } }) as KubeFedCluster;
const configFor = (kind: string) => defaultFederatedTypeConfigs().find((c) => c.spec.targetType.kind === kind)!;

describe('placement', () => {
  const clusters = [cluster('a', { region: 'eu' }), cluster('b', { region: 'us' }), cluster('c')];
  test('clusters list wins over the selector and drops unknown names', () => {
    assert.deepEqual(placedClusters({ clusters: [{ name: 'b' }, { name: 'zz' }], clusterSelector: {} }, clusters), ['b']);
  });
  test('an empty clusters list places nowhere even with a selector', () => {
    assert.deepEqual(placedClusters({ clusters: [], clusterSelector: {} }, clusters), []);
  });
  test('an empty selector selects every member; labels and expressions narrow it', () => {
    assert.deepEqual(placedClusters({ clusterSelector: {} }, clusters), ['a', 'b', 'c']);
    assert.deepEqual(placedClusters({ clusterSelector: { matchLabels: { region: 'eu' } } }, clusters), ['a']);
    assert.deepEqual(placedClusters({ clusterSelector: { matchExpressions: [{ key: 'region', operator: 'Exists' }] } }, clusters), ['a', 'b']);
    assert.deepEqual(placedClusters({ clusterSelector: { matchExpressions: [{ key: 'region', operator: 'NotIn', values: ['eu'] }] } }, clusters), ['b', 'c']);
  });
  test('no placement places nowhere', () => {
    assert.deepEqual(placedClusters(undefined, clusters), []);
  });
  test('an unknown operator selects nothing', () => {
    assert.equal(matchesSelector({ a: 'b' }, { matchExpressions: [{ key: 'a', operator: 'Like' }] }), false);
  });
});

describe('overrides', () => {
  test('replace, add (creating intermediate objects), remove, array index and append', () => {
    const target: any = { spec: { replicas: 1, template: { spec: { containers: [{ name: 'c', image: 'v1' }] } } }, metadata: { labels: { x: '1' } } };
    applyOverrides(target, [
      { path: '/spec/replicas', value: 5 },
      { path: '/spec/template/spec/containers/0/image', op: 'replace', value: 'v2' },
      { path: '/spec/strategy/type', op: 'add', value: 'Recreate' },
      { path: '/metadata/labels/x', op: 'remove' },
      { path: '/spec/template/spec/containers/-', op: 'add', value: { name: 'side' } },
      { path: '/metadata/annotations/a~1b', value: 'escaped' },
    ]);
    assert.equal(target.spec.replicas, 5);
    assert.equal(target.spec.template.spec.containers[0].image, 'v2');
    assert.equal(target.spec.template.spec.containers[1].name, 'side');
    assert.equal(target.spec.strategy.type, 'Recreate');
    assert.deepEqual(target.metadata.labels, {});
    assert.equal(target.metadata.annotations['a/b'], 'escaped');
  });
  test('a path not starting with / is refused', () => {
    assert.throws(() => applyOverrides({}, [{ path: 'spec' }]), /must start with/);
  });
});

describe('renderTarget', () => {
  const deployment: FederatedResource = {
    apiVersion: 'types.kubefed.io/v1beta1',
    kind: 'FederatedDeployment',
    metadata: { name: 'web', namespace: 'demo' },
    spec: {
      template: { metadata: { labels: { app: 'web' } }, spec: { replicas: 3 } },
      overrides: [{ clusterName: 'b', clusterOverrides: [{ path: '/spec/replicas', value: 1 }, { path: '/metadata/name', value: 'hijack' }] }],
    },
  };
  test('identity from the federated object, managed label, per-cluster overrides', () => {
    const a: any = renderTarget(configFor('Deployment'), deployment, 'a');
    const b: any = renderTarget(configFor('Deployment'), deployment, 'b');
    assert.equal(a.apiVersion, 'apps/v1');
    assert.equal(a.kind, 'Deployment');
    assert.equal(a.metadata.name, 'web');
    assert.equal(a.metadata.namespace, 'demo');
    assert.deepEqual(a.metadata.labels, { app: 'web', 'kubefed.io/managed': 'true' });
    assert.equal(a.spec.replicas, 3);
    assert.equal(b.spec.replicas, 1);
    assert.equal(b.metadata.name, 'web', 'overrides cannot rename the object');
    assert.notEqual(a.metadata.annotations[renderedHashAnnotation], b.metadata.annotations[renderedHashAnnotation]);
    assert.equal(renderTarget(configFor('Deployment'), deployment, 'a').metadata.annotations![renderedHashAnnotation], a.metadata.annotations[renderedHashAnnotation], 'stable');
  });
  test('a FederatedNamespace becomes a cluster-scoped Namespace', () => {
    const ns: any = renderTarget(configFor('Namespace'), { metadata: { name: 'demo', namespace: 'demo' }, spec: { template: {} } } as FederatedResource, 'a');
    assert.equal(ns.kind, 'Namespace');
    assert.equal(ns.apiVersion, 'v1');
    assert.equal(ns.metadata.namespace, undefined);
    assert.equal(ns.metadata.name, 'demo');
  });
});

describe('mergeForUpdate', () => {
  test('keeps what the member allocated and other controllers added, replaces what we render', () => {
    const existing: any = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 's', namespace: 'n', resourceVersion: '7', labels: { other: 'x' }, annotations: { [renderedHashAnnotation]: 'old' } },
      spec: { clusterIP: '10.43.0.9', clusterIPs: ['10.43.0.9'], type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }], selector: { app: 'old' } },
      status: { loadBalancer: {} },
    };
    const rendered: any = { apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'n', labels: { 'kubefed.io/managed': 'true' }, annotations: { [renderedHashAnnotation]: 'new' } }, spec: { type: 'NodePort', ports: [{ port: 80 }], selector: { app: 'web' } } };
    const merged: any = mergeForUpdate(existing, rendered);
    assert.equal(merged.metadata.resourceVersion, '7');
    assert.deepEqual(merged.metadata.labels, { other: 'x', 'kubefed.io/managed': 'true' });
    assert.equal(merged.metadata.annotations[renderedHashAnnotation], 'new');
    assert.equal(merged.spec.clusterIP, '10.43.0.9');
    assert.equal(merged.spec.ports[0].nodePort, 30080);
    assert.deepEqual(merged.spec.selector, { app: 'web' });
    assert.deepEqual(merged.status, { loadBalancer: {} });
  });
});
