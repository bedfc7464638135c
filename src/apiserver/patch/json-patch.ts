// RFC 6902 JSON Patch (application/json-patch+json), as the Kubernetes API server applies it:
// the operations run in order against a copy, and the first failure rejects the whole patch.
// Messages follow the Go json-patch library the API server uses, because clients print them.
import { PatchError } from './errors.js';
import { deepClone, deepEqual, isPlainObject } from './json.js';

export interface JsonPatchOperation {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  value?: unknown;
  from?: string;
}

/** Kubernetes refuses larger patches before applying anything. */
export const maxJsonPatchOperations = 10000;

/** Applies `ops` to a copy of `doc`; `doc` itself is never changed. Throws PatchError: 400 when the
 *  patch itself is malformed, 422 when it does not apply to this document. */
export function applyJsonPatch(doc: unknown, ops: unknown): unknown {
  const operations = validateOperations(ops);
  let result = deepClone(doc);
  for (const op of operations) result = applyOperation(result, op);
  return result;
}

function validateOperations(ops: unknown): JsonPatchOperation[] {
  if (!Array.isArray(ops)) {
    throw new PatchError('json: cannot unmarshal object into Go value of type jsonpatch.Patch', 400);
  }
  if (ops.length > maxJsonPatchOperations) {
    throw new PatchError(`The allowed maximum operations in a JSON patch is ${maxJsonPatchOperations}, got ${ops.length}`, 422);
  }
  for (const op of ops) {
    if (!isPlainObject(op)) throw new PatchError('json: cannot unmarshal into Go value of type jsonpatch.Operation', 400);
    const kind = op.op;
    if (!['add', 'remove', 'replace', 'move', 'copy', 'test'].includes(kind as string)) {
      throw new PatchError(`Unexpected kind: ${String(kind ?? 'unknown')}`, 422);
    }
    if (typeof op.path !== 'string') throw new PatchError(`operation missing path: ${kind}`, 422);
    if ((kind === 'move' || kind === 'copy') && typeof op.from !== 'string') {
      throw new PatchError(`operation missing from: ${kind}`, 422);
    }
    if ((kind === 'add' || kind === 'replace' || kind === 'test') && !('value' in op)) {
      throw new PatchError(`${kind} operation does not apply: missing value`, 422);
    }
  }
  return ops as JsonPatchOperation[];
}

/** Splits an RFC 6901 pointer into unescaped reference tokens ("" is the whole document). */
export function parseJsonPointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new PatchError(`JSON pointer must be empty or start with a "/": ${pointer}`, 422);
  return pointer.slice(1).split('/').map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'));
}

type Container = Record<string, unknown> | unknown[];

/** Resolves every token but the last; returns undefined when an intermediate value is missing. */
function findParent(doc: unknown, tokens: string[]): Container | undefined {
  let current: unknown = doc;
  for (const token of tokens.slice(0, -1)) {
    if (Array.isArray(current)) {
      const index = arrayIndex(token, current.length - 1);
      current = current[index];
    } else if (isPlainObject(current)) {
      if (!Object.prototype.hasOwnProperty.call(current, token)) return undefined;
      current = current[token];
    } else {
      return undefined;
    }
  }
  return Array.isArray(current) || isPlainObject(current) ? current : undefined;
}

function arrayIndex(token: string, max: number): number {
  if (!/^(0|[1-9][0-9]*)$/.test(token)) {
    throw new PatchError(`strconv.Atoi: parsing ${JSON.stringify(token)}: invalid syntax`, 422);
  }
  const index = Number(token);
  if (index > max) throw new PatchError(`Unable to access invalid index: ${index}: invalid index referenced`, 422);
  return index;
}

