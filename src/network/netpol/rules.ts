// NetworkPolicy as iptables filter rules, per pod IP. Traffic between pods crosses the node's
// FORWARD chain (routed, or bridged with br_netfilter), where one hook sends it to our chains:
//
//   <P>-NWPLCY                 established/related → RETURN; then per isolated pod:
//     -s podIP → <P>-NWPLCY-EG-<hash>   (egress of the source pod)
//     -d podIP → <P>-NWPLCY-IN-<hash>   (ingress of the destination pod)
//   each IN/EG chain clears the allow mark, lets every allowing rule set it, RETURNs when it is
//   set and DROPs otherwise — so the policies' union decides, and we never ACCEPT on behalf of
//   other FORWARD rules. ipBlock `except` is a sub-chain that RETURNs for excepted sources first.
import { createHash } from 'node:crypto';
import type { IptablesHook, IptablesRuleSet } from '../iptables.js';
import { labelSelectorMatches, type Namespace, type NetworkPolicy, type NetworkPolicyPeer, type NetworkPolicyPort, type Pod, type Protocol } from '../types.js';

export interface NetworkPolicyInput {
  policies: NetworkPolicy[];
  pods: Pod[];
  namespaces: Namespace[];
  chainPrefix?: string;
  /** The mark bit used to remember "allowed" while a packet walks one pod's chain. */
  allowBit?: number;
}

export const defaultPolicyChainPrefix = 'NAVARCH';

type Direction = 'Ingress' | 'Egress';

export function policyTypes(policy: NetworkPolicy): Direction[] {
  if (policy.spec.policyTypes && policy.spec.policyTypes.length > 0) return policy.spec.policyTypes;
  // Kubernetes' defaulting: Ingress always; Egress only when the policy has egress rules.
  return policy.spec.egress && policy.spec.egress.length > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
}

function podIP(pod: Pod): string | undefined {
  const ip = pod.status?.podIP ?? pod.status?.podIPs?.[0]?.ip;
  return ip && /^\d+\.\d+\.\d+\.\d+$/.test(ip) ? ip : undefined;
}

function isLivePodNetworkPod(pod: Pod): boolean {
  return !pod.spec?.hostNetwork && pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed' && !!podIP(pod);
}

function hash(key: string, length: number): string {
  return createHash('sha256').update(key).digest('hex').toUpperCase().slice(0, length);
}

/** Resolves a policy port against one pod: numbers pass through, names use its containerPorts. */
function resolvePort(port: NetworkPolicyPort, pod: Pod | undefined): { protocol: Protocol; range?: string } | undefined {
  const protocol = port.protocol ?? 'TCP';
  if (port.port === undefined) return { protocol };
  if (typeof port.port === 'number') return { protocol, range: port.endPort && port.endPort > port.port ? `${port.port}:${port.endPort}` : `${port.port}` };
  if (/^\d+$/.test(port.port)) return { protocol, range: port.port };
  if (!pod) return undefined; // a named port needs a pod to name it
  for (const c of pod.spec?.containers ?? []) {
    for (const cp of c.ports ?? []) {
      if (cp.name === port.port && (cp.protocol ?? 'TCP') === protocol) return { protocol, range: `${cp.containerPort}` };
    }
  }
  return undefined;
}

function portMatch(p: { protocol: Protocol; range?: string }): string {
  const proto = p.protocol.toLowerCase();
  return p.range ? `-p ${proto} -m ${proto} --dport ${p.range}` : `-p ${proto}`;
}

