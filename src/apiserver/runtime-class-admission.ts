// Kubernetes' RuntimeClass admission plugin (plugin/pkg/admission/runtimeclass): a pod naming a
// RuntimeClass must name one that exists, gets the class's fixed overhead as spec.overhead, and
// is steered to the nodes that have the handler (scheduling.nodeSelector + tolerations).
import type { KubeObject } from '../api/types.js';
import { parseQuantity } from '../api/validation/quantity.js';
import type { AdmissionAttributes, AdmissionPlugin } from './admission.js';
import { ApiError } from './errors.js';
import type { ResourceRegistry } from './registry.js';
import type { ResourceStore } from './resource-store.js';

export interface RuntimeClassAdmissionConfig {
  resources: () => ResourceStore;
  registry: () => ResourceRegistry;
}

interface Toleration { key?: string; operator?: string; value?: string; effect?: string; tolerationSeconds?: number }

function forbidden(a: AdmissionAttributes, why: string): ApiError {
  return new ApiError(403, 'Forbidden', `pods "${a.object?.metadata?.name ?? a.name ?? ''}" is forbidden: ${why}`);
}

/** Kubernetes compares overheads semantically: "1000m" equals "1". */
function sameResources(x: Record<string, unknown> | undefined, y: Record<string, unknown> | undefined): boolean {
  const a = x ?? {};
  const b = y ?? {};
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) {
    if (!(k in a) || !(k in b)) return false;
    if (parseQuantity(a[k]) !== parseQuantity(b[k])) return false;
  }
  return true;
}

function sameToleration(x: Toleration, y: Toleration): boolean {
  const op = (t: Toleration) => t.operator || 'Equal';
  return (x.key ?? '') === (y.key ?? '') && op(x) === op(y) && (x.value ?? '') === (y.value ?? '') && (x.effect ?? '') === (y.effect ?? '') && x.tolerationSeconds === y.tolerationSeconds;
}

export function runtimeClassAdmission(config: RuntimeClassAdmissionConfig): AdmissionPlugin {
  const applies = (a: AdmissionAttributes) => a.operation === 'CREATE' && a.resource.groupKind === 'Pod' && !a.subresource && !!a.object;

  async function runtimeClassOf(a: AdmissionAttributes): Promise<KubeObject | undefined> {
    const name: string | undefined = a.object!.spec?.runtimeClassName;
    if (!name) return undefined;
    const resource = config.registry().lookup('node.k8s.io', 'v1', 'runtimeclasses');
    if (!resource) throw forbidden(a, `pod rejected: RuntimeClass "${name}" not found`);
    try {
      return await config.resources().get(resource, '', name);
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) throw forbidden(a, `pod rejected: RuntimeClass "${name}" not found`);
      throw err;
    }
  }

  return {
    name: 'RuntimeClass',
    async admit(a) {
      if (!applies(a)) return;
      const rc = await runtimeClassOf(a);
      if (!rc) return;
      const spec = a.object!.spec ?? (a.object!.spec = {});
      const podFixed = rc.overhead?.podFixed;
      if (podFixed) {
        if (spec.overhead && Object.keys(spec.overhead).length > 0 && !sameResources(spec.overhead, podFixed)) {
          throw forbidden(a, "pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead");
        }
        spec.overhead = { ...podFixed };
      }
      const scheduling = rc.scheduling;
      if (!scheduling) return;
      const selector: Record<string, string> = { ...(spec.nodeSelector ?? {}) };
      for (const [key, value] of Object.entries((scheduling.nodeSelector ?? {}) as Record<string, string>)) {
        if (key in selector && selector[key] !== value) {
          throw forbidden(a, `conflict: runtimeClass.scheduling.nodeSelector[${key}] = ${value}; pod.spec.nodeSelector[${key}] = ${selector[key]}`);
        }
        selector[key] = value;
      }
      if (Object.keys(selector).length > 0) spec.nodeSelector = selector;
      const tolerations: Toleration[] = [...(spec.tolerations ?? [])];
      for (const t of (scheduling.tolerations ?? []) as Toleration[]) if (!tolerations.some((have) => sameToleration(have, t))) tolerations.push(t);
      if (tolerations.length > 0) spec.tolerations = tolerations;
    },
    async validate(a) {
      if (!applies(a)) return;
      const rc = await runtimeClassOf(a);
      const overhead = a.object!.spec?.overhead;
      if (rc?.overhead?.podFixed) {
        if (!sameResources(overhead, rc.overhead.podFixed)) throw forbidden(a, "pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead");
      } else if (overhead && Object.keys(overhead).length > 0) {
        throw forbidden(a, 'pod rejected: Pod Overhead set without corresponding RuntimeClass defined Overhead');
      }
    },
  };
}
