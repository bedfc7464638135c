// Sealing of the cluster secrets for HA: the first server stores the CA and signing keys in the
// datastore encrypted under a key derived from the join token's secret, so any server started with
// the same token (and only such a server) can unseal them and serve the same cluster identity.

import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { parseJoinToken } from './join-token.js';

/** The secrets every server of a cluster must share. Serving and admin certificates are per server. */
export interface ClusterSecretBundle {
  caCertPem: string;
  caKeyPem: string;
  serviceAccountKeyPem: string;
}

interface SealedEnvelope {
  version: 1;
  kdf: 'scrypt';
  /** scrypt cost parameters, stored so they can be raised later without breaking old envelopes. */
  N: number;
  r: number;
  p: number;
  salt: string;
  iv: string;
  tag: string;
  ciphertext: string;
}

const SCRYPT = { N: 1 << 15, r: 8, p: 1 };
// Authenticated as associated data so an envelope cannot be replayed as some other sealed thing.
const AAD = Buffer.from('navarch cluster secrets v1');

function deriveKey(token: string, salt: Buffer, params: { N: number; r: number; p: number }): Buffer {
  const { secret } = parseJoinToken(token);
  return scryptSync(secret, salt, 32, { ...params, maxmem: 128 * params.N * params.r * 2 });
}

/** Encrypts the bundle (AES-256-GCM); the result is a JSON string safe to store as a datastore value. */
export function sealSecrets(bundle: ClusterSecretBundle, token: string, randomSource: (n: number) => Buffer = randomBytes): string {
  const salt = randomSource(16);
  const iv = randomSource(12);
  const key = deriveKey(token, salt, SCRYPT);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(AAD);
  const plaintext = Buffer.from(JSON.stringify(bundle), 'utf8');
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const envelope: SealedEnvelope = {
    version: 1,
    kdf: 'scrypt',
    ...SCRYPT,
    salt: salt.toString('base64'),
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    ciphertext: ciphertext.toString('base64'),
  };
  return JSON.stringify(envelope);
}

/** Decrypts a sealed bundle; throws a clear error when the token is wrong or the data was altered. */
export function unsealSecrets(sealed: string, token: string): ClusterSecretBundle {
  let envelope: SealedEnvelope;
  try {
    envelope = JSON.parse(sealed) as SealedEnvelope;
  } catch {
    throw new Error('sealed cluster secrets are not valid JSON');
  }
  if (envelope.version !== 1 || envelope.kdf !== 'scrypt') throw new Error(`unsupported sealed secrets format (version ${String(envelope.version)})`);
  const key = deriveKey(token, Buffer.from(envelope.salt, 'base64'), envelope);
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(envelope.iv, 'base64'));
  decipher.setAAD(AAD);
  decipher.setAuthTag(Buffer.from(envelope.tag, 'base64'));
  let plaintext: Buffer;
  try {
    plaintext = Buffer.concat([decipher.update(Buffer.from(envelope.ciphertext, 'base64')), decipher.final()]);
  } catch {
    throw new Error('cannot unseal cluster secrets: the token does not match the one the cluster was created with');
  }
  const bundle = JSON.parse(plaintext.toString('utf8')) as ClusterSecretBundle;
  for (const field of ['caCertPem', 'caKeyPem', 'serviceAccountKeyPem'] as const) {
    if (typeof bundle[field] !== 'string') throw new Error(`sealed cluster secrets lack ${field}`);
  }
  return bundle;
}
