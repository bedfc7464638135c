/// <reference types="node" />
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinApiGroups, builtinResources, subresourceInfo } from './resources.js';

const find = (group: string, resource: string, version?: string) =>
  builtinResources.find((r) => r.group === group && r.resource === resource && (!version || r.version === version))!;

test('each group/version/resource is listed once and every group is in /apis order', () => {
  const keys = builtinResources.map((r) => `${r.group}/${r.version}/${r.resource}`);
  assert.equal(new Set(keys).size, keys.length);
  const groups = new Set(builtinApiGroups.map((g) => g.name));
  for (const r of builtinResources) if (r.group) assert.ok(groups.has(r.group), r.group);
  assert.deepEqual(builtinApiGroups.find((g) => g.name === 'autoscaling'), { name: 'autoscaling', versions: ['v2', 'v1'], preferredVersion: 'v2' });
  assert.equal(builtinApiGroups[0]!.name, 'apiregistration.k8s.io');
});

test('discovery data matches kubectl api-resources', () => {
  assert.deepEqual(find('', 'pods').shortNames, ['po']);
  assert.deepEqual(find('apps', 'deployments').categories, ['all']);
  assert.equal(find('', 'namespaces').namespaced, false);
  assert.ok(!find('', 'namespaces').verbs.includes('deletecollection'));
  assert.deepEqual(find('authorization.k8s.io', 'selfsubjectaccessreviews').verbs, ['create']);
  assert.deepEqual(find('apiextensions.k8s.io', 'customresourcedefinitions').shortNames, ['crd', 'crds']);
  assert.equal(find('', 'endpoints').singular, 'endpoints');
});

test('field selectors read fields the way Kubernetes does, with Go zero values', () => {
  const pods = find('', 'pods').fieldSelectors!;
  const pod = { metadata: { name: 'p' }, spec: { nodeName: 'n1' }, status: { phase: 'Running' } };
  assert.equal(pods['spec.nodeName']!(pod), 'n1');
  assert.equal(pods['status.phase']!(pod), 'Running');
  assert.equal(pods['spec.hostNetwork']!(pod), 'false');
  assert.equal(pods['status.podIP']!(pod), '');
  const events = find('', 'events').fieldSelectors!;
  assert.equal(events.source!({ metadata: {}, source: { component: 'kubelet' } }), 'kubelet');
  assert.equal(find('batch', 'jobs').fieldSelectors!['status.successful']!({ metadata: {}, status: { succeeded: 3 } }), '3');
  assert.equal(find('apps', 'replicasets').fieldSelectors!['status.replicas']!({ metadata: {} }), '0');
});

test('subresources describe their kind and verbs', () => {
  assert.deepEqual(subresourceInfo(find('apps', 'deployments'), 'scale'), { group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] });
  assert.equal(subresourceInfo(find('', 'pods'), 'eviction')!.kind, 'Eviction');
  assert.equal(subresourceInfo(find('', 'serviceaccounts'), 'token')!.group, 'authentication.k8s.io');
  assert.deepEqual(find('apps', 'statefulsets').scale, { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.spec.selector' });
});
