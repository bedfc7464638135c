// Unknown fields: Kubernetes drops fields its schema does not know (built-in types decode into
// structs; structural CRDs prune), and with fieldValidation=Strict|Warn reports them.
import type { SchemaNode } from '../api/types.js';
import { isPlainObject } from '../util/json.js';

/** Removes fields the schema does not declare, in place; returns their paths ("spec.foo", "spec.containers[0].bar"). */
export function pruneUnknownFields(value: unknown, schema: SchemaNode | undefined, path = ''): string[] {
  const unknown: string[] = [];
  walk(value, schema, path, unknown, true);
  return unknown;
}

function walk(value: unknown, schema: SchemaNode | undefined, path: string, unknown: string[], isRoot: boolean): void {
  if (!schema || schema['x-kubernetes-preserve-unknown-fields'] || schema['x-kubernetes-int-or-string']) {
    if (schema && schema['x-kubernetes-preserve-unknown-fields'] && isPlainObject(value) && schema.properties) {
      // Declared properties still get pruned below them.
      for (const [k, v] of Object.entries(value)) if (schema.properties[k]) walk(v, schema.properties[k], join(path, k), unknown, false);
    }
    return;
  }
  if (Array.isArray(value)) {
    if (schema.items) value.forEach((item, i) => walk(item, schema.items, `${path}[${i}]`, unknown, false));
    return;
  }
  if (!isPlainObject(value)) return;
  const embedded = schema['x-kubernetes-embedded-resource'] || isRoot;
  if (schema.properties) {
    for (const key of Object.keys(value)) {
      const property = schema.properties[key];
      if (property) {
        walk(value[key], property, join(path, key), unknown, false);
      } else if (embedded && (key === 'apiVersion' || key === 'kind' || key === 'metadata')) {
        continue;
      } else if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
        walk(value[key], schema.additionalProperties, join(path, key), unknown, false);
      } else if (schema.additionalProperties === true) {
        continue;
      } else {
        unknown.push(join(path, key));
        delete value[key];
      }
    }
  } else if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
    for (const key of Object.keys(value)) walk(value[key], schema.additionalProperties, join(path, key), unknown, false);
  }
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}
