// The ResourceQuota admission plugin: a create that would take a namespace over any of its
// quotas is refused with Kubernetes' 403 ("exceeded quota: ..."); an admitted create is charged
// to each quota's status.used at once (compare-and-swap on the quota), so a burst of creates
// cannot overshoot before the controller recounts.
import type { KubeObject } from '../../api/types.js';
import type { AdmissionAttributes, AdmissionPlugin, UserInfo } from '../../apiserver/admission.js';
import { ApiError, forbidden, groupResourceString } from '../../apiserver/errors.js';
import type { ResourceRegistry } from '../../apiserver/registry.js';
import type { ResourceStore } from '../../apiserver/resource-store.js';
import { parseQuantity } from '../../api/validation/quantity.js';
import { countKeyOf, formatQuantity, usageOf, type Usage } from './usage.js';

export interface ResourceQuotaAdmissionConfig {
  resources: () => ResourceStore;
  registry: () => ResourceRegistry;
  /** Attempts when quota updates race with other creates. */
  maxAttempts?: number;
}

const quotaUser: UserInfo = { username: 'system:apiserver', groups: ['system:masters'] };
const computeKeys = ['requests.cpu', 'requests.memory', 'limits.cpu', 'limits.memory', 'cpu', 'memory'];

/** "pods=1,requests.cpu=500m": Kubernetes' prettyPrint of a resource list (sorted by name). */
function prettyPrint(values: Record<string, string>): string {
  return Object.keys(values).sort().map((k) => `${k}=${values[k]}`).join(',');
}

/** A pod must state every compute resource a quota limits, per container ("must specify"). */
function missingCompute(pod: KubeObject, hard: Record<string, unknown>): string[] {
  const missing: string[] = [];
  for (const key of computeKeys.filter((k) => k in hard)) {
    const [field, resource] = key.includes('.') ? (key.split('.') as ['requests' | 'limits', string]) : (['requests', key] as const);
    const lacking = (pod.spec?.containers ?? []).filter((c: any) => c.resources?.[field]?.[resource] === undefined && !(field === 'requests' && c.resources?.limits?.[resource] !== undefined));
    if (lacking.length) missing.push(`${key} for: ${lacking.map((c: any) => c.name).join(',')}`);
  }
  return missing;
}

export function resourceQuotaAdmission(config: ResourceQuotaAdmissionConfig): AdmissionPlugin {
  const attempts = config.maxAttempts ?? 5;
  return {
    name: 'ResourceQuota',
    async validate(a: AdmissionAttributes) {
      if (a.operation !== 'CREATE' || a.subresource || !a.object || !a.namespace) return;
      const countKey = countKeyOf(a.resource.group, a.resource.kind);
      if (!countKey) return;
      const quotaResource = config.registry().lookup('', 'v1', 'resourcequotas');
      if (!quotaResource) return;
      const delta: Usage = usageOf(countKey, a.object);
      const subject = `${groupResourceString(a.resource.group, a.resource.resource)} "${a.object.metadata?.name ?? a.name ?? ''}" is forbidden`;
      const context = { user: quotaUser, warnings: [] as string[], dryRun: a.dryRun };
      for (let attempt = 1; ; attempt++) {
        const items = await config.resources().listForAdmission(quotaResource, a.namespace);
        const charges: { quota: KubeObject; used: Record<string, string> }[] = [];
        for (const listed of items) {
          const hard: Record<string, unknown> = listed.spec?.hard ?? {};
          const tracked = Object.keys(hard).filter((k) => k in delta);
          if (countKey === 'pods') {
            const missing = missingCompute(a.object, hard);
            if (missing.length) throw forbidden(`${subject}: failed quota: ${listed.metadata.name}: must specify ${missing.join('; ')}`);
          }
          if (tracked.length === 0) continue;
          // Read the quota from storage (not a cache) so the compare-and-swap below has a current resourceVersion.
          const quota = await config.resources().get(quotaResource, a.namespace, listed.metadata.name!);
          const used: Record<string, string> = { ...(quota.status?.used ?? {}) };
          const exceeded: string[] = [];
          for (const key of tracked) {
            if (quota.status?.used?.[key] === undefined) throw forbidden(`${subject}: status unknown for quota: ${quota.metadata.name}, resource: ${key}`);
            const next = (parseQuantity(quota.status.used[key]) ?? 0) + delta[key]!;
            if (next > (parseQuantity(quota.spec.hard[key]) ?? 0)) exceeded.push(key);
            used[key] = formatQuantity(key, next);
          }
          if (exceeded.length) {
            const pick = (f: (k: string) => string) => Object.fromEntries(exceeded.map((k) => [k, f(k)]));
            throw forbidden(
              `${subject}: exceeded quota: ${quota.metadata.name}, requested: ${prettyPrint(pick((k) => formatQuantity(k, delta[k]!)))}, used: ${prettyPrint(pick((k) => String(quota.status.used[k])))}, limited: ${prettyPrint(pick((k) => String(quota.spec.hard[k])))}`,
            );
          }
          charges.push({ quota, used });
        }
        if (a.dryRun || charges.length === 0) return;
        try {
          for (const { quota, used } of charges) {
            await config.resources().update(quotaResource, a.namespace, quota.metadata.name!, { ...quota, status: { ...quota.status, used } }, context, 'status');
          }
          return;
        } catch (err) {
          // Another create charged the quota first: recount against the new usage.
          if (!(err instanceof ApiError && err.code === 409) || attempt >= attempts) throw err;
        }
      }
    },
  };
}
