// Derives Kubernetes' schema for every built-in kind from @kubernetes/client-node's generated models.
// The generator names classes by version and kind only (V1Container), prefixing the group just when two
// groups clash (CoreV1Event / EventsV1Event), so the Kubernetes definition name
// (io.k8s.api.core.v1.Container) is recovered by walking each group's kinds in an order where the
// groups other groups lean on (meta, then core) claim their types first.
import type { GroupVersionKind, SchemaNode } from '../types.js';
import { atomicStructs, fieldExtensions, quantityFields, untypedFields } from './extensions.js';
import { clientNodeModelSource, type ModelClass, type ModelField, type ModelSource } from './model-source.js';

export const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
export const TIME = `${META}.Time`;
export const MICRO_TIME = `${META}.MicroTime`;
export const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
export const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
export const RAW_EXTENSION = 'io.k8s.apimachinery.pkg.runtime.RawExtension';
const APIEXTENSIONS = 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1';

/** The Go package prefix of each API group's definitions. */
export function definitionPackage(group: string): string {
  switch (group) {
    case '': return 'io.k8s.api.core';
    case 'apiextensions.k8s.io': return 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions';
    case 'apiregistration.k8s.io': return 'io.k8s.kube-aggregator.pkg.apis.apiregistration';
    case 'rbac.authorization.k8s.io': return 'io.k8s.api.rbac';
    case 'flowcontrol.apiserver.k8s.io': return 'io.k8s.api.flowcontrol';
    default: return `io.k8s.api.${group.split('.')[0]}`;
  }
}

/** Kubernetes' name for a kind's definition: io.k8s.api.apps.v1.Deployment. */
export function definitionName(group: string, version: string, kind: string): string {
  return `${definitionPackage(group)}.${version}.${kind}`;
}

/** The class-name prefix the generator uses when a kind name clashes: "Core", "Admissionregistration". */
function classPrefix(group: string): string {
  const last = definitionPackage(group).split('.').pop()!;
  return last.charAt(0).toUpperCase() + last.slice(1);
}

const META_CLASSES = [
  'V1ObjectMeta', 'V1ListMeta', 'V1OwnerReference', 'V1ManagedFieldsEntry', 'V1LabelSelector', 'V1LabelSelectorRequirement',
  'V1Condition', 'V1Status', 'V1StatusDetails', 'V1StatusCause', 'V1DeleteOptions', 'V1Preconditions', 'V1APIResource',
  'V1APIResourceList', 'V1APIGroup', 'V1APIGroupList', 'V1APIVersions', 'V1GroupVersionForDiscovery',
  'V1ServerAddressByClientCIDR', 'V1WatchEvent', 'V1FieldSelectorRequirement',
];

/** Groups whose types never lean on core come first; core before the groups that embed core types. */
const CLAIM_ORDER = [
  'autoscaling', 'policy', 'authentication.k8s.io', 'authorization.k8s.io', 'rbac.authorization.k8s.io',
  'coordination.k8s.io', 'certificates.k8s.io', 'scheduling.k8s.io', 'apiregistration.k8s.io',
  'admissionregistration.k8s.io', 'apiextensions.k8s.io', 'flowcontrol.apiserver.k8s.io', '',
];

