// additionalPrinterColumns → the Printer behind `kubectl get <custom resources>`: Name, then each
// column by its JSONPath, typed as kube-apiserver's CRD table convertor types cells (integer,
// number, boolean, date as an age, string as JSONPath prints it). Without columns, an Age column.
import type { KubeObject, Printer, TableColumn } from '../../api/types.js';
import { humanDuration } from '../../api/printers/duration.js';
import { isPlainObject } from '../../util/json.js';

export interface PrinterColumn {
  name: string;
  type: string;
  format?: string;
  description?: string;
  priority?: number;
  jsonPath: string;
}

const nameDescription = 'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names';
const creationTimestampDescription = 'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata';

/** The columns kube-apiserver serves for a CRD version: its own, or Age when it declares none. */
export function columnsOrDefault(columns: PrinterColumn[] | undefined): PrinterColumn[] {
  if (columns && columns.length > 0) return columns;
  return [{ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: creationTimestampDescription, priority: 0 }];
}

export function printerForColumns(declared: PrinterColumn[] | undefined): Printer {
  const columns = columnsOrDefault(declared);
  const paths = columns.map((c) => parseJsonPath(c.jsonPath));
  return {
    columns: [
      { name: 'Name', type: 'string', format: 'name', description: nameDescription, priority: 0 },
      ...columns.map((c) => ({ name: c.name, type: c.type as TableColumn['type'], format: c.format ?? '', description: c.description ?? '', priority: c.priority ?? 0 })),
    ],
    cells(obj: KubeObject, now: Date): unknown[] {
      return [obj.metadata.name, ...columns.map((c, i) => cellFor(c.type, evaluate(paths[i], obj), now))];
    },
  };
}

function cellFor(type: string, results: unknown[], now: Date): unknown {
  if (results.length === 0 || results[0] === undefined) return null;
  const value = results[0];
  switch (type) {
    case 'string':
      return goPrint(value);
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value) ? value : null;
    case 'number':
      return typeof value === 'number' ? value : null;
    case 'boolean':
      return typeof value === 'boolean' ? value : null;
    case 'date': {
      if (typeof value !== 'string') return null;
      const t = Date.parse(value);
      if (Number.isNaN(t)) return null;
      return humanDuration(now.getTime() - t);
    }
    default:
      return goPrint(value);
  }
}

/** Go's fmt.Print of a decoded JSON value, which is how JSONPath prints non-strings. */
function goPrint(value: unknown): string {
  if (value === null || value === undefined) return '<nil>';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `[${value.map(goPrint).join(' ')}]`;
  if (isPlainObject(value)) {
    return `map[${Object.keys(value).sort().map((k) => `${k}:${goPrint(value[k])}`).join(' ')}]`;
  }
  return String(value);
}

// ---- a JSONPath subset: .a.b, ['a'], [0], [*], .*, [?(@.x.y=="v")] (what CRD columns use) ----

type Step =
  | { kind: 'field'; name: string }
  | { kind: 'index'; index: number }
  | { kind: 'wildcard' }
  | { kind: 'filter'; path: string[]; operator: '==' | '!=' | 'exists'; value?: unknown };

export function parseJsonPath(text: string): Step[] {
  let s = text.trim();
  if (s.startsWith('{') && s.endsWith('}')) s = s.slice(1, -1).trim();
  if (s.startsWith('$')) s = s.slice(1);
  const steps: Step[] = [];
  let i = 0;
  while (i < s.length) {
    if (s[i] === '.') {
      i++;
      if (s[i] === '*') {
        steps.push({ kind: 'wildcard' });
        i++;
        continue;
      }
      let name = '';
      while (i < s.length && s[i] !== '.' && s[i] !== '[') name += s[i++];
      if (name) steps.push({ kind: 'field', name });
    } else if (s[i] === '[') {
      const close = findClose(s, i);
      const inner = s.slice(i + 1, close).trim();
      i = close + 1;
      if (inner === '*') steps.push({ kind: 'wildcard' });
      else if (/^-?\d+$/.test(inner)) steps.push({ kind: 'index', index: Number(inner) });
      else if (/^(['"]).*\1$/.test(inner)) steps.push({ kind: 'field', name: inner.slice(1, -1) });
      else if (inner.startsWith('?(') && inner.endsWith(')')) steps.push(parseFilter(inner.slice(2, -1).trim()));
      else throw new Error(`unsupported JSONPath segment [${inner}] in ${text}`);
    } else {
      let name = '';
      while (i < s.length && s[i] !== '.' && s[i] !== '[') name += s[i++];
      if (name) steps.push({ kind: 'field', name });
    }
  }
  return steps;
}

function findClose(s: string, open: number): number {
  let quote = '';
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '[') depth++;
    else if (c === ']' && --depth === 0) return i;
  }
  throw new Error(`unterminated [ in JSONPath ${s}`);
}

function parseFilter(expression: string): Step {
  const m = /^@((?:\.[^.=!\s]+)+)\s*(==|!=)\s*(.+)$/.exec(expression);
  if (m) {
    const raw = m[3].trim();
    let value: unknown = raw;
    if (/^(['"]).*\1$/.test(raw)) value = raw.slice(1, -1);
    else if (/^-?\d+(\.\d+)?$/.test(raw)) value = Number(raw);
    else if (raw === 'true' || raw === 'false') value = raw === 'true';
    return { kind: 'filter', path: m[1].slice(1).split('.'), operator: m[2] as '==' | '!=', value };
  }
  const exists = /^@((?:\.[^.\s]+)+)$/.exec(expression);
  if (exists) return { kind: 'filter', path: exists[1].slice(1).split('.'), operator: 'exists' };
  throw new Error(`unsupported JSONPath filter ?(${expression})`);
}

export function evaluate(steps: Step[], root: unknown): unknown[] {
  let current: unknown[] = [root];
  for (const step of steps) {
    const next: unknown[] = [];
    for (const v of current) {
      if (step.kind === 'field') {
        if (isPlainObject(v) && v[step.name] !== undefined) next.push(v[step.name]);
      } else if (step.kind === 'index') {
        if (Array.isArray(v)) {
          const at = step.index < 0 ? v.length + step.index : step.index;
          if (at >= 0 && at < v.length) next.push(v[at]);
        }
      } else if (step.kind === 'wildcard') {
        if (Array.isArray(v)) next.push(...v);
        else if (isPlainObject(v)) next.push(...Object.values(v));
      } else {
        const items = Array.isArray(v) ? v : isPlainObject(v) ? Object.values(v) : [];
        for (const item of items) {
          let field: unknown = item;
          for (const p of step.path) field = isPlainObject(field) ? field[p] : undefined;
          const keep = step.operator === 'exists' ? field !== undefined : step.operator === '==' ? field === step.value : field !== step.value;
          if (keep) next.push(item);
        }
      }
    }
    current = next;
  }
  return current;
}
