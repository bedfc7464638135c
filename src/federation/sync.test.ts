import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { retryOnConflict } from '../client/client.js';
import { SharedInformerFactory } from '../client/informer.js';
import { FakeClock } from '../client/testing/fake-clock.js';
import { namespacesResource, type FederatedResource } from './api.js';
import { createClusterHealthController } from './cluster-health.js';
import { createMemberClusters, type RunningMemberClusters } from './members.js';
import { createSyncController, syncFinalizer } from './sync.js';
import { startFederationFixture, type FederationFixture } from './testing.js';
import { renderedHashAnnotation } from './render.js';

const quiet = () => {};
const deploymentsResource = { group: 'apps', version: 'v1', resource: 'deployments', namespaced: true, kind: 'Deployment' };
const federatedDeploymentsResource = { group: 'types.kubefed.io', version: 'v1beta1', resource: 'federateddeployments', namespaced: true, kind: 'FederatedDeployment' };
const federatedNamespacesResource = { group: 'types.kubefed.io', version: 'v1beta1', resource: 'federatednamespaces', namespaced: true, kind: 'FederatedNamespace' };

/** Polls an async condition on real time (the API servers are in-process, so this is quick). */
async function eventually<T>(fn: () => Promise<T | undefined | false>, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const webDeployment = (clusters: string[], image = 'nginx:1'): FederatedResource => ({
  apiVersion: 'types.kubefed.io/v1beta1',
  kind: 'FederatedDeployment',
  metadata: { name: 'web', namespace: 'demo' },
  spec: {
    template: {
      metadata: { labels: { app: 'web' } },
      spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image }] } } },
    },
    placement: { clusters: clusters.map((name) => ({ name })) },
    overrides: [{ clusterName: 'm2', clusterOverrides: [{ path: '/spec/replicas', value: 5 }] }],
  },
});

