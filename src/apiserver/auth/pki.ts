// The cluster's PKI: one ECDSA P-256 CA that signs the serving certificate, client certificates
// (CN = user, O = groups, the way Kubernetes' x509 authenticator reads them) and CSRs from nodes
// and certificates.k8s.io. Everything leaves this module as PEM strings, ready for
// `https.createServer({ key, cert, ca })` and for kubeconfig `*-data` fields.

import { createHash, randomBytes, webcrypto } from 'node:crypto';
import './reflect-metadata.js';
import * as x509 from '@peculiar/x509';

// @peculiar/x509 keeps a process-wide default provider; passing ours explicitly avoids touching it.
const crypto = webcrypto as unknown as Crypto;

const EC_KEY: EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
const EC_SIGNING: EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };
const DAY_MS = 24 * 60 * 60 * 1000;
/** Backdating absorbs clock skew between servers and nodes, as kubeadm and k3s do. */
const BACKDATE_MS = 5 * 60 * 1000;

export const CA_VALIDITY_DAYS = 3650;
export const LEAF_VALIDITY_DAYS = 365;
/** Leaf certificates closer than this to expiry are re-issued (k3s uses the same 90 days). */
export const RENEW_BEFORE_DAYS = 90;
export const ADMIN_USER = 'navarch-admin';
export const SYSTEM_MASTERS_GROUP = 'system:masters';
/** The first address of the default service CIDR (10.43.0.0/16): the `kubernetes` Service's ClusterIP. */
export const DEFAULT_KUBERNETES_SERVICE_IP = '10.43.0.1';

/** A certificate with its private key, both PEM. Keys are PKCS#8 ("PRIVATE KEY"). */
export interface KeyPairPem {
  certPem: string;
  keyPem: string;
}

export interface CertificateAuthority extends KeyPairPem {}

export interface IssueOptions {
  /** Defaults to the current time; injected for tests and renewal checks. */
  now?: Date;
  validityDays?: number;
}

// ---------------------------------------------------------------------------------------------
// PEM helpers

export function pemEncode(label: string, der: ArrayBuffer | Uint8Array): string {
  const base64 = Buffer.from(der instanceof Uint8Array ? der : new Uint8Array(der)).toString('base64');
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** All PEM blocks of a string (a bundle may hold several certificates). */
export function pemDecodeAll(pem: string): { label: string; der: Buffer }[] {
  const blocks: { label: string; der: Buffer }[] = [];
  const re = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
  for (let m = re.exec(pem); m; m = re.exec(pem)) {
    blocks.push({ label: m[1], der: Buffer.from(m[2].replace(/\s+/g, ''), 'base64') });
  }
  return blocks;
}

/** The DER of the first block with `label` (or the first block at all); throws when there is none. */
export function pemDecode(pem: string, label?: string): Buffer {
  const block = pemDecodeAll(pem).find((b) => !label || b.label === label);
  if (!block) throw new Error(`no PEM block${label ? ` "${label}"` : ''} found`);
  return block.der;
}

// ---------------------------------------------------------------------------------------------
// Keys

async function generateEcKeyPair(): Promise<CryptoKeyPair> {
  return (await crypto.subtle.generateKey(EC_KEY, true, ['sign', 'verify'])) as CryptoKeyPair;
}

async function exportPrivateKeyPem(key: CryptoKey): Promise<string> {
  return pemEncode('PRIVATE KEY', await crypto.subtle.exportKey('pkcs8', key));
}

/** Imports a PKCS#8 ECDSA P-256 private key for signing. */
export async function importSigningKey(keyPem: string): Promise<CryptoKey> {
  return crypto.subtle.importKey('pkcs8', new Uint8Array(pemDecode(keyPem, 'PRIVATE KEY')), EC_KEY, false, ['sign']);
}

/** A fresh ECDSA P-256 private key (PKCS#8 PEM) and its public key (SPKI PEM). */
export async function generatePrivateKeyPem(): Promise<{ privateKeyPem: string; publicKeyPem: string }> {
  const keys = await generateEcKeyPair();
  return {
    privateKeyPem: await exportPrivateKeyPem(keys.privateKey),
    publicKeyPem: pemEncode('PUBLIC KEY', await crypto.subtle.exportKey('spki', keys.publicKey)),
  };
}

// ---------------------------------------------------------------------------------------------
// Certificates

function subjectName(commonName: string, organizations: string[] = []): x509.JsonName {
  // One RDN per attribute, organizations after CN, as openssl and Go's crypto/x509 lay them out.
  return [{ CN: [commonName] }, ...organizations.map((o) => ({ O: [o] }))];
}

function validity(options: IssueOptions, defaultDays: number): { notBefore: Date; notAfter: Date } {
  const now = options.now ?? new Date();
  return {
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + (options.validityDays ?? defaultDays) * DAY_MS),
  };
}

