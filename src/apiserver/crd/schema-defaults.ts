// Defaulting of custom resources from `default:` in their structural schema, as kube-apiserver's
// structuraldefaulting does: non-nullable nulls are dropped first, then missing fields (and
// nulls of fields with a default) take the default, recursively through objects, arrays and maps.
import type { SchemaNode } from '../../api/types.js';
import { deepClone, isPlainObject } from '../../util/json.js';

/** Applies schema defaults to `object` in place. The root's apiVersion/kind/metadata are left alone. */
export function applySchemaDefaults(object: unknown, schema: SchemaNode | undefined): void {
  if (!schema) return;
  walk(object, schema, true);
}

function walk(value: unknown, schema: SchemaNode, isRoot: boolean): void {
  if (Array.isArray(value)) {
    if (schema.items) for (const item of value) walk(item, schema.items, false);
    return;
  }
  if (!isPlainObject(value)) return;
  const properties = schema.properties ?? {};
  for (const [key, property] of Object.entries(properties)) {
    if (isRoot && key === 'metadata') continue;
    if (value[key] === null && !property.nullable && property.default === undefined) {
      // Kubernetes prunes a null it could not accept rather than failing the request.
      delete value[key];
      continue;
    }
    if ((value[key] === undefined || (value[key] === null && !property.nullable)) && property.default !== undefined) {
      value[key] = deepClone(property.default);
    }
  }
  for (const [key, child] of Object.entries(value)) {
    if (isRoot && key === 'metadata') continue;
    const property = properties[key] ?? (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
    if (!property) continue;
    if (child === null && !property.nullable && !properties[key]) {
      if (property.default !== undefined) value[key] = deepClone(property.default);
      else delete value[key];
      continue;
    }
    walk(value[key], property, false);
  }
}
