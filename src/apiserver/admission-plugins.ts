// The built-in admission plugins, in Kubernetes' order where they overlap:
// ServiceAccount, DefaultTolerationSeconds, Priority, and Service address allocation
// (ClusterIP from the service CIDR, NodePorts from 30000-32767).
import type { KubeObject } from '../api/types.js';
import type { AdmissionAttributes, AdmissionPlugin } from './admission.js';
import { ApiError, invalid } from './errors.js';
import type { ResourceRegistry } from './registry.js';
import type { ResourceStore } from './resource-store.js';
import { resourceQuotaAdmission } from '../controllers/resourcequota/admission.js';
import { runtimeClassAdmission } from './runtime-class-admission.js';

export interface AdmissionConfig {
  resources: () => ResourceStore;
  registry: () => ResourceRegistry;
  /** Service CIDR, /16 or smaller IPv4 (default 10.43.0.0/16). */
  serviceCidr?: string;
  nodePortRange?: [number, number];
  random?: () => number;
}

const systemPriorityClasses: Record<string, number> = { 'system-node-critical': 2000001000, 'system-cluster-critical': 2000000000 };

export function defaultAdmission(config: AdmissionConfig): AdmissionPlugin[] {
  return [serviceAccountAdmission(), defaultTolerationSeconds(), priorityAdmission(config), runtimeClassAdmission(config), serviceAddressAllocation(config), certificateRequester(), defaultIngressClass(config), resourceQuotaAdmission({ resources: config.resources, registry: config.registry })];
}

/** A CertificateSigningRequest records who asked (spec.username/groups/uid/extra): signers and approvers trust only that. */
export function certificateRequester(): AdmissionPlugin {
  return {
    name: 'CertificateRequester',
    admit(a) {
      if (a.operation !== 'CREATE' || a.resource.groupKind !== 'CertificateSigningRequest.certificates.k8s.io' || !a.object) return;
      const spec = a.object.spec ?? (a.object.spec = {});
      spec.username = a.user.username;
      spec.groups = a.user.groups;
      if (a.user.uid) spec.uid = a.user.uid;
      else delete spec.uid;
      if (a.user.extra) spec.extra = a.user.extra;
      else delete spec.extra;
      a.object.status = {};
    },
  };
}

function isPodCreate(a: AdmissionAttributes): boolean {
  return a.operation === 'CREATE' && a.resource.groupKind === 'Pod' && !a.subresource && !!a.object;
}

/** Pods run as the namespace's "default" service account unless told otherwise, with its API token projected in. */
export function serviceAccountAdmission(): AdmissionPlugin {
  return {
    name: 'ServiceAccount',
    admit(a) {
      if (!isPodCreate(a)) return;
      const spec = a.object!.spec ?? (a.object!.spec = {});
      // Mirror pods (static pods) get no service account.
      if (a.object!.metadata.annotations?.['kubernetes.io/config.mirror']) return;
      spec.serviceAccountName ??= spec.serviceAccount ?? 'default';
      spec.serviceAccount = spec.serviceAccountName;
      if (spec.automountServiceAccountToken === false) return;
      const volumes: KubeObject[] = spec.volumes ?? [];
      if (volumes.some((v) => v.name?.startsWith('kube-api-access-'))) return;
      const name = `kube-api-access-${randomSuffix()}`;
      volumes.push({
        name,
        projected: {
          defaultMode: 420,
          sources: [
            { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
            { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
            { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
          ],
        },
      } as unknown as KubeObject);
      spec.volumes = volumes;
      for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
        const mounts = c.volumeMounts ?? [];
        if (mounts.some((m: { mountPath: string }) => m.mountPath === '/var/run/secrets/kubernetes.io/serviceaccount')) continue;
        mounts.push({ name, readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' });
        c.volumeMounts = mounts;
      }
    },
  };
}

/** Pods tolerate not-ready/unreachable nodes for 300 s before eviction, as Kubernetes adds by default. */
export function defaultTolerationSeconds(seconds = 300): AdmissionPlugin {
  return {
    name: 'DefaultTolerationSeconds',
    admit(a) {
      if (!isPodCreate(a)) return;
      const spec = a.object!.spec ?? (a.object!.spec = {});
      const tolerations: KubeObject[] = spec.tolerations ?? [];
      for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
        const covered = tolerations.some((t) => (t.operator === 'Exists' && !t.key) || (t.key === key && (!t.effect || t.effect === 'NoExecute')));
        if (!covered) tolerations.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: seconds } as unknown as KubeObject);
      }
      spec.tolerations = tolerations;
    },
  };
}

/** priorityClassName → priority (and preemptionPolicy), refusing unknown classes. */
export function priorityAdmission(config: AdmissionConfig): AdmissionPlugin {
  return {
    name: 'Priority',
    async admit(a) {
      if (!isPodCreate(a)) return;
      const spec = a.object!.spec ?? (a.object!.spec = {});
      const className: string | undefined = spec.priorityClassName;
      const classes = config.registry().lookup('scheduling.k8s.io', 'v1', 'priorityclasses');
      let priority = 0;
      let preemptionPolicy = 'PreemptLowerPriority';
      if (className && systemPriorityClasses[className] !== undefined) {
        priority = systemPriorityClasses[className];
      } else if (classes) {
        const { items } = await config.resources().list(classes, '', {});
        if (className) {
          const pc = items.find((c) => c.metadata.name === className);
          if (!pc) throw new ApiError(403, 'Forbidden', `pods "${a.object!.metadata.name ?? ''}" is forbidden: no PriorityClass with name ${className} was found`);
          priority = pc.value ?? 0;
          preemptionPolicy = pc.preemptionPolicy ?? preemptionPolicy;
        } else {
          const globalDefault = items.find((c) => c.globalDefault);
          if (globalDefault) {
            spec.priorityClassName = globalDefault.metadata.name;
            priority = globalDefault.value ?? 0;
            preemptionPolicy = globalDefault.preemptionPolicy ?? preemptionPolicy;
          }
        }
      }
      if (spec.priority !== undefined && spec.priority !== priority) {
        throw new ApiError(403, 'Forbidden', `pods "${a.object!.metadata.name ?? ''}" is forbidden: the integer value of priority (${spec.priority}) must not be provided in pod spec; priority admission controller computed ${priority} from the given PriorityClass name`);
      }
      spec.priority = priority;
      spec.preemptionPolicy ??= preemptionPolicy;
    },
  };
}

function ipToNumber(ip: string): number {
  return ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}
function numberToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
}

