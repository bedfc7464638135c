// The served resources: built-in definitions plus those added at run time (CRDs), each with
// the per-kind semantics (defaults, validation, printing, schema) plugged in from src/api/.
import type { FieldError, KubeObject, Printer, ResourceDefinition, SchemaNode } from '../api/types.js';
import { groupKind } from '../api/types.js';

/** Per-kind semantics the server applies; built-in kinds get them from src/api/, CRDs from their schema. */
export interface KindSemantics {
  applyDefaults(gk: string, obj: KubeObject): void;
  validateObject(gk: string, obj: KubeObject): FieldError[];
  validateUpdate(gk: string, obj: KubeObject, old: KubeObject): FieldError[];
  printer(gk: string): Printer | undefined;
  schema(group: string, version: string, kind: string): SchemaNode | undefined;
}

export interface ServedResource extends ResourceDefinition {
  /** "Deployment.apps" */
  groupKind: string;
  /** Storage key prefix shared by every version of this resource: "/registry/apps/deployments/". */
  storagePrefix: string;
  /** The version objects are stored in (conversion happens on the way in and out). */
  storageVersion: string;
  /** Defined by a CustomResourceDefinition. */
  custom?: {
    crdName: string;
    schema?: SchemaNode;
    printer?: Printer;
    preserveUnknownFields?: boolean;
    validate?: (obj: KubeObject) => FieldError[];
    applyDefaults?: (obj: KubeObject) => void;
  };
}

export function apiVersionOf(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}

export function parseApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

export class ResourceRegistry {
  private readonly byGroupVersionResource = new Map<string, ServedResource>();
  private readonly byGroupVersionKind = new Map<string, ServedResource>();
  private readonly listeners = new Set<() => void>();

  constructor(definitions: ResourceDefinition[], private readonly semanticsOfBuiltins: KindSemantics) {
    const storageVersions = new Map<string, string>();
    for (const d of definitions) {
      const key = normalizeGroupResource(d.storageGroupResource ?? `${d.group}/${d.resource}`);
      if (!storageVersions.has(key)) storageVersions.set(key, d.version); // first listed version is the storage version
    }
    for (const d of definitions) {
      const storageGroupResource = normalizeGroupResource(d.storageGroupResource ?? `${d.group}/${d.resource}`);
      const [storageGroup, storageResource] = splitGroupResource(storageGroupResource);
      this.add({
        ...d,
        groupKind: groupKind(d.group, d.kind),
        storagePrefix: `/registry/${storageGroup || 'core'}/${storageResource}/`,
        storageVersion: storageVersions.get(storageGroupResource)!,
      });
    }
  }

  get semantics(): KindSemantics {
    return this.semanticsOfBuiltins;
  }

  add(resource: ServedResource): void {
    this.byGroupVersionResource.set(`${resource.group}/${resource.version}/${resource.resource}`, resource);
    this.byGroupVersionKind.set(`${resource.group}/${resource.version}/${resource.kind}`, resource);
    for (const l of this.listeners) l();
  }

  remove(group: string, version: string, resource: string): void {
    const r = this.byGroupVersionResource.get(`${group}/${version}/${resource}`);
    if (!r) return;
    this.byGroupVersionResource.delete(`${group}/${version}/${resource}`);
    this.byGroupVersionKind.delete(`${group}/${version}/${r.kind}`);
    for (const l of this.listeners) l();
  }

  /** Called when the set of served resources changes (discovery and OpenAPI caches listen). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  lookup(group: string, version: string, resource: string): ServedResource | undefined {
    return this.byGroupVersionResource.get(`${group}/${version}/${resource}`);
  }

  lookupKind(group: string, version: string, kind: string): ServedResource | undefined {
    return this.byGroupVersionKind.get(`${group}/${version}/${kind}`);
  }

  /** The resource for an apiVersion + kind, e.g. from an ownerReference. */
  lookupByApiVersionKind(apiVersion: string, kind: string): ServedResource | undefined {
    const { group, version } = parseApiVersion(apiVersion);
    return this.lookupKind(group, version, kind);
  }

  all(): ServedResource[] {
    return [...this.byGroupVersionResource.values()];
  }

  /** Groups in the order first registered, with their versions in order (first = preferred). */
  groups(): { group: string; versions: string[] }[] {
    const groups = new Map<string, string[]>();
    for (const r of this.byGroupVersionResource.values()) {
      const versions = groups.get(r.group) ?? [];
      if (!versions.includes(r.version)) versions.push(r.version);
      groups.set(r.group, versions);
    }
    return [...groups.entries()].map(([group, versions]) => ({ group, versions }));
  }

  /** Every served version of the same stored resource (for watch-cache sharing and conversion). */
  versionsOf(resource: ServedResource): ServedResource[] {
    return this.all().filter((r) => r.storagePrefix === resource.storagePrefix);
  }

  printer(resource: ServedResource): Printer | undefined {
    return resource.custom ? resource.custom.printer : this.semanticsOfBuiltins.printer(resource.groupKind);
  }

  schema(resource: ServedResource): SchemaNode | undefined {
    return resource.custom ? resource.custom.schema : this.semanticsOfBuiltins.schema(resource.group, resource.version, resource.kind);
  }
}

/** "apps/deployments" → ["apps", "deployments"]; a bare "events" is the core group. */
function splitGroupResource(groupResource: string): [string, string] {
  const slash = groupResource.indexOf('/');
  if (slash < 0) return ['', groupResource];
  return [groupResource.slice(0, slash), groupResource.slice(slash + 1)];
}

function normalizeGroupResource(groupResource: string): string {
  return groupResource.includes('/') ? groupResource : `/${groupResource}`;
}
