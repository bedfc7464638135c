// kubectl 1.27 reads /openapi/v2 as gnostic protobuf (client-go's OpenAPISchema) for explain,
// client-side apply and validation; the current kubectl reads /openapi/v3. Both must work the
// same against one server.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { startServer, type TestServer, kubectlBinaries } from './harness.js';

function deployment(name: string, image: string, extraSpec = ''): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: default
spec:
  replicas: 1
  selector:
    matchLabels:
      app: ${name}
  template:
    metadata:
      labels:
        app: ${name}
    spec:
      containers:
      - name: main
        image: ${image}
${extraSpec}`;
}

/** GET with the kubeconfig's client certificate, returning status, headers and raw body. */
function get(server: TestServer, path: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  const config = YAML.parse(readFileSync(server.kubeconfig, 'utf8'));
  const user = config.users[0].user;
  const decode = (value: string | undefined) => (value ? Buffer.from(value, 'base64') : undefined);
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: '127.0.0.1', port: server.port, path, headers, rejectUnauthorized: false,
      cert: decode(user['client-certificate-data']), key: decode(user['client-key-data']),
      ...(user.token ? { headers: { ...headers, authorization: `Bearer ${user.token}` } } : {}),
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('kubectl 1.27 and current kubectl: OpenAPI-driven verbs', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server?.stop();
  });

  test('/openapi/v2 is protobuf when asked, JSON otherwise, with ETag revalidation', async () => {
    const proto = await get(server, '/openapi/v2', { accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf' });
    assert.equal(proto.status, 200);
    // Answered with the dotted spelling: client-go's MIME parser rejects "@" in a Content-Type.
    assert.equal(proto.headers['content-type'], 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf');
    assert.equal(proto.body[0], 0x0a, 'Document.swagger (field 1, length-delimited) comes first');
    assert.equal(proto.body.subarray(2, 2 + proto.body[1]).toString(), '2.0');
    const etag = String(proto.headers.etag);
    const again = await get(server, '/openapi/v2', { accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf', 'if-none-match': etag });
    assert.equal(again.status, 304);
    assert.equal(again.body.length, 0);
    const json = await get(server, '/openapi/v2', { accept: 'application/json' });
    assert.equal(json.status, 200);
    assert.match(String(json.headers['content-type']), /^application\/json/);
    assert.equal(JSON.parse(json.body.toString()).swagger, '2.0');
    assert.notEqual(json.headers.etag, etag, 'each representation has its own entity tag');
    const refused = await get(server, '/openapi/v2', { accept: 'text/html' });
    assert.equal(refused.status, 406);
  });

  for (const binary of kubectlBinaries) {
    const version = binary.split('/').pop()!;
    const name = `web-${version.replace(/[^a-z0-9]/g, '')}`;
    const kubectl = (args: string[], options: { input?: string; allowFail?: boolean } = {}) => server.kubectl(args, { ...options, binary });

    test(`${version}: explain deployment.spec.strategy`, () => {
      const { stdout } = kubectl(['explain', 'deployment.spec.strategy']);
      assert.match(stdout, /KIND:\s+Deployment/);
      assert.match(stdout, /GROUP:\s+apps/);
      assert.match(stdout, /VERSION:\s+v1/);
      assert.match(stdout, /FIELD:\s+strategy <DeploymentStrategy>/);
      assert.match(stdout, /DeploymentStrategy describes how to replace existing pods/);
      assert.match(stdout, /rollingUpdate\s/);
      assert.match(stdout, /type\s/);
    });

    test(`${version}: apply creates, configures, then leaves unchanged`, () => {
      assert.match(kubectl(['apply', '-f', '-'], { input: deployment(name, 'busybox:1') }).stdout, new RegExp(`deployment.apps/${name} created`));
      assert.match(kubectl(['apply', '-f', '-'], { input: deployment(name, 'busybox:2') }).stdout, new RegExp(`deployment.apps/${name} configured`));
      assert.match(kubectl(['apply', '-f', '-'], { input: deployment(name, 'busybox:2') }).stdout, new RegExp(`deployment.apps/${name} unchanged`));
      const got = JSON.parse(kubectl(['get', 'deployment', name, '-o', 'json']).stdout);
      assert.equal(got.spec.template.spec.containers[0].image, 'busybox:2');
    });

    test(`${version}: server-side apply`, () => {
      const ssa = `${name}-ssa`;
      assert.match(kubectl(['apply', '--server-side', '-f', '-'], { input: deployment(ssa, 'busybox:1') }).stdout, new RegExp(`deployment.apps/${ssa} serverside-applied`));
      kubectl(['apply', '--server-side', '-f', '-'], { input: deployment(ssa, 'busybox:3') });
      const got = JSON.parse(kubectl(['get', 'deployment', ssa, '-o', 'json', '--show-managed-fields']).stdout);
      assert.equal(got.spec.template.spec.containers[0].image, 'busybox:3');
      assert.ok(got.metadata.managedFields.some((f: { manager: string; operation: string }) => f.manager === 'kubectl' && f.operation === 'Apply'));
      kubectl(['delete', 'deployment', ssa]);
    });

    test(`${version}: --validate=strict refuses an unknown field`, () => {
      const bad = `${name}-strict`;
      const manifest = deployment(bad, 'busybox:1', '  bogusField: 1\n');
      const refused = kubectl(['apply', '--validate=strict', '-f', '-'], { input: manifest, allowFail: true });
      assert.notEqual(refused.status, 0, `accepted:\n${refused.stdout}`);
      assert.match(refused.stderr, /bogusField/);
      const missing = kubectl(['get', 'deployment', bad], { allowFail: true });
      assert.notEqual(missing.status, 0);
    });

    test(`${version}: scale, then delete --cascade=foreground`, () => {
      assert.match(kubectl(['scale', 'deployment', name, '--replicas=3']).stdout, new RegExp(`deployment.apps/${name} scaled`));
      assert.equal(JSON.parse(kubectl(['get', 'deployment', name, '-o', 'json']).stdout).spec.replicas, 3);
      assert.match(kubectl(['delete', 'deployment', name, '--cascade=foreground', '--timeout=30s']).stdout, new RegExp(`deployment.apps "${name}" deleted`));
      const missing = kubectl(['get', 'deployment', name], { allowFail: true });
      assert.notEqual(missing.status, 0);
      assert.match(missing.stderr, /NotFound/);
    });
  }
});
