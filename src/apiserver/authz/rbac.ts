// The RBAC authorizer, rule for rule as Kubernetes' plugin/pkg/auth/authorizer/rbac: a request is
// allowed when some ClusterRoleBinding — or, for namespaced requests, some RoleBinding in that
// namespace — binds the user to a role with a matching rule. RBAC never denies; it has no opinion.
// Aggregated ClusterRoles are read as stored: filling in their rules is the aggregation controller's job.

import type { KubeObject } from '../../api/types.js';
import type {
  AuthorizationAttributes,
  Authorizer,
  Decision,
  PolicyRule,
  RuleResolver,
  SubjectRulesReviewStatus,
  UserInfo,
} from './types.js';

export const SYSTEM_MASTERS = 'system:masters';
const ALL = '*';

/** Reads RBAC objects from informer caches. */
export interface RbacLister {
  clusterRoles(): KubeObject[];
  clusterRoleBindings(): KubeObject[];
  roles(namespace: string): KubeObject[];
  roleBindings(namespace: string): KubeObject[];
}

interface Subject {
  kind: string;
  name: string;
  namespace?: string;
  apiGroup?: string;
}

interface RoleRef {
  kind: string;
  name: string;
  apiGroup?: string;
}

// ---------------------------------------------------------------------------------------------
// Rule matching (Kubernetes' rbac.RuleAllows and helpers)

export function verbMatches(rule: PolicyRule, verb: string): boolean {
  return rule.verbs.some((v) => v === ALL || v === verb);
}

export function apiGroupMatches(rule: PolicyRule, group: string): boolean {
  return (rule.apiGroups ?? []).some((g) => g === ALL || g === group);
}

export function resourceMatches(rule: PolicyRule, combinedResource: string, subresource: string): boolean {
  for (const resource of rule.resources ?? []) {
    if (resource === ALL || resource === combinedResource) return true;
    // "*/scale" grants the scale subresource of every resource.
    if (subresource && resource.length === subresource.length + 2 && resource.startsWith('*/') && resource.endsWith(subresource)) return true;
  }
  return false;
}

export function resourceNameMatches(rule: PolicyRule, name: string): boolean {
  // No names means every name; with names, nameless requests (list, create, deletecollection) never match.
  if (!rule.resourceNames || rule.resourceNames.length === 0) return true;
  return rule.resourceNames.includes(name);
}

export function nonResourceURLMatches(rule: PolicyRule, path: string): boolean {
  for (const url of rule.nonResourceURLs ?? []) {
    if (url === ALL || url === path) return true;
    if (url.endsWith('*') && path.startsWith(url.slice(0, -1))) return true;
  }
  return false;
}

export function ruleAllows(attributes: AuthorizationAttributes, rule: PolicyRule): boolean {
  if (attributes.resourceRequest) {
    const subresource = attributes.subresource ?? '';
    const combined = subresource ? `${attributes.resource ?? ''}/${subresource}` : (attributes.resource ?? '');
    return (
      verbMatches(rule, attributes.verb) &&
      apiGroupMatches(rule, attributes.apiGroup) &&
      resourceMatches(rule, combined, subresource) &&
      resourceNameMatches(rule, attributes.name ?? '')
    );
  }
  return verbMatches(rule, attributes.verb) && nonResourceURLMatches(rule, attributes.path ?? '');
}

export function rulesAllow(attributes: AuthorizationAttributes, rules: PolicyRule[]): boolean {
  return rules.some((rule) => ruleAllows(attributes, rule));
}

// ---------------------------------------------------------------------------------------------
// Subjects

/** `system:serviceaccount:<namespace>:<name>`. */
function serviceAccountMatches(namespace: string, name: string, username: string): boolean {
  return username === `system:serviceaccount:${namespace}:${name}`;
}

export function subjectAppliesToUser(user: UserInfo, subject: Subject, bindingNamespace: string): boolean {
  switch (subject.kind) {
    case 'User':
      return user.username === subject.name;
    case 'Group':
      return user.groups.includes(subject.name);
    case 'ServiceAccount': {
      // A RoleBinding may name a service account of its own namespace without qualifying it.
      const namespace = subject.namespace || bindingNamespace;
      return !!namespace && serviceAccountMatches(namespace, subject.name, user.username);
    }
    default:
      return false;
  }
}

function describeSubject(subject: Subject, bindingNamespace: string): string {
  if (subject.kind === 'ServiceAccount') return `ServiceAccount "${subject.name}/${subject.namespace || bindingNamespace}"`;
  return `${subject.kind} "${subject.name}"`;
}

// ---------------------------------------------------------------------------------------------

/** One role's rules reached through one binding, in the order Kubernetes visits them. */
interface VisitedRules {
  source: string;
  rules: PolicyRule[];
}

export interface RbacAuthorizer extends Authorizer, RuleResolver {}

