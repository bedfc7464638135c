// CustomResourceDefinitions with the real kubectl: the CronTab walk-through of Kubernetes'
// "Extend the Kubernetes API with CustomResourceDefinitions" page against `navarch server`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { startServer, type TestServer } from './harness.js';

const crdYaml = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: crontabs.stable.example.com
spec:
  group: stable.example.com
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              description: CronTabSpec is the desired state of a CronTab.
              properties:
                cronSpec:
                  type: string
                  description: The cron spec defining the interval a CronJob is run
                  pattern: '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$'
                image:
                  type: string
                  description: The image the CronJob runs
                replicas:
                  type: integer
                  minimum: 1
                  maximum: 10
                  default: 1
            status:
              type: object
              properties:
                replicas:
                  type: integer
                labelSelector:
                  type: string
      subresources:
        status: {}
        scale:
          specReplicasPath: .spec.replicas
          statusReplicasPath: .status.replicas
          labelSelectorPath: .status.labelSelector
      additionalPrinterColumns:
      - name: Spec
        type: string
        description: The cron spec defining the interval a CronJob is run
        jsonPath: .spec.cronSpec
      - name: Replicas
        type: integer
        description: The number of jobs launched by the CronJob
        jsonPath: .spec.replicas
      - name: Age
        type: date
        jsonPath: .metadata.creationTimestamp
  scope: Namespaced
  names:
    plural: crontabs
    singular: crontab
    kind: CronTab
    shortNames:
    - ct
`;

const cronTabYaml = `apiVersion: "stable.example.com/v1"
kind: CronTab
metadata:
  name: my-new-cron-object
spec:
  cronSpec: "* * * * */5"
  image: my-awesome-cron-image
`;

describe('CustomResourceDefinitions with kubectl', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server?.stop();
    // The restarted server was given the data dir, so the harness leaves it to us.
    if (server) rmSync(server.dataDir, { recursive: true, force: true });
  });

  test('apply a CRD, wait for Established, create and get CronTabs with their printer columns', () => {
    server.kubectl(['apply', '-f', '-'], { input: crdYaml });
    server.kubectl(['wait', '--for=condition=Established', '--timeout=20s', 'crd/crontabs.stable.example.com']);
    server.kubectl(['apply', '-f', '-'], { input: cronTabYaml });
    const { stdout } = server.kubectl(['get', 'crontabs']);
    const lines = stdout.trim().split('\n');
    assert.match(lines[0], /^NAME\s+SPEC\s+REPLICAS\s+AGE$/);
    assert.match(lines[1], /^my-new-cron-object\s+\* \* \* \* \*\/5\s+1\s+\d+s$/);
    const short = server.kubectl(['get', 'ct', 'my-new-cron-object', '-o', 'json']).stdout;
    const object = JSON.parse(short);
    assert.equal(object.spec.replicas, 1, 'defaulted');
    assert.equal(object.apiVersion, 'stable.example.com/v1');
    const resources = server.kubectl(['api-resources', '--api-group=stable.example.com']).stdout;
    assert.match(resources, /crontabs\s+ct\s+stable\.example\.com\/v1\s+true\s+CronTab/);
  });

  test('invalid objects are refused with the schema error', () => {
    const bad = cronTabYaml.replace('my-new-cron-object', 'bad').replace('"* * * * */5"', '"* * * *"') + '  replicas: 15\n';
    const r = server.kubectl(['apply', '-f', '-'], { input: bad, allowFail: true });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /The CronTab "bad" is invalid/);
    assert.match(r.stderr, /spec\.replicas: Invalid value: 15: spec\.replicas in body should be less than or equal to 10/);
    assert.match(r.stderr, /spec\.cronSpec: Invalid value: "\* \* \* \*": spec\.cronSpec in body should match/);
  });

  test('kubectl explain reads the CRD schema from OpenAPI', () => {
    const { stdout } = server.kubectl(['explain', 'crontab.spec']);
    assert.match(stdout, /KIND:\s+CronTab/);
    assert.match(stdout, /CronTabSpec is the desired state of a CronTab/);
    assert.match(stdout, /cronSpec\s+<string>/);
    assert.match(stdout, /The cron spec defining the interval a CronJob is run/);
    assert.match(stdout, /replicas\s+<integer>/);
  });

  test('kubectl scale goes through the scale subresource', () => {
    const out = server.kubectl(['scale', 'crontab', 'my-new-cron-object', '--replicas=5']).stdout;
    assert.match(out, /crontab\.stable\.example\.com\/my-new-cron-object scaled/);
    const object = JSON.parse(server.kubectl(['get', 'crontab', 'my-new-cron-object', '-o', 'json']).stdout);
    assert.equal(object.spec.replicas, 5);
    const r = server.kubectl(['scale', 'crontab', 'my-new-cron-object', '--replicas=11'], { allowFail: true });
    assert.notEqual(r.status, 0);
  });

  test('after a restart, custom resources are served as soon as the server is ready', async () => {
    const dataDir = server.dataDir;
    await server.kill('SIGTERM');
    server = await startServer({ dataDir, port: server.port });
    const { stdout } = server.kubectl(['get', 'crontabs', 'my-new-cron-object', '-o', 'jsonpath={.spec.replicas}']);
    assert.equal(stdout, '5');
  });

  test('deleting the CRD removes its custom resources', () => {
    server.kubectl(['delete', 'crd', 'crontabs.stable.example.com', '--timeout=30s']);
    const r = server.kubectl(['get', 'crontabs'], { allowFail: true });
    assert.notEqual(r.status, 0);
    // With kubectl's discovery cache still naming crontabs, the list itself gets the 404.
    assert.match(r.stderr, /the server doesn't have a resource type "crontabs"|the server could not find the requested resource/);
    server.kubectl(['apply', '-f', '-'], { input: crdYaml });
    server.kubectl(['wait', '--for=condition=Established', '--timeout=20s', 'crd/crontabs.stable.example.com']);
    const empty = server.kubectl(['get', 'crontabs', '-A']);
    assert.match(empty.stderr + empty.stdout, /No resources found/);
  });
});
