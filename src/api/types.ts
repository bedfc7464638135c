// The resource model shared by the API server, the patch engines and every client.
// Objects travel as plain JSON (`KubeObject`); typing is by apiVersion/kind, as on the wire.

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  managedFields?: ManagedFieldsEntry[];
  [key: string]: unknown;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ManagedFieldsEntry {
  manager?: string;
  operation?: 'Apply' | 'Update';
  apiVersion?: string;
  time?: string;
  fieldsType?: 'FieldsV1';
  fieldsV1?: Record<string, unknown>;
  subresource?: string;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [key: string]: any;
}

export interface GroupVersionKind {
  group: string; // '' for the core group
  version: string;
  kind: string;
}

/** "Deployment.apps", "Pod" (core): Kubernetes' GroupKind string, used as the key of per-kind tables. */
export function groupKind(group: string, kind: string): string {
  return group ? `${kind}.${group}` : kind;
}

/** One cause of a 422 Invalid, as in Kubernetes' Status.details.causes. */
export interface FieldError {
  /** Kubernetes' cause reason: FieldValueRequired, FieldValueInvalid, FieldValueNotSupported,
   *  FieldValueDuplicate, FieldValueForbidden, FieldValueTooLong, FieldValueTooMany, FieldValueTypeInvalid. */
  type: string;
  /** Field path as Kubernetes prints it: "spec.template.spec.containers[0].image", "metadata.labels". */
  field: string;
  /** The human part, e.g. `Required value` or `Invalid value: "Foo": a lowercase RFC 1123 subdomain must ...`. */
  message: string;
}

/** OpenAPI-v3-like schema node, dereferenced (no $ref), with Kubernetes' extensions.
 *  Used by OpenAPI generation, strategic merge patch, server-side apply and pruning. */
export interface SchemaNode {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  format?: string;
  description?: string;
  properties?: Record<string, SchemaNode>;
  additionalProperties?: SchemaNode | boolean;
  items?: SchemaNode;
  required?: string[];
  enum?: unknown[];
  default?: unknown;
  /** Name of the definition this node came from (e.g. "io.k8s.api.core.v1.Container"), for $ref generation. */
  'x-navarch-definition'?: string;
  'x-kubernetes-patch-merge-key'?: string;
  /** "merge", "replace", "retainKeys" or "merge,retainKeys". */
  'x-kubernetes-patch-strategy'?: string;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  [extension: string]: unknown;
}

/** A column of `kubectl get` output (meta.k8s.io/v1 TableColumnDefinition). */
export interface TableColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format?: string; // "name" for the NAME column
  description?: string;
  /** 0 = shown by default; > 0 = only with `-o wide`. */
  priority: number;
}

/** How `kubectl get` prints one kind: columns, and the cells of one object's row (same order). */
export interface Printer {
  columns: TableColumn[];
  /** `now` is injected so AGE is testable. */
  cells(obj: KubeObject, now: Date): unknown[];
}

/** Static description of one served resource (one per group/version/resource). */
export interface ResourceDefinition {
  group: string;
  version: string;
  kind: string;
  /** Plural resource name: "deployments". */
  resource: string;
  singular: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  /** Verbs on the main resource: get, list, watch, create, update, patch, delete, deletecollection. */
  verbs: string[];
  /** Subresource names: "status", "scale", "binding", "eviction", "log", "exec", "attach", "portforward", "proxy", "approval", "ephemeralcontainers", "resize", "finalize", "token". */
  subresources?: string[];
  /** For "scale": where the replicas live (JSON paths as in CRD scale subresources). */
  scale?: { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath?: string };
  /** Fields beyond metadata.name/metadata.namespace usable in fieldSelector, with how to read them. */
  fieldSelectors?: Record<string, (obj: KubeObject) => string | undefined>;
  /** Some resources are not persisted (reviews): create returns the computed object. */
  createOnly?: boolean;
  /** The stored kinds this one shares storage with (e.g. events.k8s.io Event ↔ core Event) — informative. */
  storageGroupResource?: string;
}
