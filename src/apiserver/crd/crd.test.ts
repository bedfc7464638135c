// CRDs served by a real in-process API server: the CronTab walk-through of Kubernetes' docs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApiServer, type TestApiServer } from '../testing.js';
import type { KubeObject } from '../../api/types.js';
import { customResourceDefinitionsRef, cleanupFinalizer } from './crd-controller.js';
import { cronTabDefinition } from './testdata.js';

const cronTabs = { group: 'stable.example.com', version: 'v1', resource: 'crontabs', namespaced: true, kind: 'CronTab' };

async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function condition(crd: KubeObject, type: string): KubeObject | undefined {
  return (crd.status?.conditions ?? []).find((c: KubeObject) => c.type === type);
}

async function establish(server: TestApiServer): Promise<KubeObject> {
  const crds = server.client.resource(customResourceDefinitionsRef);
  await crds.create(undefined, cronTabDefinition());
  return eventually(async () => {
    const crd = await crds.get(undefined, 'crontabs.stable.example.com');
    return condition(crd, 'Established')?.status === 'True' ? crd : undefined;
  }, 'Established');
}

async function request(server: TestApiServer, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  return server.transport().request({ method, path, body, headers, contentType: headers['content-type'] });
}

test('a CRD becomes Established with accepted names, stored versions and the cleanup finalizer, and is discoverable', async () => {
  const server = await startTestApiServer();
  try {
    const crd = await establish(server);
    assert.equal(condition(crd, 'NamesAccepted')?.status, 'True');
    assert.equal(condition(crd, 'NamesAccepted')?.reason, 'NoConflicts');
    assert.deepEqual(crd.status.acceptedNames, { plural: 'crontabs', singular: 'crontab', kind: 'CronTab', listKind: 'CronTabList', shortNames: ['ct'] });
    assert.deepEqual(crd.status.storedVersions, ['v1']);
    assert.ok(crd.metadata.finalizers?.includes(cleanupFinalizer));

    const discovery = await request(server, 'GET', '/apis/stable.example.com/v1');
    assert.equal(discovery.status, 200);
    const crontabs = (discovery.body as KubeObject).resources.find((r: KubeObject) => r.name === 'crontabs');
    assert.equal(crontabs.kind, 'CronTab');
    assert.equal(crontabs.namespaced, true);
    assert.deepEqual(crontabs.shortNames, ['ct']);
    assert.ok((discovery.body as KubeObject).resources.some((r: KubeObject) => r.name === 'crontabs/scale'));

    const openapi = await request(server, 'GET', '/openapi/v3/apis/stable.example.com/v1');
    assert.equal(openapi.status, 200);
    const doc = typeof openapi.body === 'string' ? JSON.parse(openapi.body) : openapi.body;
    assert.ok(doc.components.schemas['com.example.stable.v1.CronTab'], 'CronTab in OpenAPI v3');
  } finally {
    await server.close();
  }
});

