// The HorizontalPodAutoscaler controller (autoscaling/v2): every sync period it reads the
// target's /scale, the selected pods and their usage, computes the desired replicas per
// metric (the largest wins), applies spec.behavior and min/maxReplicas, writes /scale, and
// reports status with Kubernetes' conditions (AbleToScale, ScalingActive, ScalingLimited),
// reasons and events, so `kubectl describe hpa` reads as on Kubernetes.
import type { KubeObject } from '../../api/types.js';
import { matches, parseLabelSelector } from '../../api/selectors/labels.js';
import { parseQuantity } from '../../api/validation/quantity.js';
import type { Client, ResourceRef } from '../../client/client.js';
import { objectKey, splitObjectKey } from '../../client/client.js';
import type { Clock } from '../../client/clock.js';
import { isConflict, isNotFound } from '../../client/errors.js';
import { DeletedFinalStateUnknown, type Logger, type SharedInformerFactory } from '../../client/informer.js';
import { RateLimitingQueue } from '../../client/workqueue.js';
import { runController, type Controller, type ReconcileResult } from '../framework/controller.js';
import { formatTime, type EventRecorder } from '../framework/events.js';
import { podsResource } from '../framework/resources.js';
import { BehaviorState } from './behavior.js';
import { metricsApiSource, type ResourceMetricsSource } from './metrics-source.js';
import { defaultTolerance, resourceAverageValueReplicas, resourceUtilizationReplicas } from './replicas.js';

export const horizontalPodAutoscalersResource: ResourceRef = { group: 'autoscaling', version: 'v2', resource: 'horizontalpodautoscalers', namespaced: true, kind: 'HorizontalPodAutoscaler' };

export interface HorizontalPodAutoscalerOptions {
  client: Client;
  informerFactory: SharedInformerFactory;
  clock: Clock;
  recorder: EventRecorder;
  /** Default: the metrics.k8s.io API through `client`. */
  metrics?: ResourceMetricsSource;
  /** --horizontal-pod-autoscaler-sync-period (default 15 s). */
  syncPeriodMs?: number;
  tolerance?: number;
  workers?: number;
  logger?: Logger;
}

interface Condition { type: string; status: 'True' | 'False' | 'Unknown'; reason: string; message: string; lastTransitionTime?: string }

/** "500m" / "34Mi" from milli-units, as resource.NewMilliQuantity(…, DecimalSI) prints. */
export function formatMilliQuantity(milli: number): string {
  const v = Math.round(milli);
  if (v % 1000 !== 0) return `${v}m`;
  let n = v / 1000;
  const suffixes = ['', 'k', 'M', 'G', 'T', 'P', 'E'];
  let i = 0;
  while (n !== 0 && n % 1000 === 0 && i < suffixes.length - 1) {
    n /= 1000;
    i++;
  }
  return `${n}${suffixes[i]}`;
}

interface MetricResult { replicas: number; name: string; status: Record<string, unknown>; timestamp: number }

