// The browser's list + watch loop and API wrapper, driven in Node with real fetch Response
// objects and streams built by the test.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { applyEvent, createLineParser, listAndWatch, parseWatchStream, type WatchApi } from './static/js/watch.js';
import { ApiError, createApi, resourcePath } from './static/js/api.js';
import { Collections, resources } from './static/js/collections.js';

const pod = (name: string, rv: string) => ({ metadata: { name, namespace: 'default', resourceVersion: rv } });
const line = (type: string, object: unknown) => `${JSON.stringify({ type, object })}\n`;

describe('watch stream parser', () => {
  test('splits newline-delimited JSON across arbitrary chunk boundaries, including inside UTF-8 characters', () => {
    const text = line('ADDED', pod('ä-1', '5')) + line('MODIFIED', pod('b', '6')) + line('DELETED', pod('c', '7'));
    const bytes = new TextEncoder().encode(text);
    for (const size of [1, 2, 3, 7, 64, bytes.length]) {
      const events: any[] = [];
      const parser = createLineParser((e) => events.push(e));
      for (let i = 0; i < bytes.length; i += size) parser.push(bytes.slice(i, i + size));
      parser.end();
      assert.deepEqual(events.map((e) => `${e.type}:${e.object.metadata.name}`), ['ADDED:ä-1', 'MODIFIED:b', 'DELETED:c'], `chunk size ${size}`);
    }
  });
  test('a last line without newline and blank lines', () => {
    assert.deepEqual(parseWatchStream('\n{"type":"ADDED","object":{}}\n\n{"type":"BOOKMARK","object":{}}').map((e) => e.type), ['ADDED', 'BOOKMARK']);
  });
  test('malformed JSON is an error, not silence', () => {
    assert.throws(() => parseWatchStream('{"type":\n'));
  });
  test('applyEvent keeps a map by namespace/name', () => {
    const map = new Map();
    applyEvent(map, 'ADDED', pod('a', '1'));
    applyEvent(map, 'MODIFIED', pod('a', '2'));
    applyEvent(map, 'ADDED', pod('b', '3'));
    applyEvent(map, 'DELETED', pod('b', '4'));
    assert.deepEqual([...map.keys()], ['default/a']);
    assert.equal(map.get('default/a').metadata.resourceVersion, '2');
  });
});

/** A scripted API: each list and watch call takes the next step from its queue. */
function scriptedApi(lists: Array<() => any>, watches: Array<(query: Record<string, string>) => string | Error>) {
  const calls: string[] = [];
  const api: WatchApi = {
    async get(path) {
      calls.push(`list ${path}`);
      const next = lists.shift();
      if (!next) throw new Error('unexpected list');
      return next();
    },
    async *watch(path, query, signal) {
      calls.push(`watch rv=${query.resourceVersion}`);
      const next = watches.shift();
      if (!next) {
        // Nothing more scripted: a stream that stays open until the caller aborts, like fetch's.
        if (!signal?.aborted) await new Promise((resolve) => signal?.addEventListener('abort', resolve));
        throw new DOMException('aborted', 'AbortError');
      }
      const result = next(query);
      if (result instanceof Error) throw result;
      yield new TextEncoder().encode(result);
    },
  };
  return { api, calls };
}

