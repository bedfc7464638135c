// Pod and pod template validation (pkg/apis/core/validation: ValidatePodSpec and friends).
import type { FieldError } from '../types.js';
import { child, duplicate, forbidden, index, invalid, key, notFound, notSupported, required } from './field.js';
import {
  inclusiveRangeError,
  isConfigMapKey,
  isDNS1123Label,
  isDNS1123Subdomain,
  isEnvVarName,
  isQualifiedName,
  isValidIP,
  isValidLabelValue,
  isValidPortName,
  isValidPortNum,
} from './names.js';
import { arr, deepEqual, enumField, isInt, isObj, nonNegative, sortedKeys, validateAnnotations, validateLabels, type Obj } from './common.js';
import { parseQuantity } from './quantity.js';

const volumeSourceFields = [
  'hostPath', 'gitRepo', 'emptyDir', 'gcePersistentDisk', 'awsElasticBlockStore', 'secret', 'nfs', 'iscsi', 'glusterfs',
  'persistentVolumeClaim', 'rbd', 'flexVolume', 'cinder', 'cephfs', 'flocker', 'downwardAPI', 'fc', 'azureFile', 'configMap',
  'vsphereVolume', 'quobyte', 'azureDisk', 'photonPersistentDisk', 'portworxVolume', 'scaleIO', 'projected', 'storageos', 'csi',
  'ephemeral', 'image',
];

function validateVolumeSource(vol: Obj, path: string): FieldError[] {
  const errs: FieldError[] = [];
  let count = 0;
  for (const f of volumeSourceFields) {
    if (vol[f] === undefined || vol[f] === null) continue;
    if (count > 0) {
      errs.push(forbidden(child(path, f), 'may not specify more than 1 volume type'));
      continue;
    }
    count++;
    const src = vol[f];
    const p = child(path, f);
    switch (f) {
      case 'hostPath':
        if (!src.path) errs.push(required(child(p, 'path'), ''));
        if (src.type !== undefined && src.type !== null) {
          errs.push(...enumField(src.type, child(p, 'type'), ['', 'BlockDevice', 'CharDevice', 'Directory', 'DirectoryOrCreate', 'File', 'FileOrCreate', 'Socket'], false));
        }
        break;
      case 'secret':
        if (!src.secretName) errs.push(required(child(p, 'secretName'), ''));
        errs.push(...validateKeyToPaths(src.items, child(p, 'items')));
        break;
      case 'configMap':
        if (!src.name) errs.push(required(child(p, 'name'), ''));
        errs.push(...validateKeyToPaths(src.items, child(p, 'items')));
        break;
      case 'persistentVolumeClaim':
        if (!src.claimName) errs.push(required(child(p, 'claimName'), ''));
        break;
      case 'nfs':
        if (!src.server) errs.push(required(child(p, 'server'), ''));
        if (!src.path) errs.push(required(child(p, 'path'), ''));
        else if (!String(src.path).startsWith('/')) errs.push(invalid(child(p, 'path'), src.path, 'must be an absolute path'));
        break;
      case 'emptyDir':
        if (src.medium !== undefined && src.medium !== '' && src.medium !== 'Memory' && !String(src.medium).startsWith('HugePages')) {
          errs.push(notSupported(child(p, 'medium'), src.medium, ['', 'Memory', 'HugePages']));
        }
        if (src.sizeLimit !== undefined) errs.push(...validateQuantityValue(src.sizeLimit, child(p, 'sizeLimit')));
        break;
      case 'csi':
        if (!src.driver) errs.push(required(child(p, 'driver'), ''));
        break;
      case 'image':
        if (!src.reference) errs.push(required(child(p, 'reference'), ''));
        break;
    }
  }
  if (count === 0) errs.push(required(path, 'must specify a volume type'));
  return errs;
}

