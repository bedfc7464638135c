// `navarch federation init|join|unjoin|list`: makes a cluster a federation host and joins
// member clusters to it, as `kubefedctl join` does — a ServiceAccount bound to cluster-admin
// in the member, its token in a host Secret, and a KubeFedCluster pointing at the member.
import { join } from 'node:path';
import type { KubeObject } from '../api/types.js';
import { createClient, type Client, type ResourceRef } from '../client/client.js';
import { isAlreadyExists, isNotFound } from '../client/errors.js';
import { createHttpTransport, loadKubeconfig } from '../client/transport.js';
import { federationSystemNamespace, federatedTypeConfigsResource, kubeFedClustersResource, namespacesResource, secretsResource, type KubeFedCluster } from '../federation/api.js';
import { defaultFederatedTypeConfigs, federationCustomResourceDefinitions, kubeFedClustersCrdName } from '../federation/crds.js';
import { flag, parseArgs, type ParsedArgs } from './args.js';
import { defaultDataDir } from './server.js';

const usage = `Usage:
  navarch federation init [--kubeconfig HOST]
        install the federation API (CRDs, namespace ${federationSystemNamespace}, FederatedTypeConfigs) in the host
  navarch federation join NAME --cluster-kubeconfig FILE [--cluster-context CTX] [--api-endpoint URL] [--kubeconfig HOST]
        join a member cluster: a ServiceAccount NAME-kubefed (cluster-admin) in the member, its token and a KubeFedCluster in the host
  navarch federation unjoin NAME [--cluster-kubeconfig FILE] [--kubeconfig HOST]
        remove the KubeFedCluster and its Secret (and, given the member's kubeconfig, the ServiceAccount there)
  navarch federation list [--kubeconfig HOST]
        the member clusters and their readiness
HOST defaults to $KUBECONFIG, else <data-dir>/kubeconfig (~/.navarch/kubeconfig).`;

