// Service account tokens: signing (TokenRequest API, the legacy token controller) and verification
// (the authenticator). Claims follow Kubernetes exactly, so in-cluster clients and tools that read
// them (client-go's token file reader, OIDC discovery consumers) behave as on Kubernetes.

import { createHash, createPrivateKey, createPublicKey, randomUUID, type KeyObject } from 'node:crypto';
import { SignJWT, exportJWK, jwtVerify, decodeJwt, type JWK, type JWTPayload } from 'jose';

/** The issuer of tokens minted by the legacy token controller (Secrets of type service-account-token). */
export const LEGACY_ISSUER = 'kubernetes/serviceaccount';
export const DEFAULT_ISSUER = 'https://kubernetes.default.svc.cluster.local';
/** TokenRequest: expirationSeconds below this are rejected (Kubernetes' validation message text). */
export const MIN_TOKEN_EXPIRATION_SECONDS = 600;
export const DEFAULT_TOKEN_EXPIRATION_SECONDS = 3600;

export interface ObjectReference {
  kind: 'Pod' | 'Secret' | 'Node';
  name: string;
  uid: string;
  /** Pod tokens carry the node the pod was bound to, as Kubernetes does since 1.30. */
  nodeName?: string;
  nodeUid?: string;
}

export interface ServiceAccountTokenRequest {
  namespace: string;
  name: string;
  uid: string;
  audiences?: string[];
  expirationSeconds?: number;
  boundObject?: ObjectReference;
}

export interface IssuedToken {
  token: string;
  expirationTimestamp: string;
}

/** Claims inside `kubernetes.io` of a bound token. */
export interface KubernetesClaims {
  namespace: string;
  serviceaccount: { name: string; uid: string };
  pod?: { name: string; uid: string };
  secret?: { name: string; uid: string };
  node?: { name: string; uid: string };
  warnafter?: number;
}

export function serviceAccountUsername(namespace: string, name: string): string {
  return `system:serviceaccount:${namespace}:${name}`;
}

export function serviceAccountGroups(namespace: string): string[] {
  return ['system:serviceaccounts', `system:serviceaccounts:${namespace}`];
}

/** Splits `system:serviceaccount:<ns>:<name>`; undefined for other user names. */
export function parseServiceAccountUsername(username: string): { namespace: string; name: string } | undefined {
  const parts = username.split(':');
  if (parts.length !== 4 || parts[0] !== 'system' || parts[1] !== 'serviceaccount' || !parts[2] || !parts[3]) return undefined;
  return { namespace: parts[2], name: parts[3] };
}

function signingAlgorithm(key: KeyObject): 'ES256' | 'ES384' | 'ES512' | 'RS256' {
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'secp384r1') return 'ES384';
    if (curve === 'secp521r1') return 'ES512';
    return 'ES256';
  }
  throw new Error(`service account key type ${String(key.asymmetricKeyType)} is not supported (want EC or RSA)`);
}

/** Kubernetes' key id: unpadded base64url of the sha256 of the public key's DER (SPKI). */
export function keyId(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64url');
}

export interface ServiceAccountTokenIssuerOptions {
  privateKeyPem: string;
  issuer?: string;
  now?: () => Date;
  newId?: () => string;
}

export interface ServiceAccountTokenIssuer {
  readonly issuer: string;
  /** TokenRequest (serviceaccounts/token): a bound, expiring token. */
  issueServiceAccountToken(request: ServiceAccountTokenRequest): Promise<IssuedToken>;
  /** The legacy, non-expiring token stored in a kubernetes.io/service-account-token Secret. */
  issueLegacyServiceAccountToken(request: { namespace: string; name: string; uid: string; secretName: string }): Promise<string>;
  /** The public keys as a JWK Set, for /openid/v1/jwks. */
  jwks(): Promise<{ keys: JWK[] }>;
}

