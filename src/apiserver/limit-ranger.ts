// The LimitRanger admission plugin (Kubernetes' plugin/pkg/admission/limitranger): the
// LimitRanges of a namespace give its pods default requests/limits (mutating, pod CREATE) and
// bound what pods and claims may ask for (validating, pod CREATE and PVC CREATE/UPDATE), with
// Kubernetes' 403 messages word for word, since scripts and users match on them.
//
// Pod updates are skipped on purpose, as in Kubernetes: containers and their resources are
// immutable after create (in-place resize goes through the `resize` subresource), so there is
// nothing new to default or to bound.
import type { KubeObject } from '../api/types.js';
import type { FieldError } from '../api/types.js';
import { forbidden as fieldForbidden, invalid as fieldInvalid, required as fieldRequired } from '../api/validation/field.js';
import { parseQuantity } from '../api/validation/quantity.js';
import { canonicalQuantity } from '../api/quantity/index.js';

// Kept importable from here: callers and tests that print quantities the way this plugin does.
export { canonicalQuantity };
import type { AdmissionAttributes, AdmissionPlugin } from './admission.js';
import { forbidden, invalid } from './errors.js';
import type { ResourceRegistry } from './registry.js';
import type { ResourceStore } from './resource-store.js';

export const limitRangerAnnotation = 'kubernetes.io/limit-ranger';

export interface LimitRangerConfig {
  resources: () => ResourceStore;
  registry: () => ResourceRegistry;
}

type ResourceList = Record<string, string | number>;

export interface LimitRangeItem {
  type?: string;
  max?: ResourceList;
  min?: ResourceList;
  default?: ResourceList;
  defaultRequest?: ResourceList;
  maxLimitRequestRatio?: ResourceList;
}

const binaryUnits: [string, number][] = [['Ei', 2 ** 60], ['Pi', 2 ** 50], ['Ti', 2 ** 40], ['Gi', 2 ** 30], ['Mi', 2 ** 20], ['Ki', 2 ** 10]];

/**
 * LimitRange defaulting (SetDefaults_LimitRangeItem) for Container items: max stands in for a
 * missing default limit, and the default limit (else min) for a missing default request.
 */
export function defaultLimitRangeItem(item: LimitRangeItem): LimitRangeItem {
  if (item.type !== 'Container') return item;
  const def: ResourceList = { ...(item.default ?? {}) };
  const defReq: ResourceList = { ...(item.defaultRequest ?? {}) };
  for (const [k, v] of Object.entries(item.max ?? {})) if (!(k in def)) def[k] = v;
  for (const [k, v] of Object.entries(def)) if (!(k in defReq)) defReq[k] = v;
  for (const [k, v] of Object.entries(item.min ?? {})) if (!(k in defReq)) defReq[k] = v;
  return { ...item, default: def, defaultRequest: defReq };
}

function containersOf(pod: KubeObject): { c: any; prefix: string }[] {
  return [
    ...(pod.spec?.containers ?? []).map((c: any) => ({ c, prefix: 'container' })),
    ...(pod.spec?.initContainers ?? []).map((c: any) => ({ c, prefix: 'init container' })),
  ];
}

/**
 * mergePodResourceRequirements: fills each container's missing limits and requests from the
 * Container items' default/defaultRequest and returns the annotation value naming what was set
 * (undefined when nothing was).
 */
export function applyContainerDefaults(pod: KubeObject, limitRanges: KubeObject[]): string | undefined {
  const defaults: { requests: ResourceList; limits: ResourceList } = { requests: {}, limits: {} };
  for (const lr of limitRanges) {
    for (const raw of (lr.spec?.limits ?? []) as LimitRangeItem[]) {
      const item = defaultLimitRangeItem(raw);
      if (item.type !== 'Container') continue;
      Object.assign(defaults.requests, item.defaultRequest);
      Object.assign(defaults.limits, item.default);
    }
  }
  const notes: string[] = [];
  for (const { c, prefix } of containersOf(pod)) {
    const resources = c.resources ?? (c.resources = {});
    const setRequests: string[] = [];
    const setLimits: string[] = [];
    for (const [k, v] of Object.entries(defaults.limits)) {
      resources.limits ??= {};
      if (resources.limits[k] === undefined) {
        resources.limits[k] = v;
        setLimits.push(k);
      }
    }
    for (const [k, v] of Object.entries(defaults.requests)) {
      resources.requests ??= {};
      if (resources.requests[k] === undefined) {
        resources.requests[k] = v;
        setRequests.push(k);
      }
    }
    if (setRequests.length) notes.push(`${setRequests.sort().join(', ')} request for ${prefix} ${c.name}`);
    if (setLimits.length) notes.push(`${setLimits.sort().join(', ')} limit for ${prefix} ${c.name}`);
  }
  return notes.length ? `LimitRanger plugin set: ${notes.join('; ')}` : undefined;
}

