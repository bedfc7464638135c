// Networking, autoscaling, policy, RBAC, coordination, discovery, scheduling, node and apiextensions kinds.
import type { FieldError } from '../types.js';
import { child, duplicate, forbidden, goTyped, index, invalid, notSupported, omitValue, required } from './field.js';
import { isDNS1035Label, isDNS1123Label, isDNS1123Subdomain, isValidCIDR, isValidIP, isWildcardDNS1123Subdomain } from './names.js';
import { arr, enumField, immutable, intOrPercent, isObj, nonNegative, positive, validateLabelSelector, type Obj } from './common.js';

function validateIngressBackend(b: Obj, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const hasService = isObj(b?.service);
  const hasResource = isObj(b?.resource);
  if (hasService && hasResource) errs.push(invalid(path, '', 'cannot set both resource and service backends'));
  else if (hasService) {
    const s = b.service;
    if (!s.name) errs.push(required(child(path, 'service', 'name'), ''));
    else for (const msg of isDNS1035Label(s.name)) errs.push(invalid(child(path, 'service', 'name'), s.name, msg));
    const port = s.port ?? {};
    const hasName = !!port.name;
    const hasNumber = typeof port.number === 'number' && port.number !== 0;
    if (hasName && hasNumber) errs.push(invalid(child(path, 'service', 'port'), port, 'cannot set both port name & port number'));
    else if (!hasName && !hasNumber) errs.push(invalid(child(path, 'service', 'port'), port, 'port name or number is required'));
  } else if (hasResource) {
    if (!b.resource.kind) errs.push(required(child(path, 'resource', 'kind'), ''));
    if (!b.resource.name) errs.push(required(child(path, 'resource', 'name'), ''));
  } else {
    errs.push(invalid(path, '', 'resource or service backend is required'));
  }
  return errs;
}

export function validateIngress(obj: Obj): FieldError[] {
  const spec = isObj(obj.spec) ? obj.spec : {};
  const errs: FieldError[] = [];
  const rules = arr<Obj>(spec.rules);
  if (rules.length === 0 && !isObj(spec.defaultBackend)) {
    errs.push(invalid('spec', omitValue, 'either `defaultBackend` or `rules` must be specified'));
  }
  if (isObj(spec.defaultBackend)) errs.push(...validateIngressBackend(spec.defaultBackend, 'spec.defaultBackend'));
  if (spec.ingressClassName) for (const msg of isDNS1123Subdomain(spec.ingressClassName)) errs.push(invalid('spec.ingressClassName', spec.ingressClassName, msg));
  rules.forEach((r, i) => {
    const rp = index('spec.rules', i);
    if (r?.host) {
      const host = String(r.host);
      if (isValidIP(host).length === 0) errs.push(invalid(child(rp, 'host'), host, 'must be a DNS name, not an IP address'));
      const msgs = host.includes('*') ? isWildcardDNS1123Subdomain(host) : isDNS1123Subdomain(host);
      for (const msg of msgs) errs.push(invalid(child(rp, 'host'), host, msg));
    }
    if (!isObj(r?.http)) return;
    const paths = arr<Obj>(r.http.paths);
    if (paths.length === 0) errs.push(required(child(rp, 'http', 'paths'), ''));
    paths.forEach((p, j) => {
      const pp = index(child(rp, 'http', 'paths'), j);
      if (!p?.pathType) errs.push(required(child(pp, 'pathType'), 'pathType must be specified'));
      else if (!['Exact', 'ImplementationSpecific', 'Prefix'].includes(p.pathType)) {
        errs.push(notSupported(child(pp, 'pathType'), p.pathType, ['Exact', 'ImplementationSpecific', 'Prefix']));
      }
      if (p?.path !== undefined && p.path !== '' && !String(p.path).startsWith('/')) errs.push(invalid(child(pp, 'path'), p.path, 'must be an absolute path'));
      if ((p?.pathType === 'Exact' || p?.pathType === 'Prefix') && !p?.path) errs.push(invalid(child(pp, 'path'), p?.path ?? '', 'must be an absolute path'));
      errs.push(...validateIngressBackend(p?.backend ?? {}, child(pp, 'backend')));
    });
  });
  arr<Obj>(spec.tls).forEach((t, i) => {
    arr<string>(t?.hosts).forEach((h, j) => {
      const msgs = String(h).includes('*') ? isWildcardDNS1123Subdomain(h) : isDNS1123Subdomain(h);
      for (const msg of msgs) errs.push(invalid(index(child(index('spec.tls', i), 'hosts'), j), h, msg));
    });
  });
  return errs;
}

