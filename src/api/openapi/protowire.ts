/// <reference types="node" />
// A small protocol-buffers wire-format writer: enough of proto3 for gnostic's OpenAPI v2 messages
// (strings, bools, int64, doubles, nested and repeated messages). Field presence follows proto3:
// a scalar equal to its default (0, false, "") is not written, except inside a oneof, where the
// caller says so with `always`, because there the chosen member must be visible even when it is 0.

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH_DELIMITED = 2;

/**
 * Collects the encoding of one message as a list of chunks; a nested message is built in its own
 * writer first (its length must precede it) and its chunks are then adopted without copying, so a
 * deep document costs one final concatenation.
 */
export class ProtoWriter {
  private chunks: Uint8Array[] = [];
  private size = 0;

  get length(): number {
    return this.size;
  }

  private push(chunk: Uint8Array): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  private tag(field: number, wireType: number): void {
    this.push(encodeVarint(field * 8 + wireType));
  }

  string(field: number, value: string | undefined, always = false): this {
    if (value === undefined || (value === '' && !always)) return this;
    const bytes = Buffer.from(value, 'utf8');
    this.tag(field, WIRE_LENGTH_DELIMITED);
    this.push(encodeVarint(bytes.length));
    this.push(bytes);
    return this;
  }

  /** Each element is its own field occurrence: repeated strings and messages are never packed. */
  repeatedString(field: number, values: readonly string[] | undefined): this {
    for (const value of values ?? []) this.string(field, value, true);
    return this;
  }

  bool(field: number, value: boolean | undefined, always = false): this {
    if (value === undefined || (!value && !always)) return this;
    this.tag(field, WIRE_VARINT);
    this.push(Uint8Array.of(value ? 1 : 0));
    return this;
  }

  /** int64: two's complement, so a negative value takes ten bytes. */
  int64(field: number, value: number | bigint | undefined, always = false): this {
    if (value === undefined || (value == 0 && !always)) return this;
    this.tag(field, WIRE_VARINT);
    this.push(encodeVarint(BigInt.asUintN(64, BigInt(value))));
    return this;
  }

  double(field: number, value: number | undefined, always = false): this {
    // -0 is not the default: proto3 writes it (its bits differ from +0).
    if (value === undefined || (value === 0 && !Object.is(value, -0) && !always)) return this;
    this.tag(field, WIRE_FIXED64);
    const bytes = Buffer.alloc(8);
    bytes.writeDoubleLE(value);
    this.push(bytes);
    return this;
  }

  /** proto3 packs repeated scalar numbers into one length-delimited field. */
  packedInt64(field: number, values: readonly (number | bigint)[] | undefined): this {
    if (!values || values.length === 0) return this;
    const body = new ProtoWriter();
    for (const value of values) body.push(encodeVarint(BigInt.asUintN(64, BigInt(value))));
    return this.embed(field, body);
  }

  packedDouble(field: number, values: readonly number[] | undefined): this {
    if (!values || values.length === 0) return this;
    const bytes = Buffer.alloc(8 * values.length);
    values.forEach((value, i) => bytes.writeDoubleLE(value, 8 * i));
    const body = new ProtoWriter();
    body.push(bytes);
    return this.embed(field, body);
  }

  /** A nested message. Message fields have presence, so an empty message is still written. */
  message(field: number, build: (writer: ProtoWriter) => void): this {
    const body = new ProtoWriter();
    build(body);
    return this.embed(field, body);
  }

  private embed(field: number, body: ProtoWriter): this {
    this.tag(field, WIRE_LENGTH_DELIMITED);
    this.push(encodeVarint(body.size));
    for (const chunk of body.chunks) this.push(chunk);
    return this;
  }

  finish(): Buffer {
    return Buffer.concat(this.chunks, this.size);
  }
}

/** Base-128 varint, least significant group first, high bit set on every byte but the last. */
export function encodeVarint(value: number | bigint): Uint8Array {
  if (value < 0) throw new RangeError('varint of a negative number: encode it as uint64 first');
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new RangeError(`varint of ${value}`);
    // Lengths and tags: plain arithmetic (bit operators would stop at 2^31).
    const bytes: number[] = [];
    let rest = value;
    while (rest >= 0x80) {
      bytes.push((rest % 0x80) | 0x80);
      rest = Math.floor(rest / 0x80);
    }
    bytes.push(rest);
    return Uint8Array.from(bytes);
  }
  if (value < 0x80n) return Uint8Array.of(Number(value));
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80n) {
    bytes.push(Number(rest & 0x7fn) | 0x80);
    rest >>= 7n;
  }
  bytes.push(Number(rest));
  return Uint8Array.from(bytes);
}
