/// <reference types="node" />
// The swagger 2.0 document as gnostic's `openapi.v2.Document` protobuf
// (github.com/google/gnostic-models, openapiv2/OpenAPIv2.proto), which is what client-go's
// discovery `OpenAPISchema()` always decodes from /openapi/v2: kubectl up to 1.27 reads it for
// `explain`, client-side validation and for finding the fieldValidation query parameter.
//
// The mapping follows gnostic's compiler (openapiv2/OpenAPIv2.go): JSON objects keyed by names
// become repeated Named* pairs in document order, `$ref` becomes `_ref`, `type` a TypeItem,
// `items` an ItemsItem, `additionalProperties` a oneof of schema or boolean, parameters a oneof of
// body / non-body (header, formData, query, path) or a JsonReference, and every `x-` key a NamedAny
// whose Any carries the value as YAML text (kube-openapi parses it back with YAML 1.1 rules, hence
// the 1.1 quoting of yes/no/on/off). Keys the proto has no field for are dropped, as gnostic does.
import YAML from 'yaml';
import { ProtoWriter } from './protowire.js';

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);
const int = (value: unknown): number | undefined => (typeof value === 'number' && Number.isInteger(value) ? value : undefined);
const bool = (value: unknown): boolean | undefined => (typeof value === 'boolean' ? value : undefined);
const strings = (value: unknown): string[] | undefined => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : undefined);
const objects = (value: unknown): Json[] => (Array.isArray(value) ? value.filter(isObject) : []);

/** Encodes a swagger 2.0 JSON document as a serialized `openapi.v2.Document`. */
export function encodeOpenApiV2Proto(document: Json): Buffer {
  const w = new ProtoWriter();
  writeDocument(w, document);
  return w.finish();
}

function writeDocument(w: ProtoWriter, doc: Json): void {
  w.string(1, str(doc.swagger));
  if (isObject(doc.info)) w.message(2, (m) => writeInfo(m, doc.info as Json));
  w.string(3, str(doc.host));
  w.string(4, str(doc.basePath));
  w.repeatedString(5, strings(doc.schemes));
  w.repeatedString(6, strings(doc.consumes));
  w.repeatedString(7, strings(doc.produces));
  if (isObject(doc.paths)) w.message(8, (m) => writePaths(m, doc.paths as Json));
  if (isObject(doc.definitions)) w.message(9, (m) => writeNamed(m, 1, doc.definitions as Json, writeSchema));
  if (isObject(doc.parameters)) w.message(10, (m) => writeNamed(m, 1, doc.parameters as Json, writeParameter));
  if (isObject(doc.responses)) w.message(11, (m) => writeNamed(m, 1, doc.responses as Json, writeResponse));
  for (const requirement of objects(doc.security)) w.message(12, (m) => writeSecurityRequirement(m, requirement));
  if (isObject(doc.securityDefinitions)) w.message(13, (m) => writeNamed(m, 1, doc.securityDefinitions as Json, writeSecurityDefinitionsItem));
  for (const tag of objects(doc.tags)) w.message(14, (m) => writeTag(m, tag));
  if (isObject(doc.externalDocs)) w.message(15, (m) => writeExternalDocs(m, doc.externalDocs as Json));
  writeVendorExtensions(w, 16, doc);
}

/** A `Named<T>` pair per key, in document order: `{ name = 1; value = 2 }`. */
function writeNamed(w: ProtoWriter, field: number, map: Json, writeValue: (m: ProtoWriter, value: Json) => void): void {
  for (const [name, value] of Object.entries(map)) {
    if (!isObject(value)) continue;
    w.message(field, (pair) => {
      pair.string(1, name);
      pair.message(2, (m) => writeValue(m, value));
    });
  }
}

