/// <reference types="node" />
// Reads the model classes that @kubernetes/client-node generates from Kubernetes' OpenAPI spec:
// field names and types from each class's `attributeTypeMap` (models/X.js), descriptions and
// required-ness from the doc comments and `?` markers of its declaration (models/X.d.ts).
// Files are read synchronously, one class at a time, only when a schema needs it: nothing at import.
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ModelField {
  /** JSON name on the wire (the generator's baseName: "default", "$ref", "x-kubernetes-list-type"). */
  jsonName: string;
  /** The generator's TypeScript type: "string", "number", "Array<V1Container>", "{ [key: string]: string; }", "Date", "IntOrString", "any", "V1ObjectMeta". */
  type: string;
  /** OpenAPI format: "int32", "int64", "byte", "date-time", "date-time-micro", "int-or-string" or "". */
  format: string;
  description?: string;
  required: boolean;
}

export interface ModelClass {
  className: string;
  description?: string;
  fields: ModelField[];
}

/** Where model classes come from; tests can hand in a fake. */
export interface ModelSource {
  readModel(className: string): ModelClass | undefined;
}

interface RawAttribute { name: string; baseName: string; type: string; format: string }

function unescapeDoc(text: string): string {
  return text.replace(/\\(['"\\/])/g, '$1').trim();
}

/** Parses a generated `.d.ts`: the class doc comment and, per TS property name, its doc and required-ness. */
export function parseModelDeclaration(source: string): { description?: string; properties: Map<string, { description?: string; required: boolean }> } {
  const properties = new Map<string, { description?: string; required: boolean }>();
  let description: string | undefined;
  let pendingDoc: string[] | undefined;
  let docLines: string[] | undefined;
  for (const line of source.split('\n')) {
    const trimmed = line.trim();
    if (docLines) {
      if (trimmed.startsWith('*/')) {
        pendingDoc = docLines;
        docLines = undefined;
      } else {
        docLines.push(trimmed.replace(/^\*\s?/, ''));
      }
      continue;
    }
    if (trimmed.startsWith('/**')) {
      docLines = [];
      continue;
    }
    if (trimmed.startsWith('export declare class')) {
      if (pendingDoc) description = unescapeDoc(pendingDoc.join(' '));
      pendingDoc = undefined;
      continue;
    }
    const property = /^'([^']+)'(\?)?:/.exec(trimmed);
    if (property) {
      properties.set(property[1]!, {
        description: pendingDoc ? unescapeDoc(pendingDoc.join(' ')) || undefined : undefined,
        required: property[2] !== '?',
      });
    }
    if (trimmed) pendingDoc = undefined;
  }
  return { description, properties };
}

/** Extracts the `X.attributeTypeMap = [...]` literal (plain JSON as generated). */
export function parseAttributeTypeMap(source: string, className: string): RawAttribute[] | undefined {
  const marker = `${className}.attributeTypeMap = `;
  const start = source.indexOf(marker);
  if (start < 0) return undefined;
  const end = source.indexOf('];', start);
  if (end < 0) return undefined;
  return JSON.parse(source.slice(start + marker.length, end + 1)) as RawAttribute[];
}

/** The model directory of the installed @kubernetes/client-node. */
export function clientNodeModelsDirectory(): string {
  const entry = fileURLToPath(import.meta.resolve('@kubernetes/client-node'));
  return join(dirname(entry), 'gen', 'models');
}

export function clientNodeModelSource(directory: string = clientNodeModelsDirectory()): ModelSource {
  return {
    readModel(className) {
      if (!/^[A-Za-z0-9]+$/.test(className)) return undefined;
      const jsPath = join(directory, `${className}.js`);
      if (!existsSync(jsPath)) return undefined;
      const attributes = parseAttributeTypeMap(readFileSync(jsPath, 'utf8'), className);
      if (!attributes) return undefined;
      const dtsPath = join(directory, `${className}.d.ts`);
      const declaration = existsSync(dtsPath)
        ? parseModelDeclaration(readFileSync(dtsPath, 'utf8'))
        : { description: undefined, properties: new Map<string, { description?: string; required: boolean }>() };
      return {
        className,
        description: declaration.description,
        fields: attributes.map((attribute) => {
          const doc = declaration.properties.get(attribute.name);
          return {
            jsonName: attribute.baseName,
            type: attribute.type,
            format: attribute.format,
            description: doc?.description,
            required: doc?.required ?? false,
          };
        }),
      };
    },
  };
}