export function createServiceAccountTokenIssuer(options: ServiceAccountTokenIssuerOptions): ServiceAccountTokenIssuer {
  const privateKey = createPrivateKey(options.privateKeyPem);
  const publicKey = createPublicKey(privateKey);
  const alg = signingAlgorithm(privateKey);
  const kid = keyId(publicKey);
  const issuer = options.issuer ?? DEFAULT_ISSUER;
  const now = options.now ?? (() => new Date());
  const newId = options.newId ?? randomUUID;

  return {
    issuer,
    async issueServiceAccountToken(request) {
      const expirationSeconds = request.expirationSeconds ?? DEFAULT_TOKEN_EXPIRATION_SECONDS;
      if (expirationSeconds < MIN_TOKEN_EXPIRATION_SECONDS) {
        throw new Error('spec.expirationSeconds: Invalid value: may not specify a duration less than 10 minutes');
      }
      const issuedAt = Math.floor(now().getTime() / 1000);
      const expiresAt = issuedAt + expirationSeconds;
      const claims: KubernetesClaims = {
        namespace: request.namespace,
        serviceaccount: { name: request.name, uid: request.uid },
      };
      const bound = request.boundObject;
      if (bound?.kind === 'Pod') {
        claims.pod = { name: bound.name, uid: bound.uid };
        if (bound.nodeName) claims.node = { name: bound.nodeName, uid: bound.nodeUid ?? '' };
      } else if (bound?.kind === 'Secret') {
        claims.secret = { name: bound.name, uid: bound.uid };
      } else if (bound?.kind === 'Node') {
        claims.node = { name: bound.name, uid: bound.uid };
      }
      const audiences = request.audiences && request.audiences.length > 0 ? request.audiences : [issuer];
      const token = await new SignJWT({ 'kubernetes.io': claims } as unknown as JWTPayload)
        .setProtectedHeader({ alg, kid })
        .setIssuer(issuer)
        .setSubject(serviceAccountUsername(request.namespace, request.name))
        .setAudience(audiences)
        .setIssuedAt(issuedAt)
        .setNotBefore(issuedAt)
        .setExpirationTime(expiresAt)
        .setJti(newId())
        .sign(privateKey);
      return { token, expirationTimestamp: new Date(expiresAt * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z') };
    },
    async issueLegacyServiceAccountToken(request) {
      return new SignJWT({
        'kubernetes.io/serviceaccount/namespace': request.namespace,
        'kubernetes.io/serviceaccount/secret.name': request.secretName,
        'kubernetes.io/serviceaccount/service-account.name': request.name,
        'kubernetes.io/serviceaccount/service-account.uid': request.uid,
      })
        .setProtectedHeader({ alg, kid })
        .setIssuer(LEGACY_ISSUER)
        .setSubject(serviceAccountUsername(request.namespace, request.name))
        .sign(privateKey);
    },
    async jwks() {
      const jwk = await exportJWK(publicKey);
      return { keys: [{ ...jwk, kid, alg, use: 'sig' }] };
    },
  };
}

/** What a verified service account token says about its holder. */
export interface VerifiedServiceAccountToken {
  namespace: string;
  name: string;
  uid: string;
  legacy: boolean;
  jti?: string;
  pod?: { name: string; uid: string };
  secret?: { name: string; uid: string };
  node?: { name: string; uid: string };
}

export interface ServiceAccountTokenVerifierOptions {
  /** PEM public (or private) keys; several during key rotation. */
  publicKeys: string[];
  issuer: string;
  /** The API server's audiences; a bound token must name at least one. Defaults to [issuer]. */
  audiences?: string[];
  now?: () => Date;
}

/**
 * Verifies signature, issuer, audience and time claims. Returns undefined for tokens that are not
 * service account JWTs at all (so another authenticator may try), throws for ones that are but fail.
 */
export function createServiceAccountTokenVerifier(options: ServiceAccountTokenVerifierOptions) {
  const keys = options.publicKeys.map((pem) => createPublicKey(pem));
  const audiences = options.audiences && options.audiences.length > 0 ? options.audiences : [options.issuer];
  const now = options.now ?? (() => new Date());

  return async function verify(token: string): Promise<VerifiedServiceAccountToken | undefined> {
    let unverified: JWTPayload;
    try {
      unverified = decodeJwt(token);
    } catch {
      return undefined;
    }
    const legacy = unverified.iss === LEGACY_ISSUER;
    if (!legacy && unverified.iss !== options.issuer) return undefined;

    let payload: JWTPayload | undefined;
    let lastError: unknown;
    for (const key of keys) {
      try {
        ({ payload } = await jwtVerify(token, key, {
          issuer: legacy ? LEGACY_ISSUER : options.issuer,
          audience: legacy ? undefined : audiences,
          algorithms: [signingAlgorithm(key)],
          currentDate: now(),
          // Kubernetes allows 60s of skew on nbf/exp.
          clockTolerance: 60,
          requiredClaims: legacy ? ['sub'] : ['sub', 'exp'],
        }));
        break;
      } catch (err) {
        lastError = err;
      }
    }
    if (!payload) throw new Error(`invalid service account token: ${(lastError as Error)?.message ?? 'no key'}`);

    if (legacy) {
      const namespace = payload['kubernetes.io/serviceaccount/namespace'];
      const name = payload['kubernetes.io/serviceaccount/service-account.name'];
      const uid = payload['kubernetes.io/serviceaccount/service-account.uid'];
      const secretName = payload['kubernetes.io/serviceaccount/secret.name'];
      if (typeof namespace !== 'string' || typeof name !== 'string' || typeof uid !== 'string' || typeof secretName !== 'string') {
        throw new Error('invalid service account token: missing kubernetes.io/serviceaccount claims');
      }
      if (payload.sub !== serviceAccountUsername(namespace, name)) throw new Error('invalid service account token: sub does not match claims');
      return { namespace, name, uid, legacy: true, secret: { name: secretName, uid: '' } };
    }

    const claims = payload['kubernetes.io'] as KubernetesClaims | undefined;
    if (!claims || typeof claims.namespace !== 'string' || typeof claims.serviceaccount?.name !== 'string') {
      throw new Error('invalid service account token: missing kubernetes.io claims');
    }
    if (payload.sub !== serviceAccountUsername(claims.namespace, claims.serviceaccount.name)) {
      throw new Error('invalid service account token: sub does not match claims');
    }
    return {
      namespace: claims.namespace,
      name: claims.serviceaccount.name,
      uid: claims.serviceaccount.uid,
      legacy: false,
      jti: payload.jti,
      pod: claims.pod,
      secret: claims.secret,
      node: claims.node,
    };
  };
}
