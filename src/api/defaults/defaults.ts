// Kubernetes' defaulting for built-in kinds (the SetDefaults_* functions of k8s.io/api),
// applied by the API server before admission and validation on every create and update.
import type { KubeObject } from '../types.js';

type Obj = Record<string, any>;

function setIfUnset(o: Obj, key: string, value: unknown): void {
  if (o[key] === undefined || o[key] === null) o[key] = value;
}

function defaultProbe(probe: Obj | undefined): void {
  if (!probe) return;
  setIfUnset(probe, 'timeoutSeconds', 1);
  setIfUnset(probe, 'periodSeconds', 10);
  setIfUnset(probe, 'successThreshold', 1);
  setIfUnset(probe, 'failureThreshold', 3);
  if (probe.httpGet) {
    setIfUnset(probe.httpGet, 'path', '/');
    setIfUnset(probe.httpGet, 'scheme', 'HTTP');
  }
  if (probe.grpc) setIfUnset(probe.grpc, 'service', '');
}

function imageTagIsLatest(image: string | undefined): boolean {
  if (!image) return false;
  if (image.includes('@')) return false;
  const lastSlash = image.lastIndexOf('/');
  const colon = image.indexOf(':', lastSlash + 1);
  return colon < 0 || image.slice(colon + 1) === 'latest';
}

function defaultContainer(c: Obj): void {
  setIfUnset(c, 'terminationMessagePath', '/dev/termination-log');
  setIfUnset(c, 'terminationMessagePolicy', 'File');
  setIfUnset(c, 'imagePullPolicy', imageTagIsLatest(c.image) ? 'Always' : 'IfNotPresent');
  for (const p of c.ports ?? []) setIfUnset(p, 'protocol', 'TCP');
  for (const e of c.env ?? []) {
    const fieldRef = e.valueFrom?.fieldRef;
    if (fieldRef) setIfUnset(fieldRef, 'apiVersion', 'v1');
  }
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
  for (const hook of [c.lifecycle?.postStart, c.lifecycle?.preStop]) {
    if (hook?.httpGet) {
      setIfUnset(hook.httpGet, 'path', '/');
      setIfUnset(hook.httpGet, 'scheme', 'HTTP');
    }
  }
  // Limits without requests: requests default to the limits.
  const limits = c.resources?.limits;
  if (limits) {
    c.resources.requests ??= {};
    for (const [k, v] of Object.entries(limits)) setIfUnset(c.resources.requests, k, v);
  }
}

function defaultVolume(v: Obj): void {
  const mode = 420;
  if (v.secret) setIfUnset(v.secret, 'defaultMode', mode);
  if (v.configMap) setIfUnset(v.configMap, 'defaultMode', mode);
  if (v.downwardAPI) {
    setIfUnset(v.downwardAPI, 'defaultMode', mode);
    for (const item of v.downwardAPI.items ?? []) if (item.fieldRef) setIfUnset(item.fieldRef, 'apiVersion', 'v1');
  }
  if (v.projected) {
    setIfUnset(v.projected, 'defaultMode', mode);
    for (const source of v.projected.sources ?? []) {
      if (source.serviceAccountToken) setIfUnset(source.serviceAccountToken, 'expirationSeconds', 3600);
      for (const item of source.downwardAPI?.items ?? []) if (item.fieldRef) setIfUnset(item.fieldRef, 'apiVersion', 'v1');
    }
  }
  if (v.hostPath) setIfUnset(v.hostPath, 'type', '');
  if (v.emptyDir === null) v.emptyDir = {};
}

export function defaultPodSpec(spec: Obj | undefined): void {
  if (!spec) return;
  setIfUnset(spec, 'restartPolicy', 'Always');
  setIfUnset(spec, 'terminationGracePeriodSeconds', 30);
  setIfUnset(spec, 'dnsPolicy', 'ClusterFirst');
  setIfUnset(spec, 'securityContext', {});
  setIfUnset(spec, 'schedulerName', 'default-scheduler');
  setIfUnset(spec, 'enableServiceLinks', true);
  if (spec.hostNetwork) {
    for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
      for (const p of c.ports ?? []) setIfUnset(p, 'hostPort', p.containerPort);
    }
  }
  for (const c of spec.initContainers ?? []) defaultContainer(c);
  for (const c of spec.containers ?? []) defaultContainer(c);
  for (const c of spec.ephemeralContainers ?? []) {
    setIfUnset(c, 'terminationMessagePath', '/dev/termination-log');
    setIfUnset(c, 'terminationMessagePolicy', 'File');
    setIfUnset(c, 'imagePullPolicy', imageTagIsLatest(c.image) ? 'Always' : 'IfNotPresent');
  }
  for (const v of spec.volumes ?? []) defaultVolume(v);
  for (const t of spec.tolerations ?? []) if (t.operator === undefined && t.key !== undefined) t.operator = 'Equal';
}

