// Checks shared across kinds: metadata, labels, selectors, numbers, int-or-percent, quantities.
import type { FieldError, ObjectMeta } from '../types.js';
import { child, duplicate, forbidden, goTyped, index, invalid, key, notSupported, omitValue, required, tooLong } from './field.js';
import { isDNS1123Label, isQualifiedName, isValidLabelValue, isValidPercent, type NameValidator } from './names.js';
import { labelSelectorAsSelector, matches, type LabelSelector } from '../selectors/labels.js';

export type Obj = Record<string, any>;

export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
export const arr = <T = any>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : []);
export const sortedKeys = (o: unknown): string[] => (isObj(o) ? Object.keys(o).sort() : []);
export const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') {
    // An absent field and an explicit null mean the same thing on the wire.
    return (a === undefined || a === null) && (b === undefined || b === null);
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => deepEqual(v, bb[i]));
  }
  const ao = a as Obj;
  const bo = b as Obj;
  const keys = new Set([...Object.keys(ao), ...Object.keys(bo)]);
  for (const k of keys) if (!deepEqual(ao[k], bo[k])) return false;
  return true;
}

export function nonNegative(value: unknown, path: string): FieldError[] {
  if (typeof value === 'number' && value < 0) return [invalid(path, value, 'must be greater than or equal to 0')];
  return [];
}

export function positive(value: unknown, path: string): FieldError[] {
  if (typeof value === 'number' && value <= 0) return [invalid(path, value, 'must be greater than 0')];
  return [];
}

export function immutable(newValue: unknown, oldValue: unknown, path: string, shown: unknown = newValue): FieldError[] {
  return deepEqual(newValue, oldValue) ? [] : [invalid(path, shown, 'field is immutable')];
}

export function enumField(value: unknown, path: string, supported: string[], requiredWhenEmpty = true): FieldError[] {
  if (value === undefined || value === null || value === '') return requiredWhenEmpty ? [required(path, '')] : [];
  if (!supported.includes(String(value))) return [notSupported(path, value, supported)];
  return [];
}

export function validateLabels(labels: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!isObj(labels)) return errs;
  for (const k of sortedKeys(labels)) {
    for (const msg of isQualifiedName(k)) errs.push(invalid(path, k, msg));
    const v = labels[k];
    for (const msg of isValidLabelValue(String(v ?? ''))) errs.push(invalid(path, v, msg));
  }
  return errs;
}

export const TotalAnnotationSizeLimitB = 256 * 1024;

export function validateAnnotations(annotations: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!isObj(annotations)) return errs;
  let size = 0;
  for (const k of sortedKeys(annotations)) {
    // Annotation keys are qualified names except that case does not matter.
    for (const msg of isQualifiedName(k.toLowerCase())) errs.push(invalid(path, k, msg));
    size += Buffer.byteLength(k) + Buffer.byteLength(String(annotations[k] ?? ''));
  }
  if (size > TotalAnnotationSizeLimitB) errs.push(tooLong(path, TotalAnnotationSizeLimitB));
  return errs;
}

function validateOwnerReferences(refs: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  let firstController = '';
  for (const ref of arr<Obj>(refs)) {
    const apiVersion = String(ref?.apiVersion ?? '');
    const version = apiVersion.includes('/') ? apiVersion.split('/')[1] : apiVersion;
    if (!version) errs.push(invalid(child(path, 'apiVersion'), apiVersion, 'version must not be empty'));
    if (!ref?.kind) errs.push(invalid(child(path, 'kind'), String(ref?.kind ?? ''), 'kind must not be empty'));
    if (!ref?.name) errs.push(invalid(child(path, 'name'), String(ref?.name ?? ''), 'name must not be empty'));
    if (!ref?.uid) errs.push(invalid(child(path, 'uid'), String(ref?.uid ?? ''), 'uid must not be empty'));
    if (ref?.controller === true) {
      const current = `${ref.kind}/${ref.name}`;
      if (firstController) {
        errs.push(
          invalid(path, omitValue, `Only one reference can have Controller set to true. Found "true" in references for ${firstController} and ${current}`),
        );
      } else {
        firstController = current;
      }
    }
  }
  return errs;
}

