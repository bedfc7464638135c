// The control-plane components of `navarch server` (controllers, scheduler), each reaching the
// API through the in-process transport under its own identity, and each running on one server
// at a time through Lease leader election in kube-system — so several servers can share a datastore.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { ApiServer } from '../apiserver/index.js';
import type { UserInfo } from '../apiserver/admission.js';
import { inProcessTransport } from '../apiserver/in-process-transport.js';
import type { CertificateAuthority } from '../apiserver/auth/pki.js';
import { createClient } from '../client/client.js';
import type { Transport } from '../client/transport.js';
import { runLeaderElection } from '../client/leader-election.js';
import { createCertificatesController } from '../controllers/certificates/certificates-controller.js';
import { startControllers } from '../controllers/index.js';
import { createScheduler } from '../scheduler/scheduler.js';
import { createEndpointSliceController } from '../controllers/endpointslice/endpointslice-controller.js';
import { createKubernetesServiceController } from '../controllers/endpointslice/kubernetes-service.js';
import { createNodeIpamController } from '../controllers/nodeipam/nodeipam-controller.js';
import { log } from '../util/log.js';

/** Controllers act as their own service accounts in kube-system, bound to system:controller:<name> roles. */
export function controllerUser(name: string): UserInfo {
  return { username: `system:serviceaccount:kube-system:${name}`, groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'] };
}

export interface ControlPlaneOptions {
  api: ApiServer;
  ca: CertificateAuthority;
  disabled: Set<string>;
  /** Where this API server answers, for the default/kubernetes Service. */
  apiAddresses: string[];
  apiPort: number;
  clusterCidr?: string;
  serviceCidr?: string;
  /** Nodes sharing this process's disk (the server's own node): local-path directories are removed here. */
  localNodeNames?: string[];
  storagePath?: string;
  /** Extra leader-elected components (scheduler, workload controllers) plugged in by name. */
  components?: { name: string; lease: string; user: UserInfo; start(transport: Transport, signal: AbortSignal): Promise<void> }[];
}

export function startControlPlane(options: ControlPlaneOptions, signal: AbortSignal): void {
  const identity = `${hostname()}_${randomBytes(4).toString('hex')}`;
  const transportFor = (user: UserInfo) => inProcessTransport(options.api.handler, user, `navarch/${user.username}`);
  const components = [
    {
      name: 'certificates',
      lease: 'kube-controller-manager',
      user: controllerUser('certificate-controller'),
      start: (transport: Transport, s: AbortSignal) => createCertificatesController({ client: createClient(transport), ca: options.ca }).start(s),
    },
    {
      name: 'controllers',
      lease: 'kube-controller-manager',
      user: { username: 'system:kube-controller-manager', groups: ['system:authenticated'] },
      start: async (transport: Transport, s: AbortSignal) => {
        const running = startControllers({ transport, transportFor: (name) => transportFor(controllerUser(name)), caPem: options.ca.certPem, signal: s, disabled: [...options.disabled], localPath: { localNodeNames: options.localNodeNames ?? [], basePath: options.storagePath } });
        await running.done;
      },
    },
    {
      name: 'endpointslice',
      lease: 'kube-controller-manager',
      user: controllerUser('endpointslice-controller'),
      start: (transport: Transport, s: AbortSignal) => createEndpointSliceController({ client: createClient(transport) }).start(s),
    },
    {
      name: 'nodeipam',
      lease: 'kube-controller-manager',
      user: controllerUser('node-controller'),
      start: (transport: Transport, s: AbortSignal) => createNodeIpamController({ client: createClient(transport), clusterCidr: options.clusterCidr }).start(s),
    },
    {
      // kube-apiserver keeps default/kubernetes itself; so does every navarch server, under the lease.
      name: 'kubernetes-service',
      lease: 'kube-controller-manager',
      user: { username: 'system:apiserver', groups: ['system:masters', 'system:authenticated'] },
      start: (transport: Transport, s: AbortSignal) => createKubernetesServiceController({ client: createClient(transport), addresses: options.apiAddresses, port: options.apiPort, clusterIP: firstServiceIP(options.serviceCidr ?? '10.43.0.0/16') }).start(s),
    },
    {
      name: 'scheduler',
      lease: 'kube-scheduler',
      user: { username: 'system:kube-scheduler', groups: ['system:authenticated'] },
      start: (transport: Transport, s: AbortSignal) => createScheduler({ transport }).start(s),
    },
    ...(options.components ?? []),
  ].filter((c) => !options.disabled.has(c.name));

  // One election per lease; every component sharing a lease starts when it is won.
  const byLease = new Map<string, typeof components>();
  for (const c of components) byLease.set(c.lease, [...(byLease.get(c.lease) ?? []), c]);
  for (const [lease, group] of byLease) {
    const electionUser: UserInfo = lease === 'kube-scheduler' ? { username: 'system:kube-scheduler', groups: ['system:authenticated'] } : { username: 'system:kube-controller-manager', groups: ['system:authenticated'] };
    runLeaderElection(
      {
        client: createClient(transportFor(electionUser)),
        namespace: 'kube-system',
        name: lease,
        identity,
        releaseOnCancel: true,
        onStartedLeading: (leading) => {
          log.info('leader-election', 'leading', { lease, identity, components: group.map((c) => c.name) });
          for (const c of group) {
            c.start(transportFor(c.user), leading).catch((e) => log.error(c.name, 'stopped with an error', { error: (e as Error).stack ?? String(e) }));
          }
        },
        onStoppedLeading: () => log.info('leader-election', 'stopped leading', { lease, identity }),
        onNewLeader: (leader) => {
          if (leader !== identity) log.info('leader-election', 'following', { lease, leader });
        },
      },
      signal,
    ).catch((e) => log.error('leader-election', 'failed', { lease, error: (e as Error).message }));
  }
}

/** The kubernetes Service takes the first address of the service CIDR (10.43.0.1). */
export function firstServiceIP(cidr: string): string {
  const [base] = cidr.split('/');
  const n = base.split('.').reduce((acc, o) => acc * 256 + Number(o), 0) + 1;
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}
