// Pure pieces of propagation: which members a Federated<Kind> is placed in, and the object
// it becomes in each of them (template + identity + managed label + that cluster's overrides).
import { createHash } from 'node:crypto';
import type { KubeObject } from '../api/types.js';
import type { ClusterOverride, FederatedResource, FederatedTypeConfig, KubeFedCluster, Placement } from './api.js';
import { managedLabel } from './api.js';
import { canonicalJson } from '../util/json.js';

/** Annotation on a propagated object: the hash of what the sync controller last rendered for it. */
export const renderedHashAnnotation = 'federation.navarch.io/rendered-hash';

type Selector = NonNullable<Placement['clusterSelector']>;

export function matchesSelector(labels: Record<string, string>, selector: Selector): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) if (labels[key] !== value) return false;
  for (const expression of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, expression.key);
    const values = expression.values ?? [];
    switch (expression.operator) {
      case 'In':
        if (!has || !values.includes(labels[expression.key]!)) return false;
        break;
      case 'NotIn':
        if (has && values.includes(labels[expression.key]!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/**
 * kubefed's placement rule: `clusters` (even empty) wins; otherwise `clusterSelector`
 * selects by KubeFedCluster labels (an empty selector selects all); with neither, nothing.
 * Names that are not joined members are dropped.
 */
export function placedClusters(placement: Placement | undefined, clusters: KubeFedCluster[]): string[] {
  const names = new Set(clusters.map((c) => c.metadata.name!));
  if (placement?.clusters) return [...new Set(placement.clusters.map((c) => c.name))].filter((n) => names.has(n)).sort();
  if (placement?.clusterSelector) {
    const selector = placement.clusterSelector;
    return clusters.filter((c) => matchesSelector(c.metadata.labels ?? {}, selector)).map((c) => c.metadata.name!).sort();
  }
  return [];
}

function decodePointer(path: string): string[] {
  if (path === '' || path === '/') return [];
  if (!path.startsWith('/')) throw new Error(`override path "${path}" must start with "/"`);
  return path.slice(1).split('/').map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Applies overrides (JSON-patch add/remove/replace at a JSON pointer) in place; intermediate objects are created as kubefed does. */
export function applyOverrides(target: Record<string, any>, overrides: ClusterOverride[]): void {
  for (const override of overrides) {
    const op = override.op ?? 'replace';
    const parts = decodePointer(override.path);
    if (parts.length === 0) throw new Error(`override path "${override.path}" addresses the whole object`);
    let parent: any = target;
    for (const part of parts.slice(0, -1)) {
      const key = Array.isArray(parent) ? Number(part) : part;
      if (parent[key] === undefined || parent[key] === null) {
        if (op === 'remove') break;
        parent[key] = {};
      }
      parent = parent[key];
    }
    const last = parts[parts.length - 1]!;
    if (Array.isArray(parent)) {
      const index = last === '-' ? parent.length : Number(last);
      if (!Number.isInteger(index) || index < 0 || index > parent.length) throw new Error(`override path "${override.path}": bad array index`);
      if (op === 'remove') parent.splice(index, 1);
      else if (op === 'add') parent.splice(index, 0, structuredClone(override.value));
      else parent[index] = structuredClone(override.value);
    } else if (parent && typeof parent === 'object') {
      if (op === 'remove') delete parent[last];
      else parent[last] = structuredClone(override.value);
    }
  }
}

function apiVersionOf(type: FederatedTypeConfig['spec']['targetType']): string {
  return type.group ? `${type.group}/${type.version}` : type.version;
}

/** The object `federated` becomes in `clusterName`: what the sync controller creates or updates there. */
export function renderTarget(config: FederatedTypeConfig, federated: FederatedResource, clusterName: string): KubeObject {
  const target = config.spec.targetType;
  const template = structuredClone(federated.spec?.template ?? {});
  const templateMetadata = (template.metadata ?? {}) as Record<string, any>;
  const object: Record<string, any> = { ...template, apiVersion: apiVersionOf(target), kind: target.kind };
  // A FederatedNamespace is named after (and lives in) the namespace it federates.
  const metadata: Record<string, any> = {
    name: federated.metadata.name,
    ...(target.scope === 'Namespaced' ? { namespace: federated.metadata.namespace } : {}),
    labels: { ...(templateMetadata.labels ?? {}), [managedLabel]: 'true' },
  };
  if (templateMetadata.annotations) metadata.annotations = { ...templateMetadata.annotations };
  if (templateMetadata.finalizers) metadata.finalizers = templateMetadata.finalizers;
  object.metadata = metadata;
  const overrides = federated.spec?.overrides?.find((o) => o.clusterName === clusterName)?.clusterOverrides ?? [];
  applyOverrides(object, overrides);
  // The identity and the managed label are not the overrides' to change.
  object.apiVersion = apiVersionOf(target);
  object.kind = target.kind;
  object.metadata ??= {};
  object.metadata.name = federated.metadata.name;
  object.metadata.labels = { ...(object.metadata.labels ?? {}), [managedLabel]: 'true' };
  const hash = renderedHash(object as KubeObject);
  object.metadata.annotations = { ...(object.metadata.annotations ?? {}), [renderedHashAnnotation]: hash };
  return object as KubeObject;
}

/** A stable hash of a rendered object (key order does not matter). */
export function renderedHash(object: KubeObject): string {
  const copy = structuredClone(object) as any;
  if (copy.metadata?.annotations) delete copy.metadata.annotations[renderedHashAnnotation];
  return createHash('sha256').update(canonicalJson(copy)).digest('hex').slice(0, 16);
}

/**
 * The update to send when the member already has the object: what we render, on top of what
 * the member added (its defaults, allocated Service addresses, other controllers' labels and
 * annotations, status) — so propagation never fights the member's own controllers.
 */
export function mergeForUpdate(existing: KubeObject, rendered: KubeObject): KubeObject {
  const out: any = structuredClone(rendered);
  const current: any = existing;
  out.metadata = {
    ...structuredClone(current.metadata ?? {}),
    ...out.metadata,
    labels: { ...(current.metadata?.labels ?? {}), ...(out.metadata.labels ?? {}) },
    annotations: { ...(current.metadata?.annotations ?? {}), ...(out.metadata.annotations ?? {}) },
  };
  delete out.metadata.managedFields;
  if (current.status !== undefined) out.status = current.status;
  if (rendered.kind === 'Service' && current.spec) {
    out.spec ??= {};
    for (const field of ['clusterIP', 'clusterIPs', 'healthCheckNodePort', 'ipFamilies', 'ipFamilyPolicy']) {
      if (out.spec[field] === undefined && current.spec[field] !== undefined) out.spec[field] = current.spec[field];
    }
    // Allocated node ports stay unless the template names one.
    if (Array.isArray(out.spec.ports) && Array.isArray(current.spec.ports)) {
      for (const port of out.spec.ports) {
        const before = current.spec.ports.find((p: any) => (p.name ?? '') === (port.name ?? '') && p.port === port.port);
        if (port.nodePort === undefined && before?.nodePort !== undefined) port.nodePort = before.nodePort;
      }
    }
  }
  if (rendered.kind === 'ServiceAccount' && current.secrets && out.secrets === undefined) out.secrets = current.secrets;
  if (rendered.kind === 'Namespace' && current.spec && out.spec === undefined) out.spec = current.spec;
  return out as KubeObject;
}
