// Server-side printing: `Accept: application/json;as=Table;g=meta.k8s.io;v=v1` turns objects
// into the rows `kubectl get` prints, with each kind's columns.
import type { KubeObject, Printer } from '../api/types.js';

export type IncludeObject = 'None' | 'Metadata' | 'Object';

const defaultPrinter: Printer = {
  columns: [
    { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.', priority: 0 },
    { name: 'Created At', type: 'date', description: 'CreationTimestamp is a timestamp representing the server time when this object was created.', priority: 0 },
  ],
  cells: (o) => [o.metadata.name, o.metadata.creationTimestamp],
};

export function partialObjectMetadata(object: KubeObject): object {
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: object.metadata };
}

export function toTable(
  printer: Printer | undefined,
  objects: KubeObject[],
  listMeta: { resourceVersion?: string; continue?: string; remainingItemCount?: number },
  includeObject: IncludeObject,
  tableVersion: string,
  now: Date,
): object {
  const p = printer ?? defaultPrinter;
  return {
    kind: 'Table',
    apiVersion: `meta.k8s.io/${tableVersion}`,
    metadata: listMeta,
    columnDefinitions: p.columns.map((c) => ({ name: c.name, type: c.type, format: c.format ?? '', description: c.description ?? '', priority: c.priority })),
    rows: objects.map((o) => {
      const row: Record<string, unknown> = { cells: p.cells(o, now) };
      if (includeObject === 'Object') row.object = o;
      else if (includeObject === 'Metadata') row.object = partialObjectMetadata(o);
      return row;
    }),
  };
}

export interface MediaRequest {
  /** Table, PartialObjectMetadata(List), or plain JSON. */
  as?: 'Table' | 'PartialObjectMetadata' | 'PartialObjectMetadataList';
  version?: string;
  /** The client accepts JSON at all. */
  json: boolean;
  /** The client only listed protobuf. */
  protobufOnly: boolean;
}

/** Reads an Accept header in order of preference; the first JSON alternative we can serve wins. */
export function negotiate(accept: string | undefined): MediaRequest {
  if (!accept) return { json: true, protobufOnly: false };
  const alternatives = accept.split(',').map((s) => s.trim()).filter(Boolean);
  let sawJson = false;
  for (const alt of alternatives) {
    const [type, ...params] = alt.split(';').map((s) => s.trim());
    const p: Record<string, string> = {};
    for (const kv of params) {
      const [k, v] = kv.split('=');
      if (k && v !== undefined) p[k.trim()] = v.trim();
    }
    if (type !== 'application/json' && type !== '*/*' && type !== 'application/*' && type !== 'application/yaml') continue;
    sawJson = true;
    if (p.as) {
      if (p.g === 'meta.k8s.io' && (p.v === 'v1' || p.v === 'v1beta1') && (p.as === 'Table' || p.as === 'PartialObjectMetadata' || p.as === 'PartialObjectMetadataList')) {
        return { as: p.as, version: p.v, json: true, protobufOnly: false };
      }
      continue; // an alternative we cannot serve (e.g. apidiscovery handled elsewhere)
    }
    return { json: true, protobufOnly: false };
  }
  const protobufOnly = !sawJson && alternatives.some((a) => a.startsWith('application/vnd.kubernetes.protobuf'));
  return { json: sawJson, protobufOnly };
}
