// Server-side apply (application/apply-patch+yaml) and the managedFields bookkeeping every write
// goes through. Ownership is tracked per manager identity — manager name, operation, subresource
// and, for Update only, apiVersion — as Kubernetes does, so one applier keeps one entry across
// API versions while each updater's version is remembered.
import type { KubeObject, ManagedFieldsEntry, SchemaNode } from '../../api/types.js';
import { PatchError } from './errors.js';
import { deepClone, deepEqual, isPlainObject } from './json.js';
import { FieldSet, formatFieldPath, type FieldPath } from './field-set.js';
import { compareObjects, fieldSetOf, mergeApplied, removePath } from './typed-value.js';

export type ManagedFieldsOperation = 'Apply' | 'Update';

export interface ApplyOptions {
  /** `?force=true`: take ownership of conflicting fields instead of failing. */
  force: boolean;
  /** apiVersion the configuration was applied in (recorded in the manager's entry). */
  apiVersion: string;
  schema?: SchemaNode;
  /** RFC 3339 time recorded in changed entries. */
  now: string;
  subresource?: string;
}

export interface FieldManagerConflict {
  manager: string;
  operation: ManagedFieldsOperation;
  apiVersion?: string;
  subresource?: string;
  /** The field as Kubernetes prints it: `.spec.replicas`, `.spec.containers[name="web"].image`. */
  field: string;
}

export interface ApplyResult {
  /** The applied object with its managedFields; on conflict (without force), the live object unchanged. */
  object: KubeObject;
  /** Present when the apply was refused: the server answers 409 with `conflictMessage(conflicts)`. */
  conflicts?: FieldManagerConflict[];
}

export interface UpdateOptions {
  manager: string;
  apiVersion: string;
  schema?: SchemaNode;
  now: string;
  subresource?: string;
}

/** Kubernetes' manager for fields that existed before an object's first server-side apply. */
export const beforeFirstApplyManager = 'before-first-apply';

interface ManagerState {
  manager: string;
  operation: ManagedFieldsOperation;
  apiVersion: string;
  subresource?: string;
  time?: string;
  set: FieldSet;
  changed: boolean;
  /** The entry's fieldsV1 as read, reused on output while the set is untouched. */
  encoded?: Record<string, unknown>;
}

function managerIdentity(manager: string, operation: ManagedFieldsOperation, apiVersion: string, subresource?: string): string {
  return JSON.stringify([manager, operation, operation === 'Update' ? apiVersion : '', subresource ?? '']);
}

function decodeManagedFields(entries: ManagedFieldsEntry[] | undefined): Map<string, ManagerState> {
  const managers = new Map<string, ManagerState>();
  for (const entry of entries ?? []) {
    if (typeof entry !== 'object' || entry === null || !entry.operation) continue;
    const state: ManagerState = {
      manager: entry.manager ?? '',
      operation: entry.operation,
      apiVersion: entry.apiVersion ?? '',
      set: FieldSet.fromFieldsV1(entry.fieldsV1),
      changed: false,
      ...(entry.fieldsV1 ? { encoded: entry.fieldsV1 } : {}),
      ...(entry.subresource ? { subresource: entry.subresource } : {}),
      ...(entry.time ? { time: entry.time } : {}),
    };
    const identity = managerIdentity(state.manager, state.operation, state.apiVersion, state.subresource);
    const existing = managers.get(identity);
    if (existing) {
      existing.set = existing.set.union(state.set);
      delete existing.encoded;
    }
    else managers.set(identity, state);
  }
  return managers;
}

/** Kubernetes keeps at most this many Update entries per object; older ones are folded together. */
export const maxUpdateManagers = 10;
export const ancientChangesManager = 'ancient-changes';

/** Folds the oldest Update entries, per apiVersion, into an "ancient-changes" entry until at most
 *  `maxUpdateManagers` remain, so objects touched by many clients do not grow without bound. */
