// Service load balancing as iptables rules, in the shape kube-proxy's iptables mode writes them
// (so people who know `iptables-save` on a Kubernetes node can read ours), under our own chain
// prefix so a real kube-proxy on the same machine is never touched.
//
//   nat PREROUTING/OUTPUT → <P>-SERVICES → <P>-SVC-<hash> (one per service port)
//                                         → <P>-SEP-<hash> (one per endpoint, chosen with -m statistic)
//                          <P>-EXT-<hash> for traffic from outside (NodePort, externalIPs, LB ingress)
//                          <P>-SVL-<hash> local endpoints only (traffic policy Local)
//   nat POSTROUTING → <P>-POSTROUTING: MASQUERADE packets marked by <P>-MARK-MASQ
//   filter: <P>-SERVICES / <P>-EXTERNAL-SERVICES reject or drop what has no endpoint to go to.
import { createHash } from 'node:crypto';
import type { EndpointSlice, Service, ServicePort } from '../types.js';
import { backendsFor, indexSlicesByService, type Backend } from './endpoints.js';

export interface ProxyRulesInput {
  services: Service[];
  endpointSlices: EndpointSlice[];
  /** This node's addresses; NodePorts answer on them (all local addresses when empty). */
  nodeIPs: string[];
  /** Node name, to pick local endpoints for traffic policy Local. */
  nodeName?: string;
  /** Pod network; traffic to a ClusterIP from outside it is masqueraded (kube-proxy's --cluster-cidr). */
  clusterCIDR?: string;
  /** Masquerade all service traffic (when clusterCIDR is unknown). */
  masqueradeAll?: boolean;
  /** Chain name prefix; 'NAVARCH' by default. At most 7 characters so hashes keep 16 characters. */
  chainPrefix?: string;
  /** The fwmark bit that asks for masquerade. kube-proxy uses 0x4000 and the portmap plugin 0x2000; we stay off both. */
  masqueradeBit?: number;
}

export interface ProxyRules {
  /** A full iptables-restore input (filter and nat) for `iptables-restore --noflush`. */
  text: string;
  /** Every chain this rule set owns, per table, for stale-chain removal and cleanup. */
  chains: { filter: string[]; nat: string[] };
  /** Jumps from built-in chains into ours; installed once, outside the restore text. */
  hooks: Hook[];
}

export interface Hook {
  table: 'filter' | 'nat';
  chain: string;
  rule: string[];
}

export const defaultChainPrefix = 'NAVARCH';
const maxChainLength = 28; // iptables' limit (29 with the terminating NUL)

export function chainNames(prefix = defaultChainPrefix) {
  return {
    services: `${prefix}-SERVICES`,
    externalServices: `${prefix}-EXTERNAL-SERVICES`,
    nodePorts: `${prefix}-NODEPORTS`,
    postrouting: `${prefix}-POSTROUTING`,
    markMasq: `${prefix}-MARK-MASQ`,
    forward: `${prefix}-FORWARD`,
  };
}

function hashedChain(prefix: string, kind: 'SVC' | 'SVL' | 'EXT' | 'SEP' | 'FW', key: string): string {
  const head = `${prefix}-${kind}-`;
  const digest = createHash('sha256').update(key).digest('hex').toUpperCase();
  return head + digest.slice(0, Math.min(16, maxChainLength - head.length));
}

/** Chains the service proxy owns under this prefix (and no one else's). */
export function isProxyChain(chain: string, prefix = defaultChainPrefix): boolean {
  const fixed = Object.values(chainNames(prefix));
  if (fixed.includes(chain)) return true;
  return /^-(SVC|SVL|EXT|SEP|FW)-[0-9A-F]+$/.test(chain.slice(prefix.length)) && chain.startsWith(prefix);
}

