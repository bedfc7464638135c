// Validation of custom resources against their CRD version's structural schema, worded as
// kube-apiserver's apiextensions validation words it (kube-openapi's validator, whose errors
// apiextensions turns into field errors: "spec.replicas: Invalid value: "string": spec.replicas in
// body must be of type integer: "string"", "spec.size: Required value").
import type { FieldError, SchemaNode } from '../../api/types.js';
import { goQuote, invalid, notSupported, required, tooLong, tooMany } from '../../api/validation/field.js';
import { isPlainObject } from '../../util/json.js';

/** Validates a whole custom resource; the root's apiVersion/kind/metadata are the server's business. */
export function validateCustomResource(object: unknown, schema: SchemaNode | undefined): FieldError[] {
  if (!schema) return [];
  const errors: FieldError[] = [];
  walk(object, schema, '', errors, true);
  return errors;
}

/** Validates one value against a schema node, `path` being where it sits ("spec.replicas"). */
export function validateValue(value: unknown, schema: SchemaNode, path: string): FieldError[] {
  const errors: FieldError[] = [];
  walk(value, schema, path, errors, false);
  return errors;
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/** kube-openapi names the value's JSON type in type errors. */
function jsonTypeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  if (typeof value === 'object') return 'object';
  return typeof value;
}

function matchesType(value: unknown, type: string): boolean {
  switch (type) {
    case 'object':
      return isPlainObject(value);
    case 'array':
      return Array.isArray(value);
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'number':
      return typeof value === 'number';
    case 'boolean':
      return typeof value === 'boolean';
    default:
      return true;
  }
}

// kube-openapi errors that apiextensions reports as field.Invalid carry "<path> in body <detail>".
function bodyError(path: string, value: unknown, detail: string): FieldError {
  return invalid(path, value, `${path || '<root>'} in body ${detail}`);
}

