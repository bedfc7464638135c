// Adapts the patch engines in ./patch/ to the interface the generic REST layer uses,
// turning their PatchError and apply conflicts into Kubernetes Status errors.
import { ApiError } from './errors.js';
import {
  PatchError,
  applyJsonPatch,
  applyMergePatch,
  applyStrategicMergePatch,
  applyServerSide,
  updateManagedFields,
  conflictMessage,
  conflictCauses,
} from './patch/index.js';
import type { PatchEngines } from './resource-store.js';

const reasons: Record<number, string> = { 400: 'BadRequest', 409: 'Conflict', 413: 'RequestEntityTooLarge', 415: 'UnsupportedMediaType', 422: 'Invalid', 500: 'InternalError' };

function translated<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof PatchError) throw new ApiError(e.code, reasons[e.code] ?? 'BadRequest', e.message);
    throw e;
  }
}

export function patchEngines(): PatchEngines {
  return {
    json: (doc, ops) => translated(() => applyJsonPatch(doc, ops)),
    merge: (doc, patch) => translated(() => applyMergePatch(doc, patch)),
    strategic: (doc, patch, schema) => translated(() => applyStrategicMergePatch(doc, patch, schema)),
    apply: (live, applied, manager, options) =>
      translated(() => {
        const result = applyServerSide(live, applied, manager, options);
        if (result.conflicts?.length) {
          throw new ApiError(409, 'Conflict', conflictMessage(result.conflicts), {
            name: live?.metadata?.name,
            kind: live?.kind,
            causes: conflictCauses(result.conflicts),
          });
        }
        return { object: result.object };
      }),
    trackUpdate: (oldObject, newObject, manager, options) =>
      translated(() => updateManagedFields(oldObject, newObject, { manager, ...options }).metadata.managedFields),
  };
}
