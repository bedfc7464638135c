// How a node joins: trust the server's CA only if it matches the hash inside the join token
// (read from kube-public/cluster-info, which anonymous users may get, as with kubeadm), then
// ask for a node client certificate through the CertificateSigningRequest API using the token,
// and keep it under <data-dir>/agent/ so a restarted agent needs no token.
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import YAML from 'yaml';
import { createCertificateRequest, needsRenewal } from '../apiserver/auth/pki.js';
import { parseJoinToken } from '../apiserver/auth/join-token.js';
import { writeKubeconfig } from '../apiserver/auth/kubeconfig.js';
import { createClient } from '../client/client.js';
import { createHttpTransport } from '../client/transport.js';

export interface NodeCredentials {
  caPem: string;
  certPem: string;
  keyPem: string;
  kubeconfigPath: string;
}

function getInsecure(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { rejectUnauthorized: false, timeout: 10_000 }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`timed out reaching ${url}`)));
  });
}

/** Fetches the cluster CA anonymously and checks it against the hash in the join token. */
export async function discoverClusterCa(server: string, token: string): Promise<string> {
  const { caHash } = parseJoinToken(token);
  let response;
  try {
    response = await getInsecure(`${server.replace(/\/$/, '')}/api/v1/namespaces/kube-public/configmaps/cluster-info`);
  } catch (e) {
    throw new Error(`cannot reach the navarch server at ${server}: ${(e as Error).message} — is it running, and is the address right?`);
  }
  if (response.status !== 200) throw new Error(`the server at ${server} did not serve kube-public/cluster-info (HTTP ${response.status}); is it a navarch server?`);
  const kubeconfig = YAML.parse(JSON.parse(response.body).data.kubeconfig);
  const caPem = Buffer.from(kubeconfig.clusters[0].cluster['certificate-authority-data'], 'base64').toString('utf8');
  const actual = createHash('sha256').update(new X509Certificate(caPem).raw).digest('hex');
  if (caHash && actual !== caHash) {
    throw new Error(`the server's CA (sha256 ${actual}) does not match the join token (sha256 ${caHash}): wrong server, or a token from another cluster`);
  }
  return caPem;
}

export async function bootstrapNodeCredentials(options: { server: string; token?: string; dataDir: string; nodeName: string; log?: (message: string) => void }): Promise<NodeCredentials> {
  const dir = join(options.dataDir, 'agent');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const paths = { ca: join(dir, 'ca.crt'), cert: join(dir, 'client.crt'), key: join(dir, 'client.key'), kubeconfig: join(dir, 'kubeconfig') };
  const say = options.log ?? (() => undefined);
  if (existsSync(paths.cert) && existsSync(paths.key) && existsSync(paths.ca)) {
    const certPem = readFileSync(paths.cert, 'utf8');
    const cn = new X509Certificate(certPem).subject.split('\n').find((l) => l.startsWith('CN='))?.slice(3);
    if (cn === `system:node:${options.nodeName}` && !needsRenewal(certPem)) {
      return { caPem: readFileSync(paths.ca, 'utf8'), certPem, keyPem: readFileSync(paths.key, 'utf8'), kubeconfigPath: paths.kubeconfig };
    }
  }
  if (!options.token) throw new Error('this node has no credentials yet: pass --token-file with the server\'s join token (the server\'s <data-dir>/token)');
  say(`verifying the server's CA against the join token`);
  const caPem = await discoverClusterCa(options.server, options.token);
  const { csrPem, keyPem } = await createCertificateRequest({ commonName: `system:node:${options.nodeName}`, organizations: ['system:nodes'] });
  const client = createClient(createHttpTransport({ server: options.server, caPem, bearerToken: options.token, userAgent: 'navarch-agent' }));
  const csrs = client.resource({ group: 'certificates.k8s.io', version: 'v1', resource: 'certificatesigningrequests', namespaced: false });
  const name = `node-csr-${options.nodeName}-${Date.now().toString(36)}`;
  say(`requesting a client certificate for node ${options.nodeName} (CSR ${name})`);
  await csrs.create(undefined, {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { name },
    spec: { request: Buffer.from(csrPem).toString('base64'), signerName: 'kubernetes.io/kube-apiserver-client-kubelet', usages: ['digital signature', 'client auth'], expirationSeconds: 365 * 86400 },
  });
  const deadline = Date.now() + 60_000;
  let certPem = '';
  while (!certPem) {
    const csr = await csrs.get(undefined, name);
    if ((csr.status?.conditions ?? []).some((c: { type: string }) => c.type === 'Denied')) throw new Error(`the server denied certificate request ${name}`);
    if (csr.status?.certificate) certPem = Buffer.from(csr.status.certificate, 'base64').toString('utf8');
    else if (Date.now() > deadline) throw new Error(`certificate request ${name} was not signed within 60 s; check that the server's controllers are running (kubectl get csr)`);
    else await new Promise((r) => setTimeout(r, 200));
  }
  writeFileSync(paths.ca, caPem, { mode: 0o644 });
  writeFileSync(paths.key, keyPem, { mode: 0o600 });
  writeFileSync(paths.cert, certPem, { mode: 0o644 });
  await writeKubeconfig(paths.kubeconfig, { server: options.server, caPem, clientCertPem: certPem, clientKeyPem: keyPem, contextName: 'navarch-agent' });
  say(`node ${options.nodeName} has its credentials`);
  return { caPem, certPem, keyPem, kubeconfigPath: paths.kubeconfig };
}

/** The kubelet's serving certificate (for logs/exec/port-forward), signed through the CSR API. */
export async function requestServingCertificate(options: { server: string; credentials: NodeCredentials; nodeName: string; nodeIP: string; dataDir: string }): Promise<{ certPem: string; keyPem: string }> {
  const dir = join(options.dataDir, 'agent');
  const certPath = join(dir, 'serving.crt');
  const keyPath = join(dir, 'serving.key');
  if (existsSync(certPath) && existsSync(keyPath)) {
    const certPem = readFileSync(certPath, 'utf8');
    const cert = new X509Certificate(certPem);
    if (!needsRenewal(certPem) && (cert.subjectAltName ?? '').includes(options.nodeIP)) return { certPem, keyPem: readFileSync(keyPath, 'utf8') };
  }
  const { csrPem, keyPem } = await createCertificateRequest({ commonName: `system:node:${options.nodeName}`, organizations: ['system:nodes'], dnsNames: [options.nodeName], ipAddresses: [options.nodeIP] });
  const client = createClient(createHttpTransport({ server: options.server, caPem: options.credentials.caPem, clientCertPem: options.credentials.certPem, clientKeyPem: options.credentials.keyPem, userAgent: 'navarch-agent' }));
  const csrs = client.resource({ group: 'certificates.k8s.io', version: 'v1', resource: 'certificatesigningrequests', namespaced: false });
  const name = `node-serving-${options.nodeName}-${Date.now().toString(36)}`;
  await csrs.create(undefined, {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { name },
    spec: { request: Buffer.from(csrPem).toString('base64'), signerName: 'kubernetes.io/kubelet-serving', usages: ['digital signature', 'server auth'] },
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    const csr = await csrs.get(undefined, name);
    if (csr.status?.certificate) {
      const certPem = Buffer.from(csr.status.certificate, 'base64').toString('utf8');
      writeFileSync(keyPath, keyPem, { mode: 0o600 });
      writeFileSync(certPath, certPem, { mode: 0o644 });
      return { certPem, keyPem };
    }
    if (Date.now() > deadline) throw new Error(`serving certificate request ${name} was not signed within 60 s (kubectl get csr)`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
