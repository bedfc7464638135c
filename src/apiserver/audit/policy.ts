// The audit.k8s.io Policy: which requests are recorded and how much of each. Rules are
// checked in order and the first match decides, as in kube-apiserver; a request no rule
// matches is not recorded (level None).
import { readFileSync } from 'node:fs';
import YAML from 'yaml';

export type AuditLevel = 'None' | 'Metadata' | 'Request' | 'RequestResponse';
export type AuditStage = 'RequestReceived' | 'ResponseStarted' | 'ResponseComplete' | 'Panic';

export const auditLevels: readonly AuditLevel[] = ['None', 'Metadata', 'Request', 'RequestResponse'];
export const auditStages: readonly AuditStage[] = ['RequestReceived', 'ResponseStarted', 'ResponseComplete', 'Panic'];

/** True when `level` records at least as much as `minimum`. */
export function levelAtLeast(level: AuditLevel, minimum: AuditLevel): boolean {
  return auditLevels.indexOf(level) >= auditLevels.indexOf(minimum);
}

export interface GroupResources {
  /** "" is the core group. */
  group?: string;
  // "pods", "pods/log", "*", "*/status", "pods/*"; empty = every resource of the group.
  resources?: string[];
  resourceNames?: string[];
}

export interface PolicyRule {
  level: AuditLevel;
  users?: string[];
  userGroups?: string[];
  verbs?: string[];
  resources?: GroupResources[];
  /** "" selects cluster-scoped requests. */
  namespaces?: string[];
  nonResourceURLs?: string[];
  omitStages?: AuditStage[];
  omitManagedFields?: boolean;
}

export interface AuditPolicy {
  apiVersion: string;
  kind: 'Policy';
  rules: PolicyRule[];
  omitStages?: AuditStage[];
  omitManagedFields?: boolean;
}

/** What the policy checker needs to know about a request (Kubernetes' authorizer.Attributes). */
export interface AuditAttributes {
  username: string;
  groups: readonly string[];
  verb: string;
  resourceRequest: boolean;
  apiGroup: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
  path: string;
}

export interface RequestAuditConfig {
  level: AuditLevel;
  omitStages: AuditStage[];
  omitManagedFields: boolean;
}

const noAudit: RequestAuditConfig = Object.freeze({ level: 'None', omitStages: [], omitManagedFields: false }) as RequestAuditConfig;

export class PolicyRuleEvaluator {
  constructor(private readonly policy: AuditPolicy) {}

  evaluate(attributes: AuditAttributes): RequestAuditConfig {
    for (const rule of this.policy.rules) {
      if (!ruleMatches(rule, attributes)) continue;
      const omitStages = [...new Set([...(this.policy.omitStages ?? []), ...(rule.omitStages ?? [])])];
      // A rule's omitManagedFields, when set, overrides the policy's.
      const omitManagedFields = rule.omitManagedFields ?? this.policy.omitManagedFields ?? false;
      return { level: rule.level, omitStages, omitManagedFields };
    }
    return noAudit;
  }
}

export function ruleMatches(rule: PolicyRule, a: AuditAttributes): boolean {
  if (rule.users?.length && !rule.users.includes(a.username)) return false;
  if (rule.userGroups?.length && !rule.userGroups.some((g) => a.groups.includes(g))) return false;
  if (rule.verbs?.length && !rule.verbs.includes(a.verb)) return false;
  if (rule.namespaces?.length || rule.resources?.length) return ruleMatchesResource(rule, a);
  if (rule.nonResourceURLs?.length) return ruleMatchesNonResource(rule, a);
  return true;
}

function ruleMatchesResource(rule: PolicyRule, a: AuditAttributes): boolean {
  if (!a.resourceRequest) return false;
  if (rule.namespaces?.length && !rule.namespaces.includes(a.namespace)) return false;
  if (!rule.resources?.length) return true;
  const combined = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  for (const gr of rule.resources) {
    if ((gr.group ?? '') !== a.apiGroup) continue;
    if (!gr.resources?.length) return true;
    if (gr.resourceNames?.length && !gr.resourceNames.includes(a.name)) continue;
    for (const r of gr.resources) {
      if (r === combined || r === '*') return true;
      // "*/scale": every scale subresource; "pods/*": every subresource of pods, not pods itself.
      if (a.subresource && r.startsWith('*/') && r.slice(2) === a.subresource) return true;
      if (a.subresource && r.endsWith('/*') && r.slice(0, -2) === a.resource) return true;
    }
  }
  return false;
}

function ruleMatchesNonResource(rule: PolicyRule, a: AuditAttributes): boolean {
  if (a.resourceRequest) return false;
  return rule.nonResourceURLs!.some((spec) => spec === '*' || spec === a.path || (spec.endsWith('*') && a.path.startsWith(spec.slice(0, -1))));
}

export class AuditPolicyError extends Error {}

const policyFields = new Set(['apiVersion', 'kind', 'metadata', 'rules', 'omitStages', 'omitManagedFields']);
const ruleFields = new Set(['level', 'users', 'userGroups', 'verbs', 'resources', 'namespaces', 'nonResourceURLs', 'omitStages', 'omitManagedFields']);
const groupResourceFields = new Set(['group', 'resources', 'resourceNames']);
const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * Checks a decoded policy as kube-apiserver's validation does, collecting every problem as
 * "field.path: message" so one run of the server names them all.
 */
