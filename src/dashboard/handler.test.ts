import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ApiRequest, ApiResponse } from '../apiserver/handler.js';
import { createRbacAuthorizer } from '../apiserver/authz/rbac.js';
import { dashboardHandler, defaultStaticDir, resolveStaticPath } from './handler.js';
import { dashboardRbacObjects } from './rbac.js';

const anonymous = { username: 'system:anonymous', groups: ['system:unauthenticated'] };

function get(path: string, init: { method?: string; headers?: Record<string, string>; query?: string } = {}): ApiRequest {
  return { method: init.method ?? 'GET', path, query: new URLSearchParams(init.query ?? ''), headers: init.headers ?? {}, user: anonymous };
}

describe('dashboardHandler on a folder of its own', () => {
  let root: string;
  let outside: string;
  let handle: (r: ApiRequest) => Promise<ApiResponse | undefined>;
  before(() => {
    outside = mkdtempSync(join(tmpdir(), 'navarch-dashboard-'));
    root = join(outside, 'static');
    mkdirSync(join(root, 'js'), { recursive: true });
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>t</title>');
    writeFileSync(join(root, 'js', 'app.js'), 'export {};');
    writeFileSync(join(root, 'style.css'), 'body{}');
    writeFileSync(join(root, 'notes.txt'), 'not a served type');
    writeFileSync(join(root, '.secret.js'), 'hidden');
    writeFileSync(join(outside, 'secret.js'), 'outside the static folder');
    const handler = dashboardHandler({ staticDir: root });
    handle = async (r) => handler(r);
  });
  after(() => rmSync(outside, { recursive: true, force: true }));

  test('/dashboard redirects to /dashboard/, keeping the query', async () => {
    const r = await handle(get('/dashboard'));
    assert.equal(r?.status, 301);
    assert.equal(r?.headers?.location, '/dashboard/');
    const withQuery = await handle(get('/dashboard', { query: 'a=1' }));
    assert.equal(withQuery?.headers?.location, '/dashboard/?a=1');
  });

  test('serves index.html for /dashboard/ with HTML type and a strict content security policy', async () => {
    const r = await handle(get('/dashboard/'));
    assert.equal(r?.status, 200);
    assert.equal(r?.contentType, 'text/html; charset=utf-8');
    assert.equal(String(r?.body), '<!doctype html><title>t</title>');
    assert.match(r?.headers?.['content-security-policy'] ?? '', /script-src 'self'/);
    assert.match(r?.headers?.['content-security-policy'] ?? '', /connect-src 'self'/);
    assert.equal(r?.headers?.['x-content-type-options'], 'nosniff');
  });

  test('content types follow the extension', async () => {
    assert.equal((await handle(get('/dashboard/js/app.js')))?.contentType, 'text/javascript; charset=utf-8');
    assert.equal((await handle(get('/dashboard/style.css')))?.contentType, 'text/css; charset=utf-8');
    assert.equal((await handle(get('/dashboard/index.html')))?.contentType, 'text/html; charset=utf-8');
  });

  test('HEAD is served like GET; other methods get 405', async () => {
    assert.equal((await handle(get('/dashboard/js/app.js', { method: 'HEAD' })))?.status, 200);
    const post = await handle(get('/dashboard/js/app.js', { method: 'POST' }));
    assert.equal(post?.status, 405);
    assert.equal(post?.headers?.allow, 'GET, HEAD');
  });

  test('missing files, folders and unknown types are 404 with Kubernetes\' text', async () => {
    for (const path of ['/dashboard/missing.js', '/dashboard/js', '/dashboard/js/', '/dashboard/notes.txt']) {
      const r = await handle(get(path));
      assert.equal(r?.status, 404, path);
      assert.equal(r?.body, '404 page not found\n', path);
    }
  });

  test('no path leaves the static folder or reaches hidden files', async () => {
    const attempts = [
      '/dashboard/../secret.js',
      '/dashboard/%2e%2e/secret.js',
      '/dashboard/%2E%2E%2Fsecret.js',
      '/dashboard/js/..%2f..%2fsecret.js',
      '/dashboard/..%5csecret.js',
      '/dashboard/.secret.js',
      '/dashboard/%2esecret.js',
      '/dashboard/js/app.js%00.css',
      '/dashboard//etc/passwd.js',
      '/dashboard/%2fetc%2fpasswd.js',
      '/dashboard/%E0%A4%A.js',
    ];
    for (const path of attempts) {
      const r = await handle(get(path));
      assert.equal(r?.status, 404, path);
      assert.ok(!String(r?.body).includes('outside') && !String(r?.body).includes('hidden'), path);
    }
  });

  test('resolveStaticPath keeps every answer inside the root', () => {
    assert.equal(resolveStaticPath(root, ''), join(root, 'index.html'));
    assert.equal(resolveStaticPath(root, 'js/app.js'), join(root, 'js', 'app.js'));
    assert.equal(resolveStaticPath(root, 'js/../../secret.js'), undefined);
    assert.equal(resolveStaticPath(root, '%2e%2e%2fsecret.js'), undefined);
  });

  test('other paths are left to the next handler', async () => {
    for (const path of ['/dashboards', '/dashboardx/index.html', '/healthz', '/api/v1/pods', '/']) {
      assert.equal(await handle(get(path)), undefined, path);
    }
  });

  test('answers 304 to a matching If-None-Match', async () => {
    const first = await handle(get('/dashboard/js/app.js'));
    const etag = first?.headers?.etag;
    assert.ok(etag);
    const again = await handle(get('/dashboard/js/app.js', { headers: { 'if-none-match': etag! } }));
    assert.equal(again?.status, 304);
    assert.equal(again?.body, '');
    const changed = await handle(get('/dashboard/js/app.js', { headers: { 'if-none-match': '"other"' } }));
    assert.equal(changed?.status, 200);
  });
});

