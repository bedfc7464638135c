// Container environment as the kubelet computes it: service links, envFrom, env (with
// $(VAR) references to earlier variables), and valueFrom sources. Missing non-optional
// sources fail the container start with CreateContainerConfigError, as in Kubernetes.

export interface ObjectSource {
  configMap(namespace: string, name: string): Promise<any | undefined>;
  secret(namespace: string, name: string): Promise<any | undefined>;
  services(namespace: string): Promise<any[]>;
}

export class ContainerConfigError extends Error {
  readonly reason = 'CreateContainerConfigError';
}

/**
 * Kubernetes' $(VAR) expansion: $$ escapes, unknown references stay as written.
 * Used for env values, command and args.
 */
export function expandVariables(input: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  for (let i = 0; i < input.length; i++) {
    const c = input[i];
    if (c !== '$' || i + 1 >= input.length) {
      out += c;
      continue;
    }
    const next = input[i + 1];
    if (next === '$') {
      out += '$';
      i++;
    } else if (next === '(') {
      const close = input.indexOf(')', i + 2);
      if (close < 0) {
        out += input.slice(i);
        break;
      }
      const name = input.slice(i + 2, close);
      const value = lookup(name);
      out += value ?? `$(${name})`;
      i = close;
    } else {
      out += c;
    }
  }
  return out;
}

function serviceEnvName(name: string): string {
  return name.toUpperCase().replace(/-/g, '_');
}

/** Docker-link style variables for one service with a cluster IP (kubelet's envvars.FromServices). */
export function serviceLinkVariables(service: any): Record<string, string> {
  const ip = service.spec?.clusterIP;
  if (!ip || ip === 'None') return {};
  const ports: any[] = service.spec?.ports ?? [];
  if (ports.length === 0) return {};
  const prefix = serviceEnvName(service.metadata.name);
  const out: Record<string, string> = {};
  out[`${prefix}_SERVICE_HOST`] = ip;
  out[`${prefix}_SERVICE_PORT`] = String(ports[0].port);
  for (const port of ports) {
    if (port.name) out[`${prefix}_SERVICE_PORT_${serviceEnvName(port.name)}`] = String(port.port);
  }
  const first = ports[0];
  const proto = (first.protocol ?? 'TCP').toLowerCase();
  out[`${prefix}_PORT`] = `${proto}://${ip}:${first.port}`;
  for (const port of ports) {
    const protocol = (port.protocol ?? 'TCP');
    const key = `${prefix}_PORT_${port.port}_${protocol.toUpperCase()}`;
    out[key] = `${protocol.toLowerCase()}://${ip}:${port.port}`;
    out[`${key}_PROTO`] = protocol.toLowerCase();
    out[`${key}_PORT`] = String(port.port);
    out[`${key}_ADDR`] = ip;
  }
  return out;
}

/** Pod fields a fieldRef may name (the downward API). */
export function podFieldValue(pod: any, fieldPath: string): string | undefined {
  const annotation = /^metadata\.annotations\['(.+)'\]$/.exec(fieldPath);
  if (annotation) return pod.metadata?.annotations?.[annotation[1]!] ?? '';
  const label = /^metadata\.labels\['(.+)'\]$/.exec(fieldPath);
  if (label) return pod.metadata?.labels?.[label[1]!] ?? '';
  switch (fieldPath) {
    case 'metadata.name': return pod.metadata?.name;
    case 'metadata.namespace': return pod.metadata?.namespace;
    case 'metadata.uid': return pod.metadata?.uid;
    case 'metadata.labels': return formatMap(pod.metadata?.labels);
    case 'metadata.annotations': return formatMap(pod.metadata?.annotations);
    case 'spec.nodeName': return pod.spec?.nodeName;
    case 'spec.serviceAccountName': return pod.spec?.serviceAccountName;
    case 'status.hostIP': return pod.status?.hostIP;
    case 'status.hostIPs': return (pod.status?.hostIPs ?? []).map((h: any) => h.ip).join(',');
    case 'status.podIP': return pod.status?.podIP;
    case 'status.podIPs': return (pod.status?.podIPs ?? []).map((p: any) => p.ip).join(',');
    default: return undefined;
  }
}

/** The downward API's key="value" lines, sorted, as in a downwardAPI volume file. */
export function formatMap(map: Record<string, string> | undefined): string {
  return Object.keys(map ?? {}).sort().map((k) => `${k}=${JSON.stringify(map![k])}`).join('\n');
}

const cpuUnits: Record<string, number> = { '': 1, m: 1e-3 };
const memoryUnits: Record<string, number> = {
  '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60, m: 1e-3,
};

