// Workload controllers: Deployment, ReplicaSet, DaemonSet, StatefulSet (apps) and ReplicationController (core).
import type { FieldError } from '../types.js';
import { child, forbidden, goTyped, invalid, notSupported, omitValue, required } from './field.js';
import {
  arr,
  deepEqual,
  enumField,
  immutable,
  intOrPercent,
  intOrPercentIsZero,
  isObj,
  labelSelectorValue,
  nonNegative,
  notMoreThan100Percent,
  selectorMatchesTemplate,
  validateLabels,
  validateLabelSelector,
  type Obj,
} from './common.js';
import { validatePodTemplateSpec } from './pod.js';
import { validatePersistentVolumeClaimSpec } from './storage.js';

const intstr = (v: unknown) => goTyped('intstr.IntOrString', v);

/** selector required, valid, non-empty; template validated and selected; restartPolicy Always only. */
function validateSelectorAndTemplate(spec: Obj, path: string, kindWord: string, ownerName: string, selectorRequired = true): FieldError[] {
  const errs: FieldError[] = [];
  const sel = spec.selector;
  if (!isObj(sel)) {
    if (selectorRequired) errs.push(required(child(path, 'selector'), ''));
  } else {
    errs.push(...validateLabelSelector(sel, child(path, 'selector')));
    if (Object.keys(sel.matchLabels ?? {}).length + arr(sel.matchExpressions).length === 0) {
      errs.push(invalid(child(path, 'selector'), labelSelectorValue(sel), `empty selector is invalid for ${kindWord}`));
    }
  }
  const template = spec.template;
  const templatePath = child(path, 'template');
  if (!isObj(template)) {
    errs.push(required(templatePath, ''));
    return errs;
  }
  // A nil selector selects nothing, so Kubernetes also reports the template as unselected.
  const empty = isObj(sel) && Object.keys(sel.matchLabels ?? {}).length + arr(sel.matchExpressions).length === 0;
  if (!empty) errs.push(...selectorMatchesTemplate(isObj(sel) ? sel : (null as any), template.metadata?.labels, child(templatePath, 'metadata', 'labels')));
  errs.push(...validatePodTemplateSpec(template, templatePath));
  errs.push(...templateRestartAlways(template, templatePath, ownerName));
  return errs;
}

function templateRestartAlways(template: Obj, templatePath: string, ownerName: string): FieldError[] {
  const errs: FieldError[] = [];
  const rp = template.spec?.restartPolicy;
  if (rp !== 'Always') errs.push(notSupported(child(templatePath, 'spec', 'restartPolicy'), rp ?? '', ['Always']));
  if (template.spec?.activeDeadlineSeconds !== undefined && template.spec?.activeDeadlineSeconds !== null) {
    errs.push(forbidden(child(templatePath, 'spec', 'activeDeadlineSeconds'), `activeDeadlineSeconds in ${ownerName} is not Supported`));
  }
  return errs;
}

