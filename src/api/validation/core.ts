// Core kinds other than Pod and the workloads: Service, ConfigMap, Secret, Namespace, Node,
// ServiceAccount, Endpoints, ResourceQuota, LimitRange, PodTemplate, Event.
import type { FieldError } from '../types.js';
import { child, duplicate, forbidden, index, invalid, key, notSupported, omitValue, required, tooLong } from './field.js';
import {
  isConfigMapKey,
  isDNS1123Label,
  isDNS1123Subdomain,
  isQualifiedName,
  isValidCIDR,
  isValidIP,
  isValidLabelValue,
  isValidPortName,
  isValidPortNum,
} from './names.js';
import { arr, deepEqual, enumField, immutable, isObj, nonNegative, sortedKeys, validateLabels, type Obj } from './common.js';
import { validatePodTemplateSpec, validateQuantityValue } from './pod.js';

export const serviceNodePortRange = { base: 30000, size: 2768 };

function portNumOrName(port: unknown, path: string): FieldError[] {
  if (typeof port === 'string') return isValidPortName(port).map((m) => invalid(path, port, m));
  const n = typeof port === 'number' ? port : 0;
  return isValidPortNum(n).map((m) => invalid(path, n, m));
}

function servicePortKey(p: Obj): string {
  const target =
    typeof p.targetPort === 'string'
      ? `intstr.IntOrString{Type:1, IntVal:0, StrVal:${JSON.stringify(p.targetPort)}}`
      : `intstr.IntOrString{Type:0, IntVal:0, StrVal:""}`;
  return `core.ServicePort{Name:"", Protocol:${JSON.stringify(p.protocol ?? '')}, AppProtocol:(*string)(nil), Port:${p.port ?? 0}, TargetPort:${target}, NodePort:0}`;
}

