// Virtual addresses (the service CIDR, and pod CIDRs no node owns) must never escape through the
// default route: a ClusterIP without rules would otherwise be sent to the upstream router. A
// blackhole route makes such packets fail locally; more specific routes (pod bridges) still win.
import { runCommand, type CommandRunner } from '../exec.js';

export interface BlackholeRoutes {
  /** Routes currently ensured, as "type cidr". */
  routes(): string[];
  cleanup(): Promise<void>;
}

export async function ensureBlackholeRoutes(
  serviceCIDR: string,
  unownedClusterCIDRs: string[] = [],
  options: { run?: CommandRunner; type?: 'blackhole' | 'unreachable'; table?: string } = {},
): Promise<BlackholeRoutes> {
  const run = options.run ?? runCommand;
  const type = options.type ?? 'unreachable'; // unreachable answers with ICMP, so clients fail fast
  const table = options.table ? ['table', options.table] : [];
  const wanted = [serviceCIDR, ...unownedClusterCIDRs].filter(Boolean);
  const made: string[] = [];
  for (const cidr of wanted) {
    const family = cidr.includes(':') ? '-6' : '-4';
    // `replace` is idempotent: a level-triggered caller may ensure the same routes every sync.
    const r = await run('ip', [family, 'route', 'replace', type, cidr, ...table]);
    if (r.code !== 0) throw new Error(`ip route replace ${type} ${cidr}: ${r.stderr.trim()}`);
    made.push(cidr);
  }
  return {
    routes: () => made.map((c) => `${type} ${c}`),
    cleanup: async () => {
      for (const cidr of made) {
        const family = cidr.includes(':') ? '-6' : '-4';
        await run('ip', [family, 'route', 'del', type, cidr, ...table]);
      }
      made.length = 0;
    },
  };
}
