/// <reference types="node" />
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinResources } from '../resources.js';
import { createSchemaRegistry, schemaForCustomResource } from './index.js';
import { parseAttributeTypeMap, parseModelDeclaration } from './model-source.js';
import type { SchemaNode } from '../types.js';

const registry = createSchemaRegistry({ kinds: builtinResources });

function at(node: SchemaNode, path: string): SchemaNode {
  let current = node;
  for (const part of path.split('.')) {
    const next = part === '[]' ? current.items : current.properties?.[part];
    assert.ok(next, `no ${part} in ${path}`);
    current = next;
  }
  return current;
}

describe('schema registry', () => {
  test('every built-in resource has a schema with apiVersion, kind and metadata', () => {
    // metrics.k8s.io is read-only and computed (metrics-server's API, which has no client-node models).
    for (const resource of builtinResources.filter((r) => r.group !== 'metrics.k8s.io')) {
      const schema = registry.getSchema(resource.group, resource.version, resource.kind);
      assert.ok(schema, `${resource.kind}.${resource.group}/${resource.version}`);
      assert.equal(at(schema, 'metadata')['x-navarch-definition'], 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta');
      assert.equal(at(schema, 'kind').type, 'string');
    }
  });

  test('definition names follow Kubernetes packages, including types shared across groups', () => {
    const deployment = registry.getSchema('apps', 'v1', 'Deployment')!;
    assert.equal(deployment['x-navarch-definition'], 'io.k8s.api.apps.v1.Deployment');
    assert.equal(at(deployment, 'spec.template')['x-navarch-definition'], 'io.k8s.api.core.v1.PodTemplateSpec');
    assert.equal(registry.getSchema('events.k8s.io', 'v1', 'Event')!['x-navarch-definition'], 'io.k8s.api.events.v1.Event');
    assert.equal(registry.getSchema('', 'v1', 'Event')!['x-navarch-definition'], 'io.k8s.api.core.v1.Event');
    const storageClass = registry.getSchema('storage.k8s.io', 'v1', 'StorageClass')!;
    assert.equal(at(storageClass, 'allowedTopologies.[]')['x-navarch-definition'], 'io.k8s.api.core.v1.TopologySelectorTerm');
    assert.equal(registry.getSchema('apiextensions.k8s.io', 'v1', 'CustomResourceDefinition')!['x-navarch-definition'],
      'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition');
    assert.deepEqual(deployment['x-kubernetes-group-version-kind'], [{ group: 'apps', kind: 'Deployment', version: 'v1' }]);
  });

  test('strategic-merge and list markers on pod fields', () => {
    const pod = registry.getSchema('', 'v1', 'Pod')!;
    const containers = at(pod, 'spec.containers');
    assert.equal(containers['x-kubernetes-patch-merge-key'], 'name');
    assert.equal(containers['x-kubernetes-patch-strategy'], 'merge');
    assert.deepEqual(containers['x-kubernetes-list-map-keys'], ['name']);
    assert.equal(at(pod, 'spec.volumes')['x-kubernetes-patch-strategy'], 'merge,retainKeys');
    assert.equal(at(pod, 'spec.containers.[].volumeMounts')['x-kubernetes-patch-merge-key'], 'mountPath');
    assert.deepEqual(at(pod, 'spec.containers.[].ports')['x-kubernetes-list-map-keys'], ['containerPort', 'protocol']);
    assert.equal(at(pod, 'metadata.ownerReferences')['x-kubernetes-patch-merge-key'], 'uid');
    assert.equal(at(pod, 'metadata.finalizers')['x-kubernetes-list-type'], 'set');
    assert.equal(at(pod, 'status.conditions')['x-kubernetes-patch-merge-key'], 'type');
    assert.equal(at(pod, 'spec.tolerations')['x-kubernetes-list-type'], 'atomic');
    const service = registry.getSchema('', 'v1', 'Service')!;
    assert.deepEqual(at(service, 'spec.ports')['x-kubernetes-list-map-keys'], ['port', 'protocol']);
    // The shared Container definition itself carries no field-level markers.
    assert.equal(registry.definition('io.k8s.api.core.v1.Container')!['x-kubernetes-patch-merge-key'], undefined);
  });

  test('types, formats, required fields and descriptions come from client-node', () => {
    const pod = registry.getSchema('', 'v1', 'Pod')!;
    const container = at(pod, 'spec.containers.[]');
    assert.deepEqual(container.required, ['name']);
    assert.match(at(pod, 'spec.containers.[].image').description ?? '', /Container image name/);
    assert.deepEqual({ type: at(pod, 'spec.containers.[].ports.[].containerPort').type, format: at(pod, 'spec.containers.[].ports.[].containerPort').format }, { type: 'integer', format: 'int32' });
    assert.equal(at(pod, 'spec.containers.[].resources.limits').additionalProperties && (at(pod, 'spec.containers.[].resources.limits').additionalProperties as SchemaNode)['x-navarch-definition'],
      'io.k8s.apimachinery.pkg.api.resource.Quantity');
    assert.equal(at(pod, 'metadata.creationTimestamp').format, 'date-time');
    assert.equal(at(pod, 'spec.containers.[].livenessProbe.httpGet.port')['x-kubernetes-int-or-string'], true);
    assert.equal(at(pod, 'metadata.labels').additionalProperties && (at(pod, 'metadata.labels').additionalProperties as SchemaNode).type, 'string');
    assert.equal(at(registry.getSchema('apps', 'v1', 'ControllerRevision')!, 'data')['x-navarch-definition'], 'io.k8s.apimachinery.pkg.runtime.RawExtension');
  });

  test('recursive definitions are shared nodes, built once', () => {
    const crd = registry.getSchema('apiextensions.k8s.io', 'v1', 'CustomResourceDefinition')!;
    const props = at(crd, 'spec.versions.[].schema.openAPIV3Schema');
    assert.equal(props.properties?.properties?.additionalProperties, registry.definition(props['x-navarch-definition'] as string));
    assert.equal(at(props, 'default')['x-kubernetes-preserve-unknown-fields'], true);
  });

  test('unknown kinds have no schema', () => {
    assert.equal(registry.getSchema('apps', 'v1', 'Nonexistent'), undefined);
    assert.equal(registry.getSchema('example.com', 'v1', 'Widget'), undefined);
  });
});

describe('model source parsing', () => {
  test('reads doc comments and required markers', () => {
    const parsed = parseModelDeclaration(`/**\n* A thing.\n*/\nexport declare class V1Thing {\n    /**\n    * The name\\'s value.\n    */\n    'name': string;\n    'spec'?: V1Spec;\n}`);
    assert.equal(parsed.description, 'A thing.');
    assert.deepEqual(parsed.properties.get('name'), { description: "The name's value.", required: true });
    assert.deepEqual(parsed.properties.get('spec'), { description: undefined, required: false });
  });
  test('reads the attribute map literal', () => {
    const attributes = parseAttributeTypeMap('V1Thing.attributeTypeMap = [\n {"name": "_default", "baseName": "default", "type": "any", "format": ""}\n];', 'V1Thing');
    assert.deepEqual(attributes, [{ name: '_default', baseName: 'default', type: 'any', format: '' }]);
  });
});

describe('schemaForCustomResource', () => {
  test('converts nested JSONSchemaProps and keeps Kubernetes extensions', () => {
    const node = schemaForCustomResource({
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          required: ['cronSpec'],
          properties: {
            cronSpec: { type: 'string', pattern: '^\\d+$' },
            ports: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['port'], items: { type: 'object', properties: { port: { type: 'integer' } } } },
            labels: { type: 'object', additionalProperties: { type: 'string' } },
            anything: { 'x-kubernetes-preserve-unknown-fields': true },
          },
        },
      },
    }, { objectMeta: registry.definition('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta') });
    assert.deepEqual(at(node, 'spec').required, ['cronSpec']);
    assert.equal(at(node, 'spec.cronSpec').pattern, '^\\d+$');
    assert.deepEqual(at(node, 'spec.ports')['x-kubernetes-list-map-keys'], ['port']);
    assert.equal(at(node, 'spec.ports.[].port').type, 'integer');
    assert.equal((at(node, 'spec.labels').additionalProperties as SchemaNode).type, 'string');
    assert.equal(at(node, 'spec.anything')['x-kubernetes-preserve-unknown-fields'], true);
    assert.equal(at(node, 'metadata')['x-navarch-definition'], 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta');
    assert.equal(at(node, 'apiVersion').type, 'string');
  });
  test('an absent schema accepts any fields', () => {
    assert.equal(schemaForCustomResource(undefined)['x-kubernetes-preserve-unknown-fields'], true);
  });
});
