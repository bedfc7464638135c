/// <reference types="node" />
// Builds Kubernetes' OpenAPI documents from the resource table and the schema registry:
// swagger 2.0 for /openapi/v2 and one OpenAPI 3.0 document per group version for /openapi/v3.
// kubectl reads v3 for `explain`, for finding the fieldValidation parameter (server-side validation)
// and for strategic-merge keys in client-side apply, so operations carry the same
// x-kubernetes-action / x-kubernetes-group-version-kind extensions and parameters as kube-apiserver.
import { createHash } from 'node:crypto';
import type { KubeObject, ResourceDefinition, SchemaNode } from '../types.js';
import { kubernetesVersion } from '../../util/version.js';
import { META, schemaForCustomResource, type SchemaRegistry } from '../schema/index.js';
import { subresourceInfo } from '../resources.js';

export interface OpenApiInput {
  resources: ResourceDefinition[];
  schemas: SchemaRegistry;
  /** CustomResourceDefinition objects (apiextensions.k8s.io/v1) whose served versions are published too. */
  customResources?: KubeObject[];
}

interface Gvk { group: string; version: string; kind: string }
type Json = Record<string, unknown>;

const STATUS = `${META}.Status`;
const DELETE_OPTIONS = `${META}.DeleteOptions`;
const WATCH_EVENT = `${META}.WatchEvent`;
const PATCH = `${META}.Patch`;

// --- query parameters, as kube-apiserver describes them ---------------------------------------------