/** Every `x-` key as NamedAny{name, Any{yaml}}. */
function writeVendorExtensions(w: ProtoWriter, field: number, object: Json): void {
  for (const [name, value] of Object.entries(object)) {
    if (!name.startsWith('x-') || value === undefined) continue;
    w.message(field, (pair) => {
      pair.string(1, name);
      pair.message(2, (any) => writeAny(any, value));
    });
  }
}

/** `Any { google.protobuf.Any value = 1; string yaml = 2; }`: gnostic fills only yaml. */
function writeAny(w: ProtoWriter, value: unknown): void {
  w.string(2, YAML.stringify(value, { version: '1.1', lineWidth: 0 }));
}

function writeInfo(w: ProtoWriter, info: Json): void {
  w.string(1, str(info.title));
  w.string(2, str(info.version));
  w.string(3, str(info.description));
  w.string(4, str(info.termsOfService));
  if (isObject(info.contact)) {
    const contact = info.contact;
    w.message(5, (m) => {
      m.string(1, str(contact.name)).string(2, str(contact.url)).string(3, str(contact.email));
      writeVendorExtensions(m, 4, contact);
    });
  }
  if (isObject(info.license)) {
    const license = info.license;
    w.message(6, (m) => {
      m.string(1, str(license.name)).string(2, str(license.url));
      writeVendorExtensions(m, 3, license);
    });
  }
  writeVendorExtensions(w, 7, info);
}

function writeExternalDocs(w: ProtoWriter, docs: Json): void {
  w.string(1, str(docs.description)).string(2, str(docs.url));
  writeVendorExtensions(w, 3, docs);
}

function writeTag(w: ProtoWriter, tag: Json): void {
  w.string(1, str(tag.name)).string(2, str(tag.description));
  if (isObject(tag.externalDocs)) w.message(3, (m) => writeExternalDocs(m, tag.externalDocs as Json));
  writeVendorExtensions(w, 4, tag);
}

// --- paths and operations -------------------------------------------------------------------------

/** `Paths { vendor_extension = 1; path = 2 }`: keys starting with "/" are paths. */
function writePaths(w: ProtoWriter, paths: Json): void {
  writeVendorExtensions(w, 1, paths);
  for (const [name, item] of Object.entries(paths)) {
    if (!name.startsWith('/') || !isObject(item)) continue;
    w.message(2, (pair) => {
      pair.string(1, name);
      pair.message(2, (m) => writePathItem(m, item));
    });
  }
}

const PATH_ITEM_METHODS = [['get', 2], ['put', 3], ['post', 4], ['delete', 5], ['options', 6], ['head', 7], ['patch', 8]] as const;

function writePathItem(w: ProtoWriter, item: Json): void {
  w.string(1, str(item.$ref));
  for (const [method, field] of PATH_ITEM_METHODS) {
    const operation = item[method];
    if (isObject(operation)) w.message(field, (m) => writeOperation(m, operation));
  }
  for (const parameter of objects(item.parameters)) w.message(9, (m) => writeParametersItem(m, parameter));
  writeVendorExtensions(w, 10, item);
}

function writeOperation(w: ProtoWriter, op: Json): void {
  w.repeatedString(1, strings(op.tags));
  w.string(2, str(op.summary));
  w.string(3, str(op.description));
  if (isObject(op.externalDocs)) w.message(4, (m) => writeExternalDocs(m, op.externalDocs as Json));
  w.string(5, str(op.operationId));
  w.repeatedString(6, strings(op.produces));
  w.repeatedString(7, strings(op.consumes));
  for (const parameter of objects(op.parameters)) w.message(8, (m) => writeParametersItem(m, parameter));
  if (isObject(op.responses)) w.message(9, (m) => writeResponses(m, op.responses as Json));
  w.repeatedString(10, strings(op.schemes));
  w.bool(11, bool(op.deprecated));
  for (const requirement of objects(op.security)) w.message(12, (m) => writeSecurityRequirement(m, requirement));
  writeVendorExtensions(w, 13, op);
}