function minConstraint(limitType: string, name: string, enforced: unknown, requests: ResourceList, limits: ResourceList): string | undefined {
  const e = parseQuantity(enforced) ?? 0;
  const req = requests[name];
  const lim = limits[name];
  if (req === undefined) return `minimum ${name} usage per ${limitType} is ${canonicalQuantity(enforced)}.  No request is specified`;
  if ((parseQuantity(req) ?? 0) < e) return `minimum ${name} usage per ${limitType} is ${canonicalQuantity(enforced)}, but request is ${canonicalQuantity(req)}`;
  if (lim !== undefined && (parseQuantity(lim) ?? 0) < e) return `minimum ${name} usage per ${limitType} is ${canonicalQuantity(enforced)}, but limit is ${canonicalQuantity(lim)}`;
  return undefined;
}

function maxConstraint(limitType: string, name: string, enforced: unknown, requests: ResourceList, limits: ResourceList): string | undefined {
  const e = parseQuantity(enforced) ?? 0;
  const req = requests[name];
  const lim = limits[name];
  if (lim === undefined) return `maximum ${name} usage per ${limitType} is ${canonicalQuantity(enforced)}.  No limit is specified`;
  if ((parseQuantity(lim) ?? 0) > e) return `maximum ${name} usage per ${limitType} is ${canonicalQuantity(enforced)}, but limit is ${canonicalQuantity(lim)}`;
  if (req !== undefined && (parseQuantity(req) ?? 0) > e) return `maximum ${name} usage per ${limitType} is ${canonicalQuantity(enforced)}, but request is ${canonicalQuantity(req)}`;
  return undefined;
}

/** Claims have no limits: max bounds the request alone. */
function maxRequestConstraint(limitType: string, name: string, enforced: unknown, requests: ResourceList): string | undefined {
  const req = requests[name];
  if (req === undefined) return `maximum ${name} usage per ${limitType} is ${canonicalQuantity(enforced)}.  No request is specified`;
  if ((parseQuantity(req) ?? 0) > (parseQuantity(enforced) ?? 0)) return `maximum ${name} usage per ${limitType} is ${canonicalQuantity(enforced)}, but request is ${canonicalQuantity(req)}`;
  return undefined;
}

function ratioConstraint(limitType: string, name: string, enforced: unknown, requests: ResourceList, limits: ResourceList): string | undefined {
  const req = parseQuantity(requests[name]) ?? 0;
  const lim = parseQuantity(limits[name]) ?? 0;
  const shown = canonicalQuantity(enforced);
  if (requests[name] === undefined || req === 0) return `${name} max limit to request ratio per ${limitType} is ${shown}, but no request is specified or request is 0`;
  if (limits[name] === undefined || lim === 0) return `${name} max limit to request ratio per ${limitType} is ${shown}, but no limit is specified or limit is 0`;
  const ratio = lim / req;
  // Compared in thousandths, as Kubernetes does with milli-values, so float noise cannot refuse an exact ratio.
  if (Math.round(ratio * 1000 * 1e6) / 1e6 > Math.round((parseQuantity(enforced) ?? 0) * 1000)) {
    return `${name} max limit to request ratio per ${limitType} is ${shown}, but provided ratio is ${ratio.toFixed(6)}`;
  }
  return undefined;
}

const sortedKeys = (o: ResourceList | undefined) => Object.keys(o ?? {}).sort();

function checkAll(item: LimitRangeItem, limitType: string, requests: ResourceList, limits: ResourceList, errs: string[]): void {
  const push = (e: string | undefined) => e && errs.push(e);
  for (const k of sortedKeys(item.min)) push(minConstraint(limitType, k, item.min![k], requests, limits));
  for (const k of sortedKeys(item.max)) push(maxConstraint(limitType, k, item.max![k], requests, limits));
  for (const k of sortedKeys(item.maxLimitRequestRatio)) push(ratioConstraint(limitType, k, item.maxLimitRequestRatio![k], requests, limits));
}