describe('the shipped static folder', () => {
  const repoRoot = resolve(import.meta.dirname, '../..');

  test('is found from the sources and from the compiled output', () => {
    const expected = join(repoRoot, 'src', 'dashboard', 'static');
    assert.equal(defaultStaticDir(), expected);
    assert.equal(defaultStaticDir(pathToFileURL(join(repoRoot, 'dist', 'src', 'dashboard', 'handler.js')).href), expected);
    assert.throws(() => defaultStaticDir(pathToFileURL(join(tmpdir(), 'x', 'y', 'z', 'handler.js')).href), /static files not found/);
  });

  test('every file index.html and app.js import is served', async () => {
    const handler = dashboardHandler();
    const index = await handler(get('/dashboard/'));
    const html = String(index?.body);
    const references = [...html.matchAll(/(?:href|src)="([^"]+)"/g)].map((m) => m[1]);
    assert.ok(references.includes('js/app.js') && references.includes('dashboard.css'), references.join(','));
    const seen = new Set<string>();
    const queue = [...references];
    while (queue.length) {
      const ref = queue.shift()!;
      if (seen.has(ref)) continue;
      seen.add(ref);
      const r = await handler(get(`/dashboard/${ref}`));
      assert.equal(r?.status, 200, ref);
      if (ref.endsWith('.js')) {
        const dir = ref.slice(0, ref.lastIndexOf('/') + 1);
        for (const m of String(r?.body).matchAll(/from '\.\/([^']+)'/g)) queue.push(dir + m[1]);
      }
    }
    assert.ok(seen.has('js/views.js') && seen.has('js/watch.js'), [...seen].join(','));
  });
});

describe('dashboard RBAC', () => {
  const objects = dashboardRbacObjects().map((o) => o.object);
  const authorizer = createRbacAuthorizer({
    clusterRoles: () => objects.filter((o) => o.kind === 'ClusterRole'),
    clusterRoleBindings: () => objects.filter((o) => o.kind === 'ClusterRoleBinding'),
    roles: () => [],
    roleBindings: () => [],
  });
  const allowed = (path: string, verb = 'get', user = anonymous) =>
    authorizer.authorize({ user, verb, apiGroup: '', path, resourceRequest: false }).decision === 'allow';

  test('anonymous and signed-in users may fetch the dashboard files', () => {
    for (const path of ['/dashboard', '/dashboard/', '/dashboard/js/app.js']) {
      assert.ok(allowed(path), path);
      assert.ok(allowed(path, 'head'), path);
      assert.ok(allowed(path, 'get', { username: 'alice', groups: ['system:authenticated'] }), path);
    }
  });

  test('and nothing else', () => {
    assert.ok(!allowed('/dashboardx'));
    assert.ok(!allowed('/api'));
    assert.ok(!allowed('/metrics'));
    assert.ok(!allowed('/dashboard/', 'post'));
    assert.equal(authorizer.authorize({ user: anonymous, verb: 'list', apiGroup: '', resource: 'pods', resourceRequest: true }).decision === 'allow', false);
  });
});
