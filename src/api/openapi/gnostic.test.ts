/// <reference types="node" />
// Our protobuf bytes are decoded by an independent implementation (protobufjs) with gnostic's
// message definitions (testdata/gnostic-openapiv2.proto), then compared with the swagger JSON
// they came from — a wrong field number, wire type or oneof shows up as a mismatch.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import YAML from 'yaml';
import { builtinResources } from '../resources.js';
import { createSchemaRegistry } from '../schema/index.js';
import { buildOpenApiV2, encodeOpenApiV2Proto, encodeVarint, negotiateOpenApiV2, ProtoWriter } from './index.js';

type Json = Record<string, any>;

const root = new protobuf.Root().loadSync(join(import.meta.dirname, 'testdata', 'gnostic-openapiv2.proto'), { keepCase: true });
const Document = root.lookupType('openapi.v2.Document');
const decode = (bytes: Uint8Array): Json => Document.toObject(Document.decode(bytes), { longs: Number, oneofs: true, defaults: false }) as Json;
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('protobuf wire writer', () => {
  test('varints: 7 bits a byte, least significant first', () => {
    assert.equal(hex(encodeVarint(0)), '00');
    assert.equal(hex(encodeVarint(1)), '01');
    assert.equal(hex(encodeVarint(150)), '9601');
    assert.equal(hex(encodeVarint(300)), 'ac02');
    assert.equal(hex(encodeVarint(2 ** 31)), '8080808008');
    assert.equal(hex(encodeVarint(2n ** 64n - 1n)), 'ffffffffffffffffff01');
    assert.throws(() => encodeVarint(-1));
  });

  test('proto3 scalars: defaults are omitted, negative int64 takes ten bytes, doubles are fixed64', () => {
    const w = new ProtoWriter().string(1, '').bool(2, false).int64(3, 0).double(4, 0).string(5, 'testing').int64(6, -1).double(7, 1.5).bool(8, true);
    assert.equal(hex(w.finish()), `2a0774657374696e67${'30ffffffffffffffffff01'}${'39000000000000f83f'}4001`);
  });

  test('a oneof member is written even when it holds the default', () => {
    assert.equal(hex(new ProtoWriter().bool(2, false, true).finish()), '1000');
  });

  test('nested, repeated and packed fields decode with protobufjs', () => {
    const { root: packed } = protobuf.parse('syntax = "proto3"; message Inner { string name = 1; } message Outer { repeated int64 numbers = 1; repeated double ratios = 2; repeated string words = 3; repeated Inner inner = 4; Inner empty = 5; }');
    const Outer = packed.lookupType('Outer');
    const w = new ProtoWriter()
      .packedInt64(1, [1, 300, -2])
      .packedDouble(2, [0.25, -8])
      .repeatedString(3, ['a', '', 'c'])
      .message(4, (m) => m.string(1, 'x'))
      .message(4, (m) => m.string(1, 'y'))
      .message(5, () => {});
    const bytes = w.finish();
    assert.equal(bytes.length, w.length);
    // packed: one tag, one length, then the values back to back
    assert.equal(hex(bytes.subarray(0, 2)), '0a0d');
    const out = Outer.toObject(Outer.decode(bytes), { longs: Number }) as Json;
    assert.deepEqual(out, { numbers: [1, 300, -2], ratios: [0.25, -8], words: ['a', '', 'c'], inner: [{ name: 'x' }, { name: 'y' }], empty: {} });
  });
});