function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] &= 0x7f; // a positive INTEGER, as RFC 5280 requires
  return bytes.toString('hex');
}

/** Creates the cluster CA: ECDSA P-256, self-signed, 10 years. */
export async function createCertificateAuthority(
  options: IssueOptions & { commonName?: string } = {},
): Promise<CertificateAuthority> {
  const keys = await generateEcKeyPair();
  const name = subjectName(options.commonName ?? `navarch-ca@${Math.floor((options.now ?? new Date()).getTime() / 1000)}`);
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomSerial(),
      name,
      keys,
      signingAlgorithm: EC_SIGNING,
      ...validity(options, CA_VALIDITY_DAYS),
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
          true,
        ),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  return { certPem: cert.toString('pem') + '\n', keyPem: await exportPrivateKeyPem(keys.privateKey) };
}

type Usage = 'server' | 'client';

interface LeafRequest extends IssueOptions {
  commonName: string;
  organizations?: string[];
  dnsNames?: string[];
  ipAddresses?: string[];
  usages: Usage[];
}

async function signLeaf(
  ca: CertificateAuthority,
  publicKey: CryptoKey | x509.PublicKey,
  request: LeafRequest,
  extraExtensions: x509.Extension[] = [],
): Promise<string> {
  const caCert = new x509.X509Certificate(ca.certPem);
  const signingKey = await importSigningKey(ca.keyPem);
  // A certificate outliving its issuer would fail verification in the meantime anyway; clamp it, like Kubernetes' signer.
  const leafValidity = validity(request, LEAF_VALIDITY_DAYS);
  if (leafValidity.notAfter > caCert.notAfter) leafValidity.notAfter = caCert.notAfter;
  const extendedUsages = request.usages.map((u) => (u === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth));
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension(extendedUsages, false),
    await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey, false, crypto),
  ];
  const names: x509.JsonGeneralName[] = [
    ...(request.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(request.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names, false));
  extensions.push(...extraExtensions);
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: randomSerial(),
      subject: subjectName(request.commonName, request.organizations),
      issuer: caCert.subjectName,
      publicKey,
      signingKey,
      signingAlgorithm: EC_SIGNING,
      ...leafValidity,
      extensions,
    },
    crypto,
  );
  return cert.toString('pem') + '\n';
}

async function issueLeaf(ca: CertificateAuthority, request: LeafRequest): Promise<KeyPairPem> {
  const keys = await generateEcKeyPair();
  const certPem = await signLeaf(ca, keys.publicKey, request);
  return { certPem, keyPem: await exportPrivateKeyPem(keys.privateKey) };
}

/** The names every API server certificate carries, so in-cluster clients and kubectl on the host both verify it. */
export function servingCertificateNames(options: { hostNames?: string[]; ips?: string[] }): { dnsNames: string[]; ipAddresses: string[] } {
  const dnsNames = [
    'localhost',
    'kubernetes',
    'kubernetes.default',
    'kubernetes.default.svc',
    'kubernetes.default.svc.cluster.local',
    ...(options.hostNames ?? []),
  ];
  const ipAddresses = ['127.0.0.1', '::1', DEFAULT_KUBERNETES_SERVICE_IP, ...(options.ips ?? [])];
  return { dnsNames: unique(dnsNames.map((n) => n.toLowerCase())), ipAddresses: unique(ipAddresses.map(normaliseIp)) };
}

