// resource.Quantity's parse and String() rules (k8s.io/apimachinery/pkg/api/resource), exactly:
// the apiserver decodes every quantity field and encodes it back, so what a client reads is the
// canonical form ("0.5" → "500m", "1024Mi" → "1Gi"), not what it wrote. Values are held as an
// exact decimal (bigint mantissa × 10^exponent) because floats cannot round at the nano like Go does.

export type QuantityFormat = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

export interface ParsedQuantity {
  /** Signed; the value is mantissa × 10^exponent, already rounded up (away from zero) to 1n. */
  mantissa: bigint;
  exponent: number;
  /** Taken from the suffix as written; BinarySI below 1 becomes DecimalSI, as in ParseQuantity. */
  format: QuantityFormat;
  /**
   * ParseQuantity keeps the string as written when it looks canonical already, and String() then
   * returns it untouched (so "100.035k" and "1E3" survive while "1000" becomes "1k").
   */
  verbatim?: string;
}

const decimalSuffixes: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const binarySuffixes: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const decimalByExponent = new Map(Object.entries(decimalSuffixes).map(([s, e]) => [e, s]));
const binaryByPower = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];
const suffixChars = 'eEinumkKMGTP';
const maxInt32 = 2 ** 31 - 1;
/** ParseQuantity caps BinarySI amounts at the largest int64. */
const maxAllowed = 2n ** 63n - 1n;
const maxInt64 = maxAllowed;

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const pow10 = (n: number): bigint => 10n ** BigInt(n);

interface Lexed {
  positive: boolean;
  num: string;
  denom: string;
  suffix: string;
}

/** parseQuantityString: sign, digits (leading zeros dropped), optional fraction, suffix. */
function lex(str: string): Lexed | undefined {
  let pos = 0;
  const end = str.length;
  let positive = true;
  if (str[0] === '-') {
    positive = false;
    pos++;
  } else if (str[0] === '+') pos++;
  while (pos < end && str[pos] === '0') pos++;
  if (pos >= end) return { positive, num: '0', denom: '', suffix: '' };
  let start = pos;
  while (isDigit(str[pos])) pos++;
  const num = str.slice(start, pos) || '0';
  let denom = '';
  if (str[pos] === '.') {
    pos++;
    start = pos;
    while (isDigit(str[pos])) pos++;
    denom = str.slice(start, pos);
  }
  const suffixStart = pos;
  while (pos < end && suffixChars.includes(str[pos])) pos++;
  if (str[pos] === '+' || str[pos] === '-') pos++;
  while (isDigit(str[pos])) pos++;
  if (pos < end) return undefined;
  return { positive, num, denom, suffix: str.slice(suffixStart) };
}

/** The suffix's base, exponent and format, or undefined for an unknown suffix. */
function interpret(suffix: string): { base: 2 | 10; exponent: number; format: QuantityFormat } | undefined {
  if (suffix in decimalSuffixes) return { base: 10, exponent: decimalSuffixes[suffix], format: 'DecimalSI' };
  if (suffix in binarySuffixes) return { base: 2, exponent: binarySuffixes[suffix], format: 'BinarySI' };
  if (suffix.length > 1 && (suffix[0] === 'e' || suffix[0] === 'E') && /^[+-]?[0-9]+$/.test(suffix.slice(1))) {
    // An exponent past int32 is rejected rather than wrapped into an unrelated value.
    const exponent = Number(suffix.slice(1));
    if (Math.abs(exponent) > maxInt32) return undefined;
    return { base: 10, exponent, format: 'DecimalExponent' };
  }
  return undefined;
}

/** Whether ParseQuantity's int64 fast path would keep `str` as its cached string. */
function keepsWrittenForm(lexed: Lexed, base: 2 | 10, exponent: number): boolean {
  const { num, denom } = lexed;
  const shifted = num + denom;
  if (base === 10) {
    if (18 - shifted.length < 0) return false;
    const scale = exponent - denom.length;
    return scale >= -9 && scale % 3 === 0 && !shifted.endsWith('000') && shifted[0] !== '0';
  }
  if (denom.length > 0) return false;
  const precision = 15 - num.length - Math.trunc((exponent * 3) / 10) - 1;
  if (precision < 0) return false;
  const value = BigInt(shifted);
  if (value << BigInt(exponent) > maxInt64) return false;
  return exponent % 10 === 0 && (value & 7n) !== 0n;
}

