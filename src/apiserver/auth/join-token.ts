// The server's join token: `K10<sha256 of the CA certificate>::server:<secret>`, the shape k3s made
// familiar. The CA hash lets an agent pin the CA it downloads before trusting anything; the secret
// part authenticates the agent's first request and keys the sealed HA secrets. A bare secret (what a
// user may type as `--token`) is accepted everywhere a full token is.

import { randomBytes, timingSafeEqual } from 'node:crypto';

const PREFIX = 'K10';
const SEPARATOR = '::server:';

export interface JoinToken {
  /** Hex sha256 of the CA certificate DER; absent for a bare secret. */
  caHash?: string;
  secret: string;
}

export function parseJoinToken(token: string): JoinToken {
  const trimmed = token.trim();
  const at = trimmed.indexOf(SEPARATOR);
  if (trimmed.startsWith(PREFIX) && at > PREFIX.length) {
    const caHash = trimmed.slice(PREFIX.length, at).toLowerCase();
    const secret = trimmed.slice(at + SEPARATOR.length);
    if (/^[0-9a-f]{64}$/.test(caHash) && secret.length > 0) return { caHash, secret };
  }
  if (trimmed.length === 0) throw new Error('join token is empty');
  return { secret: trimmed };
}

export function formatJoinToken(caHash: string, secret: string): string {
  return `${PREFIX}${caHash}${SEPARATOR}${secret}`;
}

/** 128 bits of secret, hex. `randomSource` is injectable for deterministic tests. */
export function generateJoinTokenSecret(randomSource: (n: number) => Buffer = randomBytes): string {
  return randomSource(16).toString('hex');
}

/** Whether `presented` carries the same secret as `expected` (full or bare forms, constant time). */
export function joinTokenMatches(expected: string, presented: string): boolean {
  let want: JoinToken;
  let got: JoinToken;
  try {
    want = parseJoinToken(expected);
    got = parseJoinToken(presented);
  } catch {
    return false;
  }
  // A presented CA hash must agree with ours: it is the agent's statement of which cluster it joins.
  if (got.caHash && want.caHash && got.caHash !== want.caHash) return false;
  const a = Buffer.from(want.secret);
  const b = Buffer.from(got.secret);
  return a.length === b.length && timingSafeEqual(a, b);
}
