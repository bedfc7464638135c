// The built-in admission plugins, in Kubernetes' order where they overlap:
// ServiceAccount, DefaultTolerationSeconds, Priority, and Service address allocation
// (ClusterIP from the service CIDR, NodePorts from 30000-32767).
import type { KubeObject } from '../api/types.js';
import type { AdmissionAttributes, AdmissionPlugin } from './admission.js';
import { ApiError } from './errors.js';
import type { ResourceRegistry } from './registry.js';
import type { ResourceStore } from './resource-store.js';
import { resourceQuotaAdmission } from '../controllers/resourcequota/admission.js';
import { limitRangerAdmission } from './limit-ranger.js';
import { serviceAddressAllocation } from './service-allocation.js';
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
  // Kubernetes' order where they overlap: LimitRanger first, RuntimeClass after Priority, ResourceQuota last.
  return [limitRangerAdmission({ resources: config.resources, registry: config.registry }), serviceAccountAdmission(), defaultTolerationSeconds(), priorityAdmission(config), runtimeClassAdmission(config), serviceAddressAllocation(config), certificateRequester(), defaultIngressClass(config), resourceQuotaAdmission({ resources: config.resources, registry: config.registry })];
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
        const items = await config.resources().listForAdmission(classes, '');
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
      const items = await config.resources().listForAdmission(classes, '');
      const defaults = items.filter((c) => c.metadata.annotations?.['ingressclass.kubernetes.io/is-default-class'] === 'true');
      if (defaults.length === 1) spec.ingressClassName = defaults[0].metadata.name;
    },
  };
}
