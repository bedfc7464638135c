// Kubernetes' defaulting (SetDefaults_* of each API group), applied in place before validation.
import type { KubeObject } from '../types.js';
import { canonicalizeQuantity } from '../quantity/index.js';
import { parseQuantity } from '../validation/quantity.js';

type Obj = Record<string, any>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const arr = <T = any>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : []);

function setIfUnset(o: Obj, key: string, value: unknown): void {
  if (o[key] === undefined || o[key] === null) o[key] = value;
}

function ensureObj(o: Obj, key: string): Obj {
  if (!isObj(o[key])) o[key] = {};
  return o[key];
}

/**
 * Rewrites every quantity of a ResourceList into the form Kubernetes serialises (`0.5` → `500m`),
 * as decoding into resource.Quantity and encoding back does. Values validation would reject are
 * left as written so the 422 still quotes what the client sent.
 */
export function canonicalizeResourceList(list: unknown): void {
  if (!isObj(list)) return;
  for (const k of Object.keys(list)) canonicalizeQuantityField(list, k);
}

function canonicalizeQuantityField(o: unknown, key: string): void {
  if (!isObj(o) || parseQuantity(o[key]) === undefined) return;
  const canonical = canonicalizeQuantity(o[key]);
  if (canonical !== undefined) o[key] = canonical;
}

function canonicalizeRequirements(r: unknown): void {
  if (!isObj(r)) return;
  canonicalizeResourceList(r.requests);
  canonicalizeResourceList(r.limits);
}