function validateKeyToPaths(items: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  arr<Obj>(items).forEach((item, i) => {
    const p = index(path, i);
    if (!item?.key) errs.push(required(child(p, 'key'), ''));
    errs.push(...validateLocalRelativePath(item?.path, child(p, 'path')));
    if (item?.mode !== undefined && (item.mode > 0o777 || item.mode < 0)) {
      errs.push(invalid(child(p, 'mode'), item.mode, 'must be a number between 0 and 0777 (octal), both inclusive'));
    }
  });
  return errs;
}

function validateLocalRelativePath(value: unknown, path: string): FieldError[] {
  if (!value) return [required(path, '')];
  const s = String(value);
  const errs: FieldError[] = [];
  if (s.startsWith('/')) errs.push(invalid(path, s, 'must be a relative path'));
  if (s.split('/').includes('..')) errs.push(invalid(path, s, "must not contain '..'"));
  return errs;
}

function validateVolumes(volumes: unknown, path: string): { errs: FieldError[]; names: Set<string> } {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  arr<Obj>(volumes).forEach((vol, i) => {
    const p = index(path, i);
    const name = vol?.name;
    if (!name) errs.push(required(child(p, 'name'), ''));
    else {
      for (const msg of isDNS1123Label(name)) errs.push(invalid(child(p, 'name'), name, msg));
      if (names.has(name)) errs.push(duplicate(child(p, 'name'), name));
      names.add(name);
    }
    errs.push(...validateVolumeSource(vol ?? {}, p));
  });
  return { errs, names };
}

export function validateQuantityValue(q: unknown, path: string): FieldError[] {
  const v = parseQuantity(q);
  if (v === undefined) {
    return [invalid(path, String(q), "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")];
  }
  if (v < 0) return [invalid(path, String(q), 'must be greater than or equal to 0')];
  return [];
}

const standardResources = new Set(['cpu', 'memory', 'ephemeral-storage', 'storage']);

function validateResourceName(name: string, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const msg of isQualifiedName(name)) errs.push(invalid(path, name, msg));
  if (errs.length) return errs;
  if (!name.includes('/') && !standardResources.has(name) && !name.startsWith('hugepages-')) {
    errs.push(invalid(path, name, 'must be a standard resource type or fully qualified'));
  }
  return errs;
}

export function validateResourceRequirements(res: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!isObj(res)) return errs;
  const limits = isObj(res.limits) ? res.limits : {};
  const requests = isObj(res.requests) ? res.requests : {};
  for (const name of sortedKeys(limits)) {
    const p = key(child(path, 'limits'), name);
    errs.push(...validateResourceName(name, p));
    errs.push(...validateQuantityValue(limits[name], p));
  }
  for (const name of sortedKeys(requests)) {
    const p = key(child(path, 'requests'), name);
    errs.push(...validateResourceName(name, p));
    errs.push(...validateQuantityValue(requests[name], p));
    const req = parseQuantity(requests[name]);
    const lim = limits[name] !== undefined ? parseQuantity(limits[name]) : undefined;
    if (req !== undefined && lim !== undefined && req > lim) {
      errs.push(invalid(p, String(requests[name]), `must be less than or equal to ${name} limit of ${String(limits[name])}`));
    }
  }
  return errs;
}

function validatePortNumOrName(port: unknown, path: string): FieldError[] {
  if (typeof port === 'number') return isValidPortNum(port).map((m) => invalid(path, port, m));
  if (typeof port === 'string') {
    if (port === '') return [required(path, '')];
    return isValidPortName(port).map((m) => invalid(path, port, m));
  }
  return [required(path, '')];
}

