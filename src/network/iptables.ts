// Applies a rule set owned by one component (the service proxy, the policy enforcer) with
// `iptables-restore --noflush`: one atomic transaction per sync, only when the text changed, and
// never touching chains it does not own. Jumps from built-in chains ("hooks") are kept outside the
// restore text because --noflush would append a duplicate each time.
import { runCommand, type CommandRunner } from './exec.js';

export type Table = 'filter' | 'nat' | 'mangle' | 'raw';

export interface IptablesHook {
  table: Table;
  chain: string;
  rule: string[];
  /** 'insert' puts the jump first (default); 'append' puts it last. */
  position?: 'insert' | 'append';
}

export interface IptablesRuleSet {
  text: string;
  chains: Partial<Record<Table, string[]>>;
  hooks: IptablesHook[];
}

export interface IptablesApplierOptions {
  /** Which chains are ours; used to find leftovers from a previous run. Components sharing a
   * prefix (the proxy's NAVARCH-SVC-…, the policy enforcer's NAVARCH-NWPLCY-…) must not claim
   * each other's chains. */
  ownsChain: (chain: string) => boolean;
  run?: CommandRunner;
  iptablesRestore?: string;
  iptables?: string;
  iptablesSave?: string;
  /** How often an unchanged rule set still re-checks its hooks (someone may flush built-ins). */
  hookRecheckMs?: number;
  now?: () => number;
}

export interface SyncOutcome {
  applied: boolean;
  removedChains: number;
}

export class IptablesApplier {
  private readonly run: CommandRunner;
  private lastText: string | undefined;
  private owned: Partial<Record<Table, Set<string>>> | undefined;
  private hooksCheckedAt = -Infinity;
  private lastHooks: IptablesHook[] = [];

  constructor(private readonly options: IptablesApplierOptions) {
    this.run = options.run ?? runCommand;
  }

  async apply(rules: IptablesRuleSet): Promise<SyncOutcome> {
    const now = (this.options.now ?? Date.now)();
    const recheck = this.options.hookRecheckMs ?? 60_000;
    if (rules.text === this.lastText && now - this.hooksCheckedAt < recheck) return { applied: false, removedChains: 0 };

    let removed = 0;
    if (rules.text !== this.lastText) {
      const owned = this.owned ?? (await this.discoverOwnedChains(Object.keys(rules.chains) as Table[]));
      const stale: Partial<Record<Table, string[]>> = {};
      for (const [table, set] of Object.entries(owned) as [Table, Set<string>][]) {
        const want = new Set(rules.chains[table] ?? []);
        stale[table] = [...set].filter((c) => !want.has(c));
        removed += stale[table]!.length;
      }
      await this.restore(withChainRemoval(rules.text, stale));
      this.owned = {};
      for (const [table, list] of Object.entries(rules.chains) as [Table, string[]][]) this.owned[table] = new Set(list);
      this.lastText = rules.text;
    }
    for (const hook of rules.hooks) await this.ensureHook(hook);
    this.lastHooks = rules.hooks;
    this.hooksCheckedAt = now;
    return { applied: true, removedChains: removed };
  }

  /** Removes the hooks and every chain with our prefix, including leftovers from earlier runs. */
  async cleanup(hooks: IptablesHook[] = this.lastHooks, tables: Table[] = ['filter', 'nat']): Promise<void> {
    for (const hook of hooks) {
      for (;;) {
        const r = await this.run(this.options.iptables ?? 'iptables', ['-w', '-t', hook.table, '-D', hook.chain, ...hook.rule]);
        if (r.code !== 0) break; // gone (or never there); duplicates are removed one per pass
      }
    }
    const owned = await this.discoverOwnedChains(tables);
    const text = tables
      .filter((t) => (owned[t]?.size ?? 0) > 0)
      .map((t) => [`*${t}`, ...[...owned[t]!].map((c) => `:${c} - [0:0]`), ...[...owned[t]!].map((c) => `-X ${c}`), 'COMMIT'].join('\n'))
      .join('\n');
    if (text) await this.restore(text + '\n');
    this.owned = undefined;
    this.lastText = undefined;
    this.hooksCheckedAt = -Infinity;
  }

  private async restore(text: string): Promise<void> {
    const r = await this.run(this.options.iptablesRestore ?? 'iptables-restore', ['-w', '--noflush'], { stdin: text });
    if (r.code !== 0) {
      throw new Error(`iptables-restore failed (exit ${r.code}): ${r.stderr.trim()}`);
    }
  }

  private async ensureHook(hook: IptablesHook): Promise<void> {
    const bin = this.options.iptables ?? 'iptables';
    const check = await this.run(bin, ['-w', '-t', hook.table, '-C', hook.chain, ...hook.rule]);
    if (check.code === 0) return;
    const verb = hook.position === 'append' ? ['-A', hook.chain] : ['-I', hook.chain, '1'];
    const r = await this.run(bin, ['-w', '-t', hook.table, ...verb, ...hook.rule]);
    if (r.code !== 0) throw new Error(`iptables ${verb.join(' ')} failed: ${r.stderr.trim()}`);
  }

  private async discoverOwnedChains(tables: Table[]): Promise<Partial<Record<Table, Set<string>>>> {
    const out: Partial<Record<Table, Set<string>>> = {};
    for (const table of tables) {
      const r = await this.run(this.options.iptablesSave ?? 'iptables-save', ['-t', table]);
      const set = new Set<string>();
      if (r.code === 0) {
        for (const line of r.stdout.split('\n')) {
          const m = /^:(\S+)/.exec(line);
          if (m && this.options.ownsChain(m[1]!)) set.add(m[1]!);
        }
      }
      out[table] = set;
    }
    return out;
  }
}

/** Adds, per table, a flush (declaration) and `-X` for chains that are no longer wanted. */
export function withChainRemoval(text: string, stale: Partial<Record<Table, string[]>>): string {
  let out = text;
  for (const [table, chains] of Object.entries(stale) as [Table, string[]][]) {
    if (chains.length === 0) continue;
    const header = `*${table}\n`;
    const start = out.indexOf(header);
    const declare = chains.map((c) => `:${c} - [0:0]\n`).join('');
    const remove = chains.map((c) => `-X ${c}\n`).join('');
    if (start < 0) {
      out += `${header}${declare}${remove}COMMIT\n`;
      continue;
    }
    const commit = out.indexOf('COMMIT\n', start);
    out = out.slice(0, start + header.length) + declare + out.slice(start + header.length, commit) + remove + out.slice(commit);
  }
  return out;
}
