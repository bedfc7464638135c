/// <reference types="node" />
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinApiGroups, builtinResources } from '../resources.js';
import { createSchemaRegistry } from '../schema/index.js';
import { buildOpenApiV2, buildOpenApiV3, buildOpenApiV3Index, openApiHash, type OpenApiInput } from './index.js';

const crontab = {
  apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'crontabs.stable.example.com' },
  spec: {
    group: 'stable.example.com', scope: 'Namespaced',
    names: { kind: 'CronTab', plural: 'crontabs', singular: 'crontab', listKind: 'CronTabList', shortNames: ['ct'] },
    versions: [{
      name: 'v1', served: true, storage: true, subresources: { status: {} },
      schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', description: 'The schedule.', properties: { cronSpec: { type: 'string', description: 'Cron format string.' }, replicas: { type: 'integer' } } } } } },
    }],
  },
};

const input: OpenApiInput = { resources: builtinResources, schemas: createSchemaRegistry({ kinds: builtinResources }), customResources: [crontab] };

type Json = Record<string, any>;

/** Every $ref in a document must resolve (kubectl fails on a dangling one). */
function danglingRefs(document: Json, prefix: string, definitions: Json): string[] {
  const missing: string[] = [];
  const visit = (value: unknown) => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === 'object') {
      for (const [key, child] of Object.entries(value)) {
        if (key === '$ref' && typeof child === 'string' && !(child.slice(prefix.length) in definitions)) missing.push(child);
        else visit(child);
      }
    }
  };
  visit(document);
  return missing;
}

describe('OpenAPI v2', () => {
  const v2 = buildOpenApiV2(input) as Json;
  test('definitions carry GVKs and resolve every $ref', () => {
    assert.equal(v2.swagger, '2.0');
    assert.deepEqual(v2.definitions['io.k8s.api.apps.v1.Deployment']['x-kubernetes-group-version-kind'], [{ group: 'apps', kind: 'Deployment', version: 'v1' }]);
    assert.deepEqual(danglingRefs(v2, '#/definitions/', v2.definitions), []);
    assert.equal(v2.definitions['io.k8s.apimachinery.pkg.util.intstr.IntOrString'].format, 'int-or-string');
    const containers = v2.definitions['io.k8s.api.core.v1.PodSpec'].properties.containers;
    assert.equal(containers['x-kubernetes-patch-merge-key'], 'name');
    assert.equal(containers.items.$ref, '#/definitions/io.k8s.api.core.v1.Container');
    assert.ok(v2.definitions['com.example.stable.v1.CronTab']);
  });
  test('paths have Kubernetes operation ids, actions and parameters', () => {
    const pods = v2.paths['/api/v1/namespaces/{namespace}/pods'];
    assert.equal(pods.get.operationId, 'listCoreV1NamespacedPod');
    assert.equal(pods.get['x-kubernetes-action'], 'list');
    assert.equal(pods.post.operationId, 'createCoreV1NamespacedPod');
    assert.ok(pods.post.parameters.some((p: Json) => p.name === 'fieldValidation'));
    assert.equal(v2.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale'].get['x-kubernetes-group-version-kind'].kind, 'Scale');
    assert.equal(v2.paths['/apis/rbac.authorization.k8s.io/v1/clusterroles/{name}'].patch.operationId, 'patchRbacAuthorizationV1ClusterRole');
    assert.ok(v2.paths['/api/v1/pods'].get.operationId === 'listCoreV1PodForAllNamespaces');
    assert.equal(v2.paths['/apis/stable.example.com/v1/namespaces/{namespace}/crontabs/{name}/status'].put['x-kubernetes-action'], 'put');
    assert.equal(v2.paths['/apis/authorization.k8s.io/v1/selfsubjectaccessreviews'].post.operationId, 'createAuthorizationV1SelfSubjectAccessReview');
    assert.equal(v2.paths['/apis/authorization.k8s.io/v1/selfsubjectaccessreviews'].get, undefined);
  });
});

describe('OpenAPI v3', () => {
  test('index pins each group version by the hash of its document', () => {
    const index = buildOpenApiV3Index(input);
    const apps = buildOpenApiV3('apis/apps/v1', input);
    assert.equal(index.paths['apis/apps/v1']!.serverRelativeURL, `/openapi/v3/apis/apps/v1?hash=${openApiHash(apps)}`);
    assert.ok(index.paths['api/v1']);
    assert.ok(index.paths['apis/stable.example.com/v1']);
    assert.match(openApiHash(apps), /^[0-9A-F]{128}$/);
  });
  test('a group version document holds its paths and every schema they reach', () => {
    const apps = buildOpenApiV3('apis/apps/v1', input) as Json;
    assert.equal(apps.openapi, '3.0.0');
    assert.ok(Object.keys(apps.paths).every((path) => path.startsWith('/apis/apps/v1/')));
    assert.deepEqual(danglingRefs(apps, '#/components/schemas/', apps.components.schemas), []);
    assert.ok(apps.components.schemas['io.k8s.api.core.v1.Container']);
    assert.ok(!apps.components.schemas['io.k8s.api.batch.v1.Job']);
    const patch = apps.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}'].patch;
    assert.ok(patch.parameters.some((p: Json) => p.name === 'fieldValidation' && p.in === 'query'));
    assert.ok(patch.requestBody.content['application/apply-patch+yaml']);
    assert.deepEqual(apps.components.schemas['io.k8s.apimachinery.pkg.api.resource.Quantity'].oneOf, [{ type: 'string' }, { type: 'number' }]);
    assert.equal(buildOpenApiV3('apis/nonexistent/v1', input), undefined);
  });
});

