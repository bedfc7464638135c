// Turns a CRD version's `schema.openAPIV3Schema` (JSONSchemaProps as stored) into a SchemaNode, the
// same shape the built-in kinds use, so patching, pruning and OpenAPI treat custom resources alike.
import type { SchemaNode } from '../types.js';

const NESTED_LISTS = ['allOf', 'anyOf', 'oneOf'];
// Validation keywords carried over unchanged (they hold no nested schemas).
const PLAIN_KEYWORDS = [
  'type', 'format', 'description', 'title', 'required', 'enum', 'default', 'example', 'nullable', 'pattern',
  'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf', 'minLength', 'maxLength',
  'minItems', 'maxItems', 'uniqueItems', 'minProperties', 'maxProperties', 'externalDocs',
];

function convert(input: unknown): SchemaNode {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return {};
  const props = input as Record<string, unknown>;
  const node: SchemaNode = {};
  for (const key of PLAIN_KEYWORDS) if (props[key] !== undefined) node[key] = props[key];
  for (const [key, value] of Object.entries(props)) {
    if (key.startsWith('x-kubernetes-') && value !== undefined) node[key] = value;
  }
  if (props.properties && typeof props.properties === 'object') {
    node.properties = {};
    for (const [name, child] of Object.entries(props.properties as Record<string, unknown>)) node.properties[name] = convert(child);
  }
  // JSONSchemaPropsOrArray: structural schemas only allow the single-schema form; keep its first entry otherwise.
  if (props.items !== undefined) node.items = convert(Array.isArray(props.items) ? props.items[0] : props.items);
  if (typeof props.additionalProperties === 'boolean') node.additionalProperties = props.additionalProperties;
  else if (props.additionalProperties && typeof props.additionalProperties === 'object') node.additionalProperties = convert(props.additionalProperties);
  for (const key of NESTED_LISTS) {
    if (Array.isArray(props[key])) node[key] = (props[key] as unknown[]).map(convert);
  }
  if (props.not !== undefined) node.not = convert(props.not);
  return node;
}

export interface CustomResourceSchemaOptions {
  /** When given, the object's metadata is described by ObjectMeta and apiVersion/kind are added, as Kubernetes publishes CRDs. */
  objectMeta?: SchemaNode;
}

/** Converts one CRD version's openAPIV3Schema; an absent schema accepts anything (preserve-unknown-fields). */
export function schemaForCustomResource(openAPIV3Schema: unknown, options: CustomResourceSchemaOptions = {}): SchemaNode {
  const node: SchemaNode = openAPIV3Schema === undefined || openAPIV3Schema === null
    ? { type: 'object', 'x-kubernetes-preserve-unknown-fields': true }
    : convert(openAPIV3Schema);
  if (options.objectMeta) {
    node.type ??= 'object';
    node.properties = {
      apiVersion: { type: 'string', description: 'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources' },
      kind: { type: 'string', description: 'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds' },
      ...node.properties,
      metadata: { ...options.objectMeta, description: "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata" },
    };
  }
  return node;
}
