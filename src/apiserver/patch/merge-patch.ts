// RFC 7386 JSON Merge Patch (application/merge-patch+json): objects merge key by key, null
// deletes, and anything else (lists included) replaces the original value wholesale.
import { deepClone, isPlainObject } from './json.js';

/** Returns the merged document; neither argument is changed and the result shares nothing with them. */
export function applyMergePatch(original: unknown, patch: unknown): unknown {
  return mergeInto(deepClone(original), patch);
}

function mergeInto(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return deepClone(patch);
  const result: Record<string, unknown> = isPlainObject(target) ? target : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergeInto(result[key], value);
  }
  return result;
}
