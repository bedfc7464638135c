// /openapi/v2 and /openapi/v3[/<group-version>], built lazily from the registry and cached
// until the set of served resources changes (a CRD is added or removed).
import { createHash } from 'node:crypto';
import { buildOpenApiV2, buildOpenApiV3, buildOpenApiV3Index, encodeOpenApiV2Proto, negotiateOpenApiV2, openApiHash } from '../api/openapi/index.js';
import type { SchemaRegistry } from '../api/schema/index.js';
import type { KubeObject } from '../api/types.js';
import type { ApiResponse, NonResourceHandler } from './handler.js';
import type { ResourceRegistry } from './registry.js';

export function openApiHandler(registry: ResourceRegistry, schemas: SchemaRegistry, customResources: () => KubeObject[]): NonResourceHandler {
  // The protobuf form is encoded from the same document on first demand and dropped with it.
  let v2: { document: Record<string, unknown>; json: string; etag: string; proto?: { bytes: Buffer; etag: string } } | undefined;
  const v3 = new Map<string, { json: string; etag: string } | null>();
  let v3Index: string | undefined;
  registry.onChange(() => {
    v2 = undefined;
    v3.clear();
    v3Index = undefined;
  });
  const input = () => ({ resources: registry.all().filter((r) => !r.custom), schemas, customResources: customResources() });
  return (request): ApiResponse | undefined => {
    if (request.path === '/openapi/v2') {
      // client-go's OpenAPISchema() asks for gnostic's protobuf and can decode nothing else;
      // browsers, curl and JSON clients get JSON.
      const format = negotiateOpenApiV2(request.headers.accept);
      if (!format) return { status: 406, body: 'only application/json and application/com.github.proto-openapi.spec.v2@v1.0+protobuf are served', contentType: 'text/plain; charset=utf-8', headers: { vary: 'Accept' } };
      if (!v2) {
        const document = buildOpenApiV2(input());
        const json = JSON.stringify(document);
        v2 = { document, json, etag: `"${openApiHash(json)}"` };
      }
      let body: string | Buffer = v2.json;
      let etag = v2.etag;
      if (format.format === 'protobuf') {
        if (!v2.proto) {
          const bytes = encodeOpenApiV2Proto(v2.document);
          v2.proto = { bytes, etag: `"${createHash('sha512').update(bytes).digest('hex').toUpperCase()}"` };
        }
        body = v2.proto.bytes;
        etag = v2.proto.etag;
      }
      const headers = { etag, vary: 'Accept' };
      if (etagMatches(request.headers['if-none-match'], etag)) return { status: 304, body: Buffer.alloc(0), contentType: format.contentType, headers };
      return { status: 200, body, contentType: format.contentType, headers };
    }
    if (request.path === '/openapi/v3' || request.path === '/openapi/v3/') {
      v3Index ??= JSON.stringify(buildOpenApiV3Index(input()));
      return { status: 200, body: v3Index, contentType: 'application/json' };
    }
    const m = /^\/openapi\/v3\/(.+)$/.exec(request.path);
    if (m) {
      const groupVersion = m[1];
      if (!v3.has(groupVersion)) {
        const doc = buildOpenApiV3(groupVersion, input());
        v3.set(groupVersion, doc ? { json: JSON.stringify(doc), etag: `"${openApiHash(doc)}"` } : null);
      }
      const cached = v3.get(groupVersion);
      if (!cached) return { status: 404, body: '404 page not found', contentType: 'text/plain; charset=utf-8' };
      return { status: 200, body: cached.json, contentType: 'application/json', headers: { etag: cached.etag } };
    }
    return undefined;
  };
}

/** If-None-Match: a list of (possibly weak) entity tags, or "*". */
function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((candidate) => {
    const tag = candidate.trim();
    return tag === '*' || tag.replace(/^W\//, '') === etag;
  });
}