/** Reads a decoded gnostic Schema back into swagger JSON, for the fields our documents use. */
function schemaToJson(s: Json): Json {
  const out: Json = {};
  if (s._ref) out.$ref = s._ref;
  if (s.description) out.description = s.description;
  if (s.format) out.format = s.format;
  if (s.type) out.type = s.type.value.length === 1 ? s.type.value[0] : s.type.value;
  if (s.required) out.required = s.required;
  if (s.enum) out.enum = s.enum.map((any: Json) => YAML.parse(any.yaml));
  if (s.default) out.default = YAML.parse(s.default.yaml);
  if (s.items) out.items = s.items.schema.length === 1 ? schemaToJson(s.items.schema[0]) : s.items.schema.map(schemaToJson);
  if (s.properties) out.properties = Object.fromEntries((s.properties.additional_properties ?? []).map((p: Json) => [p.name, schemaToJson(p.value ?? {})]));
  if (s.additional_properties) out.additionalProperties = s.additional_properties.oneof === 'boolean' ? s.additional_properties.boolean : schemaToJson(s.additional_properties.schema);
  if (s.all_of) out.allOf = s.all_of.map(schemaToJson);
  for (const key of ['maximum', 'minimum', 'multiple_of', 'max_length', 'min_length', 'max_items', 'min_items', 'max_properties', 'min_properties']) {
    if (s[key] !== undefined) out[key.replace(/_(\w)/g, (_, c: string) => c.toUpperCase())] = s[key];
  }
  for (const key of ['unique_items', 'read_only', 'exclusive_maximum', 'exclusive_minimum']) {
    if (s[key]) out[key.replace(/_(\w)/g, (_, c: string) => c.toUpperCase())] = true;
  }
  if (s.pattern) out.pattern = s.pattern;
  if (s.title) out.title = s.title;
  for (const ext of s.vendor_extension ?? []) out[ext.name] = YAML.parse(ext.value.yaml);
  return out;
}