function capUpdateManagers(managers: Map<string, ManagerState>, now: string): void {
  const timeOf = (state: ManagerState) => (state.changed ? now : state.time ?? '');
  const updaters = [...managers.entries()]
    .filter(([, state]) => state.operation === 'Update' && !state.set.isEmpty())
    .sort(([a, x], [b, y]) => (timeOf(x) < timeOf(y) ? -1 : timeOf(x) > timeOf(y) ? 1 : a < b ? -1 : a > b ? 1 : 0));
  let count = updaters.length;
  const firstByVersion = new Map<string, string>();
  for (const [identity, state] of updaters) {
    if (count <= maxUpdateManagers) break;
    const first = firstByVersion.get(state.apiVersion);
    if (first === undefined) {
      firstByVersion.set(state.apiVersion, identity);
      continue;
    }
    const bucketIdentity = managerIdentity(ancientChangesManager, 'Update', state.apiVersion);
    let bucket = managers.get(bucketIdentity);
    if (!bucket) {
      const firstState = managers.get(first)!;
      managers.delete(first);
      bucket = { ...firstState, manager: ancientChangesManager, changed: false };
      delete bucket.subresource;
      managers.set(bucketIdentity, bucket);
      firstByVersion.set(state.apiVersion, bucketIdentity);
    }
    bucket.set = bucket.set.union(state.set);
    delete bucket.encoded;
    // The bucket takes the time of the newer entry folded into it.
    bucket.changed = state.changed;
    if (state.time) bucket.time = state.time;
    managers.delete(identity);
    count--;
  }
}

/** Entries in Kubernetes' order: appliers first, then by time, manager, apiVersion, subresource. */
function encodeManagedFields(managers: Map<string, ManagerState>, now: string): ManagedFieldsEntry[] {
  capUpdateManagers(managers, now);
  const entries: ManagedFieldsEntry[] = [];
  for (const state of managers.values()) {
    if (state.set.isEmpty()) continue;
    const entry: ManagedFieldsEntry = {
      manager: state.manager,
      operation: state.operation,
      apiVersion: state.apiVersion,
    };
    const time = state.changed ? now : state.time;
    if (time) entry.time = time;
    entry.fieldsType = 'FieldsV1';
    entry.fieldsV1 = state.encoded ?? state.set.toFieldsV1();
    if (state.subresource) entry.subresource = state.subresource;
    entries.push(entry);
  }
  const compare = (a: string | undefined, b: string | undefined) => ((a ?? '') < (b ?? '') ? -1 : (a ?? '') > (b ?? '') ? 1 : 0);
  return entries.sort((a, b) =>
    compare(a.operation, b.operation) || compare(a.time, b.time) || compare(a.manager, b.manager) ||
    compare(a.apiVersion, b.apiVersion) || compare(a.subresource, b.subresource));
}

function withManagedFields(object: KubeObject, entries: ManagedFieldsEntry[]): KubeObject {
  const metadata = { ...(object.metadata ?? {}) };
  if (entries.length > 0) metadata.managedFields = entries;
  else delete metadata.managedFields;
  return { ...object, metadata };
}

function setManagerFields(state: ManagerState, set: FieldSet): void {
  if (!state.set.equals(set)) {
    state.set = set;
    state.changed = true;
    delete state.encoded;
  }
}

/** Takes `lost` away from a manager; most writes touch few managers' fields, so check first. */
function removeManagerFields(state: ManagerState, lost: FieldSet): void {
  if (state.set.overlaps(lost)) setManagerFields(state, state.set.difference(lost));
}