export function validatePolicy(value: unknown): { policy?: AuditPolicy; errors: string[] } {
  const errors: string[] = [];
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(value)) return { errors: ['the file does not hold an object'] };
  const stringList = (v: unknown, path: string): string[] | undefined => {
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) {
      errors.push(`${path}: must be a list of strings`);
      return undefined;
    }
    return v as string[];
  };
  const unknownFields = (o: Record<string, unknown>, known: Set<string>, path: string) => {
    for (const k of Object.keys(o)) if (!known.has(k)) errors.push(`${path}${path ? '.' : ''}${k}: unknown field`);
  };
  const stages = (v: unknown, path: string): AuditStage[] | undefined => {
    const list = stringList(v, path);
    list?.forEach((s, i) => {
      if (!auditStages.includes(s as AuditStage)) errors.push(`${path}[${i}]: Unsupported value: "${s}": supported values: ${auditStages.map((x) => `"${x}"`).join(', ')}`);
    });
    return list as AuditStage[] | undefined;
  };
  const bool = (v: unknown, path: string): boolean | undefined => {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') errors.push(`${path}: must be true or false`);
    return v === true;
  };

  if (value.apiVersion !== 'audit.k8s.io/v1' && value.apiVersion !== 'audit.k8s.io/v1beta1') {
    errors.push(`apiVersion: Unsupported value: ${JSON.stringify(value.apiVersion ?? '')}: supported values: "audit.k8s.io/v1", "audit.k8s.io/v1beta1"`);
  }
  if (value.kind !== 'Policy') errors.push(`kind: must be "Policy" (got ${JSON.stringify(value.kind ?? '')})`);
  unknownFields(value, policyFields, '');
  const policy: AuditPolicy = {
    apiVersion: String(value.apiVersion),
    kind: 'Policy',
    rules: [],
    omitStages: stages(value.omitStages, 'omitStages'),
    omitManagedFields: bool(value.omitManagedFields, 'omitManagedFields'),
  };
  if (!Array.isArray(value.rules) || value.rules.length === 0) {
    // kube-apiserver refuses a policy without rules: it would silently record nothing.
    errors.push('rules: Required value: a policy needs at least one rule');
  } else {
    value.rules.forEach((raw, i) => {
      const path = `rules[${i}]`;
      if (!isObject(raw)) {
        errors.push(`${path}: must be an object`);
        return;
      }
      unknownFields(raw, ruleFields, path);
      const level = raw.level;
      if (level === undefined || level === '') errors.push(`${path}.level: Required value`);
      else if (!auditLevels.includes(level as AuditLevel)) errors.push(`${path}.level: Unsupported value: ${JSON.stringify(level)}: supported values: ${auditLevels.map((x) => `"${x}"`).join(', ')}`);
      const rule: PolicyRule = {
        level: level as AuditLevel,
        users: stringList(raw.users, `${path}.users`),
        userGroups: stringList(raw.userGroups, `${path}.userGroups`),
        verbs: stringList(raw.verbs, `${path}.verbs`),
        namespaces: stringList(raw.namespaces, `${path}.namespaces`),
        nonResourceURLs: stringList(raw.nonResourceURLs, `${path}.nonResourceURLs`),
        omitStages: stages(raw.omitStages, `${path}.omitStages`),
        omitManagedFields: bool(raw.omitManagedFields, `${path}.omitManagedFields`),
      };
      if (raw.resources !== undefined && raw.resources !== null) {
        if (!Array.isArray(raw.resources)) errors.push(`${path}.resources: must be a list`);
        else {
          rule.resources = raw.resources.map((gr, j) => {
            const grPath = `${path}.resources[${j}]`;
            if (!isObject(gr)) {
              errors.push(`${grPath}: must be an object`);
              return {};
            }
            unknownFields(gr, groupResourceFields, grPath);
            const group = gr.group ?? '';
            if (typeof group !== 'string') errors.push(`${grPath}.group: must be a string`);
            else if (group && !dns1123Subdomain.test(group)) errors.push(`${grPath}.group: Invalid value: "${group}": a group must be a lower case DNS subdomain (a version must not be included)`);
            const out: GroupResources = { group: String(group), resources: stringList(gr.resources, `${grPath}.resources`), resourceNames: stringList(gr.resourceNames, `${grPath}.resourceNames`) };
            if (out.resourceNames?.length && !out.resources?.length) errors.push(`${grPath}.resourceNames: Invalid value: using resourceNames requires at least one resource`);
            return out;
          });
        }
      }
      rule.nonResourceURLs?.forEach((url, j) => {
        if (!url.startsWith('/') && url !== '*') errors.push(`${path}.nonResourceURLs[${j}]: Invalid value: "${url}": non-resource URLs must start with "/"`);
        else if (url.slice(0, -1).includes('*')) errors.push(`${path}.nonResourceURLs[${j}]: Invalid value: "${url}": "*" is only allowed at the end`);
      });
      if (rule.nonResourceURLs?.length && (rule.resources?.length || rule.namespaces?.length)) {
        errors.push(`${path}.nonResourceURLs: Invalid value: rules cannot apply to both regular resources and non-resource URLs`);
      }
      policy.rules.push(rule);
    });
  }
  return errors.length ? { errors } : { policy, errors };
}

/** Parses a policy from YAML or JSON text; `source` names it in errors. */
export function parsePolicy(text: string, source: string): AuditPolicy {
  let value: unknown;
  try {
    value = YAML.parse(text);
  } catch (e) {
    throw new AuditPolicyError(`audit policy ${source}: not valid YAML or JSON: ${(e as Error).message}`);
  }
  const { policy, errors } = validatePolicy(value);
  if (!policy) throw new AuditPolicyError(`audit policy ${source} is invalid:\n  ${errors.join('\n  ')}`);
  return policy;
}

export function loadPolicyFile(path: string): AuditPolicy {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new AuditPolicyError(`audit policy ${path}: cannot read: ${(e as Error).message}`);
  }
  return parsePolicy(text, path);
}