export function validateIngressClass(obj: Obj): FieldError[] {
  const errs: FieldError[] = [];
  const c = obj.spec?.controller;
  if (!c) errs.push(required('spec.controller', ''));
  else if (String(c).length > 250) errs.push(invalid('spec.controller', c, 'must be no more than 250 characters'));
  return errs;
}

export function validateIngressClassUpdate(n: Obj, o: Obj): FieldError[] {
  return immutable(n.spec?.controller ?? '', o.spec?.controller ?? '', 'spec.controller');
}

function validatePeers(peers: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  arr<Obj>(peers).forEach((peer, i) => {
    const p = index(path, i);
    const n = ['podSelector', 'namespaceSelector', 'ipBlock'].filter((k) => isObj(peer?.[k])).length;
    if (n === 0) errs.push(required(p, 'must specify a peer'));
    else if (isObj(peer.ipBlock) && n > 1) errs.push(forbidden(p, 'may not specify both ipBlock and another peer'));
    if (isObj(peer?.podSelector)) errs.push(...validateLabelSelector(peer.podSelector, child(p, 'podSelector')));
    if (isObj(peer?.namespaceSelector)) errs.push(...validateLabelSelector(peer.namespaceSelector, child(p, 'namespaceSelector')));
    if (isObj(peer?.ipBlock)) {
      const cidr = peer.ipBlock.cidr;
      if (!cidr) errs.push(required(child(p, 'ipBlock', 'cidr'), ''));
      else for (const msg of isValidCIDR(cidr)) errs.push(invalid(child(p, 'ipBlock', 'cidr'), cidr, msg));
      arr<string>(peer.ipBlock.except).forEach((e, j) => {
        for (const msg of isValidCIDR(e)) errs.push(invalid(index(child(p, 'ipBlock', 'except'), j), e, msg));
      });
    }
  });
  return errs;
}

function validateNetworkPolicyPorts(ports: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  arr<Obj>(ports).forEach((port, i) => {
    const p = index(path, i);
    if (port?.protocol) errs.push(...enumField(port.protocol, child(p, 'protocol'), ['SCTP', 'TCP', 'UDP'], false));
    if (typeof port?.port === 'number' && (port.port < 1 || port.port > 65535)) errs.push(invalid(child(p, 'port'), port.port, 'must be between 1 and 65535, inclusive'));
    if (typeof port?.endPort === 'number') {
      if (typeof port.port !== 'number') errs.push(required(child(p, 'port'), 'must be specified when endPort is specified'));
      else if (port.endPort < port.port) errs.push(invalid(child(p, 'endPort'), port.endPort, 'must be greater than or equal to `port`'));
    }
  });
  return errs;
}

export function validateNetworkPolicy(obj: Obj): FieldError[] {
  const spec = isObj(obj.spec) ? obj.spec : {};
  const errs: FieldError[] = [];
  errs.push(...validateLabelSelector(spec.podSelector, 'spec.podSelector'));
  arr<Obj>(spec.ingress).forEach((r, i) => {
    errs.push(...validateNetworkPolicyPorts(r?.ports, child(index('spec.ingress', i), 'ports')));
    errs.push(...validatePeers(r?.from, child(index('spec.ingress', i), 'from')));
  });
  arr<Obj>(spec.egress).forEach((r, i) => {
    errs.push(...validateNetworkPolicyPorts(r?.ports, child(index('spec.egress', i), 'ports')));
    errs.push(...validatePeers(r?.to, child(index('spec.egress', i), 'to')));
  });
  const types = arr<string>(spec.policyTypes);
  types.forEach((t, i) => {
    if (t !== 'Ingress' && t !== 'Egress') errs.push(notSupported(index('spec.policyTypes', i), t, ['Egress', 'Ingress']));
  });
  if (types.length > 2) errs.push(invalid('spec.policyTypes', types, 'may not specify more than two policyTypes'));
  return errs;
}