function getValue(doc: unknown, tokens: string[]): { found: boolean; value?: unknown } {
  if (tokens.length === 0) return { found: true, value: doc };
  const parent = findParent(doc, tokens);
  if (parent === undefined) return { found: false };
  const last = tokens[tokens.length - 1]!;
  if (Array.isArray(parent)) {
    if (!/^(0|[1-9][0-9]*)$/.test(last) || Number(last) >= parent.length) return { found: false };
    return { found: true, value: parent[Number(last)] };
  }
  if (!Object.prototype.hasOwnProperty.call(parent, last)) return { found: false };
  return { found: true, value: parent[last] };
}

function addValue(doc: unknown, path: string, value: unknown, opName: string): unknown {
  const tokens = parseJsonPointer(path);
  if (tokens.length === 0) return value;
  const parent = findParent(doc, tokens);
  if (parent === undefined) {
    throw new PatchError(`${opName} operation does not apply: doc is missing path: "${path}": missing value`);
  }
  const last = tokens[tokens.length - 1]!;
  if (Array.isArray(parent)) {
    if (last === '-') parent.push(value);
    else parent.splice(arrayIndex(last, parent.length), 0, value);
  } else {
    parent[last] = value;
  }
  return doc;
}

function removeValue(doc: unknown, path: string, opName: string): unknown {
  const tokens = parseJsonPointer(path);
  if (tokens.length === 0) return null;
  const parent = findParent(doc, tokens);
  if (parent === undefined) {
    throw new PatchError(`${opName} operation does not apply: doc is missing path: "${path}": missing value`);
  }
  const last = tokens[tokens.length - 1]!;
  if (Array.isArray(parent)) {
    parent.splice(arrayIndex(last, parent.length - 1), 1);
  } else {
    if (!Object.prototype.hasOwnProperty.call(parent, last)) {
      throw new PatchError(`Unable to remove nonexistent key: ${last}: missing value`);
    }
    delete parent[last];
  }
  return doc;
}

function applyOperation(doc: unknown, op: JsonPatchOperation): unknown {
  switch (op.op) {
    case 'add':
      return addValue(doc, op.path, deepClone(op.value), 'add');
    case 'remove':
      return removeValue(doc, op.path, 'remove');
    case 'replace': {
      const tokens = parseJsonPointer(op.path);
      if (tokens.length === 0) return deepClone(op.value);
      const parent = findParent(doc, tokens);
      if (parent === undefined) {
        throw new PatchError(`replace operation does not apply: doc is missing path: ${op.path}: missing value`);
      }
      const last = tokens[tokens.length - 1]!;
      if (Array.isArray(parent)) {
        parent[arrayIndex(last, parent.length - 1)] = deepClone(op.value);
      } else {
        if (!Object.prototype.hasOwnProperty.call(parent, last)) {
          throw new PatchError(`replace operation does not apply: doc is missing key: ${op.path}: missing value`);
        }
        parent[last] = deepClone(op.value);
      }
      return doc;
    }
    case 'move': {
      const from = op.from!;
      if (op.path !== from && op.path.startsWith(from + '/')) {
        throw new PatchError(`move operation does not apply: cannot move ${from} into its own child ${op.path}`);
      }
      const source = getValue(doc, parseJsonPointer(from));
      if (!source.found) throw new PatchError(`move operation does not apply: doc is missing from path: ${from}: missing value`);
      const withoutSource = removeValue(doc, from, 'move');
      return addValue(withoutSource, op.path, source.value, 'move');
    }
    case 'copy': {
      const from = op.from!;
      const source = getValue(doc, parseJsonPointer(from));
      if (!source.found) throw new PatchError(`copy operation does not apply: doc is missing from path: ${from}: missing value`);
      return addValue(doc, op.path, deepClone(source.value), 'copy');
    }
    case 'test': {
      const target = getValue(doc, parseJsonPointer(op.path));
      // A missing value tests equal to null, as in the Go library Kubernetes uses.
      const actual = target.found ? target.value : null;
      if (!deepEqual(actual, op.value)) throw new PatchError(`testing value ${op.path} failed: test failed`);
      return doc;
    }
  }
}