/** The pod's effective requests or limits: containers summed, raised to any single init container, plus overhead. */
function podTotal(pod: KubeObject, field: 'requests' | 'limits'): ResourceList {
  const sum: Record<string, number> = {};
  const seen = new Set<string>();
  for (const c of pod.spec?.containers ?? []) {
    for (const [k, v] of Object.entries((c.resources?.[field] ?? {}) as ResourceList)) {
      sum[k] = (sum[k] ?? 0) + (parseQuantity(v) ?? 0);
      seen.add(k);
    }
  }
  const initMax: Record<string, number> = {};
  for (const c of pod.spec?.initContainers ?? []) {
    const values = (c.resources?.[field] ?? {}) as ResourceList;
    // Sidecars (restartPolicy Always) keep running beside the app containers: they add up.
    if (c.restartPolicy === 'Always') {
      for (const [k, v] of Object.entries(values)) {
        sum[k] = (sum[k] ?? 0) + (parseQuantity(v) ?? 0);
        seen.add(k);
      }
      continue;
    }
    for (const [k, v] of Object.entries(values)) {
      initMax[k] = Math.max(initMax[k] ?? 0, parseQuantity(v) ?? 0);
      seen.add(k);
    }
  }
  for (const [k, v] of Object.entries(initMax)) sum[k] = Math.max(sum[k] ?? 0, v);
  for (const [k, v] of Object.entries((pod.spec?.overhead ?? {}) as ResourceList)) {
    if (!seen.has(k)) continue;
    sum[k] = (sum[k] ?? 0) + (parseQuantity(v) ?? 0);
  }
  return Object.fromEntries(Object.entries(sum).map(([k, v]) => [k, numberQuantity(k, v)]));
}

/** A summed value as a quantity string that canonicalQuantity prints as Kubernetes would. */
function numberQuantity(name: string, v: number): string {
  const bytes = /(^|\.)(memory|storage|ephemeral-storage|hugepages-.*)$/.test(name);
  if (bytes && Number.isInteger(v) && v >= 1024) {
    for (const [suffix, unit] of binaryUnits) if (v % unit === 0) return `${v / unit}${suffix}`;
  }
  // Sums of floats carry noise (0.1 + 0.2); Quantity adds exactly, so round it off before printing.
  return canonicalQuantity(Number(v.toPrecision(15)));
}

/** PodValidateLimitFunc: every violation, in LimitRange item order. */
export function podLimitViolations(pod: KubeObject, limitRanges: KubeObject[]): string[] {
  const errs: string[] = [];
  for (const lr of limitRanges) {
    for (const item of (lr.spec?.limits ?? []) as LimitRangeItem[]) {
      if (item.type === 'Container') {
        for (const c of [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])]) {
          checkAll(item, 'Container', c.resources?.requests ?? {}, c.resources?.limits ?? {}, errs);
        }
      } else if (item.type === 'Pod') {
        checkAll(item, 'Pod', podTotal(pod, 'requests'), podTotal(pod, 'limits'), errs);
      }
    }
  }
  return errs;
}

/** PersistentVolumeClaimValidateLimitFunc: storage requests against min and max. */
export function claimLimitViolations(claim: KubeObject, limitRanges: KubeObject[]): string[] {
  const errs: string[] = [];
  const requests: ResourceList = claim.spec?.resources?.requests ?? {};
  for (const lr of limitRanges) {
    for (const item of (lr.spec?.limits ?? []) as LimitRangeItem[]) {
      if (item.type !== 'PersistentVolumeClaim') continue;
      for (const k of sortedKeys(item.min)) {
        const e = minConstraint('PersistentVolumeClaim', k, item.min![k], requests, {});
        if (e) errs.push(e);
      }
      for (const k of sortedKeys(item.max)) {
        const e = maxRequestConstraint('PersistentVolumeClaim', k, item.max![k], requests);
        if (e) errs.push(e);
      }
    }
  }
  return errs;
}

