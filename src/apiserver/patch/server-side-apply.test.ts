/// <reference types="node" />
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject, ManagedFieldsEntry } from '../../api/types.js';
import { applyServerSide, conflictCauses, conflictMessage, updateManagedFields, type ApplyOptions } from './server-side-apply.js';
import { FieldSet, formatFieldPath } from './field-set.js';
import { configMapSchema, deploymentSchema, podSchema, serviceSchema } from './testdata/schemas.js';

const t0 = '2026-01-01T00:00:00Z';
const t1 = '2026-01-01T00:01:00Z';
const t2 = '2026-01-01T00:02:00Z';
const applyOpts = (now: string, extra: Partial<ApplyOptions> = {}): ApplyOptions => ({ force: false, apiVersion: 'apps/v1', schema: deploymentSchema, now, ...extra });

function deployment(spec: Record<string, unknown>, metadata: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default', ...metadata }, spec };
}

const nginxConfig = () => deployment({
  replicas: 2,
  selector: { matchLabels: { app: 'web' } },
  template: {
    metadata: { labels: { app: 'web' } },
    spec: { containers: [{ name: 'nginx', image: 'nginx:1.25', ports: [{ containerPort: 80, protocol: 'TCP' }] }] },
  },
}, { labels: { app: 'web' } });

