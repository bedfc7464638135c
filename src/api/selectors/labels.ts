// Label selectors as k8s.io/apimachinery/pkg/labels parses, prints and matches them:
// the string form used by `?labelSelector=` and `kubectl -l`, and the structured
// metav1.LabelSelector used by workloads, services and policies.
import { isQualifiedName, isValidLabelValue } from '../validation/names.js';
import { goSyntax } from '../validation/field.js';

export type Operator = '=' | '==' | '!=' | 'in' | 'notin' | 'exists' | '!' | 'gt' | 'lt';

export interface Requirement {
  key: string;
  operator: Operator;
  /** Sorted, de-duplicated (as Kubernetes' sets.String keeps them). */
  values: string[];
}

export interface Selector {
  requirements: Requirement[];
  /** A nil LabelSelector selects nothing; an empty one selects everything. */
  nothing?: boolean;
}

export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | string;
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export const everything: Selector = Object.freeze({ requirements: [] }) as Selector;
export const nothing: Selector = Object.freeze({ requirements: [], nothing: true }) as Selector;

/** labels.NewRequirement: validates key, values and arity; throws with Kubernetes' wording. */
export function newRequirement(key: string, operator: Operator, values: string[], path = ''): Requirement {
  const errs: string[] = [];
  const at = (p: string) => p || '<nil>';
  const keyErrs = isQualifiedName(key);
  if (keyErrs.length) errs.push(`${at(path ? `${path}.key` : 'key')}: Invalid value: ${JSON.stringify(key)}: ${keyErrs.join('; ')}`);
  const valuePath = path ? `${path}.values` : 'values';
  switch (operator) {
    case 'in':
    case 'notin':
      if (values.length === 0) errs.push(`${valuePath}: Invalid value: ${goSyntax(values)}: for 'in', 'notin' operators, values set can't be empty`);
      break;
    case '=':
    case '==':
    case '!=':
      if (values.length !== 1) errs.push(`${valuePath}: Invalid value: ${goSyntax(values)}: exact-match compatibility requires one single value`);
      break;
    case 'exists':
    case '!':
      if (values.length !== 0) errs.push(`${valuePath}: Invalid value: ${goSyntax(values)}: values set must be empty for exists and does not exist`);
      break;
    case 'gt':
    case 'lt':
      if (values.length !== 1) errs.push(`${valuePath}: Invalid value: ${goSyntax(values)}: for 'Gt', 'Lt' operators, exactly one value is required`);
      values.forEach((v, i) => {
        if (!/^[-+]?\d+$/.test(v)) errs.push(`${valuePath}[${i}]: Invalid value: ${JSON.stringify(v)}: for 'Gt', 'Lt' operators, the value must be an integer`);
      });
      break;
    default:
      errs.push(
        `${path ? `${path}.operator` : 'operator'}: Unsupported value: ${JSON.stringify(operator)}: supported values: "in", "notin", "=", "==", "!=", "gt", "lt", "exists", "!"`,
      );
  }
  values.forEach((v, i) => {
    const vErrs = isValidLabelValue(v);
    if (vErrs.length) errs.push(`${valuePath}[${i}][${key}]: Invalid value: ${JSON.stringify(v)}: ${vErrs.join('; ')}`);
  });
  if (errs.length) throw new Error(errs.length === 1 ? errs[0] : `[${errs.join(', ')}]`);
  return { key, operator, values: [...new Set(values)].sort() };
}

// ---- lexer --------------------------------------------------------------------------------

type TokenKind = 'end' | 'error' | 'identifier' | 'in' | 'notin' | '!' | '!=' | '(' | ')' | ',' | '=' | '==' | '>' | '<';
interface Token {
  kind: TokenKind;
  literal: string;
}

const symbolTokens: Record<string, TokenKind> = { '!': '!', '!=': '!=', '(': '(', ')': ')', ',': ',', '=': '=', '==': '==', '>': '>', '<': '<' };
const isSpecial = (ch: string) => '=!(),><'.includes(ch);
const isWhitespace = (ch: string) => ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n';

