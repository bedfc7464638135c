// /etc/resolv.conf and /etc/hosts for a pod, following the kubelet's dnsPolicy rules.

export interface ClusterDnsSettings {
  /** Cluster DNS server addresses (ClusterFirst). */
  clusterDNS: string[];
  clusterDomain: string;
  /** The node's own resolv.conf contents, for dnsPolicy Default and hostNetwork ClusterFirst. */
  hostResolvConf: string;
}

export interface ResolvConfig {
  servers: string[];
  searches: string[];
  options: string[];
}

function parseResolvConf(text: string): ResolvConfig {
  const config: ResolvConfig = { servers: [], searches: [], options: [] };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const [keyword, ...values] = line.split(/\s+/);
    if (keyword === 'nameserver' && values[0]) config.servers.push(values[0]);
    else if (keyword === 'search' || keyword === 'domain') config.searches = values;
    else if (keyword === 'options') config.options.push(...values);
  }
  return config;
}

/** Kubernetes merges dnsConfig options by name: a later "ndots:2" replaces "ndots:5". */
function mergeOptions(base: string[], extra: Array<{ name: string; value?: string }>): string[] {
  const byName = new Map<string, string>();
  for (const option of base) byName.set(option.split(':')[0]!, option);
  for (const option of extra) byName.set(option.name, option.value !== undefined ? `${option.name}:${option.value}` : option.name);
  return [...byName.values()];
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

export function podResolvConfig(pod: any, settings: ClusterDnsSettings): ResolvConfig {
  let policy: string = pod.spec?.dnsPolicy ?? 'ClusterFirst';
  // hostNetwork pods with ClusterFirst get the node's resolver, unless they ask for ClusterFirstWithHostNet.
  if (policy === 'ClusterFirst' && pod.spec?.hostNetwork) policy = 'Default';
  if (policy === 'ClusterFirstWithHostNet') policy = 'ClusterFirst';
  if (policy === 'ClusterFirst' && settings.clusterDNS.length === 0) policy = 'Default';
  let config: ResolvConfig;
  if (policy === 'None') {
    config = { servers: [], searches: [], options: [] };
  } else if (policy === 'Default') {
    config = parseResolvConf(settings.hostResolvConf);
  } else {
    const namespace = pod.metadata?.namespace ?? 'default';
    const domain = settings.clusterDomain;
    const host = parseResolvConf(settings.hostResolvConf);
    config = {
      servers: [...settings.clusterDNS],
      searches: [`${namespace}.svc.${domain}`, `svc.${domain}`, domain, ...host.searches],
      options: ['ndots:5'],
    };
  }
  const extra = pod.spec?.dnsConfig;
  if (extra) {
    config.servers = unique([...config.servers, ...(extra.nameservers ?? [])]);
    config.searches = unique([...config.searches, ...(extra.searches ?? [])]);
    config.options = mergeOptions(config.options, extra.options ?? []);
  }
  // glibc reads at most 3 nameservers and 32 search domains.
  config.servers = config.servers.slice(0, 3);
  config.searches = config.searches.slice(0, 32);
  return config;
}

export function formatResolvConf(config: ResolvConfig): string {
  const lines: string[] = [];
  if (config.searches.length) lines.push(`search ${config.searches.join(' ')}`);
  for (const server of config.servers) lines.push(`nameserver ${server}`);
  if (config.options.length) lines.push(`options ${config.options.join(' ')}`);
  return lines.join('\n') + '\n';
}

/** The kubelet-managed /etc/hosts: localhost entries, the pod's own name, then hostAliases. */
export function podHostsFile(pod: any, podIPs: string[], clusterDomain: string): string {
  const lines = [
    '# Kubernetes-managed hosts file.',
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'fe00::0\tip6-mcastprefix',
    'fe00::1\tip6-allnodes',
    'fe00::2\tip6-allrouters',
  ];
  const hostname = pod.spec?.hostname ?? pod.metadata.name;
  const names = pod.spec?.subdomain
    ? `${hostname}.${pod.spec.subdomain}.${pod.metadata.namespace}.svc.${clusterDomain}\t${hostname}`
    : hostname;
  for (const ip of podIPs) lines.push(`${ip}\t${names}`);
  const aliases = pod.spec?.hostAliases ?? [];
  if (aliases.length) {
    lines.push('', '# Entries added by HostAliases.');
    for (const alias of aliases) lines.push(`${alias.ip}\t${(alias.hostnames ?? []).join('\t')}`);
  }
  return lines.join('\n') + '\n';
}
