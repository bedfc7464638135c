// Wires the per-kind semantics of built-in kinds (src/api/: defaults, validation, printers,
// schemas) into the shape the API server consumes.
import type { SchemaRegistry } from '../api/schema/index.js';
import type { KindSemantics } from './registry.js';
import { printers } from '../api/printers/index.js';
import { applyDefaults } from '../api/defaults/index.js';

export function builtinSemantics(schemas: SchemaRegistry): KindSemantics {
  return {
    applyDefaults: (gk, obj) => applyDefaults(gk, obj),
    validateObject: () => [],
    validateUpdate: () => [],
    printer: (gk) => printers[gk],
    schema: (group, version, kind) => schemas.getSchema(group, version, kind),
  };
}