describe('listAndWatch', () => {
  test('lists, watches from the list\'s resourceVersion, resumes from the last one seen, relists on 410', async () => {
    const controller = new AbortController();
    const { api, calls } = scriptedApi(
      [() => ({ metadata: { resourceVersion: '10' }, items: [pod('a', '9')] }), () => ({ metadata: { resourceVersion: '50' }, items: [pod('z', '50')] })],
      [
        (q) => {
          assert.equal(q.allowWatchBookmarks, 'true');
          return line('ADDED', pod('b', '11')) + line('MODIFIED', pod('a', '12'));
        },
        () => line('BOOKMARK', { metadata: { resourceVersion: '20' } }),
        () => line('ERROR', { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version: 20 (30)' }),
        () => line('DELETED', pod('z', '51')),
      ],
    );
    const seen: string[] = [];
    const states: string[] = [];
    const done = listAndWatch({
      api,
      path: '/api/v1/pods',
      signal: controller.signal,
      onReplace: (items) => seen.push(`replace ${items.map((i) => i.metadata.name).join(',')}`),
      onEvent: (type, object) => {
        seen.push(`${type} ${object.metadata.name}`);
        if (type === 'DELETED') controller.abort();
      },
      onState: (s) => states.push(s),
      sleep: async () => {},
      now: (() => {
        let t = 0;
        return () => (t += 5000);
      })(),
    });
    await done;
    assert.deepEqual(calls, ['list /api/v1/pods', 'watch rv=10', 'watch rv=12', 'watch rv=20', 'list /api/v1/pods', 'watch rv=50']);
    assert.deepEqual(seen, ['replace a', 'ADDED b', 'MODIFIED a', 'replace z', 'DELETED z']);
    assert.equal(states[0], 'syncing');
    assert.ok(states.includes('live'));
  });

  test('an HTTP 410 on the watch request also relists', async () => {
    const controller = new AbortController();
    const { api, calls } = scriptedApi(
      [() => ({ metadata: { resourceVersion: '1' }, items: [] }), () => { controller.abort(); return { metadata: { resourceVersion: '9' }, items: [] }; }],
      [() => new ApiError(410, { reason: 'Expired', message: 'gone' })],
    );
    await listAndWatch({ api, path: '/p', signal: controller.signal, onReplace: () => {}, onEvent: () => {}, sleep: async () => {} });
    assert.deepEqual(calls, ['list /p', 'watch rv=1', 'list /p']);
  });

  test('network failures back off exponentially up to the cap, then recover', async () => {
    const controller = new AbortController();
    const failure = () => new Error('connection reset');
    const { api } = scriptedApi(
      [() => ({ metadata: { resourceVersion: '1' }, items: [] })],
      [failure, failure, failure, failure, failure, () => { controller.abort(); return ''; }],
    );
    const sleeps: number[] = [];
    const states: string[] = [];
    await listAndWatch({ api, path: '/p', signal: controller.signal, onReplace: () => {}, onEvent: () => {}, onState: (s) => states.push(s), sleep: async (ms) => void sleeps.push(ms), maxBackoffMs: 4000 });
    assert.deepEqual(sleeps, [500, 1000, 2000, 4000, 4000]);
    assert.ok(states.includes('retrying'));
  });

  test('forbidden stops the loop and reports it, without retrying', async () => {
    const { api, calls } = scriptedApi([() => { throw new ApiError(403, { message: 'nodes is forbidden' }); }], []);
    const states: Array<[string, any]> = [];
    await listAndWatch({ api, path: '/api/v1/nodes', signal: new AbortController().signal, onReplace: () => {}, onEvent: () => {}, onState: (s, e) => states.push([s, e]), sleep: async () => {} });
    assert.deepEqual(calls, ['list /api/v1/nodes']);
    assert.equal(states.at(-1)![0], 'failed');
    assert.equal(states.at(-1)![1].message, 'nodes is forbidden');
  });

  test('a stream that ends at once without events waits before the next watch', async () => {
    const controller = new AbortController();
    const { api } = scriptedApi([() => ({ metadata: { resourceVersion: '1' }, items: [] })], [() => '', () => '', () => { controller.abort(); return ''; }]);
    const sleeps: number[] = [];
    await listAndWatch({ api, path: '/p', signal: controller.signal, onReplace: () => {}, onEvent: () => {}, sleep: async (ms) => void sleeps.push(ms), now: () => 0 });
    assert.deepEqual(sleeps.slice(0, 2), [500, 1000]);
  });
});

describe('createApi', () => {
  function fakeFetch(respond: (url: string, init: RequestInit) => Response) {
    const requests: Array<{ url: string; init: RequestInit }> = [];
    const f = (async (url: string, init: RequestInit) => {
      requests.push({ url, init });
      return respond(url, init);
    }) as unknown as typeof fetch;
    return { f, requests };
  }

  test('sends the bearer token and JSON, builds paths and queries', async () => {
    const { f, requests } = fakeFetch(() => new Response('{"kind":"PodList","items":[]}', { status: 200, headers: { 'content-type': 'application/json' } }));
    const api = createApi({ fetch: f, token: () => 'abc.def' });
    const path = resourcePath(resources.pods, 'kube system', 'web-0', 'log');
    assert.equal(path, '/api/v1/namespaces/kube%20system/pods/web-0/log');
    assert.equal(resourcePath(resources.deployments, 'default'), '/apis/apps/v1/namespaces/default/deployments');
    assert.equal(resourcePath(resources.nodes, 'ignored', 'n1'), '/api/v1/nodes/n1');
    await api.get('/api/v1/pods', { limit: 5, labelSelector: 'app=web', continue: '' });
    assert.equal(requests[0].url, '/api/v1/pods?limit=5&labelSelector=app%3Dweb');
    assert.equal((requests[0].init.headers as Record<string, string>).authorization, 'Bearer abc.def');
    await api.patch('/apis/apps/v1/namespaces/default/deployments/web', { spec: { replicas: 2 } });
    assert.equal(requests[1].init.method, 'PATCH');
    assert.equal((requests[1].init.headers as Record<string, string>)['content-type'], 'application/merge-patch+json');
    assert.equal(requests[1].init.body, '{"spec":{"replicas":2}}');
  });

  test('errors carry the Status; 401 signs the user out', async () => {
    let unauthorized = 0;
    const status = { kind: 'Status', code: 404, reason: 'NotFound', message: 'pods "x" not found' };
    const { f } = fakeFetch((url) => (url.includes('secret') ? new Response('{"kind":"Status","code":401,"reason":"Unauthorized","message":"Unauthorized"}', { status: 401 }) : new Response(JSON.stringify(status), { status: 404 })));
    const api = createApi({ fetch: f, token: () => null, onUnauthorized: () => unauthorized++ });
    await assert.rejects(api.get('/api/v1/namespaces/default/pods/x'), (e: any) => e instanceof ApiError && e.code === 404 && e.reason === 'NotFound' && e.message === 'pods "x" not found');
    await assert.rejects(api.get('/secret'), (e: any) => e.code === 401);
    assert.equal(unauthorized, 1);
  });

  test('watch yields the body stream chunk by chunk', async () => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(line('ADDED', pod('a', '2')).slice(0, 10)));
        controller.enqueue(new TextEncoder().encode(line('ADDED', pod('a', '2')).slice(10)));
        controller.close();
      },
    });
    const { f, requests } = fakeFetch(() => new Response(body, { status: 200 }));
    const api = createApi({ fetch: f, token: () => 't' });
    const events: any[] = [];
    const parser = createLineParser((e) => events.push(e));
    for await (const chunk of api.watch('/api/v1/pods', { resourceVersion: '1' })) parser.push(chunk);
    parser.end();
    assert.equal(requests[0].url, '/api/v1/pods?resourceVersion=1&watch=true');
    assert.equal(events.length, 1);
  });
});