/** The API server's serving certificate. */
export async function issueServingCertificate(
  ca: CertificateAuthority,
  options: IssueOptions & { hostNames?: string[]; ips?: string[]; commonName?: string } = {},
): Promise<KeyPairPem> {
  return issueLeaf(ca, {
    ...options,
    commonName: options.commonName ?? 'kube-apiserver',
    ...servingCertificateNames(options),
    usages: ['server'],
  });
}

/** A client certificate: Kubernetes reads CN as the user name and each O as a group. */
export async function issueClientCertificate(
  ca: CertificateAuthority,
  options: IssueOptions & { user: string; groups?: string[] },
): Promise<KeyPairPem> {
  return issueLeaf(ca, { ...options, commonName: options.user, organizations: options.groups ?? [], usages: ['client'] });
}

/** The cluster administrator's credentials (system:masters bypasses authorization, like kubeadm's admin.conf). */
export function issueAdminCertificate(ca: CertificateAuthority, options: IssueOptions = {}): Promise<KeyPairPem> {
  return issueClientCertificate(ca, { ...options, user: ADMIN_USER, groups: [SYSTEM_MASTERS_GROUP] });
}

export interface CertificateRequestInfo {
  commonName: string;
  organizations: string[];
  dnsNames: string[];
  ipAddresses: string[];
  emailAddresses: string[];
  uris: string[];
}

/** Reads a PKCS#10 CSR (PEM, "CERTIFICATE REQUEST"); for approval policies of certificates.k8s.io signers. */
export function parseCertificateRequest(csrPem: string): CertificateRequestInfo {
  const csr = new x509.Pkcs10CertificateRequest(csrPem);
  return { ...nameFields(csr.subjectName), ...alternativeNames(csr.extensions) };
}

function nameFields(name: x509.Name): { commonName: string; organizations: string[] } {
  return { commonName: name.getField('CN')[0] ?? '', organizations: name.getField('O') };
}

function alternativeNames(extensions: x509.Extension[]): Omit<CertificateRequestInfo, 'commonName' | 'organizations'> {
  const out = { dnsNames: [] as string[], ipAddresses: [] as string[], emailAddresses: [] as string[], uris: [] as string[] };
  for (const ext of extensions) {
    if (ext.type !== '2.5.29.17') continue;
    const san = ext instanceof x509.SubjectAlternativeNameExtension ? ext : new x509.SubjectAlternativeNameExtension(ext.rawData);
    for (const item of san.names.items) {
      if (item.type === 'dns') out.dnsNames.push(item.value);
      else if (item.type === 'ip') out.ipAddresses.push(item.value);
      else if (item.type === 'email') out.emailAddresses.push(item.value);
      else if (item.type === 'url') out.uris.push(item.value);
    }
  }
  return out;
}

/** Kubernetes' KeyUsage strings (certificates.k8s.io/v1 spec.usages) that select extended key usages. */
const USAGE_TO_EKU: Record<string, Usage> = { 'client auth': 'client', 'server auth': 'server' };

/**
 * Signs a CSR with the cluster CA: subject and SANs come from the request (after its self-signature
 * is verified); usages are Kubernetes' spec.usages names. Whether the request may be signed at all
 * (signer name, CN/O rules, approval) is the caller's policy.
 */
