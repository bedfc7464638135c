// Conversion between served versions of one stored resource. Objects are stored in the
// storage version and converted on the way out (and in), as kube-apiserver does. Most kinds
// differ only in apiVersion; the exceptions are written out here.
import type { KubeObject } from '../api/types.js';

type Converter = (obj: KubeObject) => KubeObject;

function eventToEventsV1(e: KubeObject): KubeObject {
  const { involvedObject, message, source, firstTimestamp, lastTimestamp, count, reportingComponent, ...rest } = e;
  const out: KubeObject = { ...rest, apiVersion: 'events.k8s.io/v1', kind: 'Event' };
  if (involvedObject) out.regarding = involvedObject;
  if (message !== undefined) out.note = message;
  if (source && (source.component || source.host)) out.deprecatedSource = source;
  if (firstTimestamp) out.deprecatedFirstTimestamp = firstTimestamp;
  if (lastTimestamp) out.deprecatedLastTimestamp = lastTimestamp;
  if (count) out.deprecatedCount = count;
  if (reportingComponent) out.reportingController = reportingComponent;
  return out;
}

function eventsV1ToEvent(e: KubeObject): KubeObject {
  const { regarding, note, deprecatedSource, deprecatedFirstTimestamp, deprecatedLastTimestamp, deprecatedCount, reportingController, ...rest } = e;
  const out: KubeObject = { ...rest, apiVersion: 'v1', kind: 'Event' };
  if (regarding) out.involvedObject = regarding;
  if (note !== undefined) out.message = note;
  if (deprecatedSource) out.source = deprecatedSource;
  else if (reportingController) out.source = { component: reportingController, ...(e.reportingInstance ? { host: e.reportingInstance } : {}) };
  if (deprecatedFirstTimestamp) out.firstTimestamp = deprecatedFirstTimestamp;
  if (deprecatedLastTimestamp) out.lastTimestamp = deprecatedLastTimestamp;
  if (deprecatedCount) out.count = deprecatedCount;
  if (reportingController) out.reportingComponent = reportingController;
  return out;
}

function hpaV2ToV1(h: KubeObject): KubeObject {
  const spec = h.spec ?? {};
  const status = h.status ?? {};
  const { metrics, behavior: _b, ...restSpec } = spec;
  const cpu = (metrics ?? []).find((m: KubeObject) => m.type === 'Resource' && m.resource?.name === 'cpu' && m.resource?.target?.type === 'Utilization');
  const outSpec: KubeObject = { ...restSpec };
  if (cpu) outSpec.targetCPUUtilizationPercentage = cpu.resource.target.averageUtilization;
  const currentCpu = (status.currentMetrics ?? []).find((m: KubeObject) => m.type === 'Resource' && m.resource?.name === 'cpu');
  const { currentMetrics: _c, conditions, ...restStatus } = status;
  const outStatus: KubeObject = { ...restStatus };
  if (currentCpu?.resource?.current?.averageUtilization !== undefined) outStatus.currentCPUUtilizationPercentage = currentCpu.resource.current.averageUtilization;
  const out: KubeObject = { ...h, apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', spec: outSpec, status: outStatus };
  // v1 keeps what it cannot express in annotations, as Kubernetes does, so a round trip loses nothing.
  const annotations = { ...(h.metadata.annotations ?? {}) };
  const others = (metrics ?? []).filter((m: KubeObject) => m !== cpu);
  if (others.length) annotations['autoscaling.alpha.kubernetes.io/metrics'] = JSON.stringify(others);
  if (conditions?.length) annotations['autoscaling.alpha.kubernetes.io/conditions'] = JSON.stringify(conditions);
  if (Object.keys(annotations).length) out.metadata = { ...h.metadata, annotations };
  return out;
}

function hpaV1ToV2(h: KubeObject): KubeObject {
  const spec = h.spec ?? {};
  const { targetCPUUtilizationPercentage, ...restSpec } = spec;
  const annotations = { ...(h.metadata.annotations ?? {}) };
  let metrics: KubeObject[] = [];
  if (annotations['autoscaling.alpha.kubernetes.io/metrics']) {
    try {
      metrics = JSON.parse(annotations['autoscaling.alpha.kubernetes.io/metrics']);
    } catch {
      metrics = [];
    }
    delete annotations['autoscaling.alpha.kubernetes.io/metrics'];
  }
  if (targetCPUUtilizationPercentage !== undefined) {
    metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: targetCPUUtilizationPercentage } } } as unknown as KubeObject, ...metrics];
  }
  const status = h.status ?? {};
  const { currentCPUUtilizationPercentage, ...restStatus } = status;
  const outStatus: KubeObject = { ...restStatus };
  if (currentCPUUtilizationPercentage !== undefined) outStatus.currentMetrics = [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: currentCPUUtilizationPercentage } } }];
  if (annotations['autoscaling.alpha.kubernetes.io/conditions']) {
    try {
      outStatus.conditions = JSON.parse(annotations['autoscaling.alpha.kubernetes.io/conditions']);
    } catch {
      // ignore malformed annotation
    }
    delete annotations['autoscaling.alpha.kubernetes.io/conditions'];
  }
  const metadata = { ...h.metadata };
  if (Object.keys(annotations).length) metadata.annotations = annotations;
  else delete metadata.annotations;
  return { ...h, apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata, spec: { ...restSpec, ...(metrics.length ? { metrics } : {}) }, status: outStatus };
}

const converters: Record<string, Converter> = {
  'v1/Event->events.k8s.io/v1': eventToEventsV1,
  'events.k8s.io/v1/Event->v1': eventsV1ToEvent,
  'autoscaling/v2/HorizontalPodAutoscaler->autoscaling/v1': hpaV2ToV1,
  'autoscaling/v1/HorizontalPodAutoscaler->autoscaling/v2': hpaV1ToV2,
};

/** `obj` (in its own apiVersion) in `apiVersion`, with `kind` the served kind. */
export function convertObject(obj: KubeObject, apiVersion: string, kind: string): KubeObject {
  if (obj.apiVersion === apiVersion && obj.kind === kind) return obj;
  const converter = converters[`${obj.apiVersion}/${obj.kind}->${apiVersion}`];
  if (converter) return converter(obj);
  return { ...obj, apiVersion, kind };
}