function validateScaleTargetRef(ref: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const r = isObj(ref) ? ref : {};
  if (!r.kind) errs.push(required(child(path, 'kind'), ''));
  else for (const msg of isPathSegment(r.kind)) errs.push(invalid(child(path, 'kind'), r.kind, msg));
  if (!r.name) errs.push(required(child(path, 'name'), ''));
  else for (const msg of isPathSegment(r.name)) errs.push(invalid(child(path, 'name'), r.name, msg));
  return errs;
}

function isPathSegment(s: string): string[] {
  if (s === '.' || s === '..') return [`may not be '${s}'`];
  return ['/', '%'].filter((c) => s.includes(c)).map((c) => `may not contain '${c}'`);
}

function validateHPACommon(spec: Obj): FieldError[] {
  const errs: FieldError[] = [];
  errs.push(...validateScaleTargetRef(spec.scaleTargetRef, 'spec.scaleTargetRef'));
  if (typeof spec.minReplicas === 'number' && spec.minReplicas < 1) errs.push(invalid('spec.minReplicas', spec.minReplicas, 'must be greater than or equal to 1'));
  if (typeof spec.maxReplicas !== 'number' || spec.maxReplicas < 1) errs.push(invalid('spec.maxReplicas', spec.maxReplicas ?? 0, 'must be greater than 0'));
  if (typeof spec.minReplicas === 'number' && typeof spec.maxReplicas === 'number' && spec.maxReplicas < spec.minReplicas) {
    errs.push(invalid('spec.maxReplicas', spec.maxReplicas, 'must be greater than or equal to `minReplicas`'));
  }
  return errs;
}

export function validateHPAv1(obj: Obj): FieldError[] {
  const spec = isObj(obj.spec) ? obj.spec : {};
  const errs = validateHPACommon(spec);
  if (typeof spec.targetCPUUtilizationPercentage === 'number' && spec.targetCPUUtilizationPercentage < 1) {
    errs.push(invalid('spec.targetCPUUtilizationPercentage', spec.targetCPUUtilizationPercentage, 'must be greater than 0'));
  }
  return errs;
}

const metricSourceTypes = ['ContainerResource', 'External', 'Object', 'Pods', 'Resource'];

export function validateHPAv2(obj: Obj): FieldError[] {
  const spec = isObj(obj.spec) ? obj.spec : {};
  const errs = validateHPACommon(spec);
  arr<Obj>(spec.metrics).forEach((m, i) => {
    const p = index('spec.metrics', i);
    if (!m?.type) {
      errs.push(required(child(p, 'type'), 'must specify a metric source type'));
      return;
    }
    if (!metricSourceTypes.includes(m.type)) {
      errs.push(notSupported(child(p, 'type'), m.type, metricSourceTypes));
      return;
    }
    const field = m.type.charAt(0).toLowerCase() + m.type.slice(1);
    if (!isObj(m[field])) {
      errs.push(required(child(p, field), 'must populate information for the given metric source'));
      return;
    }
    const target = m[field].target;
    if (!isObj(target)) {
      errs.push(required(child(p, field, 'target'), 'must specify a metric target'));
      return;
    }
    const tt = ['Utilization', 'Value', 'AverageValue'];
    if (!tt.includes(target.type)) errs.push(notSupported(child(p, field, 'target', 'type'), target.type ?? '', tt));
    errs.push(...positive(target.averageUtilization, child(p, field, 'target', 'averageUtilization')));
  });
  const behavior = spec.behavior;
  if (isObj(behavior)) {
    for (const dir of ['scaleUp', 'scaleDown']) {
      const rules = behavior[dir];
      if (!isObj(rules)) continue;
      const w = rules.stabilizationWindowSeconds;
      if (typeof w === 'number' && (w < 0 || w > 3600)) errs.push(invalid(`spec.behavior.${dir}.stabilizationWindowSeconds`, w, 'must be less than or equal to 3600'));
      if (rules.selectPolicy) errs.push(...enumField(rules.selectPolicy, `spec.behavior.${dir}.selectPolicy`, ['Disabled', 'Max', 'Min'], false));
      arr<Obj>(rules.policies).forEach((pol, j) => {
        const pp = index(`spec.behavior.${dir}.policies`, j);
        errs.push(...enumField(pol?.type, child(pp, 'type'), ['Percent', 'Pods']));
        errs.push(...positive(pol?.value ?? 0, child(pp, 'value')));
        errs.push(...positive(pol?.periodSeconds ?? 0, child(pp, 'periodSeconds')));
      });
    }
  }
  return errs;
}

