// Strategic merge patch (application/strategic-merge-patch+json), the server side only: the
// API server applies patches that kubectl and controllers computed. Lists merge by the schema's
// `x-kubernetes-patch-merge-key` when the patch strategy says "merge" and are replaced otherwise;
// the `$patch`, `$retainKeys`, `$setElementOrder/…` and `$deleteFromPrimitiveList/…` directives
// follow Kubernetes' documented semantics.
import type { SchemaNode } from '../../api/types.js';
import { PatchError, patchNotApplicable } from './errors.js';
import { deepClone, deepEqual, isPlainObject, type JsonObject } from './json.js';
import { fieldSchema, patchStrategies } from './schema.js';

const patchDirective = '$patch';
const retainKeysDirective = '$retainKeys';
const setElementOrderPrefix = '$setElementOrder/';
const deleteFromPrimitiveListPrefix = '$deleteFromPrimitiveList/';

/** Applies `patch` to a copy of `original`. `schema` describes the object root; without it every
 *  map merges and every list is replaced (plain JSON merge semantics plus directives). */
export function applyStrategicMergePatch(original: unknown, patch: unknown, schema?: SchemaNode): JsonObject {
  if (!isPlainObject(patch)) {
    throw new PatchError('json: cannot unmarshal into Go value of type map[string]interface {}', 400);
  }
  const base = isPlainObject(original) ? deepClone(original) : {};
  return mergeMap(base, patch, schema, true);
}

function mergeMap(original: JsonObject, patch: JsonObject, schema: SchemaNode | undefined, atRoot = false): JsonObject {
  const directive = patch[patchDirective];
  if (directive !== undefined) {
    if (directive === 'replace') return stripDirectives(withoutKey(patch, patchDirective), schema, atRoot) as JsonObject;
    if (directive === 'delete') return {};
    if (directive !== 'merge') {
      // Kubernetes returns this one as a plain error, which the API server answers with 500.
      throw new PatchError(`unknown patch type: ${String(directive)} in map: ${formatGoMap(patch)}`, 500);
    }
  }

  const retainKeys = patch[retainKeysDirective];
  if (retainKeys !== undefined) {
    if (!Array.isArray(retainKeys) || retainKeys.some((k) => typeof k !== 'string')) {
      throw new PatchError('invalid patch format of retainKeys', 400);
    }
    for (const key of Object.keys(patch)) {
      if (!key.startsWith('$') && patch[key] !== null && !retainKeys.includes(key)) {
        throw patchNotApplicable("patch content doesn't match retainKeys list");
      }
    }
    for (const key of Object.keys(original)) {
      if (!retainKeys.includes(key)) delete original[key];
    }
  }

  const elementOrders = new Map<string, unknown[]>();
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith(deleteFromPrimitiveListPrefix)) {
      const field = key.slice(deleteFromPrimitiveListPrefix.length);
      if (!Array.isArray(value)) throw new PatchError('invalid patch format of primitive list', 400);
      const current = original[field];
      if (Array.isArray(current)) {
        original[field] = current.filter((item) => !value.some((doomed) => deepEqual(doomed, item)));
      }
    } else if (key.startsWith(setElementOrderPrefix)) {
      if (!Array.isArray(value)) throw new PatchError('invalid patch format of setElementOrder list', 400);
      elementOrders.set(key.slice(setElementOrderPrefix.length), value);
    }
  }

  // The order the server had is the reference for items a `$setElementOrder` does not name.
  const listsBefore = new Map<string, unknown[]>();
  for (const field of elementOrders.keys()) {
    const current = original[field];
    if (Array.isArray(current)) listsBefore.set(field, current);
  }

  for (const [key, patchValue] of Object.entries(patch)) {
    if (key === patchDirective || key === retainKeysDirective) continue;
    if (key.startsWith(setElementOrderPrefix) || key.startsWith(deleteFromPrimitiveListPrefix)) continue;
    if (patchValue === null) {
      delete original[key];
      continue;
    }
    const childSchema = fieldSchema(schema, key, atRoot);
    original[key] = mergeValue(original[key], patchValue, childSchema);
  }

  for (const [field, order] of elementOrders) {
    const current = original[field];
    if (!Array.isArray(current)) continue;
    const childSchema = fieldSchema(schema, field, atRoot);
    original[field] = applyElementOrder(current, listsBefore.get(field) ?? [], order, childSchema?.['x-kubernetes-patch-merge-key']);
  }
  return original;
}

function mergeValue(original: unknown, patchValue: unknown, schema: SchemaNode | undefined): unknown {
  const strategies = patchStrategies(schema);
  if (isPlainObject(patchValue)) {
    if (strategies.includes('replace')) return stripDirectives(patchValue, schema);
    const base = isPlainObject(original) ? original : {};
    return mergeMap(base, patchValue, schema);
  }
  if (Array.isArray(patchValue)) {
    if (strategies.includes('merge')) return mergeList(Array.isArray(original) ? original : [], patchValue, schema);
    return stripDirectives(patchValue, schema);
  }
  return patchValue;
}