test('custom resources: create with defaults and pruning, 422 on invalid, list, watch, patches, versions', async () => {
  const server = await startTestApiServer();
  try {
    await establish(server);
    const client = server.client.resource(cronTabs);
    const events: string[] = [];
    const watch = server.transport().watch({ path: '/apis/stable.example.com/v1/namespaces/default/crontabs', query: { watch: 'true', resourceVersion: '0' } }, (e) => events.push(`${e.type} ${e.object.metadata.name} ${e.object.spec?.replicas}`), () => undefined);

    const created = await client.create('default', {
      apiVersion: 'stable.example.com/v1', kind: 'CronTab', metadata: { name: 'my-new-cron-object' },
      spec: { cronSpec: '* * * * */5', unknownField: 'gone' }, extra: true,
    } as KubeObject);
    assert.equal(created.spec.image, 'nginx:latest', 'default applied');
    assert.equal(created.spec.replicas, 1, 'default applied');
    assert.equal(created.spec.unknownField, undefined, 'unknown field pruned');
    assert.equal(created.extra, undefined, 'unknown root field pruned');
    assert.equal(created.metadata.generation, 1);

    await assert.rejects(
      client.create('default', { apiVersion: 'stable.example.com/v1', kind: 'CronTab', metadata: { name: 'bad' }, spec: { cronSpec: '* * * *', replicas: 15 } } as KubeObject),
      (e: { code: number; message: string; details?: { causes?: { field: string; message: string }[] } }) => {
        assert.equal(e.code, 422);
        const causes = (e.details?.causes ?? []).map((c) => `${c.field}: ${c.message}`).sort();
        assert.deepEqual(causes, [
          "spec.cronSpec: Invalid value: \"* * * *\": spec.cronSpec in body should match '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$'",
          'spec.replicas: Invalid value: 15: spec.replicas in body should be less than or equal to 10',
        ]);
        assert.match(e.message, /CronTab.stable.example.com "bad" is invalid/);
        return true;
      },
    );
    await assert.rejects(
      client.create('default', { apiVersion: 'stable.example.com/v1', kind: 'CronTab', metadata: { name: 'bad2' }, spec: { cronSpec: '* * * * *', replicas: 'string' } } as KubeObject),
      (e: { code: number; details?: { causes?: { field: string; message: string }[] } }) =>
        e.code === 422 && e.details!.causes![0].message === 'Invalid value: "string": spec.replicas in body must be of type integer: "string"',
    );
    await assert.rejects(
      client.create('default', { apiVersion: 'stable.example.com/v1', kind: 'CronTab', metadata: { name: 'Bad_Name', labels: { 'a b': 'c' } }, spec: { cronSpec: '* * * * *' } } as KubeObject),
      (e: { code: number; details?: { causes?: { field: string; message: string }[] } }) =>
        e.code === 422 && e.details!.causes!.some((c) => c.field === 'metadata.name') && e.details!.causes!.some((c) => c.field === 'metadata.labels'),
    );
    await assert.rejects(
      client.create('default', { apiVersion: 'stable.example.com/v1', kind: 'CronTab', metadata: { name: 'bad3' }, spec: {} } as KubeObject),
      (e: { code: number; details?: { causes?: { field: string; message: string }[] } }) => e.code === 422 && e.details!.causes!.some((c) => c.field === 'spec.cronSpec' && c.message === 'Required value'),
    );

    const merged = await client.patch('default', 'my-new-cron-object', 'merge', { spec: { replicas: 3 } });
    assert.equal(merged.spec.replicas, 3);
    assert.equal(merged.metadata.generation, 2);
    const jsonPatched = await client.patch('default', 'my-new-cron-object', 'json', [{ op: 'replace', path: '/spec/image', value: 'busybox' }]);
    assert.equal(jsonPatched.spec.image, 'busybox');
    await assert.rejects(client.patch('default', 'my-new-cron-object', 'json', [{ op: 'replace', path: '/spec/replicas', value: 0 }]), (e: { code: number }) => e.code === 422);
    await assert.rejects(client.patch('default', 'my-new-cron-object', 'strategic', { spec: { replicas: 2 } }), (e: { code: number }) => e.code === 415);

    const applied = await client.patch('default', 'applied', 'apply', { apiVersion: 'stable.example.com/v1', kind: 'CronTab', metadata: { name: 'applied' }, spec: { cronSpec: '0 * * * *', replicas: 2 } }, { fieldManager: 'test' });
    assert.equal(applied.spec.replicas, 2);
    assert.equal(applied.spec.image, 'nginx:latest');
    assert.ok(applied.metadata.managedFields?.some((m) => m.manager === 'test' && m.operation === 'Apply'));

    const list = await client.list('default');
    assert.deepEqual(list.items.map((o) => o.metadata.name), ['applied', 'my-new-cron-object']);
    // Another served version reads the same stored objects, with its own apiVersion (conversion None).
    const beta = await server.client.resource({ ...cronTabs, version: 'v1beta1' }).get('default', 'applied');
    assert.equal(beta.apiVersion, 'stable.example.com/v1beta1');
    assert.equal(beta.spec.replicas, 2);

    await eventually(async () => (events.length >= 4 ? true : undefined), 'watch events');
    watch.stop();
    assert.deepEqual(events.slice(0, 4), ['ADDED my-new-cron-object 1', 'MODIFIED my-new-cron-object 3', 'MODIFIED my-new-cron-object 3', 'ADDED applied 2']);
  } finally {
    await server.close();
  }
});

