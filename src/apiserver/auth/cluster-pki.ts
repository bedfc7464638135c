// The server's on-disk PKI under <data-dir>: created on first start, loaded on restart, leaf
// certificates re-issued when they near expiry or no longer cover the server's names.
//
//   <data-dir>/tls/ca.crt ca.key                 cluster CA (shared by every server of an HA cluster)
//   <data-dir>/tls/server.crt server.key         API server serving certificate (per server)
//   <data-dir>/tls/admin.crt admin.key           navarch-admin / system:masters client certificate
//   <data-dir>/tls/service-account.key .pub      service account token signing key (shared)
//   <data-dir>/token                             join token K10<ca sha256>::server:<secret>

import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createPublicKey, X509Certificate as NodeX509Certificate } from 'node:crypto';
import { join } from 'node:path';
import {
  certificateFingerprint,
  createCertificateAuthority,
  generatePrivateKeyPem,
  issueAdminCertificate,
  issueServingCertificate,
  needsRenewal,
  readCertificate,
  servingCertificateNames,
  type CertificateAuthority,
} from './pki.js';
import { formatJoinToken, generateJoinTokenSecret, parseJoinToken } from './join-token.js';
import type { ClusterSecretBundle } from './seal.js';

export interface ClusterPki {
  ca: CertificateAuthority;
  serving: { certPem: string; keyPem: string };
  admin: { certPem: string; keyPem: string };
  serviceAccountKeyPem: string;
  serviceAccountPublicKeyPem: string;
  token: string;
  paths: ClusterPkiPaths;
}

export interface ClusterPkiPaths {
  tlsDir: string;
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  adminCert: string;
  adminKey: string;
  serviceAccountKey: string;
  serviceAccountPublicKey: string;
  token: string;
}

export interface EnsureClusterPkiOptions {
  hostNames?: string[];
  ips?: string[];
  /** A user-chosen `--token` (full or bare secret); used only when no token file exists yet. */
  token?: string;
  /** Secrets unsealed from the datastore (HA join): used instead of generating a new CA. */
  bundle?: ClusterSecretBundle;
  now?: Date;
  randomSource?: (n: number) => Buffer;
}

