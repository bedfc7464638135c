// Field errors worded exactly as k8s.io/apimachinery/pkg/util/validation/field words them,
// because kubectl prints these strings verbatim and users (and scripts) match on them.
import type { FieldError } from '../types.js';

/** Marks a bad value Kubernetes leaves out of the message (field.OmitValueType). */
export const omitValue: unique symbol = Symbol('omitValue');

/** Tags a value with its Go type name so `%#v` renders like Kubernetes (e.g. `v1.LabelSelector{...}`). */
export interface GoTyped {
  goType: string;
  value: unknown;
}

export function goTyped(goType: string, value: unknown): GoTyped {
  return { goType, value };
}

function isGoTyped(v: unknown): v is GoTyped {
  return typeof v === 'object' && v !== null && 'goType' in v && 'value' in v && Object.keys(v).length === 2;
}

/** Go's %q for strings (close enough: JSON escaping matches Go for printable ASCII and common escapes). */
export function goQuote(s: string): string {
  return JSON.stringify(s);
}

/** Go's %#v for the JSON-shaped values we validate (maps, slices, scalars). */
export function goSyntax(value: unknown): string {
  if (isGoTyped(value)) return goTypedSyntax(value);
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return goQuote(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v === 'string')) return `[]string{${value.map((v) => goQuote(v)).join(', ')}}`;
    if (value.every((v) => typeof v === 'number')) return `[]int32{${value.join(', ')}}`;
    return `[]interface {}{${value.map(goSyntax).join(', ')}}`;
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    if (entries.every(([, v]) => typeof v === 'string')) {
      return `map[string]string{${entries.map(([k, v]) => `${goQuote(k)}:${goQuote(v as string)}`).join(', ')}}`;
    }
    return `map[string]interface {}{${entries.map(([k, v]) => `${goQuote(k)}:${goSyntax(v)}`).join(', ')}}`;
  }
  return String(value);
}

function goTypedSyntax(t: GoTyped): string {
  const v = t.value as any;
  switch (t.goType) {
    case 'v1.LabelSelector': {
      if (v == null) return 'null';
      const ml = v.matchLabels && Object.keys(v.matchLabels).length >= 0 && v.matchLabels ? goSyntax(v.matchLabels) : 'map[string]string(nil)';
      const exprs = Array.isArray(v.matchExpressions)
        ? `[]v1.LabelSelectorRequirement{${v.matchExpressions
            .map(
              (e: any) =>
                `v1.LabelSelectorRequirement{Key:${goQuote(String(e?.key ?? ''))}, Operator:${goQuote(String(e?.operator ?? ''))}, Values:${
                  Array.isArray(e?.values) ? goSyntax(e.values.map(String)) : '[]string(nil)'
                }}`,
            )
            .join(', ')}}`
        : '[]v1.LabelSelectorRequirement(nil)';
      return `v1.LabelSelector{MatchLabels:${ml}, MatchExpressions:${exprs}}`;
    }
    case 'intstr.IntOrString':
      // IntOrString is passed by value, so Go prints the raw struct rather than its String().
      if (typeof v === 'string') return `intstr.IntOrString{Type:1, IntVal:0, StrVal:${goQuote(v)}}`;
      return `intstr.IntOrString{Type:0, IntVal:${typeof v === 'number' ? v : 0}, StrVal:""}`;
    case 'rbac.RoleRef':
      return `rbac.RoleRef{APIGroup:${goQuote(String(v?.apiGroup ?? ''))}, Kind:${goQuote(String(v?.kind ?? ''))}, Name:${goQuote(String(v?.name ?? ''))}}`;
    default:
      return `${t.goType}{${goSyntax(v)}}`;
  }
}

/** ErrorBody(): the part of a field error after "field: ". */
function body(typeText: string, value: unknown, detail: string, showValue: boolean): string {
  let s = typeText;
  if (showValue && value !== omitValue) {
    if (typeof value === 'string') s = `${typeText}: ${goQuote(value)}`;
    else if (typeof value === 'number' || typeof value === 'boolean') s = `${typeText}: ${value}`;
    else s = `${typeText}: ${goSyntax(value)}`;
  }
  if (detail) s += `: ${detail}`;
  return s;
}

export function required(field: string, detail = ''): FieldError {
  return { type: 'FieldValueRequired', field, message: body('Required value', undefined, detail, false) };
}

export function invalid(field: string, value: unknown, detail: string): FieldError {
  return { type: 'FieldValueInvalid', field, message: body('Invalid value', value, detail, true) };
}

export function notSupported(field: string, value: unknown, supported: string[]): FieldError {
  const detail = supported.length ? `supported values: ${supported.map((s) => goQuote(s)).join(', ')}` : '';
  return { type: 'FieldValueNotSupported', field, message: body('Unsupported value', value, detail, true) };
}

export function duplicate(field: string, value: unknown): FieldError {
  return { type: 'FieldValueDuplicate', field, message: body('Duplicate value', value, '', true) };
}

export function forbidden(field: string, detail: string): FieldError {
  return { type: 'FieldValueForbidden', field, message: body('Forbidden', undefined, detail, false) };
}

export function notFound(field: string, value: unknown): FieldError {
  return { type: 'FieldValueNotFound', field, message: body('Not found', value, '', true) };
}

export function tooLong(field: string, maxLength: number): FieldError {
  const detail = maxLength >= 0 ? `may not be more than ${maxLength} ${maxLength === 1 ? 'byte' : 'bytes'}` : 'value is too long';
  return { type: 'FieldValueTooLong', field, message: body('Too long', undefined, detail, false) };
}

export function tooMany(field: string, actual: number, max: number): FieldError {
  const detail = max >= 0 ? `must have at most ${max} items` : 'has too many items';
  return { type: 'FieldValueTooMany', field, message: body('Too many', actual, detail, true) };
}

export function internalError(field: string, detail: string): FieldError {
  return { type: 'InternalError', field, message: body('Internal error', undefined, detail, false) };
}

/** Field paths as Kubernetes prints them: `a.b[0].c`, `data[key]`. */
export function child(path: string, ...names: string[]): string {
  let p = path;
  for (const n of names) p = p ? `${p}.${n}` : n;
  return p;
}

export function index(path: string, i: number): string {
  return `${path}[${i}]`;
}

export function key(path: string, k: string): string {
  return `${path}[${k}]`;
}

/** The text `field: body` of one error, as errs.ToAggregate() prints it. */
export function errorString(e: FieldError): string {
  return `${e.field}: ${e.message}`;
}
