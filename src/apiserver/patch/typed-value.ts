// Walking an object together with its schema the way server-side apply sees it: which paths it
// sets (its field set), how two objects differ, how an applied configuration merges into a live
// object, and how an owned path is removed again.
import type { SchemaNode } from '../../api/types.js';
import { deepClone, deepEqual, isPlainObject, type JsonObject } from './json.js';
import { FieldSet, fieldElement, keyElement, valueElement, type FieldPath, type PathElement } from './field-set.js';
import { fieldSchema, isAtomicMap, listType } from './schema.js';

/** Fields the API server sets itself; Kubernetes never records ownership of them. */
const unownedRootFields = new Set(['apiVersion', 'kind']);
const unownedMetadataFields = new Set([
  'name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'managedFields', 'selfLink',
]);

interface FieldEntry {
  path: FieldPath;
  /** The leaf's value; `listItem` for a list item, whose content is compared through its own fields. */
  value: unknown;
  listItem: boolean;
}

type FieldVisitor = (path: FieldPath, value: unknown, listItem: boolean) => void;

type Shape =
  | { kind: 'leaf' }
  | { kind: 'granular'; keys: string[] }
  | { kind: 'list'; elements: PathElement[] };

/** How server-side apply sees one value: a leaf (scalar, atomic or empty), a granular map, or a
 *  list whose items are named (list-map keys or set values). */
function shapeOf(value: unknown, node: SchemaNode | undefined, path: FieldPath, depth: number): Shape {
  if (isPlainObject(value) && !isAtomicMap(node)) {
    // An empty map is owned as a whole (`emptyDir: {}`); a map emptied only by dropping
    // server-owned fields (metadata with just a name) is not a leaf, just empty.
    if (Object.keys(value).length === 0 && depth > 0) return { kind: 'leaf' };
    return { kind: 'granular', keys: Object.keys(value).filter((key) => value[key] !== null && !isUnowned(path, depth, key)) };
  }
  if (Array.isArray(value)) {
    const type = listType(node);
    if (type.kind === 'atomic' || value.length === 0) return { kind: 'leaf' };
    const elements: PathElement[] = [];
    for (const item of value) {
      const element = itemElement(item, type, node?.items);
      // An item the list type cannot name makes the list atomic rather than losing it.
      if (element === undefined) return { kind: 'leaf' };
      elements.push(element);
    }
    return { kind: 'list', elements };
  }
  return { kind: 'leaf' };
}

function visitFields(value: unknown, node: SchemaNode | undefined, path: FieldPath, depth: number, visit: FieldVisitor): void {
  const shape = shapeOf(value, node, path, depth);
  if (shape.kind === 'leaf') {
    if (depth > 0) visit(path, value, false);
  } else if (shape.kind === 'granular') {
    const object = value as JsonObject;
    for (const key of shape.keys) visitFields(object[key], fieldSchema(node, key, depth === 0), [...path, fieldElement(key)], depth + 1, visit);
  } else {
    const list = value as unknown[];
    const isMap = listType(node).kind === 'map';
    shape.elements.forEach((element, i) => {
      const itemPath = [...path, element];
      visit(itemPath, undefined, true);
      if (isMap) visitFields(list[i], node?.items, itemPath, depth + 1, visit);
    });
  }
}

/** Every owned path of `object` with its value, keyed by the joined path. */
export function collectFields(object: unknown, schema: SchemaNode | undefined): Map<string, FieldEntry> {
  const fields = new Map<string, FieldEntry>();
  visitFields(object, schema, [], 0, (path, value, listItem) => fields.set(path.join('\u0000'), { path, value, listItem }));
  return fields;
}

function isUnowned(path: FieldPath, depth: number, key: string): boolean {
  if (depth === 0) return unownedRootFields.has(key);
  return depth === 1 && path[0] === 'f:metadata' && unownedMetadataFields.has(key);
}

function itemElement(item: unknown, type: ReturnType<typeof listType>, itemSchema: SchemaNode | undefined): PathElement | undefined {
  if (type.kind === 'set') return isPlainObject(item) || Array.isArray(item) ? undefined : valueElement(item);
  if (type.kind === 'map') {
    if (!isPlainObject(item)) return undefined;
    const keys: Record<string, unknown> = {};
    for (const name of type.keys) {
      // A key the configuration leaves to its default (a port's protocol) names the same item
      // as the defaulted live one, as in Kubernetes.
      const value = item[name] ?? itemSchema?.properties?.[name]?.default;
      if (value !== undefined && value !== null) keys[name] = value;
    }
    return Object.keys(keys).length > 0 ? keyElement(keys) : undefined;
  }
  return undefined;
}

