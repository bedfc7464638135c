// Structural-schema validation, defaulting and printer columns of custom resources, table-driven
// from Kubernetes' CRD documentation (validation, defaulting, additionalPrinterColumns sections).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject, SchemaNode } from '../../api/types.js';
import { schemaForCustomResource } from '../../api/schema/index.js';
import { errorString } from '../../api/validation/field.js';
import { validateCustomResource } from './schema-validation.js';
import { applySchemaDefaults } from './schema-defaults.js';
import { evaluate, parseJsonPath, printerForColumns } from './printer.js';

function schemaOf(spec: Record<string, unknown>, extra: Record<string, unknown> = {}): SchemaNode {
  return schemaForCustomResource({ type: 'object', properties: { spec: { type: 'object', properties: spec, ...extra } } });
}

function errors(schema: SchemaNode, spec: unknown): string[] {
  return validateCustomResource({ apiVersion: 'x.example.com/v1', kind: 'X', metadata: { name: 'n' }, spec }, schema).map(errorString);
}

describe('validation against openAPIV3Schema', () => {
  const cases: { name: string; spec: Record<string, unknown>; extra?: Record<string, unknown>; value: unknown; want: string[] }[] = [
    { name: 'type integer', spec: { replicas: { type: 'integer' } }, value: { replicas: 'string' }, want: ['spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"'] },
    { name: 'integer rejects fractions', spec: { replicas: { type: 'integer' } }, value: { replicas: 1.5 }, want: ['spec.replicas: Invalid value: "number": spec.replicas in body must be of type integer: "number"'] },
    { name: 'number accepts integers', spec: { ratio: { type: 'number' } }, value: { ratio: 2 }, want: [] },
    { name: 'type object', spec: { nested: { type: 'object' } }, value: { nested: [1] }, want: ['spec.nested: Invalid value: "array": spec.nested in body must be of type object: "array"'] },
    { name: 'required', spec: { size: { type: 'string' } }, extra: { required: ['size'] }, value: {}, want: ['spec.size: Required value'] },
    { name: 'enum', spec: { mode: { type: 'string', enum: ['Fast', 'Slow'] } }, value: { mode: 'Medium' }, want: ['spec.mode: Unsupported value: "Medium": supported values: "Fast", "Slow"'] },
    { name: 'minimum', spec: { replicas: { type: 'integer', minimum: 1 } }, value: { replicas: 0 }, want: ['spec.replicas: Invalid value: 0: spec.replicas in body should be greater than or equal to 1'] },
    { name: 'maximum', spec: { replicas: { type: 'integer', maximum: 10 } }, value: { replicas: 15 }, want: ['spec.replicas: Invalid value: 15: spec.replicas in body should be less than or equal to 10'] },
    { name: 'exclusiveMaximum', spec: { r: { type: 'number', maximum: 1, exclusiveMaximum: true } }, value: { r: 1 }, want: ['spec.r: Invalid value: 1: spec.r in body should be less than 1'] },
    { name: 'maxLength', spec: { name: { type: 'string', maxLength: 5 } }, value: { name: 'abcdef' }, want: ['spec.name: Too long: may not be more than 5 bytes'] },
    { name: 'minLength', spec: { name: { type: 'string', minLength: 3 } }, value: { name: 'ab' }, want: ['spec.name: Invalid value: "ab": spec.name in body should be at least 3 chars long'] },
    {
      name: 'pattern (the CronTab cronSpec)',
      spec: { cronSpec: { type: 'string', pattern: '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$' } },
      value: { cronSpec: '* * * *' },
      want: ["spec.cronSpec: Invalid value: \"* * * *\": spec.cronSpec in body should match '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$'"],
    },
    { name: 'pattern match', spec: { cronSpec: { type: 'string', pattern: '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$' } }, value: { cronSpec: '* * * * */5' }, want: [] },
    { name: 'maxItems', spec: { hosts: { type: 'array', maxItems: 2, items: { type: 'string' } } }, value: { hosts: ['a', 'b', 'c'] }, want: ['spec.hosts: Too many: 3: must have at most 2 items'] },
    { name: 'minItems', spec: { hosts: { type: 'array', minItems: 1, items: { type: 'string' } } }, value: { hosts: [] }, want: ['spec.hosts: Invalid value: 0: spec.hosts in body should have at least 1 items'] },
    { name: 'items are validated with their index', spec: { ports: { type: 'array', items: { type: 'integer' } } }, value: { ports: [80, 'http'] }, want: ['spec.ports[1]: Invalid value: "string": spec.ports[1] in body must be of type integer: "string"'] },
    { name: 'null is not a string', spec: { s: { type: 'string' } }, value: { s: null }, want: ['spec.s: Invalid value: "null": spec.s in body must be of type string: "null"'] },
    { name: 'nullable accepts null', spec: { s: { type: 'string', nullable: true } }, value: { s: null }, want: [] },
    { name: 'int-or-string accepts both', spec: { port: { 'x-kubernetes-int-or-string': true } }, value: { port: 'http' }, want: [] },
    { name: 'int-or-string accepts integers', spec: { port: { 'x-kubernetes-int-or-string': true } }, value: { port: 8080 }, want: [] },
    { name: 'int-or-string rejects booleans', spec: { port: { 'x-kubernetes-int-or-string': true } }, value: { port: true }, want: ['spec.port: Invalid value: "boolean": spec.port in body must be of type integer,string: "boolean"'] },
    { name: 'preserve-unknown-fields accepts anything', spec: { raw: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } }, value: { raw: { a: [1, { b: 2 }] } }, want: [] },
    {
      name: 'embedded resource needs apiVersion and kind',
      spec: { template: { type: 'object', 'x-kubernetes-embedded-resource': true, 'x-kubernetes-preserve-unknown-fields': true } },
      value: { template: { metadata: { name: 'x' } } },
      want: ['spec.template.apiVersion: Required value: must not be empty', 'spec.template.kind: Required value: must not be empty'],
    },
    { name: 'additionalProperties map values', spec: { limits: { type: 'object', additionalProperties: { type: 'integer' } } }, value: { limits: { cpu: 1, memory: 'x' } }, want: ['spec.limits.memory: Invalid value: "string": spec.limits.memory in body must be of type integer: "string"'] },
    { name: 'list-type set forbids duplicates', spec: { tags: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string' } } }, value: { tags: ['a', 'a'] }, want: ['spec.tags[1]: Duplicate value: "a"'] },
    { name: 'anyOf', spec: { v: { anyOf: [{ type: 'integer' }, { type: 'string', pattern: '^a' }] } }, value: { v: 'b' }, want: ['spec.v: Invalid value: "b": spec.v in body must validate at least one schema (anyOf)'] },
    { name: 'several errors at once', spec: { a: { type: 'string' }, b: { type: 'integer', maximum: 1 } }, extra: { required: ['c'] }, value: { a: 1, b: 2 }, want: ['spec.c: Required value', 'spec.a: Invalid value: "integer": spec.a in body must be of type string: "integer"', 'spec.b: Invalid value: 2: spec.b in body should be less than or equal to 1'] },
  ];
  for (const c of cases) {
    test(c.name, () => {
      assert.deepEqual(errors(schemaOf(c.spec, c.extra), c.value), c.want);
    });
  }

  test('root apiVersion/kind/metadata are left to the server even when required', () => {
    const schema = schemaForCustomResource({ type: 'object', required: ['metadata', 'spec'], properties: { metadata: { type: 'object', properties: { name: { type: 'string', maxLength: 3 } } }, spec: { type: 'object' } } });
    assert.deepEqual(validateCustomResource({ apiVersion: 'a/v1', kind: 'X', metadata: { name: 'long-name' } }, schema).map(errorString), ['spec: Required value']);
  });
});

describe('defaulting from default:', () => {
  const schema = schemaForCustomResource({
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        default: {},
        properties: {
          cronSpec: { type: 'string', default: '5 0 * * *' },
          image: { type: 'string' },
          replicas: { type: 'integer', default: 1 },
          ports: { type: 'array', items: { type: 'object', properties: { protocol: { type: 'string', default: 'TCP' }, port: { type: 'integer' } } } },
          labels: { type: 'object', additionalProperties: { type: 'object', properties: { weight: { type: 'integer', default: 10 } } } },
          optional: { type: 'string', nullable: true, default: 'x' },
          strict: { type: 'string' },
        },
      },
    },
  });
  const cases: { name: string; input: Record<string, unknown> | undefined; want: unknown }[] = [
    { name: 'a missing object with a default is created and defaulted inside', input: undefined, want: { cronSpec: '5 0 * * *', replicas: 1, optional: 'x' } },
    { name: 'set values are kept', input: { cronSpec: '* * * * *', replicas: 3 }, want: { cronSpec: '* * * * *', replicas: 3, optional: 'x' } },
    { name: 'array items are defaulted', input: { ports: [{ port: 80 }, { port: 53, protocol: 'UDP' }] }, want: { cronSpec: '5 0 * * *', replicas: 1, optional: 'x', ports: [{ port: 80, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }] } },
    { name: 'map values are defaulted', input: { labels: { a: {} } }, want: { cronSpec: '5 0 * * *', replicas: 1, optional: 'x', labels: { a: { weight: 10 } } } },
    { name: 'null of a non-nullable field with a default takes the default', input: { replicas: null }, want: { cronSpec: '5 0 * * *', replicas: 1, optional: 'x' } },
    { name: 'null of a nullable field stays null', input: { optional: null }, want: { cronSpec: '5 0 * * *', replicas: 1, optional: null } },
    { name: 'null of a non-nullable field without default is pruned', input: { strict: null }, want: { cronSpec: '5 0 * * *', replicas: 1, optional: 'x' } },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const object: KubeObject = { apiVersion: 'stable.example.com/v1', kind: 'CronTab', metadata: { name: 'x' } };
      if (c.input !== undefined) object.spec = c.input;
      applySchemaDefaults(object, schema);
      assert.deepEqual(object.spec, c.want);
      assert.deepEqual(object.metadata, { name: 'x' });
    });
  }
});

