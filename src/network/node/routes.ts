// The routes a node needs for a flat pod network without overlay (flannel's host-gw):
//   <other node's podCIDR> via <its InternalIP>        one per other node
//   <service CIDR> dev <dummy interface>                ClusterIPs route somewhere harmless: the
//        kernel accepts host connects to them (the OUTPUT DNAT then rewrites them), and anything
//        left un-DNAT'd is dropped by the dummy device instead of leaving by the default route
//   unreachable <cluster CIDR>                          pod space no node owns fails fast, locally
// The node's own podCIDR is more specific and owned by the CNI bridge. Every route we make carries
// our routing protocol number, so a sync can find and remove ours (and only ours).
import { runCommand, runChecked, type CommandRunner } from '../exec.js';
import type { Node } from '../types.js';

/** Our tag in the `protocol` field of routes (free in /etc/iproute2/rt_protos). */
export const routeProtocol = '176';

export type RouteSpec = { dst: string; via: string } | { dst: string; dev: string } | { dst: string; unreachable: true };

export function internalIP(node: Node): string | undefined {
  return node.status?.addresses?.find((a) => a.type === 'InternalIP' && !a.address.includes(':'))?.address;
}

/** The routes this node wants, from the Nodes it knows about. */
export function desiredRoutes(input: { nodeName: string; nodes: Node[]; clusterCidr?: string; serviceCidr?: string; serviceInterface?: string }): RouteSpec[] {
  const out: RouteSpec[] = [];
  if (input.serviceCidr && input.serviceInterface) out.push({ dst: input.serviceCidr, dev: input.serviceInterface });
  if (input.clusterCidr) out.push({ dst: input.clusterCidr, unreachable: true });
  const seen = new Set(out.map((r) => r.dst));
  for (const node of [...input.nodes].sort((a, b) => (a.metadata.name! < b.metadata.name! ? -1 : 1))) {
    if (node.metadata.name === input.nodeName) continue;
    const via = internalIP(node);
    if (!via) continue;
    const cidrs = node.spec?.podCIDRs?.length ? node.spec.podCIDRs : node.spec?.podCIDR ? [node.spec.podCIDR] : [];
    for (const dst of cidrs) {
      if (dst.includes(':') || seen.has(dst)) continue;
      seen.add(dst);
      out.push({ dst, via });
    }
  }
  return out;
}

interface IpRoute {
  dst: string;
  type?: string;
  gateway?: string;
  dev?: string;
}

function matches(have: IpRoute, want: RouteSpec): boolean {
  if ('via' in want) return have.gateway === want.via && (have.type ?? 'unicast') === 'unicast';
  if ('dev' in want) return have.dev === want.dev && !have.gateway && (have.type ?? 'unicast') === 'unicast';
  return have.type === 'unreachable';
}

function routeArgs(r: RouteSpec): string[] {
  if ('via' in r) return [r.dst, 'via', r.via];
  if ('dev' in r) return [r.dst, 'dev', r.dev];
  return ['unreachable', r.dst];
}

/** Normalises "10.42.0.0/16" vs the kernel's form (a /32 prints without its mask). */
function normalDst(dst: string): string {
  return dst.includes('/') ? dst : `${dst}/32`;
}

export class NodeRoutes {
  private readonly run: CommandRunner;

  constructor(options: { run?: CommandRunner } = {}) {
    this.run = options.run ?? runCommand;
  }

  async current(): Promise<IpRoute[]> {
    const out = await runChecked(this.run, 'ip', ['-4', '-j', 'route', 'show', 'table', 'main', 'proto', routeProtocol]);
    return (out.trim() ? (JSON.parse(out) as IpRoute[]) : []).map((r) => ({ ...r, dst: normalDst(r.dst) }));
  }

  /** Makes our routes exactly `wanted`: adds or replaces what differs, deletes the rest of ours. */
  async sync(wanted: RouteSpec[]): Promise<{ changed: number }> {
    const have = new Map((await this.current()).map((r) => [r.dst, r]));
    let changed = 0;
    for (const r of wanted) {
      const existing = have.get(normalDst(r.dst));
      have.delete(normalDst(r.dst));
      if (existing && matches(existing, r)) continue;
      await runChecked(this.run, 'ip', ['-4', 'route', 'replace', ...routeArgs(r), 'proto', routeProtocol]);
      changed++;
    }
    for (const stale of have.values()) {
      await this.deleteRoute(stale);
      changed++;
    }
    return { changed };
  }

  /** Removes every route carrying our protocol number. */
  async cleanup(): Promise<void> {
    for (const r of await this.current().catch(() => [])) await this.deleteRoute(r);
  }

  private async deleteRoute(r: IpRoute): Promise<void> {
    const args = r.type === 'unreachable' ? ['unreachable', r.dst] : [r.dst];
    await this.run('ip', ['-4', 'route', 'del', ...args, 'proto', routeProtocol]);
  }
}

/**
 * A sink device (like kube-proxy's kube-ipvs0) that the service CIDR routes to: a dummy device,
 * or — where the dummy module is missing (containers) — a bridge without ports, which drops
 * everything sent to it just the same.
 */
export async function ensureDummyInterface(run: CommandRunner, name: string, addresses: string[] = []): Promise<void> {
  const exists = await run('ip', ['link', 'show', 'dev', name]);
  if (exists.code !== 0) {
    const dummy = await run('ip', ['link', 'add', name, 'type', 'dummy']);
    if (dummy.code !== 0) await runChecked(run, 'ip', ['link', 'add', name, 'type', 'bridge']);
  }
  await runChecked(run, 'ip', ['link', 'set', name, 'up']);
  for (const a of addresses) await runChecked(run, 'ip', ['addr', 'replace', a.includes('/') ? a : `${a}/32`, 'dev', name]);
}

export async function deleteInterface(run: CommandRunner, name: string): Promise<void> {
  await run('ip', ['link', 'del', name]);
}