function defaultPodTemplate(template: Obj | undefined): void {
  if (!template) return;
  defaultPodSpec(template.spec);
}

/** "25%"-style defaults only where the whole strategy block is missing or partial. */
function defaultRollingUpdate(strategy: Obj, surge: unknown, unavailable: unknown): void {
  setIfUnset(strategy, 'type', 'RollingUpdate');
  if (strategy.type === 'RollingUpdate') {
    strategy.rollingUpdate ??= {};
    setIfUnset(strategy.rollingUpdate, 'maxUnavailable', unavailable);
    if (surge !== undefined) setIfUnset(strategy.rollingUpdate, 'maxSurge', surge);
  }
}

type Defaulter = (o: KubeObject) => void;

const defaulters: Record<string, Defaulter> = {
  Pod(o) {
    defaultPodSpec(o.spec);
  },
  PodTemplate(o) {
    defaultPodTemplate(o.template);
  },
  ReplicationController(o) {
    const spec = (o.spec ??= {});
    setIfUnset(spec, 'replicas', 1);
    // An RC without a selector selects its template's labels, and labels itself the same.
    if (!spec.selector && spec.template?.metadata?.labels) spec.selector = { ...spec.template.metadata.labels };
    if (!o.metadata.labels && spec.template?.metadata?.labels) o.metadata.labels = { ...spec.template.metadata.labels };
    defaultPodTemplate(spec.template);
  },
  'Deployment.apps'(o) {
    const spec = (o.spec ??= {});
    setIfUnset(spec, 'replicas', 1);
    spec.strategy ??= {};
    if (spec.strategy.type === undefined || spec.strategy.type === 'RollingUpdate') defaultRollingUpdate(spec.strategy, '25%', '25%');
    setIfUnset(spec, 'revisionHistoryLimit', 10);
    setIfUnset(spec, 'progressDeadlineSeconds', 600);
    defaultPodTemplate(spec.template);
  },
  'ReplicaSet.apps'(o) {
    const spec = (o.spec ??= {});
    setIfUnset(spec, 'replicas', 1);
    defaultPodTemplate(spec.template);
  },
  'DaemonSet.apps'(o) {
    const spec = (o.spec ??= {});
    spec.updateStrategy ??= {};
    if (spec.updateStrategy.type === undefined || spec.updateStrategy.type === 'RollingUpdate') defaultRollingUpdate(spec.updateStrategy, 0, 1);
    setIfUnset(spec, 'revisionHistoryLimit', 10);
    defaultPodTemplate(spec.template);
  },
  'StatefulSet.apps'(o) {
    const spec = (o.spec ??= {});
    setIfUnset(spec, 'replicas', 1);
    setIfUnset(spec, 'podManagementPolicy', 'OrderedReady');
    spec.updateStrategy ??= {};
    setIfUnset(spec.updateStrategy, 'type', 'RollingUpdate');
    if (spec.updateStrategy.type === 'RollingUpdate') {
      spec.updateStrategy.rollingUpdate ??= {};
      setIfUnset(spec.updateStrategy.rollingUpdate, 'partition', 0);
    }
    setIfUnset(spec, 'revisionHistoryLimit', 10);
    spec.persistentVolumeClaimRetentionPolicy ??= {};
    setIfUnset(spec.persistentVolumeClaimRetentionPolicy, 'whenDeleted', 'Retain');
    setIfUnset(spec.persistentVolumeClaimRetentionPolicy, 'whenScaled', 'Retain');
    for (const pvc of spec.volumeClaimTemplates ?? []) {
      pvc.apiVersion ??= 'v1';
      pvc.kind ??= 'PersistentVolumeClaim';
      pvc.spec ??= {};
      setIfUnset(pvc.spec, 'volumeMode', 'Filesystem');
      pvc.status ??= { phase: 'Pending' };
    }
    defaultPodTemplate(spec.template);
  },
  'Job.batch'(o) {
    const spec = (o.spec ??= {});
    // Neither set: one pod to completion. Only parallelism set: completions stay unset (work queue).
    if (spec.completions === undefined && spec.parallelism === undefined) {
      spec.completions = 1;
      spec.parallelism = 1;
    }
    setIfUnset(spec, 'parallelism', 1);
    setIfUnset(spec, 'backoffLimit', spec.backoffLimitPerIndex !== undefined ? 2147483647 : 6);
    setIfUnset(spec, 'completionMode', 'NonIndexed');
    setIfUnset(spec, 'suspend', false);
    setIfUnset(spec, 'manualSelector', undefined);
    if (spec.podFailurePolicy === undefined) setIfUnset(spec, 'podReplacementPolicy', 'TerminatingOrFailed');
    else setIfUnset(spec, 'podReplacementPolicy', 'Failed');
    if (spec.manualSelector === undefined) delete spec.manualSelector;
    defaultPodTemplate(spec.template);
  },
  'CronJob.batch'(o) {
    const spec = (o.spec ??= {});
    setIfUnset(spec, 'concurrencyPolicy', 'Allow');
    setIfUnset(spec, 'suspend', false);
    setIfUnset(spec, 'successfulJobsHistoryLimit', 3);
    setIfUnset(spec, 'failedJobsHistoryLimit', 1);
    const jobSpec = spec.jobTemplate?.spec;
    if (jobSpec) {
      if (jobSpec.completions === undefined && jobSpec.parallelism === undefined) {
        jobSpec.completions = 1;
        jobSpec.parallelism = 1;
      }
      setIfUnset(jobSpec, 'parallelism', 1);
      setIfUnset(jobSpec, 'backoffLimit', 6);
      setIfUnset(jobSpec, 'completionMode', 'NonIndexed');
      setIfUnset(jobSpec, 'suspend', false);
      setIfUnset(jobSpec, 'podReplacementPolicy', 'TerminatingOrFailed');
      defaultPodTemplate(jobSpec.template);
    }
  },
  Service(o) {
    const spec = (o.spec ??= {});
    setIfUnset(spec, 'type', 'ClusterIP');
    setIfUnset(spec, 'sessionAffinity', 'None');
    if (spec.sessionAffinity === 'ClientIP') {
      spec.sessionAffinityConfig ??= {};
      spec.sessionAffinityConfig.clientIP ??= {};
      setIfUnset(spec.sessionAffinityConfig.clientIP, 'timeoutSeconds', 10800);
    }
    for (const p of spec.ports ?? []) {
      setIfUnset(p, 'protocol', 'TCP');
      setIfUnset(p, 'targetPort', p.port);
    }
    if (spec.type !== 'ExternalName') {
      setIfUnset(spec, 'internalTrafficPolicy', 'Cluster');
      setIfUnset(spec, 'ipFamilyPolicy', 'SingleStack');
      setIfUnset(spec, 'ipFamilies', ['IPv4']);
    }
    if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') setIfUnset(spec, 'externalTrafficPolicy', 'Cluster');
    if (spec.type === 'LoadBalancer') setIfUnset(spec, 'allocateLoadBalancerNodePorts', true);
  },
  Secret(o) {
    setIfUnset(o, 'type', 'Opaque');
  },
  PersistentVolume(o) {
    const spec = (o.spec ??= {});
    setIfUnset(spec, 'persistentVolumeReclaimPolicy', 'Retain');
    setIfUnset(spec, 'volumeMode', 'Filesystem');
  },
  PersistentVolumeClaim(o) {
    const spec = (o.spec ??= {});
    setIfUnset(spec, 'volumeMode', 'Filesystem');
  },
  Node(o) {
    o.spec ??= {};
  },
  Endpoints(o) {
    for (const subset of o.subsets ?? []) for (const p of subset.ports ?? []) setIfUnset(p, 'protocol', 'TCP');
  },
  'EndpointSlice.discovery.k8s.io'(o) {
    for (const p of o.ports ?? []) {
      setIfUnset(p, 'protocol', 'TCP');
      setIfUnset(p, 'name', '');
    }
  },
  'NetworkPolicy.networking.k8s.io'(o) {
    const spec = (o.spec ??= {});
    spec.podSelector ??= {};
    for (const rule of [...(spec.ingress ?? []), ...(spec.egress ?? [])]) for (const p of rule.ports ?? []) setIfUnset(p, 'protocol', 'TCP');
    if (!spec.policyTypes) spec.policyTypes = spec.egress ? ['Ingress', 'Egress'] : ['Ingress'];
  },
  'Ingress.networking.k8s.io'(o) {
    for (const rule of o.spec?.rules ?? []) for (const path of rule.http?.paths ?? []) setIfUnset(path, 'pathType', 'ImplementationSpecific');
  },
  'HorizontalPodAutoscaler.autoscaling'(o) {
    const spec = (o.spec ??= {});
    setIfUnset(spec, 'minReplicas', 1);
    if (o.apiVersion === 'autoscaling/v2' && !spec.metrics && spec.targetCPUUtilizationPercentage === undefined) {
      spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }];
    }
  },
  'PriorityClass.scheduling.k8s.io'(o) {
    setIfUnset(o, 'preemptionPolicy', 'PreemptLowerPriority');
  },
  'StorageClass.storage.k8s.io'(o) {
    setIfUnset(o, 'reclaimPolicy', 'Delete');
    setIfUnset(o, 'volumeBindingMode', 'Immediate');
  },
  'PodDisruptionBudget.policy'(o) {
    o.spec ??= {};
  },
};

/** Applies Kubernetes' defaults for the kind in place. */
export function applyDefaults(gk: string, obj: KubeObject): void {
  defaulters[gk]?.(obj);
}