const PARAMETERS: Record<string, { type: 'string' | 'integer' | 'boolean'; description: string }> = {
  allowWatchBookmarks: { type: 'boolean', description: 'allowWatchBookmarks requests watch events with type "BOOKMARK". Servers that do not implement bookmarks may ignore this flag and bookmarks are sent at the server\'s discretion. Clients should not assume bookmarks are returned at any specific interval, nor may they assume the server will send any BOOKMARK event during a session. If this is not a watch, this field is ignored.' },
  continue: { type: 'string', description: 'The continue option should be set when retrieving more results from the server. Since this value is server defined, clients may only use the continue value from a previous query result with identical query parameters (except for the value of continue) and the server may reject a continue value it does not recognize.' },
  dryRun: { type: 'string', description: 'When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed' },
  fieldManager: { type: 'string', description: 'fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint.' },
  fieldSelector: { type: 'string', description: 'A selector to restrict the list of returned objects by their fields. Defaults to everything.' },
  fieldValidation: { type: 'string', description: 'fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: This will ignore any unknown fields that are silently dropped from the object, and will ignore all but the last duplicate field that the decoder encounters. - Warn: This will send a warning via the standard warning response header for each unknown field that is dropped from the object, and for each duplicate field that is encountered. - Strict: This will fail the request with a BadRequest error if any unknown fields would be dropped from the object, or if any duplicate fields are present.' },
  force: { type: 'boolean', description: 'Force is going to "force" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests.' },
  gracePeriodSeconds: { type: 'integer', description: 'The duration in seconds before the object should be deleted. Value must be non-negative integer. The value zero indicates delete immediately. If this value is nil, the default grace period for the specified type will be used. Defaults to a per object value if not specified. zero means delete immediately.' },
  ignoreStoreReadErrorWithClusterBreakingPotential: { type: 'boolean', description: 'if set to true, it will trigger an unsafe deletion of the resource in case the normal deletion flow fails with a corrupt object error.' },
  labelSelector: { type: 'string', description: 'A selector to restrict the list of returned objects by their labels. Defaults to everything.' },
  limit: { type: 'integer', description: 'limit is a maximum number of responses to return for a list call. If more items exist, the server will set the `continue` field on the list metadata to a value that can be used with the same initial query to retrieve the next set of results.' },
  orphanDependents: { type: 'boolean', description: 'Deprecated: please use the PropagationPolicy, this field will be deprecated in 1.7. Should the dependent objects be orphaned. If true/false, the "orphan" finalizer will be added to/removed from the object\'s finalizers list. Either this field or PropagationPolicy may be set, but not both.' },
  pretty: { type: 'string', description: "If 'true', then the output is pretty printed. Defaults to 'false' unless the user-agent indicates a browser or command-line HTTP tool (curl and wget)." },
  propagationPolicy: { type: 'string', description: "Whether and how garbage collection will be performed. Either this field or OrphanDependents may be set, but not both. The default policy is decided by the existing finalizer set in the metadata.finalizers and the resource-specific default policy. Acceptable values are: 'Orphan' - orphan the dependents; 'Background' - allow the garbage collector to delete the dependents in the background; 'Foreground' - a cascading policy that deletes all dependents in the foreground." },
  resourceVersion: { type: 'string', description: 'resourceVersion sets a constraint on what resource versions a request may be served from. See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details.\n\nDefaults to unset' },
  resourceVersionMatch: { type: 'string', description: 'resourceVersionMatch determines how resourceVersion is applied to list calls. It is highly recommended that resourceVersionMatch be set for list calls where resourceVersion is set See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details.\n\nDefaults to unset' },
  sendInitialEvents: { type: 'boolean', description: '`sendInitialEvents=true` may be set together with `watch=true`. In that case, the watch stream will begin with synthetic events to produce the current state of objects in the collection. Once all such events have been sent, a synthetic "Bookmark" event  will be sent.' },
  timeoutSeconds: { type: 'integer', description: 'Timeout for the list/watch call. This limits the duration of the call, regardless of any activity or inactivity.' },
  watch: { type: 'boolean', description: 'Watch for changes to the described resources and return them as a stream of add, update, and remove notifications. Specify resourceVersion.' },
  follow: { type: 'boolean', description: 'Follow the log stream of the pod. Defaults to false.' },
  container: { type: 'string', description: 'The container for which to stream logs. Defaults to only container if there is one container in the pod.' },
  command: { type: 'string', description: 'Command is the remote command to execute. argv array. Not executed within a shell.' },
  stdin: { type: 'boolean', description: 'Redirect the standard input stream of the pod for this call. Defaults to false.' },
  stdout: { type: 'boolean', description: 'Redirect the standard output stream of the pod for this call.' },
  stderr: { type: 'boolean', description: 'Redirect the standard error stream of the pod for this call.' },
  tty: { type: 'boolean', description: 'TTY if true indicates that a tty will be allocated for the exec call. Defaults to false.' },
  ports: { type: 'integer', description: 'List of ports to forward Required when using WebSockets' },
  path: { type: 'string', description: 'Path is the URL path to use for the current proxy request.' },
  previous: { type: 'boolean', description: 'Return previous terminated container logs. Defaults to false.' },
  sinceSeconds: { type: 'integer', description: 'A relative time in seconds before the current time from which to show logs.' },
  tailLines: { type: 'integer', description: 'If set, the number of lines from the end of the logs to show.' },
  timestamps: { type: 'boolean', description: 'If true, add an RFC3339 or RFC3339Nano timestamp at the beginning of every line of log output. Defaults to false.' },
  limitBytes: { type: 'integer', description: 'If set, the number of bytes to read from the server before terminating the log output.' },
};

const LIST_PARAMS = ['allowWatchBookmarks', 'continue', 'fieldSelector', 'labelSelector', 'limit', 'resourceVersion', 'resourceVersionMatch', 'sendInitialEvents', 'timeoutSeconds', 'watch'];
const WRITE_PARAMS = ['dryRun', 'fieldManager', 'fieldValidation'];
const PATCH_PARAMS = [...WRITE_PARAMS, 'force'];
const DELETE_PARAMS = ['dryRun', 'gracePeriodSeconds', 'ignoreStoreReadErrorWithClusterBreakingPotential', 'orphanDependents', 'propagationPolicy'];
const DELETE_COLLECTION_PARAMS = ['continue', 'dryRun', 'fieldSelector', 'gracePeriodSeconds', 'ignoreStoreReadErrorWithClusterBreakingPotential', 'labelSelector', 'limit', 'orphanDependents', 'propagationPolicy', 'resourceVersion', 'resourceVersionMatch', 'sendInitialEvents', 'timeoutSeconds'];
const PATCH_CONTENT_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml'];
const RESPONSE_TYPES = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'];
const WATCH_RESPONSE_TYPES = [...RESPONSE_TYPES, 'application/json;stream=watch', 'application/vnd.kubernetes.protobuf;stream=watch'];

