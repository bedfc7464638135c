// The pod-template-hash: Kubernetes' ComputeHash (FNV-1a 32 over the template, plus the
// collisionCount when set) encoded with rand.SafeEncodeString, which maps each decimal digit
// to a consonant/digit alphabet so names never spell words ("5d59d67564"). Kubernetes hashes
// a spew dump of the Go struct; we hash canonical JSON (sorted keys) — the same properties
// (stable across restarts, changes with any template change), not the same digits.

import { canonicalJson } from '../../util/json.js';

const safeAlphabet = 'bcdfghjklmnpqrstvwxz2456789';

export function safeEncodeString(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) out += safeAlphabet[s.charCodeAt(i) % safeAlphabet.length];
  return out;
}

export function fnv32a(bytes: Uint8Array, seed = 0x811c9dc5): number {
  let hash = seed >>> 0;
  for (const b of bytes) {
    hash ^= b;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

export function computeTemplateHash(template: unknown, collisionCount?: number): string {
  let hash = fnv32a(new TextEncoder().encode(canonicalJson(template)));
  if (collisionCount !== undefined && collisionCount !== null) {
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setUint32(0, collisionCount >>> 0, true);
    hash = fnv32a(bytes, hash);
  }
  return safeEncodeString(String(hash));
}