export function validatePodDisruptionBudget(obj: Obj): FieldError[] {
  const spec = isObj(obj.spec) ? obj.spec : {};
  const errs: FieldError[] = [];
  if (spec.minAvailable !== undefined && spec.minAvailable !== null && spec.maxUnavailable !== undefined && spec.maxUnavailable !== null) {
    errs.push(invalid('spec', omitValue, 'minAvailable and maxUnavailable cannot be both set'));
  }
  for (const f of ['minAvailable', 'maxUnavailable']) {
    errs.push(...intOrPercent(spec[f], `spec.${f}`));
    if (typeof spec[f] === 'string' && /^[0-9]+%$/.test(spec[f]) && parseInt(spec[f], 10) > 100) errs.push(invalid(`spec.${f}`, spec[f], 'must not be greater than 100%'));
  }
  if (isObj(spec.selector)) errs.push(...validateLabelSelector(spec.selector, 'spec.selector'));
  if (spec.unhealthyPodEvictionPolicy) errs.push(...enumField(spec.unhealthyPodEvictionPolicy, 'spec.unhealthyPodEvictionPolicy', ['AlwaysAllow', 'IfHealthyBudget'], false));
  return errs;
}

function validatePolicyRules(rules: unknown, namespaced: boolean, path: string): FieldError[] {
  const errs: FieldError[] = [];
  arr<Obj>(rules).forEach((r, i) => {
    const p = index(path, i);
    if (arr(r?.verbs).length === 0) errs.push(required(child(p, 'verbs'), 'verbs must contain at least one value'));
    const nonResource = arr<string>(r?.nonResourceURLs);
    if (nonResource.length > 0) {
      if (namespaced) errs.push(invalid(child(p, 'nonResourceURLs'), nonResource, 'namespaced rules cannot apply to non-resource URLs'));
      if (arr(r?.apiGroups).length > 0 || arr(r?.resources).length > 0 || arr(r?.resourceNames).length > 0) {
        errs.push(invalid(child(p, 'nonResourceURLs'), nonResource, 'rules cannot apply to both regular resources and non-resource URLs'));
      }
      return;
    }
    if (arr(r?.apiGroups).length === 0) errs.push(required(child(p, 'apiGroups'), 'resource rules must supply at least one api group'));
    if (arr(r?.resources).length === 0) errs.push(required(child(p, 'resources'), 'resource rules must supply at least one resource'));
  });
  return errs;
}

export const validateRole = (obj: Obj) => validatePolicyRules(obj.rules, true, 'rules');
export function validateClusterRole(obj: Obj): FieldError[] {
  const errs = validatePolicyRules(obj.rules, false, 'rules');
  if (isObj(obj.aggregationRule)) {
    const sels = arr<Obj>(obj.aggregationRule.clusterRoleSelectors);
    if (sels.length === 0) errs.push(required('aggregationRule.clusterRoleSelectors', 'at least one clusterRoleSelector required if aggregationRule is non-nil'));
    sels.forEach((s, i) => errs.push(...validateLabelSelector(s, index('aggregationRule.clusterRoleSelectors', i))));
  }
  return errs;
}

