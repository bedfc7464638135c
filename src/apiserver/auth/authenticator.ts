// Request authentication, in Kubernetes' order: client certificate, then bearer token (service
// account JWT, bootstrap token, the server's join token), then anonymous. A request that presents
// credentials which do not verify is rejected (null → 401); it never falls back to anonymous, as in
// Kubernetes. Every authenticated user gets system:authenticated.

import { X509Certificate as NodeX509Certificate, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import './reflect-metadata.js';
import * as x509 from '@peculiar/x509';
import type { KubeObject } from '../../api/types.js';
import { pemDecodeAll } from './pki.js';
import { joinTokenMatches } from './join-token.js';
import { createServiceAccountTokenVerifier, serviceAccountGroups, serviceAccountUsername } from './service-account-token.js';

// The signing side (TokenRequest API, token controller) lives beside the verifier.
export {
  createServiceAccountTokenIssuer,
  type ServiceAccountTokenIssuer,
  type ServiceAccountTokenRequest,
  type IssuedToken,
} from './service-account-token.js';

export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

export const AUTHENTICATED_GROUP = 'system:authenticated';
export const UNAUTHENTICATED_GROUP = 'system:unauthenticated';
export const ANONYMOUS_USER = 'system:anonymous';
export const BOOTSTRAPPERS_GROUP = 'system:bootstrappers';
/** Who an agent is while it presents the server's join token: allowed to ask for a node certificate. */
export const JOIN_TOKEN_USER = 'system:bootstrap:navarch-join';
export const JOIN_TOKEN_GROUPS = [BOOTSTRAPPERS_GROUP, 'system:bootstrappers:navarch:default-node-token'];

const EXTRA_POD_NAME = 'authentication.kubernetes.io/pod-name';
const EXTRA_POD_UID = 'authentication.kubernetes.io/pod-uid';
const EXTRA_NODE_NAME = 'authentication.kubernetes.io/node-name';
const EXTRA_NODE_UID = 'authentication.kubernetes.io/node-uid';
const EXTRA_CREDENTIAL_ID = 'authentication.kubernetes.io/credential-id';
const CLIENT_AUTH_OID = '1.3.6.1.5.5.7.3.2';
const ANY_EXTENDED_KEY_USAGE_OID = '2.5.29.37.0';

type MaybePromise<T> = T | Promise<T>;

export interface AuthenticatorOptions {
  /** CA bundle (PEM) that signs client certificates. */
  caPem: string;
  /** PEM key(s) verifying service account tokens; several during rotation. */
  serviceAccountPublicKey: string | string[];
  /** `--service-account-issuer`; tokens from the legacy controller use kubernetes/serviceaccount. */
  issuer: string;
  /** `--api-audiences`; defaults to [issuer]. */
  audiences?: string[];
  /** The Secret `bootstrap-token-<id>` in kube-system, or null. */
  lookupBootstrapToken(tokenId: string): MaybePromise<KubeObject | null | undefined>;
  /** When given, tokens of service accounts that no longer exist (or were recreated: uid differs) are refused. */
  lookupServiceAccount?(namespace: string, name: string, uid: string): MaybePromise<KubeObject | null | undefined>;
  /** When given, tokens bound to a deleted (or recreated) Pod, Secret or Node are refused. */
  lookupPod?(namespace: string, name: string): MaybePromise<KubeObject | null | undefined>;
  lookupSecret?(namespace: string, name: string): MaybePromise<KubeObject | null | undefined>;
  lookupNode?(name: string): MaybePromise<KubeObject | null | undefined>;
  /** The server's join token (full `K10…::server:…` or bare secret). */
  joinToken?: string;
  /** Kubernetes' --anonymous-auth, default true. */
  anonymous?: boolean;
  now?: () => Date;
}

export interface AuthenticationRequest {
  /** `tlsSocket.getPeerCertificate()` (a tls.PeerCertificate); an empty object when the client sent none. */
  peerCertificate?: Pick<PeerCertificate, 'raw'> | { raw?: Uint8Array };
  /** The raw Authorization header. */
  authorizationHeader?: string;
}

export interface Authenticator {
  /** The user, anonymous when no credentials were presented, or null when credentials did not verify. */
  authenticate(request: AuthenticationRequest): Promise<UserInfo | null>;
}

function withAuthenticatedGroup(user: UserInfo): UserInfo {
  return user.groups.includes(AUTHENTICATED_GROUP) ? user : { ...user, groups: [...user.groups, AUTHENTICATED_GROUP] };
}

export function anonymousUser(): UserInfo {
  return { username: ANONYMOUS_USER, groups: [UNAUTHENTICATED_GROUP] };
}

export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const now = options.now ?? (() => new Date());
  const authorities = pemDecodeAll(options.caPem)
    .filter((b) => b.label === 'CERTIFICATE')
    .map((b) => new NodeX509Certificate(b.der));
  const verifyServiceAccountToken = createServiceAccountTokenVerifier({
    publicKeys: Array.isArray(options.serviceAccountPublicKey) ? options.serviceAccountPublicKey : [options.serviceAccountPublicKey],
    issuer: options.issuer,
    audiences: options.audiences,
    now,
  });
  // Parsing names out of DER is the costly part of a TLS request's authentication; connections
  // reuse one certificate for many requests. Bounded so a flood of distinct certificates cannot grow it.
  const certificateUsers = new Map<string, { user: UserInfo; notBefore: number; notAfter: number; issuerIndex: number }>();
  const CACHE_LIMIT = 1024;

  function authenticateCertificate(raw: Buffer): UserInfo | null {
    const key = raw.toString('base64');
    let entry = certificateUsers.get(key);
    if (!entry) {
      let cert: NodeX509Certificate;
      try {
        cert = new NodeX509Certificate(raw);
      } catch {
        return null;
      }
      const issuerIndex = authorities.findIndex((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey as KeyObject));
      if (issuerIndex < 0) return null;
      const usages = (cert as unknown as { extKeyUsage?: string[] }).extKeyUsage ?? cert.keyUsage;
      if (usages && !usages.includes(CLIENT_AUTH_OID) && !usages.includes(ANY_EXTENDED_KEY_USAGE_OID)) return null;
      const name = new x509.X509Certificate(new Uint8Array(raw)).subjectName;
      const username = name.getField('CN')[0];
      if (!username) return null;
      const user: UserInfo = { username, groups: name.getField('O') };
      entry = { user, notBefore: Date.parse(cert.validFrom), notAfter: Date.parse(cert.validTo), issuerIndex };
      if (certificateUsers.size >= CACHE_LIMIT) certificateUsers.delete(certificateUsers.keys().next().value as string);
      certificateUsers.set(key, entry);
    }
    const t = now().getTime();
    if (t < entry.notBefore || t > entry.notAfter) return null;
    return { ...entry.user, groups: [...entry.user.groups] };
  }

  async function authenticateServiceAccount(token: string): Promise<UserInfo | null | undefined> {
    let verified;
    try {
      verified = await verifyServiceAccountToken(token);
    } catch {
      return null;
    }
    if (!verified) return undefined;
    if (options.lookupServiceAccount) {
      const account = await options.lookupServiceAccount(verified.namespace, verified.name, verified.uid);
      if (!account || account.metadata.deletionTimestamp) return null;
      if (verified.uid && account.metadata.uid && account.metadata.uid !== verified.uid) return null;
    }
    const boundStillExists = async (
      ref: { name: string; uid: string } | undefined,
      lookup: ((name: string) => MaybePromise<KubeObject | null | undefined>) | undefined,
    ): Promise<boolean> => {
      if (!ref || !lookup) return true;
      const object = await lookup(ref.name);
      if (!object) return false;
      // A deleted object past its grace period no longer vouches for the token.
      if (object.metadata.deletionTimestamp && Date.parse(object.metadata.deletionTimestamp) < now().getTime()) return false;
      return !ref.uid || object.metadata.uid === ref.uid;
    };
    if (!(await boundStillExists(verified.pod, options.lookupPod && ((n) => options.lookupPod!(verified.namespace, n))))) return null;
    if (!(await boundStillExists(verified.secret, options.lookupSecret && ((n) => options.lookupSecret!(verified.namespace, n))))) return null;
    if (verified.legacy && verified.secret && options.lookupSecret) {
      // A legacy token is only as valid as the Secret holding it: deleting the Secret revokes it.
      const secret = await options.lookupSecret(verified.namespace, verified.secret.name);
      if (!secret || decodeData(secret, 'token') !== token) return null;
    }
    // Node binding is checked only for node-bound tokens; a pod token's node claim is informational.
    if (!verified.pod && !(await boundStillExists(verified.node, options.lookupNode))) return null;

    const extra: Record<string, string[]> = {};
    if (verified.pod) {
      extra[EXTRA_POD_NAME] = [verified.pod.name];
      extra[EXTRA_POD_UID] = [verified.pod.uid];
    }
    if (verified.node) {
      extra[EXTRA_NODE_NAME] = [verified.node.name];
      if (verified.node.uid) extra[EXTRA_NODE_UID] = [verified.node.uid];
    }
    if (verified.jti) extra[EXTRA_CREDENTIAL_ID] = [`JTI=${verified.jti}`];
    return {
      username: serviceAccountUsername(verified.namespace, verified.name),
      uid: verified.uid,
      groups: serviceAccountGroups(verified.namespace),
      ...(Object.keys(extra).length > 0 ? { extra } : {}),
    };
  }

  async function authenticateBootstrapToken(token: string): Promise<UserInfo | null | undefined> {
    const match = /^([a-z0-9]{6})\.([a-z0-9]{16})$/.exec(token);
    if (!match) return undefined;
    const [, tokenId, tokenSecret] = match;
    const secret = await options.lookupBootstrapToken(tokenId);
    return bootstrapTokenUser(secret, tokenId, tokenSecret, now());
  }

  return {
    async authenticate(request) {
      const raw = request.peerCertificate?.raw;
      if (raw && raw.length > 0) {
        const user = authenticateCertificate(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength));
        if (user) return withAuthenticatedGroup(user);
        // Kubernetes rejects a request whose client certificate does not verify, whatever else it carries.
        return null;
      }
      const header = request.authorizationHeader?.trim();
      if (header) {
        const bearer = /^Bearer\s+(\S+)$/i.exec(header);
        if (!bearer) return null;
        const token = bearer[1];
        for (const attempt of [authenticateServiceAccount, authenticateBootstrapToken]) {
          const user = await attempt(token);
          if (user === null) return null;
          if (user) return withAuthenticatedGroup(user);
        }
        if (options.joinToken && joinTokenMatches(options.joinToken, token)) {
          return withAuthenticatedGroup({ username: JOIN_TOKEN_USER, groups: [...JOIN_TOKEN_GROUPS] });
        }
        return null;
      }
      return options.anonymous === false ? null : anonymousUser();
    },
  };
}

