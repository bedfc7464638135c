// Parses a request path into what it asks for, the way Kubernetes' RequestInfoFactory does:
// /api/v1/namespaces/default/pods/web-0/log → {group "", version v1, namespace default, resource pods, name web-0, subresource log}.

export interface RequestInfo {
  isResourceRequest: boolean;
  path: string;
  /** Kubernetes verb: get, list, watch, create, update, patch, delete, deletecollection (non-resource: the lowercase method). */
  verb: string;
  apiPrefix: string; // "api" | "apis"
  group: string;
  version: string;
  namespace: string;
  resource: string;
  subresource: string;
  name: string;
  parts: string[];
}

// A namespace's own subresources: /api/v1/namespaces/{name}/status is the namespace, not a resource "status" inside it.
const namespaceSubresources = new Set(['status', 'finalize']);

export function parseRequestInfo(method: string, path: string, query: URLSearchParams): RequestInfo {
  const info: RequestInfo = { isResourceRequest: false, path, verb: method.toLowerCase(), apiPrefix: '', group: '', version: '', namespace: '', resource: '', subresource: '', name: '', parts: [] };
  const segments = path.split('/').filter((s) => s !== '').map((s) => decodeURIComponent(s));
  if (segments.length === 0) return info;
  const prefix = segments[0];
  if (prefix !== 'api' && prefix !== 'apis') return info;
  let rest = segments.slice(1);
  info.apiPrefix = prefix;
  if (prefix === 'apis') {
    if (rest.length < 2) return info; // /apis or /apis/<group>: discovery
    info.group = rest[0];
    rest = rest.slice(1);
  }
  if (rest.length < 1) return info;
  info.version = rest[0];
  rest = rest.slice(1);
  if (rest.length === 0) return info; // /api/v1: discovery

  info.isResourceRequest = true;
  let watchPath = false;
  if (rest[0] === 'watch') {
    watchPath = true;
    rest = rest.slice(1);
  }
  if (rest[0] === 'namespaces') {
    if (rest.length > 1) {
      info.namespace = rest[1];
      if (rest.length > 2 && !namespaceSubresources.has(rest[2])) rest = rest.slice(2);
    }
  }
  info.parts = rest;
  info.resource = rest[0] ?? '';
  if (rest.length >= 2) info.name = rest[1];
  if (rest.length >= 3) info.subresource = rest[2];
  // For the namespaces resource itself, the "namespace" of the request is the namespace's name.
  if (info.resource === 'namespaces') info.namespace = info.name ? info.name : info.namespace;

  switch (method.toUpperCase()) {
    case 'GET':
    case 'HEAD':
      info.verb = info.name ? 'get' : 'list';
      if (watchPath || (!info.subresource && isTrue(query.get('watch')))) info.verb = 'watch';
      break;
    case 'POST':
      info.verb = 'create';
      break;
    case 'PUT':
      info.verb = 'update';
      break;
    case 'PATCH':
      info.verb = 'patch';
      break;
    case 'DELETE':
      info.verb = info.name ? 'delete' : 'deletecollection';
      break;
    default:
      info.verb = method.toLowerCase();
  }
  // A list of the namespaces resource has no namespace.
  if (info.resource === 'namespaces' && !info.name) info.namespace = '';
  return info;
}

export function isTrue(value: string | null | undefined): boolean {
  return value === 'true' || value === '1';
}
