export { buildOpenApiV2, buildOpenApiV3, buildOpenApiV3Index, openApiHash, openApiV3GroupVersions, type OpenApiInput } from './openapi.js';