function mergeList(original: unknown[], patch: unknown[], schema: SchemaNode | undefined): unknown[] {
  const itemSchema = schema?.items;
  if (patch.some(Array.isArray)) throw patchNotApplicable('lists of lists are not supported');
  const mergeKey = schema?.['x-kubernetes-patch-merge-key'];
  const isPrimitiveList = patch.every((item) => !isPlainObject(item)) && original.every((item) => !isPlainObject(item));
  if (isPrimitiveList) {
    const merged: unknown[] = [];
    for (const item of [...original, ...patch]) if (!merged.some((existing) => deepEqual(existing, item))) merged.push(item);
    return applyElementOrder(merged, original, patch, undefined);
  }
  if (!mergeKey) return stripDirectives(patch, schema) as unknown[];

  // Directive items first, as Kubernetes does: deletions, then `$patch: replace` for the whole list.
  let base = [...original];
  const items: JsonObject[] = [];
  let replace = false;
  for (const item of patch) {
    if (!isPlainObject(item)) throw new PatchError(`expected a map in a list with merge key ${mergeKey}, got ${JSON.stringify(item)}`, 500);
    const directive = item[patchDirective];
    if (directive === undefined) {
      items.push(item);
      continue;
    }
    if (directive === 'delete') {
      if (item[mergeKey] === undefined) throw new PatchError(`map: ${formatGoMap(item)} does not contain declared merge key: ${mergeKey}`, 500);
      base = base.filter((existing) => !(isPlainObject(existing) && deepEqual(existing[mergeKey], item[mergeKey])));
    } else if (directive === 'replace') {
      replace = true;
    } else if (directive === 'merge') {
      throw new PatchError('merging lists cannot yet be specified in the patch', 500);
    } else {
      throw new PatchError(`unknown patch type: ${String(directive)} in map: ${formatGoMap(item)}`, 500);
    }
  }
  if (replace) return stripDirectives(items, schema) as unknown[];

  const merged = [...base];
  for (const item of items) {
    const key = item[mergeKey];
    if (key === undefined) throw new PatchError(`map: ${formatGoMap(item)} does not contain declared merge key: ${mergeKey}`, 500);
    const index = merged.findIndex((existing) => isPlainObject(existing) && deepEqual(existing[mergeKey], key));
    if (index >= 0) merged[index] = mergeMap(merged[index] as JsonObject, item, itemSchema);
    else merged.push(mergeMap({}, item, itemSchema));
  }
  // The patch's own order counts too: its items keep their relative order, as with $setElementOrder.
  return applyElementOrder(merged, base, items, mergeKey);
}

/** Items named in `order` (a `$setElementOrder` list, or the patch list itself) take that relative
 *  order; the others keep their relative order and are placed by where they were in `listBefore`. */
function applyElementOrder(list: unknown[], listBefore: unknown[], order: unknown[], mergeKey: string | undefined): unknown[] {
  const keyOf = (item: unknown): unknown => (mergeKey && isPlainObject(item) ? item[mergeKey] : item);
  const positionIn = (keys: unknown[], item: unknown): number => {
    const key = keyOf(item);
    return keys.findIndex((k) => deepEqual(k, key));
  };
  const orderKeys = order.map(keyOf);
  const serverKeys = listBefore.map(keyOf);
  const ordered = list.filter((item) => positionIn(orderKeys, item) >= 0)
    .sort((a, b) => positionIn(orderKeys, a) - positionIn(orderKeys, b));
  const serverOnly = list.filter((item) => positionIn(orderKeys, item) < 0);

  const result: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < serverOnly.length || j < ordered.length) {
    if (j >= ordered.length) result.push(serverOnly[i++]);
    else if (i >= serverOnly.length) result.push(ordered[j++]);
    else {
      const serverIndex = positionIn(serverKeys, serverOnly[i]);
      const orderedIndex = positionIn(serverKeys, ordered[j]);
      // A server-only item goes first only when both were in the list before and it came first.
      if (serverIndex >= 0 && orderedIndex >= 0 && serverIndex < orderedIndex) result.push(serverOnly[i++]);
      else result.push(ordered[j++]);
    }
  }
  return result;
}

/** A patch value that lands where nothing existed still must not leak directives into the object. */
function stripDirectives(value: unknown, schema: SchemaNode | undefined, atRoot = false): unknown {
  if (Array.isArray(value)) {
    return value
      .filter((item) => !(isPlainObject(item) && (item[patchDirective] === 'delete' || item[patchDirective] === 'replace')))
      .map((item) => stripDirectives(item, schema?.items));
  }
  if (!isPlainObject(value)) return deepClone(value);
  const result: JsonObject = {};
  for (const [key, child] of Object.entries(value)) {
    if (key.startsWith('$')) continue;
    if (child === null) continue;
    result[key] = stripDirectives(child, fieldSchema(schema, key, atRoot));
  }
  return result;
}

function withoutKey(object: JsonObject, key: string): JsonObject {
  const { [key]: _removed, ...rest } = object;
  return rest;
}

/** Kubernetes prints the offending item as a Go map in this message; `map[name:x]` reads the same. */
function formatGoMap(object: JsonObject): string {
  const entries = Object.keys(object).sort().map((key) => `${key}:${typeof object[key] === 'object' ? JSON.stringify(object[key]) : String(object[key])}`);
  return `map[${entries.join(' ')}]`;
}