// --- the operations every resource gets ---------------------------------------------------------------

interface Operation {
  path: string;
  method: 'get' | 'put' | 'post' | 'delete' | 'patch' | 'head' | 'options';
  operationId: string;
  description: string;
  action: string;
  gvk: Gvk;
  groupVersion: string; // "api/v1", "apis/apps/v1"
  tag: string;
  query: string[];
  pathParams: string[];
  /** Request body definition; PATCH bodies use meta.v1.Patch with the four patch content types. */
  body?: string;
  /** Response definition, or "string" for plain-text responses (logs, proxy). */
  response?: string;
  createdResponses?: boolean;
}

function groupCamel(group: string): string {
  if (!group) return 'Core';
  return group.replace(/\.k8s\.io$/, '').split('.').map((part) => part.charAt(0).toUpperCase() + part.slice(1)).join('');
}

function groupVersionPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

function operationsFor(resource: ResourceDefinition, schemas: DefinitionLookup): Operation[] {
  const { group, version, kind } = resource;
  const gv = groupVersionPath(group, version);
  const base = `/${gv}`;
  const gvCamel = `${groupCamel(group)}${version.charAt(0).toUpperCase()}${version.slice(1)}`;
  const scope = resource.namespaced ? 'Namespaced' : '';
  const collectionPath = resource.namespaced ? `${base}/namespaces/{namespace}/${resource.resource}` : `${base}/${resource.resource}`;
  const itemPath = `${collectionPath}/{name}`;
  const namespaceParam = resource.namespaced ? ['namespace'] : [];
  const kindDef = schemas.nameOf({ group, version, kind });
  const listDef = schemas.nameOf({ group, version, kind: `${kind}List` });
  if (!kindDef) return [];
  const gvk = { group, version, kind };
  const tag = `${groupCamel(group).charAt(0).toLowerCase()}${groupCamel(group).slice(1)}_${version}`;
  const op = (partial: Omit<Operation, 'gvk' | 'groupVersion' | 'tag'> & { gvk?: Gvk }): Operation => ({ gvk, groupVersion: gv, tag, ...partial });
  const verbs = new Set(resource.verbs);
  const ops: Operation[] = [];
  const plural = kind;

  if (verbs.has('list') && listDef) {
    ops.push(op({ path: collectionPath, method: 'get', operationId: `list${gvCamel}${scope}${plural}`, description: `list or watch objects of kind ${kind}`, action: 'list', query: LIST_PARAMS, pathParams: namespaceParam, response: listDef }));
    if (resource.namespaced) {
      ops.push(op({ path: `${base}/${resource.resource}`, method: 'get', operationId: `list${gvCamel}${kind}ForAllNamespaces`, description: `list or watch objects of kind ${kind}`, action: 'list', query: LIST_PARAMS, pathParams: [], response: listDef }));
    }
  }
  if (verbs.has('watch')) {
    const watchCollection = resource.namespaced ? `${base}/watch/namespaces/{namespace}/${resource.resource}` : `${base}/watch/${resource.resource}`;
    ops.push(op({ path: watchCollection, method: 'get', operationId: `watch${gvCamel}${scope}${kind}List`, description: `watch individual changes to a list of ${kind}. deprecated: use the 'watch' parameter with a list operation instead.`, action: 'watchlist', query: LIST_PARAMS, pathParams: namespaceParam, response: WATCH_EVENT }));
    ops.push(op({ path: `${watchCollection}/{name}`, method: 'get', operationId: `watch${gvCamel}${scope}${kind}`, description: `watch changes to an object of kind ${kind}. deprecated: use the 'watch' parameter with a list operation instead, filtered to a single item with the 'fieldSelector' parameter.`, action: 'watch', query: LIST_PARAMS, pathParams: [...namespaceParam, 'name'], response: WATCH_EVENT }));
    if (resource.namespaced) {
      ops.push(op({ path: `${base}/watch/${resource.resource}`, method: 'get', operationId: `watch${gvCamel}${kind}ListForAllNamespaces`, description: `watch individual changes to a list of ${kind}. deprecated: use the 'watch' parameter with a list operation instead.`, action: 'watchlist', query: LIST_PARAMS, pathParams: [], response: WATCH_EVENT }));
    }
  }
  if (verbs.has('create')) {
    ops.push(op({ path: collectionPath, method: 'post', operationId: `create${gvCamel}${scope}${kind}`, description: `create ${article(kind)} ${kind}`, action: 'post', query: WRITE_PARAMS, pathParams: namespaceParam, body: kindDef, response: kindDef, createdResponses: true }));
  }
  if (verbs.has('deletecollection')) {
    ops.push(op({ path: collectionPath, method: 'delete', operationId: `delete${gvCamel}Collection${scope}${kind}`, description: `delete collection of ${kind}`, action: 'deletecollection', query: DELETE_COLLECTION_PARAMS, pathParams: namespaceParam, body: DELETE_OPTIONS, response: STATUS }));
  }
  if (verbs.has('get')) {
    ops.push(op({ path: itemPath, method: 'get', operationId: `read${gvCamel}${scope}${kind}`, description: `read the specified ${kind}`, action: 'get', query: [], pathParams: [...namespaceParam, 'name'], response: kindDef }));
  }
  if (verbs.has('update')) {
    ops.push(op({ path: itemPath, method: 'put', operationId: `replace${gvCamel}${scope}${kind}`, description: `replace the specified ${kind}`, action: 'put', query: WRITE_PARAMS, pathParams: [...namespaceParam, 'name'], body: kindDef, response: kindDef, createdResponses: true }));
  }
  if (verbs.has('patch')) {
    ops.push(op({ path: itemPath, method: 'patch', operationId: `patch${gvCamel}${scope}${kind}`, description: `partially update the specified ${kind}`, action: 'patch', query: PATCH_PARAMS, pathParams: [...namespaceParam, 'name'], body: PATCH, response: kindDef, createdResponses: true }));
  }
  if (verbs.has('delete')) {
    ops.push(op({ path: itemPath, method: 'delete', operationId: `delete${gvCamel}${scope}${kind}`, description: `delete ${article(kind)} ${kind}`, action: 'delete', query: DELETE_PARAMS, pathParams: [...namespaceParam, 'name'], body: DELETE_OPTIONS, response: STATUS }));
  }

  for (const subresource of resource.subresources ?? []) {
    const info = subresourceInfo(resource, subresource);
    if (!info) continue;
    const path = `${itemPath}/${subresource}`;
    const suffix = subresource.charAt(0).toUpperCase() + subresource.slice(1);
    const subGvk = { group: info.group ?? group, version: info.version ?? version, kind: info.kind };
    const subDef = schemas.nameOf(subGvk);
    const params = [...namespaceParam, 'name'];
    const name = `${scope}${kind}${suffix}`;
    if (['exec', 'attach', 'portforward', 'proxy'].includes(subresource)) {
      const methods = subresource === 'proxy' ? ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const : ['get', 'post'] as const;
      const query = subresource === 'exec' ? ['command', 'container', 'stderr', 'stdin', 'stdout', 'tty']
        : subresource === 'attach' ? ['container', 'stderr', 'stdin', 'stdout', 'tty']
          : subresource === 'portforward' ? ['ports'] : ['path'];
      for (const method of methods) {
        const verb = method.charAt(0).toUpperCase() + method.slice(1);
        ops.push(op({ path, method, operationId: `connect${gvCamel}${verb}${name}`, description: `connect ${method.toUpperCase()} requests to ${subresource} of ${kind}`, action: 'connect', query, pathParams: params, response: 'string', gvk: { group, version, kind: info.kind } }));
      }
      continue;
    }
    if (subresource === 'log') {
      ops.push(op({ path, method: 'get', operationId: `read${gvCamel}${name}`, description: `read log of the specified ${kind}`, action: 'get', query: ['container', 'follow', 'limitBytes', 'previous', 'sinceSeconds', 'tailLines', 'timestamps'], pathParams: params, response: 'string' }));
      continue;
    }
    if (!subDef) continue;
    const subVerbs = new Set(info.verbs);
    if (subVerbs.has('create')) {
      ops.push(op({ path, method: 'post', operationId: `create${gvCamel}${name}`, description: `create ${subresource} of ${article(kind)} ${kind}`, action: 'post', query: WRITE_PARAMS, pathParams: params, body: subDef, response: subDef, createdResponses: true, gvk: subGvk }));
    }
    if (subVerbs.has('get')) {
      ops.push(op({ path, method: 'get', operationId: `read${gvCamel}${name}`, description: `read ${subresource} of the specified ${kind}`, action: 'get', query: [], pathParams: params, response: subDef, gvk: subGvk }));
    }
    if (subVerbs.has('update')) {
      ops.push(op({ path, method: 'put', operationId: `replace${gvCamel}${name}`, description: `replace ${subresource} of the specified ${kind}`, action: 'put', query: WRITE_PARAMS, pathParams: params, body: subDef, response: subDef, createdResponses: true, gvk: subGvk }));
    }
    if (subVerbs.has('patch')) {
      ops.push(op({ path, method: 'patch', operationId: `patch${gvCamel}${name}`, description: `partially update ${subresource} of the specified ${kind}`, action: 'patch', query: PATCH_PARAMS, pathParams: params, body: PATCH, response: subDef, createdResponses: true, gvk: subGvk }));
    }
  }
  return ops;
}

