/// <reference types="node" />
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { applyStrategicMergePatch } from './strategic-merge-patch.js';
import { PatchError } from './errors.js';
import { configMapSchema, deploymentSchema, podSchema, serviceSchema } from './testdata/schemas.js';

const pod = (containers: unknown[], extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web', labels: { app: 'web', tier: 'front' } },
  spec: { containers, ...extra },
});

describe('applyStrategicMergePatch', () => {
  const cases: { name: string; original: unknown; patch: Record<string, unknown>; want: unknown }[] = [
    {
      name: 'containers merge by name: only the named container changes',
      original: pod([{ name: 'a', image: 'a:1', args: ['x'] }, { name: 'b', image: 'b:1' }]),
      patch: { spec: { containers: [{ name: 'b', image: 'b:2' }] } },
      want: pod([{ name: 'a', image: 'a:1', args: ['x'] }, { name: 'b', image: 'b:2' }]),
    },
    {
      // Kubernetes' merge puts an item the server has never seen ahead of server-only items
      // when nothing else orders them (its mergeSortedSlice takes the patch item first).
      name: 'a new container goes first when no $setElementOrder places it',
      original: pod([{ name: 'a', image: 'a:1' }]),
      patch: { spec: { containers: [{ name: 'sidecar', image: 's:1' }] } },
      want: pod([{ name: 'sidecar', image: 's:1' }, { name: 'a', image: 'a:1' }]),
    },
    {
      name: 'kubectl apply places a new container with $setElementOrder',
      original: pod([{ name: 'a', image: 'a:1' }]),
      patch: { spec: { '$setElementOrder/containers': [{ name: 'a' }, { name: 'sidecar' }], containers: [{ name: 'sidecar', image: 's:1' }] } },
      want: pod([{ name: 'a', image: 'a:1' }, { name: 'sidecar', image: 's:1' }]),
    },
    {
      name: '$patch: delete removes one list item by merge key',
      original: pod([{ name: 'a', image: 'a:1' }, { name: 'b', image: 'b:1' }]),
      patch: { spec: { containers: [{ name: 'a', $patch: 'delete' }] } },
      want: pod([{ name: 'b', image: 'b:1' }]),
    },
    {
      name: '$patch: replace replaces the whole list',
      original: pod([{ name: 'a', image: 'a:1' }, { name: 'b', image: 'b:1' }]),
      patch: { spec: { containers: [{ name: 'c', image: 'c:1' }, { $patch: 'replace' }] } },
      want: pod([{ name: 'c', image: 'c:1' }]),
    },
    {
      name: '$patch: replace on a map replaces it',
      original: pod([], { nodeSelector: { disk: 'ssd' } }),
      patch: { metadata: { labels: { $patch: 'replace', only: 'this' } } },
      want: { ...pod([], { nodeSelector: { disk: 'ssd' } }), metadata: { name: 'web', labels: { only: 'this' } } },
    },
    {
      name: '$patch: delete on a map empties it',
      original: pod([]),
      patch: { metadata: { labels: { $patch: 'delete' } } },
      want: { ...pod([]), metadata: { name: 'web', labels: {} } },
    },
    {
      name: 'null deletes a field; maps merge key by key',
      original: pod([]),
      patch: { metadata: { labels: { tier: null, env: 'prod' } } },
      want: { ...pod([]), metadata: { name: 'web', labels: { app: 'web', env: 'prod' } } },
    },
    {
      name: 'lists without merge strategy are replaced',
      original: pod([{ name: 'a', image: 'a:1', args: ['x', 'y'] }]),
      patch: { spec: { containers: [{ name: 'a', args: ['z'] }] } },
      want: pod([{ name: 'a', image: 'a:1', args: ['z'] }]),
    },
    {
      name: 'nested merge lists: ports by containerPort and env by name',
      original: pod([{ name: 'a', ports: [{ containerPort: 80, name: 'http' }], env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] }]),
      patch: { spec: { containers: [{ name: 'a', ports: [{ containerPort: 443 }], env: [{ name: 'B', value: '3' }, { name: 'A', $patch: 'delete' }] }] } },
      want: pod([{ name: 'a', ports: [{ containerPort: 443 }, { containerPort: 80, name: 'http' }], env: [{ name: 'B', value: '3' }] }]),
    },
    {
      name: 'finalizers (primitive list, strategy merge) are a union',
      original: { metadata: { name: 'x', finalizers: ['a', 'b'] } },
      patch: { metadata: { finalizers: ['b', 'c'] } },
      want: { metadata: { name: 'x', finalizers: ['a', 'b', 'c'] } },
    },
    {
      name: '$deleteFromPrimitiveList removes finalizers',
      original: { metadata: { name: 'x', finalizers: ['a', 'b', 'c'] } },
      patch: { metadata: { '$deleteFromPrimitiveList/finalizers': ['b', 'zzz'] } },
      want: { metadata: { name: 'x', finalizers: ['a', 'c'] } },
    },
    {
      name: '$setElementOrder reorders; items added by the server keep their relative place',
      original: pod([{ name: 'a' }, { name: 'x', image: 'server-added' }, { name: 'b' }]),
      patch: { spec: { '$setElementOrder/containers': [{ name: 'b' }, { name: 'a' }] } },
      want: pod([{ name: 'x', image: 'server-added' }, { name: 'b' }, { name: 'a' }]),
    },
    {
      name: '$setElementOrder places a new item where the patch says',
      original: pod([{ name: 'a' }, { name: 'x' }, { name: 'b' }]),
      patch: { spec: { '$setElementOrder/containers': [{ name: 'a' }, { name: 'd' }, { name: 'b' }], containers: [{ name: 'd', image: 'd:1' }] } },
      want: pod([{ name: 'a' }, { name: 'd', image: 'd:1' }, { name: 'x' }, { name: 'b' }]),
    },
    {
      name: '$setElementOrder on a primitive list',
      original: { metadata: { name: 'x', finalizers: ['a', 'b'] } },
      patch: { metadata: { '$setElementOrder/finalizers': ['c', 'b', 'a'], finalizers: ['c'] } },
      want: { metadata: { name: 'x', finalizers: ['c', 'b', 'a'] } },
    },
    {
      name: '$retainKeys clears fields not listed (Deployment strategy RollingUpdate -> Recreate)',
      original: { spec: { replicas: 1, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%' } } } },
      patch: { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } },
      want: { spec: { replicas: 1, strategy: { type: 'Recreate' } } },
    },
    {
      name: '$retainKeys on a volume switches its source (merge,retainKeys)',
      original: pod([], { volumes: [{ name: 'data', emptyDir: {} }, { name: 'other', emptyDir: {} }] }),
      patch: { spec: { volumes: [{ name: 'data', $retainKeys: ['configMap', 'name'], configMap: { name: 'cm' } }] } },
      want: pod([], { volumes: [{ name: 'data', configMap: { name: 'cm' } }, { name: 'other', emptyDir: {} }] }),
    },
    {
      name: 'directives never leak into fields the original lacked',
      original: { metadata: { name: 'p' } },
      patch: { spec: { containers: [{ name: 'a', env: [{ name: 'X', $patch: 'delete' }, { name: 'Y', value: 'y' }] }], '$setElementOrder/containers': [{ name: 'a' }] } },
      want: { metadata: { name: 'p' }, spec: { containers: [{ name: 'a', env: [{ name: 'Y', value: 'y' }] }] } },
    },
    {
      name: 'without $setElementOrder the patch list order still counts; server-only items come first',
      original: pod([{ name: 'B' }, { name: 'C' }, { name: 'A' }]),
      patch: { spec: { containers: [{ name: 'A', image: "a'" }, { name: 'B', image: "b'" }, { name: 'D' }] } },
      // Kubernetes' design example: C (server only) comes first, then the patch order.
      want: pod([{ name: 'C' }, { name: 'A', image: "a'" }, { name: 'B', image: "b'" }, { name: 'D' }]),
    },
    {
      // The design proposal's env example; the result is what Kubernetes' implementation gives
      // (server-only items are interleaved by their old positions, not all put first).
      name: 'env example from the $setElementOrder design',
      original: pod([{ name: 'c', env: [{ name: 'ENV2', value: 'bar' }, { name: 'ENV5', value: 'server-added-2' }, { name: 'ENV1', value: 'foo' }, { name: 'ENV3', value: 'baz' }, { name: 'ENV4', value: 'server-added-1' }] }]),
      patch: { spec: { containers: [{ name: 'c', '$setElementOrder/env': [{ name: 'ENV1' }, { name: 'ENV2' }, { name: 'ENV6' }], env: [{ name: 'ENV3', $patch: 'delete' }, { name: 'ENV6', value: 'new-env' }] }] } },
      want: pod([{ name: 'c', env: [{ name: 'ENV5', value: 'server-added-2' }, { name: 'ENV1', value: 'foo' }, { name: 'ENV2', value: 'bar' }, { name: 'ENV6', value: 'new-env' }, { name: 'ENV4', value: 'server-added-1' }] }]),
    },
    {
      name: 'finalizers example from the $setElementOrder design',
      original: { metadata: { name: 'x', finalizers: ['b', 'e', 'a', 'c', 'd'] } },
      patch: { metadata: { '$setElementOrder/finalizers': ['a', 'b', 'f'], '$deleteFromPrimitiveList/finalizers': ['c'], finalizers: ['f'] } },
      want: { metadata: { name: 'x', finalizers: ['e', 'a', 'b', 'f', 'd'] } },
    },
    {
      name: 'a delete and a re-add of the same key in one patch: the delete goes first',
      original: pod([{ name: 'a', image: 'old', args: ['x'] }]),
      patch: { spec: { containers: [{ name: 'a', image: 'new' }, { name: 'a', $patch: 'delete' }] } },
      want: pod([{ name: 'a', image: 'new' }]),
    },
    {
      name: 'kubectl set image: a patched container keeps its place among others',
      original: pod([{ name: 'a' }, { name: 'nginx', image: 'nginx:1.25' }, { name: 'b' }]),
      patch: { spec: { containers: [{ name: 'nginx', image: 'nginx:1.26' }] } },
      want: pod([{ name: 'a' }, { name: 'nginx', image: 'nginx:1.26' }, { name: 'b' }]),
    },
    {
      name: 'kubectl rollout undo: $patch replace on the pod template spec',
      original: pod([{ name: 'a', image: 'a:2', env: [{ name: 'X', value: '1' }] }], { restartPolicy: 'Always' }),
      patch: { spec: { $patch: 'replace', containers: [{ name: 'a', image: 'a:1' }] } },
      want: { ...pod([{ name: 'a', image: 'a:1' }]) },
    },
    {
      name: 'atomic tolerations list is replaced',
      original: pod([], { tolerations: [{ key: 'a', operator: 'Exists' }] }),
      patch: { spec: { tolerations: [{ key: 'b', operator: 'Exists' }] } },
      want: pod([], { tolerations: [{ key: 'b', operator: 'Exists' }] }),
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const before = structuredClone(c.original);
      assert.deepEqual(applyStrategicMergePatch(c.original, c.patch, podLikeSchemaFor(c.patch)), c.want);
      assert.deepEqual(c.original, before, 'the original must not change');
    });
  }

  test('without a schema, maps merge and lists are replaced', () => {
    const original = { spec: { a: { b: 1, c: 2 }, items: [{ name: 'x', v: 1 }, { name: 'y' }] } };
    const result = applyStrategicMergePatch(original, { spec: { a: { c: 3 }, items: [{ name: 'x', v: 2 }] } });
    assert.deepEqual(result, { spec: { a: { b: 1, c: 3 }, items: [{ name: 'x', v: 2 }] } });
  });

  test('without a schema, metadata still merges finalizers like ObjectMeta', () => {
    const result = applyStrategicMergePatch({ metadata: { finalizers: ['a'] } }, { metadata: { finalizers: ['b'] } });
    // A merged value new to the server goes ahead of the server-only ones (Kubernetes' ordering).
    assert.deepEqual(result, { metadata: { finalizers: ['b', 'a'] } });
  });

  test('a merge-list item without its merge key is rejected', () => {
    assert.throws(
      () => applyStrategicMergePatch(pod([{ name: 'a' }]), { spec: { containers: [{ image: 'x' }] } }, podSchema),
      (err: unknown) => err instanceof PatchError && err.code === 500 && err.message === 'map: map[image:x] does not contain declared merge key: name',
    );
  });

  test('$patch: merge inside a list is refused, as in Kubernetes', () => {
    assert.throws(
      () => applyStrategicMergePatch(pod([{ name: 'a' }]), { spec: { containers: [{ name: 'a', $patch: 'merge' }] } }, podSchema),
      (err: unknown) => err instanceof PatchError && err.message === 'merging lists cannot yet be specified in the patch',
    );
  });

  test('patch content outside $retainKeys is rejected', () => {
    assert.throws(
      () => applyStrategicMergePatch({}, { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate', rollingUpdate: {} } } }, deploymentSchema),
      (err: unknown) => err instanceof PatchError && err.code === 422 && /retainKeys/.test(err.message),
    );
  });

  test('an unknown $patch directive is refused', () => {
    assert.throws(() => applyStrategicMergePatch({}, { spec: { $patch: 'frob' } }, podSchema), (err: unknown) => err instanceof PatchError && err.message === 'unknown patch type: frob in map: map[$patch:frob]');
  });
});

describe('kubectl client-side apply patches', () => {
  test('Deployment: new image, a removed env var, replicas dropped from the applied config', () => {
    const live = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'default', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"old":true}', 'deployment.kubernetes.io/revision': '1' } },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'web' } },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            containers: [
              { name: 'nginx', image: 'nginx:1.24', ports: [{ containerPort: 80, protocol: 'TCP' }], env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }], imagePullPolicy: 'IfNotPresent' },
            ],
            restartPolicy: 'Always',
          },
        },
      },
    };
    // What `kubectl apply` sends (computed by its three-way merge) for this edit.
    const patch = {
      metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"new":true}\n' } },
      spec: {
        replicas: null,
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'nginx' }],
            containers: [
              { '$setElementOrder/env': [{ name: 'A' }], env: [{ $patch: 'delete', name: 'B' }], image: 'nginx:1.25', name: 'nginx' },
            ],
          },
        },
      },
    };
    const result = applyStrategicMergePatch(live, patch, deploymentSchema) as any;
    assert.equal(result.spec.replicas, undefined);
    assert.deepEqual(result.spec.template.spec.containers, [
      { name: 'nginx', image: 'nginx:1.25', ports: [{ containerPort: 80, protocol: 'TCP' }], env: [{ name: 'A', value: '1' }], imagePullPolicy: 'IfNotPresent' },
    ]);
    assert.deepEqual(result.metadata.annotations, { 'kubectl.kubernetes.io/last-applied-configuration': '{"new":true}\n', 'deployment.kubernetes.io/revision': '1' });
    assert.deepEqual(result.spec.strategy, live.spec.strategy);
  });

  test('Deployment: switching to Recreate with retainKeys', () => {
    const live = { spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } } } };
    const patch = { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } };
    assert.deepEqual(applyStrategicMergePatch(live, patch, deploymentSchema), { spec: { strategy: { type: 'Recreate' } } });
  });

  test('Service: a port added and one removed, the allocated nodePort kept', () => {
    const live = {
      spec: {
        type: 'NodePort',
        clusterIP: '10.0.0.7',
        selector: { app: 'web', old: 'x' },
        ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP', nodePort: 30080 }, { name: 'metrics', port: 9090, protocol: 'TCP', nodePort: 30090 }],
      },
    };
    const patch = {
      spec: {
        '$setElementOrder/ports': [{ port: 443 }, { port: 80 }],
        ports: [{ name: 'https', port: 443, targetPort: 8443 }, { $patch: 'delete', port: 9090 }],
        selector: { old: null },
      },
    };
    const result = applyStrategicMergePatch(live, patch, serviceSchema) as any;
    assert.deepEqual(result.spec.ports, [
      { name: 'https', port: 443, targetPort: 8443 },
      { name: 'http', port: 80, targetPort: 8080, protocol: 'TCP', nodePort: 30080 },
    ]);
    assert.deepEqual(result.spec.selector, { app: 'web' });
    assert.equal(result.spec.clusterIP, '10.0.0.7');
  });

  test('ConfigMap: data keys changed and removed', () => {
    const live = { metadata: { name: 'cfg', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}' } }, data: { a: '1', b: '2' } };
    const patch = { data: { a: '10', b: null, c: '3' }, metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"data":{}}' } } };
    assert.deepEqual(applyStrategicMergePatch(live, patch, configMapSchema), {
      metadata: { name: 'cfg', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"data":{}}' } },
      data: { a: '10', c: '3' },
    });
  });
});

function podLikeSchemaFor(_patch: unknown) {
  // Every case above is a Pod (or a Deployment strategy, which only needs $retainKeys handling).
  return _patch && JSON.stringify(_patch).includes('strategy') ? deploymentSchema : podSchema;
}
