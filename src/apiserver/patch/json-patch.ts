// RFC 6902 JSON Patch (application/json-patch+json), as the Kubernetes API server applies it:
// the operations run in order against a copy, and the first failure rejects the whole patch.
// Messages follow the Go json-patch library the API server uses, because clients print them.
import { PatchError, patchNotApplicable } from './errors.js';
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
    throw new PatchError(`The allowed maximum operations in a JSON patch is ${maxJsonPatchOperations}, got ${ops.length}`, 413);
  }
  for (const op of ops) {
    if (!isPlainObject(op)) throw new PatchError('json: cannot unmarshal array into Go value of type jsonpatch.Operation', 400);
    const kind = op.op;
    if (!['add', 'remove', 'replace', 'move', 'copy', 'test'].includes(kind as string)) {
      throw patchNotApplicable(`Unexpected kind: ${String(kind ?? 'unknown')}`);
    }
    if (typeof op.path !== 'string') throw patchNotApplicable(`${kind} operation failed to decode path: missing value`);
    if ((kind === 'move' || kind === 'copy') && typeof op.from !== 'string') {
      throw patchNotApplicable(`${kind} operation failed to decode from: missing value`);
    }
    if ((kind === 'add' || kind === 'replace' || kind === 'test') && !('value' in op)) {
      throw patchNotApplicable(`${kind} operation does not apply: missing value`);
    }
  }
  return ops as JsonPatchOperation[];
}

/** Splits an RFC 6901 pointer into unescaped reference tokens ("" is the whole document). */
export function parseJsonPointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw patchNotApplicable(`JSON pointer must be empty or start with a "/": ${pointer}`);
  return pointer.slice(1).split('/').map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'));
}

type Container = Record<string, unknown> | unknown[];

function isIndexToken(token: string): boolean {
  return /^(0|[1-9][0-9]*)$/.test(token);
}

/** Resolves every token but the last; undefined when an intermediate value is missing, which the
 *  Go library reports as "doc is missing path". */
function findParent(doc: unknown, tokens: string[]): Container | undefined {
  let current: unknown = doc;
  for (const token of tokens.slice(0, -1)) {
    if (Array.isArray(current)) {
      if (!isIndexToken(token) || Number(token) >= current.length) return undefined;
      current = current[Number(token)];
    } else if (isPlainObject(current)) {
      if (!Object.prototype.hasOwnProperty.call(current, token)) return undefined;
      current = current[token];
    } else {
      return undefined;
    }
  }
  return Array.isArray(current) || isPlainObject(current) ? current : undefined;
}

/** An index into `list` for an operation on `path`; `limit` is the largest index allowed. */
function arrayIndex(token: string, limit: number, opName: string, path: string): number {
  if (!isIndexToken(token)) {
    throw patchNotApplicable(`error in ${opName} for path: '${path}': strconv.Atoi: parsing ${JSON.stringify(token)}: invalid syntax`);
  }
  const index = Number(token);
  if (index > limit) {
    throw patchNotApplicable(`error in ${opName} for path: '${path}': Unable to access invalid index: ${index}: invalid index referenced`);
  }
  return index;
}

function getValue(doc: unknown, tokens: string[]): { found: boolean; value?: unknown } {
  if (tokens.length === 0) return { found: true, value: doc };
  const parent = findParent(doc, tokens);
  if (parent === undefined) return { found: false };
  const last = tokens[tokens.length - 1]!;
  if (Array.isArray(parent)) {
    if (!isIndexToken(last) || Number(last) >= parent.length) return { found: false };
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
    throw patchNotApplicable(`${opName} operation does not apply: doc is missing path: "${path}": missing value`);
  }
  const last = tokens[tokens.length - 1]!;
  if (Array.isArray(parent)) {
    if (last === '-') parent.push(value);
    else parent.splice(arrayIndex(last, parent.length, 'add', path), 0, value);
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
    throw patchNotApplicable(`${opName} operation does not apply: doc is missing path: "${path}": missing value`);
  }
  const last = tokens[tokens.length - 1]!;
  if (Array.isArray(parent)) {
    parent.splice(arrayIndex(last, parent.length - 1, opName, path), 1);
  } else {
    if (!Object.prototype.hasOwnProperty.call(parent, last)) {
      throw patchNotApplicable(`error in ${opName} for path: '${path}': Unable to remove nonexistent key: ${last}: missing value`);
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
        throw patchNotApplicable(`replace operation does not apply: doc is missing path: ${op.path}: missing value`);
      }
      const last = tokens[tokens.length - 1]!;
      if (Array.isArray(parent)) {
        if (!isIndexToken(last) || Number(last) >= parent.length) {
          throw patchNotApplicable(`replace operation does not apply: doc is missing key: ${op.path}: missing value`);
        }
        parent[Number(last)] = deepClone(op.value);
      } else {
        if (!Object.prototype.hasOwnProperty.call(parent, last)) {
          throw patchNotApplicable(`replace operation does not apply: doc is missing key: ${op.path}: missing value`);
        }
        parent[last] = deepClone(op.value);
      }
      return doc;
    }
    case 'move': {
      const from = op.from!;
      if (op.path !== from && op.path.startsWith(from + '/')) {
        throw patchNotApplicable(`move operation does not apply: cannot move ${from} into its own child ${op.path}`);
      }
      const source = getValue(doc, parseJsonPointer(from));
      if (!source.found) throw patchNotApplicable(`move operation does not apply: doc is missing from path: ${from}: missing value`);
      const withoutSource = removeValue(doc, from, 'move');
      return addValue(withoutSource, op.path, source.value, 'move');
    }
    case 'copy': {
      const from = op.from!;
      const source = getValue(doc, parseJsonPointer(from));
      if (!source.found) throw patchNotApplicable(`copy operation does not apply: doc is missing from path: ${from}: missing value`);
      return addValue(doc, op.path, deepClone(source.value), 'copy');
    }
    case 'test': {
      const tokens = parseJsonPointer(op.path);
      if (tokens.length > 0 && findParent(doc, tokens) === undefined) {
        throw patchNotApplicable(`test operation does not apply: is missing path: ${op.path}: missing value`);
      }
      const target = getValue(doc, tokens);
      // A missing value tests equal to null, as in the Go library Kubernetes uses.
      const actual = target.found ? target.value : null;
      if (!deepEqual(actual, op.value)) throw patchNotApplicable(`testing value ${op.path} failed: test failed`);
      return doc;
    }
  }
}
