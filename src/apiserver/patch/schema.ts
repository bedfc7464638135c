// Reading Kubernetes' patch and list-type extensions out of a SchemaNode. Both strategic merge
// patch and server-side apply walk objects and schemas together through these helpers.
import type { SchemaNode } from '../../api/types.js';

/** ObjectMeta's merge semantics, used when a schema does not describe metadata itself (hand-written
 *  schemas, custom resources), so finalizers and ownerReferences merge the way Kubernetes merges them. */
export const objectMetaSchema: SchemaNode = {
  type: 'object',
  properties: {
    labels: { type: 'object', additionalProperties: { type: 'string' } },
    annotations: { type: 'object', additionalProperties: { type: 'string' } },
    finalizers: {
      type: 'array',
      items: { type: 'string' },
      'x-kubernetes-patch-strategy': 'merge',
      'x-kubernetes-list-type': 'set',
    },
    ownerReferences: {
      type: 'array',
      'x-kubernetes-patch-merge-key': 'uid',
      'x-kubernetes-patch-strategy': 'merge',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['uid'],
      items: {
        type: 'object',
        properties: {
          apiVersion: { type: 'string' },
          kind: { type: 'string' },
          name: { type: 'string' },
          uid: { type: 'string' },
          controller: { type: 'boolean' },
          blockOwnerDeletion: { type: 'boolean' },
        },
      },
    },
  },
};

/** Schema of field `key` in an object described by `schema`; undefined when the schema says nothing. */
export function fieldSchema(schema: SchemaNode | undefined, key: string, atRoot = false): SchemaNode | undefined {
  if (atRoot && key === 'metadata' && !schema?.properties?.metadata) return objectMetaSchema;
  if (!schema) return undefined;
  const property = schema.properties?.[key];
  if (property) return property;
  if (typeof schema.additionalProperties === 'object') return schema.additionalProperties;
  return undefined;
}

export function patchStrategies(schema: SchemaNode | undefined): string[] {
  const strategy = schema?.['x-kubernetes-patch-strategy'];
  return typeof strategy === 'string' ? strategy.split(',').map((s) => s.trim()) : [];
}

export type ListType =
  | { kind: 'atomic' }
  | { kind: 'set' }
  | { kind: 'map'; keys: string[] };

/** How server-side apply treats a list. Built-in kinds that predate list-type markers carry only
 *  a patch strategy; Kubernetes derives the same semantics from it, so we do too. */
export function listType(schema: SchemaNode | undefined): ListType {
  const declared = schema?.['x-kubernetes-list-type'];
  if (declared === 'map') {
    const keys = schema?.['x-kubernetes-list-map-keys'] ?? (schema?.['x-kubernetes-patch-merge-key'] ? [schema['x-kubernetes-patch-merge-key']] : []);
    return keys.length > 0 ? { kind: 'map', keys } : { kind: 'atomic' };
  }
  if (declared === 'set') return { kind: 'set' };
  if (declared === 'atomic') return { kind: 'atomic' };
  if (patchStrategies(schema).includes('merge')) {
    const mergeKey = schema?.['x-kubernetes-patch-merge-key'];
    if (mergeKey) return { kind: 'map', keys: [mergeKey] };
    return { kind: 'set' };
  }
  return { kind: 'atomic' };
}

/** Maps are granular unless declared atomic; a struct (properties) is always granular. */
export function isAtomicMap(schema: SchemaNode | undefined): boolean {
  return schema?.['x-kubernetes-map-type'] === 'atomic';
}