/** `:latest` or no tag (and no digest) pulls Always; anything else IfNotPresent. */
export function defaultImagePullPolicy(image: string): 'Always' | 'IfNotPresent' {
  if (image.includes('@')) return 'IfNotPresent';
  const lastSlash = image.lastIndexOf('/');
  const tagAt = image.indexOf(':', lastSlash + 1);
  const tag = tagAt < 0 ? '' : image.slice(tagAt + 1);
  return tag === '' || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultProbe(p: unknown): void {
  if (!isObj(p)) return;
  setIfUnset(p, 'timeoutSeconds', 1);
  setIfUnset(p, 'periodSeconds', 10);
  setIfUnset(p, 'successThreshold', 1);
  setIfUnset(p, 'failureThreshold', 3);
  defaultHandler(p);
}

function defaultHandler(h: Obj): void {
  if (isObj(h.httpGet)) {
    setIfUnset(h.httpGet, 'path', '/');
    setIfUnset(h.httpGet, 'scheme', 'HTTP');
  }
  if (isObj(h.grpc)) setIfUnset(h.grpc, 'service', '');
}

function defaultContainer(c: Obj): void {
  if (!isObj(c)) return;
  setIfUnset(c, 'terminationMessagePath', '/dev/termination-log');
  setIfUnset(c, 'terminationMessagePolicy', 'File');
  if (typeof c.image === 'string' && c.image) setIfUnset(c, 'imagePullPolicy', defaultImagePullPolicy(c.image));
  for (const port of arr<Obj>(c.ports)) if (isObj(port)) setIfUnset(port, 'protocol', 'TCP');
  for (const ev of arr<Obj>(c.env)) {
    if (isObj(ev?.valueFrom?.fieldRef)) setIfUnset(ev.valueFrom.fieldRef, 'apiVersion', 'v1');
  }
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
  if (isObj(c.lifecycle)) {
    if (isObj(c.lifecycle.postStart)) defaultHandler(c.lifecycle.postStart);
    if (isObj(c.lifecycle.preStop)) defaultHandler(c.lifecycle.preStop);
  }
  canonicalizeRequirements(c.resources);
  // Limits without requests make requests equal to the limits.
  if (isObj(c.resources?.limits)) {
    const requests = ensureObj(c.resources, 'requests');
    for (const [k, v] of Object.entries(c.resources.limits)) setIfUnset(requests, k, v);
  }
}

function defaultVolume(v: Obj): void {
  if (!isObj(v)) return;
  // A volume with no source is an emptyDir.
  const sources = Object.keys(v).filter((k) => k !== 'name');
  if (sources.length === 0) v.emptyDir = {};
  if (isObj(v.secret)) setIfUnset(v.secret, 'defaultMode', 0o644);
  if (isObj(v.configMap)) setIfUnset(v.configMap, 'defaultMode', 0o644);
  if (isObj(v.downwardAPI)) setIfUnset(v.downwardAPI, 'defaultMode', 0o644);
  if (isObj(v.projected)) setIfUnset(v.projected, 'defaultMode', 0o644);
  if (isObj(v.hostPath)) setIfUnset(v.hostPath, 'type', '');
  canonicalizeQuantityField(v.emptyDir, 'sizeLimit');
  if (isObj(v.ephemeral?.volumeClaimTemplate?.spec)) canonicalizeRequirements(v.ephemeral.volumeClaimTemplate.spec.resources);
}

export function defaultPodSpec(spec: Obj): void {
  setIfUnset(spec, 'restartPolicy', 'Always');
  setIfUnset(spec, 'dnsPolicy', 'ClusterFirst');
  setIfUnset(spec, 'schedulerName', 'default-scheduler');
  setIfUnset(spec, 'terminationGracePeriodSeconds', 30);
  setIfUnset(spec, 'securityContext', {});
  setIfUnset(spec, 'enableServiceLinks', true);
  if (spec.hostNetwork === true) {
    // Host-network pods expose their container ports on the host.
    for (const c of [...arr<Obj>(spec.containers), ...arr<Obj>(spec.initContainers)]) {
      for (const p of arr<Obj>(c?.ports)) if (isObj(p) && !p.hostPort) p.hostPort = p.containerPort;
    }
  }
  arr<Obj>(spec.containers).forEach(defaultContainer);
  arr<Obj>(spec.initContainers).forEach(defaultContainer);
  arr<Obj>(spec.ephemeralContainers).forEach(defaultContainer);
  arr<Obj>(spec.volumes).forEach(defaultVolume);
  canonicalizeResourceList(spec.overhead);
  canonicalizeRequirements(spec.resources);
  for (const t of arr<Obj>(spec.tolerations)) if (isObj(t) && t.operator === undefined && t.key) t.operator = 'Equal';
}

export function defaultPodTemplateSpec(template: unknown): void {
  if (!isObj(template)) return;
  const spec = ensureObj(template, 'spec');
  defaultPodSpec(spec);
}

function defaultPod(pod: Obj): void {
  const spec = ensureObj(pod, 'spec');
  defaultPodSpec(spec);
  // The pod strategy records the initial phase and QoS class on create.
  const status = ensureObj(pod, 'status');
  for (const cs of [...arr<Obj>(status.containerStatuses), ...arr<Obj>(status.initContainerStatuses), ...arr<Obj>(status.ephemeralContainerStatuses)]) {
    if (!isObj(cs)) continue;
    canonicalizeResourceList(cs.allocatedResources);
    canonicalizeRequirements(cs.resources);
  }
  setIfUnset(status, 'phase', 'Pending');
  setIfUnset(status, 'qosClass', qosClass(spec));
}

/** The QoS class Kubernetes records in status (Guaranteed, Burstable, BestEffort). */
export function qosClass(spec: Obj): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const all = [...arr<Obj>(spec.containers), ...arr<Obj>(spec.initContainers)];
  let any = false;
  let guaranteed = all.length > 0;
  for (const c of all) {
    const req = isObj(c?.resources?.requests) ? c.resources.requests : {};
    const lim = isObj(c?.resources?.limits) ? c.resources.limits : {};
    const names = ['cpu', 'memory'];
    if (names.some((n) => req[n] !== undefined || lim[n] !== undefined)) any = true;
    for (const n of names) {
      if (lim[n] === undefined || (req[n] !== undefined && String(req[n]) !== String(lim[n]))) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

function defaultDeployment(d: Obj): void {
  const spec = ensureObj(d, 'spec');
  setIfUnset(spec, 'replicas', 1);
  const strategy = ensureObj(spec, 'strategy');
  setIfUnset(strategy, 'type', 'RollingUpdate');
  if (strategy.type === 'RollingUpdate') {
    const ru = ensureObj(strategy, 'rollingUpdate');
    setIfUnset(ru, 'maxUnavailable', '25%');
    setIfUnset(ru, 'maxSurge', '25%');
  }
  setIfUnset(spec, 'revisionHistoryLimit', 10);
  setIfUnset(spec, 'progressDeadlineSeconds', 600);
  defaultPodTemplateSpec(spec.template);
}

function defaultReplicaSet(rs: Obj): void {
  const spec = ensureObj(rs, 'spec');
  setIfUnset(spec, 'replicas', 1);
  defaultPodTemplateSpec(spec.template);
}

function defaultReplicationController(rc: Obj): void {
  const spec = ensureObj(rc, 'spec');
  setIfUnset(spec, 'replicas', 1);
  const templateLabels = spec.template?.metadata?.labels;
  // An RC without a selector selects its template's labels; without labels it takes them too.
  if (isObj(templateLabels)) {
    if (!isObj(spec.selector) || Object.keys(spec.selector).length === 0) spec.selector = { ...templateLabels };
    const meta = ensureObj(rc, 'metadata');
    if (!isObj(meta.labels) || Object.keys(meta.labels).length === 0) meta.labels = { ...templateLabels };
  }
  defaultPodTemplateSpec(spec.template);
}

function defaultDaemonSet(ds: Obj): void {
  const spec = ensureObj(ds, 'spec');
  const us = ensureObj(spec, 'updateStrategy');
  setIfUnset(us, 'type', 'RollingUpdate');
  if (us.type === 'RollingUpdate') {
    const ru = ensureObj(us, 'rollingUpdate');
    setIfUnset(ru, 'maxUnavailable', 1);
    setIfUnset(ru, 'maxSurge', 0);
  }
  setIfUnset(spec, 'revisionHistoryLimit', 10);
  defaultPodTemplateSpec(spec.template);
}

function defaultStatefulSet(ss: Obj): void {
  const spec = ensureObj(ss, 'spec');
  setIfUnset(spec, 'replicas', 1);
  setIfUnset(spec, 'podManagementPolicy', 'OrderedReady');
  const us = ensureObj(spec, 'updateStrategy');
  setIfUnset(us, 'type', 'RollingUpdate');
  if (us.type === 'RollingUpdate') {
    const ru = ensureObj(us, 'rollingUpdate');
    setIfUnset(ru, 'partition', 0);
  }
  setIfUnset(spec, 'revisionHistoryLimit', 10);
  const retention = ensureObj(spec, 'persistentVolumeClaimRetentionPolicy');
  setIfUnset(retention, 'whenDeleted', 'Retain');
  setIfUnset(retention, 'whenScaled', 'Retain');
  for (const t of arr<Obj>(spec.volumeClaimTemplates)) {
    if (!isObj(t)) continue;
    defaultPVCSpec(ensureObj(t, 'spec'));
    setIfUnset(t, 'apiVersion', 'v1');
    setIfUnset(t, 'kind', 'PersistentVolumeClaim');
  }
  defaultPodTemplateSpec(spec.template);
}

function defaultJobSpec(spec: Obj): void {
  // Completions and parallelism default to 1 only when both are unset; parallelism alone makes a work queue.
  if ((spec.completions === undefined || spec.completions === null) && (spec.parallelism === undefined || spec.parallelism === null)) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  setIfUnset(spec, 'parallelism', 1);
  if (spec.backoffLimit === undefined || spec.backoffLimit === null) {
    // With backoffLimitPerIndex the global limit is effectively unbounded.
    spec.backoffLimit = spec.backoffLimitPerIndex != null ? 2147483647 : 6;
  }
  setIfUnset(spec, 'completionMode', 'NonIndexed');
  setIfUnset(spec, 'suspend', false);
  setIfUnset(spec, 'podReplacementPolicy', isObj(spec.podFailurePolicy) ? 'Failed' : 'TerminatingOrFailed');
  defaultPodTemplateSpec(spec.template);
}

/**
 * The labels and selector the apiserver gives a Job on create unless spec.manualSelector is true
 * (Kubernetes' job strategy generateSelector). Mutates the job; needs its uid.
 */
export function generateJobSelector(job: KubeObject, uid: string): void {
  const spec: Obj = ensureObj(job, 'spec');
  if (spec.manualSelector === true) return;
  const template = ensureObj(spec, 'template');
  const tmeta = ensureObj(template, 'metadata');
  const labels = ensureObj(tmeta, 'labels');
  const name = job.metadata?.name ?? '';
  const generated: Record<string, string> = {
    'batch.kubernetes.io/controller-uid': uid,
    'batch.kubernetes.io/job-name': name,
    'controller-uid': uid,
    'job-name': name,
  };
  for (const [k, v] of Object.entries(generated)) setIfUnset(labels, k, v);
  if (!isObj(spec.selector)) spec.selector = { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } };
  else {
    const ml = ensureObj(spec.selector, 'matchLabels');
    setIfUnset(ml, 'batch.kubernetes.io/controller-uid', uid);
  }
}

function defaultCronJob(cj: Obj): void {
  const spec = ensureObj(cj, 'spec');
  setIfUnset(spec, 'concurrencyPolicy', 'Allow');
  setIfUnset(spec, 'suspend', false);
  setIfUnset(spec, 'successfulJobsHistoryLimit', 3);
  setIfUnset(spec, 'failedJobsHistoryLimit', 1);
  const jt = ensureObj(spec, 'jobTemplate');
  defaultJobSpec(ensureObj(jt, 'spec'));
}

function isIPv6(ip: string): boolean {
  return ip.includes(':');
}

function defaultService(svc: Obj): void {
  const spec = ensureObj(svc, 'spec');
  setIfUnset(spec, 'type', 'ClusterIP');
  setIfUnset(spec, 'sessionAffinity', 'None');
  if (spec.sessionAffinity === 'ClientIP') {
    const cfg = ensureObj(ensureObj(spec, 'sessionAffinityConfig'), 'clientIP');
    setIfUnset(cfg, 'timeoutSeconds', 10800);
  }
  for (const p of arr<Obj>(spec.ports)) {
    if (!isObj(p)) continue;
    setIfUnset(p, 'protocol', 'TCP');
    if (p.targetPort === undefined || p.targetPort === null || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port;
  }
  if (spec.type === 'ExternalName') return;
  if (spec.clusterIP && !isObj(spec.clusterIPs) && arr(spec.clusterIPs).length === 0) spec.clusterIPs = [spec.clusterIP];
  if (!spec.clusterIP && arr(spec.clusterIPs).length > 0) spec.clusterIP = spec.clusterIPs[0];
  if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') setIfUnset(spec, 'externalTrafficPolicy', 'Cluster');
  if (spec.type === 'LoadBalancer') setIfUnset(spec, 'allocateLoadBalancerNodePorts', true);
  setIfUnset(spec, 'internalTrafficPolicy', 'Cluster');
  const ips = arr<string>(spec.clusterIPs).filter((ip) => ip && ip !== 'None');
  if (arr(spec.ipFamilies).length === 0) {
    spec.ipFamilies = ips.length > 0 ? ips.map((ip) => (isIPv6(ip) ? 'IPv6' : 'IPv4')) : ['IPv4'];
  }
  setIfUnset(spec, 'ipFamilyPolicy', arr(spec.ipFamilies).length > 1 ? 'PreferDualStack' : 'SingleStack');
}

/**
 * On update the apiserver keeps what it allocated when the client left it out (Kubernetes'
 * patchAllocatedValues): clusterIP(s), ipFamilies and nodePorts of ports that still exist.
 */
export function prepareServiceForUpdate(newSvc: KubeObject, oldSvc: KubeObject): void {
  const n: Obj = ensureObj(newSvc, 'spec');
  const o: Obj = isObj(oldSvc.spec) ? oldSvc.spec : {};
  const keepsIPs = n.type !== 'ExternalName' && o.type !== 'ExternalName';
  if (keepsIPs && !n.clusterIP && o.clusterIP) {
    n.clusterIP = o.clusterIP;
    if (arr(n.clusterIPs).length === 0) n.clusterIPs = arr(o.clusterIPs).slice();
  }
  if (keepsIPs && arr(n.ipFamilies).length === 0 && arr(o.ipFamilies).length > 0) n.ipFamilies = arr(o.ipFamilies).slice();
  if ((n.type === 'NodePort' || n.type === 'LoadBalancer') && (o.type === 'NodePort' || o.type === 'LoadBalancer')) {
    for (const p of arr<Obj>(n.ports)) {
      if (!isObj(p) || p.nodePort) continue;
      const match = arr<Obj>(o.ports).find((q) => q?.port === p.port && (q?.protocol ?? 'TCP') === (p.protocol ?? 'TCP'));
      if (match?.nodePort) p.nodePort = match.nodePort;
    }
  }
  if (n.type === 'LoadBalancer' && o.type === 'LoadBalancer' && !n.healthCheckNodePort && o.healthCheckNodePort) n.healthCheckNodePort = o.healthCheckNodePort;
}

function defaultNamespace(ns: Obj): void {
  const spec = ensureObj(ns, 'spec');
  setIfUnset(spec, 'finalizers', ['kubernetes']);
  const status = ensureObj(ns, 'status');
  setIfUnset(status, 'phase', 'Active');
  const meta = ensureObj(ns, 'metadata');
  // Every namespace carries its own name as a label (NamespaceDefaultLabelName).
  if (meta.name) ensureObj(meta, 'labels')['kubernetes.io/metadata.name'] = meta.name;
}

function defaultPVCSpec(spec: Obj): void {
  setIfUnset(spec, 'volumeMode', 'Filesystem');
  canonicalizeRequirements(spec.resources);
}

function defaultPVC(pvc: Obj): void {
  defaultPVCSpec(ensureObj(pvc, 'spec'));
  const status = ensureObj(pvc, 'status');
  setIfUnset(status, 'phase', 'Pending');
  canonicalizeResourceList(status.capacity);
  canonicalizeResourceList(status.allocatedResources);
}

function defaultPV(pv: Obj): void {
  const spec = ensureObj(pv, 'spec');
  canonicalizeResourceList(spec.capacity);
  setIfUnset(spec, 'persistentVolumeReclaimPolicy', 'Retain');
  setIfUnset(spec, 'volumeMode', 'Filesystem');
  setIfUnset(ensureObj(pv, 'status'), 'phase', 'Pending');
}

function defaultNode(node: Obj): void {
  const status = ensureObj(node, 'status');
  canonicalizeResourceList(status.capacity);
  canonicalizeResourceList(status.allocatable);
  // Capacity defaults allocatable (SetDefaults_NodeStatus).
  if (isObj(status.capacity) && !isObj(status.allocatable)) status.allocatable = { ...status.capacity };
}

function defaultSecret(secret: Obj): void {
  setIfUnset(secret, 'type', 'Opaque');
  // stringData is write-only: it is merged into data (base64) and never stored.
  if (isObj(secret.stringData)) {
    const data = ensureObj(secret, 'data');
    for (const [k, v] of Object.entries(secret.stringData)) data[k] = Buffer.from(String(v), 'utf8').toString('base64');
    delete secret.stringData;
  }
}

function defaultHPA(hpa: Obj): void {
  const spec = ensureObj(hpa, 'spec');
  setIfUnset(spec, 'minReplicas', 1);
  if (String(hpa.apiVersion ?? '').endsWith('/v1')) return;
  if (!Array.isArray(spec.metrics) || spec.metrics.length === 0) {
    spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }];
  }
  const behavior = ensureObj(spec, 'behavior');
  const up = ensureObj(behavior, 'scaleUp');
  setIfUnset(up, 'stabilizationWindowSeconds', 0);
  setIfUnset(up, 'selectPolicy', 'Max');
  setIfUnset(up, 'policies', [
    { type: 'Pods', value: 4, periodSeconds: 15 },
    { type: 'Percent', value: 100, periodSeconds: 15 },
  ]);
  const down = ensureObj(behavior, 'scaleDown');
  setIfUnset(down, 'selectPolicy', 'Max');
  setIfUnset(down, 'policies', [{ type: 'Percent', value: 100, periodSeconds: 15 }]);
}

function defaultStorageClass(sc: Obj): void {
  setIfUnset(sc, 'reclaimPolicy', 'Delete');
  setIfUnset(sc, 'volumeBindingMode', 'Immediate');
}

function defaultPriorityClass(pc: Obj): void {
  setIfUnset(pc, 'preemptionPolicy', 'PreemptLowerPriority');
}

function defaultEndpointSlice(es: Obj): void {
  for (const p of arr<Obj>(es.ports)) if (isObj(p)) setIfUnset(p, 'protocol', 'TCP');
}

function defaultEndpoints(ep: Obj): void {
  for (const ss of arr<Obj>(ep.subsets)) for (const p of arr<Obj>(ss?.ports)) if (isObj(p)) setIfUnset(p, 'protocol', 'TCP');
}

function defaultNetworkPolicy(np: Obj): void {
  const spec = ensureObj(np, 'spec');
  setIfUnset(spec, 'podSelector', {});
  if (!Array.isArray(spec.policyTypes) || spec.policyTypes.length === 0) {
    spec.policyTypes = Array.isArray(spec.egress) && spec.egress.length > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
  }
  for (const rule of [...arr<Obj>(spec.ingress), ...arr<Obj>(spec.egress)]) {
    for (const p of arr<Obj>(rule?.ports)) if (isObj(p)) setIfUnset(p, 'protocol', 'TCP');
  }
}

function defaultCRD(crd: Obj): void {
  const spec = ensureObj(crd, 'spec');
  const names = ensureObj(spec, 'names');
  if (names.kind) setIfUnset(names, 'listKind', `${names.kind}List`);
  if (names.kind) setIfUnset(names, 'singular', String(names.kind).toLowerCase());
  setIfUnset(ensureObj(spec, 'conversion'), 'strategy', 'None');
}

function defaultPDB(pdb: Obj): void {
  const spec = ensureObj(pdb, 'spec');
  // A PDB with neither bound means minAvailable 1 (policy/v1 SetDefaults_PodDisruptionBudgetSpec).
  if ((spec.minAvailable === undefined || spec.minAvailable === null) && (spec.maxUnavailable === undefined || spec.maxUnavailable === null)) {
    spec.minAvailable = 1;
  }
}

function defaultResourceQuota(rq: Obj): void {
  if (isObj(rq.spec)) canonicalizeResourceList(rq.spec.hard);
  if (isObj(rq.status)) {
    canonicalizeResourceList(rq.status.hard);
    canonicalizeResourceList(rq.status.used);
  }
}

function defaultLimitRange(lr: Obj): void {
  for (const item of arr<Obj>(lr.spec?.limits)) {
    if (!isObj(item)) continue;
    for (const key of ['max', 'min', 'default', 'defaultRequest', 'maxLimitRequestRatio']) canonicalizeResourceList(item[key]);
  }
}

function defaultRuntimeClass(rc: Obj): void {
  if (isObj(rc.overhead)) canonicalizeResourceList(rc.overhead.podFixed);
}

function defaultPodTemplate(pt: Obj): void {
  defaultPodTemplateSpec(pt.template);
}

export const kindDefaults: Record<string, (obj: Obj) => void> = {
  Pod: defaultPod,
  PodTemplate: defaultPodTemplate,
  ReplicationController: defaultReplicationController,
  Service: defaultService,
  Endpoints: defaultEndpoints,
  Namespace: defaultNamespace,
  Node: defaultNode,
  PersistentVolume: defaultPV,
  PersistentVolumeClaim: defaultPVC,
  Secret: defaultSecret,
  ResourceQuota: defaultResourceQuota,
  LimitRange: defaultLimitRange,
  'RuntimeClass.node.k8s.io': defaultRuntimeClass,
  'Deployment.apps': defaultDeployment,
  'ReplicaSet.apps': defaultReplicaSet,
  'DaemonSet.apps': defaultDaemonSet,
  'StatefulSet.apps': defaultStatefulSet,
  'Job.batch': (job) => defaultJobSpec(ensureObj(job, 'spec')),
  'CronJob.batch': defaultCronJob,
  'HorizontalPodAutoscaler.autoscaling': defaultHPA,
  'StorageClass.storage.k8s.io': defaultStorageClass,
  'PriorityClass.scheduling.k8s.io': defaultPriorityClass,
  'EndpointSlice.discovery.k8s.io': defaultEndpointSlice,
  'NetworkPolicy.networking.k8s.io': defaultNetworkPolicy,
  'CustomResourceDefinition.apiextensions.k8s.io': defaultCRD,
  'PodDisruptionBudget.policy': defaultPDB,
};

/** Applies Kubernetes' defaults for kind `gk` in place and returns the same object. */
export function applyDefaults<T extends KubeObject>(gk: string, obj: T): T {
  if (!isObj(obj.metadata)) (obj as Obj).metadata = {};
  kindDefaults[gk]?.(obj);
  return obj;
}