export function fieldSetOf(object: unknown, schema: SchemaNode | undefined): FieldSet {
  const set = new FieldSet();
  visitFields(object, schema, [], 0, (path) => set.insert(path));
  return set;
}

export interface Comparison {
  added: FieldSet;
  modified: FieldSet;
  removed: FieldSet;
}

/** What changed between two versions of an object, in owned paths. Walks both together and skips
 *  subtrees that are the same value by reference, so a write that shares unchanged parts is cheap. */
export function compareObjects(before: unknown, after: unknown, schema: SchemaNode | undefined): Comparison {
  const result: Comparison = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
  const addAll = (target: FieldSet, value: unknown, node: SchemaNode | undefined, path: FieldPath, depth: number) =>
    visitFields(value, node, path, depth, (fieldPath) => target.insert(fieldPath));

  const walk = (a: unknown, b: unknown, node: SchemaNode | undefined, path: FieldPath, depth: number): void => {
    if (a === b) return;
    const aShape = shapeOf(a, node, path, depth);
    const bShape = shapeOf(b, node, path, depth);
    if (aShape.kind === 'leaf' && bShape.kind === 'leaf') {
      if (depth > 0 && !deepEqual(a, b)) result.modified.insert(path);
      return;
    }
    if (aShape.kind === 'granular' && bShape.kind === 'granular') {
      const aObject = a as JsonObject;
      const bObject = b as JsonObject;
      const bKeys = new Set(bShape.keys);
      for (const key of aShape.keys) {
        const childPath = [...path, fieldElement(key)];
        const childNode = fieldSchema(node, key, depth === 0);
        if (bKeys.has(key)) walk(aObject[key], bObject[key], childNode, childPath, depth + 1);
        else addAll(result.removed, aObject[key], childNode, childPath, depth + 1);
      }
      const aKeys = new Set(aShape.keys);
      for (const key of bShape.keys) {
        if (!aKeys.has(key)) addAll(result.added, bObject[key], fieldSchema(node, key, depth === 0), [...path, fieldElement(key)], depth + 1);
      }
      return;
    }
    if (aShape.kind === 'list' && bShape.kind === 'list') {
      const isMap = listType(node).kind === 'map';
      const aItems = new Map<PathElement, unknown>();
      aShape.elements.forEach((element, i) => { if (!aItems.has(element)) aItems.set(element, (a as unknown[])[i]); });
      const bItems = new Map<PathElement, unknown>();
      bShape.elements.forEach((element, i) => { if (!bItems.has(element)) bItems.set(element, (b as unknown[])[i]); });
      for (const [element, item] of aItems) {
        const itemPath = [...path, element];
        if (bItems.has(element)) {
          if (isMap) walk(item, bItems.get(element), node?.items, itemPath, depth + 1);
        } else {
          result.removed.insert(itemPath);
          if (isMap) addAll(result.removed, item, node?.items, itemPath, depth + 1);
        }
      }
      for (const [element, item] of bItems) {
        if (aItems.has(element)) continue;
        const itemPath = [...path, element];
        result.added.insert(itemPath);
        if (isMap) addAll(result.added, item, node?.items, itemPath, depth + 1);
      }
      return;
    }
    // The value changed shape (a map became a list, a map emptied...): its fields went and came.
    addAll(result.removed, a, node, path, depth);
    addAll(result.added, b, node, path, depth);
  };
  walk(before, after, schema, [], 0);
  return result;
}

/** Merges an applied configuration into the live object: granular maps key by key, list-maps
 *  and sets item by item, everything else (atomic lists and maps, scalars) replaced. */