const crdResource: ResourceRef = { group: 'apiextensions.k8s.io', version: 'v1', resource: 'customresourcedefinitions', namespaced: false, kind: 'CustomResourceDefinition' };
const serviceAccountsResource: ResourceRef = { group: '', version: 'v1', resource: 'serviceaccounts', namespaced: true, kind: 'ServiceAccount' };
const clusterRoleBindingsResource: ResourceRef = { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterrolebindings', namespaced: false, kind: 'ClusterRoleBinding' };

/** Long enough to outlive the federation: TokenRequest's ceiling is 2^32 s. */
const memberTokenSeconds = 10 * 365 * 24 * 3600;

function hostKubeconfig(args: ParsedArgs): string {
  return flag(args, 'kubeconfig') ?? process.env.KUBECONFIG ?? join(defaultDataDir(), 'kubeconfig');
}

function clientFor(path: string, context?: string): Client {
  let options;
  try {
    options = loadKubeconfig(path, context);
  } catch (err) {
    throw new Error(`cannot read kubeconfig ${path}: ${(err as Error).message}`);
  }
  return createClient(createHttpTransport({ ...options, userAgent: 'navarch-federation', requestTimeoutMs: 15_000 }));
}

/** Creates `obj`, or updates it in place (keeping what the server added) when it exists. Returns "created", "configured" or "unchanged". */
async function apply(client: Client, ref: ResourceRef, obj: KubeObject): Promise<string> {
  const resource = client.resource(ref);
  const namespace = ref.namespaced ? obj.metadata.namespace : undefined;
  try {
    await resource.create(namespace, obj);
    return 'created';
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
  const existing: any = await resource.get(namespace, obj.metadata.name!);
  const desired: any = { ...existing, ...obj, metadata: { ...existing.metadata, labels: { ...existing.metadata.labels, ...obj.metadata.labels } } };
  delete desired.status;
  const comparable = (o: any) => JSON.stringify({ ...o, metadata: { labels: o.metadata?.labels }, status: undefined });
  if (comparable(existing) === comparable(desired)) return 'unchanged';
  await resource.update(desired);
  return 'configured';
}

async function ensureNamespace(client: Client, name: string): Promise<void> {
  try {
    await client.resource(namespacesResource).create(undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
}

async function requireFederationHost(host: Client, kubeconfig: string): Promise<void> {
  try {
    await host.resource(crdResource).get(undefined, kubeFedClustersCrdName);
  } catch (err) {
    if (isNotFound(err)) throw new Error(`the cluster of ${kubeconfig} is not a federation host; run "navarch federation init --kubeconfig ${kubeconfig}" first`);
    throw err;
  }
}

async function init(args: ParsedArgs): Promise<void> {
  const kubeconfig = hostKubeconfig(args);
  const host = clientFor(kubeconfig);
  const crds = federationCustomResourceDefinitions();
  for (const crd of crds) console.log(`customresourcedefinition.apiextensions.k8s.io/${crd.metadata.name} ${await apply(host, crdResource, crd)}`);
  process.stdout.write(`waiting for ${crds.length} CustomResourceDefinitions to be Established`);
  const deadline = Date.now() + 60_000;
  for (const crd of crds) {
    for (;;) {
      const current: any = await host.resource(crdResource).get(undefined, crd.metadata.name!);
      const conditions: any[] = current.status?.conditions ?? [];
      if (conditions.some((c) => c.type === 'Established' && c.status === 'True')) break;
      const refused = conditions.find((c) => c.type === 'NamesAccepted' && c.status === 'False');
      if (refused) throw new Error(`\nCRD ${crd.metadata.name} was not accepted: ${refused.message}`);
      if (Date.now() > deadline) throw new Error(`\nCRD ${crd.metadata.name} is not Established after 60 s; check the API server's log`);
      await new Promise((r) => setTimeout(r, 200));
    }
    process.stdout.write('.');
  }
  process.stdout.write(' done\n');
  await ensureNamespace(host, federationSystemNamespace);
  console.log(`namespace/${federationSystemNamespace} ready`);
  for (const config of defaultFederatedTypeConfigs()) {
    console.log(`federatedtypeconfig.core.kubefed.io/${config.metadata.name} ${await apply(host, federatedTypeConfigsResource, config)}`);
  }
  console.log(`\nThis cluster is a federation host. Join members with:\n  navarch federation join NAME --cluster-kubeconfig MEMBER_KUBECONFIG --kubeconfig ${kubeconfig}`);
}

async function joinCluster(args: ParsedArgs): Promise<void> {
  const name = args.positional[0];
  const memberKubeconfig = flag(args, 'cluster-kubeconfig');
  if (!name || !memberKubeconfig) throw new Error('join needs a NAME and --cluster-kubeconfig FILE (the member cluster\'s kubeconfig)');
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name) || name.length > 50) throw new Error(`cluster name "${name}" must be a DNS label (lower-case letters, digits and '-', at most 50 characters)`);
  const kubeconfig = hostKubeconfig(args);
  const host = clientFor(kubeconfig);
  await requireFederationHost(host, kubeconfig);
  const context = flag(args, 'cluster-context');
  const member = clientFor(memberKubeconfig, context);
  const memberOptions = loadKubeconfig(memberKubeconfig, context);
  const serviceAccount = `${name}-kubefed`;

  // In the member: an identity for the federation control plane, allowed everything (kubefedctl's default scope is the whole cluster).
  await ensureNamespace(member, federationSystemNamespace);
  console.log(`serviceaccount/${serviceAccount} ${await apply(member, serviceAccountsResource, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: serviceAccount, namespace: federationSystemNamespace } })} in the member`);
  const binding = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: `kubefed-controller-manager:${serviceAccount}` },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
    subjects: [{ kind: 'ServiceAccount', name: serviceAccount, namespace: federationSystemNamespace }],
  } as KubeObject;
  console.log(`clusterrolebinding.rbac.authorization.k8s.io/${binding.metadata.name} ${await apply(member, clusterRoleBindingsResource, binding)} in the member`);
  const tokenRequest = await member.resource(serviceAccountsResource).createSubresource(federationSystemNamespace, serviceAccount, 'token', {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: { expirationSeconds: memberTokenSeconds },
  });
  const token: string | undefined = tokenRequest?.status?.token;
  if (!token) throw new Error(`the member did not issue a token for ${federationSystemNamespace}/${serviceAccount}`);

  // In the host: the credentials and the KubeFedCluster.
  const secretName = `${name}-kubefed-token`;
  const secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: { name: secretName, namespace: federationSystemNamespace, labels: { 'kubefed.io/kubefed-cluster': name } },
    data: { token: Buffer.from(token).toString('base64'), ...(memberOptions.caPem ? { 'ca.crt': Buffer.from(memberOptions.caPem).toString('base64') } : {}) },
  } as KubeObject;
  console.log(`secret/${secretName} ${await apply(host, secretsResource, secret)} in the host`);
  const cluster: KubeFedCluster = {
    apiVersion: 'core.kubefed.io/v1beta1',
    kind: 'KubeFedCluster',
    metadata: { name, namespace: federationSystemNamespace },
    spec: {
      apiEndpoint: flag(args, 'api-endpoint') ?? memberOptions.server,
      ...(memberOptions.caPem ? { caBundle: Buffer.from(memberOptions.caPem).toString('base64') } : {}),
      secretRef: { name: secretName },
      ...(memberOptions.insecureSkipTlsVerify ? { disabledTLSValidations: ['*'] } : {}),
    },
  };
  console.log(`kubefedcluster.core.kubefed.io/${name} ${await apply(host, kubeFedClustersResource, cluster)} in the host`);
  console.log(`\nCluster "${name}" joined. It turns READY once the host reaches ${cluster.spec.apiEndpoint}/healthz: navarch federation list --kubeconfig ${kubeconfig}`);
}