/** `ParametersItem { oneof { Parameter parameter = 1; JsonReference json_reference = 2; } }` */
function writeParametersItem(w: ProtoWriter, parameter: Json): void {
  if (typeof parameter.$ref === 'string') w.message(2, (m) => writeJsonReference(m, parameter));
  else w.message(1, (m) => writeParameter(m, parameter));
}

function writeJsonReference(w: ProtoWriter, reference: Json): void {
  w.string(1, str(reference.$ref)).string(2, str(reference.description));
}

/** `Parameter { oneof { BodyParameter body_parameter = 1; NonBodyParameter non_body_parameter = 2; } }` */
function writeParameter(w: ProtoWriter, parameter: Json): void {
  if (parameter.in === 'body') {
    w.message(1, (m) => {
      m.string(1, str(parameter.description));
      m.string(2, str(parameter.name));
      m.string(3, str(parameter.in));
      m.bool(4, bool(parameter.required));
      if (isObject(parameter.schema)) m.message(5, (s) => writeSchema(s, parameter.schema as Json));
      writeVendorExtensions(m, 6, parameter);
    });
    return;
  }
  // NonBodyParameter's oneof member, and where its primitive fields (type … multiple_of) start:
  // query and formData have allow_empty_value = 5 before them, header and path do not.
  const variant = ({ header: [1, 5], formData: [2, 6], query: [3, 6], path: [4, 5] } as Record<string, [number, number]>)[str(parameter.in) ?? ''];
  if (!variant) return;
  const [member, primitivesStart] = variant;
  w.message(2, (nonBody) => nonBody.message(member, (m) => {
    m.bool(1, bool(parameter.required));
    m.string(2, str(parameter.in));
    m.string(3, str(parameter.description));
    m.string(4, str(parameter.name));
    if (primitivesStart === 6) m.bool(5, bool(parameter.allowEmptyValue));
    writePrimitives(m, primitivesStart, parameter);
    writeVendorExtensions(m, primitivesStart + 17, parameter);
  }));
}

/**
 * The run of fields shared by PrimitivesItems, Header and the non-body parameter sub-schemas, in
 * this order from `start`: type, format, items, collection_format, default, maximum,
 * exclusive_maximum, minimum, exclusive_minimum, max_length, min_length, pattern, max_items,
 * min_items, unique_items, enum, multiple_of.
 */
function writePrimitives(w: ProtoWriter, start: number, object: Json): void {
  w.string(start, str(object.type));
  w.string(start + 1, str(object.format));
  if (isObject(object.items)) w.message(start + 2, (m) => writePrimitivesItems(m, object.items as Json));
  w.string(start + 3, str(object.collectionFormat));
  if (object.default !== undefined) w.message(start + 4, (m) => writeAny(m, object.default));
  w.double(start + 5, num(object.maximum));
  w.bool(start + 6, bool(object.exclusiveMaximum));
  w.double(start + 7, num(object.minimum));
  w.bool(start + 8, bool(object.exclusiveMinimum));
  w.int64(start + 9, int(object.maxLength));
  w.int64(start + 10, int(object.minLength));
  w.string(start + 11, str(object.pattern));
  w.int64(start + 12, int(object.maxItems));
  w.int64(start + 13, int(object.minItems));
  w.bool(start + 14, bool(object.uniqueItems));
  if (Array.isArray(object.enum)) for (const value of object.enum) w.message(start + 15, (m) => writeAny(m, value));
  w.double(start + 16, num(object.multipleOf));
}

function writePrimitivesItems(w: ProtoWriter, items: Json): void {
  writePrimitives(w, 1, items);
  writeVendorExtensions(w, 18, items);
}

// --- responses --------------------------------------------------------------------------------------