export function mergeApplied(live: unknown, applied: unknown, schema: SchemaNode | undefined, depth = 0): unknown {
  if (isPlainObject(applied) && !isAtomicMap(schema)) {
    const result: JsonObject = isPlainObject(live) ? { ...live } : {};
    for (const [key, value] of Object.entries(applied)) {
      // An explicit null in an apply configuration means "not set", as in Kubernetes.
      if (value === null) continue;
      result[key] = mergeApplied(result[key], value, fieldSchema(schema, key, depth === 0), depth + 1);
    }
    return result;
  }
  if (Array.isArray(applied) && Array.isArray(live)) {
    const type = listType(schema);
    if (type.kind !== 'atomic') {
      const liveElements = live.map((item) => itemElement(item, type, schema?.items));
      const appliedElements = applied.map((item) => itemElement(item, type, schema?.items));
      if (![...liveElements, ...appliedElements].includes(undefined)) {
        return mergeListItems(live, liveElements as string[], applied, appliedElements as string[], (before, after) =>
          type.kind === 'map' ? mergeApplied(before, after, schema?.items, depth + 1) : deepClone(after));
      }
    }
  }
  return deepClone(applied);
}

/** Interleaves two keyed lists: items both have follow the applied order, items only the live
 *  list has stay where they were relative to their neighbours, new items land where applied. */
function mergeListItems(
  live: unknown[], liveKeys: string[], applied: unknown[], appliedKeys: string[],
  mergeItem: (before: unknown, after: unknown) => unknown,
): unknown[] {
  const liveByKey = new Map<string, unknown>();
  liveKeys.forEach((key, i) => { if (!liveByKey.has(key)) liveByKey.set(key, live[i]); });
  const appliedSet = new Set(appliedKeys);
  const shared = appliedKeys.filter((key) => liveByKey.has(key));
  let nextShared = 0;
  const emitted = new Set<string>();
  const result: unknown[] = [];
  const takeApplied = (index: number) => {
    const key = appliedKeys[index]!;
    if (emitted.has(key)) return;
    emitted.add(key);
    result.push(liveByKey.has(key) ? mergeItem(liveByKey.get(key), applied[index]) : deepClone(applied[index]));
    if (shared[nextShared] === key) nextShared++;
  };
  let l = 0;
  let r = 0;
  while (l < live.length || r < applied.length) {
    if (l < live.length) {
      const key = liveKeys[l]!;
      if (!appliedSet.has(key)) {
        result.push(live[l]);
        l++;
        continue;
      }
      if (emitted.has(key)) {
        l++;
        continue;
      }
      if (r < applied.length && appliedKeys[r] === key) {
        takeApplied(r);
        l++;
        r++;
        continue;
      }
      if (shared[nextShared] !== key) {
        // Shared, but the applied order puts another shared item first: it comes later.
        l++;
        continue;
      }
    }
    if (r < applied.length) takeApplied(r++);
    else l++;
  }
  return result;
}

/** Removes the value at `path` from `object` in place; a missing path is not an error. Maps and
 *  lists emptied by the removal go too, as Kubernetes prunes them (the root object stays). */
export function removePath(object: unknown, path: FieldPath): void {
  const chain: { container: JsonObject | unknown[]; at: string | number }[] = [];
  let current: unknown = object;
  for (const element of path) {
    if (element.startsWith('f:')) {
      if (!isPlainObject(current)) return;
      const name = element.slice(2);
      if (!(name in current)) return;
      chain.push({ container: current, at: name });
      current = current[name];
      continue;
    }
    if (!Array.isArray(current)) return;
    const index = findItem(current, element);
    if (index < 0) return;
    chain.push({ container: current, at: index });
    current = current[index];
  }
  for (let i = chain.length - 1; i >= 0; i--) {
    const { container, at } = chain[i]!;
    if (Array.isArray(container)) container.splice(at as number, 1);
    else delete container[at as string];
    const isEmpty = Array.isArray(container) ? container.length === 0 : Object.keys(container).length === 0;
    if (!isEmpty || i === 0) return;
  }
}

function findItem(list: unknown[], element: PathElement): number {
  const body = element.slice(2);
  if (element.startsWith('i:')) return Number(body) < list.length ? Number(body) : -1;
  if (element.startsWith('v:')) {
    const value = JSON.parse(body);
    return list.findIndex((item) => deepEqual(item, value));
  }
  if (element.startsWith('k:')) {
    const keys = JSON.parse(body) as Record<string, unknown>;
    const exact = list.findIndex((item) => isPlainObject(item) && Object.entries(keys).every(([name, value]) => deepEqual(item[name], value)));
    if (exact >= 0) return exact;
    // The key may hold a default the stored item leaves out.
    return list.findIndex((item) => isPlainObject(item) && Object.entries(keys).every(([name, value]) => item[name] === undefined || deepEqual(item[name], value)));
  }
  return -1;
}
