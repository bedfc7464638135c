// LimitRange with the real kubectl against a real navarch server (no agent): the LimitRanger
// admission plugin's defaults and 403 as a user sees them, and `kubectl describe limitrange`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from './harness.js';

const limitRange = `apiVersion: v1
kind: LimitRange
metadata:
  name: cpu-mem
  namespace: default
spec:
  limits:
  - type: Container
    min:
      cpu: 100m
    max:
      cpu: "1"
      memory: 1Gi
    default:
      cpu: 500m
      memory: 512Mi
    defaultRequest:
      cpu: 200m
      memory: 256Mi
    maxLimitRequestRatio:
      cpu: "5"
  - type: PersistentVolumeClaim
    max:
      storage: 2Gi
`;

describe('LimitRange through kubectl', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server?.stop();
  });

  test('create -f, then a pod without resources gets the defaults and the annotation', () => {
    assert.match(server.kubectl(['create', '-f', '-'], { input: limitRange }).stdout, /limitrange\/cpu-mem created/);
    assert.match(server.kubectl(['run', 'plain', '--image=busybox', '--restart=Never']).stdout, /pod\/plain created/);
    const resources = JSON.parse(server.kubectl(['get', 'pod', 'plain', '-o', 'jsonpath={.spec.containers[0].resources}']).stdout);
    assert.deepEqual(resources, { limits: { cpu: '500m', memory: '512Mi' }, requests: { cpu: '200m', memory: '256Mi' } });
    const note = server.kubectl(['get', 'pod', 'plain', '-o', `jsonpath={.metadata.annotations.kubernetes\\.io/limit-ranger}`]).stdout;
    assert.equal(note, 'LimitRanger plugin set: cpu, memory request for container plain; cpu, memory limit for container plain');
  });

  test('a pod over max is refused with the Forbidden message, exit code 1', () => {
    const r = server.kubectl(['run', 'greedy', '--image=busybox', '--restart=Never', '--overrides', JSON.stringify({ spec: { containers: [{ name: 'greedy', image: 'busybox', resources: { limits: { cpu: '2', memory: '2Gi' }, requests: { cpu: '100m' } } }] } })], { allowFail: true });
    assert.equal(r.status, 1);
    assert.equal(
      r.stderr.trim(),
      'Error from server (Forbidden): pods "greedy" is forbidden: [maximum cpu usage per Container is 1, but limit is 2, maximum memory usage per Container is 1Gi, but limit is 2Gi, cpu max limit to request ratio per Container is 5, but provided ratio is 20.000000]',
    );
  });

  test('a claim over max is refused', () => {
    const claim = `apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: big\nspec:\n  accessModes: [ReadWriteOnce]\n  resources:\n    requests:\n      storage: 5Gi\n`;
    const r = server.kubectl(['create', '-f', '-'], { input: claim, allowFail: true });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /Error from server \(Forbidden\): error when creating "STDIN": persistentvolumeclaims "big" is forbidden: maximum storage usage per PersistentVolumeClaim is 2Gi, but request is 5Gi/);
  });

  test('an inconsistent LimitRange is refused with 422 and the field path', () => {
    const bad = `apiVersion: v1\nkind: LimitRange\nmetadata:\n  name: bad\nspec:\n  limits:\n  - type: Container\n    default:\n      cpu: 100m\n    defaultRequest:\n      cpu: 200m\n`;
    const r = server.kubectl(['create', '-f', '-'], { input: bad, allowFail: true });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /LimitRange "bad" is invalid: spec\.limits\[0\]\.defaultRequest\[cpu\]: Invalid value: "200m": default request value 200m is greater than default limit value 100m/);
  });

  test('describe limitrange prints Kubernetes\' table', () => {
    const out = server.kubectl(['describe', 'limitrange', 'cpu-mem']).stdout;
    const lines = out.split('\n').map((l) => l.trimEnd());
    assert.match(out, /^Name:\s+cpu-mem$/m);
    assert.match(out, /^Namespace:\s+default$/m);
    assert.ok(lines.some((l) => /^Type\s+Resource\s+Min\s+Max\s+Default Request\s+Default Limit\s+Max Limit\/Request Ratio$/.test(l)), out);
    assert.ok(lines.some((l) => /^Container\s+cpu\s+100m\s+1\s+200m\s+500m\s+5$/.test(l)), out);
    assert.ok(lines.some((l) => /^Container\s+memory\s+-\s+1Gi\s+256Mi\s+512Mi\s+-$/.test(l)), out);
    assert.ok(lines.some((l) => /^PersistentVolumeClaim\s+storage\s+-\s+2Gi\s+-\s+-\s+-$/.test(l)), out);
  });
});
