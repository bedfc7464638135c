// A CNI client per the CNI specification 1.0: runs the plugins of a network configuration list
// with the CNI_* environment, chains each ADD result into the next plugin as prevResult, runs DEL
// in reverse order with the cached ADD result, and reports plugin errors with their code and msg.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { runCommand, type CommandRunner } from '../exec.js';
import type { Node } from '../types.js';

export interface PluginConf {
  type: string;
  name?: string;
  cniVersion?: string;
  capabilities?: Record<string, boolean>;
  [key: string]: unknown;
}

export interface NetworkConfigList {
  cniVersion: string;
  name: string;
  disableCheck?: boolean;
  plugins: PluginConf[];
}

export interface PortMapping {
  hostPort: number;
  containerPort: number;
  protocol?: 'tcp' | 'udp' | 'sctp';
  hostIP?: string;
}

export interface RuntimeConf {
  containerId: string;
  /** Path of the network namespace, e.g. /var/run/netns/<name> or /proc/<pid>/ns/net. */
  netns: string;
  ifName: string;
  /** CNI_ARGS, e.g. K8S_POD_NAMESPACE, K8S_POD_NAME, K8S_POD_INFRA_CONTAINER_ID, K8S_POD_UID. */
  args?: Record<string, string>;
  /** Capability arguments handed to plugins that declare them, as runtimeConfig. */
  capabilityArgs?: { portMappings?: PortMapping[]; [key: string]: unknown };
}

export interface CniInterface {
  name: string;
  mac?: string;
  sandbox?: string;
}

export interface CniIPConfig {
  address: string;
  gateway?: string;
  interface?: number;
}

export interface CniResult {
  cniVersion: string;
  interfaces?: CniInterface[];
  ips?: CniIPConfig[];
  routes?: { dst: string; gw?: string }[];
  dns?: { nameservers?: string[]; domain?: string; search?: string[]; options?: string[] };
  [key: string]: unknown;
}

/** A plugin's error per the spec's error result: well-known codes 1-11, 100+ plugin specific. */
export class CniError extends Error {
  constructor(
    readonly plugin: string,
    readonly command: string,
    readonly code: number,
    readonly msg: string,
    readonly details?: string,
  ) {
    super(`CNI plugin ${plugin} ${command} failed (code ${code}): ${msg}${details ? `; ${details}` : ''}`);
    this.name = 'CniError';
  }
}

/** Where ADD results are kept for DEL and CHECK (the spec requires the runtime to remember them). */
export interface ResultCache {
  get(network: string, containerId: string, ifName: string): Promise<CniResult | undefined>;
  set(network: string, containerId: string, ifName: string, result: CniResult): Promise<void>;
  delete(network: string, containerId: string, ifName: string): Promise<void>;
}

export function fileResultCache(dir: string): ResultCache {
  const file = (n: string, c: string, i: string) => path.join(dir, `${n}-${c}-${i}.json`.replace(/[^A-Za-z0-9._-]/g, '_'));
  return {
    async get(n, c, i) {
      try {
        return JSON.parse(await fs.readFile(file(n, c, i), 'utf8')) as CniResult;
      } catch {
        return undefined;
      }
    },
    async set(n, c, i, result) {
      await fs.mkdir(dir, { recursive: true });
      const f = file(n, c, i);
      await fs.writeFile(`${f}.tmp`, JSON.stringify(result));
      await fs.rename(`${f}.tmp`, f);
    },
    async delete(n, c, i) {
      await fs.rm(file(n, c, i), { force: true });
    },
  };
}

export async function loadConfList(file: string): Promise<NetworkConfigList> {
  const parsed = JSON.parse(await fs.readFile(file, 'utf8')) as Partial<NetworkConfigList> & PluginConf;
  // A single-plugin .conf file is accepted as a list of one, as libcni does.
  const list: Partial<NetworkConfigList> = Array.isArray(parsed.plugins) ? parsed : { cniVersion: parsed.cniVersion, name: parsed.name, plugins: [parsed] };
  if (!list.name) throw new Error(`${file}: network configuration has no name`);
  if (!list.cniVersion) throw new Error(`${file}: network configuration has no cniVersion`);
  if (!list.plugins?.length) throw new Error(`${file}: network configuration has no plugins`);
  for (const p of list.plugins) if (!p.type) throw new Error(`${file}: a plugin has no type`);
  return list as NetworkConfigList;
}