/** `Responses { response_code = 1; vendor_extension = 2 }`: status codes and "default". */
function writeResponses(w: ProtoWriter, responses: Json): void {
  for (const [code, value] of Object.entries(responses)) {
    if (!/^([0-9]{3}|default)$/.test(code) || !isObject(value)) continue;
    w.message(1, (pair) => {
      pair.string(1, code);
      // ResponseValue { oneof { Response response = 1; JsonReference json_reference = 2; } }
      pair.message(2, (m) => {
        if (typeof value.$ref === 'string') m.message(2, (r) => writeJsonReference(r, value));
        else m.message(1, (r) => writeResponse(r, value));
      });
    });
  }
  writeVendorExtensions(w, 2, responses);
}

function writeResponse(w: ProtoWriter, response: Json): void {
  w.string(1, str(response.description));
  if (isObject(response.schema)) {
    const schema = response.schema;
    // SchemaItem { oneof { Schema schema = 1; FileSchema file_schema = 2; } }
    w.message(2, (item) => {
      if (schema.type === 'file') item.message(2, (m) => writeFileSchema(m, schema));
      else item.message(1, (m) => writeSchema(m, schema));
    });
  }
  if (isObject(response.headers)) {
    w.message(3, (m) => writeNamed(m, 1, response.headers as Json, (h, header) => {
      writePrimitives(h, 1, header);
      h.string(18, str(header.description));
      writeVendorExtensions(h, 19, header);
    }));
  }
  if (isObject(response.examples)) {
    const examples = response.examples;
    w.message(4, (m) => {
      for (const [name, value] of Object.entries(examples)) {
        m.message(1, (pair) => pair.string(1, name).message(2, (any) => writeAny(any, value)));
      }
    });
  }
  writeVendorExtensions(w, 5, response);
}

function writeFileSchema(w: ProtoWriter, schema: Json): void {
  w.string(1, str(schema.format));
  w.string(2, str(schema.title));
  w.string(3, str(schema.description));
  if (schema.default !== undefined) w.message(4, (m) => writeAny(m, schema.default));
  w.repeatedString(5, strings(schema.required));
  w.string(6, str(schema.type));
  w.bool(7, bool(schema.readOnly));
  if (isObject(schema.externalDocs)) w.message(8, (m) => writeExternalDocs(m, schema.externalDocs as Json));
  if (schema.example !== undefined) w.message(9, (m) => writeAny(m, schema.example));
  writeVendorExtensions(w, 10, schema);
}

// --- schemas ----------------------------------------------------------------------------------------

function writeSchema(w: ProtoWriter, schema: Json): void {
  w.string(1, str(schema.$ref));
  w.string(2, str(schema.format));
  w.string(3, str(schema.title));
  w.string(4, str(schema.description));
  if (schema.default !== undefined) w.message(5, (m) => writeAny(m, schema.default));
  w.double(6, num(schema.multipleOf));
  w.double(7, num(schema.maximum));
  w.bool(8, bool(schema.exclusiveMaximum));
  w.double(9, num(schema.minimum));
  w.bool(10, bool(schema.exclusiveMinimum));
  w.int64(11, int(schema.maxLength));
  w.int64(12, int(schema.minLength));
  w.string(13, str(schema.pattern));
  w.int64(14, int(schema.maxItems));
  w.int64(15, int(schema.minItems));
  w.bool(16, bool(schema.uniqueItems));
  w.int64(17, int(schema.maxProperties));
  w.int64(18, int(schema.minProperties));
  w.repeatedString(19, strings(schema.required));
  if (Array.isArray(schema.enum)) for (const value of schema.enum) w.message(20, (m) => writeAny(m, value));
  // AdditionalPropertiesItem { oneof { Schema schema = 1; bool boolean = 2; } }: `false` must be written.
  const additional = schema.additionalProperties;
  if (isObject(additional)) w.message(21, (m) => m.message(1, (s) => writeSchema(s, additional)));
  else if (typeof additional === 'boolean') w.message(21, (m) => m.bool(2, additional, true));
  // TypeItem { repeated string value = 1; }: a single type or a list of them.
  if (typeof schema.type === 'string' || Array.isArray(schema.type)) w.message(22, (m) => m.repeatedString(1, typeof schema.type === 'string' ? [schema.type] : strings(schema.type)));
  // ItemsItem { repeated Schema schema = 1; }: one schema, or a tuple of them.
  if (isObject(schema.items)) w.message(23, (m) => m.message(1, (s) => writeSchema(s, schema.items as Json)));
  else if (Array.isArray(schema.items)) w.message(23, (m) => { for (const item of objects(schema.items)) m.message(1, (s) => writeSchema(s, item)); });
  for (const part of objects(schema.allOf)) w.message(24, (m) => writeSchema(m, part));
  if (isObject(schema.properties)) w.message(25, (m) => writeNamed(m, 1, schema.properties as Json, writeSchema));
  w.string(26, str(schema.discriminator));
  w.bool(27, bool(schema.readOnly));
  if (isObject(schema.xml)) {
    const xml = schema.xml;
    w.message(28, (m) => {
      m.string(1, str(xml.name)).string(2, str(xml.namespace)).string(3, str(xml.prefix)).bool(4, bool(xml.attribute)).bool(5, bool(xml.wrapped));
      writeVendorExtensions(m, 6, xml);
    });
  }
  if (isObject(schema.externalDocs)) w.message(29, (m) => writeExternalDocs(m, schema.externalDocs as Json));
  if (schema.example !== undefined) w.message(30, (m) => writeAny(m, schema.example));
  writeVendorExtensions(w, 31, schema);
}

