// The create-only "review" resources: SubjectAccessReview and friends (what `kubectl auth can-i`
// uses), SelfSubjectReview (`kubectl auth whoami`), TokenReview. They are computed, never stored.
import type { KubeObject } from '../api/types.js';
import type { UserInfo } from './admission.js';
import { badRequest, invalid } from './errors.js';
import type { Authorizer, SubresourceHandler } from './handler.js';
import type { Authenticator } from './http-server.js';
import type { SubjectRulesReviewStatus } from './authz/types.js';

export interface RulesLister {
  /** Resource and non-resource rules that apply to `user` in `namespace` (SelfSubjectRulesReview). */
  rulesFor(user: UserInfo, namespace: string): SubjectRulesReviewStatus;
}

function parse(body: unknown): KubeObject {
  if (Buffer.isBuffer(body)) {
    try {
      return JSON.parse(body.toString('utf8'));
    } catch (e) {
      throw badRequest(`error decoding request body: ${(e as Error).message}`);
    }
  }
  return body as KubeObject;
}

export function reviewHandlers(deps: { authorizer: () => Authorizer; authenticator?: () => Authenticator | undefined; rules?: () => RulesLister | undefined }): Record<string, SubresourceHandler> {
  const accessReview = (self: boolean, local: boolean): SubresourceHandler => async (request, resource, info) => {
    const review = parse(request.body);
    const spec = review?.spec ?? {};
    const ra = spec.resourceAttributes;
    const nra = spec.nonResourceAttributes;
    if (!ra && !nra) {
      throw invalid(resource.groupKind, resource.group, resource.kind, '', [{ type: 'FieldValueRequired', field: 'spec.resourceAttributes', message: 'Required value: exactly one of nonResourceAttributes or resourceAttributes must be specified' }]);
    }
    if (local && ra && ra.namespace && ra.namespace !== info.namespace) {
      throw invalid(resource.groupKind, resource.group, resource.kind, '', [{ type: 'FieldValueInvalid', field: 'spec.resourceAttributes.namespace', message: `Invalid value: "${ra.namespace}": must match metadata.namespace` }]);
    }
    const user: UserInfo = self
      ? request.user
      : { username: spec.user ?? '', uid: spec.uid, groups: spec.groups ?? [], extra: spec.extra };
    const decision = await deps.authorizer().authorize({
      user,
      verb: ra ? ra.verb ?? '' : nra.verb ?? '',
      namespace: ra ? (local ? info.namespace : ra.namespace ?? '') : '',
      apiGroup: ra?.group ?? '',
      apiVersion: ra?.version ?? '',
      resource: ra?.resource ?? '',
      subresource: ra?.subresource ?? '',
      name: ra?.name ?? '',
      path: nra?.path ?? '',
      resourceRequest: !!ra,
    });
    return {
      status: 201,
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: resource.kind,
        metadata: { ...(review.metadata ?? {}), creationTimestamp: null },
        spec,
        status: { allowed: decision.allowed, ...(decision.reason ? { reason: decision.reason } : {}) },
      },
    };
  };

  const rulesReview: SubresourceHandler = async (request) => {
    const review = parse(request.body);
    const namespace = review?.spec?.namespace ?? '';
    const lister = deps.rules?.();
    const rules = lister ? lister.rulesFor(request.user, namespace) : { resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }], nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }], incomplete: false };
    return {
      status: 201,
      body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', metadata: { creationTimestamp: null }, spec: { namespace }, status: rules },
    };
  };

  const selfSubjectReview: SubresourceHandler = async (request, resource) => ({
    status: 201,
    body: {
      apiVersion: `${resource.group}/${resource.version}`,
      kind: 'SelfSubjectReview',
      metadata: { creationTimestamp: null },
      status: { userInfo: { username: request.user.username, ...(request.user.uid ? { uid: request.user.uid } : {}), groups: request.user.groups, ...(request.user.extra ? { extra: request.user.extra } : {}) } },
    },
  });

  const tokenReview: SubresourceHandler = async (request, resource) => {
    const review = parse(request.body);
    const token = review?.spec?.token;
    if (!token) throw invalid(resource.groupKind, resource.group, resource.kind, '', [{ type: 'FieldValueRequired', field: 'spec.token', message: 'Required value' }]);
    const authenticator = deps.authenticator?.();
    const user = authenticator ? await authenticator.authenticate({ authorizationHeader: `Bearer ${token}` }) : null;
    const authenticated = !!user && user.username !== 'system:anonymous';
    return {
      status: 201,
      body: {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenReview',
        metadata: { creationTimestamp: null },
        spec: review.spec,
        status: authenticated ? { authenticated: true, user: { username: (user as UserInfo).username, uid: (user as UserInfo).uid, groups: (user as UserInfo).groups, extra: (user as UserInfo).extra }, audiences: review.spec.audiences } : { authenticated: false, user: {}, error: 'invalid bearer token' },
      },
    };
  };

  return {
    'authorization.k8s.io/subjectaccessreviews/': accessReview(false, false),
    'authorization.k8s.io/selfsubjectaccessreviews/': accessReview(true, false),
    'authorization.k8s.io/localsubjectaccessreviews/': accessReview(false, true),
    'authorization.k8s.io/selfsubjectrulesreviews/': rulesReview,
    'authentication.k8s.io/selfsubjectreviews/': selfSubjectReview,
    'authentication.k8s.io/tokenreviews/': tokenReview,
  };
}
