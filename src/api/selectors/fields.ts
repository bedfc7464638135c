// Field selectors as k8s.io/apimachinery/pkg/fields parses them (`?fieldSelector=`):
// comma-separated `field=value`, `field==value`, `field!=value`, with `\` escaping `\`, `,` and `=`.

export interface FieldRequirement {
  field: string;
  operator: '=' | '!=';
  value: string;
}

export interface FieldSelector {
  requirements: FieldRequirement[];
}

/** Split on commas not preceded by an escaping backslash. */
function splitTerms(selector: string): string[] {
  if (selector.length === 0) return [];
  const terms: string[] = [];
  let start = 0;
  let escaped = false;
  for (let i = 0; i < selector.length; i++) {
    if (escaped) {
      escaped = false;
    } else if (selector[i] === '\\') {
      escaped = true;
    } else if (selector[i] === ',') {
      terms.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(selector.slice(start));
  return terms;
}

/** The first unescaped operator wins; "!=" and "==" are tried before "=" at each position. */
function splitTerm(term: string): [string, '=' | '==' | '!=', string] | undefined {
  let escaped = false;
  for (let i = 0; i < term.length; i++) {
    if (escaped) {
      escaped = false;
      continue;
    }
    if (term[i] === '\\') {
      escaped = true;
      continue;
    }
    for (const op of ['!=', '==', '='] as const) {
      if (term.startsWith(op, i)) return [term.slice(0, i), op, term.slice(i + op.length)];
    }
  }
  return undefined;
}

/** fields.UnescapeValue */
export function unescapeValue(s: string): string {
  if (!/[\\=,]/.test(s)) return s;
  let out = '';
  let inSlash = false;
  for (const c of s) {
    if (inSlash) {
      if (c === '\\' || c === ',' || c === '=') out += c;
      else throw new Error(`invalid field selector: invalid escape sequence: \\${c}`);
      inSlash = false;
      continue;
    }
    if (c === '\\') inSlash = true;
    else if (c === ',' || c === '=') throw new Error(`invalid field selector: unescaped character in value: ${c}`);
    else out += c;
  }
  if (inSlash) throw new Error('invalid field selector: invalid escape sequence: \\');
  return out;
}

/** fields.EscapeValue */
export function escapeValue(s: string): string {
  return s.replace(/[\\,=]/g, (c) => `\\${c}`);
}

/** fields.ParseSelector; throws with Kubernetes' message ("invalid selector: ...; can't understand ..."). */
export function parseFieldSelector(selector: string): FieldSelector {
  const parts = splitTerms(selector).sort();
  const requirements: FieldRequirement[] = [];
  for (const part of parts) {
    if (part === '') continue;
    const split = splitTerm(part);
    if (!split) throw new Error(`invalid selector: '${selector}'; can't understand '${part}'`);
    const [field, op, raw] = split;
    requirements.push({ field, operator: op === '!=' ? '!=' : '=', value: unescapeValue(raw) });
  }
  return { requirements };
}

/** `fields` maps a field path ("metadata.name", "spec.nodeName") to its value for one object. */
export function fieldSelectorMatches(selector: FieldSelector, fields: Record<string, string | undefined>): boolean {
  return selector.requirements.every((r) => {
    const v = fields[r.field] ?? '';
    return r.operator === '=' ? v === r.value : v !== r.value;
  });
}

export function fieldSelectorToString(selector: FieldSelector): string {
  return selector.requirements.map((r) => `${r.field}${r.operator}${escapeValue(r.value)}`).join(',');
}

/** The fields a selector names that the resource does not support, for the apiserver's 400:
 *  `field label not supported: spec.foo`. */
export function unsupportedFields(selector: FieldSelector, supported: Iterable<string>): string[] {
  const ok = new Set(supported);
  return selector.requirements.map((r) => r.field).filter((f) => !ok.has(f));
}