/** A configuration that sets nothing but the object's identity. */
function nameOnly(): KubeObject {
  return { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' } };
}

function entry(object: KubeObject, manager: string, operation = 'Apply'): ManagedFieldsEntry | undefined {
  return object.metadata.managedFields?.find((e) => e.manager === manager && e.operation === operation);
}

function applyOk(live: KubeObject | null, config: KubeObject, manager: string, options: ApplyOptions): KubeObject {
  const result = applyServerSide(live, config, manager, options);
  assert.equal(result.conflicts, undefined, result.conflicts && conflictMessage(result.conflicts));
  return result.object;
}

describe('server-side apply', () => {
  test('creating by apply records the applied fields in FieldsV1', () => {
    const created = applyOk(null, nginxConfig(), 'kubectl', applyOpts(t0));
    assert.equal(created.spec.replicas, 2);
    assert.deepEqual(created.metadata.managedFields, [{
      manager: 'kubectl',
      operation: 'Apply',
      apiVersion: 'apps/v1',
      time: t0,
      fieldsType: 'FieldsV1',
      fieldsV1: {
        'f:metadata': { 'f:labels': { 'f:app': {} } },
        'f:spec': {
          'f:replicas': {},
          'f:selector': {},
          'f:template': {
            'f:metadata': { 'f:labels': { 'f:app': {} } },
            'f:spec': {
              'f:containers': {
                'k:{"name":"nginx"}': {
                  '.': {},
                  'f:image': {},
                  'f:name': {},
                  'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {}, 'f:protocol': {} } },
                },
              },
            },
          },
        },
      },
    }]);
  });

  test('re-applying the same configuration changes nothing, not even the time', () => {
    const created = applyOk(null, nginxConfig(), 'kubectl', applyOpts(t0));
    const again = applyOk(created, nginxConfig(), 'kubectl', applyOpts(t1));
    assert.deepEqual(again, created);
  });

  test('a field changed by another manager conflicts, with Kubernetes\' message', () => {
    const created = applyOk(null, nginxConfig(), 'kubectl', applyOpts(t0));
    const scaled = updateManagedFields(created, { ...created, spec: { ...created.spec, replicas: 5 } }, { manager: 'kubectl-client-side-apply', apiVersion: 'apps/v1', schema: deploymentSchema, now: t1 });
    assert.deepEqual(entry(scaled, 'kubectl-client-side-apply', 'Update')?.fieldsV1, { 'f:spec': { 'f:replicas': {} } });
    assert.ok(!('f:replicas' in (entry(scaled, 'kubectl')!.fieldsV1!['f:spec'] as object)), 'the updater took replicas away from the applier');

    const result = applyServerSide(scaled, nginxConfig(), 'kubectl', applyOpts(t2));
    assert.deepEqual(result.conflicts, [{ manager: 'kubectl-client-side-apply', operation: 'Update', apiVersion: 'apps/v1', field: '.spec.replicas' }]);
    assert.equal(conflictMessage(result.conflicts!), 'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas');
    assert.deepEqual(conflictCauses(result.conflicts!), [{ reason: 'FieldManagerConflict', message: 'conflict with "kubectl-client-side-apply" using apps/v1', field: '.spec.replicas' }]);
    assert.deepEqual(result.object, scaled, 'a refused apply leaves the object alone');

    const forced = applyOk(scaled, nginxConfig(), 'kubectl', applyOpts(t2, { force: true }));
    assert.equal(forced.spec.replicas, 2);
    assert.equal(entry(forced, 'kubectl-client-side-apply', 'Update'), undefined, 'the updater lost its only field');
    assert.ok('f:replicas' in (entry(forced, 'kubectl')!.fieldsV1!['f:spec'] as object));
  });

  test('applying the value another manager already set shares ownership without conflict', () => {
    const created = applyOk(null, nginxConfig(), 'alice', applyOpts(t0));
    const bob = applyOk(created, deployment({ replicas: 2 }), 'bob', applyOpts(t1));
    assert.deepEqual(entry(bob, 'bob')?.fieldsV1, { 'f:spec': { 'f:replicas': {} } });
    assert.ok('f:replicas' in (entry(bob, 'alice')!.fieldsV1!['f:spec'] as object));
    // Alice drops replicas from her configuration: Bob still owns it, so it stays.
    const config = nginxConfig();
    delete config.spec.replicas;
    const after = applyOk(bob, config, 'alice', applyOpts(t2));
    assert.equal(after.spec.replicas, 2);
    // Bob drops it too: now nobody owns it and it is removed.
    const gone = applyOk(after, nameOnly(), 'bob', applyOpts(t2));
    assert.equal(gone.spec.replicas, undefined);
    assert.equal(entry(gone, 'bob'), undefined);
  });

  test('fields dropped from the configuration are removed; labels from others stay', () => {
    const created = applyOk(null, deployment({ replicas: 1 }, { labels: { a: '1', b: '2' } }), 'me', applyOpts(t0));
    const labelled = updateManagedFields(created, { ...created, metadata: { ...created.metadata, labels: { a: '1', b: '2', c: '3' } } }, { manager: 'kubectl-label', apiVersion: 'apps/v1', schema: deploymentSchema, now: t1 });
    const after = applyOk(labelled, deployment({ replicas: 1 }, { labels: { a: '1' } }), 'me', applyOpts(t2));
    assert.deepEqual(after.metadata.labels, { a: '1', c: '3' });
  });

  test('list-map items merge by key; each applier keeps its own container', () => {
    const base = applyOk(null, nginxConfig(), 'app', applyOpts(t0));
    const sidecar = deployment({ template: { spec: { containers: [{ name: 'proxy', image: 'envoy:1' }] } } });
    const both = applyOk(base, sidecar, 'mesh', applyOpts(t1));
    assert.deepEqual(both.spec.template.spec.containers.map((c: { name: string }) => c.name), ['nginx', 'proxy']);
    assert.equal(both.spec.template.spec.containers[0].image, 'nginx:1.25');

    // The app changes its image and drops nothing else: the sidecar is untouched.
    const config = nginxConfig();
    config.spec.template.spec.containers[0].image = 'nginx:1.26';
    const updated = applyOk(both, config, 'app', applyOpts(t2));
    assert.deepEqual(updated.spec.template.spec.containers.map((c: { image: string }) => c.image), ['nginx:1.26', 'envoy:1']);

    // The mesh removes its sidecar from its configuration: the item goes.
    const withoutSidecar = applyOk(updated, nameOnly(), 'mesh', applyOpts(t2));
    assert.deepEqual(withoutSidecar.spec.template.spec.containers.map((c: { name: string }) => c.name), ['nginx']);
  });

  test('changing another applier\'s container field conflicts with the Apply manager', () => {
    const base = applyOk(null, nginxConfig(), 'app', applyOpts(t0));
    const result = applyServerSide(base, deployment({ template: { spec: { containers: [{ name: 'nginx', image: 'nginx:evil' }] } } }), 'other', applyOpts(t1));
    assert.deepEqual(result.conflicts?.map((c) => c.field), ['.spec.template.spec.containers[name="nginx"].image']);
    assert.equal(conflictMessage(result.conflicts!), 'Apply failed with 1 conflict: conflict with "app": .spec.template.spec.containers[name="nginx"].image');
  });

  test('an item kept for another manager keeps its key fields', () => {
    const opts = applyOpts(t0, { schema: serviceSchema, apiVersion: 'v1' });
    const service = (ports: unknown[]): KubeObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { ports } });
    const first = applyOk(null, service([{ port: 80, protocol: 'TCP', targetPort: 8080 }]), 'one', opts);
    const second = applyOk(first, service([{ port: 80, protocol: 'TCP', name: 'http' }]), 'two', opts);
    const dropped = applyOk(second, service([]), 'one', opts);
    assert.deepEqual(dropped.spec.ports, [{ port: 80, protocol: 'TCP', name: 'http' }]);

    // An updater that only named the port: the item stays whole enough to be found again.
    const named = structuredClone(first);
    named.spec.ports[0].name = 'web';
    const edited = updateManagedFields(first, named, { manager: 'kubectl-edit', apiVersion: 'v1', schema: serviceSchema, now: t1 });
    const abandoned = applyOk(edited, service([]), 'one', opts);
    assert.deepEqual(abandoned.spec.ports, [{ port: 80, protocol: 'TCP', name: 'web' }]);
  });

  test('an item another manager still has fields in is kept when its applier drops it', () => {
    const base = applyOk(null, nginxConfig(), 'app', applyOpts(t0));
    const withEnv = applyOk(base, deployment({ template: { spec: { containers: [{ name: 'nginx', env: [{ name: 'X', value: '1' }] }] } } }), 'injector', applyOpts(t1));
    const dropped = applyOk(withEnv, deployment({ replicas: 2 }), 'app', applyOpts(t2));
    assert.deepEqual(dropped.spec.template.spec.containers, [{ name: 'nginx', env: [{ name: 'X', value: '1' }] }]);
  });

  test('sets (finalizers) merge by value and drop only what the applier owned', () => {
    const opts = applyOpts(t0, { schema: podSchema, apiVersion: 'v1' });
    const pod = (finalizers: string[]): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', finalizers } });
    const first = applyOk(null, pod(['a.io/x']), 'one', opts);
    const second = applyOk(first, pod(['b.io/y']), 'two', opts);
    assert.deepEqual(second.metadata.finalizers, ['a.io/x', 'b.io/y']);
    assert.deepEqual(entry(second, 'two')?.fieldsV1, { 'f:metadata': { 'f:finalizers': { 'v:"b.io/y"': {} } } });
    const third = applyOk(second, pod([]), 'one', opts);
    assert.deepEqual(third.metadata.finalizers, ['b.io/y']);
  });

  test('atomic lists and atomic maps are owned whole', () => {
    const opts = applyOpts(t0, { schema: podSchema, apiVersion: 'v1' });
    const pod = (spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec });
    const first = applyOk(null, pod({ tolerations: [{ key: 'a', operator: 'Exists' }], nodeSelector: { disk: 'ssd' } }), 'one', opts);
    assert.deepEqual(entry(first, 'one')?.fieldsV1, { 'f:spec': { 'f:nodeSelector': {}, 'f:tolerations': {} } });
    const result = applyServerSide(first, pod({ tolerations: [{ key: 'b', operator: 'Exists' }], nodeSelector: { zone: 'z' } }), 'two', opts);
    assert.deepEqual(result.conflicts?.map((c) => c.field), ['.spec.nodeSelector', '.spec.tolerations']);
    assert.equal(conflictMessage(result.conflicts!), 'Apply failed with 2 conflicts: conflicts with "one":\n- .spec.nodeSelector\n- .spec.tolerations');
    const forced = applyOk(first, pod({ tolerations: [{ key: 'b', operator: 'Exists' }], nodeSelector: { zone: 'z' } }), 'two', { ...opts, force: true });
    assert.deepEqual(forced.spec, { tolerations: [{ key: 'b', operator: 'Exists' }], nodeSelector: { zone: 'z' } });
    assert.equal(entry(forced, 'one'), undefined);
  });

  test('without a schema, maps are granular and lists atomic', () => {
    const opts: ApplyOptions = { force: false, apiVersion: 'example.com/v1', now: t0 };
    const cr = (spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, spec });
    const first = applyOk(null, cr({ size: 1, items: [1, 2], nested: { a: 1 } }), 'one', opts);
    const second = applyOk(first, cr({ nested: { b: 2 } }), 'two', opts);
    assert.deepEqual(second.spec, { size: 1, items: [1, 2], nested: { a: 1, b: 2 } });
    const conflict = applyServerSide(second, cr({ items: [3] }), 'two', opts);
    assert.deepEqual(conflict.conflicts?.map((c) => c.field), ['.spec.items']);
  });

  test('list items follow the applied order; items only the live list has keep their place', () => {
    const opts = applyOpts(t0, { schema: podSchema, apiVersion: 'v1' });
    const pod = (names: string[]): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: names.map((name) => ({ name })) } });
    const first = applyOk(null, pod(['a', 'b']), 'one', opts);
    const second = applyOk(first, pod(['x']), 'two', opts);
    assert.deepEqual(second.spec.containers.map((c: { name: string }) => c.name), ['a', 'b', 'x']);
    const reordered = applyOk(second, pod(['b', 'a']), 'one', opts);
    // Kubernetes' merge: shared items follow the applied order, `x` keeps its place after `b`.
    assert.deepEqual(reordered.spec.containers.map((c: { name: string }) => c.name), ['b', 'x', 'a']);
  });

  test('Service ports: a key left to its default (protocol TCP) names the defaulted live item', () => {
    const opts = applyOpts(t0, { schema: serviceSchema, apiVersion: 'v1' });
    const service = (ports: unknown[]): KubeObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { selector: { app: 'web' }, ports } });
    const created = applyOk(null, service([{ port: 80, targetPort: 8080 }]), 'kubectl', opts);
    // The server defaults protocol and allocates a cluster IP in the same request: nobody owns them.
    const stored = structuredClone(created);
    stored.spec.ports[0].protocol = 'TCP';
    stored.spec.clusterIP = '10.0.0.10';
    const fields = JSON.stringify(entry(stored, 'kubectl')?.fieldsV1);
    assert.ok(fields.includes('k:{\\"port\\":80,\\"protocol\\":\\"TCP\\"}'), fields);

    const changed = applyOk(stored, service([{ port: 80, targetPort: 9090 }, { port: 443, targetPort: 8443, name: 'https' }]), 'kubectl', applyOpts(t1, { schema: serviceSchema, apiVersion: 'v1' }));
    assert.deepEqual(changed.spec.ports, [{ port: 80, targetPort: 9090, protocol: 'TCP' }, { port: 443, targetPort: 8443, name: 'https' }]);
    assert.equal(changed.spec.clusterIP, '10.0.0.10');

    const dropped = applyOk(changed, service([{ port: 443, targetPort: 8443, name: 'https' }]), 'kubectl', applyOpts(t2, { schema: serviceSchema, apiVersion: 'v1' }));
    assert.deepEqual(dropped.spec.ports, [{ port: 443, targetPort: 8443, name: 'https' }]);
  });

  test('ConfigMap: data keys are granular', () => {
    const opts = applyOpts(t0, { schema: configMapSchema, apiVersion: 'v1' });
    const cm = (data: Record<string, string>): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data });
    const first = applyOk(null, cm({ a: '1', b: '2' }), 'kubectl', opts);
    const edited = updateManagedFields(first, { ...first, data: { ...first.data, c: '3' } }, { manager: 'kubectl-edit', apiVersion: 'v1', schema: configMapSchema, now: t1 });
    const result = applyOk(edited, cm({ a: '10' }), 'kubectl', applyOpts(t2, { schema: configMapSchema, apiVersion: 'v1' }));
    assert.deepEqual(result.data, { a: '10', c: '3' });
    const conflict = applyServerSide(result, cm({ a: '10', c: '4' }), 'kubectl', applyOpts(t2, { schema: configMapSchema, apiVersion: 'v1' }));
    assert.equal(conflictMessage(conflict.conflicts!), 'Apply failed with 1 conflict: conflict with "kubectl-edit" using v1: .data.c');
  });

  test('status applied through the status subresource is owned separately', () => {
    const opts = applyOpts(t0, { schema: deploymentSchema });
    const created = applyOk(null, nginxConfig(), 'kubectl', opts);
    const withStatus = applyOk(created, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, status: { replicas: 2 } } as KubeObject, 'controller', { ...opts, subresource: 'status' });
    assert.deepEqual(withStatus.status, { replicas: 2 });
    const controller = withStatus.metadata.managedFields!.find((e) => e.manager === 'controller');
    assert.equal(controller?.subresource, 'status');
    assert.deepEqual(controller?.fieldsV1, { 'f:status': { 'f:replicas': {} } });
  });

  test('a configuration carrying managedFields is refused', () => {
    assert.throws(() => applyServerSide(null, { ...nameOnly(), metadata: { name: 'web', managedFields: [{ manager: 'x' }] } }, 'kubectl', applyOpts(t0)), /managedFields must be nil/);
  });

  test('kubectl --server-side takes over fields client-side apply set, unless they drifted', () => {
    const lastApplied = JSON.stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' }, spec: { replicas: 2, template: { metadata: { labels: { app: 'web' } } } } });
    const csaObject = deployment({ replicas: 2, template: { metadata: { labels: { app: 'web' } } } }, { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': lastApplied } });
    const live = updateManagedFields(null, csaObject, { manager: 'kubectl-client-side-apply', apiVersion: 'apps/v1', schema: deploymentSchema, now: t0 });

    const upgraded = applyOk(live, deployment({ replicas: 4, template: { metadata: { labels: { app: 'web' } } } }), 'kubectl', applyOpts(t1));
    assert.equal(upgraded.spec.replicas, 4);
    assert.ok(!JSON.stringify(entry(upgraded, 'kubectl-client-side-apply', 'Update')?.fieldsV1 ?? {}).includes('f:replicas'));

    // Another manager name does not inherit the annotation's fields.
    const other = applyServerSide(live, deployment({ replicas: 4 }), 'helm', applyOpts(t1));
    assert.equal(conflictMessage(other.conflicts!), 'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas');

    // A value changed since the last client-side apply (someone scaled) still conflicts.
    const scaled = updateManagedFields(live, { ...live, spec: { ...live.spec, replicas: 7 } }, { manager: 'kubectl-client-side-apply', apiVersion: 'apps/v1', schema: deploymentSchema, now: t1 });
    const drifted = applyServerSide(scaled, deployment({ replicas: 4 }), 'kubectl', applyOpts(t2));
    assert.equal(conflictMessage(drifted.conflicts!), 'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas');
  });

  test('objects written before any apply belong to before-first-apply', () => {
    const live = { ...nginxConfig(), metadata: { name: 'web', namespace: 'default', uid: 'u1', resourceVersion: '7' } };
    const result = applyServerSide(live, deployment({ replicas: 9 }), 'kubectl', applyOpts(t1));
    assert.equal(conflictMessage(result.conflicts!), 'Apply failed with 1 conflict: conflict with "before-first-apply" using apps/v1: .spec.replicas');
    const sameValue = applyOk(live, deployment({ replicas: 2 }), 'kubectl', applyOpts(t1));
    assert.equal(sameValue.metadata.uid, 'u1');
    assert.deepEqual(sameValue.metadata.managedFields?.map((e) => `${e.manager}/${e.operation}`), ['kubectl/Apply', 'before-first-apply/Update']);
  });
});