async function unjoinCluster(args: ParsedArgs): Promise<void> {
  const name = args.positional[0];
  if (!name) throw new Error('unjoin needs the NAME of a joined cluster (see "navarch federation list")');
  const kubeconfig = hostKubeconfig(args);
  const host = clientFor(kubeconfig);
  await requireFederationHost(host, kubeconfig);
  let secretName = `${name}-kubefed-token`;
  try {
    const cluster = await host.resource<KubeFedCluster>(kubeFedClustersResource).get(federationSystemNamespace, name);
    secretName = cluster.spec?.secretRef?.name ?? secretName;
    await host.resource(kubeFedClustersResource).delete(federationSystemNamespace, name);
    console.log(`kubefedcluster.core.kubefed.io/${name} deleted from the host`);
  } catch (err) {
    if (!isNotFound(err)) throw err;
    console.log(`kubefedcluster.core.kubefed.io/${name} not found in the host`);
  }
  try {
    await host.resource(secretsResource).delete(federationSystemNamespace, secretName);
    console.log(`secret/${secretName} deleted from the host`);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  const memberKubeconfig = flag(args, 'cluster-kubeconfig');
  if (!memberKubeconfig) {
    console.log(`(the member keeps ServiceAccount ${federationSystemNamespace}/${name}-kubefed; pass --cluster-kubeconfig to remove it too)`);
    return;
  }
  const member = clientFor(memberKubeconfig, flag(args, 'cluster-context'));
  for (const [ref, namespace, objectName] of [
    [clusterRoleBindingsResource, undefined, `kubefed-controller-manager:${name}-kubefed`],
    [serviceAccountsResource, federationSystemNamespace, `${name}-kubefed`],
  ] as const) {
    try {
      await member.resource(ref).delete(namespace, objectName);
      console.log(`${ref.resource}/${objectName} deleted from the member`);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}

/** kubectl's short age: 45s, 12m, 5h, 3d. */
export function shortAge(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}

async function list(args: ParsedArgs): Promise<void> {
  const kubeconfig = hostKubeconfig(args);
  const host = clientFor(kubeconfig);
  await requireFederationHost(host, kubeconfig);
  const clusters = (await host.resource<KubeFedCluster>(kubeFedClustersResource).list(federationSystemNamespace)).items;
  if (clusters.length === 0) {
    console.log(`No member clusters joined. Join one with: navarch federation join NAME --cluster-kubeconfig FILE`);
    return;
  }
  const rows = [['NAME', 'READY', 'AGE']];
  for (const cluster of clusters) {
    const ready = cluster.status?.conditions?.find((c) => c.type === 'Ready')?.status ?? '';
    const created = Date.parse(cluster.metadata.creationTimestamp ?? '');
    rows.push([cluster.metadata.name!, ready, Number.isNaN(created) ? '<unknown>' : shortAge(Date.now() - created)]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const row of rows) console.log(row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]! + 3))).join(''));
}

export async function runFederationCommand(argv: string[]): Promise<number> {
  const [subcommand, ...rest] = argv;
  const args = parseArgs(rest);
  try {
    switch (subcommand) {
      case 'init':
        await init(args);
        return 0;
      case 'join':
        await joinCluster(args);
        return 0;
      case 'unjoin':
        await unjoinCluster(args);
        return 0;
      case 'list':
        await list(args);
        return 0;
      default:
        console.error(subcommand ? `navarch federation: unknown subcommand "${subcommand}"\n\n${usage}` : usage);
        return 2;
    }
  } catch (err) {
    const message = (err as Error).message;
    const unreachable = /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|timed out/.test(message);
    console.error(`error: ${message}${unreachable ? '\n(is the cluster running, and is the kubeconfig the right one?)' : ''}`);
    return 1;
  }
}
