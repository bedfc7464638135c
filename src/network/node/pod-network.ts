// The kubelet's PodNetwork, implemented with standard CNI plugins (bridge + host-local + portmap,
// plus loopback): the network configuration is written from this node's spec.podCIDR (allocated
// by nodeipam), so a pod's address always comes from the node's own subnet.
import { join } from 'node:path';
import { CniClient, fileResultCache, loopbackConfList, podIPFromResult, writeDefaultConfList, loadConfList, type NetworkConfigList, type PortMapping, type RuntimeConf } from '../cni/cni.js';
import type { CommandRunner } from '../exec.js';
import type { PortMapping as RuntimePortMapping } from '../../runtime/types.js';

export interface PodNetworkSetUp {
  /** Path of the sandbox's network namespace (/var/run/netns/<name> or /proc/<pid>/ns/net). */
  namespacePath: string;
  podName: string;
  podNamespace: string;
  podUid: string;
  sandboxId: string;
  portMappings?: RuntimePortMapping[];
}

export interface PodNetworkStatus {
  ips: string[];
}

/** What the kubelet calls for every pod sandbox that is not hostNetwork (the same shape as kubelet/network.ts' PodNetwork). */
export interface PodNetwork {
  setUp(pod: PodNetworkSetUp): Promise<PodNetworkStatus & { routable?: boolean }>;
  tearDown(pod: PodNetworkSetUp): Promise<void>;
}

export interface CniPodNetworkOptions {
  nodeName: string;
  /** Resolves to this node's podCIDR, waiting for nodeipam if it has not been set yet. */
  podCidr: () => Promise<string>;
  cniBinDir?: string;
  /** Where the generated 10-navarch.conflist goes. */
  confDir: string;
  /** ADD results (for DEL) and host-local's leases; default <confDir>/../cni-state. */
  stateDir?: string;
  bridge?: string;
  run?: CommandRunner;
}

const ifName = 'eth0';

export function createCniPodNetwork(options: CniPodNetworkOptions): PodNetwork {
  const stateDir = options.stateDir ?? join(options.confDir, '..', 'cni-state');
  const cni = new CniClient({ pluginDirs: [options.cniBinDir ?? '/usr/lib/cni'], cache: fileResultCache(join(stateDir, 'results')), run: options.run });
  let network: Promise<NetworkConfigList> | undefined;
  const loopback = loopbackConfList();

  const networkConf = () => {
    // Written once per process from the node's podCIDR, which never changes once allocated.
    network ??= (async () => {
      const podCIDR = await options.podCidr();
      await resetStaleBridge(options.bridge ?? 'navarch0', podCIDR, options.run);
      const file = await writeDefaultConfList(options.confDir, { podCIDR, bridge: options.bridge, ipamDataDir: join(stateDir, 'networks') });
      return loadConfList(file);
    })().catch((e) => {
      network = undefined;
      throw e;
    });
    return network;
  };

  const runtimeConf = (pod: PodNetworkSetUp, name: string): RuntimeConf => ({
    containerId: pod.sandboxId,
    netns: pod.namespacePath,
    ifName: name,
    args: { K8S_POD_NAMESPACE: pod.podNamespace, K8S_POD_NAME: pod.podName, K8S_POD_INFRA_CONTAINER_ID: pod.sandboxId, K8S_POD_UID: pod.podUid },
    capabilityArgs: {
      portMappings: (pod.portMappings ?? []).filter((p) => (p.hostPort ?? 0) > 0).map((p): PortMapping => ({
        hostPort: p.hostPort!,
        containerPort: p.containerPort,
        protocol: (p.protocol ?? 'TCP').toLowerCase() as PortMapping['protocol'],
        ...(p.hostIp ? { hostIP: p.hostIp } : {}),
      })),
    },
  });

  return {
    async setUp(pod) {
      const conf = await networkConf();
      await cni.add(loopback, runtimeConf(pod, 'lo'));
      try {
        const result = await cni.add(conf, runtimeConf(pod, ifName));
        const ip = podIPFromResult(result);
        if (!ip) throw new Error(`CNI network ${conf.name} returned no address for pod ${pod.podNamespace}/${pod.podName}`);
        return { ips: [ip] };
      } catch (e) {
        // Leave nothing half-made: the kubelet will retry the whole sandbox.
        await cni.del(conf, runtimeConf(pod, ifName)).catch(() => {});
        throw e;
      }
    },
    async tearDown(pod) {
      const conf = await networkConf();
      await cni.del(conf, runtimeConf(pod, ifName));
      await cni.del(loopback, runtimeConf(pod, 'lo')).catch(() => {});
    },
  };
}

/**
 * The bridge survives its node process. If it still carries the gateway of another pod CIDR
 * (the node was re-created with a new one), the bridge plugin would refuse every ADD: remove it
 * so the plugin builds it afresh for this node's subnet.
 */
async function resetStaleBridge(bridge: string, podCIDR: string, run?: CommandRunner): Promise<void> {
  const exec = run ?? (await import('../exec.js')).runCommand;
  const shown = await exec('ip', ['-4', '-o', 'addr', 'show', 'dev', bridge]);
  if (shown.code !== 0) return; // no bridge yet
  const [base, bits] = podCIDR.split('/');
  const n = base.split('.').reduce((acc, o) => acc * 256 + Number(o), 0) + 1;
  const gateway = `${[24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.')}/${bits}`;
  const addresses = [...shown.stdout.matchAll(/inet (\S+)/g)].map((m) => m[1]);
  if (addresses.length > 0 && !addresses.includes(gateway)) await exec('ip', ['link', 'del', bridge]);
}
