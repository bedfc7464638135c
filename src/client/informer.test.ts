import { test, describe, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../api/types.js';
import { createClient, type Client, type ResourceRef } from './client.js';
import { DeletedFinalStateUnknown, dropManagedFields, Indexer, SharedIndexInformer, SharedInformerFactory, type Logger } from './informer.js';
import { createHttpTransport } from './transport.js';
import { FakeApiServer } from './testing/fake-apiserver.js';
import { FakeClock } from './testing/fake-clock.js';
import { waitFor } from './testing/wait.js';

const pods: ResourceRef = { group: '', version: 'v1', resource: 'pods', namespaced: true, kind: 'Pod' };
const silent: Logger = () => {};

function pod(namespace: string, name: string, nodeName?: string, labels?: Record<string, string>): KubeObject {
  return { metadata: { namespace, name, labels }, spec: nodeName ? { nodeName } : {} };
}

type Seen = Array<[string, ...string[]]>;

function recorder(seen: Seen) {
  const name = (o: KubeObject) => `${o.metadata.namespace}/${o.metadata.name}`;
  return {
    onAdd: (o: KubeObject, initial: boolean) => seen.push(['add', name(o), String(initial)]),
    onUpdate: (a: KubeObject, b: KubeObject) => seen.push(['update', name(b), a.metadata.resourceVersion!, b.metadata.resourceVersion!]),
    onDelete: (o: KubeObject | DeletedFinalStateUnknown) =>
      o instanceof DeletedFinalStateUnknown ? seen.push(['tombstone', o.key]) : seen.push(['delete', name(o)]),
  };
}

describe('Indexer', () => {
  test('maintains namespace and custom indices across updates and deletes', () => {
    const indexer = new Indexer();
    indexer.addIndexers({ nodeName: (o) => (o.spec?.nodeName ? [o.spec.nodeName] : []) });
    indexer.upsert(pod('a', 'p1', 'n1'));
    indexer.upsert(pod('b', 'p2', 'n1'));
    indexer.upsert(pod('a', 'p3'));
    assert.deepEqual(indexer.byIndex('nodeName', 'n1').map((o) => o.metadata.name).sort(), ['p1', 'p2']);
    assert.deepEqual(indexer.listByNamespace('a').map((o) => o.metadata.name).sort(), ['p1', 'p3']);
    indexer.upsert(pod('a', 'p1', 'n2'));
    assert.deepEqual(indexer.byIndex('nodeName', 'n1').map((o) => o.metadata.name), ['p2']);
    assert.deepEqual(indexer.byIndex('nodeName', 'n2').map((o) => o.metadata.name), ['p1']);
    indexer.deleteKey('b/p2');
    assert.deepEqual(indexer.byIndex('nodeName', 'n1'), []);
    assert.deepEqual(indexer.listIndexFuncValues('nodeName'), ['n2']);
    assert.equal(indexer.getByName('a', 'p1')!.spec.nodeName, 'n2');
    // indexers added late index what is already there
    indexer.addIndexers({ name: (o) => [o.metadata.name!] });
    assert.equal(indexer.byIndex('name', 'p3').length, 1);
    assert.throws(() => indexer.byIndex('missing', 'x'), /does not exist/);
  });
});

describe('SharedIndexInformer against a fake API server', () => {
  let server: FakeApiServer;
  let client: Client;
  let clock: FakeClock;
  let abort: AbortController;

  beforeEach(async () => {
    server = new FakeApiServer([{ ...pods, kind: 'Pod' }]);
    client = createClient(createHttpTransport({ server: await server.start() }));
    clock = new FakeClock();
    abort = new AbortController();
  });
  afterEach(async () => {
    abort.abort();
    await server.stop();
  });

  function informer(options: Partial<ConstructorParameters<typeof SharedIndexInformer>[1]> = {}) {
    return new SharedIndexInformer(client.resource(pods), { clock, random: () => 0, logger: silent, pageSize: 2, ...options });
  }

  test('lists (paged), syncs, then follows the watch; handlers and indices see every change', async () => {
    const p = client.resource(pods);
    for (const name of ['a', 'b', 'c']) await p.create('default', pod('default', name, 'n1'));
    const inf = informer({ indexers: { nodeName: (o) => (o.spec?.nodeName ? [o.spec.nodeName] : []) } });
    const seen: Seen = [];
    inf.addEventHandler(recorder(seen));
    assert.equal(inf.hasSynced(), false);
    const run = inf.run(abort.signal);
    assert.equal(await inf.waitForSync(abort.signal), true);
    assert.deepEqual(seen, [['add', 'default/a', 'true'], ['add', 'default/b', 'true'], ['add', 'default/c', 'true']]);
    assert.ok(server.requests.some((r) => r.query.limit === '2' && r.query.continue), 'the list was paged');
    assert.equal(inf.getIndexer().get('default/a')!.kind, 'Pod', 'list items are stamped with their kind');

    await waitFor(() => server.activeWatchCount() === 1);
    const watchRequest = server.requests.find((r) => r.query.watch === 'true')!;
    assert.equal(watchRequest.query.allowWatchBookmarks, 'true');
    assert.equal(watchRequest.query.resourceVersion, String(server.currentRevision()));
    assert.ok(Number(watchRequest.query.timeoutSeconds) >= 300);

    seen.length = 0;
    const b = await p.get('default', 'b');
    const b2 = await p.update({ ...b, spec: { nodeName: 'n2' } });
    await p.delete('default', 'c');
    await p.create('default', pod('default', 'd'));
    await waitFor(() => seen.length === 3);
    assert.deepEqual(seen, [
      ['update', 'default/b', b.metadata.resourceVersion!, b2.metadata.resourceVersion!],
      ['delete', 'default/c'],
      ['add', 'default/d', 'false'],
    ]);
    assert.deepEqual(inf.getIndexer().byIndex('nodeName', 'n1').map((o) => o.metadata.name), ['a']);
    assert.deepEqual(inf.getIndexer().byIndex('nodeName', 'n2').map((o) => o.metadata.name), ['b']);
    assert.deepEqual(inf.getIndexer().listKeys().sort(), ['default/a', 'default/b', 'default/d']);
    assert.equal(inf.lastSyncResourceVersion(), String(server.currentRevision()));

    abort.abort();
    await run;
    assert.equal(server.requests.filter((r) => r.query.watch === 'true').length, 1);
  });

  test('a cleanly closed watch resumes from the last resourceVersion without relisting', async () => {
    const p = client.resource(pods);
    await p.create('default', pod('default', 'a'));
    const inf = informer();
    const seen: Seen = [];
    inf.addEventHandler(recorder(seen));
    void inf.run(abort.signal);
    await waitFor(() => server.activeWatchCount() === 1);
    await p.create('default', pod('default', 'b'));
    await waitFor(() => seen.length === 2);
    const rv = inf.lastSyncResourceVersion();
    server.deliverToWatches = false;
    await p.create('default', pod('default', 'missed-while-reconnecting'));
    server.deliverToWatches = true;
    server.closeWatches();
    await waitFor(() => seen.length === 3);
    assert.deepEqual(seen.at(-1), ['add', 'default/missed-while-reconnecting', 'false']);
    const watches = server.requests.filter((r) => r.query.watch === 'true');
    assert.equal(watches.length, 2);
    assert.equal(watches[1]!.query.resourceVersion, rv);
    assert.equal(inf.listCount, 1);
  });

  test('410 on re-watch relists at once and delivers tombstones for objects deleted meanwhile', async () => {
    const p = client.resource(pods);
    await p.create('default', pod('default', 'keep'));
    await p.create('default', pod('default', 'gone'));
    const inf = informer();
    const seen: Seen = [];
    inf.addEventHandler(recorder(seen));
    void inf.run(abort.signal);
    await inf.waitForSync();
    await waitFor(() => server.activeWatchCount() === 1);
    await p.create('default', pod('default', 'seen'));
    await waitFor(() => seen.length === 3);

    server.deliverToWatches = false;
    await p.delete('default', 'gone');
    await p.create('default', pod('default', 'new'));
    server.compact();
    server.deliverToWatches = true;
    seen.length = 0;
    server.closeWatches();
    await waitFor(() => inf.listCount === 2 && seen.length === 4, 3000, 'relist');
    assert.deepEqual(
      seen.map((s) => s[0] + ' ' + s[1]).sort(),
      ['add default/new', 'tombstone default/gone', 'update default/keep', 'update default/seen'],
    );
    const tombstoneWatch = server.requests.filter((r) => r.query.watch === 'true');
    assert.equal(tombstoneWatch.length >= 2, true);
    await waitFor(() => server.activeWatchCount() === 1, 3000, 'watch after relist');
    assert.equal(server.requests.filter((r) => r.query.watch === 'true').at(-1)!.query.resourceVersion, String(server.currentRevision()));
  });

  test('an ERROR event relists after a backoff on the injected clock', async () => {
    const p = client.resource(pods);
    await p.create('default', pod('default', 'a'));
    const inf = informer({ backoffInitialMs: 800 });
    void inf.run(abort.signal);
    await inf.waitForSync();
    await waitFor(() => server.activeWatchCount() === 1);
    server.sendWatchError(500, 'InternalError', 'etcd is sad');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(inf.listCount, 1, 'waits for the backoff before relisting');
    await clock.advance(799);
    assert.equal(inf.listCount, 1);
    await clock.advance(1);
    await waitFor(() => inf.listCount === 2 && server.activeWatchCount() === 1);
  });

  test('a failed list retries with backoff and syncs once the server answers', async () => {
    server.injectedFailures.push({ code: 503, reason: 'ServiceUnavailable', match: (r) => r.method === 'GET' && r.query.watch !== 'true' });
    const inf = informer({ backoffInitialMs: 100 });
    void inf.run(abort.signal);
    await waitFor(() => server.requests.length === 1);
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(inf.hasSynced(), false);
    await clock.advance(100);
    assert.equal(await inf.waitForSync(), true);
  });

  test('bookmarks advance the resourceVersion without handler calls', async () => {
    const inf = informer();
    const seen: Seen = [];
    inf.addEventHandler(recorder(seen));
    void inf.run(abort.signal);
    await inf.waitForSync();
    await waitFor(() => server.activeWatchCount() === 1);
    server.put(pods, pod('other-ns-is-fine', 'x'));
    await waitFor(() => seen.length === 1);
    server.deliverToWatches = false;
    server.put(pods, pod('default', 'y'));
    server.deliverToWatches = true;
    server.sendBookmarks();
    await waitFor(() => inf.lastSyncResourceVersion() === String(server.currentRevision()));
    assert.equal(seen.length, 1);
  });

  test('periodic resync redelivers cached objects as updates; late handlers get the cache as adds', async () => {
    const p = client.resource(pods);
    await p.create('default', pod('default', 'a'));
    await p.create('default', pod('default', 'b'));
    const inf = informer({ resyncPeriodMs: 30_000 });
    const seen: Seen = [];
    inf.addEventHandler(recorder(seen));
    void inf.run(abort.signal);
    await inf.waitForSync();
    seen.length = 0;
    await clock.advance(30_000);
    assert.deepEqual(seen.map((s) => s[0]), ['update', 'update']);
    assert.equal(seen[0]![2], seen[0]![3], 'resync passes the same object as old and new');

    const late: Seen = [];
    const registration = inf.addEventHandler(recorder(late), 0);
    assert.equal(registration.hasSynced(), true);
    assert.deepEqual(late.map((s) => s[0] + ' ' + s[2]), ['add true', 'add true']);
    await clock.advance(30_000);
    assert.equal(late.length, 2, 'resync period 0 means never');
    registration.remove();
  });

  test('a transform shapes what enters the cache (dropManagedFields)', async () => {
    server.put(pods, { metadata: { namespace: 'default', name: 'a', managedFields: [{ manager: 'kubectl' }] } });
    const inf = informer({ transform: dropManagedFields });
    void inf.run(abort.signal);
    await inf.waitForSync();
    await waitFor(() => server.activeWatchCount() === 1);
    server.put(pods, { metadata: { namespace: 'default', name: 'b', managedFields: [{ manager: 'kubectl' }] } });
    await waitFor(() => inf.getIndexer().size() === 2);
    for (const obj of inf.getIndexer().list()) assert.equal(obj.metadata.managedFields, undefined);
  });

  test('a throwing handler does not stop the others', async () => {
    const inf = informer();
    const seen: Seen = [];
    inf.addEventHandler({ onAdd: () => { throw new Error('boom'); } });
    inf.addEventHandler(recorder(seen));
    void inf.run(abort.signal);
    await inf.waitForSync();
    await waitFor(() => server.activeWatchCount() === 1);
    await client.resource(pods).create('default', pod('default', 'a'));
    await waitFor(() => seen.length === 1);
  });
});

describe('SharedInformerFactory', () => {
  test('shares one informer per resource and selector, starts late informers, waits for sync', async () => {
    const server = new FakeApiServer([{ ...pods, kind: 'Pod' }]);
    const client = createClient(createHttpTransport({ server: await server.start() }));
    const abort = new AbortController();
    try {
      await client.resource(pods).create('default', pod('default', 'web-1', undefined, { app: 'web' }));
      await client.resource(pods).create('default', pod('default', 'db-1', undefined, { app: 'db' }));
      const factory = new SharedInformerFactory(client, { clock: new FakeClock(), logger: silent });
      const all = factory.forResource(pods);
      assert.equal(factory.forResource(pods), all);
      const web = factory.forResource(pods, { labelSelector: 'app=web' });
      assert.notEqual(web, all);
      factory.start(abort.signal);
      assert.equal(await factory.waitForCacheSync(), true);
      assert.equal(all.getIndexer().size(), 2);
      assert.deepEqual(web.getIndexer().listKeys(), ['default/web-1']);

      // A pod relabelled out of the selector disappears from the selective cache.
      const deleted: string[] = [];
      web.addEventHandler({ onDelete: (o) => deleted.push((o as KubeObject).metadata.name!) });
      await waitFor(() => server.activeWatchCount() === 2);
      await client.resource(pods).patch('default', 'web-1', 'merge', { metadata: { labels: { app: 'db' } } });
      await waitFor(() => deleted.length === 1);
      assert.equal(web.getIndexer().size(), 0);

      const byNode = factory.forResource(pods, { fieldSelector: 'spec.nodeName=n1', indexers: { x: () => ['x'] } });
      assert.equal(await byNode.waitForSync(), true, 'informers requested after start() run at once');
      abort.abort();
      await factory.shutdown();
      await waitFor(() => server.activeWatchCount() === 0, 3000, 'watches closed on shutdown');
    } finally {
      abort.abort();
      await server.stop();
    }
  });
});
