export { buildOpenApiV2, buildOpenApiV3, buildOpenApiV3Index, openApiHash, openApiV3GroupVersions, type OpenApiInput } from './openapi.js';
export { encodeOpenApiV2Proto } from './gnostic.js';
export { negotiateOpenApiV2, OPENAPI_V2_PROTOBUF, OPENAPI_V2_PROTOBUF_DOTTED, type OpenApiV2Format } from './media.js';
export { ProtoWriter, encodeVarint } from './protowire.js';
