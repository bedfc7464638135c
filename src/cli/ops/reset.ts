// `navarch reset`: undo what a one-node server left on the host — its pods, bridge, service
// device, iptables chains and routes — and (with --yes) its data dir. Without --yes it only lists.
import { execFileSync } from 'node:child_process';
import { hostNetworkNames } from '../node.js';
import { routeProtocol } from '../../network/node/routes.js';

export interface HostCommand {
  /** What a user reads in the dry-run list. */
  describe: string;
  argv: string[];
}

/** Splits one iptables-save rule line into words (it double-quotes words with spaces). */
export function splitRuleWords(line: string): string[] {
  const words: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) words.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]);
  return words;
}

export interface HostNetworkState {
  /** `iptables-save -t <table>` output per table. */
  iptables: Record<'nat' | 'filter', string>;
  /** `ip -4 route show proto 176` output. */
  routes: string;
  /** Network links present (names). */
  links: string[];
}

/**
 * The commands that remove the default network's host state, in a safe order: first the jumps
 * into our chains from the built-in ones (and the egress masquerade rule), then our chains'
 * rules, then the chains, then routes and links. Pure: works on captured command output.
 */
export function planNetworkCleanup(networkName: string, state: HostNetworkState, ranges: string[] = ['10.42.0.0/16', '10.43.0.0/16']): HostCommand[] {
  const names = hostNetworkNames(networkName);
  const prefix = names.chainPrefix;
  const ours = (chain: string) => chain === prefix || chain.startsWith(`${prefix}-`);
  const plan: HostCommand[] = [];
  const flushes: HostCommand[] = [];
  const deletes: HostCommand[] = [];
  for (const table of ['nat', 'filter'] as const) {
    for (const line of state.iptables[table].split('\n')) {
      if (line.startsWith(':')) {
        const chain = line.slice(1).split(' ')[0];
        if (ours(chain)) {
          flushes.push({ describe: `iptables -t ${table} chain ${chain}`, argv: ['iptables', '-w', '-t', table, '-F', chain] });
          deletes.push({ describe: '', argv: ['iptables', '-w', '-t', table, '-X', chain] });
        }
      } else if (line.startsWith('-A ')) {
        const words = splitRuleWords(line);
        const chain = words[1];
        if (ours(chain)) continue;
        const jump = words.indexOf('-j');
        const target = jump >= 0 ? words[jump + 1] : '';
        const comment = words.indexOf('--comment');
        const isEgress = comment >= 0 && words[comment + 1] === `${prefix} pod egress`;
        if (ours(target) || isEgress) {
          plan.push({ describe: `iptables -t ${table} rule: ${line.slice(3)}`, argv: ['iptables', '-w', '-t', table, '-D', ...words.slice(1)] });
        }
      }
    }
  }
  plan.push(...flushes, ...deletes);
  // Other navarch networks (clusters, tests) use proto 176 too: only routes through our devices
  // or into our cluster/service ranges are ours.
  for (const line of state.routes.split('\n').map((l) => l.trim()).filter(Boolean)) {
    const words = line.split(/\s+/);
    const type = ['unreachable', 'blackhole', 'prohibit', 'throw'].includes(words[0]) ? words.shift()! : undefined;
    const destination = words[0];
    const dev = words.includes('dev') ? words[words.indexOf('dev') + 1] : undefined;
    const mine = (dev !== undefined && [names.bridge, names.serviceInterface].includes(dev)) || (!dev && ranges.some((r) => cidrContains(r, destination)));
    if (!mine) continue;
    plan.push({ describe: `route ${line}`, argv: ['ip', 'route', 'del', ...(type ? [type] : []), destination, 'proto', routeProtocol] });
  }
  for (const link of [names.bridge, names.serviceInterface]) {
    if (state.links.includes(link)) plan.push({ describe: `network device ${link}`, argv: ['ip', 'link', 'del', link] });
  }
  return plan;
}

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

/** Whether IPv4 `inner` (address or CIDR) lies inside CIDR `outer`. */
export function cidrContains(outer: string, inner: string): boolean {
  const [base, bitsText] = outer.split('/');
  const [address, innerBitsText] = inner.split('/');
  const bits = Number(bitsText);
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(address) || Number(innerBitsText ?? 32) < bits) return false;
  const mask = bits === 0 ? 0 : 2 ** 32 - 2 ** (32 - bits);
  return Math.floor(ipv4ToInt(address) / 2 ** (32 - bits)) * 2 ** (32 - bits) === (ipv4ToInt(base) & mask) >>> 0;
}

function output(argv: string[]): string {
  try {
    return execFileSync(argv[0], argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return '';
  }
}

/** Reads the host's current state with iptables-save and ip (empty where a tool is missing or not permitted). */
export function readHostNetworkState(): HostNetworkState {
  const links = (JSON.parse(output(['ip', '-j', 'link', 'show']) || '[]') as { ifname: string }[]).map((l) => l.ifname);
  return {
    iptables: { nat: output(['iptables-save', '-t', 'nat']), filter: output(['iptables-save', '-t', 'filter']) },
    routes: output(['ip', '-4', 'route', 'show', 'proto', routeProtocol]),
    links,
  };
}

/** Runs each command; returns the ones that failed (a rule may already be gone). */
export function runHostCommands(plan: HostCommand[]): { command: HostCommand; error: string }[] {
  const failures: { command: HostCommand; error: string }[] = [];
  for (const command of plan) {
    try {
      execFileSync(command.argv[0], command.argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (e) {
      failures.push({ command, error: String((e as { stderr?: Buffer }).stderr ?? (e as Error).message).trim() });
    }
  }
  return failures;
}

/** The dry-run text: one line per thing `reset --yes` removes. */
export function describeReset(dataDir: string, serverPid: number | undefined, hasPods: boolean, plan: HostCommand[]): string {
  const lines = [
    serverPid ? `stop navarch server (pid ${serverPid})` : undefined,
    hasPods ? `stop and remove the pods the node left (${dataDir}/node/oci)` : undefined,
    ...plan.filter((c) => c.describe).map((c) => `remove ${c.describe}`),
    `delete data dir ${dataDir} (datastore, certificates, token, images, volumes)`,
  ].filter((l): l is string => !!l);
  return lines.map((l) => `  - ${l}`).join('\n');
}
