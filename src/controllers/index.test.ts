// startControllers wires every controller to one transport: a smoke test of the whole set.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApiServer } from '../apiserver/testing.js';
import { FakeClock } from '../client/testing/fake-clock.js';
import { deploymentsResource, serviceAccountsResource } from './framework/resources.js';
import { startControllers } from './index.js';
import { eventually, listPods, serverClockOf } from './testing.js';

test('startControllers runs the controllers together against one API server', async () => {
  const clock = new FakeClock(Date.parse('2026-01-01T00:00:00Z'));
  const server = await startTestApiServer({ clock: serverClockOf(clock) });
  const abort = new AbortController();
  const running = startControllers({ transport: server.transport(), clock, caPem: 'PEM', signal: abort.signal, logger: () => undefined });
  try {
    assert.deepEqual(running.controllers.map((c) => c.name).sort(), [
      'cronjob', 'daemonset', 'deployment', 'disruption', 'garbage-collector', 'horizontal-pod-autoscaler', 'job', 'local-path-provisioner', 'namespace', 'nodelifecycle', 'persistentvolume-binder', 'podgc', 'replicaset', 'replicationcontroller', 'resourcequota', 'root-ca-cert-publisher', 'serviceaccount', 'statefulset', 'ttl-after-finished',
    ]);
    await eventually(clock, () => running.hasSynced(), 'all synced');
    await server.client.resource(deploymentsResource).create('default', {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'smoke' },
      spec: { replicas: 2, selector: { matchLabels: { app: 'smoke' } }, template: { metadata: { labels: { app: 'smoke' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } },
    });
    await eventually(clock, async () => (await listPods(server.client, 'default', 'app=smoke')).length === 2, 'deployment pods');
    await eventually(clock, () => server.client.resource(serviceAccountsResource).get('default', 'default').then(() => true, () => false), 'default SA');
    // Background deletion through the garbage collector: the ReplicaSet and its pods follow.
    await server.client.resource(deploymentsResource).delete('default', 'smoke');
    await eventually(clock, async () => (await listPods(server.client, 'default', 'app=smoke')).length === 0, 'pods collected');
  } finally {
    abort.abort();
    await running.done;
    await server.close();
  }
});

test('with leader election the controllers run only while holding the kube-controller-manager Lease', async () => {
  const clock = new FakeClock(Date.parse('2026-01-01T00:00:00Z'));
  const server = await startTestApiServer({ clock: serverClockOf(clock) });
  const abort = new AbortController();
  const running = startControllers({ transport: server.transport(), clock, caPem: 'PEM', signal: abort.signal, logger: () => undefined, leaderElection: { identity: 'server-a' } });
  try {
    await eventually(clock, () => running.hasSynced(), 'leading and synced');
    const lease = await server.client.resource({ group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespaced: true }).get('kube-system', 'kube-controller-manager');
    assert.equal(lease.spec.holderIdentity, 'server-a');
    await eventually(clock, () => server.client.resource(serviceAccountsResource).get('default', 'default').then(() => true, () => false), 'controllers at work');
  } finally {
    abort.abort();
    await running.done;
    await server.close();
  }
});
