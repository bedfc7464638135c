// Content negotiation for /openapi/v2, as kube-openapi's handler does it: the Accept clauses are
// tried best first (by q, then by specificity) against JSON and the two spellings of gnostic's
// protobuf media type. Either spelling is answered with the dotted one: Go's mime.ParseMediaType
// rejects "@", and client-go parses the response's Content-Type before it looks at the body
// ("mime: unexpected content after media subtype"). No match means 406.

export const OPENAPI_V2_PROTOBUF = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';
/** The same media type spelled without "@", for clients whose MIME parsers reject it. */
export const OPENAPI_V2_PROTOBUF_DOTTED = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';

export type OpenApiV2Format = { format: 'json' | 'protobuf'; contentType: string };

const OFFERED: (OpenApiV2Format & { accepts?: string })[] = [
  { format: 'json', contentType: 'application/json' },
  { format: 'protobuf', accepts: OPENAPI_V2_PROTOBUF, contentType: OPENAPI_V2_PROTOBUF_DOTTED },
  { format: 'protobuf', contentType: OPENAPI_V2_PROTOBUF_DOTTED },
];

interface Clause { type: string; subtype: string; q: number; index: number }

function parseAccept(header: string): Clause[] {
  const clauses: Clause[] = [];
  header.split(',').forEach((part, index) => {
    const [range, ...params] = part.split(';').map((s) => s.trim());
    if (!range) return;
    const slash = range.indexOf('/');
    const type = slash < 0 ? range : range.slice(0, slash);
    const subtype = slash < 0 ? '*' : range.slice(slash + 1);
    let q = 1;
    for (const param of params) {
      const [key, value] = param.split('=').map((s) => s.trim());
      if (key === 'q' && value !== undefined && !Number.isNaN(Number(value))) q = Number(value);
    }
    if (q > 0) clauses.push({ type: type.toLowerCase(), subtype: subtype.toLowerCase(), q, index });
  });
  const specificity = (c: Clause) => (c.type === '*' ? 0 : c.subtype === '*' ? 1 : 2);
  return clauses.sort((a, b) => b.q - a.q || specificity(b) - specificity(a) || a.index - b.index);
}

/** The representation to serve for this Accept header (absent means any), or undefined for 406. */
export function negotiateOpenApiV2(accept: string | undefined): OpenApiV2Format | undefined {
  for (const clause of parseAccept(accept?.trim() ? accept : '*/*')) {
    for (const offer of OFFERED) {
      const [type, subtype] = (offer.accepts ?? offer.contentType).split('/');
      if ((clause.type === type || clause.type === '*') && (clause.subtype === subtype || clause.subtype === '*')) return { format: offer.format, contentType: offer.contentType };
    }
  }
  return undefined;
}
