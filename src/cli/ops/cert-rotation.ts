// Leaf certificate rotation for a running server (like k3s, which renews its certificates in
// place), the expiry gauge on /metrics, and the offline `navarch certificate rotate`.
import { existsSync, readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import type { Server } from 'node:https';
import client from 'prom-client';
import { ensureClusterPki, clusterPkiPaths, renewLeafCertificates, type ClusterPki, type RenewalResult } from '../../apiserver/auth/cluster-pki.js';
import { certificateExpiry, readCertificate } from '../../apiserver/auth/pki.js';

export const CERTIFICATE_EXPIRY_METRIC = 'navarch_certificate_expiry_seconds';
export const ROTATION_INTERVAL_MS = 12 * 60 * 60 * 1000;

/**
 * Registers `navarch_certificate_expiry_seconds{certificate="server|admin|ca"}`: the Unix time
 * (seconds) each certificate expires, read at scrape time so a rotation shows at once. Alert with
 * `navarch_certificate_expiry_seconds - time() < 30*86400`.
 */
export function registerCertificateExpiryGauge(registry: client.Registry, pki: () => ClusterPki): client.Gauge<string> {
  return new client.Gauge({
    name: CERTIFICATE_EXPIRY_METRIC,
    help: 'Unix time in seconds at which the certificate (server, admin, ca) expires.',
    labelNames: ['certificate'],
    registers: [registry],
    collect() {
      const current = pki();
      for (const [label, pem] of [['server', current.serving.certPem], ['admin', current.admin.certPem], ['ca', current.ca.certPem]] as const) {
        if (pem) this.set({ certificate: label }, Math.floor(certificateExpiry(pem).getTime() / 1000));
      }
    },
  });
}

export interface RotationDeps {
  pki: ClusterPki;
  /** The API server's HTTPS listener; its secure context is swapped when the serving cert changes. */
  https?: Server;
  now?: () => Date;
  /** Called after the admin certificate changed (the server rewrites the kubeconfig). */
  onAdminRenewed?: (pki: ClusterPki) => Promise<void>;
  log?: (msg: string, fields: Record<string, unknown>) => void;
}

/** Whether `certPem` parses and was signed by `caPem`: a file on disk is only adopted if so. */
function signedBy(certPem: string, caPem: string): boolean {
  try {
    const cert = new X509Certificate(certPem);
    return cert.checkIssued(new X509Certificate(caPem)) && cert.verify(new X509Certificate(caPem).publicKey);
  } catch {
    return false;
  }
}

/**
 * One rotation pass: adopts leaf certificates re-issued on disk by `navarch certificate rotate`,
 * renews what is due, and reloads the HTTPS server's secure context without a restart (open
 * connections keep their session; new handshakes get the new certificate).
 */
export async function rotateCertificates(deps: RotationDeps): Promise<RenewalResult> {
  const { pki } = deps;
  const changed = new Set<string>();
  for (const [which, certPath, keyPath] of [
    ['server', pki.paths.serverCert, pki.paths.serverKey],
    ['admin', pki.paths.adminCert, pki.paths.adminKey],
  ] as const) {
    if (!existsSync(certPath) || !existsSync(keyPath)) continue;
    const certPem = readFileSync(certPath, 'utf8');
    const keyPem = readFileSync(keyPath, 'utf8');
    const current = which === 'server' ? pki.serving : pki.admin;
    if (certPem === current.certPem || !signedBy(certPem, pki.ca.certPem)) continue;
    if (which === 'server') pki.serving = { certPem, keyPem };
    else pki.admin = { certPem, keyPem };
    changed.add(which);
  }
  // Keep every name the current certificate has, so a renewal never drops an address clients use.
  const names = pki.serving.certPem ? readCertificate(pki.serving.certPem) : undefined;
  const result = await renewLeafCertificates(pki, { hostNames: names?.dnsNames, ips: names?.ipAddresses, now: deps.now?.() });
  for (const r of result.renewed) changed.add(r);
  if (changed.has('server') && deps.https) {
    deps.https.setSecureContext({ key: pki.serving.keyPem, cert: pki.serving.certPem, ca: pki.ca.certPem });
  }
  if (changed.has('admin')) await deps.onAdminRenewed?.(pki);
  const renewed = [...changed];
  if (renewed.length) deps.log?.('certificates rotated', { renewed, serverExpires: certificateExpiry(pki.serving.certPem).toISOString() });
  return { renewed };
}

/** Runs `rotateCertificates` every `intervalMs` (12 h); the timer never keeps the process alive. */
export function startCertificateRotation(deps: RotationDeps & { intervalMs?: number; onError?: (e: Error) => void }): { stop(): void } {
  const timer = setInterval(() => {
    rotateCertificates(deps).catch((e) => deps.onError?.(e as Error));
  }, deps.intervalMs ?? ROTATION_INTERVAL_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

/**
 * `navarch certificate rotate`: re-issues the serving and admin certificates on disk now, keeping
 * the serving certificate's names. The CA and the service-account key are not touched, so
 * existing kubeconfigs and tokens stay valid.
 */
export async function forceRotateLeafCertificates(dataDir: string, now?: Date): Promise<{ pki: ClusterPki; renewed: string[] }> {
  const paths = clusterPkiPaths(dataDir);
  if (!existsSync(paths.caCert) || !existsSync(paths.caKey)) {
    throw new Error(`no cluster certificates in ${paths.tlsDir}: start a server first ('navarch up') or pass --data-dir`);
  }
  const pki = await ensureClusterPki(dataDir, { now });
  const names = pki.serving.certPem ? readCertificate(pki.serving.certPem) : undefined;
  // An empty certificate is "stale", which makes renewLeafCertificates issue a fresh one.
  pki.serving = { certPem: '', keyPem: '' };
  pki.admin = { certPem: '', keyPem: '' };
  const { renewed } = await renewLeafCertificates(pki, { hostNames: names?.dnsNames, ips: names?.ipAddresses, now });
  return { pki, renewed };
}
