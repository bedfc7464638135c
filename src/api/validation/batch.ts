// Job and CronJob (batch/v1).
import { CronExpressionParser } from 'cron-parser';
import type { FieldError } from '../types.js';
import { child, invalid, notSupported, omitValue, required } from './field.js';
import { maxLenError } from './names.js';
import {
  deepEqual,
  enumField,
  immutable,
  isObj,
  labelSelectorValue,
  nonNegative,
  selectorMatchesTemplate,
  validateLabelSelector,
  type Obj,
} from './common.js';
import { validatePodTemplateSpec } from './pod.js';

const maxParallelismForIndexedJob = 100000;

function validateJobSpecCommon(spec: Obj, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const f of ['parallelism', 'completions', 'activeDeadlineSeconds', 'backoffLimit', 'ttlSecondsAfterFinished', 'backoffLimitPerIndex', 'maxFailedIndexes']) {
    errs.push(...nonNegative(spec[f], child(path, f)));
  }
  const mode = spec.completionMode;
  if (mode !== undefined && mode !== null) {
    if (mode !== 'NonIndexed' && mode !== 'Indexed') errs.push(notSupported(child(path, 'completionMode'), mode, ['NonIndexed', 'Indexed']));
    if (mode === 'Indexed') {
      if (spec.completions === undefined || spec.completions === null) errs.push(required(child(path, 'completions'), 'when completion mode is Indexed'));
      if (typeof spec.parallelism === 'number' && spec.parallelism > maxParallelismForIndexedJob) {
        errs.push(
          invalid(child(path, 'parallelism'), spec.parallelism, `must be less than or equal to ${maxParallelismForIndexedJob} when completion mode is Indexed`),
        );
      }
    }
  }
  if (spec.backoffLimitPerIndex !== undefined && spec.backoffLimitPerIndex !== null && mode !== 'Indexed') {
    errs.push(invalid(child(path, 'backoffLimitPerIndex'), spec.backoffLimitPerIndex, 'requires indexed completion mode'));
  }
  if (spec.podReplacementPolicy !== undefined && spec.podReplacementPolicy !== null) {
    errs.push(...enumField(spec.podReplacementPolicy, child(path, 'podReplacementPolicy'), ['TerminatingOrFailed', 'Failed'], false));
  }
  const tp = child(path, 'template');
  if (!isObj(spec.template)) {
    errs.push(required(tp, ''));
    return errs;
  }
  errs.push(...validatePodTemplateSpec(spec.template, tp));
  const rp = spec.template.spec?.restartPolicy;
  if (rp !== 'OnFailure' && rp !== 'Never') {
    errs.push(notSupported(child(tp, 'spec', 'restartPolicy'), rp ?? '', ['OnFailure', 'Never']));
  } else if (rp !== 'Never' && isObj(spec.podFailurePolicy)) {
    errs.push(invalid(child(tp, 'spec', 'restartPolicy'), rp, 'only "Never" is supported when podFailurePolicy is specified'));
  }
  return errs;
}

export function validateJob(obj: Obj): FieldError[] {
  const spec = isObj(obj.spec) ? obj.spec : {};
  const errs: FieldError[] = [];
  // The apiserver generates the selector unless manualSelector is true (see generateJobSelector).
  if (!isObj(spec.selector)) errs.push(required('spec.selector', ''));
  else errs.push(...validateLabelSelector(spec.selector, 'spec.selector'));
  if (isObj(spec.template)) errs.push(...selectorMatchesTemplate(isObj(spec.selector) ? spec.selector : (null as any), spec.template.metadata?.labels, 'spec.template.metadata.labels'));
  errs.push(...validateJobSpecCommon(spec, 'spec'));
  return errs;
}

/** What may change in a suspended Job that never started: scheduling directives of its template. */
function stripSchedulingDirectives(template: Obj): Obj {
  const t = structuredClone(template ?? {});
  if (isObj(t.metadata)) {
    delete t.metadata.labels;
    delete t.metadata.annotations;
  }
  if (isObj(t.spec)) {
    delete t.spec.nodeSelector;
    delete t.spec.affinity;
    delete t.spec.tolerations;
    delete t.spec.schedulingGates;
  }
  return t;
}

export function validateJobUpdate(newObj: Obj, oldObj: Obj): FieldError[] {
  const n = isObj(newObj.spec) ? newObj.spec : {};
  const o = isObj(oldObj.spec) ? oldObj.spec : {};
  const errs: FieldError[] = [];
  // Elastic Indexed Jobs may scale completions together with parallelism.
  const elastic = n.completionMode === 'Indexed' && o.completionMode === 'Indexed' && n.completions === n.parallelism && o.completions === o.parallelism;
  if (!elastic) errs.push(...immutable(n.completions ?? null, o.completions ?? null, 'spec.completions'));
  errs.push(...immutable(n.selector ?? null, o.selector ?? null, 'spec.selector', labelSelectorValue(n.selector ?? null)));
  const mayMutateScheduling = o.suspend === true && !oldObj.status?.startTime;
  const templateSame = mayMutateScheduling
    ? deepEqual(stripSchedulingDirectives(n.template), stripSchedulingDirectives(o.template))
    : deepEqual(n.template, o.template);
  if (!templateSame) errs.push(invalid('spec.template', omitValue, 'field is immutable'));
  errs.push(...immutable(n.completionMode ?? null, o.completionMode ?? null, 'spec.completionMode'));
  errs.push(...immutable(n.podFailurePolicy ?? null, o.podFailurePolicy ?? null, 'spec.podFailurePolicy', omitValue));
  errs.push(...immutable(n.backoffLimitPerIndex ?? null, o.backoffLimitPerIndex ?? null, 'spec.backoffLimitPerIndex'));
  return errs;
}

