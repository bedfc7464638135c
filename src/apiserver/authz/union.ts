// Kubernetes' union authorizer: authorizers are asked in order; the first allow or deny decides,
// and "no opinion" passes the question on. With nobody deciding, the request is not allowed.

import type { AuthorizationAttributes, Authorizer, Decision, RuleResolver, SubjectRulesReviewStatus, UserInfo } from './types.js';

export function createUnionAuthorizer(authorizers: Authorizer[]): Authorizer & RuleResolver {
  return {
    authorize(attributes: AuthorizationAttributes): Decision {
      const reasons: string[] = [];
      for (const authorizer of authorizers) {
        const result = authorizer.authorize(attributes);
        if (result.decision !== 'noopinion') return result;
        if (result.reason) reasons.push(result.reason);
      }
      return { decision: 'noopinion', reason: reasons.join(', ') };
    },
    rulesFor(user: UserInfo, namespace: string): SubjectRulesReviewStatus {
      const status: SubjectRulesReviewStatus = { resourceRules: [], nonResourceRules: [], incomplete: false };
      const errors: string[] = [];
      for (const authorizer of authorizers) {
        const resolver = authorizer as Partial<RuleResolver>;
        if (typeof resolver.rulesFor !== 'function') {
          // An authorizer that cannot list rules may still allow things: say the list may be partial.
          status.incomplete = true;
          continue;
        }
        const part = resolver.rulesFor(user, namespace);
        status.resourceRules.push(...part.resourceRules);
        status.nonResourceRules.push(...part.nonResourceRules);
        status.incomplete ||= part.incomplete;
        if (part.evaluationError) errors.push(part.evaluationError);
      }
      if (errors.length > 0) status.evaluationError = errors.join(', ');
      return status;
    },
  };
}

/** Allows everything for members of the given groups (Kubernetes puts system:masters here). */
export function createPrivilegedGroupsAuthorizer(groups: string[]): Authorizer {
  return {
    authorize(attributes) {
      const group = groups.find((g) => attributes.user.groups.includes(g));
      return group ? { decision: 'allow', reason: `allowed because user is in group "${group}"` } : { decision: 'noopinion', reason: '' };
    },
  };
}