function validateBinding(obj: Obj, namespaced: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const ref = isObj(obj.roleRef) ? obj.roleRef : {};
  if (ref.apiGroup !== 'rbac.authorization.k8s.io') errs.push(notSupported('roleRef.apiGroup', ref.apiGroup ?? '', ['rbac.authorization.k8s.io']));
  const kinds = namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole'];
  if (!kinds.includes(ref.kind)) errs.push(notSupported('roleRef.kind', ref.kind ?? '', kinds));
  if (!ref.name) errs.push(required('roleRef.name', ''));
  else for (const msg of isPathSegment(ref.name)) errs.push(invalid('roleRef.name', ref.name, msg));
  arr<Obj>(obj.subjects).forEach((s, i) => {
    const p = index('subjects', i);
    if (!s?.name) errs.push(required(child(p, 'name'), ''));
    switch (s?.kind) {
      case 'ServiceAccount':
        if (s.name) for (const msg of isDNS1123Subdomain(s.name)) errs.push(invalid(child(p, 'name'), s.name, msg));
        if (s.apiGroup) errs.push(notSupported(child(p, 'apiGroup'), s.apiGroup, ['']));
        if (!namespaced && !s.namespace) errs.push(required(child(p, 'namespace'), ''));
        break;
      case 'User':
      case 'Group':
        if (s.apiGroup !== 'rbac.authorization.k8s.io') errs.push(notSupported(child(p, 'apiGroup'), s.apiGroup ?? '', ['rbac.authorization.k8s.io']));
        break;
      default:
        errs.push(notSupported(child(p, 'kind'), s?.kind ?? '', ['ServiceAccount', 'User', 'Group']));
    }
  });
  return errs;
}

export const validateRoleBinding = (obj: Obj) => validateBinding(obj, true);
export const validateClusterRoleBinding = (obj: Obj) => validateBinding(obj, false);
export function validateBindingUpdate(n: Obj, o: Obj): FieldError[] {
  return immutable(n.roleRef ?? null, o.roleRef ?? null, 'roleRef', goTyped('rbac.RoleRef', n.roleRef)).map((e) => ({
    ...e,
    message: e.message.replace('field is immutable', 'cannot change roleRef'),
  }));
}

export function validateLease(obj: Obj): FieldError[] {
  const spec = isObj(obj.spec) ? obj.spec : {};
  const errs: FieldError[] = [];
  errs.push(...positive(spec.leaseDurationSeconds, 'spec.leaseDurationSeconds'));
  errs.push(...nonNegative(spec.leaseTransitions, 'spec.leaseTransitions'));
  if (spec.strategy) errs.push(...enumField(spec.strategy, 'spec.strategy', ['OldestEmulationVersion'], false));
  return errs;
}

const addressTypes = ['FQDN', 'IPv4', 'IPv6'];

export function validateEndpointSlice(obj: Obj): FieldError[] {
  const errs: FieldError[] = [];
  if (!obj.addressType) errs.push(required('addressType', ''));
  else if (!addressTypes.includes(obj.addressType)) errs.push(notSupported('addressType', obj.addressType, addressTypes));
  const endpoints = arr<Obj>(obj.endpoints);
  if (endpoints.length > 1000) errs.push({ type: 'FieldValueTooMany', field: 'endpoints', message: `Too many: ${endpoints.length}: must have at most 1000 items` });
  endpoints.forEach((ep, i) => {
    const p = index('endpoints', i);
    const addrs = arr<string>(ep?.addresses);
    if (addrs.length === 0) errs.push(required(child(p, 'addresses'), 'must contain at least 1 address'));
    else if (addrs.length > 100) errs.push({ type: 'FieldValueTooMany', field: child(p, 'addresses'), message: `Too many: ${addrs.length}: must have at most 100 items` });
    addrs.forEach((a, j) => {
      const ap = index(child(p, 'addresses'), j);
      const msgs = obj.addressType === 'FQDN' ? isDNS1123Subdomain(a) : isValidIP(a);
      for (const msg of msgs) errs.push(invalid(ap, a, msg));
      if (obj.addressType === 'IPv4' && msgs.length === 0 && a.includes(':')) errs.push(invalid(ap, a, 'must be an IPv4 address'));
      if (obj.addressType === 'IPv6' && msgs.length === 0 && !a.includes(':')) errs.push(invalid(ap, a, 'must be an IPv6 address'));
    });
    if (ep?.hostname) for (const msg of isDNS1123Label(ep.hostname)) errs.push(invalid(child(p, 'hostname'), ep.hostname, msg));
    if (ep?.nodeName) for (const msg of isDNS1123Subdomain(ep.nodeName)) errs.push(invalid(child(p, 'nodeName'), ep.nodeName, msg));
  });
  const names = new Set<string>();
  arr<Obj>(obj.ports).forEach((port, i) => {
    const p = index('ports', i);
    const name = port?.name ?? '';
    if (name) for (const msg of isDNS1123Label(name)) errs.push(invalid(child(p, 'name'), name, msg));
    if (names.has(name)) errs.push(duplicate(child(p, 'name'), name));
    names.add(name);
    if (port?.protocol) errs.push(...enumField(port.protocol, child(p, 'protocol'), ['SCTP', 'TCP', 'UDP'], false));
    if (typeof port?.port === 'number' && (port.port < 1 || port.port > 65535)) errs.push(invalid(child(p, 'port'), port.port, 'must be between 1 and 65535, inclusive'));
  });
  return errs;
}

