import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/types.js';
import { deploymentsResource, podsResource } from '../framework/resources.js';
import { eventsFor, eventually, setPodRunning, startHarness, type Harness } from '../testing.js';
import { createHorizontalPodAutoscalerController, horizontalPodAutoscalersResource } from './controller.js';
import type { ResourceMetricsSource } from './metrics-source.js';
import type { PodMetrics } from './replicas.js';

/** A load the test dictates (millicores per workload), spread evenly over the selected pods. */
class FakeMetrics implements ResourceMetricsSource {
  /** Total millicores per scale selector ("app=web"). */
  load: Record<string, number> = {};
  constructor(private readonly h: () => Harness) {}
  async podMetrics(resource: string, namespace: string, selector: string): Promise<PodMetrics> {
    assert.equal(resource, 'cpu');
    const pods = (await this.h().client.resource(podsResource).list(namespace, { labelSelector: selector })).items;
    return new Map(pods.map((p) => [p.metadata.name!, { value: Math.round((this.load[selector] ?? 0) / pods.length), timestamp: this.h().clock.now(), windowMs: 10_000 }]));
  }
}

describe('HorizontalPodAutoscaler controller', () => {
  let h: Harness;
  const metrics = new FakeMetrics(() => h);
  const deployments = () => h.client.resource(deploymentsResource);
  const hpas = () => h.client.resource(horizontalPodAutoscalersResource);
  let podCount = 0;

  before(async () => {
    h = await startHarness();
    await h.start(createHorizontalPodAutoscalerController({ client: h.client, informerFactory: h.factory, clock: h.clock, recorder: h.recorder, metrics, logger: process.env.HPA_DEBUG ? (...a: unknown[]) => console.error(JSON.stringify(a)) : undefined }));
  });
  after(() => h.close());
  afterEach(async () => {
    if (process.env.HPA_DEBUG) for (const o of (await hpas().list('default')).items) console.log(o.metadata.name, JSON.stringify(o.status), await replicasOf(o.metadata.name!));
  });

  /** A Deployment (no deployment controller runs: the test plays it) with `replicas` running pods. */
  async function deployment(name: string, replicas: number): Promise<void> {
    await deployments().create('default', {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name },
      spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'busybox' }] } } },
    } as KubeObject);
    await syncPods(name, replicas);
  }

  async function syncPods(name: string, replicas: number): Promise<void> {
    const existing = (await h.client.resource(podsResource).list('default', { labelSelector: `app=${name}` })).items;
    for (let i = existing.length; i < replicas; i++) {
      const pod = await h.client.resource(podsResource).create('default', {
        apiVersion: 'v1', kind: 'Pod', metadata: { name: `${name}-${podCount++}`, labels: { app: name } },
        spec: { containers: [{ name: 'app', image: 'busybox', resources: { requests: { cpu: '100m' } } }] },
      } as KubeObject);
      await setPodRunning(h.client, h.clock, pod);
    }
    for (const extra of existing.slice(replicas)) await h.client.resource(podsResource).delete('default', extra.metadata.name!, { gracePeriodSeconds: 0 });
    // A cpu sample taken within its window of the pod turning Ready counts the pod as unready.
    await h.clock.advance(30_000);
  }

  async function hpa(name: string, min: number, max: number, behavior?: unknown): Promise<void> {
    await hpas().create('default', {
      apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name }, minReplicas: min, maxReplicas: max,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }],
        ...(behavior ? { behavior } : {}),
      },
    } as KubeObject);
  }

  const replicasOf = async (name: string) => (await deployments().get('default', name)).spec.replicas as number;
  const condition = (o: KubeObject, type: string) => (o.status?.conditions ?? []).find((c: any) => c.type === type);

  test('scales up to ceil(current × usage/target) and reports status and an event', async () => {
    await deployment('web', 2);
    metrics.load['app=web'] = 200; // 100% of a 100m request per pod against 50%
    await hpa('web', 1, 10);
    await eventually(h.clock, async () => (await replicasOf('web')) === 4, 'web scaled to 4');
    const status = await eventually(h.clock, async () => {
      const o = await hpas().get('default', 'web');
      return o.status?.desiredReplicas === 4 && o.status;
    }, 'status written');
    assert.deepEqual(status.currentMetrics, [{ type: 'Resource', resource: { name: 'cpu', current: { averageValue: '100m', averageUtilization: 100 } } }]);
    assert.ok(status.lastScaleTime);
    const o = await hpas().get('default', 'web');
    assert.equal(condition(o, 'AbleToScale').status, 'True');
    assert.equal(condition(o, 'ScalingActive').reason, 'ValidMetricFound');
    assert.equal(condition(o, 'ScalingLimited').status, 'False');
    await h.recorder.flush();
    const events = await eventsFor(h.client, 'default', 'web');
    assert.ok(events.some((e) => e.reason === 'SuccessfulRescale' && e.message === 'New size: 4; reason: cpu resource utilization (percentage of request) above target'), JSON.stringify(events));
  });

  test('within the tolerance nothing changes; scale-down waits out the 300 s stabilization window', async () => {
    await syncPods('web', 4);
    metrics.load['app=web'] = 216; // 54m per pod, 108% of target: inside the 10% tolerance
    await h.clock.advance(16_000);
    await eventually(h.clock, async () => condition(await hpas().get('default', 'web'), 'AbleToScale')?.reason === 'ReadyForNewScale', 'reconciled in tolerance', { advanceMs: 1000 });
    assert.equal(await replicasOf('web'), 4);
    metrics.load['app=web'] = 80; // 20m per pod, 20%: wants 2 (ceil(4 × 20/50)), but recent recommendations were 4
    await eventually(h.clock, async () => condition(await hpas().get('default', 'web'), 'AbleToScale')?.reason === 'ScaleDownStabilized', 'stabilized', { advanceMs: 1000 });
    assert.equal(await replicasOf('web'), 4);
    await h.clock.advance(200_000);
    assert.equal(await replicasOf('web'), 4, 'still inside the window');
    await eventually(h.clock, async () => (await replicasOf('web')) === 2, 'scaled down after the window', { advanceMs: 5000, timeoutMs: 8000 });
  });

  test('maxReplicas caps the scale-up with ScalingLimited TooManyReplicas', async () => {
    await deployment('api', 2);
    metrics.load['app=api'] = 1000; // 10× the target: wants 20
    await hpa('api', 1, 3);
    await eventually(h.clock, async () => (await replicasOf('api')) === 3, 'api capped at 3');
    const o = await eventually(h.clock, async () => {
      const x = await hpas().get('default', 'api');
      return condition(x, 'ScalingLimited')?.status === 'True' && x;
    }, 'limited');
    assert.equal(condition(o, 'ScalingLimited').reason, 'TooManyReplicas');
  });

  test('a target below minReplicas is raised without reading metrics', async () => {
    await deployment('low', 1);
    metrics.load['app=low'] = 100; // 50m per pod once there are 2: exactly on target
    await hpa('low', 2, 5);
    await eventually(h.clock, async () => (await replicasOf('low')) === 2, 'raised to min');
    await h.recorder.flush();
    const events = await eventsFor(h.client, 'default', 'low');
    assert.ok(events.some((e) => e.message === 'New size: 2; reason: Current number of replicas below Spec.MinReplicas'));
  });
});
