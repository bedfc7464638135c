import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, resourcePath, retryOnConflict, type ResourceRef } from './client.js';
import { ApiError, isAlreadyExists, isConflict, isGone, isNotFound, isTooManyRequests } from './errors.js';
import { createHttpTransport, loadKubeconfig, type WatchEvent } from './transport.js';
import { FakeApiServer } from './testing/fake-apiserver.js';
import { FakeClock } from './testing/fake-clock.js';
import { waitFor } from './testing/wait.js';

const pods: ResourceRef = { group: '', version: 'v1', resource: 'pods', namespaced: true, kind: 'Pod' };
const nodes: ResourceRef = { group: '', version: 'v1', resource: 'nodes', namespaced: false, kind: 'Node' };
const deployments: ResourceRef = { group: 'apps', version: 'v1', resource: 'deployments', namespaced: true, kind: 'Deployment' };

describe('resourcePath', () => {
  const cases: Array<[ResourceRef, string | undefined, string | undefined, string | undefined, string]> = [
    [pods, 'default', 'web', undefined, '/api/v1/namespaces/default/pods/web'],
    [pods, undefined, undefined, undefined, '/api/v1/pods'],
    [pods, 'kube-system', undefined, undefined, '/api/v1/namespaces/kube-system/pods'],
    [pods, 'default', 'web', 'status', '/api/v1/namespaces/default/pods/web/status'],
    [nodes, 'ignored', 'n1', undefined, '/api/v1/nodes/n1'],
    [deployments, 'prod', 'api', 'scale', '/apis/apps/v1/namespaces/prod/deployments/api/scale'],
    [{ group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespaced: true }, 'kube-system', 'x', undefined, '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/x'],
  ];
  for (const [ref, ns, name, sub, want] of cases) {
    test(want, () => assert.equal(resourcePath(ref, ns, name, sub), want));
  }
});

