// Sets of field paths, the unit of ownership in server-side apply, and their FieldsV1 wire form.
// A path element is kept in its FieldsV1 spelling: `f:name` (a field), `k:{"name":"web"}` (a
// list-map item by its keys), `v:"value"` (a set item), `i:0` (an index, for completeness).

export type PathElement = string;
export type FieldPath = PathElement[];

/** A trie of path elements. `members` are the paths that are themselves in the set; `children`
 *  hold longer paths. An element can be both (a list item that is owned and has owned fields). */
export class FieldSet {
  readonly members = new Set<PathElement>();
  readonly children = new Map<PathElement, FieldSet>();

  static fromPaths(paths: Iterable<FieldPath>): FieldSet {
    const set = new FieldSet();
    for (const path of paths) set.insert(path);
    return set;
  }

  insert(path: FieldPath): void {
    if (path.length === 0) return;
    let node: FieldSet = this;
    for (const element of path.slice(0, -1)) {
      let child = node.children.get(element);
      if (!child) {
        child = new FieldSet();
        node.children.set(element, child);
      }
      node = child;
    }
    node.members.add(path[path.length - 1]!);
  }

  has(path: FieldPath): boolean {
    const node = this.nodeAt(path.slice(0, -1));
    return node !== undefined && node.members.has(path[path.length - 1]!);
  }

  /** True when the set holds `path` or anything below it. */
  hasPathOrDescendant(path: FieldPath): boolean {
    if (this.has(path)) return true;
    const node = this.nodeAt(path);
    return node !== undefined && !node.isEmpty();
  }

  /** True when the set holds something strictly below `path`. */
  hasDescendant(path: FieldPath): boolean {
    const node = this.nodeAt(path);
    return node !== undefined && !node.isEmpty();
  }

  private nodeAt(path: FieldPath): FieldSet | undefined {
    let node: FieldSet | undefined = this;
    for (const element of path) {
      node = node.children.get(element);
      if (!node) return undefined;
    }
    return node;
  }

  isEmpty(): boolean {
    if (this.members.size > 0) return false;
    for (const child of this.children.values()) if (!child.isEmpty()) return false;
    return true;
  }

  /** Every member path, in FieldsV1 order. */
  paths(): FieldPath[] {
    const result: FieldPath[] = [];
    const walk = (node: FieldSet, prefix: FieldPath) => {
      for (const element of sortedElements(new Set([...node.members, ...node.children.keys()]))) {
        if (node.members.has(element)) result.push([...prefix, element]);
        const child = node.children.get(element);
        if (child) walk(child, [...prefix, element]);
      }
    };
    walk(this, []);
    return result;
  }

  // Set algebra walks the two tries together: every write computes a few of these per manager.
  union(other: FieldSet): FieldSet {
    const result = this.clone();
    result.addAll(other);
    return result;
  }

  private addAll(other: FieldSet): void {
    for (const member of other.members) this.members.add(member);
    for (const [element, child] of other.children) {
      const mine = this.children.get(element);
      if (mine) mine.addAll(child);
      else this.children.set(element, child.clone());
    }
  }

  difference(other: FieldSet): FieldSet {
    const result = new FieldSet();
    for (const member of this.members) if (!other.members.has(member)) result.members.add(member);
    for (const [element, child] of this.children) {
      const theirs = other.children.get(element);
      const remaining = theirs ? child.difference(theirs) : child.clone();
      if (!remaining.isEmpty()) result.children.set(element, remaining);
    }
    return result;
  }

  intersection(other: FieldSet): FieldSet {
    const result = new FieldSet();
    for (const member of this.members) if (other.members.has(member)) result.members.add(member);
    for (const [element, child] of this.children) {
      const theirs = other.children.get(element);
      if (!theirs) continue;
      const common = child.intersection(theirs);
      if (!common.isEmpty()) result.children.set(element, common);
    }
    return result;
  }

