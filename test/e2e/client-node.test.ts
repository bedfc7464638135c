// The official @kubernetes/client-node against navarch: typed CRUD, errors as typed objects,
// and an informer (list + watch) that sees changes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { startServer, type TestServer } from './harness.js';

describe('@kubernetes/client-node against navarch', () => {
  let server: TestServer;
  let kc: k8s.KubeConfig;
  before(async () => {
    server = await startServer();
    kc = new k8s.KubeConfig();
    kc.loadFromFile(server.kubeconfig);
  });
  after(async () => {
    await server?.stop();
  });

  test('create, read, patch, delete through the typed API', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const created = await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'typed' }, data: { a: '1' } } });
    assert.equal(created.metadata?.name, 'typed');
    const read = await core.readNamespacedConfigMap({ name: 'typed', namespace: 'default' });
    assert.equal(read.data?.a, '1');
    const patched = await core.patchNamespacedConfigMap(
      { name: 'typed', namespace: 'default', body: { data: { b: '2' } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    assert.deepEqual(patched.data, { a: '1', b: '2' });
    await core.deleteNamespacedConfigMap({ name: 'typed', namespace: 'default' });
    await assert.rejects(core.readNamespacedConfigMap({ name: 'typed', namespace: 'default' }), (e: unknown) => {
      const err = e as k8s.ApiException<string>;
      assert.equal(err.code, 404);
      assert.equal(JSON.parse(err.body).reason, 'NotFound');
      return true;
    });
  });

  test('invalid objects get 422 with the field path', async () => {
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    await assert.rejects(
      apps.createNamespacedDeployment({ namespace: 'default', body: { metadata: { name: 'Bad_Name' }, spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'c' } }, spec: { containers: [] } } } } }),
      (e: unknown) => {
        const err = e as k8s.ApiException<string>;
        assert.equal(err.code, 422);
        const status = JSON.parse(err.body);
        assert.equal(status.reason, 'Invalid');
        const fields = status.details.causes.map((c: { field: string }) => c.field);
        assert.ok(fields.includes('metadata.name'), `causes: ${JSON.stringify(status.details.causes)}`);
        assert.ok(fields.includes('spec.template.metadata.labels'), `causes: ${JSON.stringify(status.details.causes)}`);
        return true;
      },
    );
  });

  test('an informer lists and then watches', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const informer = k8s.makeInformer(kc, '/api/v1/namespaces/default/configmaps', () => core.listNamespacedConfigMap({ namespace: 'default' }));
    const seen: string[] = [];
    informer.on('add', (o: k8s.V1ConfigMap) => seen.push(`add ${o.metadata?.name}`));
    informer.on('update', (o: k8s.V1ConfigMap) => seen.push(`update ${o.metadata?.name} ${o.data?.v}`));
    informer.on('delete', (o: k8s.V1ConfigMap) => seen.push(`delete ${o.metadata?.name}`));
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'before' }, data: { v: '0' } } });
    await informer.start();
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'watched' }, data: { v: '1' } } });
    await core.replaceNamespacedConfigMap({ name: 'watched', namespace: 'default', body: { metadata: { name: 'watched' }, data: { v: '2' } } });
    await core.deleteNamespacedConfigMap({ name: 'watched', namespace: 'default' });
    const deadline = Date.now() + 5000;
    while (!seen.includes('delete watched') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await informer.stop();
    assert.ok(seen.includes('add before'), seen.join(', '));
    const tail = seen.filter((s) => s.includes('watched'));
    assert.deepEqual(tail, ['add watched', 'update watched 2', 'delete watched']);
  });
});