/** Kinds that are not served resources but appear in requests or subresources, and core types only other groups use. */
const EXTRA_ROOTS: GroupVersionKind[] = [
  { group: 'autoscaling', version: 'v1', kind: 'Scale' },
  { group: 'policy', version: 'v1', kind: 'Eviction' },
  { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' },
  { group: '', version: 'v1', kind: 'TopologySelectorTerm' },
];

const CLASS_NAME = /^([A-Z][a-z]+)?(V\d+(?:alpha\d+|beta\d+)?)([A-Z]\w*)$/;
const NOT_MODELS = new Set(['Array', 'Date', 'IntOrString', 'V1MicroTime']);

function referencedClasses(type: string): string[] {
  return (type.match(/[A-Z][A-Za-z0-9]*/g) ?? []).filter((name) => !NOT_MODELS.has(name));
}

export interface SchemaRegistry {
  /** The dereferenced schema of a kind (shared nodes: recursive types such as JSONSchemaProps form cycles). */
  getSchema(group: string, version: string, kind: string): SchemaNode | undefined;
  /** A definition by Kubernetes name, built on first use. */
  definition(name: string): SchemaNode | undefined;
  /** The definition name of a served kind, if it has a schema. */
  definitionNameFor(group: string, version: string, kind: string): string | undefined;
  /** Every definition name the served kinds can reach (computing it reads the model index once). */
  definitionNames(): string[];
}

export interface SchemaRegistryOptions {
  /** The kinds to serve schemas for (normally every built-in resource's group/version/kind). */
  kinds: GroupVersionKind[];
  source?: ModelSource;
}

const SYNTHETIC: Record<string, () => SchemaNode> = {
  [TIME]: () => ({ type: 'string', format: 'date-time', description: 'Time is a wrapper around time.Time which supports correct marshaling to YAML and JSON.  Wrappers are provided for many of the factory methods that the time package offers.' }),
  [MICRO_TIME]: () => ({ type: 'string', format: 'date-time', description: 'MicroTime is version of Time with microsecond level precision.' }),
  [INT_OR_STRING]: () => ({ format: 'int-or-string', 'x-kubernetes-int-or-string': true, description: 'IntOrString is a type that can hold an int32 or a string.  When used in JSON or YAML marshalling and unmarshalling, it produces or consumes the inner type.  This allows you to have, for example, a JSON field that can accept a name or number.' }),
  [QUANTITY]: () => ({ description: "Quantity is a fixed-point representation of a number. It provides convenient marshaling/unmarshaling in JSON and YAML, in addition to String() and AsInt64() accessors.\n\nThe serialization format is:\n\n``` <quantity>        ::= <signedNumber><suffix>\n\n\t(Note that <suffix> may be empty, from the \"\" case in <decimalSI>.)\n\n<digit>           ::= 0 | 1 | ... | 9 <digits>          ::= <digit> | <digit><digits> <number>          ::= <digits> | <digits>.<digits> | <digits>. | .<digits> <sign>            ::= \"+\" | \"-\" <signedNumber>    ::= <number> | <sign><number> <suffix>          ::= <binarySI> | <decimalExponent> | <decimalSI> <binarySI>        ::= Ki | Mi | Gi | Ti | Pi | Ei\n\n\t(International System of units; See: http://physics.nist.gov/cuu/Units/binary.html)\n\n<decimalSI>       ::= m | \"\" | k | M | G | T | P | E\n\n\t(Note that 1024 = 1Ki but 1000 = 1k; I didn't choose the capitalization.)\n\n<decimalExponent> ::= \"e\" <signedNumber> | \"E\" <signedNumber> ```" }),
  [RAW_EXTENSION]: () => ({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true, description: 'RawExtension is used to hold extensions in external versions.' }),
  [`${META}.FieldsV1`]: () => ({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true, description: "FieldsV1 stores a set of fields in a data structure like a Trie, in JSON format.\n\nEach key is either a '.' representing the field itself, and will always map to an empty set, or a string representing a sub-field or item. The string will follow one of these four formats: 'f:<name>', where <name> is the name of a field in a struct, or key in a map 'v:<value>', where <value> is the exact json formatted value of a list item 'i:<index>', where <index> is position of a item in a list 'k:<keys>', where <keys> is a map of  a list item's key fields to their unique values If a key maps to an empty Fields value, the field that key represents is part of the set.\n\nThe exact format is defined in sigs.k8s.io/structured-merge-diff" }),
  [`${META}.Patch`]: () => ({ type: 'object', description: 'Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.' }),
  [`${APIEXTENSIONS}.JSON`]: () => ({ 'x-kubernetes-preserve-unknown-fields': true, description: 'JSON represents any valid JSON value. These types are supported: bool, int64, float64, string, []interface{}, map[string]interface{} and nil.' }),
  [`${APIEXTENSIONS}.JSONSchemaPropsOrArray`]: () => ({ 'x-kubernetes-preserve-unknown-fields': true, description: 'JSONSchemaPropsOrArray represents a value that can either be a JSONSchemaProps or an array of JSONSchemaProps. Mainly here for serialization purposes.' }),
  [`${APIEXTENSIONS}.JSONSchemaPropsOrBool`]: () => ({ 'x-kubernetes-preserve-unknown-fields': true, description: 'JSONSchemaPropsOrBool represents JSONSchemaProps or a boolean value. Defaults to true for the boolean property.' }),
  [`${APIEXTENSIONS}.JSONSchemaPropsOrStringArray`]: () => ({ 'x-kubernetes-preserve-unknown-fields': true, description: 'JSONSchemaPropsOrStringArray represents a JSONSchemaProps or a string array.' }),
  [`${APIEXTENSIONS}.CustomResourceSubresourceStatus`]: () => ({ type: 'object', description: 'CustomResourceSubresourceStatus defines how to serve the status subresource for CustomResources. Status is represented by the `.status` JSON path inside of a CustomResource. When set, * exposes a /status subresource for the custom resource * PUT requests to the /status subresource take a custom resource object, and ignore changes to anything except the status stanza * PUT/POST/PATCH requests to the custom resource ignore changes to the status stanza' }),
};

export function createSchemaRegistry(options: SchemaRegistryOptions): SchemaRegistry {
  const source = options.source ?? clientNodeModelSource();
  const models = new Map<string, ModelClass | null>();
  const definitions = new Map<string, SchemaNode>();
  let naming: { classToDefinition: Map<string, string>; definitionToClass: Map<string, string> } | undefined;
  const groupVersionKinds = new Map<string, GroupVersionKind[]>();

  function model(className: string): ModelClass | undefined {
    if (!models.has(className)) models.set(className, source.readModel(className) ?? null);
    return models.get(className) ?? undefined;
  }

  function classFor(gvk: GroupVersionKind): string | undefined {
    const version = gvk.version.charAt(0).toUpperCase() + gvk.version.slice(1);
    const prefixed = `${classPrefix(gvk.group)}${version}${gvk.kind}`;
    if (model(prefixed)) return prefixed;
    const plain = `${version}${gvk.kind}`;
    return model(plain) ? plain : undefined;
  }

  function addGvk(definition: string, gvk: GroupVersionKind): void {
    const list = groupVersionKinds.get(definition) ?? [];
    if (!list.some((g) => g.group === gvk.group && g.version === gvk.version && g.kind === gvk.kind)) {
      list.push({ group: gvk.group, kind: gvk.kind, version: gvk.version });
    }
    groupVersionKinds.set(definition, list);
  }

  function ensureNaming() {
    if (naming) return naming;
    const classToDefinition = new Map<string, string>();
    const definitionToClass = new Map<string, string>();
    const claim = (className: string, pkg: string): boolean => {
      if (classToDefinition.has(className)) return false;
      const match = CLASS_NAME.exec(className);
      if (!match) return false;
      const name = `${pkg}.${match[2]!.toLowerCase()}.${match[3]}`;
      classToDefinition.set(className, name);
      definitionToClass.set(name, className);
      return true;
    };
    const walk = (roots: string[], pkg: string) => {
      const queue = roots.filter((root) => model(root) && claim(root, pkg));
      while (queue.length) {
        const current = model(queue.shift()!);
        for (const field of current?.fields ?? []) {
          for (const referenced of referencedClasses(field.type)) {
            if (model(referenced) && claim(referenced, pkg)) queue.push(referenced);
          }
        }
      }
    };
    walk(META_CLASSES, META.replace(/\.v1$/, ''));

    const roots = [...options.kinds, ...EXTRA_ROOTS];
    const groups = [...new Set(roots.map((gvk) => gvk.group))];
    groups.sort((a, b) => rank(a) - rank(b));
    for (const group of groups) {
      const classes: string[] = [];
      for (const gvk of roots.filter((r) => r.group === group)) {
        const kindClass = classFor(gvk);
        if (kindClass) classes.push(kindClass);
        const listClass = classFor({ ...gvk, kind: `${gvk.kind}List` });
        if (listClass) classes.push(listClass);
      }
      walk(classes, definitionPackage(group));
    }
    for (const gvk of options.kinds) {
      addGvk(definitionName(gvk.group, gvk.version, gvk.kind), gvk);
      addGvk(definitionName(gvk.group, gvk.version, `${gvk.kind}List`), { ...gvk, kind: `${gvk.kind}List` });
    }
    for (const gvk of EXTRA_ROOTS.filter((r) => r.kind !== 'TopologySelectorTerm')) addGvk(definitionName(gvk.group, gvk.version, gvk.kind), gvk);
    // DeleteOptions and WatchEvent are registered in every served group version, Status in core only.
    for (const gvk of options.kinds) {
      addGvk(`${META}.DeleteOptions`, { group: gvk.group, version: gvk.version, kind: 'DeleteOptions' });
      addGvk(`${META}.WatchEvent`, { group: gvk.group, version: gvk.version, kind: 'WatchEvent' });
    }
    addGvk(`${META}.Status`, { group: '', version: 'v1', kind: 'Status' });
    naming = { classToDefinition, definitionToClass };
    return naming;
  }

  function rank(group: string): number {
    const index = CLAIM_ORDER.indexOf(group);
    return index < 0 ? CLAIM_ORDER.length : index;
  }

  function typeNode(type: string, format: string, quantity: boolean): SchemaNode {
    const array = /^Array<(.+)>$/.exec(type);
    if (array) return { type: 'array', items: typeNode(array[1]!, format, quantity) };
    const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
    if (map) return { type: 'object', additionalProperties: typeNode(map[1]!, format, quantity) };
    if (quantity && type === 'string') return definition(QUANTITY)!;
    switch (type) {
      case 'string': return format ? { type: 'string', format } : { type: 'string' };
      case 'boolean': return { type: 'boolean' };
      case 'number':
        return format === 'int32' || format === 'int64' ? { type: 'integer', format } : { type: 'number', format: format || 'double' };
      case 'Date': return definition(TIME)!;
      case 'V1MicroTime': return definition(MICRO_TIME)!;
      case 'IntOrString': return definition(INT_OR_STRING)!;
      case 'any': return { 'x-kubernetes-preserve-unknown-fields': true };
    }
    const name = ensureNaming().classToDefinition.get(type);
    const node = name ? definition(name) : undefined;
    // A type outside the served groups: still describe it, just without a Kubernetes name.
    return node ?? { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  }

  function fieldNode(owner: string, field: ModelField): SchemaNode {
    const untyped = untypedFields[owner]?.[field.jsonName];
    const quantity = quantityFields[owner]?.includes(field.jsonName) ?? false;
    let node = untyped ? definition(untyped)! : typeNode(field.type, field.format, quantity);
    const extensions = fieldExtensions[owner]?.[field.jsonName];
    if (field.description || extensions) {
      // Definition nodes are shared by every field of that type: decorate a shallow copy.
      if (node['x-navarch-definition']) node = { ...node };
      if (field.description) node.description = field.description;
      if (extensions) Object.assign(node, extensions);
    }
    return node;
  }

  function definition(name: string): SchemaNode | undefined {
    const cached = definitions.get(name);
    if (cached) return cached;
    const synthetic = SYNTHETIC[name];
    if (synthetic) {
      const node: SchemaNode = { ...synthetic(), 'x-navarch-definition': name };
      definitions.set(name, node);
      return node;
    }
    const className = ensureNaming().definitionToClass.get(name);
    const source = className ? model(className) : undefined;
    if (!source) return undefined;
    const properties: Record<string, SchemaNode> = {};
    const node: SchemaNode = { type: 'object', 'x-navarch-definition': name };
    if (source.description) node.description = source.description;
    node.properties = properties;
    // Cached before the fields are built, so recursive types (JSONSchemaProps) point back at this node.
    definitions.set(name, node);
    for (const field of source.fields) properties[field.jsonName] = fieldNode(name, field);
    const required = source.fields.filter((field) => field.required).map((field) => field.jsonName);
    if (required.length) node.required = required;
    if (atomicStructs.has(name)) node['x-kubernetes-map-type'] = 'atomic';
    const gvks = groupVersionKinds.get(name);
    if (gvks) node['x-kubernetes-group-version-kind'] = gvks;
    return node;
  }

  function definitionNameFor(group: string, version: string, kind: string): string | undefined {
    const name = definitionName(group, version, kind);
    return ensureNaming().definitionToClass.has(name) ? name : undefined;
  }

  return {
    definition,
    definitionNameFor,
    definitionNames: () => [...ensureNaming().definitionToClass.keys()],
    getSchema(group, version, kind) {
      const name = definitionNameFor(group, version, kind);
      return name ? definition(name) : undefined;
    },
  };
}