export function createRbacAuthorizer(lister: RbacLister): RbacAuthorizer {
  const byName = (objects: KubeObject[]) => new Map(objects.map((o) => [o.metadata.name ?? '', o]));

  /**
   * Visits the rules bound to `user`, cluster-wide first and then in `namespace`; stops when `visit`
   * returns true. Missing roles are reported through `onError` (they make a rules review incomplete).
   */
  function visitRulesFor(user: UserInfo, namespace: string, visit: (v: VisitedRules) => boolean, onError: (message: string) => void): void {
    // Indexed once per question, and only if some binding matches: most bindings name other subjects.
    let clusterRoles: Map<string, KubeObject> | undefined;
    let roles: Map<string, KubeObject> | undefined;
    const clusterRoleRules = (name: string) => (clusterRoles ??= byName(lister.clusterRoles())).get(name)?.rules as PolicyRule[] | undefined;
    const roleRules = (ns: string, name: string) => (roles ??= byName(lister.roles(ns))).get(name)?.rules as PolicyRule[] | undefined;
    for (const binding of lister.clusterRoleBindings()) {
      const subjects = (binding.subjects ?? []) as Subject[];
      const matched = subjects.find((s) => subjectAppliesToUser(user, s, ''));
      if (!matched) continue;
      const roleRef = binding.roleRef as RoleRef;
      if (roleRef?.kind !== 'ClusterRole') continue;
      const rules = clusterRoleRules(roleRef.name);
      if (!rules) {
        onError(`clusterrole.rbac.authorization.k8s.io "${roleRef.name}" not found`);
        continue;
      }
      const source = `ClusterRoleBinding "${binding.metadata.name}" of ClusterRole "${roleRef.name}" to ${describeSubject(matched, '')}`;
      if (visit({ source, rules })) return;
    }
    if (!namespace) return;
    for (const binding of lister.roleBindings(namespace)) {
      const subjects = (binding.subjects ?? []) as Subject[];
      const matched = subjects.find((s) => subjectAppliesToUser(user, s, namespace));
      if (!matched) continue;
      const roleRef = binding.roleRef as RoleRef;
      const rules = roleRef?.kind === 'ClusterRole' ? clusterRoleRules(roleRef.name) : roleRef?.kind === 'Role' ? roleRules(namespace, roleRef.name) : undefined;
      if (!rules) {
        onError(
          roleRef?.kind === 'ClusterRole'
            ? `clusterrole.rbac.authorization.k8s.io "${roleRef.name}" not found`
            : `role.rbac.authorization.k8s.io "${roleRef?.name}" not found`,
        );
        continue;
      }
      const source = `RoleBinding "${binding.metadata.name}/${namespace}" of ${roleRef.kind} "${roleRef.name}" to ${describeSubject(matched, namespace)}`;
      if (visit({ source, rules })) return;
    }
  }

  return {
    authorize(attributes: AuthorizationAttributes): Decision {
      if (attributes.user.groups.includes(SYSTEM_MASTERS)) {
        // Kubernetes' privileged-groups authorizer: the break-glass group does not depend on RBAC objects.
        return { decision: 'allow', reason: `allowed because user is in group "${SYSTEM_MASTERS}"` };
      }
      let reason = '';
      // Cluster-scoped requests have no namespace, so only cluster bindings apply (and only they carry nonResourceURLs).
      const namespace = attributes.resourceRequest ? (attributes.namespace ?? '') : '';
      visitRulesFor(
        attributes.user,
        namespace,
        ({ source, rules }) => {
          if (!rulesAllow(attributes, rules)) return false;
          reason = `RBAC: allowed by ${source}`;
          return true;
        },
        () => {},
      );
      return reason ? { decision: 'allow', reason } : { decision: 'noopinion', reason: '' };
    },

    rulesFor(user: UserInfo, namespace: string): SubjectRulesReviewStatus {
      const status: SubjectRulesReviewStatus = { resourceRules: [], nonResourceRules: [], incomplete: false };
      const errors: string[] = [];
      if (user.groups.includes(SYSTEM_MASTERS)) {
        status.resourceRules.push({ verbs: [ALL], apiGroups: [ALL], resources: [ALL] });
        status.nonResourceRules.push({ verbs: [ALL], nonResourceURLs: [ALL] });
      }
      visitRulesFor(
        user,
        namespace,
        ({ rules }) => {
          for (const rule of rules) {
            if (rule.nonResourceURLs && rule.nonResourceURLs.length > 0) {
              status.nonResourceRules.push({ verbs: [...rule.verbs], nonResourceURLs: [...rule.nonResourceURLs] });
            }
            if ((rule.resources && rule.resources.length > 0) || (rule.apiGroups && rule.apiGroups.length > 0)) {
              const resourceRule: SubjectRulesReviewStatus['resourceRules'][number] = {
                verbs: [...rule.verbs],
                apiGroups: [...(rule.apiGroups ?? [])],
                resources: [...(rule.resources ?? [])],
              };
              if (rule.resourceNames && rule.resourceNames.length > 0) resourceRule.resourceNames = [...rule.resourceNames];
              status.resourceRules.push(resourceRule);
            }
          }
          return false;
        },
        (message) => errors.push(message),
      );
      if (errors.length > 0) {
        status.incomplete = true;
        status.evaluationError = errors.join(', ');
      }
      return status;
    },
  };
}