function article(kind: string): string {
  return /^[AEIOU]/.test(kind) ? 'an' : 'a';
}

// --- definitions: built-in from the registry, custom resources from their CRDs ----------------------

interface DefinitionLookup {
  nameOf(gvk: Gvk): string | undefined;
  node(name: string): SchemaNode | undefined;
}

/** io.k8s.api... for built-ins; reversed group for custom resources, as kube-apiserver names them. */
function customDefinitionName(group: string, version: string, kind: string): string {
  return `${group.split('.').reverse().join('.')}.${version}.${kind}`;
}

function customResourcesOf(input: OpenApiInput): { resources: ResourceDefinition[]; nodes: Map<string, SchemaNode> } {
  const resources: ResourceDefinition[] = [];
  const nodes = new Map<string, SchemaNode>();
  for (const crd of input.customResources ?? []) {
    const spec = crd.spec ?? {};
    const names = spec.names ?? {};
    if (!spec.group || !names.kind || !names.plural) continue;
    for (const version of spec.versions ?? []) {
      if (!version?.served || !version.name) continue;
      const subresources: string[] = [];
      if (version.subresources?.status) subresources.push('status');
      if (version.subresources?.scale) subresources.push('scale');
      resources.push({
        group: spec.group, version: version.name, kind: names.kind, resource: names.plural,
        singular: names.singular ?? names.kind.toLowerCase(), namespaced: spec.scope !== 'Cluster',
        shortNames: names.shortNames, categories: names.categories, subresources,
        verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
      });
      const name = customDefinitionName(spec.group, version.name, names.kind);
      const node = schemaForCustomResource(version.schema?.openAPIV3Schema, { objectMeta: input.schemas.definition(`${META}.ObjectMeta`) });
      node['x-navarch-definition'] = name;
      node['x-kubernetes-group-version-kind'] = [{ group: spec.group, kind: names.kind, version: version.name }];
      nodes.set(name, node);
      const listKind = names.listKind ?? `${names.kind}List`;
      const listName = customDefinitionName(spec.group, version.name, listKind);
      nodes.set(listName, {
        type: 'object',
        description: `${listKind} is a list of ${names.kind}`,
        required: ['items'],
        properties: {
          apiVersion: { type: 'string', description: 'APIVersion defines the versioned schema of this representation of an object.' },
          items: { type: 'array', description: `List of ${names.plural}. More info: https://git.k8s.io/community/contributors/devel/api-conventions.md`, items: node },
          kind: { type: 'string', description: 'Kind is a string value representing the REST resource this object represents.' },
          metadata: { ...input.schemas.definition(`${META}.ListMeta`), description: 'ListMeta describes metadata that synthetic resources must have, including lists and various status objects.' },
        },
        'x-navarch-definition': listName,
        'x-kubernetes-group-version-kind': [{ group: spec.group, kind: listKind, version: version.name }],
      });
    }
  }
  return { resources, nodes };
}

