// The auditor inside a real in-process API server: events as Kubernetes writes them for each
// level and stage, for forbidden requests, panics, watches and in-process clients.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinResources } from '../../api/resources.js';
import { createSchemaRegistry } from '../../api/schema/index.js';
import { createMemoryStore } from '../../storage/memory/memory-store.js';
import { FakeClock } from '../../util/clock.js';
import { builtinSemantics } from '../builtin-semantics.js';
import { createApiServer, type ApiServer } from '../index.js';
import { inProcessTransport } from '../in-process-transport.js';
import { patchEngines } from '../patch-engines.js';
import { selectorParsers } from '../selector-parsers.js';
import type { UserInfo } from '../admission.js';
import type { ApiRequest, ApiResponse } from '../handler.js';
import { auditorFromFlags, createAuditor, formatMicroTime, parsePolicy, type AuditEvent, type AuditSink } from './index.js';

const admin: UserInfo = { username: 'admin', groups: ['system:masters', 'system:authenticated'] };
const eve: UserInfo = { username: 'eve', uid: 'u-1', groups: ['system:authenticated'] };

const policyText = `
apiVersion: audit.k8s.io/v1
kind: Policy
rules:
  - level: None
    verbs: [get, list, watch]
    resources: [{group: "", resources: [events]}]
  - level: None
    userGroups: [system:nodes]
  - level: Metadata
    resources: [{group: "", resources: [secrets]}]
  - level: RequestResponse
    resources: [{group: "", resources: [configmaps]}]
    namespaces: [kept]
  - level: RequestResponse
    omitManagedFields: true
    resources: [{group: "", resources: [configmaps]}]
  - level: Request
    resources: [{group: "", resources: [services]}]
    omitStages: [RequestReceived]
  - level: Metadata
`;

class MemorySink implements AuditSink {
  events: AuditEvent[] = [];
  write(event: AuditEvent): void {
    // Serialised as the log backend would: later mutation of the objects must not show.
    this.events.push(JSON.parse(JSON.stringify(event)));
  }
  async close(): Promise<void> {}
  byID(id: string): AuditEvent[] {
    return this.events.filter((e) => e.auditID === id);
  }
}