function lex(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  for (;;) {
    while (i < input.length && isWhitespace(input[i])) i++;
    if (i >= input.length) {
      tokens.push({ kind: 'end', literal: '' });
      return tokens;
    }
    if (isSpecial(input[i])) {
      // Longest run of special characters that still forms a known symbol.
      let buffer = '';
      let last: Token | undefined;
      while (i < input.length && isSpecial(input[i])) {
        buffer += input[i];
        const kind = symbolTokens[buffer];
        if (kind) {
          last = { kind, literal: buffer };
          i++;
        } else if (last) {
          break;
        } else {
          i++;
        }
      }
      tokens.push(last ?? { kind: 'error', literal: `error expected: keyword found '${buffer}'` });
      continue;
    }
    let word = '';
    while (i < input.length && !isSpecial(input[i]) && !isWhitespace(input[i])) word += input[i++];
    tokens.push({ kind: word === 'in' ? 'in' : word === 'notin' ? 'notin' : 'identifier', literal: word });
  }
}

// ---- parser (same grammar and error texts as labels.Parse) ---------------------------------

class Parser {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  /** In a "values" context the keywords in/notin are plain identifiers. */
  private look(values: boolean): Token {
    const t = this.tokens[this.pos];
    return values && (t.kind === 'in' || t.kind === 'notin') ? { kind: 'identifier', literal: t.literal } : t;
  }

  private take(values: boolean): Token {
    const t = this.look(values);
    if (this.pos < this.tokens.length - 1) this.pos++;
    return t;
  }

  parse(): Requirement[] {
    const requirements: Requirement[] = [];
    for (;;) {
      const t = this.look(true);
      if (t.kind === 'identifier' || t.kind === '!') {
        let r: Requirement;
        try {
          r = this.parseRequirement();
        } catch (e) {
          throw new Error(`unable to parse requirement: ${(e as Error).message}`);
        }
        requirements.push(r);
        const next = this.take(true);
        if (next.kind === 'end') return requirements;
        if (next.kind === ',') {
          const after = this.look(true);
          if (after.kind !== 'identifier' && after.kind !== '!') throw new Error(`found '${after.literal}', expected: identifier after ','`);
          continue;
        }
        throw new Error(`found '${next.literal}', expected: ',' or 'end of string'`);
      }
      if (t.kind === 'end') return requirements;
      throw new Error(`found '${t.literal}', expected: !, identifier, or 'end of string'`);
    }
  }

  private parseRequirement(): Requirement {
    let t = this.take(true);
    let operator: Operator | undefined;
    if (t.kind === '!') {
      operator = '!';
      t = this.take(true);
    }
    if (t.kind !== 'identifier') throw new Error(`found '${t.literal}', expected: identifier`);
    const key = t.literal;
    const keyErrs = isQualifiedName(key);
    if (keyErrs.length) throw new Error(`<nil>: Invalid value: ${JSON.stringify(key)}: ${keyErrs.join('; ')}`);
    // "!a" never takes a value; "!a=b" then fails at the caller on the stray '='.
    if (operator === '!') return newRequirement(key, '!', []);
    const ahead = this.look(true);
    if (ahead.kind === 'end' || ahead.kind === ',') return newRequirement(key, 'exists', []);
    const opTok = this.take(false);
    const opMap: Partial<Record<TokenKind, Operator>> = { in: 'in', notin: 'notin', '=': '=', '==': '==', '!=': '!=', '>': 'gt', '<': 'lt' };
    operator = opMap[opTok.kind];
    if (!operator) throw new Error(`found '${opTok.literal}', expected: in, notin, =, ==, !=, gt, lt`);
    const values = operator === 'in' || operator === 'notin' ? this.parseValues() : this.parseExactValue();
    return newRequirement(key, operator, values);
  }

  private parseValues(): string[] {
    const open = this.take(true);
    if (open.kind !== '(') throw new Error(`found '${open.literal}' expected: '('`);
    const t = this.look(true);
    if (t.kind === 'identifier' || t.kind === ',') {
      const list = this.parseIdentifiersList();
      const close = this.take(true);
      if (close.kind !== ')') throw new Error(`found '${t.literal}', expected: ')'`);
      return list;
    }
    if (t.kind === ')') {
      this.take(true);
      return [''];
    }
    throw new Error(`found '${t.literal}', expected: ',', ')' or identifier`);
  }

  private parseIdentifiersList(): string[] {
    const set = new Set<string>();
    for (;;) {
      const t = this.take(true);
      if (t.kind === 'identifier') {
        set.add(t.literal);
        const next = this.look(true);
        if (next.kind === ',') continue;
        if (next.kind === ')') return [...set];
        throw new Error(`found '${next.literal}', expected: ',' or ')'`);
      } else if (t.kind === ',') {
        if (set.size === 0) set.add('');
        const next = this.look(true);
        if (next.kind === ')') {
          set.add('');
          return [...set];
        }
        if (next.kind === ',') {
          this.take(true);
          set.add('');
        }
      } else {
        throw new Error(`found '${t.literal}', expected: ',', or identifier`);
      }
    }
  }

