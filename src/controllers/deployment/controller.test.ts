// The Deployment controller with the ReplicaSet controller, against a real in-process API
// server; a pretend kubelet makes pods Ready and finishes deletions.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/types.js';
import { deploymentsResource, replicaSetsResource } from '../framework/resources.js';
import { createReplicaSetController } from '../replicaset/controller.js';
import { eventsFor, eventually, kubeletPass, listPods, startHarness, type Harness } from '../testing.js';
import { createDeploymentController } from './controller.js';

function deploymentSpec(name: string, replicas: number, extra: Record<string, any> = {}, image = 'nginx:1'): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, annotations: { 'kubernetes.io/change-cause': `deploy ${image}` } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image }] } },
      ...extra,
    },
  };
}

async function withControllers(fn: (h: Harness) => Promise<void>) {
  const h = await startHarness();
  try {
    const deps = { client: h.client, informerFactory: h.factory, clock: h.clock, recorder: h.recorder };
    await h.start(createDeploymentController(deps), createReplicaSetController(deps));
    await fn(h);
  } finally {
    await h.close();
  }
}

const deployments = (h: Harness) => h.client.resource(deploymentsResource);
const replicaSets = async (h: Harness, app: string) => (await h.client.resource(replicaSetsResource).list('default', { labelSelector: `app=${app}` })).items;
const condition = (d: KubeObject, type: string) => (d.status?.conditions ?? []).find((c: any) => c.type === type);

/** Runs the pretend kubelet until the deployment reports complete (what `kubectl rollout status` waits for). */
async function rolloutComplete(h: Harness, name: string): Promise<KubeObject> {
  return eventually(h.clock, async () => {
    await kubeletPass(h.client, h.clock, 'default');
    const d = await deployments(h).get('default', name);
    const s = d.status ?? {};
    const done = s.observedGeneration >= d.metadata.generation! && s.updatedReplicas === d.spec.replicas && s.replicas === d.spec.replicas && s.availableReplicas === d.spec.replicas && condition(d, 'Progressing')?.reason === 'NewReplicaSetAvailable';
    return done && d;
  }, `rollout of ${name}`);
}

async function editTemplate(h: Harness, name: string, edit: (d: KubeObject) => void): Promise<void> {
  // The controller writes status concurrently: read-modify-write with conflict retries, as kubectl edit would.
  for (let attempt = 0; ; attempt++) {
    const d = await deployments(h).get('default', name);
    edit(d);
    try {
      await deployments(h).update(d);
      return;
    } catch (e) {
      if ((e as { code?: number }).code !== 409 || attempt > 10) throw e;
    }
  }
}

