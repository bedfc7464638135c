// Wires the per-kind semantics of built-in kinds (src/api/: defaults, validation, printers,
// schemas) into the shape the API server consumes.
import type { SchemaRegistry } from '../api/schema/index.js';
import type { ResourceDefinition } from '../api/types.js';
import { groupKind } from '../api/types.js';
import type { KindSemantics } from './registry.js';
import { printers } from '../api/printers/index.js';
import { applyDefaults } from '../api/defaults/index.js';
import { validateObject, validateUpdate } from '../api/validation/index.js';

export function builtinSemantics(schemas: SchemaRegistry, resources: ResourceDefinition[]): KindSemantics {
  const namespaced = new Map(resources.map((r) => [groupKind(r.group, r.kind), r.namespaced]));
  return {
    applyDefaults: (gk, obj) => void applyDefaults(gk, obj),
    validateObject: (gk, obj) => validateObject(gk, obj, { namespaced: namespaced.get(gk) }),
    validateUpdate: (gk, obj, old) => validateUpdate(gk, obj, old, { namespaced: namespaced.get(gk) }),
    printer: (gk) => printers[gk],
    schema: (group, version, kind) => schemas.getSchema(group, version, kind),
  };
}
