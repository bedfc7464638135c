// Writes a standard kubeconfig (the format kubectl and client libraries read) with embedded,
// base64-encoded credentials, so the file is self-contained and can be copied to another machine.

import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { stringify } from 'yaml';

export interface KubeconfigOptions {
  /** API server URL, e.g. https://127.0.0.1:6443. */
  server: string;
  caPem: string;
  clientCertPem?: string;
  clientKeyPem?: string;
  /** A bearer token instead of (or besides) a client certificate. */
  token?: string;
  /** Names the cluster, user and context alike; "default" like k3s when omitted. */
  contextName?: string;
  userName?: string;
  namespace?: string;
}

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

export function renderKubeconfig(options: KubeconfigOptions): string {
  const name = options.contextName ?? 'default';
  const userName = options.userName ?? name;
  const user: Record<string, string> = {};
  if (options.clientCertPem) user['client-certificate-data'] = b64(options.clientCertPem);
  if (options.clientKeyPem) user['client-key-data'] = b64(options.clientKeyPem);
  if (options.token) user.token = options.token;
  const context: Record<string, string> = { cluster: name, user: userName };
  if (options.namespace) context.namespace = options.namespace;
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server: options.server, 'certificate-authority-data': b64(options.caPem) } }],
    users: [{ name: userName, user }],
    contexts: [{ name, context }],
    'current-context': name,
    preferences: {},
  };
  return stringify(config, { lineWidth: 0 });
}

/** Writes the kubeconfig readable only by its owner: it holds a private key. */
export async function writeKubeconfig(path: string, options: KubeconfigOptions): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  // Write-then-rename: a reader (kubectl, a test) never sees a half-written file.
  const temporary = `${path}.tmp-${process.pid}`;
  await writeFile(temporary, renderKubeconfig(options), { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, path);
}