describe('Collections', () => {
  test('starts a watch on first use, shares it, and stops what the last render did not use', async () => {
    const started: string[] = [];
    const aborted: string[] = [];
    let changes = 0;
    const collections = new Collections({
      api: {},
      onChange: () => changes++,
      watch: (async (options: any) => {
        started.push(options.path + JSON.stringify(options.query));
        options.signal.addEventListener('abort', () => aborted.push(options.path));
        options.onReplace([pod('b', '2'), { metadata: { name: 'a', namespace: 'zz', resourceVersion: '1' } }, pod('a', '3')]);
        options.onEvent('ADDED', pod('c', '4'));
      }) as any,
    });
    collections.beginRender();
    const pods = collections.use(resources.pods, 'default');
    collections.use(resources.pods, 'default');
    collections.use(resources.nodes, 'default');
    collections.endRender();
    assert.deepEqual(started, ['/api/v1/namespaces/default/pods{}', '/api/v1/nodes{}']);
    assert.equal(pods.synced, true);
    assert.equal(changes, 2 * 2);
    const again = collections.use(resources.pods, 'default');
    assert.deepEqual(again.items.map((p) => `${p.metadata.namespace}/${p.metadata.name}`), ['default/a', 'default/b', 'default/c', 'zz/a']);
    assert.equal(again.items[0].kind, 'Pod');
    assert.equal(again.items[0].apiVersion, 'v1');
    collections.beginRender();
    collections.use(resources.nodes);
    collections.endRender();
    assert.deepEqual(aborted, ['/api/v1/namespaces/default/pods']);
    collections.stopAll();
    assert.deepEqual(aborted, ['/api/v1/namespaces/default/pods', '/api/v1/nodes']);
  });
});