/** Applies `applied` (a partial object: the manager's whole intent) to `live` (null to create). */
export function applyServerSide(live: KubeObject | null, applied: KubeObject, manager: string, options: ApplyOptions): ApplyResult {
  const { schema } = options;
  const liveObject: KubeObject = live ? deepClone(live) : { metadata: {} };
  const managers = decodeManagedFields(live?.metadata?.managedFields);
  if (live && managers.size === 0) {
    // Fields set before anyone applied belong to someone; without this, the first applier
    // could silently overwrite them.
    const liveApiVersion = typeof live.apiVersion === 'string' ? live.apiVersion : options.apiVersion;
    managers.set(managerIdentity(beforeFirstApplyManager, 'Update', liveApiVersion), {
      manager: beforeFirstApplyManager,
      operation: 'Update',
      apiVersion: liveApiVersion,
      set: fieldSetOf(live, schema),
      changed: true,
    });
  }

  const config = deepClone(applied);
  if (isPlainObject(config.metadata)) {
    const sent = config.metadata.managedFields;
    if (Array.isArray(sent) && sent.length > 0) throw new PatchError('metadata.managedFields must be nil', 400);
    delete config.metadata.managedFields;
  }
  const appliedSet = fieldSetOf(config, schema);
  const applierIdentity = managerIdentity(manager, 'Apply', options.apiVersion, options.subresource);
  const lastApplied = managers.get(applierIdentity)?.set ?? new FieldSet();

  const merged = mergeApplied(liveObject, config, schema) as KubeObject;

  // Fields this manager applied before but no longer does go away, unless someone else owns them.
  let othersSet = new FieldSet();
  for (const [identity, state] of managers) if (identity !== applierIdentity) othersSet = othersSet.union(state.set);
  const abandoned = lastApplied.difference(appliedSet).difference(othersSet);
  // Parents before children: an item is found by its key fields, so they must still be there.
  for (const path of abandoned.paths()) {
    if (othersSet.hasDescendant(path) || appliedSet.hasDescendant(path)) continue;
    if (isKeyFieldOfKeptItem(path)) continue;
    removePath(merged, path);
  }

  const comparison = compareObjects(liveObject, merged, schema);
  const changed = comparison.modified.union(comparison.added);
  const conflictSets = new Map<string, FieldSet>();
  for (const [identity, state] of managers) {
    if (identity === applierIdentity) continue;
    const overlap = state.set.intersection(changed);
    if (!overlap.isEmpty()) conflictSets.set(identity, overlap);
  }
  if (conflictSets.size > 0 && !options.force) {
    // `kubectl apply --server-side` after client-side applies: fields the last-applied annotation
    // still matches are the user's own, so they do not conflict (Kubernetes' upgrade path).
    const allowed = manager === kubectlManager && live ? fieldsFromLastApplied(live, options) : new FieldSet();
    const conflicts: FieldManagerConflict[] = [];
    for (const [identity, overlap] of conflictSets) {
      const state = managers.get(identity)!;
      for (const path of overlap.paths()) {
        if (allowed.has(path)) continue;
        conflicts.push({
          manager: state.manager,
          operation: state.operation,
          ...(state.operation === 'Update' ? { apiVersion: state.apiVersion } : {}),
          ...(state.subresource ? { subresource: state.subresource } : {}),
          field: formatFieldPath(path),
        });
      }
    }
    if (conflicts.length > 0) return { object: live ?? merged, conflicts };
  }

  for (const [identity, overlap] of conflictSets) {
    const state = managers.get(identity)!;
    removeManagerFields(state, overlap);
  }
  for (const state of managers.values()) removeManagerFields(state, comparison.removed);

  const applier = managers.get(applierIdentity);
  if (applier) {
    setManagerFields(applier, appliedSet);
    // The entry's time says when this manager last changed the object.
    if (!changed.isEmpty() || !comparison.removed.isEmpty()) applier.changed = true;
    if (applier.apiVersion !== options.apiVersion) {
      applier.apiVersion = options.apiVersion;
      applier.changed = true;
    }
  } else {
    managers.set(applierIdentity, {
      manager,
      operation: 'Apply',
      apiVersion: options.apiVersion,
      set: appliedSet,
      changed: true,
      ...(options.subresource ? { subresource: options.subresource } : {}),
    });
  }
  return { object: withManagedFields(merged, encodeManagedFields(managers, options.now)) };
}

/** Records an Update (create, update, any non-apply patch) by `manager`: it takes ownership of
 *  every field it added or changed, from whoever held them, and removed fields leave every set.
 *  Returns `newObject` with its managedFields maintained. */