/** ValidateLimitRange's cross-field rules (min ≤ defaultRequest ≤ default ≤ max, ratios), with Kubernetes' field paths. */
export function validateLimitRangeSpec(lr: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  ((lr.spec?.limits ?? []) as LimitRangeItem[]).forEach((item, i) => {
    const p = `spec.limits[${i}]`;
    if (item.type === 'Pod') {
      if (Object.keys(item.default ?? {}).length) errs.push(fieldForbidden(`${p}.default`, "may not be specified when `type` is 'Pod'"));
      if (Object.keys(item.defaultRequest ?? {}).length) errs.push(fieldForbidden(`${p}.defaultRequest`, "may not be specified when `type` is 'Pod'"));
    }
    if (item.type === 'PersistentVolumeClaim' && item.min?.storage === undefined && item.max?.storage === undefined) {
      errs.push(fieldRequired(`${p}.limits`, 'either minimum or maximum storage value is required, but neither was provided'));
    }
    const keys = new Set([...Object.keys(item.max ?? {}), ...Object.keys(item.min ?? {}), ...Object.keys(item.default ?? {}), ...Object.keys(item.defaultRequest ?? {}), ...Object.keys(item.maxLimitRequestRatio ?? {})]);
    for (const k of [...keys].sort()) {
      const q = (l: ResourceList | undefined) => (l && l[k] !== undefined ? { raw: l[k], v: parseQuantity(l[k]), s: canonicalQuantity(l[k]) } : undefined);
      const min = q(item.min);
      const max = q(item.max);
      const def = q(item.default);
      const defReq = q(item.defaultRequest);
      const ratio = q(item.maxLimitRequestRatio);
      const gt = (a?: { v?: number }, b?: { v?: number }) => !!a && !!b && a.v !== undefined && b.v !== undefined && a.v > b.v;
      if (gt(min, max)) errs.push(fieldInvalid(`${p}.min[${k}]`, min!.s, `min value ${min!.s} is greater than max value ${max!.s}`));
      if (gt(min, defReq)) errs.push(fieldInvalid(`${p}.defaultRequest[${k}]`, defReq!.s, `min value ${min!.s} is greater than default request value ${defReq!.s}`));
      if (gt(defReq, max)) errs.push(fieldInvalid(`${p}.defaultRequest[${k}]`, defReq!.s, `default request value ${defReq!.s} is greater than max value ${max!.s}`));
      if (gt(defReq, def)) errs.push(fieldInvalid(`${p}.defaultRequest[${k}]`, defReq!.s, `default request value ${defReq!.s} is greater than default limit value ${def!.s}`));
      if (gt(min, def)) errs.push(fieldInvalid(`${p}.default[${k}]`, min!.s, `min value ${min!.s} is greater than default value ${def!.s}`));
      if (gt(def, max)) errs.push(fieldInvalid(`${p}.default[${k}]`, max!.s, `default value ${def!.s} is greater than max value ${max!.s}`));
      if (ratio && ratio.v !== undefined && ratio.v < 1) errs.push(fieldInvalid(`${p}.maxLimitRequestRatio[${k}]`, ratio.s, `ratio ${ratio.s} is less than 1`));
      if (ratio && min && max && ratio.v !== undefined && min.v && max.v !== undefined) {
        const limit = max.v / min.v;
        if (ratio.v > limit) errs.push(fieldInvalid(`${p}.maxLimitRequestRatio[${k}]`, ratio.s, `ratio ${ratio.s} is greater than max/min = ${limit.toFixed(6)}`));
      }
    }
  });
  return errs;
}

export function limitRangerAdmission(config: LimitRangerConfig): AdmissionPlugin {
  async function limitRangesIn(namespace: string): Promise<KubeObject[]> {
    const resource = config.registry().lookup('', 'v1', 'limitranges');
    if (!resource || !namespace) return [];
    return config.resources().listForAdmission(resource, namespace);
  }
  const isPod = (a: AdmissionAttributes) => a.resource.groupKind === 'Pod';
  const isClaim = (a: AdmissionAttributes) => a.resource.groupKind === 'PersistentVolumeClaim';
  const isLimitRange = (a: AdmissionAttributes) => a.resource.groupKind === 'LimitRange';
  const subject = (a: AdmissionAttributes) => `${a.resource.resource} "${a.object?.metadata?.name ?? a.name ?? ''}" is forbidden`;

  return {
    name: 'LimitRanger',
    async admit(a) {
      if (a.subresource || !a.object) return;
      if (isLimitRange(a) && (a.operation === 'CREATE' || a.operation === 'UPDATE')) {
        // Stored LimitRanges carry their defaults, as Kubernetes' API defaulting leaves them.
        const spec = a.object.spec ?? (a.object.spec = {});
        spec.limits = ((spec.limits ?? []) as LimitRangeItem[]).map(defaultLimitRangeItem);
        return;
      }
      if (!isPod(a) || a.operation !== 'CREATE') return;
      const ranges = await limitRangesIn(a.namespace);
      if (!ranges.length) return;
      const note = applyContainerDefaults(a.object, ranges);
      if (note) (a.object.metadata.annotations ??= {})[limitRangerAnnotation] = note;
    },
    async validate(a) {
      if (a.subresource || !a.object) return;
      if (isLimitRange(a) && (a.operation === 'CREATE' || a.operation === 'UPDATE')) {
        const errs = validateLimitRangeSpec(a.object);
        if (errs.length) throw invalid('LimitRange', '', 'LimitRange', a.object.metadata.name ?? a.name, errs);
        return;
      }
      let errs: string[];
      if (isPod(a) && a.operation === 'CREATE') errs = podLimitViolations(a.object, await limitRangesIn(a.namespace));
      else if (isClaim(a) && (a.operation === 'CREATE' || a.operation === 'UPDATE')) errs = claimLimitViolations(a.object, await limitRangesIn(a.namespace));
      else return;
      if (errs.length) throw forbidden(`${subject(a)}: ${errs.length === 1 ? errs[0] : `[${errs.join(', ')}]`}`);
    },
  };
}