describe('updateManagedFields', () => {
  const opts = (manager: string, now: string, extra: Record<string, unknown> = {}) => ({ manager, apiVersion: 'v1', schema: podSchema, now, ...extra });
  const pod: KubeObject = {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: 'p', namespace: 'default', labels: { app: 'x' } },
    spec: { containers: [{ name: 'c', image: 'busybox' }] },
  };

  test('create records every field for the creator', () => {
    const created = updateManagedFields(null, pod, opts('kubectl-create', t0));
    assert.deepEqual(created.metadata.managedFields, [{
      manager: 'kubectl-create', operation: 'Update', apiVersion: 'v1', time: t0, fieldsType: 'FieldsV1',
      fieldsV1: {
        'f:metadata': { 'f:labels': { 'f:app': {} } },
        'f:spec': { 'f:containers': { 'k:{"name":"c"}': { '.': {}, 'f:image': {}, 'f:name': {} } } },
      },
    }]);
  });

  test('an update takes changed fields; a no-op update records nothing', () => {
    const created = updateManagedFields(null, pod, opts('kubectl-create', t0));
    const changed = structuredClone(created);
    changed.spec.containers[0].image = 'busybox:2';
    const updated = updateManagedFields(created, changed, opts('editor', t1));
    assert.deepEqual(entry(updated, 'editor', 'Update')?.fieldsV1, { 'f:spec': { 'f:containers': { 'k:{"name":"c"}': { 'f:image': {} } } } });
    assert.ok(!JSON.stringify(entry(updated, 'kubectl-create', 'Update')?.fieldsV1).includes('f:image'));
    assert.equal(entry(updated, 'kubectl-create', 'Update')?.time, t1, 'losing a field is a change to the entry');

    const noop = updateManagedFields(updated, structuredClone(updated), opts('somebody', t2));
    assert.deepEqual(noop.metadata.managedFields, updated.metadata.managedFields);
  });

  test('entries are kept per apiVersion and per subresource', () => {
    const created = updateManagedFields(null, pod, opts('ctl', t0));
    const v2 = structuredClone(created);
    v2.metadata.labels!.extra = 'y';
    const afterBeta = updateManagedFields(created, v2, opts('ctl', t1, { apiVersion: 'v1beta1' }));
    assert.deepEqual(afterBeta.metadata.managedFields?.map((e) => e.apiVersion), ['v1', 'v1beta1']);

    const withStatus = structuredClone(afterBeta);
    withStatus.status = { phase: 'Running' };
    const statusUpdate = updateManagedFields(afterBeta, withStatus, opts('kubelet', t2, { subresource: 'status' }));
    const kubelet = entry(statusUpdate, 'kubelet', 'Update');
    assert.equal(kubelet?.subresource, 'status');
    assert.deepEqual(kubelet?.fieldsV1, { 'f:status': { 'f:phase': {} } });
  });

  test('removed fields leave every manager\'s set', () => {
    const created = updateManagedFields(null, pod, opts('ctl', t0));
    const unlabelled = structuredClone(created);
    delete unlabelled.metadata.labels;
    const updated = updateManagedFields(created, unlabelled, opts('other', t1));
    assert.deepEqual(entry(updated, 'ctl', 'Update')?.fieldsV1, { 'f:spec': { 'f:containers': { 'k:{"name":"c"}': { '.': {}, 'f:image': {}, 'f:name': {} } } } });
    assert.equal(entry(updated, 'other', 'Update'), undefined);
  });

  test('at most ten Update entries: the oldest fold into ancient-changes', () => {
    let object = updateManagedFields(null, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: {} }, opts('creator', '2026-01-01T00:00:00Z'));
    for (let i = 0; i < 12; i++) {
      const next = structuredClone(object);
      next.data[`k${i}`] = 'v';
      object = updateManagedFields(object, next, opts(`writer-${i}`, `2026-01-01T00:${String(10 + i)}:00Z`));
    }
    const managers = object.metadata.managedFields!.map((e) => e.manager);
    assert.equal(managers.length, 10);
    assert.ok(managers.includes('ancient-changes'));
    assert.ok(managers.includes('writer-11'));
    assert.ok(!managers.includes('writer-0'));
    // Nothing is forgotten: every written key is still owned by someone.
    const owned = object.metadata.managedFields!.flatMap((e) => Object.keys((e.fieldsV1!['f:data'] ?? {}) as object));
    for (let i = 0; i < 12; i++) assert.ok(owned.includes(`f:k${i}`), `k${i}`);
  });

  test('managedFields: [{}] clears ownership', () => {
    const created = updateManagedFields(null, pod, opts('ctl', t0));
    const reset = updateManagedFields(created, { ...created, metadata: { ...created.metadata, managedFields: [{}] } }, opts('ctl', t1));
    assert.equal(reset.metadata.managedFields, undefined);
  });
});