describe('resource client against a fake API server', () => {
  const server = new FakeApiServer([
    { ...pods, kind: 'Pod' },
    { ...nodes, kind: 'Node' },
    { ...deployments, kind: 'Deployment' },
  ]);
  let client: ReturnType<typeof createClient>;
  before(async () => {
    const url = await server.start();
    client = createClient(createHttpTransport({ server: url, userAgent: 'navarch-test/1' }));
  });
  after(() => server.stop());

  test('create, get, update with optimistic concurrency, delete', async () => {
    const podClient = client.resource(pods);
    const created = await podClient.create('default', { metadata: { name: 'web', labels: { app: 'web' } }, spec: { containers: [] } });
    assert.equal(created.metadata.namespace, 'default');
    assert.ok(created.metadata.resourceVersion);
    assert.equal(server.requests.at(-1)!.headers['user-agent'], 'navarch-test/1');

    const got = await podClient.get('default', 'web');
    assert.equal(got.metadata.uid, created.metadata.uid);

    await assert.rejects(podClient.create('default', { metadata: { name: 'web' } }), (err) => isAlreadyExists(err) && (err as ApiError).code === 409);

    const updated = await podClient.update({ ...got, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
    assert.notEqual(updated.metadata.resourceVersion, got.metadata.resourceVersion);
    // Writing with the stale copy must fail with Conflict, not silently overwrite.
    await assert.rejects(podClient.update({ ...got, spec: { containers: [] } }), (err) => isConflict(err) && !isNotFound(err));

    await podClient.delete('default', 'web', { propagationPolicy: 'Background', gracePeriodSeconds: 0 });
    const deleteRequest = server.requests.at(-1)!;
    assert.equal(deleteRequest.method, 'DELETE');
    assert.deepEqual(deleteRequest.body, { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Background', gracePeriodSeconds: 0 });
    await assert.rejects(podClient.get('default', 'web'), (err) => {
      assert.ok(err instanceof ApiError);
      assert.equal(err.reason, 'NotFound');
      assert.equal(err.message, 'pods "web" not found');
      assert.equal(err.details?.name, 'web');
      return isNotFound(err);
    });
  });

  test('delete with a stale uid precondition is a Conflict', async () => {
    const podClient = client.resource(pods);
    await podClient.create('default', { metadata: { name: 'pre' } });
    await assert.rejects(podClient.delete('default', 'pre', { preconditions: { uid: 'someone-else' } }), isConflict);
    await podClient.delete('default', 'pre');
  });

  test('list with selectors, paging, and items stamped with kind', async () => {
    const podClient = client.resource(pods);
    for (let i = 0; i < 5; i++) {
      await podClient.create('paging', { metadata: { name: `p${i}`, labels: { tier: i % 2 ? 'odd' : 'even' } }, spec: { nodeName: `n${i % 2}` } });
    }
    const even = await podClient.list('paging', { labelSelector: 'tier=even' });
    assert.deepEqual(even.items.map((p) => p.metadata.name), ['p0', 'p2', 'p4']);
    assert.equal(even.items[0]!.kind, 'Pod');
    assert.equal(even.items[0]!.apiVersion, 'v1');
    const onNode1 = await podClient.list(undefined, { fieldSelector: 'spec.nodeName=n1' });
    assert.deepEqual(onNode1.items.map((p) => p.metadata.name), ['p1', 'p3']);
    assert.equal(server.requests.at(-1)!.path, '/api/v1/pods');
    assert.equal(server.requests.at(-1)!.query.fieldSelector, 'spec.nodeName=n1');

    const page = await podClient.list('paging', { limit: 2 });
    assert.equal(page.items.length, 2);
    assert.ok(page.metadata.continue);
    const all = await podClient.listAll('paging', { limit: 2 });
    assert.deepEqual(all.items.map((p) => p.metadata.name), ['p0', 'p1', 'p2', 'p3', 'p4']);
    assert.equal(all.metadata.resourceVersion, page.metadata.resourceVersion);

    server.compact();
    await assert.rejects(podClient.list('paging', { limit: 2, continue: page.metadata.continue }), isGone);

    const deleted = await podClient.deleteCollection('paging', { labelSelector: 'tier=odd' });
    assert.equal(deleted.items.length, 2);
    assert.equal((await podClient.list('paging')).items.length, 3);
  });

  test('cluster-scoped and group resources use the right paths', async () => {
    await client.resource(nodes).create(undefined, { metadata: { name: 'node-a' } });
    assert.equal(server.requests.at(-1)!.path, '/api/v1/nodes');
    await client.resource(deployments).create('prod', { metadata: { name: 'api' }, spec: { replicas: 1 } });
    assert.equal(server.requests.at(-1)!.path, '/apis/apps/v1/namespaces/prod/deployments');
    const got = await client.resource(deployments).get('prod', 'api');
    assert.equal(got.apiVersion, 'apps/v1');
    assert.equal(got.kind, 'Deployment');
  });

  test('patch sends the Kubernetes content type for each patch kind', async () => {
    const podClient = client.resource(pods);
    await podClient.create('default', { metadata: { name: 'patched' } });
    const patched = await podClient.patch('default', 'patched', 'merge', { metadata: { labels: { a: 'b' } } }, { fieldManager: 'tester' });
    assert.deepEqual(patched.metadata.labels, { a: 'b' });
    assert.equal(server.requests.at(-1)!.contentType, 'application/merge-patch+json');
    assert.equal(server.requests.at(-1)!.query.fieldManager, 'tester');
    for (const [type, contentType] of [
      ['json', 'application/json-patch+json'],
      ['strategic', 'application/strategic-merge-patch+json'],
      ['apply', 'application/apply-patch+yaml'],
    ] as const) {
      // The fake only implements merge patch; what matters here is what the client sent.
      await assert.rejects(podClient.patch('default', 'patched', type, {}, { fieldManager: 'tester', force: true }));
      assert.equal(server.requests.at(-1)!.contentType, contentType);
    }
    assert.equal(server.requests.at(-1)!.query.force, 'true');
    await assert.rejects(podClient.patch('default', 'patched', 'apply', {}), /fieldManager/);
  });

  test('updateStatus writes the status subresource only', async () => {
    const podClient = client.resource(pods);
    const pod = await podClient.create('default', { metadata: { name: 'st' }, spec: { x: 1 } });
    const after = await podClient.updateStatus({ ...pod, spec: { x: 2 }, status: { phase: 'Running' } });
    assert.equal(server.requests.at(-1)!.path, '/api/v1/namespaces/default/pods/st/status');
    assert.equal(after.status.phase, 'Running');
    assert.deepEqual(after.spec, { x: 1 });
  });

  test('bind posts a Binding to pods/binding', async () => {
    const podClient = client.resource(pods);
    await podClient.create('default', { metadata: { name: 'unscheduled' }, spec: {} });
    await podClient.bind('default', 'unscheduled', 'node-a');
    const request = server.requests.at(-1)!;
    assert.equal(request.path, '/api/v1/namespaces/default/pods/unscheduled/binding');
    assert.deepEqual(request.body.target, { apiVersion: 'v1', kind: 'Node', name: 'node-a' });
    assert.equal((await podClient.get('default', 'unscheduled')).spec.nodeName, 'node-a');
  });

  test('dryRun and errors without a Status body', async () => {
    const podClient = client.resource(pods);
    await podClient.create('default', { metadata: { name: 'dry' } }, { dryRun: true });
    assert.equal(server.requests.at(-1)!.query.dryRun, 'All');
    await assert.rejects(podClient.get('default', 'dry'), isNotFound);
    server.injectedFailures.push({ code: 429, reason: 'TooManyRequests', message: 'slow down' });
    const impatient = createClient(client.transport, { maxThrottleRetries: 0 }).resource(pods);
    await assert.rejects(impatient.get('default', 'anything'), isTooManyRequests);
  });

  test('watch streams events from a resourceVersion and reports 410 as an ERROR event', async () => {
    const podClient = client.resource(pods);
    const start = await podClient.list('watched');
    const events: WatchEvent[] = [];
    let closed: Error | undefined | 'open' = 'open';
    const handle = podClient.watch('watched', { resourceVersion: start.metadata.resourceVersion, allowWatchBookmarks: true }, (ev) => events.push(ev), (err) => (closed = err));
    await waitFor(() => server.activeWatchCount() > 0);
    const a = await podClient.create('watched', { metadata: { name: 'a' } });
    await podClient.update({ ...a, spec: { changed: true } });
    await podClient.delete('watched', 'a');
    server.sendBookmarks();
    await waitFor(() => events.length >= 4);
    assert.deepEqual(events.map((e) => e.type), ['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK']);
    assert.equal(events[3]!.object.metadata.resourceVersion, String(server.currentRevision()));
    server.closeWatches();
    await waitFor(() => closed !== 'open');
    assert.equal(closed, undefined, 'a clean end of stream is not an error');
    handle.stop();

    server.compact();
    const stale: WatchEvent[] = [];
    podClient.watch('watched', { resourceVersion: start.metadata.resourceVersion }, (ev) => stale.push(ev), () => {});
    await waitFor(() => stale.length > 0);
    assert.equal(stale[0]!.type, 'ERROR');
    assert.equal(stale[0]!.object.code, 410);
  });

  test('watch refused by the server closes with an ApiError', async () => {
    server.injectedFailures.push({ code: 403, reason: 'Forbidden', message: 'no', match: (r) => r.query.watch === 'true' });
    const err = await new Promise<Error | undefined>((resolve) => client.resource(pods).watch(undefined, {}, () => {}, resolve));
    assert.ok(err instanceof ApiError);
    assert.equal(err.reason, 'Forbidden');
  });
});

describe('throttling', () => {
  test('429 is retried after the server\'s Retry-After, up to the limit', async () => {
    const server = new FakeApiServer([{ ...pods, kind: 'Pod' }]);
    const clock = new FakeClock();
    const podClient = createClient(server.transport(), { clock, maxThrottleRetries: 2 }).resource(pods);
    server.put(pods, { metadata: { namespace: 'default', name: 'p' } });
    const retryAfter = (seconds: number) => ({ code: 429, reason: 'TooManyRequests', message: 'too many requests', details: { retryAfterSeconds: seconds } });
    server.injectedFailures.push(retryAfter(3), retryAfter(3));
    let result: any;
    void podClient.get('default', 'p').then((p) => (result = p));
    await clock.advance(5_999);
    assert.equal(result, undefined);
    await clock.advance(1);
    assert.equal((result as any).metadata.name, 'p');
    server.injectedFailures.push(retryAfter(1), retryAfter(1), retryAfter(1));
    const failed = podClient.get('default', 'p').catch((e) => e);
    await clock.advance(2_000);
    assert.ok(isTooManyRequests(await failed));
  });
});

describe('retryOnConflict', () => {
  test('retries only conflicts, and gives up after the configured steps', async () => {
    const clock = new FakeClock();
    let calls = 0;
    const conflict = new ApiError({ code: 409, reason: 'Conflict', message: 'stale' });
    const pending = retryOnConflict(async () => {
      calls++;
      if (calls < 3) throw conflict;
      return 'done';
    }, { steps: 5, durationMs: 10, factor: 1, jitter: 0 }, clock);
    await clock.advance(100);
    assert.equal(await pending, 'done');
    assert.equal(calls, 3);

    calls = 0;
    const failing = retryOnConflict(async () => {
      calls++;
      throw conflict;
    }, { steps: 3, durationMs: 10, factor: 2, jitter: 0 }, clock);
    const outcome = failing.catch((e) => e);
    await clock.advance(1000);
    assert.equal(await outcome, conflict);
    assert.equal(calls, 3);

    calls = 0;
    const notFound = new ApiError({ code: 404, reason: 'NotFound' });
    await assert.rejects(retryOnConflict(async () => {
      calls++;
      throw notFound;
    }, undefined, clock), isNotFound);
    assert.equal(calls, 1);
  });
});

describe('kubeconfig', () => {
  test('resolves the current context, inline data and relative files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'navarch-kubeconfig-'));
    try {
      writeFileSync(join(dir, 'ca.crt'), 'CA-PEM');
      writeFileSync(join(dir, 'token'), 'secret-token\n');
      writeFileSync(
        join(dir, 'config'),
        [
          'apiVersion: v1',
          'kind: Config',
          'current-context: dev',
          'clusters:',
          '- name: prod',
          '  cluster: { server: "https://prod:6443" }',
          '- name: local',
          '  cluster:',
          '    server: https://127.0.0.1:6443',
          '    certificate-authority: ca.crt',
          'contexts:',
          '- name: dev',
          '  context: { cluster: local, user: admin }',
          'users:',
          '- name: admin',
          '  user:',
          `    client-certificate-data: ${Buffer.from('CERT').toString('base64')}`,
          `    client-key-data: ${Buffer.from('KEY').toString('base64')}`,
          '    tokenFile: token',
        ].join('\n'),
      );
      const options = loadKubeconfig(join(dir, 'config'));
      assert.equal(options.server, 'https://127.0.0.1:6443');
      assert.equal(options.caPem, 'CA-PEM');
      assert.equal(options.clientCertPem, 'CERT');
      assert.equal(options.clientKeyPem, 'KEY');
      assert.equal(options.bearerToken, 'secret-token');
      assert.throws(() => loadKubeconfig(join(dir, 'config'), 'missing'), /context "missing" not found/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