describe('auditor in the request pipeline', () => {
  const sink = new MemorySink();
  let micros = Date.parse('2026-03-01T10:00:00Z') * 1000 + 1;
  let api: ApiServer;
  const call = async (user: UserInfo, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse> => {
    const request: ApiRequest = {
      method,
      path,
      query: new URLSearchParams(),
      headers: { 'user-agent': 'kubectl/v1.32.4 (linux/amd64)', 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : Buffer.from(JSON.stringify(body)),
      user,
      remoteAddress: '::ffff:127.0.0.1',
    };
    return api.handler.handle(request);
  };
  const eventsOf = (response: ApiResponse) => sink.byID(response.headers!['Audit-Id']);

  before(async () => {
    const schemas = createSchemaRegistry({ kinds: builtinResources });
    api = await createApiServer({
      store: createMemoryStore(),
      resources: builtinResources,
      semantics: builtinSemantics(schemas, builtinResources),
      patch: patchEngines(),
      selectors: selectorParsers,
      clock: new FakeClock(),
      serviceAllocationRepair: false,
      authorizer: {
        authorize: (a) => (a.user.username === 'eve' && a.resource === 'secrets' ? { allowed: false, reason: '' } : { allowed: true, reason: a.user.username === 'admin' ? 'RBAC: allowed by ClusterRoleBinding "cluster-admin"' : '' }),
      },
      subresources: {
        '/pods/binding': async () => {
          throw new Error('nil pointer');
        },
      },
      audit: createAuditor({ policy: parsePolicy(policyText, 'policy.yaml'), sink, now: () => (micros += 1500) }),
    });
    for (const name of ['kept', 'default']) await call(admin, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  });
  after(async () => api.close());

  test('RequestResponse: RequestReceived then ResponseComplete with both objects', async () => {
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, data: { a: '1' } };
    const response = await call(admin, 'POST', '/api/v1/namespaces/kept/configmaps', cm);
    assert.equal(response.status, 201);
    const events = eventsOf(response);
    assert.deepEqual(events.map((e) => e.stage), ['RequestReceived', 'ResponseComplete']);
    const [received, complete] = events;
    assert.equal(received.requestObject, undefined, 'the body is not decoded yet at RequestReceived');
    assert.equal(received.responseStatus, undefined);
    assert.equal(received.annotations, undefined);
    assert.equal(complete.kind, 'Event');
    assert.equal(complete.apiVersion, 'audit.k8s.io/v1');
    assert.equal(complete.level, 'RequestResponse');
    assert.equal(complete.verb, 'create');
    assert.equal(complete.requestURI, '/api/v1/namespaces/kept/configmaps');
    assert.deepEqual(complete.user, { username: 'admin', groups: ['system:masters', 'system:authenticated'] });
    assert.deepEqual(complete.sourceIPs, ['127.0.0.1']);
    assert.equal(complete.userAgent, 'kubectl/v1.32.4 (linux/amd64)');
    assert.deepEqual(complete.objectRef, { resource: 'configmaps', namespace: 'kept', name: 'settings', apiVersion: 'v1' });
    assert.deepEqual(complete.responseStatus, { metadata: {}, code: 201 });
    assert.deepEqual(complete.requestObject, cm);
    const logged = complete.responseObject as { metadata: { uid: string; managedFields?: unknown[] }; data: unknown };
    assert.deepEqual(logged.data, { a: '1' });
    assert.ok(logged.metadata.uid);
    assert.ok(logged.metadata.managedFields?.length, 'managedFields kept without omitManagedFields');
    assert.deepEqual(complete.annotations, { 'authorization.k8s.io/decision': 'allow', 'authorization.k8s.io/reason': 'RBAC: allowed by ClusterRoleBinding "cluster-admin"' });
    assert.equal(received.requestReceivedTimestamp, complete.requestReceivedTimestamp);
    assert.match(complete.stageTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    assert.ok(complete.stageTimestamp > complete.requestReceivedTimestamp);
  });

  test('omitManagedFields strips metadata.managedFields from logged objects only', async () => {
    const response = await call(admin, 'POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'trimmed' }, data: { b: '2' } });
    const complete = eventsOf(response).find((e) => e.stage === 'ResponseComplete')!;
    const logged = complete.responseObject as { metadata: Record<string, unknown> };
    assert.equal(logged.metadata.name, 'trimmed');
    assert.equal('managedFields' in logged.metadata, false);
    assert.ok((response.body as { metadata: { managedFields?: unknown[] } }).metadata.managedFields?.length, 'the client still gets managedFields');
    const list = await call(admin, 'GET', '/api/v1/namespaces/default/configmaps');
    const listed = eventsOf(list).find((e) => e.stage === 'ResponseComplete')!.responseObject as { items: { metadata: Record<string, unknown> }[] };
    assert.ok(listed.items.length >= 1);
    for (const item of listed.items) assert.equal('managedFields' in item.metadata, false);
  });

  test('Metadata: no request or response object', async () => {
    const response = await call(admin, 'POST', '/api/v1/namespaces/default/secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'token' }, stringData: { k: 'v' } });
    const complete = eventsOf(response).find((e) => e.stage === 'ResponseComplete')!;
    assert.equal(complete.level, 'Metadata');
    assert.equal(complete.requestObject, undefined);
    assert.equal(complete.responseObject, undefined);
    assert.equal(complete.objectRef?.name, 'token', 'a create names its object from the response');
  });

  test('Request level with omitStages: no RequestReceived, request object only', async () => {
    const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { ports: [{ port: 80 }] } };
    const response = await call(admin, 'POST', '/api/v1/namespaces/default/services', svc);
    assert.equal(response.status, 201);
    const events = eventsOf(response);
    assert.deepEqual(events.map((e) => e.stage), ['ResponseComplete']);
    assert.deepEqual(events[0].requestObject, svc);
    assert.equal(events[0].responseObject, undefined);
  });

  test('level None records nothing, but the response still has an Audit-Id', async () => {
    const response = await call(admin, 'GET', '/api/v1/namespaces/default/events');
    assert.match(response.headers!['Audit-Id'], /^[0-9a-f-]{36}$/);
    assert.deepEqual(eventsOf(response), []);
    const node = await call({ username: 'system:node:n1', groups: ['system:nodes'] }, 'GET', '/api/v1/namespaces/default/configmaps');
    assert.deepEqual(eventsOf(node), []);
  });

  test("the client's Audit-Id is used", async () => {
    const response = await call(admin, 'GET', '/api/v1/namespaces/default/secrets/token', undefined, { 'audit-id': 'client-chosen-id' });
    assert.equal(response.headers!['Audit-Id'], 'client-chosen-id');
    assert.equal(sink.byID('client-chosen-id').length, 2);
  });

  test('forbidden: decision forbid and the 403 Status', async () => {
    const response = await call(eve, 'GET', '/api/v1/namespaces/default/secrets/token');
    assert.equal(response.status, 403);
    const complete = eventsOf(response).find((e) => e.stage === 'ResponseComplete')!;
    assert.deepEqual(complete.user, { username: 'eve', uid: 'u-1', groups: ['system:authenticated'] });
    assert.deepEqual(complete.annotations, { 'authorization.k8s.io/decision': 'forbid' });
    assert.equal(complete.responseStatus?.code, 403);
    assert.equal(complete.responseStatus?.status, 'Failure');
    assert.equal(complete.responseStatus?.reason, 'Forbidden');
    assert.match(complete.responseStatus?.message ?? '', /secrets "token" is forbidden: User "eve" cannot get resource "secrets"/);
  });

  test('impersonation: user is the caller, impersonatedUser the one acted as', async () => {
    const response = await call(admin, 'GET', '/api/v1/namespaces/default/secrets/token', undefined, { 'impersonate-user': 'eve' });
    assert.equal(response.status, 403);
    const complete = eventsOf(response).find((e) => e.stage === 'ResponseComplete')!;
    assert.equal(complete.user.username, 'admin');
    assert.equal(complete.impersonatedUser?.username, 'eve');
    assert.equal(complete.annotations?.['authorization.k8s.io/decision'], 'forbid');
  });

  test('a thrown error is the Panic stage, not ResponseComplete', async () => {
    await call(admin, 'POST', '/api/v1/namespaces/default/pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
    const response = await call(admin, 'POST', '/api/v1/namespaces/default/pods/p/binding', {});
    assert.equal(response.status, 500);
    const events = eventsOf(response);
    assert.deepEqual(events.map((e) => e.stage), ['RequestReceived', 'Panic']);
    assert.equal(events[1].responseStatus?.code, 500);
    assert.match(events[1].responseStatus?.message ?? '', /APIServer panic'd: nil pointer/);
    assert.equal(events[1].objectRef?.subresource, 'binding');
  });

  test('a non-resource request: verb is the lower-case method, no objectRef', async () => {
    const response = await call(admin, 'GET', '/version');
    const complete = eventsOf(response).find((e) => e.stage === 'ResponseComplete')!;
    assert.equal(complete.verb, 'get');
    assert.equal(complete.objectRef, undefined);
    assert.equal(complete.level, 'Metadata');
  });

  test("a watch from an in-process client: ResponseStarted, then ResponseComplete when it stops", async () => {
    const transport = inProcessTransport(api.handler, admin, 'kube-controller-manager/v1.32.4');
    const before = sink.events.length;
    const handle = transport.watch({ path: '/api/v1/namespaces/default/secrets' }, () => undefined, () => undefined);
    await new Promise((r) => setTimeout(r, 20));
    const started = sink.events.slice(before).filter((e) => e.verb === 'watch');
    assert.deepEqual(started.map((e) => e.stage), ['RequestReceived', 'ResponseStarted']);
    assert.equal(started[1].responseStatus?.code, 200);
    assert.equal(started[1].userAgent, 'kube-controller-manager/v1.32.4');
    handle.stop();
    const all = sink.byID(started[0].auditID);
    assert.deepEqual(all.map((e) => e.stage), ['RequestReceived', 'ResponseStarted', 'ResponseComplete']);
  });
});

describe('audit event timestamps', () => {
  test('microsecond RFC 3339 in UTC, like metav1.MicroTime', () => {
    assert.equal(formatMicroTime(Date.parse('2026-01-02T03:04:05.678Z') * 1000 + 901), '2026-01-02T03:04:05.678901Z');
    assert.equal(formatMicroTime(Date.parse('2026-01-02T03:04:05Z') * 1000 + 7), '2026-01-02T03:04:05.000007Z');
  });
});

describe('auditorFromFlags (navarch server --audit-*)', () => {
  test('no policy file: auditing off; a policy without a log path: off, with a warning', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'navarch-audit-flags-'));
    try {
      const warnings: string[] = [];
      assert.equal(auditorFromFlags({ logPath: join(dir, 'a.log') }, (m) => warnings.push(m)), undefined);
      writeFileSync(join(dir, 'policy.yaml'), 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: Metadata}]\n');
      assert.equal(auditorFromFlags({ policyFile: join(dir, 'policy.yaml') }, (m) => warnings.push(m)), undefined);
      assert.match(warnings.join(), /--audit-log-path is not/);
      const auditor = auditorFromFlags({ policyFile: join(dir, 'policy.yaml'), logPath: join(dir, 'a.log') }, (m) => warnings.push(m));
      assert.ok(auditor);
      await auditor.close();
      writeFileSync(join(dir, 'bad.yaml'), 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: Loud}]\n');
      assert.throws(() => auditorFromFlags({ policyFile: join(dir, 'bad.yaml'), logPath: '-' }, () => undefined), /bad\.yaml is invalid:\n {2}rules\[0\]\.level/);
      assert.throws(() => auditorFromFlags({ policyFile: join(dir, 'missing.yaml'), logPath: '-' }, () => undefined), /missing\.yaml: cannot read/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