describe('deployment controller', () => {
  test('creates a hashed ReplicaSet, rolls updates out within maxSurge/maxUnavailable, and reports kubectl rollout status fields', () =>
    withControllers(async (h) => {
      await deployments(h).create('default', deploymentSpec('web', 3, { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } }));
      let d = await rolloutComplete(h, 'web');
      const [first] = await replicaSets(h, 'web');
      const hash = first!.metadata.labels!['pod-template-hash']!;
      assert.equal(first!.metadata.name, `web-${hash}`);
      assert.equal(first!.spec.selector.matchLabels['pod-template-hash'], hash);
      assert.equal(first!.spec.template.metadata.labels['pod-template-hash'], hash);
      assert.deepEqual(
        { rev: first!.metadata.annotations!['deployment.kubernetes.io/revision'], desired: first!.metadata.annotations!['deployment.kubernetes.io/desired-replicas'], max: first!.metadata.annotations!['deployment.kubernetes.io/max-replicas'], cause: first!.metadata.annotations!['kubernetes.io/change-cause'] },
        { rev: '1', desired: '3', max: '4', cause: 'deploy nginx:1' },
      );
      assert.equal(first!.metadata.ownerReferences![0]!.kind, 'Deployment');
      assert.equal(d.metadata.annotations!['deployment.kubernetes.io/revision'], '1');
      assert.deepEqual(
        { ...d.status, conditions: d.status.conditions.map((c: any) => `${c.type}=${c.status} ${c.reason}: ${c.message}`) },
        {
          observedGeneration: 1, replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3,
          conditions: ['Available=True MinimumReplicasAvailable: Deployment has minimum availability.', `Progressing=True NewReplicaSetAvailable: ReplicaSet "web-${hash}" has successfully progressed.`],
        },
      );

      // A new image: never more than 4 pods, never fewer than 3 available.
      await editTemplate(h, 'web', (x) => {
        x.metadata.annotations!['kubernetes.io/change-cause'] = 'deploy nginx:2';
        x.spec.template.spec.containers[0].image = 'nginx:2';
      });
      await eventually(h.clock, async () => {
        const live = (await listPods(h.client, 'default', 'app=web')).filter((p) => !p.metadata.deletionTimestamp);
        assert.ok(live.length <= 4, `at most replicas+maxSurge pods, saw ${live.length}`);
        await kubeletPass(h.client, h.clock, 'default');
        const x = await deployments(h).get('default', 'web');
        assert.ok(x.status.availableReplicas >= 3 || x.status.observedGeneration < 2, 'maxUnavailable 0');
        return x.status.observedGeneration === x.metadata.generation && x.status.updatedReplicas === 3 && x.status.replicas === 3 && x.status.availableReplicas === 3 && condition(x, 'Progressing')?.reason === 'NewReplicaSetAvailable';
      }, 'rolling update');
      d = await deployments(h).get('default', 'web');
      assert.equal(d.metadata.annotations!['deployment.kubernetes.io/revision'], '2');
      const rss = await replicaSets(h, 'web');
      const second = rss.find((r) => r.metadata.name !== first!.metadata.name)!;
      assert.equal(second.metadata.annotations!['deployment.kubernetes.io/revision'], '2');
      assert.equal(second.metadata.annotations!['kubernetes.io/change-cause'], 'deploy nginx:2');
      assert.equal(rss.find((r) => r.metadata.name === first!.metadata.name)!.spec.replicas, 0);
      await h.recorder.flush();
      const messages = (await eventsFor(h.client, 'default', 'web')).filter((e) => e.reason === 'ScalingReplicaSet').map((e) => e.message);
      assert.ok(messages.includes(`Scaled up replica set web-${hash} to 3`), messages.join('\n'));
      assert.ok(messages.includes(`Scaled up replica set ${second.metadata.name} to 1`), messages.join('\n'));
      assert.ok(messages.includes(`Scaled down replica set web-${hash} to 2 from 3`), messages.join('\n'));

      // kubectl rollout undo (client-side): the template and change-cause of revision 1 come back.
      await editTemplate(h, 'web', (x) => {
        const template = structuredClone(first!.spec.template);
        delete template.metadata.labels['pod-template-hash'];
        x.spec.template = template;
        x.metadata.annotations!['kubernetes.io/change-cause'] = first!.metadata.annotations!['kubernetes.io/change-cause']!;
      });
      await rolloutComplete(h, 'web');
      const reused = (await h.client.resource(replicaSetsResource).get('default', first!.metadata.name!));
      assert.equal(reused.metadata.annotations!['deployment.kubernetes.io/revision'], '3');
      assert.equal(reused.metadata.annotations!['deployment.kubernetes.io/revision-history'], '1');
      assert.equal(reused.spec.replicas, 3);
      assert.equal((await replicaSets(h, 'web')).length, 2);
    }));

  test('Recreate scales the old ReplicaSet to zero and waits for its pods before creating the new one', () =>
    withControllers(async (h) => {
      await deployments(h).create('default', deploymentSpec('db', 2, { strategy: { type: 'Recreate' } }));
      await rolloutComplete(h, 'db');
      await editTemplate(h, 'db', (x) => (x.spec.template.spec.containers[0].image = 'nginx:2'));
      // Old pods go Terminating; no new ReplicaSet while they are still there.
      await eventually(h.clock, async () => (await listPods(h.client, 'default', 'app=db')).every((p) => p.metadata.deletionTimestamp), 'old pods terminating');
      await new Promise((r) => setTimeout(r, 50));
      assert.equal((await replicaSets(h, 'db')).length, 1);
      await rolloutComplete(h, 'db');
      const rss = await replicaSets(h, 'db');
      assert.deepEqual(rss.map((r) => r.spec.replicas).sort(), [0, 2]);
    }));

  test('pause holds a template change, resume rolls it out; scaling while paused still works', () =>
    withControllers(async (h) => {
      await deployments(h).create('default', deploymentSpec('api', 2));
      await rolloutComplete(h, 'api');
      await editTemplate(h, 'api', (x) => {
        x.spec.paused = true;
        x.spec.template.spec.containers[0].image = 'nginx:2';
      });
      const paused = await eventually(h.clock, async () => {
        const d = await deployments(h).get('default', 'api');
        return condition(d, 'Progressing')?.reason === 'DeploymentPaused' && d;
      }, 'paused condition');
      assert.equal(condition(paused, 'Progressing').status, 'Unknown');
      assert.equal(condition(paused, 'Progressing').message, 'Deployment is paused');
      await editTemplate(h, 'api', (x) => (x.spec.replicas = 4));
      await eventually(h.clock, async () => (await replicaSets(h, 'api')).length === 1 && (await replicaSets(h, 'api'))[0]!.spec.replicas === 4, 'scaled while paused');
      await editTemplate(h, 'api', (x) => (x.spec.paused = false));
      await rolloutComplete(h, 'api');
      assert.equal((await replicaSets(h, 'api')).length, 2);
    }));

  test('rollout restart makes a new revision; revisionHistoryLimit removes the oldest', () =>
    withControllers(async (h) => {
      await deployments(h).create('default', deploymentSpec('job', 1, { revisionHistoryLimit: 1 }));
      await rolloutComplete(h, 'job');
      for (const at of ['2026-01-01T00:00:01Z', '2026-01-01T00:00:02Z']) {
        await editTemplate(h, 'job', (x) => (x.spec.template.metadata.annotations = { 'kubectl.kubernetes.io/restartedAt': at }));
        await rolloutComplete(h, 'job');
      }
      const rss = await eventually(h.clock, async () => {
        const list = await replicaSets(h, 'job');
        return list.length === 2 && list;
      }, 'history trimmed to 1 old ReplicaSet');
      assert.deepEqual(rss.map((r) => r.metadata.annotations!['deployment.kubernetes.io/revision']).sort(), ['2', '3']);
    }));

  test('progressDeadlineSeconds: no progress turns Progressing False ProgressDeadlineExceeded', () =>
    withControllers(async (h) => {
      await deployments(h).create('default', deploymentSpec('stuck', 2, { progressDeadlineSeconds: 30 }));
      await eventually(h.clock, async () => (await deployments(h).get('default', 'stuck')).status?.replicas === 2, 'pods created', { advanceMs: 0 });
      const before = await deployments(h).get('default', 'stuck');
      assert.equal(condition(before, 'Available').status, 'False');
      assert.equal(condition(before, 'Available').reason, 'MinimumReplicasUnavailable');
      await h.clock.advance(32_000);
      const d = await eventually(h.clock, async () => {
        const x = await deployments(h).get('default', 'stuck');
        return condition(x, 'Progressing')?.reason === 'ProgressDeadlineExceeded' && x;
      }, 'deadline exceeded', { advanceMs: 1000 });
      assert.equal(condition(d, 'Progressing').status, 'False');
      assert.match(condition(d, 'Progressing').message, /^ReplicaSet "stuck-\w+" has timed out progressing\.$/);
    }));

  test('scaling in the middle of a stuck rollout is proportional (Kubernetes docs example)', () =>
    withControllers(async (h) => {
      await deployments(h).create('default', deploymentSpec('big', 10, { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 3, maxUnavailable: 2 } } }));
      await rolloutComplete(h, 'big');
      await editTemplate(h, 'big', (x) => (x.spec.template.spec.containers[0].image = 'nginx:bad'));
      // The new image never becomes ready: the rollout stops at old=8, new=5.
      const sizes = async () => {
        const rss = await replicaSets(h, 'big');
        const image = (r: KubeObject) => r.spec.template.spec.containers[0].image;
        return { old: rss.find((r) => image(r) === 'nginx:1')?.spec.replicas, new: rss.find((r) => image(r) === 'nginx:bad')?.spec.replicas };
      };
      await eventually(h.clock, async () => {
        await kubeletPass(h.client, h.clock, 'default', (p) => p.spec.containers[0].image === 'nginx:1');
        const s = await sizes();
        return s.old === 8 && s.new === 5;
      }, 'stuck at 8 + 5');
      await editTemplate(h, 'big', (x) => (x.spec.replicas = 15));
      await eventually(h.clock, async () => {
        const s = await sizes();
        return s.old === 11 && s.new === 7;
      }, 'proportionally scaled to 11 + 7');
    }));
});