export function computeNetworkPolicyRules(input: NetworkPolicyInput): IptablesRuleSet {
  const prefix = input.chainPrefix ?? defaultPolicyChainPrefix;
  const top = `${prefix}-NWPLCY`;
  const bit = `0x${(input.allowBit ?? 0x10000).toString(16)}`;
  const mark = `${bit}/${bit}`;
  const hashLength = 28 - `${top}-IN-`.length;

  const namespaceLabels = new Map(input.namespaces.map((n) => [n.metadata.name ?? '', n.metadata.labels ?? {}]));
  const pods = input.pods.filter(isLivePodNetworkPod).sort((a, b) => (podIP(a)! < podIP(b)! ? -1 : 1));
  const policies = [...input.policies].sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));

  const chains: string[] = [top];
  const rules: string[] = [`-A ${top} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN`];
  const podChainRules: string[] = [];
  const dispatch: { egress: string[]; ingress: string[] } = { egress: [], ingress: [] };

  const peerPods = (policyNamespace: string, peer: NetworkPolicyPeer): Pod[] =>
    pods.filter((p) => {
      const ns = p.metadata.namespace ?? 'default';
      if (peer.namespaceSelector) {
        if (!labelSelectorMatches(peer.namespaceSelector, namespaceLabels.get(ns))) return false;
      } else if (ns !== policyNamespace) {
        return false;
      }
      return peer.podSelector ? labelSelectorMatches(peer.podSelector, p.metadata.labels) : true;
    });

  for (const pod of pods) {
    const ip = podIP(pod)!;
    const ns = pod.metadata.namespace ?? 'default';
    const key = `${ns}/${pod.metadata.name}/${ip}`;
    for (const direction of ['Ingress', 'Egress'] as const) {
      const selecting = policies.filter(
        (pol) => (pol.metadata.namespace ?? 'default') === ns && policyTypes(pol).includes(direction) && labelSelectorMatches(pol.spec.podSelector, pod.metadata.labels),
      );
      if (selecting.length === 0) continue;
      const tag = direction === 'Ingress' ? 'IN' : 'EG';
      const chain = `${top}-${tag}-${hash(key, hashLength)}`;
      const peerFlag = direction === 'Ingress' ? '-s' : '-d';
      chains.push(chain);
      (direction === 'Ingress' ? dispatch.ingress : dispatch.egress).push(
        `-A ${top} ${direction === 'Ingress' ? '-d' : '-s'} ${ip}/32 -m comment --comment "${ns}/${pod.metadata.name} ${direction.toLowerCase()}" -j ${chain}`,
      );
      podChainRules.push(`-A ${chain} -j MARK --set-xmark 0x0/${bit}`);
      let ruleIndex = 0;
      for (const pol of selecting) {
        const polName = `${pol.metadata.namespace}/${pol.metadata.name}`;
        const polRules = direction === 'Ingress' ? pol.spec.ingress ?? [] : pol.spec.egress ?? [];
        for (const rule of polRules) {
          ruleIndex++;
          const peers = (direction === 'Ingress' ? (rule as { from?: NetworkPolicyPeer[] }).from : (rule as { to?: NetworkPolicyPeer[] }).to) ?? [];
          const ports = rule.ports ?? [];
          const comment = `-m comment --comment "${polName}"`;
          const allow = `-j MARK --set-xmark ${mark}`;
          // The port each peer may use: for ingress the protected pod names its ports; for egress
          // the destination pod does.
          const portsFor = (portOwner: Pod | undefined): string[] | undefined => {
            if (ports.length === 0) return [''];
            const out = ports.map((p) => resolvePort(p, portOwner)).filter((p): p is NonNullable<typeof p> => !!p).map(portMatch);
            return out.length > 0 ? out : undefined;
          };
          const emit = (peerMatch: string, portOwner: Pod | undefined) => {
            for (const pm of portsFor(portOwner) ?? []) podChainRules.push(`-A ${chain} ${peerMatch}${pm ? ` ${pm}` : ''} ${comment} ${allow}`.replace(/  +/g, ' '));
          };
          if (peers.length === 0) {
            if (direction === 'Egress' && ports.some((p) => typeof p.port === 'string' && !/^\d+$/.test(p.port))) {
              // "to anywhere on port http": each pod names its own http port.
              for (const dst of pods) emit(`-d ${podIP(dst)}/32`, dst);
              const numeric = ports.filter((p) => !(typeof p.port === 'string' && !/^\d+$/.test(p.port)));
              for (const p of numeric) podChainRules.push(`-A ${chain} ${portMatch(resolvePort(p, undefined)!)} ${comment} ${allow}`);
            } else {
              emit('', direction === 'Ingress' ? pod : undefined);
            }
            continue;
          }
          for (const peer of peers) {
            if (peer.ipBlock) {
              const except = peer.ipBlock.except ?? [];
              if (except.length === 0) {
                emit(`${peerFlag} ${peer.ipBlock.cidr}`, direction === 'Ingress' ? pod : undefined);
              } else {
                const sub = `${top}-EX-${hash(`${key}/${tag}/${polName}/${ruleIndex}/${peer.ipBlock.cidr}`, hashLength)}`;
                chains.push(sub);
                podChainRules.push(`-A ${chain} ${peerFlag} ${peer.ipBlock.cidr} ${comment} -j ${sub}`);
                for (const e of except) podChainRules.push(`-A ${sub} ${peerFlag} ${e} -j RETURN`);
                for (const pm of portsFor(direction === 'Ingress' ? pod : undefined) ?? []) podChainRules.push(`-A ${sub}${pm ? ` ${pm}` : ''} ${allow}`);
              }
              continue;
            }
            for (const other of peerPods(pol.metadata.namespace ?? 'default', peer)) {
              emit(`${peerFlag} ${podIP(other)}/32`, direction === 'Ingress' ? pod : other);
            }
          }
        }
      }
      podChainRules.push(`-A ${chain} -m mark --mark ${mark} -j RETURN`);
      podChainRules.push(`-A ${chain} -m comment --comment "${ns}/${pod.metadata.name} ${direction.toLowerCase()} not allowed by any policy" -j DROP`);
    }
  }

  rules.push(...dispatch.egress, ...dispatch.ingress, ...podChainRules);
  const text = ['*filter', ...chains.map((c) => `:${c} - [0:0]`), ...rules, 'COMMIT', ''].join('\n');
  return { text, chains: { filter: chains }, hooks: networkPolicyHooks(prefix) };
}

export function networkPolicyHooks(prefix = defaultPolicyChainPrefix): IptablesHook[] {
  return [{ table: 'filter', chain: 'FORWARD', rule: ['-m', 'comment', '--comment', 'navarch network policies', '-j', `${prefix}-NWPLCY`] }];
}
