import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeReference, parseReference } from './reference.js';

test('references normalise like Docker', () => {
  const cases: [string, string][] = [
    ['busybox', 'docker.io/library/busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36'],
    ['library/busybox', 'docker.io/library/busybox:latest'],
    ['bitnami/nginx:1', 'docker.io/bitnami/nginx:1'],
    ['index.docker.io/library/busybox', 'docker.io/library/busybox:latest'],
    ['127.0.0.1:5000/busybox', '127.0.0.1:5000/busybox:latest'],
    ['localhost/app:v2', 'localhost/app:v2'],
    ['registry.k8s.io/pause:3.9', 'registry.k8s.io/pause:3.9'],
    [`busybox@sha256:${'a'.repeat(64)}`, `docker.io/library/busybox@sha256:${'a'.repeat(64)}`],
  ];
  for (const [input, want] of cases) assert.equal(normalizeReference(input), want, input);
  assert.equal(parseReference('quay.io/a/b/c:t').repository, 'a/b/c');
  for (const bad of ['', 'Busybox', 'busybox:', 'a b', `x@sha256:zz`]) assert.throws(() => parseReference(bad), /invalid reference/, bad);
});