  private parseExactValue(): string[] {
    const t = this.look(true);
    if (t.kind === 'end' || t.kind === ',') return [''];
    const v = this.take(true);
    if (v.kind === 'identifier') return [v.literal];
    throw new Error(`found '${v.literal}', expected: identifier`);
  }
}

function byKey(a: Requirement, b: Requirement): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/** labels.Parse: `a=b,c!=d,e in (x,y),!f,g,h notin (z)`. Throws Error with Kubernetes' message. */
export function parseLabelSelector(selector: string): Selector {
  const requirements = new Parser(lex(selector)).parse();
  return { requirements: requirements.sort(byKey) };
}

/** metav1.LabelSelectorAsSelector: nil selects nothing, {} selects everything. */
export function labelSelectorAsSelector(ls: LabelSelector | null | undefined): Selector {
  if (ls == null) return nothing;
  const ml = ls.matchLabels ?? {};
  const me = ls.matchExpressions ?? [];
  if (Object.keys(ml).length + me.length === 0) return everything;
  const requirements: Requirement[] = [];
  for (const [k, v] of Object.entries(ml)) requirements.push(newRequirement(k, '=', [v]));
  for (const expr of me) {
    const op = ({ In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!' } as Record<string, Operator>)[expr.operator];
    if (!op) throw new Error(`${JSON.stringify(expr.operator)} is not a valid label selector operator`);
    requirements.push(newRequirement(expr.key, op, [...(expr.values ?? [])]));
  }
  return { requirements: requirements.sort(byKey) };
}

function requirementMatches(r: Requirement, labels: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  const value = has ? labels[r.key] : undefined;
  switch (r.operator) {
    case '=':
    case '==':
    case 'in':
      return has && r.values.includes(value!);
    case '!=':
    case 'notin':
      return !has || !r.values.includes(value!);
    case 'exists':
      return has;
    case '!':
      return !has;
    case 'gt':
    case 'lt': {
      if (!has || !/^[-+]?\d+$/.test(value!)) return false;
      const have = BigInt(value!);
      const want = BigInt(r.values[0]);
      return r.operator === 'gt' ? have > want : have < want;
    }
  }
}

export function matches(selector: Selector, labels: Record<string, string> | undefined): boolean {
  if (selector.nothing) return false;
  const l = labels ?? {};
  return selector.requirements.every((r) => requirementMatches(r, l));
}

/** Convenience: does this metav1.LabelSelector select these labels? (nil selects nothing) */
export function labelSelectorMatches(ls: LabelSelector | null | undefined, labels: Record<string, string> | undefined): boolean {
  return matches(labelSelectorAsSelector(ls), labels);
}

export function requirementToString(r: Requirement): string {
  switch (r.operator) {
    case 'exists':
      return r.key;
    case '!':
      return `!${r.key}`;
    case 'in':
      return `${r.key} in (${r.values.join(',')})`;
    case 'notin':
      return `${r.key} notin (${r.values.join(',')})`;
    case 'gt':
      return `${r.key}>${r.values[0]}`;
    case 'lt':
      return `${r.key}<${r.values[0]}`;
    default:
      return `${r.key}${r.operator}${r.values[0]}`;
  }
}

/** Selector.String(): requirements sorted by key, comma-joined; "" for everything and nothing. */
export function selectorToString(selector: Selector): string {
  return selector.requirements.map(requirementToString).join(',');
}

/** metav1.FormatLabelSelector, as printed by `kubectl get -o wide`: "<none>" when empty, "<error>" when invalid. */
export function formatLabelSelector(ls: LabelSelector | null | undefined): string {
  let s: string;
  try {
    s = selectorToString(labelSelectorAsSelector(ls));
  } catch {
    return '<error>';
  }
  return s.length === 0 ? '<none>' : s;
}

/** labels.FormatLabels / SelectorFromSet(...).String(): "a=b,c=d" sorted, "<none>" when empty. */
export function formatLabels(labels: Record<string, string> | undefined | null): string {
  const keys = Object.keys(labels ?? {}).sort();
  if (keys.length === 0) return '<none>';
  return keys.map((k) => `${k}=${labels![k]}`).join(',');
}

/** A selector from a plain label set (Service spec.selector, RC spec.selector). */
export function selectorFromSet(set: Record<string, string> | undefined | null): Selector {
  const keys = Object.keys(set ?? {}).sort();
  return { requirements: keys.map((k) => ({ key: k, operator: '=' as Operator, values: [set![k]] })) };
}
