// The RSP controller against an in-memory host API server: spread, failover when a member turns
// not ready, return, unrelated overrides kept, no write without a difference, retry on conflict.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient } from '../../client/client.js';
import { systemClock } from '../../client/clock.js';
import { FakeApiServer } from '../../client/testing/fake-apiserver.js';
import type { FederatedResource, ReplicaSchedulingPreference } from '../api.js';
import { createReplicaSchedulingController, federatedDeploymentsRef, federatedReplicaSetsRef, replicaSchedulingPreferencesRef } from './controller.js';
import { eventually, silentLogger, TestMemberClusters } from './testing.js';

const eventsRef = { group: '', version: 'v1', resource: 'events', kind: 'Event', namespaced: true };

async function setup(rsp: ReplicaSchedulingPreference['spec'], fedSpec: Partial<FederatedResource['spec']> = {}) {
  const host = new FakeApiServer([
    { ...replicaSchedulingPreferencesRef, kind: 'ReplicaSchedulingPreference' },
    { ...federatedDeploymentsRef, kind: 'FederatedDeployment' },
    { ...federatedReplicaSetsRef, kind: 'FederatedReplicaSet' },
    eventsRef,
  ]);
  const client = createClient(host.transport());
  const members = new TestMemberClusters();
  // Members are never contacted by this controller; their clients only have to exist.
  for (const name of ['a', 'b', 'c']) members.add(name, createClient(new FakeApiServer([]).transport()));
  await client.resource<FederatedResource>(federatedDeploymentsRef).create('shop', {
    apiVersion: 'types.kubefed.io/v1beta1',
    kind: 'FederatedDeployment',
    metadata: { name: 'web', namespace: 'shop' },
    spec: { template: { spec: { replicas: 1, template: { spec: { containers: [{ name: 'c', image: 'busybox' }] } } } }, placement: { clusterSelector: {} }, ...fedSpec },
  });
  await client.resource<ReplicaSchedulingPreference>(replicaSchedulingPreferencesRef).create('shop', {
    apiVersion: 'scheduling.kubefed.io/v1alpha1',
    kind: 'ReplicaSchedulingPreference',
    metadata: { name: 'web', namespace: 'shop' },
    spec: rsp,
  });
  const abort = new AbortController();
  const controller = createReplicaSchedulingController({ host: client, members, clock: systemClock(), logger: silentLogger, signal: abort.signal });
  const spread = async () => {
    const fed = await client.resource<FederatedResource>(federatedDeploymentsRef).get('shop', 'web');
    const placed = (fed.spec.placement?.clusters ?? []).map((c) => c.name).sort();
    return placed.map((name) => `${name}=${fed.spec.overrides?.find((o) => o.clusterName === name)?.clusterOverrides.find((o) => o.path === '/spec/replicas')?.value}`).join(',');
  };
  const waitSpread = (want: string) => eventually(async () => (await spread()) === want, `spread ${want}`).catch(async (e) => assert.fail(`${e.message}; have ${await spread()}`));
  return {
    host,
    client,
    members,
    spread,
    waitSpread,
    fed: () => client.resource<FederatedResource>(federatedDeploymentsRef).get('shop', 'web'),
    close: () => {
      controller.stop();
      abort.abort();
    },
  };
}

describe('ReplicaSchedulingPreference controller', () => {
  test('spreads, fails over to the ready members, spreads back with rebalance, keeps other overrides', async () => {
    const imageOverride = { path: '/spec/template/spec/containers/0/image', value: 'busybox:a' };
    const h = await setup({ targetKind: 'FederatedDeployment', totalReplicas: 9, rebalance: true, clusters: { '*': { weight: 1 } } }, { overrides: [{ clusterName: 'a', clusterOverrides: [imageOverride] }] });
    try {
      await h.waitSpread('a=3,b=3,c=3');
      const fed = await h.fed();
      assert.deepEqual(fed.spec.overrides?.find((o) => o.clusterName === 'a')?.clusterOverrides, [imageOverride, { path: '/spec/replicas', value: 3 }]);
      assert.deepEqual(fed.spec.placement?.clusterSelector, {}, 'the selector is left alone; clusters take precedence');

      h.members.setReady('b', false);
      await h.waitSpread('a=5,c=4');
      assert.ok((await h.fed()).spec.overrides?.find((o) => o.clusterName === 'a')?.clusterOverrides.some((o) => o.path === imageOverride.path), 'image override survives failover');

      h.members.setReady('b', true);
      await h.waitSpread('a=3,b=3,c=3');

      const events = await eventually(async () => {
        const list = await h.client.resource(eventsRef).list('shop');
        const scheduled = list.items.filter((e) => e.reason === 'ReplicasScheduled' && e.involvedObject.kind === 'ReplicaSchedulingPreference');
        // The spread back repeats the first message: one Event with count 2, as client-go aggregates.
        return scheduled.reduce((n, e) => n + e.count, 0) >= 3 && scheduled;
      }, 'ReplicasScheduled events');
      assert.ok(events.some((e) => String(e.message).includes('a=5, c=4')));
    } finally {
      h.close();
    }
  });

  test('without rebalance a returning member keeps 0 until replicas are added', async () => {
    const h = await setup({ targetKind: 'FederatedDeployment', totalReplicas: 6 });
    try {
      await h.waitSpread('a=2,b=2,c=2');
      h.members.setReady('c', false);
      await h.waitSpread('a=3,b=3');
      h.members.setReady('c', true);
      await h.waitSpread('a=3,b=3,c=0');
      await h.client.resource(replicaSchedulingPreferencesRef).patch('shop', 'web', 'merge', { spec: { totalReplicas: 9 } });
      await h.waitSpread('a=3,b=3,c=3');
    } finally {
      h.close();
    }
  });

  test('writes only on a difference, and retries a conflicting write', async () => {
    const h = await setup({ targetKind: 'FederatedDeployment', totalReplicas: 4, clusters: { a: { weight: 1 }, b: { weight: 1 } } });
    try {
      await h.waitSpread('a=2,b=2');
      const puts = () => h.host.requests.filter((r) => r.method === 'PUT' && r.path.includes('federateddeployments')).length;
      const before = puts();
      h.members.notify();
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(puts(), before, 'a reconcile with nothing to change writes nothing');

      h.host.injectedFailures.push({ code: 409, reason: 'Conflict', message: 'the object has been modified', match: (r) => r.method === 'PUT' && r.path.includes('federateddeployments') });
      h.members.setReady('b', false);
      await h.waitSpread('a=4');
      assert.equal(h.host.injectedFailures.length, 0, 'the conflict was met');
      assert.ok(puts() >= before + 2, 'and the write retried');
    } finally {
      h.close();
    }
  });
});
