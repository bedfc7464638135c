// The seeds' PetSet walkthrough on a one-node runc server: a Cassandra-style StatefulSet (busybox
// stand-in) with a volume per ordinal from the default local-path StorageClass, scaled 3 → 5 → 2
// with ordered pods and retained claims; and a CronJob creating Jobs on its schedule.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, eventually, type TestServer } from './harness.js';

describe('StatefulSet and CronJob on runc', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ agent: true, extraArgs: ['--runtime', 'runc', '--cluster-cidr', '10.244.0.0/16', '--service-cidr', '10.245.0.0/16', '--cluster-dns', '10.245.0.10', '--node-name', 'e2e-sts'] });
    await eventually(() => /\sReady\s/.test(server.kubectl(['get', 'nodes']).stdout), 'node Ready');
  });
  after(async () => {
    if (server) {
      server.kubectl(['delete', 'pods', '--all', '--now'], { allowFail: true });
      await server.stop();
    }
  });
  const json = (args: string[]) => JSON.parse(server.kubectl([...args, '-o', 'json']).stdout);
  const readyPods = () =>
    (json(['get', 'pods', '-l', 'app=cassandra']).items as { metadata: { name: string }; status: { conditions?: { type: string; status: string }[] } }[])
      .filter((p) => p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
      .map((p) => p.metadata.name)
      .sort();

  test('scale 3 → 5 → 2: ordered pods, one claim per ordinal, claims retained', async () => {
    server.kubectl(['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        metadata: { name: 'cassandra' },
        spec: {
          serviceName: 'cassandra',
          replicas: 3,
          selector: { matchLabels: { app: 'cassandra' } },
          template: {
            metadata: { labels: { app: 'cassandra' } },
            spec: {
              terminationGracePeriodSeconds: 1,
              containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'hostname >> /data/seen; sleep 3600'], volumeMounts: [{ name: 'data', mountPath: '/data' }], readinessProbe: { exec: { command: ['test', '-s', '/data/seen'] }, periodSeconds: 1 } }],
            },
          },
          volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Mi' } } } }],
        },
      }),
    });
    await eventually(() => readyPods().length === 3, '3 ready pods', 90_000);
    assert.deepEqual(readyPods(), ['cassandra-0', 'cassandra-1', 'cassandra-2']);
    const claims = json(['get', 'pvc']).items;
    assert.deepEqual(claims.map((c: { metadata: { name: string } }) => c.metadata.name).sort(), ['data-cassandra-0', 'data-cassandra-1', 'data-cassandra-2']);
    assert.ok(claims.every((c: { status: { phase: string }; spec: { storageClassName: string } }) => c.status.phase === 'Bound' && c.spec.storageClassName === 'local-path'));
    // Each pod writes into its own volume.
    assert.equal(server.kubectl(['exec', 'cassandra-1', '--', 'cat', '/data/seen']).stdout, 'cassandra-1\n');

    server.kubectl(['scale', 'statefulset', 'cassandra', '--replicas=5']);
    await eventually(() => readyPods().length === 5, '5 ready pods', 90_000);
    const created = (json(['get', 'pods', '-l', 'app=cassandra']).items as { metadata: { name: string; creationTimestamp: string } }[]).sort((a, b) => a.metadata.creationTimestamp.localeCompare(b.metadata.creationTimestamp));
    assert.deepEqual(created.slice(3).map((p) => p.metadata.name), ['cassandra-3', 'cassandra-4'], 'new pods created in ordinal order');

    server.kubectl(['scale', 'statefulset', 'cassandra', '--replicas=2']);
    await eventually(() => json(['get', 'pods', '-l', 'app=cassandra']).items.length === 2, 'scaled down to 2', 90_000);
    assert.deepEqual(readyPods(), ['cassandra-0', 'cassandra-1']);
    assert.equal(json(['get', 'pvc']).items.length, 5, 'claims outlive scale-down');
    assert.match(server.kubectl(['get', 'sts', 'cassandra']).stdout, /cassandra\s+2\/2\s+/);
  });

  test('a CronJob creates a Job on its schedule, and kubectl create job --from works', async () => {
    server.kubectl(['create', 'cronjob', 'tick', '--image=busybox', '--schedule=* * * * *', '--', 'sh', '-c', 'echo tick']);
    server.kubectl(['create', 'job', 'tick-now', '--from=cronjob/tick']);
    await eventually(() => json(['get', 'job', 'tick-now']).status?.succeeded === 1, 'the manual job completes', 60_000);
    const scheduled = await eventually(() => json(['get', 'jobs']).items.find((j: { metadata: { name: string } }) => /^tick-\d+$/.test(j.metadata.name)), 'a scheduled job', 75_000);
    assert.ok(scheduled.metadata.ownerReferences.some((r: { kind: string; name: string }) => r.kind === 'CronJob' && r.name === 'tick'));
    await eventually(() => json(['get', 'cronjob', 'tick']).status?.lastScheduleTime, 'lastScheduleTime', 30_000);
  });
});
