// CertificateSigningRequests for nodes: approves what a joining or renewing node may have
// (its own client certificate, and — as k3s does — its own kubelet serving certificate), and
// signs approved requests of the kubelet signers with the cluster CA.
import type { KubeObject } from '../../api/types.js';
import { parseCertificateRequest, signCertificateRequest, type CertificateAuthority } from '../../apiserver/auth/pki.js';
import type { Client } from '../../client/client.js';
import { SharedInformerFactory } from '../../client/informer.js';
import { WorkQueue } from '../../client/workqueue.js';
import { log } from '../../util/log.js';

const clientSigner = 'kubernetes.io/kube-apiserver-client-kubelet';
const servingSigner = 'kubernetes.io/kubelet-serving';
const csrRef = { group: 'certificates.k8s.io', version: 'v1', resource: 'certificatesigningrequests', namespaced: false };

function condition(csr: KubeObject, type: string): boolean {
  return (csr.status?.conditions ?? []).some((c: { type: string; status?: string }) => c.type === type && c.status !== 'False');
}

/** Why this request may be approved automatically, or undefined. */
export function autoApprovalReason(csr: KubeObject): { reason: string; message: string } | undefined {
  const spec = csr.spec ?? {};
  let info;
  try {
    info = parseCertificateRequest(Buffer.from(spec.request ?? '', 'base64').toString('utf8'));
  } catch {
    return undefined;
  }
  const groups: string[] = spec.groups ?? [];
  const username: string = spec.username ?? '';
  const usages: string[] = spec.usages ?? [];
  const isNodeName = /^system:node:[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(info.commonName);
  const onlyNodesGroup = info.organizations.length === 1 && info.organizations[0] === 'system:nodes';
  if (spec.signerName === clientSigner && isNodeName && onlyNodesGroup && info.dnsNames.length === 0 && info.ipAddresses.length === 0) {
    if (!usages.every((u) => ['digital signature', 'key encipherment', 'client auth'].includes(u)) || !usages.includes('client auth')) return undefined;
    if (groups.includes('system:bootstrappers')) return { reason: 'AutoApproved', message: 'Auto approving kubelet client certificate after SubjectAccessReview.' };
    if (username === info.commonName) return { reason: 'AutoApproved', message: 'Auto approving self kubelet client certificate after SubjectAccessReview.' };
  }
  if (spec.signerName === servingSigner && isNodeName && onlyNodesGroup && username === info.commonName) {
    if (!usages.includes('server auth') || !usages.every((u) => ['digital signature', 'key encipherment', 'server auth'].includes(u))) return undefined;
    return { reason: 'AutoApproved', message: 'Auto approving kubelet serving certificate of a node (navarch policy, as in k3s).' };
  }
  return undefined;
}

export function createCertificatesController(options: { client: Client; ca: CertificateAuthority; now?: () => Date }) {
  const { client, ca } = options;
  const now = options.now ?? (() => new Date());
  const csrs = client.resource(csrRef);
  const factory = new SharedInformerFactory(client);
  const informer = factory.forResource(csrRef);
  const queue = new WorkQueue<string>();
  informer.addEventHandler({
    onAdd: (o) => queue.add(o.metadata.name!),
    onUpdate: (_, o) => queue.add(o.metadata.name!),
  });

  async function reconcile(name: string): Promise<void> {
    const csr = informer.getIndexer().get(name) as KubeObject | undefined;
    if (!csr || condition(csr, 'Denied') || condition(csr, 'Failed')) return;
    if (!condition(csr, 'Approved')) {
      const approval = autoApprovalReason(csr);
      if (!approval) return;
      const stamp = now().toISOString().replace(/\.\d{3}Z$/, 'Z');
      const updated = { ...csr, status: { ...(csr.status ?? {}), conditions: [...(csr.status?.conditions ?? []), { type: 'Approved', status: 'True', reason: approval.reason, message: approval.message, lastUpdateTime: stamp, lastTransitionTime: stamp }] } };
      await csrs.updateSubresource(undefined, name, 'approval', updated);
      return;
    }
    if (csr.status?.certificate) return;
    if (csr.spec?.signerName !== clientSigner && csr.spec?.signerName !== servingSigner) return;
    const pem = Buffer.from(csr.spec.request, 'base64').toString('utf8');
    const certificate = await signCertificateRequest(ca, pem, { usages: csr.spec.usages, expirationSeconds: csr.spec.expirationSeconds });
    await csrs.updateStatus({ ...csr, status: { ...(csr.status ?? {}), certificate: Buffer.from(certificate).toString('base64') } });
    log.info('certificates', 'signed', { csr: name, signer: csr.spec.signerName });
  }

  return {
    name: 'certificates',
    async start(signal: AbortSignal): Promise<void> {
      factory.start(signal);
      signal.addEventListener('abort', () => queue.shutDown(), { once: true });
      for (;;) {
        const key = await queue.get();
        if (key === undefined) return;
        try {
          await reconcile(key);
        } catch (e) {
          log.warn('certificates', 'reconcile failed', { csr: key, error: (e as Error).message });
          setTimeout(() => queue.add(key), 1000).unref();
        } finally {
          queue.done(key);
        }
      }
    },
  };
}