export async function signCertificateRequest(
  ca: CertificateAuthority,
  csrPem: string,
  options: IssueOptions & { usages?: string[]; expirationSeconds?: number } = {},
): Promise<string> {
  const csr = new x509.Pkcs10CertificateRequest(csrPem);
  if (!(await csr.verify(crypto))) throw new Error('certificate request signature is invalid');
  const info = parseCertificateRequest(csrPem);
  const usages = unique((options.usages ?? ['client auth']).map((u) => USAGE_TO_EKU[u]).filter((u): u is Usage => !!u));
  if (usages.length === 0) throw new Error('certificate request asks for neither "client auth" nor "server auth"');
  const validityDays = options.expirationSeconds !== undefined ? options.expirationSeconds / 86400 : options.validityDays;
  const extra: x509.Extension[] = [];
  if (info.emailAddresses.length > 0 || info.uris.length > 0) {
    // dns and ip SANs are re-added by signLeaf; keep the other kinds from the request as they were.
    extra.push(
      new x509.SubjectAlternativeNameExtension([
        ...info.emailAddresses.map((value) => ({ type: 'email' as const, value })),
        ...info.uris.map((value) => ({ type: 'url' as const, value })),
      ]),
    );
  }
  const publicKey = await csr.publicKey.export(crypto);
  const request: LeafRequest = {
    now: options.now,
    validityDays,
    commonName: info.commonName,
    organizations: info.organizations,
    dnsNames: info.dnsNames,
    ipAddresses: info.ipAddresses,
    usages,
  };
  if (extra.length > 0) {
    // A certificate may carry a single SAN extension, so merge everything into one.
    return signLeaf(ca, publicKey, { ...request, dnsNames: [], ipAddresses: [] }, [
      new x509.SubjectAlternativeNameExtension([
        ...info.dnsNames.map((value) => ({ type: 'dns' as const, value })),
        ...info.ipAddresses.map((value) => ({ type: 'ip' as const, value })),
        ...info.emailAddresses.map((value) => ({ type: 'email' as const, value })),
        ...info.uris.map((value) => ({ type: 'url' as const, value })),
      ]),
    ]);
  }
  return signLeaf(ca, publicKey, request);
}

/** Creates a CSR (PEM) and its key: what `navarch agent` sends when it joins, and handy in tests. */
export async function createCertificateRequest(options: {
  commonName: string;
  organizations?: string[];
  dnsNames?: string[];
  ipAddresses?: string[];
}): Promise<{ csrPem: string; keyPem: string }> {
  const keys = await generateEcKeyPair();
  const names: x509.JsonGeneralName[] = [
    ...(options.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(options.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  const csr = await x509.Pkcs10CertificateRequestGenerator.create(
    {
      name: subjectName(options.commonName, options.organizations),
      keys,
      signingAlgorithm: EC_SIGNING,
      extensions: names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names)] : [],
    },
    crypto,
  );
  return { csrPem: csr.toString('pem') + '\n', keyPem: await exportPrivateKeyPem(keys.privateKey) };
}

export interface CertificateInfo extends CertificateRequestInfo {
  notBefore: Date;
  notAfter: Date;
  serialNumber: string;
  isCertificateAuthority: boolean;
}

/** Subject, SANs and validity of the first certificate in a PEM string. */
export function readCertificate(certPem: string): CertificateInfo {
  const cert = new x509.X509Certificate(new Uint8Array(pemDecode(certPem, 'CERTIFICATE')));
  const basic = cert.getExtension(x509.BasicConstraintsExtension);
  return {
    ...nameFields(cert.subjectName),
    ...alternativeNames(cert.extensions),
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    serialNumber: cert.serialNumber,
    isCertificateAuthority: basic?.ca ?? false,
  };
}

export function certificateExpiry(certPem: string): Date {
  return readCertificate(certPem).notAfter;
}

/** True when the certificate expires within `RENEW_BEFORE_DAYS` of `now`. */
export function needsRenewal(certPem: string, now: Date = new Date(), renewBeforeDays = RENEW_BEFORE_DAYS): boolean {
  return readCertificate(certPem).notAfter.getTime() - now.getTime() < renewBeforeDays * DAY_MS;
}

/** sha256 of the CA certificate's DER, hex: pinned in join tokens so agents can verify the server they join. */
export function certificateFingerprint(certPem: string): string {
  return createHash('sha256').update(pemDecode(certPem, 'CERTIFICATE')).digest('hex');
}

// ---------------------------------------------------------------------------------------------

function unique<T>(items: T[]): T[] {
  return [...new Set(items)];
}

/** Canonical text of an IP so SAN comparisons do not depend on how an address was written. */
export function normaliseIp(ip: string): string {
  if (!ip.includes(':')) return ip;
  // Expand then re-compress IPv6 the way @peculiar/x509 prints it, via URL's canonical form.
  try {
    return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  } catch {
    return ip.toLowerCase();
  }
}