/** The hooks this prefix installs into built-in chains (also needed by cleanup without a rule set). */
export function proxyHooks(prefix = defaultChainPrefix): Hook[] {
  const c = chainNames(prefix);
  const comment = (what: string) => ['-m', 'comment', '--comment', `navarch service ${what}`];
  return [
    { table: 'nat', chain: 'PREROUTING', rule: [...comment('portals'), '-j', c.services] },
    { table: 'nat', chain: 'OUTPUT', rule: [...comment('portals'), '-j', c.services] },
    { table: 'nat', chain: 'POSTROUTING', rule: [...comment('postrouting'), '-j', c.postrouting] },
    { table: 'filter', chain: 'FORWARD', rule: ['-m', 'conntrack', '--ctstate', 'NEW', ...comment('portals'), '-j', c.services] },
    { table: 'filter', chain: 'OUTPUT', rule: ['-m', 'conntrack', '--ctstate', 'NEW', ...comment('portals'), '-j', c.services] },
    { table: 'filter', chain: 'INPUT', rule: ['-m', 'conntrack', '--ctstate', 'NEW', ...comment('external'), '-j', c.externalServices] },
    { table: 'filter', chain: 'FORWARD', rule: ['-m', 'conntrack', '--ctstate', 'NEW', ...comment('external'), '-j', c.externalServices] },
    { table: 'filter', chain: 'FORWARD', rule: [...comment('forwarding'), '-j', c.forward] },
  ];
}

const quote = (s: string) => `"${s.replace(/["\\]/g, '')}"`;

function protoMatch(port: ServicePort): string {
  const p = (port.protocol ?? 'TCP').toLowerCase();
  return `-p ${p} -m ${p}`;
}

function isIPv4(ip: string | undefined): ip is string {
  return !!ip && /^\d+\.\d+\.\d+\.\d+$/.test(ip);
}

