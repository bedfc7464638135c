// Public surface of the API server's authentication building blocks (see README.md).
export * from './pki.js';
export * from './cluster-pki.js';
export * from './kubeconfig.js';
export * from './seal.js';
export * from './join-token.js';
export * from './authenticator.js';
export {
  createServiceAccountTokenVerifier,
  serviceAccountUsername,
  serviceAccountGroups,
  parseServiceAccountUsername,
  keyId,
  LEGACY_ISSUER,
  DEFAULT_ISSUER,
  MIN_TOKEN_EXPIRATION_SECONDS,
  DEFAULT_TOKEN_EXPIRATION_SECONDS,
  type ObjectReference,
  type KubernetesClaims,
  type VerifiedServiceAccountToken,
} from './service-account-token.js';