function validateFinalizers(finalizers: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const list = arr<string>(finalizers);
  for (const f of list) for (const msg of isQualifiedName(String(f))) errs.push(invalid(path, f, msg));
  if (list.includes('orphan') && list.includes('foregroundDeletion')) {
    errs.push(invalid(path, list, 'finalizer orphan and foregroundDeletion cannot be both set'));
  }
  return errs;
}

export interface MetaOptions {
  nameValidator: NameValidator;
  /** true: namespace required; false: forbidden; undefined: not checked (unknown kinds). */
  namespaced?: boolean;
}

export function validateObjectMeta(meta: ObjectMeta | undefined, opts: MetaOptions, path = 'metadata'): FieldError[] {
  const errs: FieldError[] = [];
  const m = (meta ?? {}) as ObjectMeta;
  if (m.generateName) {
    for (const msg of opts.nameValidator(m.generateName, true)) errs.push(invalid(child(path, 'generateName'), m.generateName, msg));
  }
  if (!m.name) {
    // The apiserver fills name from generateName before validating, so only both empty is an error.
    if (!m.generateName) errs.push(required(child(path, 'name'), 'name or generateName is required'));
  } else {
    for (const msg of opts.nameValidator(m.name, false)) errs.push(invalid(child(path, 'name'), m.name, msg));
  }
  if (opts.namespaced === true) {
    if (!m.namespace) errs.push(required(child(path, 'namespace'), ''));
    else for (const msg of isDNS1123Label(m.namespace)) errs.push(invalid(child(path, 'namespace'), m.namespace, msg));
  } else if (opts.namespaced === false && m.namespace) {
    errs.push(forbidden(child(path, 'namespace'), 'not allowed on this type'));
  }
  errs.push(...nonNegative(m.generation, child(path, 'generation')));
  errs.push(...validateLabels(m.labels, child(path, 'labels')));
  errs.push(...validateAnnotations(m.annotations, child(path, 'annotations')));
  errs.push(...validateOwnerReferences(m.ownerReferences, child(path, 'ownerReferences')));
  errs.push(...validateFinalizers(m.finalizers, child(path, 'finalizers')));
  return errs;
}

export function validateObjectMetaUpdate(newMeta: ObjectMeta | undefined, oldMeta: ObjectMeta | undefined, path = 'metadata'): FieldError[] {
  const n = (newMeta ?? {}) as ObjectMeta;
  const o = (oldMeta ?? {}) as ObjectMeta;
  const errs: FieldError[] = [];
  errs.push(...immutable(n.name ?? '', o.name ?? '', child(path, 'name')));
  errs.push(...immutable(n.namespace ?? '', o.namespace ?? '', child(path, 'namespace')));
  errs.push(...immutable(n.uid ?? '', o.uid ?? '', child(path, 'uid')));
  errs.push(...immutable(n.creationTimestamp ?? null, o.creationTimestamp ?? null, child(path, 'creationTimestamp')));
  if (o.deletionTimestamp) {
    if (n.deletionTimestamp !== o.deletionTimestamp) {
      errs.push(invalid(child(path, 'deletionTimestamp'), n.deletionTimestamp ?? null, 'field is immutable; may only be changed via deletion'));
    }
    const before = new Set(arr<string>(o.finalizers));
    const added = arr<string>(n.finalizers).filter((f) => !before.has(f));
    if (added.length) {
      errs.push(
        forbidden(
          child(path, 'finalizers'),
          `no new finalizers can be added if the object is being deleted, found new finalizers []string{${added.map((f) => JSON.stringify(f)).join(', ')}}`,
        ),
      );
    }
  }
  if (o.deletionGracePeriodSeconds !== undefined && n.deletionGracePeriodSeconds !== o.deletionGracePeriodSeconds) {
    errs.push(invalid(child(path, 'deletionGracePeriodSeconds'), n.deletionGracePeriodSeconds ?? null, 'field is immutable; may only be changed via deletion'));
  }
  return errs;
}

