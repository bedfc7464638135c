// Adapts the patch engines in ./patch/ to the interface the generic REST layer uses,
// turning their PatchError into Kubernetes Status errors.
import { ApiError } from './errors.js';
import { PatchError } from './patch/errors.js';
import { applyJsonPatch } from './patch/json-patch.js';
import { applyMergePatch } from './patch/merge-patch.js';
import { applyStrategicMergePatch } from './patch/strategic-merge-patch.js';
import type { PatchEngines } from './resource-store.js';

const reasons: Record<number, string> = { 400: 'BadRequest', 409: 'Conflict', 415: 'UnsupportedMediaType', 422: 'Invalid' };

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
    apply: () => {
      throw new ApiError(415, 'UnsupportedMediaType', 'server-side apply is not available yet on this server');
    },
    trackUpdate: () => undefined,
  };
}