const cronDescriptors = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);

/** cron.ParseStandard (robfig/cron v3) acceptance: 5 fields or a descriptor. Returns the error text or ''. */
export function cronScheduleError(schedule: string): string {
  let spec = schedule.trim();
  if (spec.length === 0) return 'empty spec string';
  // A leading TZ=/CRON_TZ= is parsed (and then rejected separately by Kubernetes).
  const tz = /^(?:CRON_TZ|TZ)=(\S+)\s*(.*)$/.exec(spec);
  let timeZone: string | undefined;
  if (tz) {
    timeZone = tz[1];
    spec = tz[2];
    try {
      new Intl.DateTimeFormat('en-US', { timeZone });
    } catch {
      return `provided bad location ${timeZone}: unknown time zone ${timeZone}`;
    }
  }
  if (spec.startsWith('@')) {
    if (cronDescriptors.has(spec)) return '';
    const every = /^@every (.+)$/.exec(spec);
    if (every) {
      if (/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(every[1])) return '';
      return `failed to parse duration ${spec}: time: invalid duration ${JSON.stringify(every[1])}`;
    }
    return `unrecognized descriptor: ${spec}`;
  }
  const fields = spec.split(/\s+/).filter(Boolean);
  if (fields.length !== 5) return `expected exactly 5 fields, found ${fields.length}: [${fields.join(' ')}]`;
  if (/[LW#]/i.test(fields.join(' ').replace(/[A-Za-z]{3}/g, (m) => (/^(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|sun|mon|tue|wed|thu|fri|sat)$/i.test(m) ? '' : m)))) {
    return `failed to parse int from ${fields.find((f) => /[LW#]/i.test(f))}: strconv.Atoi: parsing ${JSON.stringify(fields.find((f) => /[LW#]/i.test(f)))}: invalid syntax`;
  }
  try {
    CronExpressionParser.parse(fields.join(' '), { strict: false });
  } catch (e) {
    return (e as Error).message;
  }
  return '';
}

function validateTimeZone(tz: unknown, path: string): FieldError[] {
  if (tz === undefined || tz === null) return [];
  const s = String(tz);
  if (s.length === 0) return [invalid(path, s, 'timeZone must be nil or non-empty string')];
  for (const part of s.split('/')) {
    if (part === '.' || part === '..' || part.startsWith('-') || !/^[A-Za-z\.\-_0-9+]{1,14}$/.test(part)) {
      return [invalid(path, s, `unknown time zone ${s}`)];
    }
  }
  if (s.toLowerCase() === 'local') return [invalid(path, s, 'timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones')];
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: s });
  } catch {
    return [invalid(path, s, `unknown time zone ${s}`)];
  }
  return [];
}

function validateCronJobSpec(spec: Obj, oldSpec: Obj | undefined): FieldError[] {
  const errs: FieldError[] = [];
  if (!spec.schedule) errs.push(required('spec.schedule', ''));
  else {
    const schedule = String(spec.schedule);
    const msg = cronScheduleError(schedule);
    if (msg) errs.push(invalid('spec.schedule', schedule, msg));
    const allowTZ = !!oldSpec && String(oldSpec.schedule ?? '').includes('TZ');
    if (allowTZ && schedule.includes('TZ') && spec.timeZone != null) {
      errs.push(invalid('spec.schedule', schedule, 'cannot use both timeZone field and TZ or CRON_TZ in schedule'));
    } else if (!allowTZ && schedule.includes('TZ')) {
      errs.push(invalid('spec.schedule', schedule, 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead'));
    }
  }
  errs.push(...nonNegative(spec.startingDeadlineSeconds, 'spec.startingDeadlineSeconds'));
  if (!oldSpec || oldSpec.timeZone !== spec.timeZone) errs.push(...validateTimeZone(spec.timeZone, 'spec.timeZone'));
  errs.push(...enumField(spec.concurrencyPolicy, 'spec.concurrencyPolicy', ['Allow', 'Forbid', 'Replace']));
  const jt = spec.jobTemplate;
  if (!isObj(jt)) errs.push(required('spec.jobTemplate', ''));
  else {
    const js = isObj(jt.spec) ? jt.spec : {};
    errs.push(...validateJobSpecCommon(js, 'spec.jobTemplate.spec'));
    if (js.selector !== undefined && js.selector !== null) {
      errs.push(invalid('spec.jobTemplate.spec.selector', labelSelectorValue(js.selector), '`selector` will be auto-generated'));
    }
    if (js.manualSelector === true) errs.push(notSupported('spec.jobTemplate.spec.manualSelector', true, ['nil', 'false']));
  }
  errs.push(...nonNegative(spec.successfulJobsHistoryLimit, 'spec.successfulJobsHistoryLimit'));
  errs.push(...nonNegative(spec.failedJobsHistoryLimit, 'spec.failedJobsHistoryLimit'));
  return errs;
}

/** CronJob names leave room for the 11-character suffix of the Jobs they create. */
const cronJobNameMaxLength = 52;

export function validateCronJob(obj: Obj): FieldError[] {
  const errs: FieldError[] = [];
  const name = obj.metadata?.name;
  if (typeof name === 'string' && name.length > cronJobNameMaxLength) errs.push(invalid('metadata.name', name, maxLenError(cronJobNameMaxLength)));
  errs.push(...validateCronJobSpec(isObj(obj.spec) ? obj.spec : {}, undefined));
  return errs;
}

/** Replaces validateCronJob on update: the old spec decides whether a legacy TZ= schedule is still allowed. */
export function validateCronJobUpdate(newObj: Obj, oldObj: Obj): FieldError[] {
  return validateCronJobSpec(isObj(newObj.spec) ? newObj.spec : {}, isObj(oldObj.spec) ? oldObj.spec : {});
}