/** metav1validation.ValidateLabelSelector */
export function validateLabelSelector(ls: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!isObj(ls)) return errs;
  arr<Obj>(ls.matchExpressions).forEach((expr, i) => {
    const p = index(child(path, 'matchExpressions'), i);
    const op = expr?.operator;
    const values = arr(expr?.values);
    if (op === 'In' || op === 'NotIn') {
      if (values.length === 0) errs.push(required(child(p, 'values'), 'must be specified when `operator` is \'In\' or \'NotIn\''));
    } else if (op === 'Exists' || op === 'DoesNotExist') {
      if (values.length > 0) errs.push(forbidden(child(p, 'values'), 'may not be specified when `operator` is \'Exists\' or \'DoesNotExist\''));
    } else {
      errs.push(invalid(child(p, 'operator'), op ?? '', 'not a valid selector operator'));
    }
    for (const msg of isQualifiedName(String(expr?.key ?? ''))) errs.push(invalid(child(p, 'key'), expr?.key ?? '', msg));
    values.forEach((v, j) => {
      for (const msg of isValidLabelValue(String(v))) errs.push(invalid(index(child(p, 'values'), j), v, msg));
    });
  });
  errs.push(...validateLabels(ls.matchLabels, child(path, 'matchLabels')));
  return errs;
}

export const labelSelectorValue = (ls: unknown) => goTyped('v1.LabelSelector', ls);

/** A workload's selector: required, non-empty, and selecting its own template. */
export function validateWorkloadSelector(spec: Obj, path: string, emptyMessage: string): FieldError[] {
  const errs: FieldError[] = [];
  const sel = spec.selector;
  if (!isObj(sel)) {
    errs.push(required(child(path, 'selector'), ''));
    return errs;
  }
  errs.push(...validateLabelSelector(sel, child(path, 'selector')));
  if (Object.keys(sel.matchLabels ?? {}).length + arr(sel.matchExpressions).length === 0) {
    errs.push(invalid(child(path, 'selector'), labelSelectorValue(sel), emptyMessage));
    return errs;
  }
  errs.push(...selectorMatchesTemplate(sel, spec.template?.metadata?.labels, child(path, 'template', 'metadata', 'labels')));
  return errs;
}

export function selectorMatchesTemplate(sel: LabelSelector, labels: Record<string, string> | undefined, labelsPath: string): FieldError[] {
  let selector;
  try {
    selector = labelSelectorAsSelector(sel);
  } catch {
    return []; // already reported by validateLabelSelector
  }
  if (!matches(selector, labels ?? {})) {
    return [invalid(labelsPath, labels ?? {}, '`selector` does not match template `labels`')];
  }
  return [];
}

/** ValidatePositiveIntOrPercent */
export function intOrPercent(value: unknown, path: string): FieldError[] {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return isValidPercent(value).map((msg) => invalid(path, value, msg));
  if (typeof value === 'number') return nonNegative(value, path);
  return [invalid(path, value, 'must be an integer or percentage (e.g \'5%\')')];
}

export function notMoreThan100Percent(value: unknown, path: string): FieldError[] {
  if (typeof value === 'string' && /^[0-9]+%$/.test(value) && parseInt(value, 10) > 100) return [invalid(path, value, 'must not be greater than 100%')];
  return [];
}

/** Resolves an int-or-percent against 100 to compare "is it zero". */
export function intOrPercentIsZero(value: unknown): boolean {
  if (typeof value === 'number') return value === 0;
  if (typeof value === 'string') return /^0+%$/.test(value);
  return false;
}

export function uniqueNames(items: Obj[], path: string, nameOf: (o: Obj) => unknown = (o) => o?.name): FieldError[] {
  const seen = new Set<string>();
  const errs: FieldError[] = [];
  items.forEach((item, i) => {
    const n = nameOf(item);
    if (typeof n !== 'string' || n === '') return;
    if (seen.has(n)) errs.push(duplicate(child(index(path, i), 'name'), n));
    seen.add(n);
  });
  return errs;
}

export { key };
