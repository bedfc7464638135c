// POST /api/v1/namespaces/<ns>/serviceaccounts/<name>/token — the TokenRequest API
// (`kubectl create token`, projected service-account volumes): a bound, expiring JWT.
import type { KubeObject } from '../api/types.js';
import type { ServiceAccountTokenIssuer } from './auth/service-account-token.js';
import { badRequest, conflict, invalid, methodNotAllowed, notFound } from './errors.js';
import type { SubresourceHandler } from './handler.js';
import type { ResourceRegistry } from './registry.js';
import type { ResourceStore } from './resource-store.js';

export function tokenRequestHandler(deps: { issuer: () => ServiceAccountTokenIssuer; resources: () => ResourceStore; registry: () => ResourceRegistry }): SubresourceHandler {
  return async (request, resource, info) => {
    if (info.verb !== 'create') throw methodNotAllowed();
    let body: KubeObject;
    try {
      body = Buffer.isBuffer(request.body) ? JSON.parse(request.body.toString('utf8') || '{}') : ((request.body ?? {}) as KubeObject);
    } catch (e) {
      throw badRequest(`error decoding request body: ${(e as Error).message}`);
    }
    const spec = body.spec ?? {};
    const expirationSeconds: number = spec.expirationSeconds ?? 3600;
    if (expirationSeconds < 600) {
      throw invalid('TokenRequest.authentication.k8s.io', 'authentication.k8s.io', 'TokenRequest', info.name, [{ type: 'FieldValueInvalid', field: 'spec.expirationSeconds', message: `Invalid value: ${expirationSeconds}: may not specify a duration less than 10 minutes` }]);
    }
    if (expirationSeconds > 2 ** 32) {
      throw invalid('TokenRequest.authentication.k8s.io', 'authentication.k8s.io', 'TokenRequest', info.name, [{ type: 'FieldValueTooLong', field: 'spec.expirationSeconds', message: `Invalid value: ${expirationSeconds}: may not specify a duration larger than 2^32 seconds` }]);
    }
    const sa = await deps.resources().get(resource, info.namespace, info.name);
    let boundObject: { kind: 'Pod' | 'Secret' | 'Node'; name: string; uid: string; nodeName?: string; nodeUid?: string } | undefined;
    const ref = spec.boundObjectRef;
    if (ref) {
      const kinds: Record<string, string> = { Pod: 'pods', Secret: 'secrets', Node: 'nodes' };
      const plural = kinds[ref.kind];
      if (!plural) throw badRequest(`cannot bind token to object of kind "${ref.kind}"`);
      const target = deps.registry().lookup('', 'v1', plural)!;
      let obj: KubeObject;
      try {
        obj = await deps.resources().get(target, ref.kind === 'Node' ? '' : info.namespace, ref.name);
      } catch {
        throw notFound('', plural, ref.name);
      }
      if (ref.uid && ref.uid !== obj.metadata.uid) throw conflict('', plural, ref.name, `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`);
      boundObject = { kind: ref.kind, name: ref.name, uid: obj.metadata.uid! };
      if (ref.kind === 'Pod' && obj.spec?.nodeName) {
        const nodes = deps.registry().lookup('', 'v1', 'nodes')!;
        const node = await deps.resources().get(nodes, '', obj.spec.nodeName).catch(() => undefined);
        if (node) {
          boundObject.nodeName = node.metadata.name;
          boundObject.nodeUid = node.metadata.uid;
        }
      }
    }
    const issued = await deps.issuer().issueServiceAccountToken({
      namespace: info.namespace,
      name: info.name,
      uid: sa.metadata.uid!,
      audiences: spec.audiences,
      expirationSeconds,
      boundObject,
    });
    return {
      status: 201,
      body: {
        kind: 'TokenRequest',
        apiVersion: 'authentication.k8s.io/v1',
        metadata: { name: info.name, namespace: info.namespace, creationTimestamp: null },
        spec: { audiences: spec.audiences ?? [deps.issuer().issuer], expirationSeconds, boundObjectRef: spec.boundObjectRef ?? null },
        status: issued,
      },
    };
  };
}