// The real kubectl against a tiny server that serves legacy discovery and our OpenAPI v3 documents.
const KUBECTL = '/usr/bin/kubectl';
describe('kubectl explain against the generated OpenAPI v3', { skip: !existsSync(KUBECTL) && 'kubectl not installed' }, () => {
  let server: Server;
  let dir: string;
  let kubeconfig: string;

  function discovery(group: string, version: string): Json {
    const resources = builtinResources.filter((r) => r.group === group && r.version === version).flatMap((r) => [
      { name: r.resource, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: r.verbs, ...(r.shortNames ? { shortNames: r.shortNames } : {}), ...(r.categories ? { categories: r.categories } : {}) },
      ...(r.subresources ?? []).map((sub) => ({ name: `${r.resource}/${sub}`, singularName: '', namespaced: r.namespaced, kind: r.kind, verbs: ['get'] })),
    ]);
    return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources };
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'navarch-openapi-'));
    server = createServer((request, response) => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      const send = (status: number, body: unknown) => {
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(body));
      };
      const path = url.pathname;
      if (path === '/version') return send(200, { major: '1', minor: '34', gitVersion: 'v1.34.0' });
      if (path === '/api') return send(200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] });
      if (path === '/apis') {
        return send(200, { kind: 'APIGroupList', apiVersion: 'v1', groups: builtinApiGroups.map((g) => ({
          name: g.name, versions: g.versions.map((v) => ({ groupVersion: `${g.name}/${v}`, version: v })),
          preferredVersion: { groupVersion: `${g.name}/${g.preferredVersion}`, version: g.preferredVersion },
        })) });
      }
      if (path === '/api/v1') return send(200, discovery('', 'v1'));
      const groupVersion = /^\/apis\/([^/]+)\/([^/]+)$/.exec(path);
      if (groupVersion) return send(200, discovery(groupVersion[1]!, groupVersion[2]!));
      if (path === '/openapi/v3') return send(200, buildOpenApiV3Index(input));
      if (path.startsWith('/openapi/v3/')) {
        const document = buildOpenApiV3(path.slice('/openapi/v3/'.length), input);
        return document ? send(200, document) : send(404, { kind: 'Status', status: 'Failure', reason: 'NotFound', code: 404 });
      }
      send(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, `apiVersion: v1\nkind: Config\nclusters:\n- name: t\n  cluster:\n    server: http://127.0.0.1:${port}\ncontexts:\n- name: t\n  context:\n    cluster: t\n    user: u\nusers:\n- name: u\n  user: {}\ncurrent-context: t\n`);
  });
  after(() => {
    server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function kubectl(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
    return new Promise((resolve) => {
      execFile(KUBECTL, [...args, '--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache')], { timeout: 20_000, env: { PATH: process.env.PATH ?? '', HOME: dir } },
        (error, stdout, stderr) => resolve({ stdout, stderr, code: error ? (typeof error.code === 'number' ? error.code : 1) : 0 }));
    });
  }

  test('explains a nested built-in field', async () => {
    const result = await kubectl('explain', 'pods.spec.containers');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /KIND:\s+Pod/);
    assert.match(result.stdout, /FIELD:\s+containers <\[\]Container>/);
    assert.match(result.stdout, /image\s+<string>/);
    assert.match(result.stdout, /name\s+<string> -required-/);
  });

  test('explains through a deployment pod template', async () => {
    const result = await kubectl('explain', 'deployment.spec.template.spec.containers.ports');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /GROUP:\s+apps/);
    assert.match(result.stdout, /containerPort\s+<integer> -required-/);
  });

  test('explains an int-or-string field', async () => {
    const result = await kubectl('explain', 'deployment.spec.strategy.rollingUpdate');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /maxSurge\s+<IntOrString>/);
    if (process.env.SHOW_EXPLAIN) console.log(result.stdout);
  });
});