/** The first *.conflist / *.conf in lexical order, as kubelets pick their default network. */
export async function loadDefaultConfList(dir: string): Promise<NetworkConfigList | undefined> {
  const names = (await fs.readdir(dir).catch(() => [] as string[])).filter((n) => /\.(conflist|conf|json)$/.test(n)).sort();
  return names[0] ? loadConfList(path.join(dir, names[0])) : undefined;
}

export interface CniClientOptions {
  pluginDirs: string[];
  cache: ResultCache;
  run?: CommandRunner;
  timeoutMs?: number;
}

export class CniClient {
  private readonly run: CommandRunner;

  constructor(private readonly options: CniClientOptions) {
    this.run = options.run ?? runCommand;
  }

  async add(network: NetworkConfigList, rt: RuntimeConf): Promise<CniResult> {
    let prev: CniResult | undefined;
    for (const plugin of network.plugins) {
      prev = (await this.exec('ADD', network, plugin, rt, prev)) as CniResult;
    }
    const result = prev ?? { cniVersion: network.cniVersion };
    await this.options.cache.set(network.name, rt.containerId, rt.ifName, result);
    return result;
  }

  /** DEL must succeed when things are already gone, so a missing cache entry is not an error. */
  async del(network: NetworkConfigList, rt: RuntimeConf): Promise<void> {
    const cached = await this.options.cache.get(network.name, rt.containerId, rt.ifName);
    for (const plugin of [...network.plugins].reverse()) {
      await this.exec('DEL', network, plugin, rt, cached);
    }
    await this.options.cache.delete(network.name, rt.containerId, rt.ifName);
  }

  async check(network: NetworkConfigList, rt: RuntimeConf): Promise<void> {
    if (network.disableCheck) return;
    const cached = await this.options.cache.get(network.name, rt.containerId, rt.ifName);
    if (!cached) throw new Error(`no cached ADD result for ${network.name}/${rt.containerId}/${rt.ifName}`);
    for (const plugin of network.plugins) await this.exec('CHECK', network, plugin, rt, cached);
  }

  async version(pluginType: string): Promise<{ cniVersion: string; supportedVersions: string[] }> {
    const out = await this.exec('VERSION', { cniVersion: '1.0.0', name: '', plugins: [] }, { type: pluginType }, undefined, undefined);
    return out as { cniVersion: string; supportedVersions: string[] };
  }

  private async findPlugin(type: string): Promise<string> {
    if (type.includes('/')) throw new Error(`invalid CNI plugin type ${JSON.stringify(type)}`);
    for (const dir of this.options.pluginDirs) {
      const candidate = path.join(dir, type);
      try {
        await fs.access(candidate, fs.constants.X_OK);
        return candidate;
      } catch {
        // try the next directory
      }
    }
    throw new CniError(type, 'find', 0, `failed to find plugin "${type}" in path [${this.options.pluginDirs.join(' ')}]`);
  }

