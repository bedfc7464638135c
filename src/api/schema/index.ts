export {
  createSchemaRegistry,
  definitionName,
  definitionPackage,
  INT_OR_STRING,
  META,
  MICRO_TIME,
  QUANTITY,
  RAW_EXTENSION,
  TIME,
  type SchemaRegistry,
  type SchemaRegistryOptions,
} from './registry.js';
export { schemaForCustomResource, type CustomResourceSchemaOptions } from './custom-resource.js';
export { clientNodeModelSource, type ModelClass, type ModelField, type ModelSource } from './model-source.js';
export { atomicStructs, fieldExtensions, quantityFields } from './extensions.js';