export function computeIptablesRules(input: ProxyRulesInput): ProxyRules {
  const prefix = input.chainPrefix ?? defaultChainPrefix;
  const c = chainNames(prefix);
  const bit = `0x${(input.masqueradeBit ?? 0x1000).toString(16)}`;
  const mark = `${bit}/${bit}`;

  const filterRules: string[] = [];
  const natRules: string[] = [];
  const natChains = new Set<string>([c.services, c.nodePorts, c.postrouting, c.markMasq]);
  const filterChains = new Set<string>([c.services, c.externalServices, c.forward]);

  natRules.push(`-A ${c.markMasq} -j MARK --set-xmark ${mark}`);
  natRules.push(`-A ${c.postrouting} -m mark ! --mark ${mark} -j RETURN`);
  // Clear the bit so a packet that is re-encapsulated does not get masqueraded twice.
  natRules.push(`-A ${c.postrouting} -j MARK --set-xmark ${bit}/0x0`);
  natRules.push(`-A ${c.postrouting} -m comment --comment "navarch service traffic requiring SNAT" -j MASQUERADE --random-fully`);
  filterRules.push(`-A ${c.forward} -m conntrack --ctstate INVALID -j DROP`);

  const slicesByService = indexSlicesByService(input.endpointSlices);
  const services = [...input.services]
    .filter((s) => s.spec?.type !== 'ExternalName')
    .sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));

  const sepDone = new Set<string>();
  const nodePortRules: string[] = [];

  for (const svc of services) {
    const spec = svc.spec ?? {};
    const ns = svc.metadata.namespace ?? 'default';
    const name = svc.metadata.name ?? '';
    const clusterIP = spec.clusterIPs?.find(isIPv4) ?? (isIPv4(spec.clusterIP) ? spec.clusterIP : undefined);
    const headless = spec.clusterIP === 'None';
    const slices = slicesByService.get(`${ns}/${name}`) ?? [];
    const affinity = spec.sessionAffinity === 'ClientIP';
    const affinitySeconds = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? 10800;
    const externalLocal = spec.externalTrafficPolicy === 'Local' && (spec.type === 'NodePort' || spec.type === 'LoadBalancer');
    const internalLocal = spec.internalTrafficPolicy === 'Local';
    const lbIPs = (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip).filter(isIPv4);
    const externalIPs = (spec.externalIPs ?? []).filter(isIPv4);

    for (const port of spec.ports ?? []) {
      const portName = `${ns}/${name}${port.name ? `:${port.name}` : ''}`;
      const key = `${portName}${(port.protocol ?? 'TCP').toLowerCase()}`;
      const svcChain = hashedChain(prefix, 'SVC', key);
      const svlChain = hashedChain(prefix, 'SVL', key);
      const extChain = hashedChain(prefix, 'EXT', key);
      const proto = protoMatch(port);
      const { cluster, local } = backendsFor(svc, port, slices, input.nodeName);
      const hasNodePort = (spec.type === 'NodePort' || spec.type === 'LoadBalancer') && !!port.nodePort;
      const externalDests = [...externalIPs, ...lbIPs];
      const hasExternal = hasNodePort || externalDests.length > 0;

      // Endpoint chains. Headless services have no virtual IP, so nothing to translate.
      if (headless || !clusterIP) continue;

      const internalBackends = internalLocal ? local : cluster;
      const externalBackends = externalLocal ? local : cluster;
      const usesSvc = (!internalLocal && cluster.length > 0) || hasExternal;
      const usesSvl = (internalLocal || externalLocal) && local.length > 0;

      const writeSeps = (backends: Backend[]) => {
        for (const b of backends) {
          const sep = hashedChain(prefix, 'SEP', `${key}${b.ip}:${b.port}`);
          if (sepDone.has(sep)) continue;
          sepDone.add(sep);
          natChains.add(sep);
          natRules.push(`-A ${sep} -s ${b.ip}/32 -m comment --comment ${quote(portName)} -j ${c.markMasq}`);
          const recent = affinity ? ` -m recent --set --name ${sep} --mask 255.255.255.255 --rsource` : '';
          natRules.push(`-A ${sep} -m comment --comment ${quote(portName)} ${proto}${recent} -j DNAT --to-destination ${b.ip}:${b.port}`);
        }
      };
      const writeBalancer = (chain: string, backends: Backend[]) => {
        natChains.add(chain);
        const seps = backends.map((b) => hashedChain(prefix, 'SEP', `${key}${b.ip}:${b.port}`));
        if (affinity) {
          for (const sep of seps) {
            natRules.push(
              `-A ${chain} -m comment --comment ${quote(portName)} -m recent --name ${sep} --rcheck --seconds ${affinitySeconds} --reap -j ${sep}`,
            );
          }
        }
        seps.forEach((sep, i) => {
          const left = seps.length - i;
          const stat = left > 1 ? ` -m statistic --mode random --probability ${(1 / left).toFixed(10)}` : '';
          natRules.push(`-A ${chain} -m comment --comment ${quote(`${portName} -> ${backends[i]!.ip}:${backends[i]!.port}`)}${stat} -j ${sep}`);
        });
        writeSeps(backends);
      };

      if (usesSvc && cluster.length > 0) {
        natChains.add(svcChain);
        // Traffic to the ClusterIP from outside the pod network must come back through us.
        if (input.masqueradeAll) {
          natRules.push(`-A ${svcChain} -d ${clusterIP}/32 ${proto} --dport ${port.port} -j ${c.markMasq}`);
        } else if (input.clusterCIDR) {
          natRules.push(`-A ${svcChain} ! -s ${input.clusterCIDR} -d ${clusterIP}/32 ${proto} --dport ${port.port} -m comment --comment ${quote(`${portName} cluster IP`)} -j ${c.markMasq}`);
        }
        writeBalancer(svcChain, cluster);
      }
      if (usesSvl) writeBalancer(svlChain, local);

      // ClusterIP entry.
      const clusterMatch = `-d ${clusterIP}/32 ${proto} --dport ${port.port}`;
      if (internalBackends.length > 0) {
        const target = internalLocal ? svlChain : svcChain;
        natRules.push(`-A ${c.services} -m comment --comment ${quote(`${portName} cluster IP`)} ${clusterMatch} -j ${target}`);
      } else if (internalLocal && cluster.length > 0) {
        filterRules.push(`-A ${c.services} -m comment --comment ${quote(`${portName} has no local endpoints`)} ${clusterMatch} -j DROP`);
      } else {
        filterRules.push(`-A ${c.services} -m comment --comment ${quote(`${portName} has no endpoints`)} ${clusterMatch} -j REJECT --reject-with icmp-port-unreachable`);
      }

      if (!hasExternal) continue;
      // External entries (NodePort, externalIPs, LoadBalancer ingress) all go through EXT.
      if (cluster.length === 0) {
        for (const ip of externalDests) {
          filterRules.push(`-A ${c.externalServices} -m comment --comment ${quote(`${portName} has no endpoints`)} -d ${ip}/32 ${proto} --dport ${port.port} -j REJECT --reject-with icmp-port-unreachable`);
        }
        if (hasNodePort) {
          filterRules.push(`-A ${c.externalServices} -m comment --comment ${quote(`${portName} has no endpoints`)} -m addrtype --dst-type LOCAL ${proto} --dport ${port.nodePort} -j REJECT --reject-with icmp-port-unreachable`);
        }
        continue;
      }
      natChains.add(extChain);
      if (externalLocal) {
        // Pods and the node itself may use any endpoint; only truly external clients are pinned
        // to local endpoints (that is what preserves their source IP).
        if (input.clusterCIDR) natRules.push(`-A ${extChain} -s ${input.clusterCIDR} -m comment --comment "pod traffic for ${portName} external destinations" -j ${svcChain}`);
        natRules.push(`-A ${extChain} -m comment --comment "masquerade LOCAL traffic for ${portName} external destinations" -m addrtype --src-type LOCAL -j ${c.markMasq}`);
        natRules.push(`-A ${extChain} -m comment --comment "route LOCAL traffic for ${portName} external destinations" -m addrtype --src-type LOCAL -j ${svcChain}`);
        if (externalBackends.length > 0) {
          natRules.push(`-A ${extChain} -j ${svlChain}`);
        } else {
          for (const ip of externalDests) {
            filterRules.push(`-A ${c.externalServices} -m comment --comment ${quote(`${portName} has no local endpoints`)} -d ${ip}/32 ${proto} --dport ${port.port} -j DROP`);
          }
          if (hasNodePort) {
            filterRules.push(`-A ${c.externalServices} -m comment --comment ${quote(`${portName} has no local endpoints`)} -m addrtype --dst-type LOCAL ${proto} --dport ${port.nodePort} -j DROP`);
          }
        }
      } else {
        natRules.push(`-A ${extChain} -m comment --comment "masquerade traffic for ${portName} external destinations" -j ${c.markMasq}`);
        natRules.push(`-A ${extChain} -j ${svcChain}`);
      }
      for (const ip of externalIPs) {
        natRules.push(`-A ${c.services} -m comment --comment ${quote(`${portName} external IP`)} -d ${ip}/32 ${proto} --dport ${port.port} -j ${extChain}`);
      }
      for (const ip of lbIPs) {
        natRules.push(`-A ${c.services} -m comment --comment ${quote(`${portName} loadbalancer IP`)} -d ${ip}/32 ${proto} --dport ${port.port} -j ${extChain}`);
      }
      if (hasNodePort) {
        nodePortRules.push(`-A ${c.nodePorts} -m comment --comment ${quote(portName)} ${proto} --dport ${port.nodePort} -j ${extChain}`);
      }
    }
  }

  natRules.push(...nodePortRules);
  // NodePorts last: after every exact ClusterIP/external match, as kube-proxy orders them.
  if (input.nodeIPs.length > 0) {
    for (const ip of input.nodeIPs.filter(isIPv4)) {
      natRules.push(`-A ${c.services} -m comment --comment "navarch service nodeports" -d ${ip}/32 -j ${c.nodePorts}`);
    }
  } else {
    natRules.push(`-A ${c.services} -m comment --comment "navarch service nodeports" -m addrtype --dst-type LOCAL -j ${c.nodePorts}`);
  }

  const filterList = [...filterChains];
  const natList = [...natChains];
  const text = [
    '*filter',
    ...filterList.map((ch) => `:${ch} - [0:0]`),
    ...filterRules,
    'COMMIT',
    '*nat',
    ...natList.map((ch) => `:${ch} - [0:0]`),
    ...natRules,
    'COMMIT',
    '',
  ].join('\n');
  return { text, chains: { filter: filterList, nat: natList }, hooks: proxyHooks(prefix) };
}