function walk(value: unknown, schema: SchemaNode, path: string, errors: FieldError[], isRoot: boolean): void {
  const s = schema as SchemaNode & Record<string, any>;
  if (value === null) {
    if (s.nullable || (!s.type && (s['x-kubernetes-preserve-unknown-fields'] || s['x-kubernetes-int-or-string']))) return;
    if (s.type) errors.push({ type: 'FieldValueTypeInvalid', field: path, message: `Invalid value: "null": ${path} in body must be of type ${s.type}: "null"` });
    return;
  }
  if (value === undefined) return;

  if (s['x-kubernetes-int-or-string']) {
    if (!(typeof value === 'string' || (typeof value === 'number' && Number.isInteger(value)))) {
      errors.push({ type: 'FieldValueTypeInvalid', field: path, message: `Invalid value: ${goQuote(jsonTypeOf(value))}: ${path} in body must be of type integer,string: ${goQuote(jsonTypeOf(value))}` });
      return;
    }
  } else if (s.type && !matchesType(value, s.type)) {
    const actual = jsonTypeOf(value);
    errors.push({ type: 'FieldValueTypeInvalid', field: path, message: `Invalid value: ${goQuote(actual)}: ${path} in body must be of type ${s.type}: ${goQuote(actual)}` });
    return; // further checks of a mistyped value only add noise, as in kube-openapi
  }

  if (Array.isArray(s.enum) && !s.enum.some((e: unknown) => sameValue(e, value))) {
    errors.push(notSupported(path, value, s.enum.map((e: unknown) => (typeof e === 'string' ? e : JSON.stringify(e)))));
  }

  if (typeof value === 'number') {
    if (typeof s.maximum === 'number') {
      if (s.exclusiveMaximum ? value >= s.maximum : value > s.maximum) {
        errors.push(bodyError(path, value, `should be less than ${s.exclusiveMaximum ? '' : 'or equal to '}${s.maximum}`));
      }
    }
    if (typeof s.minimum === 'number') {
      if (s.exclusiveMinimum ? value <= s.minimum : value < s.minimum) {
        errors.push(bodyError(path, value, `should be greater than ${s.exclusiveMinimum ? '' : 'or equal to '}${s.minimum}`));
      }
    }
    if (typeof s.multipleOf === 'number' && s.multipleOf > 0) {
      const q = value / s.multipleOf;
      if (Math.abs(q - Math.round(q)) > 1e-9) errors.push(bodyError(path, value, `should be a multiple of ${s.multipleOf}`));
    }
  }

  if (typeof value === 'string') {
    const length = [...value].length; // characters, as Go's utf8.RuneCountInString
    if (typeof s.maxLength === 'number' && length > s.maxLength) errors.push(tooLong(path, s.maxLength));
    if (typeof s.minLength === 'number' && length < s.minLength) errors.push(bodyError(path, value, `should be at least ${s.minLength} chars long`));
    if (typeof s.pattern === 'string') {
      let re: RegExp | undefined;
      try {
        re = new RegExp(s.pattern, 'u');
      } catch {
        re = undefined; // an unparsable pattern was refused when the CRD was validated
      }
      if (re && !re.test(value)) errors.push(bodyError(path, value, `should match '${s.pattern}'`));
    }
    if (s.format) {
      const detail = formatError(s.format, value);
      if (detail) errors.push(bodyError(path, value, `must be of type ${s.format}: ${goQuote(value)}`));
    }
  }

  if (Array.isArray(value)) {
    if (typeof s.maxItems === 'number' && value.length > s.maxItems) errors.push(tooMany(path, value.length, s.maxItems));
    if (typeof s.minItems === 'number' && value.length < s.minItems) errors.push(bodyError(path, value.length, `should have at least ${s.minItems} items`));
    if (s.uniqueItems) {
      for (let i = 0; i < value.length; i++) {
        if (value.slice(0, i).some((v) => sameValue(v, value[i]))) {
          errors.push(bodyError(path, value, "shouldn't contain duplicates"));
          break;
        }
      }
    }
    if (s.items) value.forEach((item, i) => walk(item, s.items!, `${path}[${i}]`, errors, false));
    // set/map list types: keys must be unique, as kube-apiserver checks for structural schemas.
    if (s['x-kubernetes-list-type'] === 'set') {
      value.forEach((item, i) => {
        if (value.slice(0, i).some((v) => sameValue(v, item))) errors.push({ type: 'FieldValueDuplicate', field: `${path}[${i}]`, message: `Duplicate value: ${goValue(item)}` });
      });
    } else if (s['x-kubernetes-list-type'] === 'map' && Array.isArray(s['x-kubernetes-list-map-keys'])) {
      const keys: string[] = s['x-kubernetes-list-map-keys'];
      const seen: unknown[][] = [];
      value.forEach((item, i) => {
        if (!isPlainObject(item)) return;
        const k = keys.map((key) => item[key]);
        if (seen.some((other) => sameValue(other, k))) {
          const shown = `map[string]interface {}{${keys.map((key, j) => `${goQuote(key)}:${goValue(k[j])}`).join(', ')}}`;
          errors.push({ type: 'FieldValueDuplicate', field: `${path}[${i}]`, message: `Duplicate value: ${shown}` });
        }
        seen.push(k);
      });
    }
  }

  if (isPlainObject(value)) {
    const properties = s.properties ?? {};
    for (const name of s.required ?? []) {
      if (isRoot && (name === 'apiVersion' || name === 'kind' || name === 'metadata')) continue;
      if (value[name] === undefined) errors.push(required(join(path, name)));
    }
    const count = Object.keys(value).length;
    if (typeof s.maxProperties === 'number' && count > s.maxProperties) errors.push(tooMany(path, count, s.maxProperties));
    if (typeof s.minProperties === 'number' && count < s.minProperties) errors.push(bodyError(path, count, `should have at least ${s.minProperties} properties`));
    if (s['x-kubernetes-embedded-resource']) {
      for (const key of ['apiVersion', 'kind']) {
        if (typeof value[key] !== 'string' || value[key] === '') errors.push(required(join(path, key), 'must not be empty'));
      }
    }
    for (const [key, child] of Object.entries(value)) {
      // The root's apiVersion/kind/metadata and an embedded object's metadata are ObjectMeta business, checked by the server.
      if (isRoot && (key === 'apiVersion' || key === 'kind' || key === 'metadata')) continue;
      if (s['x-kubernetes-embedded-resource'] && key === 'metadata') continue;
      const property = properties[key] ?? (typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined);
      if (property) walk(child, property, join(path, key), errors, false);
    }
  }

  // Value validations of structural schemas may be combined with allOf/anyOf/oneOf/not.
  if (Array.isArray(s.allOf)) for (const sub of s.allOf as SchemaNode[]) walk(value, sub, path, errors, isRoot);
  if (Array.isArray(s.anyOf) && s.anyOf.length) {
    if (!(s.anyOf as SchemaNode[]).some((sub) => passes(value, sub, path, isRoot))) errors.push(bodyError(path, value, 'must validate at least one schema (anyOf)'));
  }
  if (Array.isArray(s.oneOf) && s.oneOf.length) {
    const matching = (s.oneOf as SchemaNode[]).filter((sub) => passes(value, sub, path, isRoot)).length;
    if (matching !== 1) errors.push(bodyError(path, value, 'must validate one and only one schema (oneOf)'));
  }
  if (s.not && typeof s.not === 'object' && passes(value, s.not as SchemaNode, path, isRoot)) {
    errors.push(bodyError(path, value, 'must not validate the schema (not)'));
  }
}

function passes(value: unknown, schema: SchemaNode, path: string, isRoot: boolean): boolean {
  const errors: FieldError[] = [];
  walk(value, schema, path, errors, isRoot);
  return errors.length === 0;
}

function goValue(v: unknown): string {
  return typeof v === 'string' ? goQuote(v) : JSON.stringify(v);
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ak = Object.keys(a as object);
  const bk = Object.keys(b as object);
  if (ak.length !== bk.length) return false;
  return ak.every((k) => sameValue((a as any)[k], (b as any)[k]));
}

// The formats kube-apiextensions validates (a subset of kube-openapi's strfmt registry); others pass.
function formatError(format: string, value: string): boolean {
  switch (format) {
    case 'date-time':
      return !/^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(value) || Number.isNaN(Date.parse(value));
    case 'date':
      return !/^\d{4}-\d{2}-\d{2}$/.test(value);
    case 'uuid':
      return !/^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/.test(value);
    case 'ipv4':
      return !/^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/.test(value);
    case 'byte':
      return !/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0;
    default:
      return false;
  }
}