  equals(other: FieldSet): boolean {
    if (this.members.size !== other.members.size) return false;
    for (const member of this.members) if (!other.members.has(member)) return false;
    const mine = [...this.children].filter(([, child]) => !child.isEmpty());
    const theirs = [...other.children].filter(([, child]) => !child.isEmpty());
    if (mine.length !== theirs.length) return false;
    return mine.every(([element, child]) => {
      const counterpart = other.children.get(element);
      return counterpart !== undefined && child.equals(counterpart);
    });
  }

  /** True when the two sets share a path; cheaper than building the intersection. */
  overlaps(other: FieldSet): boolean {
    for (const member of this.members) if (other.members.has(member)) return true;
    for (const [element, child] of this.children) {
      const theirs = other.children.get(element);
      if (theirs && child.overlaps(theirs)) return true;
    }
    return false;
  }

  clone(): FieldSet {
    const copy = new FieldSet();
    for (const member of this.members) copy.members.add(member);
    for (const [element, child] of this.children) copy.children.set(element, child.clone());
    return copy;
  }

  /** The `fieldsV1` object of a managedFields entry. */
  toFieldsV1(): Record<string, unknown> {
    const encode = (node: FieldSet): Record<string, unknown> => {
      const out: Record<string, unknown> = {};
      for (const element of sortedElements(new Set([...node.members, ...node.children.keys()]))) {
        const child = node.children.get(element);
        if (child && !child.isEmpty()) {
          const encoded = encode(child);
          out[element] = node.members.has(element) ? { '.': {}, ...encoded } : encoded;
        } else if (node.members.has(element)) {
          out[element] = {};
        }
      }
      return out;
    };
    return encode(this);
  }

  static fromFieldsV1(fields: unknown): FieldSet {
    const set = new FieldSet();
    const decode = (value: unknown, prefix: FieldPath) => {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return;
      const entries = Object.entries(value as Record<string, unknown>);
      for (const [element, child] of entries) {
        if (element === '.') {
          if (prefix.length > 0) set.insert(prefix);
          continue;
        }
        const path = [...prefix, element];
        const isLeaf = typeof child !== 'object' || child === null || Object.keys(child).length === 0;
        if (isLeaf) set.insert(path);
        else decode(child, path);
      }
    };
    decode(fields, []);
    return set;
  }
}

const kindOrder: Record<string, number> = { f: 0, k: 1, v: 2, i: 3 };

function sortedElements(elements: Set<PathElement>): PathElement[] {
  return [...elements].sort((a, b) => {
    const byKind = (kindOrder[a[0]!] ?? 9) - (kindOrder[b[0]!] ?? 9);
    if (byKind !== 0) return byKind;
    return a < b ? -1 : a > b ? 1 : 0;
  });
}

export function fieldElement(name: string): PathElement {
  return `f:${name}`;
}

/** List-map items are named by their key fields, in key-name order as Kubernetes writes them. */
export function keyElement(keys: Record<string, unknown>): PathElement {
  const sorted: Record<string, unknown> = {};
  for (const name of Object.keys(keys).sort()) sorted[name] = keys[name];
  return `k:${JSON.stringify(sorted)}`;
}

export function valueElement(value: unknown): PathElement {
  return `v:${JSON.stringify(value)}`;
}

/** A path as Kubernetes prints it in conflict messages: `.spec.containers[name="web"].image`. */
export function formatFieldPath(path: FieldPath): string {
  return path
    .map((element) => {
      const body = element.slice(2);
      switch (element[0]) {
        case 'f':
          return `.${body}`;
        case 'k': {
          const keys = JSON.parse(body) as Record<string, unknown>;
          return `[${Object.entries(keys).map(([name, value]) => `${name}=${JSON.stringify(value)}`).join(',')}]`;
        }
        case 'v':
          return `[=${body}]`;
        case 'i':
          return `[${body}]`;
        default:
          return element;
      }
    })
    .join('');
}
