// Level-triggered NetworkPolicy enforcement: every sync writes the whole rule set (if it changed).
import { promises as fs } from 'node:fs';
import { runCommand, type CommandRunner } from '../exec.js';
import { IptablesApplier, type SyncOutcome } from '../iptables.js';
import type { Namespace, NetworkPolicy, Pod } from '../types.js';
import { computeNetworkPolicyRules, defaultPolicyChainPrefix, networkPolicyHooks } from './rules.js';

export interface NetworkPolicySnapshot {
  policies: NetworkPolicy[];
  pods: Pod[];
  namespaces: Namespace[];
}

export interface NetworkPolicyEnforcerOptions {
  chainPrefix?: string;
  run?: CommandRunner;
  /** Reads/writes sysctls; injected so tests and non-root callers can fake it. */
  sysctl?: { read(key: string): Promise<string | undefined>; write(key: string, value: string): Promise<void> };
}

const bridgeSysctl = 'net/bridge/bridge-nf-call-iptables';

export class NetworkPolicyEnforcer {
  private readonly applier: IptablesApplier;
  private readonly prefix: string;
  private bridgeChecked = false;

  constructor(private readonly options: NetworkPolicyEnforcerOptions = {}) {
    this.prefix = options.chainPrefix ?? defaultPolicyChainPrefix;
    this.applier = new IptablesApplier({
      ownsChain: (c) => c === `${this.prefix}-NWPLCY` || c.startsWith(`${this.prefix}-NWPLCY-`),
      run: options.run,
    });
  }

  async sync(snapshot: NetworkPolicySnapshot): Promise<SyncOutcome> {
    if (!this.bridgeChecked) await this.ensureBridgeNetfilter();
    const rules = computeNetworkPolicyRules({ ...snapshot, chainPrefix: this.prefix });
    return this.applier.apply(rules);
  }

  async cleanup(): Promise<void> {
    await this.applier.cleanup(networkPolicyHooks(this.prefix), ['filter']);
  }

  /** Bridged pod-to-pod packets only reach FORWARD when br_netfilter hands them to iptables. */
  async ensureBridgeNetfilter(): Promise<void> {
    const sysctl = this.options.sysctl ?? procSysctl(this.options.run ?? runCommand);
    let value = await sysctl.read(bridgeSysctl);
    if (value === undefined) {
      await (this.options.run ?? runCommand)('modprobe', ['br_netfilter']).catch(() => undefined);
      value = await sysctl.read(bridgeSysctl);
    }
    if (value === undefined) throw new Error('br_netfilter is not available: policies would not apply to bridged pod traffic');
    if (value.trim() !== '1') await sysctl.write(bridgeSysctl, '1');
    this.bridgeChecked = true;
  }
}

function procSysctl(_run: CommandRunner) {
  return {
    read: async (key: string) => fs.readFile(`/proc/sys/${key}`, 'utf8').catch(() => undefined),
    write: async (key: string, value: string) => fs.writeFile(`/proc/sys/${key}`, value),
  };
}