export function validateEndpointSliceUpdate(n: Obj, o: Obj): FieldError[] {
  return immutable(n.addressType ?? '', o.addressType ?? '', 'addressType');
}

const highestUserDefinablePriority = 1000000000;

export function validatePriorityClass(obj: Obj): FieldError[] {
  const errs: FieldError[] = [];
  const name = String(obj.metadata?.name ?? '');
  const systemNames = new Set(['system-node-critical', 'system-cluster-critical']);
  if (name.startsWith('system-') && !systemNames.has(name)) {
    errs.push(forbidden('metadata.name', "priority class names with 'system-' prefix are reserved"));
  } else if (!systemNames.has(name) && typeof obj.value === 'number' && obj.value > highestUserDefinablePriority) {
    errs.push(forbidden('value', `maximum allowed value of a user defined priority is ${highestUserDefinablePriority}`));
  }
  if (obj.preemptionPolicy) errs.push(...enumField(obj.preemptionPolicy, 'preemptionPolicy', ['Never', 'PreemptLowerPriority'], false));
  return errs;
}

export function validatePriorityClassUpdate(n: Obj, o: Obj): FieldError[] {
  const errs: FieldError[] = [];
  if (n.value !== o.value) errs.push(forbidden('value', 'may not be changed in an update.'));
  errs.push(...immutable(n.preemptionPolicy ?? null, o.preemptionPolicy ?? null, 'preemptionPolicy'));
  return errs;
}

export function validateRuntimeClass(obj: Obj): FieldError[] {
  const errs: FieldError[] = [];
  if (!obj.handler) errs.push(required('handler', ''));
  else for (const msg of isDNS1123Label(obj.handler)) errs.push(invalid('handler', obj.handler, msg));
  return errs;
}

export function validateRuntimeClassUpdate(n: Obj, o: Obj): FieldError[] {
  return immutable(n.handler ?? '', o.handler ?? '', 'handler');
}

function validateStructuralSchema(schema: unknown, path: string, root: boolean): FieldError[] {
  const errs: FieldError[] = [];
  if (!isObj(schema)) return errs;
  const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true;
  const intOrString = schema['x-kubernetes-int-or-string'] === true;
  if (root) {
    if (schema.type !== undefined && schema.type !== 'object') errs.push(invalid(child(path, 'type'), schema.type, 'must be object at the root'));
    else if (!schema.type && !preserve) errs.push(required(child(path, 'type'), 'must not be empty at the root'));
  } else if (!schema.type && !preserve && !intOrString) {
    errs.push(required(child(path, 'type'), 'must not be empty for specified object fields'));
  }
  if (schema.type === 'array' && !isObj(schema.items)) errs.push(required(child(path, 'items'), 'must be specified'));
  if (isObj(schema.properties)) {
    for (const k of Object.keys(schema.properties).sort()) errs.push(...validateStructuralSchema(schema.properties[k], `${path}.properties[${k}]`, false));
  }
  if (isObj(schema.items)) errs.push(...validateStructuralSchema(schema.items, child(path, 'items'), false));
  if (isObj(schema.additionalProperties)) {
    if (isObj(schema.properties)) errs.push(forbidden(child(path, 'additionalProperties'), 'additionalProperties and properties are mutual exclusive'));
    errs.push(...validateStructuralSchema(schema.additionalProperties, child(path, 'additionalProperties'), false));
  }
  return errs;
}