function validateHandler(h: Obj, path: string, handlerTypes: string[]): FieldError[] {
  const errs: FieldError[] = [];
  let count = 0;
  for (const t of handlerTypes) {
    if (!isObj(h[t])) continue;
    if (count > 0) {
      errs.push(forbidden(child(path, t), 'may not specify more than 1 handler type'));
      continue;
    }
    count++;
    const a = h[t];
    const p = child(path, t);
    if (t === 'exec' && arr(a.command).length === 0) errs.push(required(child(p, 'command'), ''));
    if (t === 'httpGet') {
      if (!a.path) errs.push(required(child(p, 'path'), ''));
      errs.push(...validatePortNumOrName(a.port, child(p, 'port')));
      if (a.scheme !== undefined) errs.push(...enumField(a.scheme, child(p, 'scheme'), ['HTTP', 'HTTPS'], false));
    }
    if (t === 'tcpSocket') errs.push(...validatePortNumOrName(a.port, child(p, 'port')));
    if (t === 'grpc' && typeof a.port === 'number') errs.push(...isValidPortNum(a.port).map((m) => invalid(child(p, 'port'), a.port, m)));
    if (t === 'sleep') errs.push(...nonNegative(a.seconds, child(p, 'seconds')));
  }
  if (count === 0) errs.push(required(path, 'must specify a handler type'));
  return errs;
}

function validateProbe(probe: unknown, path: string): FieldError[] {
  if (!isObj(probe)) return [];
  const errs = validateHandler(probe, path, ['exec', 'httpGet', 'tcpSocket', 'grpc']);
  for (const f of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold']) {
    errs.push(...nonNegative(probe[f], child(path, f)));
  }
  if (typeof probe.terminationGracePeriodSeconds === 'number' && probe.terminationGracePeriodSeconds <= 0) {
    errs.push(invalid(child(path, 'terminationGracePeriodSeconds'), probe.terminationGracePeriodSeconds, 'must be greater than 0'));
  }
  return errs;
}

