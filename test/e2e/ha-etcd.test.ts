// HA over a real etcd: a second server joins with the first one's token, serves the same
// cluster (same CA: the first server's kubeconfig works against it), and a write on one is
// seen by a watch on the other. Without the token, the second server refuses with advice.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { startEtcd, type RunningEtcd } from '../../src/storage/etcd/testing.js';
import { repoRoot, startServer, freePort, type TestServer } from './harness.js';

let etcd: RunningEtcd;
const servers: TestServer[] = [];
before(async () => {
  etcd = await startEtcd();
});
after(async () => {
  for (const s of servers) await s.stop();
  await etcd?.stop();
});

test('two servers on one etcd serve one cluster', async () => {
  const first = await startServer({ extraArgs: ['--datastore', 'etcd', '--etcd-endpoints', etcd.endpoint] });
  servers.push(first);

  // Without the token the second server must refuse, saying what to do.
  const refused = spawnSync(process.execPath, [join(repoRoot, 'dist/src/cli/main.js'), 'server', '--data-dir', `${first.dataDir}-other`, '--port', String(await freePort()), '--datastore', 'etcd', '--etcd-endpoints', etcd.endpoint, '--disable-agent'], { encoding: 'utf8', timeout: 20_000 });
  assert.notEqual(refused.status, 0);
  assert.match(refused.stderr, /--token-file/);

  const second = await startServer({ extraArgs: ['--datastore', 'etcd', '--etcd-endpoints', etcd.endpoint, '--token-file', join(first.dataDir, 'token')] });
  servers.push(second);

  // The first server's admin credentials work against the second: same CA.
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(first.kubeconfig);
  kc.clusters[0] = { ...kc.clusters[0], server: second.url };
  const onSecond = kc.makeApiClient(k8s.CoreV1Api);

  const kcFirst = new k8s.KubeConfig();
  kcFirst.loadFromFile(first.kubeconfig);
  const seen: string[] = [];
  const watch = new k8s.Watch(kc);
  const list = await onSecond.listNamespacedConfigMap({ namespace: 'default' });
  const request = await watch.watch('/api/v1/namespaces/default/configmaps', { resourceVersion: list.metadata!.resourceVersion }, (type, obj) => seen.push(`${type} ${obj.metadata.name}`), () => undefined);
  await kcFirst.makeApiClient(k8s.CoreV1Api).createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'from-first' } } });
  const deadline = Date.now() + 5000;
  while (!seen.includes('ADDED from-first') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  request.abort();
  assert.deepEqual(seen, ['ADDED from-first']);
  const got = await onSecond.readNamespacedConfigMap({ name: 'from-first', namespace: 'default' });
  assert.equal(got.metadata?.name, 'from-first');

  // The first server led the controllers; it dies, and the second takes the lease over.
  const lease = await kc.makeApiClient(k8s.CoordinationV1Api).readNamespacedLease({ name: 'kube-controller-manager', namespace: 'kube-system' });
  const firstLeader = lease.spec?.holderIdentity;
  await first.kill('SIGKILL');
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  await apps.createNamespacedDeployment({ namespace: 'default', body: { metadata: { name: 'after-failover' }, spec: { replicas: 1, selector: { matchLabels: { app: 'f' } }, template: { metadata: { labels: { app: 'f' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } } } });
  const failoverDeadline = Date.now() + 40_000;
  let sets = 0;
  while (Date.now() < failoverDeadline) {
    sets = (await apps.listNamespacedReplicaSet({ namespace: 'default', labelSelector: 'app=f' })).items.length;
    if (sets > 0) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.equal(sets, 1, 'the surviving server did not take over the controllers');
  const after = await kc.makeApiClient(k8s.CoordinationV1Api).readNamespacedLease({ name: 'kube-controller-manager', namespace: 'kube-system' });
  if (firstLeader) assert.notEqual(after.spec?.holderIdentity, firstLeader);
});