export function createHorizontalPodAutoscalerController(options: HorizontalPodAutoscalerOptions): Controller {
  const { client, clock, recorder } = options;
  const log = options.logger ?? (() => undefined);
  const syncPeriodMs = options.syncPeriodMs ?? 15_000;
  const tolerance = options.tolerance ?? defaultTolerance;
  const metricsSource = options.metrics ?? metricsApiSource(client);
  const hpas = options.informerFactory.forResource(horizontalPodAutoscalersResource);
  const pods = options.informerFactory.forResource(podsResource);
  const hpaClient = client.resource(horizontalPodAutoscalersResource);
  const queue = new RateLimitingQueue<string>({ clock });
  const behaviors = new BehaviorState();
  // scaleTargetRef kind → resource, from discovery (the RESTMapper's job in Kubernetes).
  const mapped = new Map<string, ResourceRef>();

  hpas.addEventHandler({
    onAdd: (h) => queue.add(objectKey(h)),
    onUpdate: (o, h) => o.metadata.resourceVersion !== h.metadata.resourceVersion && queue.add(objectKey(h)),
    onDelete: (h) => behaviors.forget(h instanceof DeletedFinalStateUnknown ? h.key : objectKey(h)),
  });

  async function targetResource(apiVersion: string, kind: string): Promise<ResourceRef> {
    const cacheKey = `${apiVersion}/${kind}`;
    const known = mapped.get(cacheKey);
    if (known) return known;
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
    const list = await client.getPath(group ? `/apis/${group}/${version}` : `/api/${version}`);
    const entry = (list.resources ?? []).find((r: any) => r.kind === kind && !r.name.includes('/'));
    if (!entry) throw new Error(`no matches for kind "${kind}" in group "${group}"`);
    if (!(list.resources ?? []).some((r: any) => r.name === `${entry.name}/scale`)) throw new Error(`${kind} does not have a scale subresource`);
    const ref: ResourceRef = { group, version, resource: entry.name, namespaced: entry.namespaced, kind };
    mapped.set(cacheKey, ref);
    return ref;
  }

  function selectedPods(namespace: string, selector: string): KubeObject[] {
    const parsed = parseLabelSelector(selector);
    return pods.getIndexer().listByNamespace(namespace).filter((p) => matches(parsed, p.metadata.labels));
  }

  async function replicasForMetric(hpa: KubeObject, spec: any, currentReplicas: number, namespace: string, selector: string): Promise<MetricResult> {
    const type = spec?.type;
    if (type !== 'Resource' && type !== 'ContainerResource') throw new Error(`unsupported metric type "${type}"`);
    const source = type === 'Resource' ? spec.resource : spec.containerResource;
    const resource: string = source?.name;
    const container: string | undefined = type === 'ContainerResource' ? source.container : undefined;
    const target = source?.target ?? {};
    const podList = selectedPods(namespace, selector);
    let metrics;
    try {
      metrics = await metricsSource.podMetrics(resource, namespace, selector, container);
    } catch (err) {
      throw new Error(`failed to get ${resource} utilization: unable to get metrics for resource ${resource}: ${(err as Error).message}`);
    }
    const statusKey = type === 'Resource' ? 'resource' : 'containerResource';
    const identity = type === 'Resource' ? { name: resource } : { name: resource, container };
    const nowMs = clock.now();
    if (target.type === 'Utilization' || (target.averageUtilization !== undefined && target.averageValue === undefined)) {
      const result = resourceUtilizationReplicas({ currentReplicas, targetUtilization: target.averageUtilization, resource, pods: podList, metrics, nowMs, container, tolerance });
      return {
        replicas: result.replicas,
        name: `${resource} resource utilization (percentage of request)`,
        status: { type, [statusKey]: { ...identity, current: { averageValue: formatMilliQuantity(result.rawAverageValue), averageUtilization: result.utilization } } },
        timestamp: result.timestamp,
      };
    }
    const averageValue = parseQuantity(target.averageValue);
    if (averageValue === undefined) throw new Error(`invalid target for ${resource}: neither averageUtilization nor averageValue is set`);
    const result = resourceAverageValueReplicas({ currentReplicas, targetAverageValue: Math.round(averageValue * 1000), resource, pods: podList, metrics, nowMs, tolerance });
    return {
      replicas: result.replicas,
      name: `${resource} resource`,
      status: { type, [statusKey]: { ...identity, current: { averageValue: formatMilliQuantity(result.rawAverageValue) } } },
      timestamp: result.timestamp,
    };
  }

  function setCondition(conditions: Condition[], next: Condition): void {
    const now = formatTime(clock.now());
    const i = conditions.findIndex((c) => c.type === next.type);
    if (i < 0) conditions.push({ ...next, lastTransitionTime: now });
    else conditions[i] = { ...next, lastTransitionTime: conditions[i]!.status === next.status ? (conditions[i]!.lastTransitionTime ?? now) : now };
  }

  async function writeStatus(hpa: KubeObject, status: Record<string, unknown>): Promise<void> {
    const ordered = ['AbleToScale', 'ScalingActive', 'ScalingLimited'];
    const conditions = [...((status.conditions as Condition[]) ?? [])].sort((a, b) => ordered.indexOf(a.type) - ordered.indexOf(b.type));
    const next = { ...status, conditions };
    if (JSON.stringify(next) === JSON.stringify(hpa.status ?? {})) return;
    try {
      await hpaClient.updateStatus({ ...hpa, status: next });
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
  }

  async function reconcile(key: string): Promise<ReconcileResult | void> {
    const { namespace, name } = splitObjectKey(key);
    const hpa = hpas.getIndexer().getByName(namespace, name);
    if (!hpa || hpa.metadata.deletionTimestamp) {
      behaviors.forget(key);
      return;
    }
    const ns = namespace!;
    const spec = hpa.spec ?? {};
    const previous = hpa.status ?? {};
    const conditions: Condition[] = JSON.parse(JSON.stringify(previous.conditions ?? []));
    const status: Record<string, unknown> = {
      observedGeneration: hpa.metadata.generation,
      ...(previous.lastScaleTime ? { lastScaleTime: previous.lastScaleTime } : {}),
      currentReplicas: previous.currentReplicas ?? 0,
      desiredReplicas: previous.desiredReplicas ?? 0,
      ...(previous.currentMetrics ? { currentMetrics: previous.currentMetrics } : {}),
      conditions,
    };
    const ref = spec.scaleTargetRef ?? {};
    const reference = `${ref.kind}/${ref.name}`;
    let scale: any;
    let target: ResourceRef;
    try {
      target = await targetResource(ref.apiVersion ?? '', ref.kind ?? '');
      scale = await client.resource(target).getScale(ns, ref.name);
    } catch (err) {
      const message = `the HPA controller was unable to get the target's current scale: ${(err as Error).message}`;
      recorder.event(hpa, 'Warning', 'FailedGetScale', (err as Error).message);
      setCondition(conditions, { type: 'AbleToScale', status: 'False', reason: 'FailedGetScale', message });
      await writeStatus(hpa, status);
      return { requeueAfterMs: syncPeriodMs };
    }
    setCondition(conditions, { type: 'AbleToScale', status: 'True', reason: 'SucceededGetScale', message: "the HPA controller was able to get the target's current scale" });
    const currentReplicas: number = scale.spec?.replicas ?? 0;
    status.currentReplicas = currentReplicas;
    const minReplicas: number = spec.minReplicas ?? 1;
    const maxReplicas: number = spec.maxReplicas;
    let desiredReplicas = 0;
    let rescaleReason = '';
    let rescale = true;

    if (currentReplicas === 0 && minReplicas !== 0) {
      rescale = false;
      setCondition(conditions, { type: 'ScalingActive', status: 'False', reason: 'ScalingDisabled', message: 'scaling is disabled since the replica count of the target is zero' });
    } else if (currentReplicas > maxReplicas) {
      rescaleReason = 'Current number of replicas above Spec.MaxReplicas';
      desiredReplicas = maxReplicas;
    } else if (currentReplicas < minReplicas) {
      rescaleReason = 'Current number of replicas below Spec.MinReplicas';
      desiredReplicas = minReplicas;
    } else {
      const selector: string = scale.status?.selector ?? '';
      if (!selector) {
        const message = 'the HPA target\'s scale is missing a selector';
        recorder.event(hpa, 'Warning', 'SelectorRequired', 'selector is required');
        setCondition(conditions, { type: 'ScalingActive', status: 'False', reason: 'InvalidSelector', message });
        await writeStatus(hpa, status);
        return { requeueAfterMs: syncPeriodMs };
      }
      const specs: any[] = spec.metrics?.length ? spec.metrics : [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }];
      const results: MetricResult[] = [];
      const errors: Error[] = [];
      for (const m of specs) {
        try {
          results.push(await replicasForMetric(hpa, m, currentReplicas, ns, selector));
        } catch (err) {
          errors.push(err as Error);
          const resourceName = m?.resource?.name ?? m?.containerResource?.name ?? m?.type;
          recorder.event(hpa, 'Warning', 'FailedGetResourceMetric', (err as Error).message);
          setCondition(conditions, { type: 'ScalingActive', status: 'False', reason: 'FailedGetResourceMetric', message: `the HPA was unable to compute the replica count: failed to get ${resourceName} resource metric value: ${(err as Error).message}` });
        }
      }
      let best: MetricResult | undefined;
      for (const r of results) if (!best || r.replicas > best.replicas) best = r;
      // All invalid, or some invalid and the valid ones would scale down: act on nothing.
      if (!best || (errors.length > 0 && best.replicas < currentReplicas)) {
        const first = errors[0]!;
        recorder.event(hpa, 'Warning', 'FailedComputeMetricsReplicas', `invalid metrics (${errors.length} invalid out of ${specs.length}), first error is: ${first.message}`);
        status.currentMetrics = results.length ? results.map((r) => r.status) : undefined;
        if (!results.length) delete status.currentMetrics;
        await writeStatus(hpa, status);
        return { requeueAfterMs: syncPeriodMs };
      }
      if (errors.length === 0) setCondition(conditions, { type: 'ScalingActive', status: 'True', reason: 'ValidMetricFound', message: `the HPA was able to successfully calculate a replica count from ${best.name}` });
      status.currentMetrics = results.map((r) => r.status);
      desiredReplicas = best.replicas;
      if (desiredReplicas > currentReplicas) rescaleReason = `${best.name} above target`;
      if (desiredReplicas < currentReplicas) rescaleReason = 'All metrics below target';
      const decision = behaviors.normalize(key, { currentReplicas, desiredReplicas, minReplicas, maxReplicas, behavior: spec.behavior, nowMs: clock.now() });
      setCondition(conditions, { type: 'AbleToScale', status: 'True', ...decision.ableToScale });
      setCondition(conditions, { type: 'ScalingLimited', ...decision.scalingLimited });
      desiredReplicas = decision.replicas;
      rescale = desiredReplicas !== currentReplicas;
    }

    if (rescale) {
      try {
        await client.resource(target).updateScale(ns, ref.name, { ...scale, spec: { ...scale.spec, replicas: desiredReplicas } });
      } catch (err) {
        recorder.event(hpa, 'Warning', 'FailedRescale', `New size: ${desiredReplicas}; reason: ${rescaleReason}; error: ${(err as Error).message}`);
        setCondition(conditions, { type: 'AbleToScale', status: 'False', reason: 'FailedUpdateScale', message: `the HPA controller was unable to update the target scale: ${(err as Error).message}` });
        await writeStatus(hpa, status);
        if (isConflict(err)) return { requeueAfterMs: 0 };
        throw err;
      }
      setCondition(conditions, { type: 'AbleToScale', status: 'True', reason: 'SucceededRescale', message: `the HPA controller was able to update the target scale to ${desiredReplicas}` });
      recorder.event(hpa, 'Normal', 'SuccessfulRescale', `New size: ${desiredReplicas}; reason: ${rescaleReason}`);
      log('info', 'rescaled', { controller: 'horizontal-pod-autoscaler', object: key, from: currentReplicas, to: desiredReplicas, reason: rescaleReason });
      behaviors.recordScale(key, { from: currentReplicas, to: desiredReplicas, behavior: spec.behavior, nowMs: clock.now() });
      status.lastScaleTime = formatTime(clock.now());
    } else {
      desiredReplicas = currentReplicas;
    }
    status.desiredReplicas = desiredReplicas;
    await writeStatus(hpa, status);
    return { requeueAfterMs: syncPeriodMs };
  }

  return {
    name: 'horizontal-pod-autoscaler',
    reconcile,
    hasSynced: () => hpas.hasSynced() && pods.hasSynced(),
    start: (signal) =>
      runController({ name: 'horizontal-pod-autoscaler', queue, informers: [hpas, pods], reconcile, workers: options.workers ?? 1, signal, logger: log }).catch((err) => {
        log('error', 'controller stopped', { controller: 'horizontal-pod-autoscaler', error: String(err) });
      }),
  };
}