/**
 * Allocates spec.clusterIP(s) and node ports on Service create (and on type changes),
 * refusing addresses or ports another Service holds, with Kubernetes' messages.
 */
export function serviceAddressAllocation(config: AdmissionConfig): AdmissionPlugin {
  const [base, bits] = (config.serviceCidr ?? '10.43.0.0/16').split('/');
  const first = ipToNumber(base);
  const size = 2 ** (32 - Number(bits));
  const [portMin, portMax] = config.nodePortRange ?? [30000, 32767];
  const random = config.random ?? Math.random;
  return {
    name: 'ServiceAddressAllocation',
    async admit(a) {
      if (a.resource.groupKind !== 'Service' || a.subresource || !a.object || (a.operation !== 'CREATE' && a.operation !== 'UPDATE')) return;
      const svc = a.object;
      const spec = svc.spec ?? (svc.spec = {});
      const type = spec.type ?? 'ClusterIP';
      const { items } = await config.resources().list(a.resource, '', {});
      const others = items.filter((s) => !(s.metadata.namespace === svc.metadata.namespace && s.metadata.name === svc.metadata.name));
      const name = svc.metadata.name ?? '';
      if (type === 'ExternalName') {
        if (a.operation === 'CREATE') delete spec.clusterIP;
      } else if (spec.clusterIP !== 'None') {
        const usedIps = new Set(others.map((s) => s.spec?.clusterIP).filter(Boolean));
        if (a.operation === 'UPDATE' && a.oldObject?.spec?.clusterIP && !spec.clusterIP) spec.clusterIP = a.oldObject.spec.clusterIP;
        if (spec.clusterIP) {
          const n = ipToNumber(spec.clusterIP);
          if (a.operation === 'CREATE' || spec.clusterIP !== a.oldObject?.spec?.clusterIP) {
            if (!/^\d+\.\d+\.\d+\.\d+$/.test(spec.clusterIP) || n <= first || n >= first + size - 1) {
              throw invalid('Service', '', 'Service', name, [{ type: 'FieldValueInvalid', field: 'spec.clusterIPs', message: `Invalid value: []string{"${spec.clusterIP}"}: failed to allocate IP ${spec.clusterIP}: the provided IP (${spec.clusterIP}) is not in the valid range. The range of valid IPs is ${base}/${bits}` }]);
            }
            if (usedIps.has(spec.clusterIP)) {
              throw invalid('Service', '', 'Service', name, [{ type: 'FieldValueInvalid', field: 'spec.clusterIPs', message: `Invalid value: []string{"${spec.clusterIP}"}: failed to allocate IP ${spec.clusterIP}: provided IP is already allocated` }]);
            }
          }
        } else {
          // .1 is the kubernetes Service's and .10 cluster DNS's: handed out only on request.
          const reserved = new Set([numberToIp(first + 1), numberToIp(first + 10)]);
          let chosen: string | undefined;
          for (let i = 0; i < 64 && !chosen; i++) {
            const candidate = numberToIp(first + 2 + Math.floor(random() * (size - 3)));
            if (!usedIps.has(candidate) && !reserved.has(candidate)) chosen = candidate;
          }
          for (let n = first + 2; !chosen && n < first + size - 1; n++) {
            const candidate = numberToIp(n);
            if (!usedIps.has(candidate) && !reserved.has(candidate)) chosen = candidate;
          }
          if (!chosen) throw new ApiError(500, 'InternalError', `Internal error occurred: failed to allocate a serviceIP: range is full`);
          spec.clusterIP = chosen;
        }
        spec.clusterIPs = [spec.clusterIP];
      } else {
        spec.clusterIPs = ['None'];
      }
      if (type === 'NodePort' || type === 'LoadBalancer') {
        const usedPorts = new Set<number>();
        for (const s of others) for (const p of s.spec?.ports ?? []) if (p.nodePort) usedPorts.add(p.nodePort);
        const oldPorts = new Map<string, number>();
        for (const p of a.oldObject?.spec?.ports ?? []) if (p.nodePort) oldPorts.set(`${p.port}/${p.protocol ?? 'TCP'}`, p.nodePort);
        for (const [i, p] of (spec.ports ?? []).entries()) {
          if (!p.nodePort) p.nodePort = oldPorts.get(`${p.port}/${p.protocol ?? 'TCP'}`);
          if (p.nodePort) {
            if (p.nodePort < portMin || p.nodePort > portMax) {
              throw invalid('Service', '', 'Service', name, [{ type: 'FieldValueInvalid', field: `spec.ports[${i}].nodePort`, message: `Invalid value: ${p.nodePort}: provided port is not in the valid range. The range of valid ports is ${portMin}-${portMax}` }]);
            }
            if (usedPorts.has(p.nodePort) && oldPorts.get(`${p.port}/${p.protocol ?? 'TCP'}`) !== p.nodePort) {
              throw invalid('Service', '', 'Service', name, [{ type: 'FieldValueInvalid', field: `spec.ports[${i}].nodePort`, message: `Invalid value: ${p.nodePort}: provided port is already allocated` }]);
            }
          } else {
            let port = 0;
            for (let t = 0; t < 64 && !port; t++) {
              const c = portMin + Math.floor(random() * (portMax - portMin + 1));
              if (!usedPorts.has(c)) port = c;
            }
            for (let c = portMin; !port && c <= portMax; c++) if (!usedPorts.has(c)) port = c;
            if (!port) throw new ApiError(500, 'InternalError', 'Internal error occurred: failed to allocate a nodePort: range is full');
            p.nodePort = port;
          }
          usedPorts.add(p.nodePort);
        }
      } else if (a.operation === 'UPDATE') {
        for (const p of spec.ports ?? []) delete p.nodePort;
      }
    },
  };
}

function randomSuffix(): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  let s = '';
  for (let i = 0; i < 5; i++) s += alphabet[Math.floor(Math.random() * alphabet.length)];
  return s;
}

/** An Ingress without a class gets the default IngressClass (annotation ingressclass.kubernetes.io/is-default-class). */
export function defaultIngressClass(config: AdmissionConfig): AdmissionPlugin {
  return {
    name: 'DefaultIngressClass',
    async admit(a) {
      if (a.operation !== 'CREATE' || a.resource.groupKind !== 'Ingress.networking.k8s.io' || !a.object) return;
      const spec = a.object.spec ?? (a.object.spec = {});
      if (spec.ingressClassName || a.object.metadata.annotations?.['kubernetes.io/ingress.class']) return;
      const classes = config.registry().lookup('networking.k8s.io', 'v1', 'ingressclasses');
      if (!classes) return;
      const { items } = await config.resources().list(classes, '', {});
      const defaults = items.filter((c) => c.metadata.annotations?.['ingressclass.kubernetes.io/is-default-class'] === 'true');
      if (defaults.length === 1) spec.ingressClassName = defaults[0].metadata.name;
    },
  };
}