/** ParseQuantity: undefined where Kubernetes answers ErrFormatWrong/ErrSuffix/ErrNumeric. */
export function parseKubeQuantity(input: string): ParsedQuantity | undefined {
  if (input.length === 0) return undefined;
  if (input === '0') return { mantissa: 0n, exponent: 0, format: 'DecimalSI', verbatim: '0' };
  const lexed = lex(input);
  if (!lexed) return undefined;
  const suffix = interpret(lexed.suffix);
  if (!suffix) return undefined;
  let format = suffix.format;
  const verbatim = keepsWrittenForm(lexed, suffix.base, suffix.exponent) ? input : undefined;

  let abs = BigInt(lexed.num + lexed.denom);
  let exponent = -lexed.denom.length;
  if (suffix.base === 10) exponent += suffix.exponent;
  else abs <<= BigInt(suffix.exponent);

  // Non-zero amounts round up to the nano: asking for a sliver of a resource still gets some.
  if (exponent < -9 && abs !== 0n) {
    const drop = -9 - exponent;
    if (abs.toString().length <= drop) abs = 1n;
    else {
      const divisor = pow10(drop);
      abs = abs / divisor + (abs % divisor === 0n ? 0n : 1n);
    }
    exponent = -9;
  }
  if (format === 'BinarySI') {
    const limit = exponent < 0 ? maxAllowed * pow10(-exponent) : maxAllowed;
    if (exponent <= 0 && abs > limit) {
      abs = maxAllowed;
      exponent = 0;
    }
    // Between 0 and 1 a binary suffix can only mislead; such amounts print as decimals.
    if (abs !== 0n && exponent < 0 && abs < pow10(-exponent)) format = 'DecimalSI';
  }
  return { mantissa: lexed.positive ? abs : -abs, exponent, format, verbatim };
}

/** Quantity.String(): CanonicalizeBytes of the parsed amount (or the kept written form). */
export function formatQuantity(q: ParsedQuantity): string {
  if (q.verbatim !== undefined) return q.verbatim;
  if (q.mantissa === 0n) return '0';
  const sign = q.mantissa < 0n ? '-' : '';
  let m = q.mantissa < 0n ? -q.mantissa : q.mantissa;
  let e = q.exponent;
  let format = q.format;
  if (format === 'BinarySI') {
    const integral = e >= 0 || m % pow10(-e) === 0n;
    const whole = e >= 0 ? m * pow10(e) : m / pow10(-e);
    // Small or fractional binary amounts would need rounding to show in Ki/Mi…: print them decimal.
    if (!integral || whole < 1024n) format = 'DecimalSI';
    else {
      let power = 0;
      let v = whole;
      while (v >= 1024n && v % 1024n === 0n && power < binaryByPower.length - 1) {
        v /= 1024n;
        power++;
      }
      if (v % 1024n !== 0n || v < 1024n) return `${sign}${v}${binaryByPower[power]}`;
      format = 'DecimalSI';
    }
  }
  while (m >= 10n && m % 10n === 0n) {
    m /= 10n;
    e++;
  }
  // Exponents move to a multiple of three so a decimal SI suffix (or e-notation) can name them.
  const shift = ((e % 3) + 3) % 3;
  if (shift) {
    m *= pow10(shift);
    e -= shift;
  }
  if (format === 'DecimalSI') {
    const s = decimalByExponent.get(e);
    // No SI suffix past E (or below n): e-notation keeps the magnitude instead of dropping it.
    return `${sign}${m}${s ?? `e${e}`}`;
  }
  return `${sign}${m}${e === 0 ? '' : `e${e}`}`;
}

/** A JSON number arrives as text in Go; JS gives the shortest round-tripping text for it. */
function asText(q: unknown): string | undefined {
  if (typeof q === 'string') return q.trim();
  if (typeof q === 'number' && Number.isFinite(q)) return String(q);
  return undefined;
}

/** The canonical form of a quantity, or undefined when Kubernetes would not parse it. */
export function canonicalizeQuantity(q: unknown): string | undefined {
  const text = asText(q);
  if (text === undefined) return undefined;
  const parsed = parseKubeQuantity(text);
  return parsed ? formatQuantity(parsed) : undefined;
}

/** How Kubernetes prints a quantity in messages; what does not parse is shown as written. */
export function canonicalQuantity(q: unknown): string {
  return canonicalizeQuantity(q) ?? String(q ?? '');
}