function lookup(input: OpenApiInput, customNodes: Map<string, SchemaNode>): DefinitionLookup {
  return {
    nameOf(gvk) {
      const builtin = input.schemas.definitionNameFor(gvk.group, gvk.version, gvk.kind);
      if (builtin) return builtin;
      const custom = customDefinitionName(gvk.group, gvk.version, gvk.kind);
      if (customNodes.has(custom)) return custom;
      // A custom list kind other than <Kind>List is named as the CRD says; find it by its GVK.
      for (const [name, node] of customNodes) {
        const gvks = node['x-kubernetes-group-version-kind'] as Gvk[] | undefined;
        if (gvks?.some((g) => g.group === gvk.group && g.version === gvk.version && g.kind === gvk.kind)) return name;
      }
      return undefined;
    },
    node: (name) => customNodes.get(name) ?? input.schemas.definition(name),
  };
}

/** Turns shared definition nodes back into $refs, collecting each definition once. */
class DefinitionEmitter {
  readonly definitions: Record<string, Json> = {};
  constructor(private readonly lookup: DefinitionLookup, private readonly openapi: 2 | 3) {}

  private refTo(name: string): string {
    return this.openapi === 2 ? `#/definitions/${name}` : `#/components/schemas/${name}`;
  }

  ref(name: string): Json {
    this.ensure(name);
    return { $ref: this.refTo(name) };
  }