export function updateManagedFields(oldObject: KubeObject | null, newObject: KubeObject, options: UpdateOptions): KubeObject {
  const oldEntries = oldObject?.metadata?.managedFields;
  const sentEntries = newObject.metadata?.managedFields;
  let base = oldEntries;
  if (Array.isArray(sentEntries) && sentEntries.length > 0 && !deepEqual(sentEntries, oldEntries)) {
    // A client may reset ownership; `[{}]` is Kubernetes' documented way to clear it.
    if (sentEntries.every((entry) => isPlainObject(entry) && Object.keys(entry).length === 0)) {
      return withManagedFields(newObject, []);
    }
    base = sentEntries;
  }
  const comparison = compareObjects(oldObject ?? { metadata: {} }, newObject, options.schema);
  const taken = comparison.modified.union(comparison.added);

  const lost = taken.union(comparison.removed);
  if (lost.isEmpty() && base === oldEntries) {
    // Nothing owned changed: ownership stays exactly as it was.
    return withManagedFields(newObject, oldEntries ?? []);
  }
  const managers = decodeManagedFields(base);
  const identity = managerIdentity(options.manager, 'Update', options.apiVersion, options.subresource);
  for (const [other, state] of managers) {
    if (other !== identity) removeManagerFields(state, lost);
  }
  const updater = managers.get(identity);
  if (updater) {
    setManagerFields(updater, updater.set.union(taken).difference(comparison.removed));
    if (!taken.isEmpty() || !comparison.removed.isEmpty()) updater.changed = true;
  } else if (!taken.isEmpty()) {
    managers.set(identity, {
      manager: options.manager,
      operation: 'Update',
      apiVersion: options.apiVersion,
      set: taken,
      changed: true,
      ...(options.subresource ? { subresource: options.subresource } : {}),
    });
  }
  // Only metadata is rebuilt; the rest of the result shares newObject's values (neither is mutated).
  return withManagedFields(newObject, encodeManagedFields(managers, options.now));
}

/** The manager name `kubectl apply --server-side` uses; only it inherits client-side apply's fields. */
export const kubectlManager = 'kubectl';
export const lastAppliedConfigAnnotation = 'kubectl.kubernetes.io/last-applied-configuration';

/** Fields of the last-applied annotation whose values the live object still has. */
function fieldsFromLastApplied(live: KubeObject, options: ApplyOptions): FieldSet {
  const text = live.metadata?.annotations?.[lastAppliedConfigAnnotation];
  if (typeof text !== 'string' || text === '') return new FieldSet();
  let lastApplied: unknown;
  try {
    lastApplied = JSON.parse(text);
  } catch {
    return new FieldSet();
  }
  if (!isPlainObject(lastApplied) || lastApplied.apiVersion !== options.apiVersion) return new FieldSet();
  const differences = compareObjects(lastApplied, live, options.schema);
  return fieldSetOf(lastApplied, options.schema)
    .difference(differences.modified)
    .difference(differences.added)
    .difference(differences.removed);
}

/** A list-map item's key fields are its identity: they go only with the item itself. */
function isKeyFieldOfKeptItem(path: FieldPath): boolean {
  const item = path[path.length - 2];
  const last = path[path.length - 1]!;
  if (!item?.startsWith('k:') || !last.startsWith('f:')) return false;
  const keys = JSON.parse(item.slice(2)) as Record<string, unknown>;
  return Object.prototype.hasOwnProperty.call(keys, last.slice(2));
}

function describeManager(conflict: FieldManagerConflict): string {
  let text = JSON.stringify(conflict.manager);
  if (conflict.subresource) text += ` with subresource ${JSON.stringify(conflict.subresource)}`;
  if (conflict.operation === 'Update') text += ` using ${conflict.apiVersion}`;
  return text;
}

/** The 409 message, word for word as Kubernetes writes it. */
export function conflictMessage(conflicts: FieldManagerConflict[]): string {
  if (conflicts.length === 1) {
    const [conflict] = conflicts;
    return `Apply failed with 1 conflict: conflict with ${describeManager(conflict!)}: ${conflict!.field}`;
  }
  const byManager = new Map<string, string[]>();
  for (const conflict of conflicts) {
    const manager = describeManager(conflict);
    byManager.set(manager, [...(byManager.get(manager) ?? []), conflict.field]);
  }
  const lines: string[] = [];
  for (const manager of [...byManager.keys()].sort()) {
    lines.push(`conflicts with ${manager}:`);
    for (const field of byManager.get(manager)!) lines.push(`- ${field}`);
  }
  return `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
}

/** Status.details.causes for the 409, one per conflicting field. */
export function conflictCauses(conflicts: FieldManagerConflict[]): { reason: 'FieldManagerConflict'; message: string; field: string }[] {
  return conflicts.map((conflict) => ({
    reason: 'FieldManagerConflict',
    message: `conflict with ${describeManager(conflict)}`,
    field: conflict.field,
  }));
}