export function validateService(obj: Obj): FieldError[] {
  const spec = isObj(obj.spec) ? obj.spec : {};
  const errs: FieldError[] = [];
  const ports = arr<Obj>(spec.ports);
  const headless = spec.clusterIP === 'None';
  const type = spec.type;
  if (ports.length === 0 && !headless && type !== 'ExternalName') errs.push(required('spec.ports', ''));
  if (type === 'ExternalName') {
    if (arr(spec.clusterIPs).length > 0) errs.push(forbidden('spec.clusterIPs', 'may not be set for ExternalName services'));
    if (arr(spec.ipFamilies).length > 0) errs.push(forbidden('spec.ipFamilies', 'may not be set for ExternalName services'));
    if (spec.ipFamilyPolicy !== undefined && spec.ipFamilyPolicy !== null) errs.push(forbidden('spec.ipFamilyPolicy', 'may not be set for ExternalName services'));
    const cname = String(spec.externalName ?? '').replace(/\.$/, '');
    if (cname) for (const msg of isDNS1123Subdomain(cname)) errs.push(invalid('spec.externalName', cname, msg));
    else errs.push(required('spec.externalName', ''));
  }
  const names = new Set<string>();
  ports.forEach((p, i) => {
    const pp = index('spec.ports', i);
    if (ports.length > 1 && !p?.name) errs.push(required(child(pp, 'name'), ''));
    else if (p?.name) {
      for (const msg of isDNS1123Label(p.name)) errs.push(invalid(child(pp, 'name'), p.name, msg));
      if (names.has(p.name)) errs.push(duplicate(child(pp, 'name'), p.name));
      names.add(p.name);
    }
    for (const msg of isValidPortNum(p?.port ?? 0)) errs.push(invalid(child(pp, 'port'), p?.port ?? 0, msg));
    errs.push(...enumField(p?.protocol, child(pp, 'protocol'), ['SCTP', 'TCP', 'UDP']));
    errs.push(...portNumOrName(p?.targetPort, child(pp, 'targetPort')));
    if (p?.appProtocol) for (const msg of isQualifiedName(p.appProtocol)) errs.push(invalid(child(pp, 'appProtocol'), p.appProtocol, msg));
  });
  if (isObj(spec.selector)) errs.push(...validateLabels(spec.selector, 'spec.selector'));
  errs.push(...enumField(spec.sessionAffinity, 'spec.sessionAffinity', ['ClientIP', 'None']));
  if (spec.sessionAffinity === 'ClientIP') {
    const t = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds;
    if (typeof t === 'number' && (t <= 0 || t > 86400)) {
      errs.push(invalid('spec.sessionAffinityConfig.clientIP.timeoutSeconds', t, 'must be greater than 0 and less than 86400'));
    }
  } else if (spec.sessionAffinityConfig !== undefined && spec.sessionAffinityConfig !== null && spec.sessionAffinity) {
    errs.push(forbidden('spec.sessionAffinityConfig', `must not be set when session affinity is ${spec.sessionAffinity}`));
  }
  if (type !== 'ExternalName') errs.push(...validateClusterIPs(spec));
  arr<string>(spec.externalIPs).forEach((ip, i) => {
    for (const msg of isValidIP(String(ip))) errs.push(invalid(index('spec.externalIPs', i), ip, msg));
  });
  errs.push(...enumField(type, 'spec.type', ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort']));
  const nodePorts = new Set<string>();
  const seenPorts = new Set<string>();
  ports.forEach((p, i) => {
    const pp = index('spec.ports', i);
    const np = p?.nodePort;
    if (np) {
      if (type === 'ClusterIP') errs.push(forbidden(child(pp, 'nodePort'), "may not be used when `type` is 'ClusterIP'"));
      else if (np < serviceNodePortRange.base || np >= serviceNodePortRange.base + serviceNodePortRange.size) {
        errs.push(
          invalid(
            child(pp, 'nodePort'),
            np,
            `provided port is not in the valid range. The range of valid ports is ${serviceNodePortRange.base}-${serviceNodePortRange.base + serviceNodePortRange.size - 1}`,
          ),
        );
      }
      const k = `${p.protocol}/${np}`;
      if (nodePorts.has(k)) errs.push(duplicate(child(pp, 'nodePort'), np));
      nodePorts.add(k);
    }
    const k = `${p?.protocol}/${p?.port}`;
    if (seenPorts.has(k)) errs.push({ ...duplicate(pp, omitValue), message: `Duplicate value: ${servicePortKey(p)}` });
    seenPorts.add(k);
  });
  if (spec.externalTrafficPolicy) errs.push(...enumField(spec.externalTrafficPolicy, 'spec.externalTrafficPolicy', ['Cluster', 'Local'], false));
  if (spec.internalTrafficPolicy) errs.push(...enumField(spec.internalTrafficPolicy, 'spec.internalTrafficPolicy', ['Cluster', 'Local'], false));
  if (spec.healthCheckNodePort) {
    if (type !== 'LoadBalancer' || spec.externalTrafficPolicy !== 'Local') {
      errs.push(invalid('spec.healthCheckNodePort', spec.healthCheckNodePort, 'may only be set when `type` is \'LoadBalancer\' and `externalTrafficPolicy` is \'Local\''));
    }
  }
  return errs;
}

function validateClusterIPs(spec: Obj): FieldError[] {
  const errs: FieldError[] = [];
  const policy = spec.ipFamilyPolicy;
  const ips = arr<string>(spec.clusterIPs);
  const families = arr<string>(spec.ipFamilies);
  if (policy !== undefined && policy !== null) {
    if (policy === 'SingleStack') {
      if (ips.length === 2) errs.push(invalid('spec.ipFamilyPolicy', policy, 'must be RequireDualStack or PreferDualStack when multiple cluster IPs are specified'));
      if (families.length === 2) errs.push(invalid('spec.ipFamilyPolicy', policy, 'must be RequireDualStack or PreferDualStack when multiple IP families are specified'));
    } else if (policy !== 'PreferDualStack' && policy !== 'RequireDualStack') {
      errs.push(notSupported('spec.ipFamilyPolicy', policy, ['SingleStack', 'PreferDualStack', 'RequireDualStack']));
    }
  }
  if (spec.clusterIP && ips.length > 0 && spec.clusterIP !== ips[0]) {
    errs.push(invalid('spec.clusterIPs', ips, 'first value must match `clusterIP`'));
  }
  let bad = false;
  ips.forEach((ip, i) => {
    if (i === 0 && ip === 'None') {
      if (ips.length > 1) {
        bad = true;
        errs.push(invalid('spec.clusterIPs', ips, "'None' must be the first and only value"));
      }
      return;
    }
    for (const msg of isValidIP(ip)) {
      bad = true;
      errs.push(invalid(index('spec.clusterIPs', i), ip, msg));
    }
  });
  if (ips.length > 2) errs.push(invalid('spec.clusterIPs', ips, 'may only hold up to 2 values'));
  if (bad) return errs;
  const seen = new Set<string>();
  families.forEach((f, i) => {
    if (f !== 'IPv4' && f !== 'IPv6') errs.push(notSupported(index('spec.ipFamilies', i), f, ['IPv4', 'IPv6']));
    if (seen.has(f)) errs.push(duplicate(index('spec.ipFamilies', i), f));
    seen.add(f);
  });
  return errs;
}

export function validateServiceUpdate(newObj: Obj, oldObj: Obj): FieldError[] {
  const n = isObj(newObj.spec) ? newObj.spec : {};
  const o = isObj(oldObj.spec) ? oldObj.spec : {};
  if (n.type === 'ExternalName' || o.type === 'ExternalName') return [];
  const errs: FieldError[] = [];
  const newIPs = arr<string>(n.clusterIPs);
  const oldIPs = arr<string>(o.clusterIPs);
  if (oldIPs.length > 0 && (newIPs.length === 0 || newIPs[0] !== oldIPs[0])) {
    errs.push(invalid('spec.clusterIPs[0]', newIPs, 'may not change once set'));
  }
  const newFam = arr<string>(n.ipFamilies);
  const oldFam = arr<string>(o.ipFamilies);
  if (oldFam.length > 0 && newFam.length > 0 && newFam[0] !== oldFam[0]) {
    errs.push(invalid('spec.ipFamilies[0]', newFam[0], 'may not change once set'));
  }
  return errs;
}

const MaxSecretSize = 1024 * 1024;

function base64Length(value: unknown): number {
  return Buffer.from(String(value ?? ''), 'base64').length;
}

export function validateConfigMap(obj: Obj): FieldError[] {
  const errs: FieldError[] = [];
  const data = isObj(obj.data) ? obj.data : {};
  const binaryData = isObj(obj.binaryData) ? obj.binaryData : {};
  let total = 0;
  for (const k of sortedKeys(data)) {
    for (const msg of isConfigMapKey(k)) errs.push(invalid(key('data', k), k, msg));
    if (k in binaryData) errs.push(invalid(key('data', k), k, 'duplicate of key present in binaryData'));
    total += Buffer.byteLength(String(data[k] ?? ''));
  }
  for (const k of sortedKeys(binaryData)) {
    for (const msg of isConfigMapKey(k)) errs.push(invalid(key('binaryData', k), k, msg));
    total += base64Length(binaryData[k]);
  }
  if (total > MaxSecretSize) errs.push(tooLong('', MaxSecretSize));
  return errs;
}

function immutableContents(newObj: Obj, oldObj: Obj, fields: string[]): FieldError[] {
  const errs: FieldError[] = [];
  if (oldObj.immutable !== true) return errs;
  if (newObj.immutable !== true) errs.push(forbidden('immutable', 'field is immutable when `immutable` is set'));
  for (const f of fields) {
    if (!deepEqual(newObj[f] ?? null, oldObj[f] ?? null)) errs.push(forbidden(f, 'field is immutable when `immutable` is set'));
  }
  return errs;
}

export function validateConfigMapUpdate(newObj: Obj, oldObj: Obj): FieldError[] {
  return immutableContents(newObj, oldObj, ['data', 'binaryData']);
}

export function validateSecret(obj: Obj): FieldError[] {
  const errs: FieldError[] = [];
  const data = isObj(obj.data) ? obj.data : {};
  let total = 0;
  for (const k of sortedKeys(data)) {
    for (const msg of isConfigMapKey(k)) errs.push(invalid(key('data', k), k, msg));
    total += base64Length(data[k]);
  }
  if (total > MaxSecretSize) errs.push(tooLong('data', MaxSecretSize));
  const has = (k: string) => Object.prototype.hasOwnProperty.call(data, k);
  const jsonCheck = (k: string) => {
    if (!has(k)) {
      errs.push(required(key('data', k), ''));
      return;
    }
    try {
      const parsed = JSON.parse(Buffer.from(String(data[k]), 'base64').toString('utf8'));
      if (!isObj(parsed)) throw new Error('json: cannot unmarshal into Go value of type map[string]interface {}');
    } catch (e) {
      errs.push(invalid(key('data', k), '<secret contents redacted>', (e as Error).message));
    }
  };
  switch (obj.type) {
    case 'kubernetes.io/service-account-token':
      if (!obj.metadata?.annotations?.['kubernetes.io/service-account.name']) {
        errs.push(required(key('metadata.annotations', 'kubernetes.io/service-account.name'), ''));
      }
      break;
    case 'kubernetes.io/dockercfg':
      jsonCheck('.dockercfg');
      break;
    case 'kubernetes.io/dockerconfigjson':
      jsonCheck('.dockerconfigjson');
      break;
    case 'kubernetes.io/basic-auth':
      if (!has('username') && !has('password')) {
        errs.push(required(key('data', 'username'), ''));
        errs.push(required(key('data', 'password'), ''));
      }
      break;
    case 'kubernetes.io/ssh-auth':
      if (!data['ssh-privatekey']) errs.push(required(key('data', 'ssh-privatekey'), ''));
      break;
    case 'kubernetes.io/tls':
      if (!has('tls.crt')) errs.push(required(key('data', 'tls.crt'), ''));
      if (!has('tls.key')) errs.push(required(key('data', 'tls.key'), ''));
      break;
  }
  return errs;
}

export function validateSecretUpdate(newObj: Obj, oldObj: Obj): FieldError[] {
  return [...immutable(newObj.type ?? '', oldObj.type ?? '', 'type'), ...immutableContents(newObj, oldObj, ['data'])];
}

const standardFinalizers = new Set(['kubernetes', 'orphan', 'foregroundDeletion']);

export function validateNamespace(obj: Obj): FieldError[] {
  const errs: FieldError[] = [];
  for (const f of arr<string>(obj.spec?.finalizers)) {
    const msgs = isQualifiedName(String(f));
    if (msgs.length === 0 && !String(f).includes('/') && !standardFinalizers.has(f)) {
      msgs.push('name is neither a standard finalizer name nor is it fully qualified');
    }
    for (const msg of msgs) errs.push(invalid('spec.finalizers', f, msg));
  }
  return errs;
}

export function validateNode(obj: Obj): FieldError[] {
  const spec = isObj(obj.spec) ? obj.spec : {};
  const errs: FieldError[] = [];
  const unique = new Set<string>();
  arr<Obj>(spec.taints).forEach((t, i) => {
    const p = index('spec.taints', i);
    for (const msg of isQualifiedName(String(t?.key ?? ''))) errs.push(invalid(child(p, 'key'), t?.key ?? '', msg));
    const valueErrs = isValidLabelValue(String(t?.value ?? ''));
    if (valueErrs.length) errs.push(invalid(child(p, 'value'), t?.value ?? '', valueErrs.join(';')));
    errs.push(...enumField(t?.effect, child(p, 'effect'), ['NoSchedule', 'PreferNoSchedule', 'NoExecute']));
    const k = `${t?.effect}\u0000${t?.key}`;
    if (unique.has(k)) {
      errs.push({ type: 'FieldValueDuplicate', field: p, message: `Duplicate value: ${goTaint(t)}: taints must be unique by key and effect pair` });
    }
    unique.add(k);
  });
  const cidrs = arr<string>(spec.podCIDRs);
  cidrs.forEach((c, i) => {
    for (const msg of isValidCIDR(String(c))) errs.push(invalid(index('spec.podCIDRs', i), c, msg));
  });
  if (cidrs.length > 2) errs.push(invalid('spec.podCIDRs', cidrs, 'may specify no more than one CIDR for each IP family'));
  if (spec.podCIDR && cidrs.length > 0 && spec.podCIDR !== cidrs[0]) errs.push(invalid('spec.podCIDRs', cidrs, 'first value must match `podCIDR`'));
  return errs;
}

function goTaint(t: Obj): string {
  return `core.Taint{Key:${JSON.stringify(t?.key ?? '')}, Value:${JSON.stringify(t?.value ?? '')}, Effect:${JSON.stringify(t?.effect ?? '')}, TimeAdded:<nil>}`;
}

export function validateNodeUpdate(newObj: Obj, oldObj: Obj): FieldError[] {
  const errs: FieldError[] = [];
  const n = newObj.spec ?? {};
  const o = oldObj.spec ?? {};
  if (arr(o.podCIDRs).length > 0 && !deepEqual(n.podCIDRs, o.podCIDRs)) {
    errs.push(forbidden('spec.podCIDRs', 'node updates may not change podCIDR except from "" to valid'));
  }
  if (o.providerID && n.providerID !== o.providerID) {
    errs.push(forbidden('spec.providerID', 'node updates may not change providerID except from "" to valid'));
  }
  return errs;
}

export function validateServiceAccount(obj: Obj): FieldError[] {
  const errs: FieldError[] = [];
  arr<Obj>(obj.secrets).forEach((s, i) => {
    if (s?.name) for (const msg of isDNS1123Subdomain(s.name)) errs.push(invalid(child(index('secrets', i), 'name'), s.name, msg));
  });
  arr<Obj>(obj.imagePullSecrets).forEach((s, i) => {
    if (!s?.name) errs.push(required(child(index('imagePullSecrets', i), 'name'), ''));
  });
  return errs;
}

export function validateEndpoints(obj: Obj): FieldError[] {
  const errs: FieldError[] = [];
  arr<Obj>(obj.subsets).forEach((ss, i) => {
    const sp = index('subsets', i);
    if (arr(ss?.addresses).length === 0 && arr(ss?.notReadyAddresses).length === 0) {
      errs.push(required(sp, 'must specify `addresses` or `notReadyAddresses`'));
    }
    for (const field of ['addresses', 'notReadyAddresses']) {
      arr<Obj>(ss?.[field]).forEach((a, j) => {
        const ap = index(child(sp, field), j);
        for (const msg of isValidIP(String(a?.ip ?? ''))) errs.push(invalid(child(ap, 'ip'), a?.ip ?? '', msg));
        if (a?.hostname) for (const msg of isDNS1123Label(a.hostname)) errs.push(invalid(child(ap, 'hostname'), a.hostname, msg));
        if (a?.nodeName) for (const msg of isDNS1123Subdomain(a.nodeName)) errs.push(invalid(child(ap, 'nodeName'), a.nodeName, msg));
      });
    }
    const ports = arr<Obj>(ss?.ports);
    ports.forEach((p, j) => {
      const pp = index(child(sp, 'ports'), j);
      if (ports.length > 1 && !p?.name) errs.push(required(child(pp, 'name'), ''));
      else if (p?.name) for (const msg of isDNS1123Label(p.name)) errs.push(invalid(child(pp, 'name'), p.name, msg));
      for (const msg of isValidPortNum(p?.port ?? 0)) errs.push(invalid(child(pp, 'port'), p?.port ?? 0, msg));
      errs.push(...enumField(p?.protocol, child(pp, 'protocol'), ['SCTP', 'TCP', 'UDP']));
    });
  });
  return errs;
}

const quotaScopes = ['BestEffort', 'CrossNamespacePodAffinity', 'NotBestEffort', 'NotTerminating', 'PriorityClass', 'Terminating', 'VolumeAttributesClass'];

export function validateResourceQuota(obj: Obj): FieldError[] {
  const errs: FieldError[] = [];
  const hard = isObj(obj.spec?.hard) ? obj.spec.hard : {};
  for (const r of sortedKeys(hard)) {
    const p = key('spec.hard', r);
    for (const msg of isQualifiedName(r)) errs.push(invalid(p, r, msg));
    errs.push(...validateQuantityValue(hard[r], p));
  }
  arr<string>(obj.spec?.scopes).forEach((s) => {
    if (!quotaScopes.includes(s)) errs.push(notSupported('spec.scopes', s, quotaScopes));
  });
  return errs;
}

export function validateLimitRange(obj: Obj): FieldError[] {
  const errs: FieldError[] = [];
  arr<Obj>(obj.spec?.limits).forEach((l, i) => {
    const p = index('spec.limits', i);
    errs.push(...enumField(l?.type, child(p, 'type'), ['Container', 'Pod', 'PersistentVolumeClaim']));
    for (const f of ['max', 'min', 'default', 'defaultRequest', 'maxLimitRequestRatio']) {
      if (!isObj(l?.[f])) continue;
      for (const r of sortedKeys(l[f])) errs.push(...validateQuantityValue(l[f][r], key(child(p, f), r)));
    }
  });
  return errs;
}

export function validatePodTemplate(obj: Obj): FieldError[] {
  return validatePodTemplateSpec(obj.template, 'template');
}

export function validateEvent(obj: Obj): FieldError[] {
  const errs: FieldError[] = [];
  if (!isObj(obj.involvedObject) && !isObj(obj.regarding)) errs.push(required('involvedObject', ''));
  if (obj.type && !['Normal', 'Warning'].includes(obj.type)) errs.push(notSupported('type', obj.type, ['Normal', 'Warning']));
  errs.push(...nonNegative(obj.count, 'count'));
  return errs;
}

