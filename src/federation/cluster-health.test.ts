import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SharedInformerFactory } from '../client/informer.js';
import { FakeClock } from '../client/testing/fake-clock.js';
import { waitFor } from '../client/testing/wait.js';
import { federationSystemNamespace, kubeFedClustersResource, type KubeFedCluster } from './api.js';
import { createClusterHealthController, healthConditions } from './cluster-health.js';
import { createMemberClusters } from './members.js';
import { startFederationFixture, type FederationFixture } from './testing.js';

const quiet = () => {};

describe('cluster health controller', () => {
  let fixture: FederationFixture;
  const stop = new AbortController();
  before(async () => {
    fixture = await startFederationFixture(['m1']);
  });
  after(async () => {
    stop.abort();
    await fixture.close();
  });

  test('Ready after the first probe; NotReachable only after failureThreshold failures; back after one success', async () => {
    const clock = new FakeClock(Date.UTC(2025, 0, 1));
    const informers = new SharedInformerFactory(fixture.host.client, { logger: quiet });
    const members = createMemberClusters({ informers, transportFor: (e) => fixture.memberTransport(e), logger: quiet });
    let changes = 0;
    members.onChange(() => changes++);
    informers.start(stop.signal);
    await members.waitForSync(stop.signal);
    await fixture.join('m1');
    await waitFor(() => members.get('m1') !== undefined, 3000, 'member m1 listed');
    assert.equal(members.get('m1')!.ready, false, 'not ready before any probe');
    const health = createClusterHealthController({ host: fixture.host.client, members, clock, logger: quiet, failureThreshold: 3 });
    const read = () => fixture.host.client.resource<KubeFedCluster>(kubeFedClustersResource).get(federationSystemNamespace, 'm1');
    const condition = async (type: string) => (await read()).status?.conditions?.find((c) => c.type === type);

    await health.probeAll();
    let ready = await condition('Ready');
    assert.equal(ready?.status, 'True');
    assert.equal(ready?.reason, 'ClusterReady');
    assert.equal(ready?.message, '/healthz responded with ok');
    assert.equal(ready?.lastTransitionTime, '2025-01-01T00:00:00Z');
    await waitFor(() => members.get('m1')!.ready, 3000, 'members sees Ready');
    assert.ok(changes > 0, 'onChange fired for readiness');

    fixture.reachable.delete('m1');
    for (let i = 1; i <= 2; i++) {
      await clock.advance(10_000);
      await health.probeAll();
      ready = await condition('Ready');
      assert.equal(ready?.status, 'True', `still Ready after ${i} failed probe(s)`);
      assert.equal(ready?.lastProbeTime, new Date(clock.now()).toISOString().replace('.000', ''));
    }
    await clock.advance(10_000);
    await health.probeAll();
    ready = await condition('Ready');
    assert.equal(ready?.status, 'Unknown');
    assert.equal(ready?.reason, 'ClusterNotReachable');
    assert.equal(ready?.lastTransitionTime, '2025-01-01T00:00:30Z');
    const offline = await condition('Offline');
    assert.equal(offline?.status, 'True');
    assert.equal(offline?.reason, 'ClusterNotReachable');
    await waitFor(() => !members.get('m1')!.ready, 3000, 'members sees not ready');

    fixture.reachable.add('m1');
    await clock.advance(10_000);
    await health.probeAll();
    ready = await condition('Ready');
    assert.equal(ready?.status, 'True');
    assert.equal(ready?.lastTransitionTime, '2025-01-01T00:00:40Z');
    assert.equal(await condition('Offline'), undefined, 'Offline condition dropped once reachable');
    await waitFor(() => members.get('m1')!.ready, 3000, 'members sees Ready again');

    // A success in between starts the failure count over: 2 + 2 failures never reach 3.
    for (const up of [false, false, true, false, false]) {
      if (up) fixture.reachable.add('m1');
      else fixture.reachable.delete('m1');
      await clock.advance(10_000);
      await health.probeAll();
    }
    assert.equal((await condition('Ready'))?.status, 'True');
    fixture.reachable.add('m1');
  });

  test('conditions keep lastTransitionTime while the status holds', () => {
    const first = healthConditions('Ready', [], 't1');
    const again = healthConditions('Ready', first, 't2');
    assert.equal(again[0]!.lastTransitionTime, 't1');
    assert.equal(again[0]!.lastProbeTime, 't2');
    const down = healthConditions('NotReady', again, 't3');
    assert.equal(down[0]!.status, 'False');
    assert.equal(down[0]!.reason, 'ClusterNotReady');
    assert.equal(down[0]!.lastTransitionTime, 't3');
  });
});