const decodeData = (secret: KubeObject, key: string): string | undefined => {
  const value = (secret.data as Record<string, string> | undefined)?.[key];
  return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');
};

const EXTRA_GROUP_PATTERN = /^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$/;

/**
 * The user a bootstrap token Secret grants, per Kubernetes' bootstrap token authenticator:
 * type bootstrap.kubernetes.io/token, matching token-id/token-secret, not expired, not being
 * deleted, usage-bootstrap-authentication "true", extra groups under system:bootstrappers:.
 */
export function bootstrapTokenUser(secret: KubeObject | null | undefined, tokenId: string, tokenSecret: string, now: Date): UserInfo | null {
  if (!secret || secret.type !== 'bootstrap.kubernetes.io/token' || secret.metadata.deletionTimestamp) return null;
  if (secret.metadata.name !== `bootstrap-token-${tokenId}`) return null;
  const storedSecret = decodeData(secret, 'token-secret') ?? '';
  const a = Buffer.from(storedSecret);
  const b = Buffer.from(tokenSecret);
  if (a.length !== b.length || !timingSafeEqual(a, b)) return null;
  if (decodeData(secret, 'token-id') !== tokenId) return null;
  const expiration = decodeData(secret, 'expiration');
  if (expiration) {
    const at = Date.parse(expiration);
    if (Number.isNaN(at) || at < now.getTime()) return null;
  }
  if (decodeData(secret, 'usage-bootstrap-authentication') !== 'true') return null;
  const groups = [BOOTSTRAPPERS_GROUP];
  const extraGroups = decodeData(secret, 'auth-extra-groups');
  if (extraGroups) {
    for (const group of extraGroups.split(',').map((g) => g.trim()).filter(Boolean)) {
      if (!EXTRA_GROUP_PATTERN.test(group)) return null;
      if (!groups.includes(group)) groups.push(group);
    }
  }
  return { username: `system:bootstrap:${tokenId}`, groups };
}
