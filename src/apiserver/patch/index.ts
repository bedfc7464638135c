// The patch engines of the API server: pure functions over plain JSON objects.
export { PatchError, invalidRequestMessage, type PatchErrorReason } from './errors.js';
export { applyJsonPatch, parseJsonPointer, maxJsonPatchOperations, type JsonPatchOperation } from './json-patch.js';
export { applyMergePatch } from './merge-patch.js';
export { applyStrategicMergePatch } from './strategic-merge-patch.js';
export {
  applyServerSide,
  updateManagedFields,
  conflictMessage,
  conflictCauses,
  beforeFirstApplyManager,
  kubectlManager,
  lastAppliedConfigAnnotation,
  maxUpdateManagers,
  ancientChangesManager,
  type ApplyOptions,
  type ApplyResult,
  type UpdateOptions,
  type FieldManagerConflict,
  type ManagedFieldsOperation,
} from './server-side-apply.js';
export { FieldSet, formatFieldPath, type FieldPath } from './field-set.js';
export { fieldSetOf } from './typed-value.js';
export { objectMetaSchema } from './schema.js';