  private async exec(
    command: 'ADD' | 'DEL' | 'CHECK' | 'VERSION',
    network: NetworkConfigList,
    plugin: PluginConf,
    rt: RuntimeConf | undefined,
    prevResult: CniResult | undefined,
  ): Promise<unknown> {
    const binary = await this.findPlugin(plugin.type);
    const config: Record<string, unknown> = { ...plugin, cniVersion: network.cniVersion, name: network.name };
    delete config.capabilities;
    if (prevResult && command !== 'VERSION') config.prevResult = prevResult;
    // Only capabilities the plugin declares are passed, as runtimeConfig (spec: "Deriving runtimeConfig").
    const runtimeConfig: Record<string, unknown> = {};
    for (const [cap, enabled] of Object.entries(plugin.capabilities ?? {})) {
      const value = rt?.capabilityArgs?.[cap];
      if (enabled && value !== undefined) runtimeConfig[cap] = value;
    }
    if (Object.keys(runtimeConfig).length > 0) config.runtimeConfig = runtimeConfig;

    const env: Record<string, string | undefined> = {
      PATH: process.env.PATH,
      CNI_COMMAND: command,
      CNI_PATH: this.options.pluginDirs.join(':'),
    };
    if (rt) {
      env.CNI_CONTAINERID = rt.containerId;
      env.CNI_NETNS = rt.netns;
      env.CNI_IFNAME = rt.ifName;
      const args = Object.entries(rt.args ?? {});
      if (args.length > 0) env.CNI_ARGS = ['IgnoreUnknown=1', ...args.map(([k, v]) => `${k}=${v}`)].join(';');
    }
    const r = await this.run(binary, [], { stdin: JSON.stringify(config), env, timeoutMs: this.options.timeoutMs ?? 60_000 });
    const out = r.stdout.trim();
    if (r.code !== 0) {
      let parsed: { code?: number; msg?: string; details?: string } = {};
      try {
        parsed = JSON.parse(out);
      } catch {
        parsed = { msg: (r.stderr || out).trim() || `exit status ${r.code}` };
      }
      throw new CniError(plugin.type, command, parsed.code ?? 999, parsed.msg ?? 'unknown error', parsed.details);
    }
    if (command === 'DEL' || command === 'CHECK') return undefined;
    if (!out) return prevResult; // a plugin with nothing to add passes the previous result on
    return JSON.parse(out);
  }
}

export interface DefaultNetworkOptions {
  /** Let the bridge plugin masquerade everything leaving the pod subnet (default false; see node networking). */
  ipMasq?: boolean;
  podCIDR: string;
  bridge?: string;
  name?: string;
  /** host-local's state directory (its default is /var/lib/cni/networks). */
  ipamDataDir?: string;
  mtu?: number;
}

/** navarch's default pod network: a Linux bridge with masquerade, host-local IPAM, and portmap. */
export function defaultConfList(options: DefaultNetworkOptions): NetworkConfigList {
  return {
    cniVersion: '1.0.0',
    name: options.name ?? 'navarch',
    plugins: [
      {
        type: 'bridge',
        bridge: options.bridge ?? 'navarch0',
        isGateway: true,
        // Masquerading is the node's job (only for traffic leaving the cluster CIDR): pod-to-pod
        // traffic across nodes must keep its source address for NetworkPolicy to match it.
        ipMasq: options.ipMasq ?? false,
        hairpinMode: true,
        ...(options.mtu ? { mtu: options.mtu } : {}),
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: options.podCIDR }]],
          routes: [{ dst: '0.0.0.0/0' }],
          ...(options.ipamDataDir ? { dataDir: options.ipamDataDir } : {}),
        },
      },
      { type: 'portmap', capabilities: { portMappings: true }, snat: true },
    ],
  };
}

/** The loopback plugin, run separately on `lo` so every pod has a working 127.0.0.1. */
export function loopbackConfList(): NetworkConfigList {
  return { cniVersion: '1.0.0', name: 'navarch-loopback', plugins: [{ type: 'loopback' }] };
}

export async function writeDefaultConfList(dir: string, options: DefaultNetworkOptions): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  const file = path.join(dir, '10-navarch.conflist');
  await fs.writeFile(`${file}.tmp`, JSON.stringify(defaultConfList(options), null, 2));
  await fs.rename(`${file}.tmp`, file);
  return file;
}

/** The pod's address from a result: the first IP on the container interface (sandbox set). */
export function podIPFromResult(result: CniResult): string | undefined {
  const sandboxIfaces = new Set((result.interfaces ?? []).map((i, idx) => (i.sandbox ? idx : -1)).filter((i) => i >= 0));
  const ip = (result.ips ?? []).find((c) => c.interface === undefined || sandboxIfaces.has(c.interface)) ?? result.ips?.[0];
  return ip?.address.split('/')[0];
}

/** The IPv4 pod range the node controller gave this node (spec.podCIDRs wins over spec.podCIDR). */
export function podCIDRFromNode(node: Node): string | undefined {
  const all = node.spec?.podCIDRs?.length ? node.spec.podCIDRs : node.spec?.podCIDR ? [node.spec.podCIDR] : [];
  return all.find((c) => !c.includes(':'));
}
