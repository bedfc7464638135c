// A small YAML writer for showing API objects (block style, like `kubectl get -o yaml`).
// Display only: the dashboard never parses YAML. Pure: importable in Node for tests.

const plainUnsafe = /^(?:[-?:,[\]{}#&*!|>'"%@`]|\s)|\s$|: |\s#|[\u0000-\u001f\u007f]/;
const lookalikes = /^(?:true|false|yes|no|on|off|y|n|null|~|[-+]?(?:\d[\d_]*)?\.?\d+(?:[eE][-+]?\d+)?|0x[0-9a-fA-F]+|0o[0-7]+|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/i;

function needsQuotes(text) {
  return text === '' || plainUnsafe.test(text) || lookalikes.test(text) || text.endsWith(':');
}

function scalar(value) {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean' || typeof value === 'number') return String(value);
  const text = String(value);
  // JSON's double-quoted strings are valid YAML double-quoted scalars.
  return needsQuotes(text) ? JSON.stringify(text) : text;
}

function isCompound(value) {
  return value !== null && typeof value === 'object' && (Array.isArray(value) ? value.length > 0 : Object.keys(value).length > 0);
}

function isBlockString(value) {
  return typeof value === 'string' && value.includes('\n') && !/[\u0000-\u0009\u000b-\u001f\u007f]/.test(value) && !/^\s/.test(value);
}

/** "key: value" or "- value" tail for an inline value; [] and {} stay inline. */
function inline(value) {
  if (Array.isArray(value)) return '[]';
  if (value !== null && typeof value === 'object') return '{}';
  return scalar(value);
}

function blockString(value, indent) {
  const chomp = value.endsWith('\n') ? (value.endsWith('\n\n') ? '+' : '') : '-';
  const body = value.endsWith('\n') ? value.replace(/\n+$/, (m) => (chomp === '+' ? m.slice(1) : '')) : value;
  const pad = ' '.repeat(indent);
  return { head: `|${chomp}`, lines: body.split('\n').map((l) => (l ? pad + l : '')) };
}

function lines(value, indent, out) {
  const pad = ' '.repeat(indent);
  if (Array.isArray(value)) {
    for (const item of value) {
      if (isCompound(item)) {
        const start = out.length;
        lines(item, indent + 2, out);
        out[start] = `${pad}- ${out[start].slice(indent + 2)}`;
      } else if (isBlockString(item)) {
        const block = blockString(item, indent + 2);
        out.push(`${pad}- ${block.head}`, ...block.lines);
      } else {
        out.push(`${pad}- ${inline(item)}`);
      }
    }
    return;
  }
  for (const [key, item] of Object.entries(value)) {
    const name = scalar(key);
    if (isCompound(item)) {
      out.push(`${pad}${name}:`);
      // Sequences sit at their key's indentation, as kubectl writes them.
      lines(item, Array.isArray(item) ? indent : indent + 2, out);
    } else if (isBlockString(item)) {
      const block = blockString(item, indent + 2);
      out.push(`${pad}${name}: ${block.head}`, ...block.lines);
    } else {
      out.push(`${pad}${name}: ${inline(item)}`);
    }
  }
}

export function toYaml(value) {
  if (!isCompound(value)) return `${isBlockString(value) ? JSON.stringify(value) : inline(value)}\n`;
  const out = [];
  lines(value, 0, out);
  return `${out.join('\n')}\n`;
}