describe('sync controller', () => {
  let fixture: FederationFixture;
  let members: RunningMemberClusters;
  const clock = new FakeClock(Date.UTC(2025, 0, 1));
  const stop = new AbortController();
  let probe: () => Promise<void>;
  before(async () => {
    fixture = await startFederationFixture(['m1', 'm2']);
    const informers = new SharedInformerFactory(fixture.host.client, { logger: quiet });
    members = createMemberClusters({ informers, transportFor: (e) => fixture.memberTransport(e), logger: quiet });
    const sync = createSyncController({ host: fixture.host.client, informers, members, clock, logger: quiet });
    const health = createClusterHealthController({ host: fixture.host.client, members, clock, logger: quiet, failureThreshold: 1 });
    probe = () => health.probeAll();
    informers.start(stop.signal);
    void sync.run(stop.signal);
    await members.waitForSync(stop.signal);
    await fixture.join('m1');
    await fixture.join('m2');
    await eventually(async () => members.list().length === 2, 'members listed');
    await probe();
    await eventually(async () => members.list().every((m) => m.ready), 'members ready');
    await fixture.host.client.resource(namespacesResource).create(undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo' } });
  });
  after(async () => {
    stop.abort();
    await fixture.close();
  });

  const memberDeployment = (member: string) => fixture.members.get(member)!.client.resource(deploymentsResource).get('demo', 'web') as Promise<any>;
  const federated = () => fixture.host.client.resource<FederatedResource>(federatedDeploymentsResource).get('demo', 'web');
  // The controller writes status concurrently: re-read and retry on conflict, as any client must.
  const updateFederated = (mutate: (f: FederatedResource) => void) =>
    retryOnConflict(async () => {
      const f = await federated();
      mutate(f);
      return fixture.host.client.resource(federatedDeploymentsResource).update(f);
    });

  test('creates the namespace and the object in every placed member, with overrides, and reports Propagation True', async () => {
    await fixture.host.client.resource(federatedNamespacesResource).create('demo', {
      apiVersion: 'types.kubefed.io/v1beta1', kind: 'FederatedNamespace', metadata: { name: 'demo', namespace: 'demo' }, spec: { template: {}, placement: { clusterSelector: {} } },
    } as any);
    await fixture.host.client.resource(federatedDeploymentsResource).create('demo', webDeployment(['m1', 'm2']));
    const inM1 = await eventually(() => memberDeployment('m1'), 'deployment in m1');
    const inM2 = await eventually(() => memberDeployment('m2'), 'deployment in m2');
    assert.equal(inM1.spec.replicas, 2);
    assert.equal(inM2.spec.replicas, 5, 'override for m2');
    assert.equal(inM1.metadata.labels['kubefed.io/managed'], 'true');
    const status = await eventually(async () => {
      const f = await federated();
      return f.status?.conditions?.find((c) => c.type === 'Propagation')?.status === 'True' && f.status?.clusters?.length === 2 && f;
    }, 'Propagation True');
    assert.deepEqual(status.status!.clusters, [{ name: 'm1' }, { name: 'm2' }]);
    assert.equal(status.status!.observedGeneration, status.metadata.generation);
    assert.ok(status.metadata.finalizers?.includes(syncFinalizer));
  });

  test('does not fight the member: what others add survives, an unchanged render is not rewritten', async () => {
    const deployments = fixture.members.get('m1')!.client.resource(deploymentsResource);
    const before = await memberDeployment('m1');
    before.metadata.labels['team'] = 'ops';
    const edited = await deployments.update(before);
    // A federated change that does not touch m1's render (m2's override) must leave m1 alone.
    await updateFederated((f) => (f.spec.overrides = [{ clusterName: 'm2', clusterOverrides: [{ path: '/spec/replicas', value: 4 }] }]));
    await eventually(async () => (await memberDeployment('m2')).spec.replicas === 4, 'm2 updated');
    const after = await memberDeployment('m1');
    assert.equal(after.metadata.resourceVersion, edited.metadata.resourceVersion);
    assert.equal(after.metadata.labels.team, 'ops');
  });

  test('removing a member from placement deletes the object there', async () => {
    await updateFederated((f) => (f.spec.placement = { clusters: [{ name: 'm1' }] }));
    await eventually(async () => {
      try {
        await memberDeployment('m2');
        return false;
      } catch (err) {
        return (err as any).code === 404;
      }
    }, 'deployment gone from m2');
    assert.ok(await memberDeployment('m1'));
  });

  test('an unreachable member shows ClusterNotReady and gets the current version once it is back', async () => {
    fixture.reachable.delete('m1');
    await probe();
    await eventually(async () => !members.get('m1')!.ready, 'm1 not ready');
    await updateFederated((f) => (f.spec.template.spec.template.spec.containers[0].image = 'nginx:2'));
    const failing = await eventually(async () => {
      const current = await federated();
      return current.status?.conditions?.find((c) => c.type === 'Propagation')?.status === 'False' && current;
    }, 'Propagation False');
    assert.deepEqual(failing.status!.clusters, [{ name: 'm1', status: 'ClusterNotReady' }]);
    assert.equal(failing.status!.conditions!.find((c) => c.type === 'Propagation')!.reason, 'CheckClusters');
    fixture.reachable.add('m1');
    await probe();
    const updated = await eventually(async () => {
      const d = await memberDeployment('m1');
      return d.spec.template.spec.containers[0].image === 'nginx:2' && d;
    }, 'm1 gets nginx:2');
    assert.ok(updated.metadata.annotations[renderedHashAnnotation]);
    await eventually(async () => (await federated()).status?.conditions?.find((c) => c.type === 'Propagation')?.status === 'True', 'Propagation True again');
  });

  test('deleting the federated object removes it from the members, then the finalizer', async () => {
    // An object in a member that is not ours (no managed label) must survive.
    const stranger = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'demo' }, spec: webDeployment([]).spec.template.spec };
    await fixture.members.get('m2')!.client.resource(deploymentsResource).create('demo', stranger as any);
    await fixture.host.client.resource(federatedDeploymentsResource).delete('demo', 'web');
    await eventually(async () => {
      try {
        await memberDeployment('m1');
        return false;
      } catch (err) {
        return (err as any).code === 404;
      }
    }, 'deployment gone from m1');
    await eventually(async () => {
      try {
        await federated();
        return false;
      } catch (err) {
        return (err as any).code === 404;
      }
    }, 'federated object gone');
    assert.ok(await memberDeployment('m2'), 'unmanaged object left alone');
  });
});