// --- security ---------------------------------------------------------------------------------------

/** `SecurityRequirement { repeated NamedStringArray additional_properties = 1; }` */
function writeSecurityRequirement(w: ProtoWriter, requirement: Json): void {
  for (const [name, scopes] of Object.entries(requirement)) {
    w.message(1, (pair) => {
      pair.string(1, name);
      pair.message(2, (m) => m.repeatedString(1, strings(scopes)));
    });
  }
}

/** The SecurityDefinitionsItem oneof member is chosen by `type` (and `flow` for oauth2). */
function writeSecurityDefinitionsItem(w: ProtoWriter, item: Json): void {
  const type = str(item.type);
  const scopes = (m: ProtoWriter): void => {
    if (!isObject(item.scopes)) return;
    const all = item.scopes;
    m.message(3, (s) => {
      for (const [name, value] of Object.entries(all)) s.message(1, (pair) => pair.string(1, name).string(2, str(value)));
    });
  };
  if (type === 'basic') {
    w.message(1, (m) => {
      m.string(1, type).string(2, str(item.description));
      writeVendorExtensions(m, 3, item);
    });
  } else if (type === 'apiKey') {
    w.message(2, (m) => {
      m.string(1, type).string(2, str(item.name)).string(3, str(item.in)).string(4, str(item.description));
      writeVendorExtensions(m, 5, item);
    });
  } else if (type === 'oauth2') {
    const flow = str(item.flow);
    if (flow === 'implicit') {
      w.message(3, (m) => {
        m.string(1, type).string(2, flow);
        scopes(m);
        m.string(4, str(item.authorizationUrl)).string(5, str(item.description));
        writeVendorExtensions(m, 6, item);
      });
    } else if (flow === 'password' || flow === 'application') {
      w.message(flow === 'password' ? 4 : 5, (m) => {
        m.string(1, type).string(2, flow);
        scopes(m);
        m.string(4, str(item.tokenUrl)).string(5, str(item.description));
        writeVendorExtensions(m, 6, item);
      });
    } else if (flow === 'accessCode') {
      w.message(6, (m) => {
        m.string(1, type).string(2, flow);
        scopes(m);
        m.string(4, str(item.authorizationUrl)).string(5, str(item.tokenUrl)).string(6, str(item.description));
        writeVendorExtensions(m, 7, item);
      });
    }
  }
}