describe('gnostic openapi.v2.Document from the served swagger document', () => {
  const swagger = buildOpenApiV2({ resources: builtinResources, schemas: createSchemaRegistry({ kinds: builtinResources }) }) as Json;
  const doc = decode(encodeOpenApiV2Proto(swagger));

  test('document header, info and security', () => {
    assert.equal(doc.swagger, '2.0');
    assert.deepEqual(doc.info, { title: swagger.info.title, version: swagger.info.version });
    assert.deepEqual(doc.security, [{ additional_properties: [{ name: 'BearerToken', value: {} }] }]);
    const bearer = doc.security_definitions.additional_properties[0];
    assert.equal(bearer.name, 'BearerToken');
    assert.equal(bearer.value.oneof, 'api_key_security');
    assert.deepEqual(bearer.value.api_key_security, { type: 'apiKey', name: 'authorization', in: 'header', description: 'Bearer Token authentication' });
  });

  test('every definition decodes back to the JSON schema it came from', () => {
    const named = doc.definitions.additional_properties as Json[];
    assert.deepEqual(named.map((n) => n.name), Object.keys(swagger.definitions));
    for (const { name, value } of named) assert.deepEqual(schemaToJson(value), swagger.definitions[name], name);
  });

  test('kubectl lookups: Deployment GVK extension, spec.strategy, int-or-string, maps', () => {
    const definitions = new Map((doc.definitions.additional_properties as Json[]).map((n) => [n.name, n.value]));
    const deployment = definitions.get('io.k8s.api.apps.v1.Deployment')!;
    const gvk = deployment.vendor_extension.find((e: Json) => e.name === 'x-kubernetes-group-version-kind');
    assert.deepEqual(YAML.parse(gvk.value.yaml, { version: '1.1' }), [{ group: 'apps', kind: 'Deployment', version: 'v1' }]);
    const spec = definitions.get('io.k8s.api.apps.v1.DeploymentSpec')!;
    const strategy = spec.properties.additional_properties.find((p: Json) => p.name === 'strategy');
    assert.equal(strategy.value._ref, '#/definitions/io.k8s.api.apps.v1.DeploymentStrategy');
    const labels = definitions.get('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta')!.properties.additional_properties.find((p: Json) => p.name === 'labels');
    assert.equal(labels.value.additional_properties.oneof, 'schema');
    assert.deepEqual(labels.value.additional_properties.schema.type.value, ['string']);
  });

  test('paths: operations, body and query parameters, responses, operation extensions', () => {
    const paths = new Map((doc.paths.path as Json[]).map((p) => [p.name, p.value]));
    assert.deepEqual([...paths.keys()], Object.keys(swagger.paths));
    const item = paths.get('/apis/apps/v1/namespaces/{namespace}/deployments/{name}')!;
    const jsonItem = swagger.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}'];
    const patch = item.patch;
    assert.equal(patch.operation_id, jsonItem.patch.operationId);
    assert.deepEqual(patch.consumes, jsonItem.patch.consumes);
    const body = patch.parameters[0].parameter.body_parameter;
    assert.deepEqual(body, { name: 'body', in: 'body', required: true, schema: { _ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch' } });
    const queryNames = patch.parameters.slice(1).map((p: Json) => p.parameter.non_body_parameter.query_parameter_sub_schema.name);
    assert.ok(queryNames.includes('fieldValidation'), queryNames.join());
    const extensions = Object.fromEntries(patch.vendor_extension.map((e: Json) => [e.name, YAML.parse(e.value.yaml, { version: '1.1' })]));
    assert.deepEqual(extensions, { 'x-kubernetes-action': 'patch', 'x-kubernetes-group-version-kind': { group: 'apps', kind: 'Deployment', version: 'v1' } });
    const ok = patch.responses.response_code.find((r: Json) => r.name === '200');
    assert.equal(ok.value.response.schema.schema._ref, '#/definitions/io.k8s.api.apps.v1.Deployment');
    // path-level parameters: {name} and {namespace} are path sub-schemas, required
    const pathParams = item.parameters.map((p: Json) => p.parameter.non_body_parameter).filter((p: Json) => p.oneof === 'path_parameter_sub_schema').map((p: Json) => p.path_parameter_sub_schema);
    assert.deepEqual(pathParams.map((p: Json) => [p.name, p.required, p.type]).sort(), [['name', true, 'string'], ['namespace', true, 'string']]);
  });

  test('the parts of swagger 2.0 our documents do not use yet', () => {
    const synthetic = {
      swagger: '2.0',
      info: { title: 't', version: '1', contact: { name: 'ops', email: 'ops@example.com' }, 'x-logo': 'no' },
      basePath: '/api',
      schemes: ['https'],
      paths: {
        'x-top': { a: 1 },
        '/files/{id}': {
          parameters: [{ $ref: '#/parameters/id' }],
          post: {
            parameters: [
              { name: 'trace', in: 'header', type: 'string', enum: ['on', 'off'] },
              { name: 'upload', in: 'formData', type: 'file', allowEmptyValue: true },
              { name: 'ids', in: 'query', type: 'array', items: { type: 'integer', format: 'int64', minimum: -5 }, collectionFormat: 'csv', maxItems: 3, default: [1] },
            ],
            responses: {
              '200': { description: 'the file', schema: { type: 'file' }, headers: { 'X-Rate': { type: 'integer', description: 'left' } } },
              default: { $ref: '#/responses/error' },
              'x-resp': true,
            },
            deprecated: true,
          },
        },
      },
      definitions: {
        Tuple: { type: ['string', 'null'], items: [{ type: 'string' }, { type: 'integer' }], additionalProperties: false, maxLength: 2 ** 40, example: { a: 'b' } },
      },
      parameters: { id: { name: 'id', in: 'path', required: true, type: 'string' } },
      responses: { error: { description: 'failure', examples: { 'application/json': { code: 1 } } } },
      securityDefinitions: {
        basic: { type: 'basic' },
        implicit: { type: 'oauth2', flow: 'implicit', authorizationUrl: 'https://auth', scopes: { read: 'read it' } },
        code: { type: 'oauth2', flow: 'accessCode', authorizationUrl: 'https://auth', tokenUrl: 'https://token', scopes: {} },
      },
      tags: [{ name: 'files', externalDocs: { url: 'https://docs' } }],
    };
    const out = decode(encodeOpenApiV2Proto(synthetic));
    assert.equal(out.base_path, '/api');
    assert.deepEqual(out.schemes, ['https']);
    assert.deepEqual(out.info.contact, { name: 'ops', email: 'ops@example.com' });
    assert.deepEqual(out.info.vendor_extension, [{ name: 'x-logo', value: { yaml: '"no"\n' } }], 'YAML 1.1 booleans are quoted');
    assert.equal(out.paths.vendor_extension[0].name, 'x-top');
    const item = out.paths.path[0].value;
    assert.deepEqual(item.parameters, [{ json_reference: { _ref: '#/parameters/id' }, oneof: 'json_reference' }]);
    const [header, form, query] = item.post.parameters.map((p: Json) => p.parameter.non_body_parameter);
    assert.equal(header.oneof, 'header_parameter_sub_schema');
    assert.deepEqual(header.header_parameter_sub_schema.enum.map((a: Json) => YAML.parse(a.yaml, { version: '1.1' })), ['on', 'off']);
    assert.deepEqual(form.form_data_parameter_sub_schema, { in: 'formData', name: 'upload', type: 'file', allow_empty_value: true });
    assert.deepEqual(query.query_parameter_sub_schema, { in: 'query', name: 'ids', type: 'array', items: { type: 'integer', format: 'int64', minimum: -5 }, collection_format: 'csv', default: { yaml: '- 1\n' }, max_items: 3 });
    assert.equal(item.post.deprecated, true);
    const responses = item.post.responses;
    assert.deepEqual(responses.response_code.map((r: Json) => r.name), ['200', 'default']);
    assert.equal(responses.response_code[0].value.response.schema.oneof, 'file_schema');
    assert.deepEqual(responses.response_code[0].value.response.headers, { additional_properties: [{ name: 'X-Rate', value: { type: 'integer', description: 'left' } }] });
    assert.deepEqual(responses.response_code[1].value, { json_reference: { _ref: '#/responses/error' }, oneof: 'json_reference' });
    assert.deepEqual(responses.vendor_extension, [{ name: 'x-resp', value: { yaml: 'true\n' } }]);
    const tuple = out.definitions.additional_properties[0].value;
    assert.deepEqual(schemaToJson(tuple), { type: ['string', 'null'], items: [{ type: 'string' }, { type: 'integer' }], additionalProperties: false, maxLength: 2 ** 40 });
    assert.deepEqual(YAML.parse(tuple.example.yaml), { a: 'b' });
    assert.equal(out.parameters.additional_properties[0].value.non_body_parameter.path_parameter_sub_schema.required, true);
    assert.deepEqual(out.responses.additional_properties[0].value.examples, { additional_properties: [{ name: 'application/json', value: { yaml: 'code: 1\n' } }] });
    const security = Object.fromEntries(out.security_definitions.additional_properties.map((n: Json) => [n.name, n.value]));
    assert.equal(security.basic.oneof, 'basic_authentication_security');
    assert.deepEqual(security.implicit.oauth2_implicit_security, { type: 'oauth2', flow: 'implicit', authorization_url: 'https://auth', scopes: { additional_properties: [{ name: 'read', value: 'read it' }] } });
    assert.deepEqual(security.code.oauth2_access_code_security, { type: 'oauth2', flow: 'accessCode', authorization_url: 'https://auth', token_url: 'https://token', scopes: {} });
    assert.deepEqual(out.tags, [{ name: 'files', external_docs: { url: 'https://docs' } }]);
  });
});

describe('Accept negotiation for /openapi/v2', () => {
  const cases: [string | undefined, string | undefined][] = [
    ['application/com.github.proto-openapi.spec.v2@v1.0+protobuf', 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf'],
    ['application/com.github.proto-openapi.spec.v2.v1.0+protobuf', 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf'],
    ['application/json', 'application/json'],
    [undefined, 'application/json'],
    ['*/*', 'application/json'],
    ['application/json;q=0.5, application/com.github.proto-openapi.spec.v2@v1.0+protobuf', 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf'],
    ['application/com.github.proto-openapi.spec.v2@v1.0+protobuf;q=0.1, application/json', 'application/json'],
    ['text/html, */*;q=0.8', 'application/json'],
    ['text/html', undefined],
    ['application/json;q=0', undefined],
  ];
  for (const [accept, expected] of cases) {
    test(`${accept ?? '(no Accept)'} → ${expected ?? '406'}`, () => {
      assert.equal(negotiateOpenApiV2(accept)?.contentType, expected);
    });
  }
});
