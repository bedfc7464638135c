// The authorization contract shared by every authorizer (RBAC, Node, union) and the API server's
// request filter. Authorizers are synchronous: they read informer-backed listers, never storage.

import type { UserInfo } from '../auth/authenticator.js';

export type { UserInfo };

/** Kubernetes' authorizer.Attributes, as the request filter derives them from the URL and verb. */
export interface AuthorizationAttributes {
  user: UserInfo;
  /** get, list, watch, create, update, patch, delete, deletecollection, or a special verb (impersonate,
   *  bind, escalate, use, approve, sign); for non-resource requests the lowercased HTTP method. */
  verb: string;
  namespace?: string;
  apiGroup: string;
  resource?: string;
  subresource?: string;
  name?: string;
  /** The URL path of a non-resource request (/healthz, /api, /version …). */
  path?: string;
  resourceRequest: boolean;
}

export type DecisionKind = 'allow' | 'deny' | 'noopinion';

export interface Decision {
  decision: DecisionKind;
  /** Why; for allows, the binding and role that granted it (Kubernetes' RBAC wording). */
  reason: string;
}

export interface Authorizer {
  authorize(attributes: AuthorizationAttributes): Decision;
}

/** rbac.authorization.k8s.io/v1 PolicyRule. */
export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

/** authorization.k8s.io/v1 SubjectRulesReviewStatus, for SelfSubjectRulesReview. */
export interface SubjectRulesReviewStatus {
  resourceRules: { verbs: string[]; apiGroups?: string[]; resources?: string[]; resourceNames?: string[] }[];
  nonResourceRules: { verbs: string[]; nonResourceURLs?: string[] }[];
  incomplete: boolean;
  evaluationError?: string;
}

/** Authorizers that can also list what a user may do (SelfSubjectRulesReview). */
export interface RuleResolver {
  rulesFor(user: UserInfo, namespace: string): SubjectRulesReviewStatus;
}