  ensure(name: string): void {
    if (name in this.definitions) return;
    const node = this.lookup.node(name);
    this.definitions[name] = {};
    this.definitions[name] = node ? this.root(name, node) : { type: 'object' };
  }

  private root(name: string, node: SchemaNode): Json {
    if (name === 'io.k8s.apimachinery.pkg.util.intstr.IntOrString') {
      return this.openapi === 2
        ? { description: node.description, type: 'string', format: 'int-or-string' }
        : { description: node.description, format: 'int-or-string', oneOf: [{ type: 'integer' }, { type: 'string' }] };
    }
    if (name === 'io.k8s.apimachinery.pkg.api.resource.Quantity') {
      return this.openapi === 2
        ? { description: node.description, type: 'string' }
        : { description: node.description, oneOf: [{ type: 'string' }, { type: 'number' }] };
    }
    return this.body(node);
  }

  private body(node: SchemaNode): Json {
    const out: Json = {};
    for (const [key, value] of Object.entries(node)) {
      if (key === 'x-navarch-definition' || value === undefined) continue;
      if (key === 'properties') {
        const properties: Json = {};
        for (const [field, child] of Object.entries(value as Record<string, SchemaNode>)) properties[field] = this.schema(child);
        out.properties = properties;
      } else if (key === 'items' || key === 'not') {
        out[key] = this.schema(value as SchemaNode);
      } else if (key === 'additionalProperties') {
        out[key] = typeof value === 'boolean' ? value : this.schema(value as SchemaNode);
      } else if (key === 'allOf' || key === 'anyOf' || key === 'oneOf') {
        out[key] = (value as SchemaNode[]).map((child) => this.schema(child));
      } else {
        out[key] = value;
      }
    }
    return out;
  }