export function clusterPkiPaths(dataDir: string): ClusterPkiPaths {
  const tlsDir = join(dataDir, 'tls');
  return {
    tlsDir,
    caCert: join(tlsDir, 'ca.crt'),
    caKey: join(tlsDir, 'ca.key'),
    serverCert: join(tlsDir, 'server.crt'),
    serverKey: join(tlsDir, 'server.key'),
    adminCert: join(tlsDir, 'admin.crt'),
    adminKey: join(tlsDir, 'admin.key'),
    serviceAccountKey: join(tlsDir, 'service-account.key'),
    serviceAccountPublicKey: join(tlsDir, 'service-account.pub'),
    token: join(dataDir, 'token'),
  };
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Write-then-rename so a crash never leaves a half-written key behind. */
async function writeAtomic(path: string, content: string, mode: number): Promise<void> {
  const temporary = `${path}.tmp-${process.pid}`;
  await writeFile(temporary, content, { mode });
  await chmod(temporary, mode);
  await rename(temporary, path);
}

export function publicKeyPemOf(privateKeyPem: string): string {
  return createPublicKey(privateKeyPem).export({ type: 'spki', format: 'pem' }).toString();
}

/** Loads the cluster PKI from `dataDir`, creating whatever is missing and renewing what is due. */
export async function ensureClusterPki(dataDir: string, options: EnsureClusterPkiOptions = {}): Promise<ClusterPki> {
  const paths = clusterPkiPaths(dataDir);
  await mkdir(paths.tlsDir, { recursive: true, mode: 0o700 });

  let caCertPem = await readOptional(paths.caCert);
  let caKeyPem = await readOptional(paths.caKey);
  if (options.bundle && caCertPem && certificateFingerprint(caCertPem) !== certificateFingerprint(options.bundle.caCertPem)) {
    throw new Error(`${paths.caCert} belongs to a different cluster than the secrets in the datastore`);
  }
  if (!caCertPem || !caKeyPem) {
    const ca = options.bundle
      ? { certPem: options.bundle.caCertPem, keyPem: options.bundle.caKeyPem }
      : await createCertificateAuthority({ now: options.now });
    caCertPem = ca.certPem;
    caKeyPem = ca.keyPem;
    await writeAtomic(paths.caKey, caKeyPem, 0o600);
    await writeAtomic(paths.caCert, caCertPem, 0o644);
  }
  const ca: CertificateAuthority = { certPem: caCertPem, keyPem: caKeyPem };

  let serviceAccountKeyPem = await readOptional(paths.serviceAccountKey);
  if (!serviceAccountKeyPem) {
    serviceAccountKeyPem = options.bundle?.serviceAccountKeyPem ?? (await generatePrivateKeyPem()).privateKeyPem;
    await writeAtomic(paths.serviceAccountKey, serviceAccountKeyPem, 0o600);
  }
  const serviceAccountPublicKeyPem = publicKeyPemOf(serviceAccountKeyPem);
  await writeAtomic(paths.serviceAccountPublicKey, serviceAccountPublicKeyPem, 0o644);

  let token = (await readOptional(paths.token))?.trim();
  if (!token) {
    const secret = options.token ? parseJoinToken(options.token).secret : generateJoinTokenSecret(options.randomSource);
    token = formatJoinToken(certificateFingerprint(caCertPem), secret);
    await writeAtomic(paths.token, token + '\n', 0o600);
  }

  const pki: ClusterPki = {
    ca,
    serving: { certPem: (await readOptional(paths.serverCert)) ?? '', keyPem: (await readOptional(paths.serverKey)) ?? '' },
    admin: { certPem: (await readOptional(paths.adminCert)) ?? '', keyPem: (await readOptional(paths.adminKey)) ?? '' },
    serviceAccountKeyPem,
    serviceAccountPublicKeyPem,
    token,
    paths,
  };
  await renewLeafCertificates(pki, options);
  return pki;
}

export interface RenewalResult {
  /** Which certificates were (re-)issued: "server", "admin". */
  renewed: string[];
}

/**
 * Re-issues the serving and admin certificates when missing, not signed by the current CA, within
 * 90 days of expiry, or (serving) not covering the requested names. Updates `pki` in place and on
 * disk. Safe to call at start and from a timer; callers reload their TLS context when `renewed` is
 * non-empty.
 */
export async function renewLeafCertificates(
  pki: ClusterPki,
  options: { hostNames?: string[]; ips?: string[]; now?: Date } = {},
): Promise<RenewalResult> {
  const renewed: string[] = [];
  const now = options.now ?? new Date();
  const stale = (certPem: string): boolean => {
    if (!certPem) return true;
    try {
      const info = readCertificate(certPem);
      return needsRenewal(certPem, now) || !issuedBy(certPem, pki.ca.certPem) || info.notBefore.getTime() > now.getTime() + 60_000;
    } catch {
      return true;
    }
  };

  const wanted = servingCertificateNames(options);
  const covers = (certPem: string): boolean => {
    const info = readCertificate(certPem);
    return wanted.dnsNames.every((n) => info.dnsNames.includes(n)) && wanted.ipAddresses.every((ip) => info.ipAddresses.includes(ip));
  };
  if (stale(pki.serving.certPem) || !pki.serving.keyPem || !covers(pki.serving.certPem)) {
    // Keep names the old certificate had, so adding an address never drops one a client relies on.
    const previous = pki.serving.certPem && !stale(pki.serving.certPem) ? readCertificate(pki.serving.certPem) : undefined;
    const serving = await issueServingCertificate(pki.ca, {
      now,
      hostNames: [...(options.hostNames ?? []), ...(previous?.dnsNames ?? [])],
      ips: [...(options.ips ?? []), ...(previous?.ipAddresses ?? [])],
    });
    await writeAtomic(pki.paths.serverKey, serving.keyPem, 0o600);
    await writeAtomic(pki.paths.serverCert, serving.certPem, 0o644);
    pki.serving = serving;
    renewed.push('server');
  }
  if (stale(pki.admin.certPem) || !pki.admin.keyPem) {
    const admin = await issueAdminCertificate(pki.ca, { now });
    await writeAtomic(pki.paths.adminKey, admin.keyPem, 0o600);
    await writeAtomic(pki.paths.adminCert, admin.certPem, 0o644);
    pki.admin = admin;
    renewed.push('admin');
  }
  return { renewed };
}

/** Whether `certPem` names `caCertPem` as issuer and carries a valid signature from it. */
function issuedBy(certPem: string, caCertPem: string): boolean {
  try {
    const cert = new NodeX509Certificate(certPem);
    const ca = new NodeX509Certificate(caCertPem);
    return cert.checkIssued(ca) && cert.verify(ca.publicKey);
  } catch {
    return false;
  }
}

/** The secrets to seal into the datastore for other servers of the cluster. */
export function clusterSecretBundle(pki: ClusterPki): ClusterSecretBundle {
  return { caCertPem: pki.ca.certPem, caKeyPem: pki.ca.keyPem, serviceAccountKeyPem: pki.serviceAccountKeyPem };
}
