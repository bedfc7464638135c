// /openapi/v2 and /openapi/v3[/<group-version>], built lazily from the registry and cached
// until the set of served resources changes (a CRD is added or removed).
import { buildOpenApiV2, buildOpenApiV3, buildOpenApiV3Index, openApiHash } from '../api/openapi/index.js';
import type { SchemaRegistry } from '../api/schema/index.js';
import type { KubeObject } from '../api/types.js';
import type { ApiResponse, NonResourceHandler } from './handler.js';
import type { ResourceRegistry } from './registry.js';

export function openApiHandler(registry: ResourceRegistry, schemas: SchemaRegistry, customResources: () => KubeObject[]): NonResourceHandler {
  let v2: { json: string; etag: string } | undefined;
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
      // kubectl asks for protobuf first; JSON is what we serve, and the client accepts it when offered.
      if (!v2) {
        const json = JSON.stringify(buildOpenApiV2(input()));
        v2 = { json, etag: `"${openApiHash(json)}"` };
      }
      return { status: 200, body: v2.json, contentType: 'application/json', headers: { etag: v2.etag } };
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