  /** A schema in a property position: a $ref when it is (a decorated copy of) a named definition. */
  schema(node: SchemaNode): Json {
    const name = node['x-navarch-definition'] as string | undefined;
    if (!name) return this.body(node);
    this.ensure(name);
    const definition = this.lookup.node(name);
    const extras: Json = {};
    for (const [key, value] of Object.entries(node)) {
      if (key === 'x-navarch-definition' || key === 'x-kubernetes-group-version-kind') continue;
      if (!definition || definition[key] !== value) extras[key] = value;
    }
    const ref = { $ref: this.refTo(name) };
    if (Object.keys(extras).length === 0) return ref;
    // v2 allows siblings of $ref in practice (kube-apiserver emits them); v3 wraps the $ref in allOf.
    return this.openapi === 2 ? { ...extras, ...ref } : { allOf: [ref], ...extras, ...(node.type === 'object' || definition?.type === 'object' ? { default: {} } : {}) };
  }
}

function pathParameter(name: string, openapi: 2 | 3): Json {
  const description = name === 'namespace' ? 'object name and auth scope, such as for teams and projects' : `name of the ${name === 'name' ? 'resource' : name}`;
  return openapi === 2
    ? { name, in: 'path', required: true, type: 'string', uniqueItems: true, description }
    : { name, in: 'path', required: true, description, schema: { type: 'string', uniqueItems: true } };
}

function queryParameter(name: string, openapi: 2 | 3): Json {
  const parameter = PARAMETERS[name]!;
  return openapi === 2
    ? { name, in: 'query', type: parameter.type, uniqueItems: true, description: parameter.description }
    : { name, in: 'query', description: parameter.description, schema: { type: parameter.type, uniqueItems: true } };
}

function renderOperation(op: Operation, emitter: DefinitionEmitter, openapi: 2 | 3): Json {
  const out: Json = {
    description: op.description,
    operationId: op.operationId,
    tags: [op.tag],
  };
  const params = op.query.map((name) => queryParameter(name, openapi));
  const isWatch = op.action === 'watch' || op.action === 'watchlist' || op.action === 'list';
  const produces = op.response === 'string' ? ['*/*'] : isWatch ? WATCH_RESPONSE_TYPES : RESPONSE_TYPES;
  const responseSchema = op.response === 'string' ? { type: 'string' } : op.response ? emitter.ref(op.response) : undefined;
  const responses: Json = {};
  const codes = op.createdResponses ? (op.method === 'post' ? ['200', '201', '202'] : ['200', '201']) : op.method === 'delete' ? ['200', '202'] : ['200'];
  for (const code of codes) {
    const description = code === '200' ? 'OK' : code === '201' ? 'Created' : 'Accepted';
    if (openapi === 2) responses[code] = responseSchema ? { description, schema: responseSchema } : { description };
    else responses[code] = responseSchema ? { description, content: Object.fromEntries(produces.map((type) => [type, { schema: responseSchema }])) } : { description };
  }
  responses['401'] = { description: 'Unauthorized' };

  if (openapi === 2) {
    out.consumes = op.method === 'patch' ? PATCH_CONTENT_TYPES : ['*/*'];
    out.produces = produces;
    out.schemes = ['https'];
    if (op.body) params.unshift({ name: 'body', in: 'body', required: op.method !== 'delete', schema: emitter.ref(op.body) });
  } else if (op.body) {
    const bodySchema = emitter.ref(op.body);
    const types = op.method === 'patch' ? PATCH_CONTENT_TYPES : ['*/*'];
    out.requestBody = { content: Object.fromEntries(types.map((type) => [type, { schema: bodySchema }])), ...(op.method === 'delete' ? {} : { required: true }) };
  }
  if (params.length) out.parameters = params;
  out.responses = responses;
  out['x-kubernetes-action'] = op.action;
  out['x-kubernetes-group-version-kind'] = { group: op.gvk.group, kind: op.gvk.kind, version: op.gvk.version };
  return out;
}

