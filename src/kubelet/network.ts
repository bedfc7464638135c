// How a pod gets its addresses. The kubelet calls setUp once per sandbox (never for
// hostNetwork pods) and tearDown when the sandbox goes; the integrator plugs in the CNI
// implementation. noopPodNetwork serves runtimes without network namespaces.
import type { PortMapping } from '../runtime/types.js';

export interface PodNetworkInput {
  /** The sandbox's network namespace file (CNI_NETNS); '' when the runtime has none. */
  namespacePath: string;
  podName: string;
  podNamespace: string;
  podUid: string;
  sandboxId: string;
  portMappings: PortMapping[];
}

export interface PodNetwork {
  /**
   * Attaches the sandbox to the pod network; returns its addresses, IPv4 first.
   * routable: false says nothing answers at those addresses from this node (reported only),
   * so the kubelet must not send probes there.
   */
  setUp(input: PodNetworkInput): Promise<{ ips: string[]; routable?: boolean }>;
  /** Releases what setUp took; must be idempotent (called again after a kubelet restart). */
  tearDown(input: PodNetworkInput): Promise<void>;
}

export interface NoopPodNetworkOptions {
  /** CIDR the fake addresses come from, e.g. "10.244.0.0/24". Absent: every pod reports nodeIP. */
  podCIDR?: string;
  /** Reported for every pod when podCIDR is absent (the process runtime shares the host's network). */
  nodeIP: string;
}

function ipv4ToNumber(ip: string): number {
  return ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}

function numberToIpv4(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

/** FNV-1a: a stable spread of pod uids over the range, so a restarted kubelet reports the same address. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * For runtimes without network namespaces (process, fake). The addresses are reported,
 * never configured anywhere: nothing is routed to them, so they cannot leak traffic.
 */
export function noopPodNetwork(options: NoopPodNetworkOptions): PodNetwork {
  let base = 0;
  let size = 0;
  if (options.podCIDR) {
    const [address, bitsText] = options.podCIDR.split('/');
    const bits = Number(bitsText);
    if (!address || !(bits >= 8 && bits <= 30)) throw new Error(`podCIDR ${options.podCIDR}: need an IPv4 CIDR between /8 and /30`);
    size = 2 ** (32 - bits);
    base = ipv4ToNumber(address) - (ipv4ToNumber(address) % size);
  }
  return {
    async setUp(input) {
      if (!size) return { ips: [options.nodeIP] };
      // Skip the network address, the .1 gateway convention and the broadcast address.
      const host = 2 + (hash(input.podUid) % (size - 3));
      return { ips: [numberToIpv4(base + host)], routable: false };
    },
    async tearDown() {},
  };
}