describe('FieldSet', () => {
  test('FieldsV1 round-trips, including items that are members with children', () => {
    const fields = {
      'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
      'f:spec': { 'f:containers': { 'k:{"name":"a"}': { '.': {}, 'f:image': {} } }, 'f:replicas': {} },
    };
    const set = FieldSet.fromFieldsV1(fields);
    assert.equal(set.has(['f:metadata', 'f:labels']), true);
    assert.equal(set.has(['f:metadata']), false);
    assert.deepEqual(set.toFieldsV1(), fields);
  });

  test('set algebra', () => {
    const a = FieldSet.fromPaths([['f:a'], ['f:b', 'f:c'], ['f:b', 'f:d']]);
    const b = FieldSet.fromPaths([['f:b', 'f:c'], ['f:e']]);
    assert.deepEqual(a.difference(b).paths(), [['f:a'], ['f:b', 'f:d']]);
    assert.deepEqual(a.intersection(b).paths(), [['f:b', 'f:c']]);
    assert.equal(a.union(b).paths().length, 4);
  });

  test('paths print as Kubernetes prints them', () => {
    assert.equal(formatFieldPath(['f:spec', 'f:ports', 'k:{"port":80,"protocol":"TCP"}', 'f:targetPort']), '.spec.ports[port=80,protocol="TCP"].targetPort');
    assert.equal(formatFieldPath(['f:metadata', 'f:finalizers', 'v:"a.io/x"']), '.metadata.finalizers[="a.io/x"]');
  });
});