export function validateDeployment(obj: Obj): FieldError[] {
  const spec = isObj(obj.spec) ? obj.spec : {};
  const errs: FieldError[] = [];
  errs.push(...nonNegative(spec.replicas, 'spec.replicas'));
  errs.push(...validateSelectorAndTemplate(spec, 'spec', 'deployment', 'ReplicaSet'));
  const strategy = isObj(spec.strategy) ? spec.strategy : {};
  if (strategy.type === 'Recreate') {
    if (strategy.rollingUpdate !== undefined && strategy.rollingUpdate !== null) {
      errs.push(forbidden('spec.strategy.rollingUpdate', "may not be specified when strategy `type` is 'Recreate'"));
    }
  } else if (strategy.type === 'RollingUpdate') {
    const ru = strategy.rollingUpdate;
    if (!isObj(ru)) errs.push(required('spec.strategy.rollingUpdate', 'this should be defaulted and never be nil'));
    else {
      errs.push(...intOrPercent(ru.maxUnavailable, 'spec.strategy.rollingUpdate.maxUnavailable'));
      errs.push(...intOrPercent(ru.maxSurge, 'spec.strategy.rollingUpdate.maxSurge'));
      if (intOrPercentIsZero(ru.maxUnavailable ?? 0) && intOrPercentIsZero(ru.maxSurge ?? 0)) {
        errs.push(invalid('spec.strategy.rollingUpdate.maxUnavailable', intstr(ru.maxUnavailable ?? 0), 'may not be 0 when `maxSurge` is 0'));
      }
      errs.push(...notMoreThan100Percent(ru.maxUnavailable, 'spec.strategy.rollingUpdate.maxUnavailable'));
    }
  } else {
    errs.push(notSupported('spec.strategy', strategy.type ?? '', ['Recreate', 'RollingUpdate']));
  }
  errs.push(...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  errs.push(...nonNegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
  if (typeof spec.progressDeadlineSeconds === 'number') {
    errs.push(...nonNegative(spec.progressDeadlineSeconds, 'spec.progressDeadlineSeconds'));
    if (spec.progressDeadlineSeconds <= (spec.minReadySeconds ?? 0)) {
      errs.push(invalid('spec.progressDeadlineSeconds', spec.progressDeadlineSeconds, 'must be greater than minReadySeconds'));
    }
  }
  return errs;
}

/** apps/v1 forbids changing the selector of Deployments, ReplicaSets and DaemonSets. */
export function validateSelectorUpdate(newObj: Obj, oldObj: Obj): FieldError[] {
  return immutable(newObj.spec?.selector ?? null, oldObj.spec?.selector ?? null, 'spec.selector', labelSelectorValue(newObj.spec?.selector ?? null));
}

export function validateReplicaSet(obj: Obj): FieldError[] {
  const spec = isObj(obj.spec) ? obj.spec : {};
  const errs: FieldError[] = [];
  errs.push(...nonNegative(spec.replicas, 'spec.replicas'));
  errs.push(...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  // Kubernetes reuses the Deployment wording here.
  errs.push(...validateSelectorAndTemplate(spec, 'spec', 'deployment', 'ReplicaSet'));
  return errs;
}

export function validateDaemonSet(obj: Obj): FieldError[] {
  const spec = isObj(obj.spec) ? obj.spec : {};
  const errs: FieldError[] = [];
  errs.push(...validateSelectorAndTemplate(spec, 'spec', 'daemonset', 'DaemonSet'));
  errs.push(...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  errs.push(...nonNegative(spec.templateGeneration, 'spec.templateGeneration'));
  errs.push(...nonNegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
  const us = isObj(spec.updateStrategy) ? spec.updateStrategy : {};
  if (us.type === 'RollingUpdate') {
    const ru = us.rollingUpdate;
    if (!isObj(ru)) errs.push(required('spec.updateStrategy.rollingUpdate', ''));
    else {
      const p = 'spec.updateStrategy.rollingUpdate';
      errs.push(...intOrPercent(ru.maxUnavailable, `${p}.maxUnavailable`));
      errs.push(...intOrPercent(ru.maxSurge, `${p}.maxSurge`));
      errs.push(...notMoreThan100Percent(ru.maxUnavailable, `${p}.maxUnavailable`));
      errs.push(...notMoreThan100Percent(ru.maxSurge, `${p}.maxSurge`));
      const hasUnavailable = !intOrPercentIsZero(ru.maxUnavailable ?? 0);
      const hasSurge = !intOrPercentIsZero(ru.maxSurge ?? 0);
      if (hasUnavailable && hasSurge) errs.push(invalid(`${p}.maxSurge`, intstr(ru.maxSurge), 'may not be set when maxUnavailable is non-zero'));
      if (!hasUnavailable && !hasSurge) errs.push(invalid(`${p}.maxUnavailable`, intstr(ru.maxUnavailable ?? 0), 'cannot be 0 when maxSurge is 0'));
    }
  } else if (us.type !== 'OnDelete') {
    errs.push(notSupported('spec.updateStrategy', us.type ?? '', ['RollingUpdate', 'OnDelete']));
  }
  return errs;
}

/**
 * Containers of a StatefulSet may mount volumes named after its volumeClaimTemplates: the
 * controller adds those volumes to each pod, so they count as declared when the template is checked.
 */
function withClaimTemplateVolumes(spec: Obj): Obj {
  const names = arr<Obj>(spec.volumeClaimTemplates).map((t) => t?.metadata?.name).filter((n): n is string => typeof n === 'string' && n !== '');
  const podSpec = spec.template?.spec;
  if (names.length === 0 || !isObj(podSpec)) return spec;
  const declared = new Set(arr<Obj>(podSpec.volumes).map((v) => v?.name));
  const volumes = [...arr<Obj>(podSpec.volumes), ...names.filter((n) => !declared.has(n)).map((name) => ({ name, persistentVolumeClaim: { claimName: name } }))];
  return { ...spec, template: { ...spec.template, spec: { ...podSpec, volumes } } };
}

export function validateStatefulSet(obj: Obj): FieldError[] {
  const spec = isObj(obj.spec) ? obj.spec : {};
  const errs: FieldError[] = [];
  const pmp = spec.podManagementPolicy;
  if (!pmp) errs.push(required('spec.podManagementPolicy', ''));
  else if (pmp !== 'OrderedReady' && pmp !== 'Parallel') errs.push(invalid('spec.podManagementPolicy', pmp, "must be 'OrderedReady' or 'Parallel'"));
  const us = isObj(spec.updateStrategy) ? spec.updateStrategy : {};
  if (!us.type) errs.push(required('spec.updateStrategy', ''));
  else if (us.type === 'OnDelete') {
    if (us.rollingUpdate !== undefined && us.rollingUpdate !== null) {
      errs.push(invalid('spec.updateStrategy.rollingUpdate', us.rollingUpdate, "only allowed for updateStrategy 'RollingUpdate'"));
    }
  } else if (us.type === 'RollingUpdate') {
    if (isObj(us.rollingUpdate)) {
      errs.push(...nonNegative(us.rollingUpdate.partition, 'spec.updateStrategy.rollingUpdate.partition'));
      if (us.rollingUpdate.maxUnavailable !== undefined) {
        const mu = us.rollingUpdate.maxUnavailable;
        errs.push(...intOrPercent(mu, 'spec.updateStrategy.rollingUpdate.maxUnavailable'));
        if (intOrPercentIsZero(mu)) errs.push(invalid('spec.updateStrategy.rollingUpdate.maxUnavailable', intstr(mu), 'must be greater than 0'));
        errs.push(...notMoreThan100Percent(mu, 'spec.updateStrategy.rollingUpdate.maxUnavailable'));
      }
    }
  } else {
    errs.push(invalid('spec.updateStrategy', us, "must be 'RollingUpdate' or 'OnDelete'"));
  }
  const retention = spec.persistentVolumeClaimRetentionPolicy;
  if (isObj(retention)) {
    for (const f of ['whenDeleted', 'whenScaled']) {
      errs.push(...enumField(retention[f], `spec.persistentVolumeClaimRetentionPolicy.${f}`, ['Retain', 'Delete']));
    }
  }
  errs.push(...nonNegative(spec.replicas, 'spec.replicas'));
  errs.push(...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  if (isObj(spec.ordinals)) errs.push(...nonNegative(spec.ordinals.start, 'spec.ordinals.start'));
  errs.push(...validateSelectorAndTemplate(withClaimTemplateVolumes(spec), 'spec', 'statefulset', 'StatefulSet'));
  arr<Obj>(spec.volumeClaimTemplates).forEach((t, i) => {
    const p = `spec.volumeClaimTemplates[${i}]`;
    errs.push(...validateLabels(t?.metadata?.labels, `${p}.metadata.labels`));
    errs.push(...validatePersistentVolumeClaimSpec(t?.spec, `${p}.spec`));
  });
  return errs;
}

const statefulSetUpdateForbidden =
  "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden";

export function validateStatefulSetUpdate(newObj: Obj, oldObj: Obj): FieldError[] {
  const n = { ...(newObj.spec ?? {}) };
  const o = { ...(oldObj.spec ?? {}) };
  for (const f of ['replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds']) {
    delete n[f];
    delete o[f];
  }
  return deepEqual(n, o) ? [] : [forbidden('spec', statefulSetUpdateForbidden)];
}

export function validateReplicationController(obj: Obj): FieldError[] {
  const spec = isObj(obj.spec) ? obj.spec : {};
  const errs: FieldError[] = [];
  errs.push(...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  const selector = isObj(spec.selector) ? spec.selector : {};
  if (Object.keys(selector).length === 0) errs.push(required('spec.selector', ''));
  errs.push(...validateLabels(selector, 'spec.selector'));
  errs.push(...nonNegative(spec.replicas, 'spec.replicas'));
  const template = spec.template;
  if (!isObj(template)) {
    errs.push(required('spec.template', ''));
    return errs;
  }
  const labels: Record<string, string> = template.metadata?.labels ?? {};
  if (Object.keys(selector).length > 0 && !Object.entries(selector).every(([k, v]) => labels[k] === v)) {
    errs.push(invalid('spec.template.metadata.labels', template.metadata?.labels ?? {}, '`selector` does not match template `labels`'));
  }
  errs.push(...validatePodTemplateSpec(template, 'spec.template'));
  errs.push(...templateRestartAlways(template, 'spec.template', 'ReplicationController'));
  return errs;
}

export function validateControllerRevision(obj: Obj): FieldError[] {
  const errs: FieldError[] = [];
  if (obj.data === undefined || obj.data === null) errs.push(required('data', 'data is mandatory'));
  errs.push(...nonNegative(obj.revision, 'revision'));
  return errs;
}

export function validateControllerRevisionUpdate(newObj: Obj, oldObj: Obj): FieldError[] {
  return immutable(newObj.data ?? null, oldObj.data ?? null, 'data', omitValue);
}