function validateEnv(env: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  arr<Obj>(env).forEach((ev, i) => {
    const p = index(path, i);
    if (!ev?.name) errs.push(required(child(p, 'name'), ''));
    else for (const msg of isEnvVarName(ev.name)) errs.push(invalid(child(p, 'name'), ev.name, msg));
    if (isObj(ev?.valueFrom)) {
      const vf = ev.valueFrom;
      const vp = child(p, 'valueFrom');
      const sources = ['fieldRef', 'resourceFieldRef', 'configMapKeyRef', 'secretKeyRef', 'fileKeyRef'].filter((s) => isObj(vf[s]));
      if (sources.length === 0) {
        errs.push(invalid(vp, '', 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`'));
      } else if (sources.length > 1) {
        errs.push(invalid(vp, '', 'may not have more than one field specified at a time'));
      }
      if (ev.value) errs.push(invalid(vp, '', 'may not be specified when `value` is not empty'));
      if (isObj(vf.fieldRef) && !vf.fieldRef.fieldPath) errs.push(required(child(vp, 'fieldRef', 'fieldPath'), ''));
      if (isObj(vf.resourceFieldRef) && !vf.resourceFieldRef.resource) errs.push(required(child(vp, 'resourceFieldRef', 'resource'), ''));
      for (const ref of ['configMapKeyRef', 'secretKeyRef']) {
        if (!isObj(vf[ref])) continue;
        if (!vf[ref].name) errs.push(required(child(vp, ref, 'name'), ''));
        if (!vf[ref].key) errs.push(required(child(vp, ref, 'key'), ''));
        else for (const msg of isConfigMapKey(vf[ref].key)) errs.push(invalid(child(vp, ref, 'key'), vf[ref].key, msg));
      }
    }
  });
  return errs;
}

function validateEnvFrom(envFrom: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  arr<Obj>(envFrom).forEach((ef, i) => {
    const p = index(path, i);
    const sources = ['configMapRef', 'secretRef'].filter((s) => isObj(ef?.[s]));
    if (sources.length === 0) errs.push(invalid(p, '', 'must specify one of: `configMapRef` or `secretRef`'));
    else if (sources.length > 1) errs.push(invalid(p, '', 'may not have more than one field specified at a time'));
    if (ef?.prefix) for (const msg of isEnvVarName(ef.prefix)) errs.push(invalid(child(p, 'prefix'), ef.prefix, msg));
  });
  return errs;
}

function validateContainerPorts(ports: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  arr<Obj>(ports).forEach((port, i) => {
    const p = index(path, i);
    if (port?.name) {
      for (const msg of isValidPortName(port.name)) errs.push(invalid(child(p, 'name'), port.name, msg));
      if (names.has(port.name)) errs.push(duplicate(child(p, 'name'), port.name));
      names.add(port.name);
    }
    if (!port?.containerPort) errs.push(required(child(p, 'containerPort'), ''));
    else for (const msg of isValidPortNum(port.containerPort)) errs.push(invalid(child(p, 'containerPort'), port.containerPort, msg));
    if (port?.hostPort) for (const msg of isValidPortNum(port.hostPort)) errs.push(invalid(child(p, 'hostPort'), port.hostPort, msg));
    errs.push(...enumField(port?.protocol, child(p, 'protocol'), ['SCTP', 'TCP', 'UDP']));
    if (port?.hostIP) for (const msg of isValidIP(port.hostIP)) errs.push(invalid(child(p, 'hostIP'), port.hostIP, msg));
  });
  return errs;
}

function validateVolumeMounts(mounts: unknown, volumes: Set<string>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const mountPaths = new Set<string>();
  arr<Obj>(mounts).forEach((m, i) => {
    const p = index(path, i);
    if (!m?.name) errs.push(required(child(p, 'name'), ''));
    else if (!volumes.has(m.name)) errs.push(notFound(child(p, 'name'), m.name));
    if (!m?.mountPath) errs.push(required(child(p, 'mountPath'), ''));
    else {
      if (mountPaths.has(m.mountPath)) errs.push(invalid(child(p, 'mountPath'), m.mountPath, 'must be unique'));
      mountPaths.add(m.mountPath);
    }
    if (m?.subPath) {
      if (String(m.subPath).startsWith('/')) errs.push(invalid(child(p, 'subPath'), m.subPath, 'must be a relative path'));
      if (String(m.subPath).split('/').includes('..')) errs.push(invalid(child(p, 'subPath'), m.subPath, "must not contain '..'"));
    }
    if (m?.mountPropagation !== undefined) {
      errs.push(...enumField(m.mountPropagation, child(p, 'mountPropagation'), ['Bidirectional', 'HostToContainer', 'None'], false));
    }
  });
  return errs;
}

type ContainerKind = 'container' | 'init' | 'ephemeral';

function validateContainer(c: Obj, kind: ContainerKind, volumes: Set<string>, names: Set<string>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!c?.name) errs.push(required(child(path, 'name'), ''));
  else {
    for (const msg of isDNS1123Label(c.name)) errs.push(invalid(child(path, 'name'), c.name, msg));
    if (names.has(c.name)) errs.push(duplicate(child(path, 'name'), c.name));
    names.add(c.name);
  }
  if (!c?.image) errs.push(required(child(path, 'image'), ''));
  else if (String(c.image).trim() !== c.image) errs.push(invalid(child(path, 'image'), c.image, 'must not have leading or trailing whitespace'));
  errs.push(...enumField(c?.imagePullPolicy, child(path, 'imagePullPolicy'), ['Always', 'IfNotPresent', 'Never'], false));
  errs.push(...enumField(c?.terminationMessagePolicy, child(path, 'terminationMessagePolicy'), ['File', 'FallbackToLogsOnError'], false));
  errs.push(...validateContainerPorts(c?.ports, child(path, 'ports')));
  errs.push(...validateEnv(c?.env, child(path, 'env')));
  errs.push(...validateEnvFrom(c?.envFrom, child(path, 'envFrom')));
  errs.push(...validateVolumeMounts(c?.volumeMounts, volumes, child(path, 'volumeMounts')));
  errs.push(...validateResourceRequirements(c?.resources, child(path, 'resources')));

  const sidecar = kind === 'init' && c?.restartPolicy === 'Always';
  if (kind === 'init' && c?.restartPolicy !== undefined && c.restartPolicy !== null) {
    errs.push(...enumField(c.restartPolicy, child(path, 'restartPolicy'), ['Always'], false));
  } else if (kind === 'container' && c?.restartPolicy !== undefined && c.restartPolicy !== null) {
    errs.push(...enumField(c.restartPolicy, child(path, 'restartPolicy'), ['Always', 'OnFailure', 'Never'], false));
  }
  if (kind === 'container' || sidecar) {
    errs.push(...validateProbe(c?.livenessProbe, child(path, 'livenessProbe')));
    errs.push(...validateProbe(c?.readinessProbe, child(path, 'readinessProbe')));
    errs.push(...validateProbe(c?.startupProbe, child(path, 'startupProbe')));
    for (const probe of ['livenessProbe', 'startupProbe']) {
      const s = c?.[probe]?.successThreshold;
      if (isObj(c?.[probe]) && s !== undefined && s !== 1) errs.push(invalid(child(path, probe, 'successThreshold'), s, 'must be 1'));
    }
    if (isObj(c?.lifecycle)) {
      for (const hook of ['postStart', 'preStop']) {
        if (isObj(c.lifecycle[hook])) errs.push(...validateHandler(c.lifecycle[hook], child(path, 'lifecycle', hook), ['exec', 'httpGet', 'tcpSocket', 'sleep']));
      }
    }
  } else {
    const what = kind === 'init' ? 'may not be set for init containers without restartPolicy=Always' : 'may not be set for ephemeral containers';
    for (const f of ['lifecycle', 'livenessProbe', 'readinessProbe', 'startupProbe']) {
      if (c?.[f] !== undefined && c?.[f] !== null) errs.push(forbidden(child(path, f), what));
    }
  }
  return errs;
}

function validateTolerations(tolerations: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  arr<Obj>(tolerations).forEach((t, i) => {
    const p = index(path, i);
    if (t?.key) for (const msg of isQualifiedName(t.key)) errs.push(invalid(child(p, 'key'), t.key, msg));
    const op = t?.operator ?? 'Equal';
    if (!t?.key && op !== 'Exists') {
      errs.push(invalid(child(p, 'operator'), op, 'operator must be Exists when `key` is empty, which means "match all values and all keys"'));
    }
    if (t?.tolerationSeconds !== undefined && t?.tolerationSeconds !== null && t?.effect !== 'NoExecute') {
      errs.push(invalid(child(p, 'effect'), t?.effect ?? '', "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    }
    if (op === 'Equal') {
      for (const msg of isValidLabelValueSafe(t?.value)) errs.push(invalid(child(p, 'value'), t.value, msg));
    } else if (op === 'Exists') {
      if (t?.value) errs.push(invalid(child(p, 'operator'), t.value, "value must be empty when `operator` is 'Exists'"));
    } else {
      errs.push(notSupported(child(p, 'operator'), op, ['Equal', 'Exists']));
    }
    if (t?.effect) errs.push(...enumField(t.effect, child(p, 'effect'), ['NoSchedule', 'PreferNoSchedule', 'NoExecute'], false));
  });
  return errs;
}

function isValidLabelValueSafe(v: unknown): string[] {
  return v === undefined || v === null ? [] : isValidLabelValue(String(v));
}

export interface PodSpecOptions {
  /** Restart policies the owner allows (Deployment: Always only; Job: OnFailure, Never). */
  restartPolicies?: string[];
}

export function validatePodSpec(spec: unknown, path: string, opts: PodSpecOptions = {}): FieldError[] {
  const errs: FieldError[] = [];
  if (!isObj(spec)) return [required(path, '')];
  const { errs: volErrs, names: volumes } = validateVolumes(spec.volumes, child(path, 'volumes'));
  errs.push(...volErrs);
  const containerNames = new Set<string>();
  arr<Obj>(spec.initContainers).forEach((c, i) => errs.push(...validateContainer(c ?? {}, 'init', volumes, containerNames, index(child(path, 'initContainers'), i))));
  const containers = arr<Obj>(spec.containers);
  if (containers.length === 0) errs.push(required(child(path, 'containers'), ''));
  containers.forEach((c, i) => errs.push(...validateContainer(c ?? {}, 'container', volumes, containerNames, index(child(path, 'containers'), i))));
  arr<Obj>(spec.ephemeralContainers).forEach((c, i) =>
    errs.push(...validateContainer(c ?? {}, 'ephemeral', volumes, containerNames, index(child(path, 'ephemeralContainers'), i))),
  );

  const restartPolicies = ['Always', 'OnFailure', 'Never'];
  if (!spec.restartPolicy) errs.push(required(child(path, 'restartPolicy'), ''));
  else if (!restartPolicies.includes(spec.restartPolicy)) errs.push(notSupported(child(path, 'restartPolicy'), spec.restartPolicy, restartPolicies));
  else if (opts.restartPolicies && !opts.restartPolicies.includes(spec.restartPolicy)) {
    errs.push(notSupported(child(path, 'restartPolicy'), spec.restartPolicy, opts.restartPolicies));
  }

  errs.push(...enumField(spec.dnsPolicy, child(path, 'dnsPolicy'), ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None']));
  if (spec.dnsPolicy === 'None' && !isObj(spec.dnsConfig)) {
    errs.push(required(child(path, 'dnsConfig'), 'must provide `dnsConfig` when `dnsPolicy` is None'));
  }
  if (isObj(spec.dnsConfig)) {
    const ns = arr<string>(spec.dnsConfig.nameservers);
    if (ns.length > 3) errs.push(invalid(child(path, 'dnsConfig', 'nameservers'), ns, 'must not have more than 3 nameservers'));
    ns.forEach((n, i) => isValidIP(String(n)).forEach((m) => errs.push(invalid(index(child(path, 'dnsConfig', 'nameservers'), i), n, m))));
  }
  errs.push(...validateLabels(spec.nodeSelector, child(path, 'nodeSelector')));
  if (spec.serviceAccountName) {
    for (const msg of isDNS1123Subdomain(spec.serviceAccountName)) errs.push(invalid(child(path, 'serviceAccountName'), spec.serviceAccountName, msg));
  }
  if (spec.nodeName) for (const msg of isDNS1123Subdomain(spec.nodeName)) errs.push(invalid(child(path, 'nodeName'), spec.nodeName, msg));
  if (spec.hostname) for (const msg of isDNS1123Label(spec.hostname)) errs.push(invalid(child(path, 'hostname'), spec.hostname, msg));
  if (spec.subdomain) for (const msg of isDNS1123Label(spec.subdomain)) errs.push(invalid(child(path, 'subdomain'), spec.subdomain, msg));
  if (spec.activeDeadlineSeconds !== undefined && spec.activeDeadlineSeconds !== null) {
    const v = spec.activeDeadlineSeconds;
    if (!isInt(v) || v < 1 || v > 2147483647) errs.push(invalid(child(path, 'activeDeadlineSeconds'), v, inclusiveRangeError(1, 2147483647)));
  }
  errs.push(...nonNegative(spec.terminationGracePeriodSeconds, child(path, 'terminationGracePeriodSeconds')));
  errs.push(...validateTolerations(spec.tolerations, child(path, 'tolerations')));
  arr<Obj>(spec.imagePullSecrets).forEach((s, i) => {
    if (!s?.name) errs.push(required(child(index(child(path, 'imagePullSecrets'), i), 'name'), ''));
  });
  if (spec.preemptionPolicy !== undefined && spec.preemptionPolicy !== null) {
    errs.push(...enumField(spec.preemptionPolicy, child(path, 'preemptionPolicy'), ['Never', 'PreemptLowerPriority'], false));
  }
  if (isObj(spec.securityContext)) {
    for (const f of ['runAsUser', 'runAsGroup', 'fsGroup']) {
      const v = spec.securityContext[f];
      if (typeof v === 'number' && (v < 0 || v > 2147483647)) errs.push(invalid(child(path, 'securityContext', f), v, inclusiveRangeError(0, 2147483647)));
    }
  }
  return errs;
}

/** ValidatePodTemplateSpec: labels/annotations of the template plus its pod spec. */
export function validatePodTemplateSpec(template: unknown, path: string, opts: PodSpecOptions = {}): FieldError[] {
  if (!isObj(template)) return [required(path, '')];
  const errs: FieldError[] = [];
  errs.push(...validateLabels(template.metadata?.labels, child(path, 'metadata', 'labels')));
  errs.push(...validateAnnotations(template.metadata?.annotations, child(path, 'metadata', 'annotations')));
  errs.push(...validatePodSpec(template.spec, child(path, 'spec'), opts));
  return errs;
}

export function validatePod(pod: Obj): FieldError[] {
  return validatePodSpec(pod.spec, 'spec');
}

const podUpdateForbidden =
  'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

export function validatePodUpdate(newPod: Obj, oldPod: Obj): FieldError[] {
  const errs: FieldError[] = [];
  const ns = isObj(newPod.spec) ? newPod.spec : {};
  const os = isObj(oldPod.spec) ? oldPod.spec : {};

  const newDeadline = ns.activeDeadlineSeconds;
  const oldDeadline = os.activeDeadlineSeconds;
  if (newDeadline !== undefined && newDeadline !== null) {
    if (newDeadline < 0 || newDeadline > 2147483647) {
      return [invalid('spec.activeDeadlineSeconds', newDeadline, inclusiveRangeError(0, 2147483647))];
    }
    if (oldDeadline !== undefined && oldDeadline !== null && oldDeadline < newDeadline) {
      return [invalid('spec.activeDeadlineSeconds', newDeadline, 'must be less than or equal to previous value')];
    }
  } else if (oldDeadline !== undefined && oldDeadline !== null) {
    errs.push(invalid('spec.activeDeadlineSeconds', null, 'must not update from a positive integer to nil value'));
  }

  // Tolerations may only grow; an existing one may change only its tolerationSeconds.
  const oldTols = arr<Obj>(os.tolerations);
  const newTols = arr<Obj>(ns.tolerations);
  for (const ot of oldTols) {
    const strip = (t: Obj) => ({ ...t, tolerationSeconds: undefined });
    const same = newTols.find((nt) => deepEqual(strip(nt), strip(ot)));
    if (!same) {
      errs.push(forbidden('spec.tolerations', 'existing toleration can not be modified except its tolerationSeconds'));
      break;
    }
  }

  // Everything else must be equal once the mutable fields are copied over from the new spec.
  const mutableCopy = structuredClone(os);
  const copyImages = (field: string) => {
    const oldList = arr<Obj>(mutableCopy[field]);
    const newList = arr<Obj>(ns[field]);
    if (oldList.length === newList.length) oldList.forEach((c, i) => (c.image = newList[i]?.image));
  };
  copyImages('containers');
  copyImages('initContainers');
  mutableCopy.activeDeadlineSeconds = ns.activeDeadlineSeconds;
  mutableCopy.tolerations = ns.tolerations;
  if (typeof os.terminationGracePeriodSeconds === 'number' && os.terminationGracePeriodSeconds < 0 && ns.terminationGracePeriodSeconds === 1) {
    mutableCopy.terminationGracePeriodSeconds = 1;
  }
  // Scheduling gates may be removed, and nodeSelector/affinity added, while the pod is still gated.
  if (arr(os.schedulingGates).length > 0) {
    mutableCopy.schedulingGates = ns.schedulingGates;
    mutableCopy.nodeSelector = ns.nodeSelector;
    mutableCopy.affinity = ns.affinity;
  }
  if (!deepEqual(mutableCopy, ns)) errs.push(forbidden('spec', podUpdateForbidden));
  return errs;
}