describe('additionalPrinterColumns', () => {
  const now = new Date('2026-01-01T00:10:00Z');
  const object: KubeObject = {
    apiVersion: 'stable.example.com/v1', kind: 'CronTab',
    metadata: { name: 'my-new-cron-object', creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: { cronSpec: '* * * * */5', replicas: 3, image: 'my-awesome-cron-image', tags: { a: 'b' } },
    status: { conditions: [{ type: 'Ready', status: 'True' }, { type: 'Synced', status: 'False' }] },
  };

  test('the CronTab columns: Name, Spec, Replicas, Age', () => {
    const printer = printerForColumns([
      { name: 'Spec', type: 'string', jsonPath: '.spec.cronSpec' },
      { name: 'Replicas', type: 'integer', jsonPath: '.spec.replicas' },
      { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
      { name: 'Image', type: 'string', jsonPath: '.spec.image', priority: 1 },
    ]);
    assert.deepEqual(printer.columns.map((c) => [c.name, c.type, c.priority]), [['Name', 'string', 0], ['Spec', 'string', 0], ['Replicas', 'integer', 0], ['Age', 'date', 0], ['Image', 'string', 1]]);
    assert.equal(printer.columns[0].format, 'name');
    assert.deepEqual(printer.cells(object, now), ['my-new-cron-object', '* * * * */5', 3, '10m', 'my-awesome-cron-image']);
  });

  test('no columns: Name and Age', () => {
    const printer = printerForColumns(undefined);
    assert.deepEqual(printer.columns.map((c) => c.name), ['Name', 'Age']);
    assert.deepEqual(printer.cells(object, now), ['my-new-cron-object', '10m']);
  });

  test('missing values and mistyped values print as empty cells; non-strings in string columns as Go prints them', () => {
    const printer = printerForColumns([
      { name: 'Missing', type: 'string', jsonPath: '.spec.nothing' },
      { name: 'NotInt', type: 'integer', jsonPath: '.spec.image' },
      { name: 'Tags', type: 'string', jsonPath: '.spec.tags' },
      { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
    ]);
    assert.deepEqual(printer.cells(object, now).slice(1), [null, null, 'map[a:b]', 'True']);
  });

  test('JSONPath subset', () => {
    assert.deepEqual(evaluate(parseJsonPath('.status.conditions[*].type'), object), ['Ready', 'Synced']);
    assert.deepEqual(evaluate(parseJsonPath(".spec['cronSpec']"), object), ['* * * * */5']);
    assert.deepEqual(evaluate(parseJsonPath('.status.conditions[-1].status'), object), ['False']);
    assert.deepEqual(evaluate(parseJsonPath('{.metadata.name}'), object), ['my-new-cron-object']);
  });
});
