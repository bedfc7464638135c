/// <reference types="node" />
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinResources } from '../api/resources.js';
import { createSchemaRegistry } from '../api/schema/index.js';
import { builtinSemantics } from './builtin-semantics.js';
import type { ApiRequest, ApiResponse } from './handler.js';
import { openApiHandler } from './openapi-handler.js';
import { ResourceRegistry } from './registry.js';

const PROTOBUF = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';

function setup() {
  const schemas = createSchemaRegistry({ kinds: builtinResources });
  const registry = new ResourceRegistry(builtinResources, builtinSemantics(schemas, builtinResources));
  const handler = openApiHandler(registry, schemas, () => []);
  const get = (headers: Record<string, string>): ApiResponse => {
    const request: ApiRequest = { method: 'GET', path: '/openapi/v2', query: new URLSearchParams(), headers, user: { username: 'u', groups: [] } };
    return handler(request) as ApiResponse;
  };
  return { registry, get };
}

describe('/openapi/v2 handler', () => {
  test('protobuf for client-go, JSON for everyone else, each with its own ETag', () => {
    const { get } = setup();
    const proto = get({ accept: PROTOBUF });
    assert.equal(proto.status, 200);
    assert.equal(proto.contentType, 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf');
    assert.ok(Buffer.isBuffer(proto.body));
    assert.equal(proto.headers?.vary, 'Accept');
    const json = get({ accept: 'application/json' });
    assert.equal(json.contentType, 'application/json');
    assert.equal(JSON.parse(json.body as string).swagger, '2.0');
    assert.match(proto.headers!.etag, /^"[0-9A-F]{128}"$/);
    assert.notEqual(proto.headers!.etag, json.headers!.etag);
    assert.equal(get({ accept: PROTOBUF }).body, proto.body, 'served from the cache');
    assert.equal(get({ accept: 'image/png' }).status, 406);
  });

  test('If-None-Match with the current tag is 304 without a body', () => {
    const { get } = setup();
    const first = get({ accept: PROTOBUF });
    const again = get({ accept: PROTOBUF, 'if-none-match': `W/"stale", ${first.headers!.etag}` });
    assert.equal(again.status, 304);
    assert.equal((again.body as Buffer).length, 0);
    assert.equal(get({ accept: PROTOBUF, 'if-none-match': '"stale"' }).status, 200);
    assert.equal(get({ accept: 'application/json', 'if-none-match': first.headers!.etag }).status, 200, 'the protobuf tag does not match the JSON form');
  });

  test('a change to the served resources rebuilds both forms', () => {
    const { registry, get } = setup();
    const before = get({ accept: PROTOBUF });
    const path = Buffer.from('/apis/apps/v1/namespaces/{namespace}/deployments/{name}');
    assert.ok((before.body as Buffer).includes(path));
    registry.remove('apps', 'v1', 'deployments');
    const after = get({ accept: PROTOBUF });
    assert.ok(!(after.body as Buffer).includes(path));
    assert.notEqual(after.headers!.etag, before.headers!.etag);
    assert.ok(!(get({ accept: 'application/json' }).body as string).includes('/deployments/{name}"'));
  });
});