export function validateCustomResourceDefinition(obj: Obj): FieldError[] {
  const spec = isObj(obj.spec) ? obj.spec : {};
  const names = isObj(spec.names) ? spec.names : {};
  const errs: FieldError[] = [];
  const group = String(spec.group ?? '');
  const name = obj.metadata?.name;
  if (name && name !== `${names.plural}.${group}`) errs.push(invalid('metadata.name', name, 'must be spec.names.plural+"."+spec.group'));
  if (!group) errs.push(required('spec.group', ''));
  else if (group.split('.').length < 2) errs.push(invalid('spec.group', group, 'should be a domain with at least one dot'));
  else for (const msg of isDNS1123Subdomain(group)) errs.push(invalid('spec.group', group, msg));
  errs.push(...enumField(spec.scope, 'spec.scope', ['Cluster', 'Namespaced']));
  for (const f of ['plural', 'singular']) {
    const v = names[f];
    if (f === 'plural' && !v) errs.push(required('spec.names.plural', ''));
    if (v) for (const msg of isDNS1035Label(v)) errs.push(invalid(`spec.names.${f}`, v, msg));
  }
  for (const f of ['kind', 'listKind']) {
    const v = names[f];
    if (!v) errs.push(required(`spec.names.${f}`, ''));
    else if (!/^[A-Za-z][-A-Za-z0-9_]*$/.test(v) || isDNS1035Label(String(v).toLowerCase()).length) {
      errs.push(invalid(`spec.names.${f}`, v, 'may have mixed case, but should otherwise match: ' + '[a-z]([-a-z0-9]*[a-z0-9])?'));
    }
  }
  if (names.kind && names.listKind && names.kind === names.listKind) errs.push(invalid('spec.names.listKind', names.listKind, 'kind and listKind may not be the same'));
  arr<string>(names.shortNames).forEach((s, i) => {
    for (const msg of isDNS1035Label(s)) errs.push(invalid(index('spec.names.shortNames', i), s, msg));
  });
  const versions = arr<Obj>(spec.versions);
  if (versions.length === 0) errs.push(required('spec.versions', 'must have exactly one version marked as storage version'));
  else {
    const storage = versions.filter((v) => v?.storage === true).length;
    if (storage !== 1) errs.push(invalid('spec.versions', omitValue, 'must have exactly one version marked as storage version'));
  }
  const seen = new Set<string>();
  versions.forEach((v, i) => {
    const p = index('spec.versions', i);
    if (!v?.name) errs.push(required(child(p, 'name'), ''));
    else {
      for (const msg of isDNS1035Label(v.name)) errs.push(invalid(child(p, 'name'), v.name, msg));
      if (seen.has(v.name)) errs.push(invalid('spec.versions', omitValue, 'must contain unique version names'));
      seen.add(v.name);
    }
    const schema = v?.schema?.openAPIV3Schema;
    if (!isObj(schema)) errs.push(required(child(p, 'schema', 'openAPIV3Schema'), 'schemas are required'));
    else errs.push(...validateStructuralSchema(schema, child(p, 'schema', 'openAPIV3Schema'), true));
  });
  return errs;
}

export function validateCustomResourceDefinitionUpdate(n: Obj, o: Obj): FieldError[] {
  const errs: FieldError[] = [];
  errs.push(...immutable(n.spec?.group ?? '', o.spec?.group ?? '', 'spec.group'));
  errs.push(...immutable(n.spec?.names?.plural ?? '', o.spec?.names?.plural ?? '', 'spec.names.plural'));
  return errs;
}

