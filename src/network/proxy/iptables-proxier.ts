// The iptables service proxy: level-triggered. Each sync computes the whole rule set from the
// snapshot it is given and lets the applier write it in one transaction (or not at all).
import { runCommand, type CommandRunner } from '../exec.js';
import { IptablesApplier, type SyncOutcome } from '../iptables.js';
import type { EndpointSlice, Service } from '../types.js';
import { computeIptablesRules, defaultChainPrefix, isProxyChain, proxyHooks, type ProxyRulesInput } from './iptables-rules.js';

export interface ProxySnapshot {
  services: Service[];
  endpointSlices: EndpointSlice[];
}

export interface IptablesProxierOptions extends Omit<ProxyRulesInput, 'services' | 'endpointSlices'> {
  run?: CommandRunner;
  now?: () => number;
}

export class IptablesProxier {
  private readonly applier: IptablesApplier;
  private readonly prefix: string;

  constructor(private readonly options: IptablesProxierOptions) {
    this.prefix = options.chainPrefix ?? defaultChainPrefix;
    this.applier = new IptablesApplier({ ownsChain: (c) => isProxyChain(c, this.prefix), run: options.run, now: options.now });
  }

  async sync(snapshot: ProxySnapshot): Promise<SyncOutcome> {
    const rules = computeIptablesRules({ ...this.options, services: snapshot.services, endpointSlices: snapshot.endpointSlices });
    return this.applier.apply(rules);
  }

  async cleanup(): Promise<void> {
    await this.applier.cleanup(proxyHooks(this.prefix), ['filter', 'nat']);
  }
}

/** Is iptables usable here (installed, and we may change rules)? Decides iptables vs userspace. */
export async function iptablesAvailable(run: CommandRunner = runCommand): Promise<boolean> {
  try {
    const r = await run('iptables', ['-w', '-t', 'nat', '-S', 'OUTPUT']);
    return r.code === 0;
  } catch {
    return false;
  }
}