function renderPaths(ops: Operation[], emitter: DefinitionEmitter, openapi: 2 | 3): Json {
  const paths: Record<string, Json> = {};
  for (const op of ops) {
    const entry = (paths[op.path] ??= {});
    entry[op.method] = renderOperation(op, emitter, openapi);
    entry.parameters = [...op.pathParams.map((name) => pathParameter(name, openapi)), queryParameter('pretty', openapi)];
  }
  return Object.fromEntries(Object.keys(paths).sort().map((path) => [path, paths[path]!]));
}

function allOperations(input: OpenApiInput): { ops: Operation[]; lookup: DefinitionLookup; customResources: ResourceDefinition[] } {
  const custom = customResourcesOf(input);
  const definitions = lookup(input, custom.nodes);
  const ops = [...input.resources, ...custom.resources].flatMap((resource) => operationsFor(resource, definitions));
  return { ops, lookup: definitions, customResources: custom.resources };
}

const INFO = { title: 'Kubernetes', version: kubernetesVersion.gitVersion };

/** The swagger 2.0 document served at /openapi/v2 (as JSON). */
export function buildOpenApiV2(input: OpenApiInput): Json {
  const { ops, lookup: definitions, customResources } = allOperations(input);
  const emitter = new DefinitionEmitter(definitions, 2);
  const paths = renderPaths(ops, emitter, 2);
  // Every kind's definition is published, even those only reachable as subresource or review bodies.
  for (const resource of [...input.resources, ...customResources]) {
    for (const kind of [resource.kind, `${resource.kind}List`]) {
      const name = definitions.nameOf({ group: resource.group, version: resource.version, kind });
      if (name) emitter.ensure(name);
    }
  }
  return {
    swagger: '2.0',
    info: INFO,
    paths,
    definitions: sortKeys(emitter.definitions),
    securityDefinitions: { BearerToken: { description: 'Bearer Token authentication', in: 'header', name: 'authorization', type: 'apiKey' } },
    security: [{ BearerToken: [] }],
  };
}

/** "api/v1", "apis/apps/v1", ...: the group versions /openapi/v3 lists, one document each. */
export function openApiV3GroupVersions(input: OpenApiInput): string[] {
  const { resources: customResources } = customResourcesOf(input);
  return [...new Set([...input.resources, ...customResources].map((r) => groupVersionPath(r.group, r.version)))];
}

/** The OpenAPI 3.0 document of one group version ("apis/apps/v1"), or undefined when none is served. */
export function buildOpenApiV3(groupVersion: string, input: OpenApiInput): Json | undefined {
  return renderV3(groupVersion, allOperations(input));
}

function renderV3(groupVersion: string, { ops, lookup: definitions }: ReturnType<typeof allOperations>): Json | undefined {
  const selected = ops.filter((op) => op.groupVersion === groupVersion);
  if (!selected.length) return undefined;
  const emitter = new DefinitionEmitter(definitions, 3);
  const paths = renderPaths(selected, emitter, 3);
  return {
    openapi: '3.0.0',
    info: INFO,
    paths,
    components: {
      schemas: sortKeys(emitter.definitions),
      securitySchemes: { BearerToken: { type: 'apiKey', description: 'Bearer Token authentication', name: 'authorization', in: 'header' } },
    },
  };
}

/** The ETag-like hash kube-apiserver puts in serverRelativeURL: SHA-512 of the served bytes, upper-case hex. */
export function openApiHash(document: unknown): string {
  return createHash('sha512').update(JSON.stringify(document)).digest('hex').toUpperCase();
}

/** The /openapi/v3 discovery document: one entry per group version, its URL pinned by the document's hash. */
export function buildOpenApiV3Index(input: OpenApiInput): { paths: Record<string, { serverRelativeURL: string }> } {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  const prepared = allOperations(input);
  for (const groupVersion of openApiV3GroupVersions(input)) {
    const document = renderV3(groupVersion, prepared);
    if (document) paths[groupVersion] = { serverRelativeURL: `/openapi/v3/${groupVersion}?hash=${openApiHash(document)}` };
  }
  return { paths };
}

function sortKeys<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.keys(record).sort().map((key) => [key, record[key]!]));
}