test('status and scale subresources, and printer columns in Table output', async () => {
  const server = await startTestApiServer();
  try {
    await establish(server);
    const client = server.client.resource(cronTabs);
    const created = await client.create('default', {
      apiVersion: 'stable.example.com/v1', kind: 'CronTab', metadata: { name: 'ct1' },
      spec: { cronSpec: '* * * * */5', replicas: 2 }, status: { replicas: 9 },
    } as KubeObject);
    assert.equal(created.status, undefined, 'status is reset on create with a status subresource');
    const updated = await client.updateStatus({ ...created, spec: { ...created.spec, replicas: 7 }, status: { replicas: 2, labelSelector: 'app=ct1' } });
    assert.equal(updated.status.replicas, 2);
    assert.equal(updated.spec.replicas, 2, 'spec does not change through /status');
    assert.equal(updated.metadata.generation, 1);
    const ignored = await client.update({ ...updated, status: { replicas: 5 } });
    assert.equal(ignored.status.replicas, 2, 'status does not change through the main resource');

    const scale = await client.getScale('default', 'ct1');
    assert.equal(scale.kind, 'Scale');
    assert.equal(scale.spec.replicas, 2);
    assert.equal(scale.status.replicas, 2);
    assert.equal(scale.status.selector, 'app=ct1');
    await client.updateScale('default', 'ct1', { ...scale, spec: { replicas: 4 } });
    assert.equal((await client.get('default', 'ct1')).spec.replicas, 4);
    await assert.rejects(client.updateScale('default', 'ct1', { ...scale, metadata: { ...scale.metadata, resourceVersion: undefined }, spec: { replicas: 11 } }), (e: { code: number }) => e.code === 422);

    const table = await request(server, 'GET', '/apis/stable.example.com/v1/namespaces/default/crontabs', undefined, { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' });
    const body = table.body as KubeObject;
    assert.equal(body.kind, 'Table');
    assert.deepEqual(body.columnDefinitions.map((c: KubeObject) => `${c.name}:${c.type}`), ['Name:string', 'Spec:string', 'Replicas:integer', 'Age:date']);
    assert.deepEqual(body.rows[0].cells.slice(0, 3), ['ct1', '* * * * */5', 4]);
    assert.match(body.rows[0].cells[3], /^\d+s$/);
    // v1beta1 declares no columns: Name and Age, as kube-apiserver serves them.
    const beta = await request(server, 'GET', '/apis/stable.example.com/v1beta1/namespaces/default/crontabs', undefined, { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' });
    assert.deepEqual((beta.body as KubeObject).columnDefinitions.map((c: KubeObject) => c.name), ['Name', 'Age']);
  } finally {
    await server.close();
  }
});

test('deleting the CRD deletes its custom resources and stops serving them; a conflicting CRD is not accepted', async () => {
  const server = await startTestApiServer();
  try {
    await establish(server);
    const client = server.client.resource(cronTabs);
    for (const name of ['a', 'b']) {
      await client.create('default', { apiVersion: 'stable.example.com/v1', kind: 'CronTab', metadata: { name }, spec: { cronSpec: '* * * * *' } } as KubeObject);
    }
    await client.create('kube-system', { apiVersion: 'stable.example.com/v1', kind: 'CronTab', metadata: { name: 'c' }, spec: { cronSpec: '* * * * *' } } as KubeObject);

    // Another CRD of the group claiming the same kind: NamesAccepted=False, never Established.
    const crds = server.client.resource(customResourceDefinitionsRef);
    const rival = cronTabDefinition();
    rival.metadata.name = 'othertabs.stable.example.com';
    rival.spec.names = { plural: 'othertabs', singular: 'othertab', kind: 'CronTab' };
    await crds.create(undefined, rival);
    const rejected = await eventually(async () => {
      const crd = await crds.get(undefined, 'othertabs.stable.example.com');
      return condition(crd, 'NamesAccepted') ? crd : undefined;
    }, 'NamesAccepted on the rival');
    assert.equal(condition(rejected, 'NamesAccepted')?.status, 'False');
    assert.equal(condition(rejected, 'NamesAccepted')?.reason, 'KindConflict');
    assert.notEqual(condition(rejected, 'Established')?.status, 'True');
    assert.equal((await request(server, 'GET', '/apis/stable.example.com/v1/othertabs')).status, 404);

    // A finalizer on one custom resource holds the CRD in Terminating, where creates are refused.
    await client.patch('default', 'a', 'merge', { metadata: { finalizers: ['example.com/hold'] } });
    await crds.delete(undefined, 'crontabs.stable.example.com');
    const terminating = await eventually(async () => {
      const crd = await crds.get(undefined, 'crontabs.stable.example.com');
      return condition(crd, 'Terminating')?.status === 'True' ? crd : undefined;
    }, 'Terminating');
    assert.equal(condition(terminating, 'Terminating')?.reason, 'InstanceDeletionInProgress');
    await eventually(async () => ((await client.list()).items.map((o) => o.metadata.name).join() === 'a' ? true : undefined), 'b and c deleted');
    await assert.rejects(
      client.create('default', { apiVersion: 'stable.example.com/v1', kind: 'CronTab', metadata: { name: 'late' }, spec: { cronSpec: '* * * * *' } } as KubeObject),
      (e: { code: number }) => e.code === 405,
    );
    await client.patch('default', 'a', 'merge', { metadata: { finalizers: null } });
    await eventually(async () => {
      const r = await request(server, 'GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/crontabs.stable.example.com');
      return r.status === 404 ? true : undefined;
    }, 'CRD gone');
    assert.equal((await request(server, 'GET', '/apis/stable.example.com/v1/crontabs')).status, 404);
    // With the kind free again, the rival's names are accepted (the naming controller re-checks the group).
    await eventually(async () => {
      const crd = await crds.get(undefined, 'othertabs.stable.example.com');
      return condition(crd, 'Established')?.status === 'True' ? crd : undefined;
    }, 'rival Established');
    await crds.delete(undefined, 'othertabs.stable.example.com');
    await eventually(async () => ((await crds.list()).items.length === 0 ? true : undefined), 'rival gone');
    // Stored objects went with the CRD: a new CRD of the same name starts empty.
    await establish(server);
    assert.deepEqual((await client.list()).items, []);
  } finally {
    await server.close();
  }
});