/** A resource.Quantity as a plain number (cores for cpu, bytes for memory). */
export function parseQuantity(q: string | number | undefined): number | undefined {
  if (q === undefined || q === null || q === '') return undefined;
  if (typeof q === 'number') return q;
  const m = /^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)([a-zA-Z]*)$/.exec(q.trim());
  if (!m) return undefined;
  const unit = memoryUnits[m[2]!] ?? cpuUnits[m[2]!];
  return unit === undefined ? undefined : Number(m[1]) * unit;
}

/** resourceFieldRef: limits default to node allocatable, values rounded up to the divisor, as Kubernetes does. */
export function resourceFieldValue(container: any, ref: { resource: string; divisor?: string }, allocatable: Record<string, string>): string {
  const [kind, name] = ref.resource.split('.') as [string, string];
  const fromSpec = container?.resources?.[kind]?.[name];
  let value = parseQuantity(fromSpec);
  if (value === undefined && kind === 'limits') value = parseQuantity(allocatable[name]);
  if (value === undefined) value = 0;
  const divisor = parseQuantity(ref.divisor ?? (name === 'cpu' ? '1' : '1')) || 1;
  return String(Math.ceil(value / divisor));
}

export interface EnvironmentInput {
  pod: any;
  container: any;
  source: ObjectSource;
  /** Node allocatable, for resourceFieldRef limits left unset. */
  allocatable: Record<string, string>;
  /** Values of the API server's "kubernetes" service in default (KUBERNETES_SERVICE_HOST…), always injected. */
  masterServiceVariables?: Record<string, string>;
}

/** The container's environment, in Kubernetes' precedence order: service links < envFrom < env. */
export async function containerEnvironment(input: EnvironmentInput): Promise<Array<{ key: string; value: string }>> {
  const { pod, container, source } = input;
  const namespace = pod.metadata.namespace;
  const result = new Map<string, string>();
  if (pod.spec?.enableServiceLinks !== false) {
    for (const service of await source.services(namespace)) {
      for (const [k, v] of Object.entries(serviceLinkVariables(service))) result.set(k, v);
    }
  }
  for (const [k, v] of Object.entries(input.masterServiceVariables ?? {})) result.set(k, v);

  for (const from of container.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    if (from.configMapRef) {
      const cm = await source.configMap(namespace, from.configMapRef.name);
      if (!cm) {
        if (from.configMapRef.optional) continue;
        throw new ContainerConfigError(`configmap "${from.configMapRef.name}" not found`);
      }
      for (const [k, v] of Object.entries<string>(cm.data ?? {})) result.set(prefix + k, v);
    } else if (from.secretRef) {
      const secret = await source.secret(namespace, from.secretRef.name);
      if (!secret) {
        if (from.secretRef.optional) continue;
        throw new ContainerConfigError(`secret "${from.secretRef.name}" not found`);
      }
      for (const [k, v] of Object.entries<string>(secret.data ?? {})) result.set(prefix + k, Buffer.from(v, 'base64').toString('utf8'));
    }
  }

  // env entries may reference earlier entries (and envFrom/service variables) with $(NAME).
  const lookup = (name: string) => result.get(name);
  for (const env of container.env ?? []) {
    if (env.valueFrom === undefined) {
      result.set(env.name, expandVariables(env.value ?? '', lookup));
      continue;
    }
    const from = env.valueFrom;
    if (from.fieldRef) {
      result.set(env.name, podFieldValue(pod, from.fieldRef.fieldPath) ?? '');
    } else if (from.resourceFieldRef) {
      const target = from.resourceFieldRef.containerName
        ? [...(pod.spec.containers ?? []), ...(pod.spec.initContainers ?? [])].find((c: any) => c.name === from.resourceFieldRef.containerName)
        : container;
      result.set(env.name, resourceFieldValue(target, from.resourceFieldRef, input.allocatable));
    } else if (from.configMapKeyRef) {
      const ref = from.configMapKeyRef;
      const cm = await source.configMap(namespace, ref.name);
      const value = cm?.data?.[ref.key];
      if (value === undefined) {
        if (ref.optional) continue;
        throw new ContainerConfigError(cm ? `couldn't find key ${ref.key} in ConfigMap ${namespace}/${ref.name}` : `configmap "${ref.name}" not found`);
      }
      result.set(env.name, value);
    } else if (from.secretKeyRef) {
      const ref = from.secretKeyRef;
      const secret = await source.secret(namespace, ref.name);
      const value = secret?.data?.[ref.key];
      if (value === undefined) {
        if (ref.optional) continue;
        throw new ContainerConfigError(secret ? `couldn't find key ${ref.key} in Secret ${namespace}/${ref.name}` : `secret "${ref.name}" not found`);
      }
      result.set(env.name, Buffer.from(value, 'base64').toString('utf8'));
    }
  }
  return [...result].map(([key, value]) => ({ key, value }));
}
