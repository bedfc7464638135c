// The binder and the local-path provisioner against a real in-process API server.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { KubeObject } from '../../api/types.js';
import { podsResource } from '../framework/resources.js';
import { eventsFor, eventually, startHarness, type Harness } from '../testing.js';
import { createPersistentVolumeBinder } from './binder.js';
import { defaultStorageClassAdmission } from './default-storage-class.js';
import { createLocalPathProvisioner, localDirectoryRemover, localPathStorageClass, type LocalPathDirectories } from './local-path.js';
import { nodesResource, persistentVolumeClaimsResource, persistentVolumesResource, storageClassesResource } from './resources.js';

function volume(name: string, size: string, extra: Record<string, any> = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name },
    spec: { capacity: { storage: size }, accessModes: ['ReadWriteOnce'], hostPath: { path: `/srv/${name}` }, ...extra },
  } as KubeObject;
}

function claim(name: string, size: string, extra: Record<string, any> = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name, namespace: 'default' },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: size } }, ...extra },
  } as KubeObject;
}

async function withVolumeControllers(fn: (h: Harness) => Promise<void>, directories?: LocalPathDirectories, basePath?: string): Promise<void> {
  const h = await startHarness();
  try {
    const deps = { client: h.client, informerFactory: h.factory, clock: h.clock, recorder: h.recorder };
    await h.start(createPersistentVolumeBinder(deps), createLocalPathProvisioner({ ...deps, directories, basePath }));
    await fn(h);
  } finally {
    await h.close();
  }
}

const pvs = (h: Harness) => h.client.resource(persistentVolumesResource);
const pvcs = (h: Harness) => h.client.resource(persistentVolumeClaimsResource);

async function waitForPhase(h: Harness, kind: 'pv' | 'pvc', name: string, phase: string): Promise<KubeObject> {
  return eventually(
    h.clock,
    async () => {
      const obj = kind === 'pv' ? await pvs(h).get(undefined, name) : await pvcs(h).get('default', name);
      return obj.status?.phase === phase ? obj : false;
    },
    `${kind} ${name} ${phase}`,
  );
}

describe('persistentvolume binder', () => {
  test('binds a claim to the smallest Available volume that fits, on both sides', () =>
    withVolumeControllers(async (h) => {
      await pvs(h).create(undefined, volume('small', '1Gi'));
      await pvs(h).create(undefined, volume('medium', '5Gi'));
      await pvs(h).create(undefined, volume('large', '10Gi'));
      await pvs(h).create(undefined, volume('rwx-only', '3Gi', { accessModes: ['ReadWriteMany'] }));
      await waitForPhase(h, 'pv', 'large', 'Available');
      await pvcs(h).create('default', claim('data', '2Gi', { storageClassName: '' }));
      const bound = await waitForPhase(h, 'pvc', 'data', 'Bound');
      assert.equal(bound.spec.volumeName, 'medium');
      assert.deepEqual(bound.status.capacity, { storage: '5Gi' });
      assert.deepEqual(bound.status.accessModes, ['ReadWriteOnce']);
      assert.equal(bound.metadata.annotations?.['pv.kubernetes.io/bind-completed'], 'yes');
      assert.equal(bound.metadata.annotations?.['pv.kubernetes.io/bound-by-controller'], 'yes');
      const pv = await waitForPhase(h, 'pv', 'medium', 'Bound');
      assert.equal(pv.spec.claimRef.name, 'data');
      assert.equal(pv.spec.claimRef.namespace, 'default');
      assert.equal(pv.spec.claimRef.uid, bound.metadata.uid);
      assert.equal(pv.metadata.annotations?.['pv.kubernetes.io/bound-by-controller'], 'yes');
      assert.equal((await pvs(h).get(undefined, 'small')).status.phase, 'Available');
    }));

  test('honours a volume pre-bound by claimRef and a claim naming its volume', () =>
    withVolumeControllers(async (h) => {
      await pvs(h).create(undefined, volume('reserved', '20Gi', { claimRef: { namespace: 'default', name: 'wants-reserved' } }));
      await pvs(h).create(undefined, volume('exact', '1Gi'));
      await pvs(h).create(undefined, volume('named', '2Gi'));
      await waitForPhase(h, 'pv', 'named', 'Available');
      await pvcs(h).create('default', claim('wants-reserved', '1Gi', { storageClassName: '' }));
      await pvcs(h).create('default', claim('wants-named', '1Gi', { storageClassName: '', volumeName: 'named' }));
      const a = await waitForPhase(h, 'pvc', 'wants-reserved', 'Bound');
      assert.equal(a.spec.volumeName, 'reserved');
      const b = await waitForPhase(h, 'pvc', 'wants-named', 'Bound');
      assert.equal(b.spec.volumeName, 'named');
      // The user chose the volume: the controller did not.
      assert.equal(b.metadata.annotations?.['pv.kubernetes.io/bound-by-controller'], undefined);
      assert.equal((await pvs(h).get(undefined, 'reserved')).metadata.annotations?.['pv.kubernetes.io/bound-by-controller'], undefined);
      assert.equal((await pvs(h).get(undefined, 'exact')).status.phase, 'Available');
    }));

  test('a claim with no class and no volume waits with FailedBinding, then binds when a volume appears', () =>
    withVolumeControllers(async (h) => {
      await pvcs(h).create('default', claim('lonely', '1Gi', { storageClassName: '' }));
      await eventually(
        h.clock,
        async () => (await eventsFor(h.client, 'default', 'lonely')).some((e) => e.reason === 'FailedBinding' && e.message === 'no persistent volumes available for this claim and no storage class is set'),
        'FailedBinding event',
      );
      assert.equal((await pvcs(h).get('default', 'lonely')).status.phase, 'Pending');
      await pvs(h).create(undefined, volume('late', '1Gi'));
      assert.equal((await waitForPhase(h, 'pvc', 'lonely', 'Bound')).spec.volumeName, 'late');
    }));

  test('deleting the claim releases the volume; Retain keeps it Released, Delete removes it', () =>
    withVolumeControllers(async (h) => {
      await pvs(h).create(undefined, volume('kept', '1Gi', { storageClassName: 'manual', persistentVolumeReclaimPolicy: 'Retain' }));
      await pvs(h).create(undefined, volume('dropped', '1Gi', { storageClassName: 'scratch', persistentVolumeReclaimPolicy: 'Delete' }));
      await waitForPhase(h, 'pv', 'dropped', 'Available');
      await pvcs(h).create('default', claim('keep-me', '1Gi', { storageClassName: 'manual' }));
      await pvcs(h).create('default', claim('drop-me', '1Gi', { storageClassName: 'scratch' }));
      await waitForPhase(h, 'pvc', 'keep-me', 'Bound');
      await waitForPhase(h, 'pvc', 'drop-me', 'Bound');
      await waitForPhase(h, 'pv', 'dropped', 'Bound');
      await pvcs(h).delete('default', 'keep-me');
      await pvcs(h).delete('default', 'drop-me');
      const released = await waitForPhase(h, 'pv', 'kept', 'Released');
      assert.equal(released.spec.claimRef.name, 'keep-me', 'a Released volume still names its old claim');
      await eventually(h.clock, () => pvs(h).get(undefined, 'dropped').then(() => false, () => true), 'Delete volume removed');
      // Retain: stays Released however long we wait, and a new claim of the same name does not get it.
      await pvcs(h).create('default', claim('keep-me', '1Gi', { storageClassName: 'manual' }));
      await h.clock.advance(60_000);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal((await pvs(h).get(undefined, 'kept')).status.phase, 'Released');
      assert.equal((await pvcs(h).get('default', 'keep-me')).status.phase, 'Pending');
    }));
});

describe('local-path provisioner', () => {
  test('provisions a volume on the node of the first consumer, then removes it on release', async () => {
    const removed: { node: string; directory: string }[] = [];
    const directories: LocalPathDirectories = {
      async remove(node, directory) {
        removed.push({ node, directory });
        return 'removed';
      },
    };
    await withVolumeControllers(
      async (h) => {
        await h.client.resource(storageClassesResource).create(undefined, localPathStorageClass());
        await h.client.resource(nodesResource).create(undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1', labels: { 'kubernetes.io/hostname': 'node-1' } } } as KubeObject);
        const created = await pvcs(h).create('default', claim('db', '3Gi', { storageClassName: 'local-path' }));
        await eventually(h.clock, async () => (await eventsFor(h.client, 'default', 'db')).some((e) => e.reason === 'WaitForFirstConsumer'), 'WaitForFirstConsumer event');
        assert.equal((await pvcs(h).list()).items.length, 1);
        assert.equal((await pvs(h).list()).items.length, 0, 'nothing provisioned before a consumer exists');

        await h.client.resource(podsResource).create('default', {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'db-0', namespace: 'default' },
          spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'busybox' }], volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'db' } }] },
        } as KubeObject);
        const bound = await waitForPhase(h, 'pvc', 'db', 'Bound');
        const volumeName = `pvc-${created.metadata.uid}`;
        assert.equal(bound.spec.volumeName, volumeName);
        assert.equal(bound.metadata.annotations?.['volume.kubernetes.io/selected-node'], 'node-1');
        assert.equal(bound.metadata.annotations?.['volume.kubernetes.io/storage-provisioner'], 'navarch.io/local-path');
        const pv = await waitForPhase(h, 'pv', volumeName, 'Bound');
        assert.deepEqual(pv.spec.hostPath, { path: `/tmp/navarch-test-storage/pvc-${created.metadata.uid}_default_db`, type: 'DirectoryOrCreate' });
        assert.deepEqual(pv.spec.nodeAffinity.required.nodeSelectorTerms, [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['node-1'] }] }]);
        assert.equal(pv.spec.persistentVolumeReclaimPolicy, 'Delete');
        assert.equal(pv.spec.storageClassName, 'local-path');
        assert.deepEqual(pv.spec.capacity, { storage: '3Gi' });
        assert.equal(pv.metadata.annotations?.['pv.kubernetes.io/provisioned-by'], 'navarch.io/local-path');
        const reasons = (await eventsFor(h.client, 'default', 'db')).map((e) => e.reason);
        assert.ok(reasons.includes('ProvisioningSucceeded'), reasons.join(','));

        await h.client.resource(podsResource).delete('default', 'db-0', { gracePeriodSeconds: 0 });
        await pvcs(h).delete('default', 'db');
        await eventually(h.clock, () => pvs(h).get(undefined, volumeName).then(() => false, () => true), 'released volume deleted');
        assert.deepEqual(removed, [{ node: 'node-1', directory: pv.spec.hostPath.path }]);
      },
      directories,
      '/tmp/navarch-test-storage',
    );
  });

  test('Immediate local-path class without a node reports ProvisioningFailed', () =>
    withVolumeControllers(async (h) => {
      const sc = localPathStorageClass();
      sc.metadata = { name: 'local-now' };
      sc.volumeBindingMode = 'Immediate';
      await h.client.resource(storageClassesResource).create(undefined, sc);
      await pvcs(h).create('default', claim('now', '1Gi', { storageClassName: 'local-now' }));
      await eventually(
        h.clock,
        async () => (await eventsFor(h.client, 'default', 'now')).some((e) => e.reason === 'ProvisioningFailed' && /no node was specified/.test(e.message)),
        'ProvisioningFailed event',
      );
    }));

  test('localDirectoryRemover removes only its own directories on local nodes', async () => {
    const base = await mkdtemp(path.join(tmpdir(), 'local-path-'));
    try {
      const remover = localDirectoryRemover({ localNodeNames: ['here'], basePath: base });
      const dir = path.join(base, 'pvc-123_default_db');
      await mkdir(path.join(dir, 'nested'), { recursive: true });
      assert.equal(await remover.remove('elsewhere', dir), 'not-local');
      assert.equal(await remover.remove('here', path.join(base, '..', 'pvc-x')), 'not-local');
      assert.equal(await remover.remove('here', path.join(base, 'not-a-volume')), 'not-local');
      assert.ok(await stat(dir));
      assert.equal(await remover.remove('here', dir), 'removed');
      await assert.rejects(stat(dir));
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });
});

test('DefaultStorageClass admission fills in the default class, keeping an explicit ""', async () => {
  const h = await startHarness();
  try {
    const api = h.server.api;
    api.admission.add(defaultStorageClassAdmission({ resources: () => api.resources, registry: () => api.registry }));
    const noDefault = await pvcs(h).create('default', claim('before', '1Gi'));
    assert.equal(noDefault.spec.storageClassName, undefined, 'no default class yet');
    await h.client.resource(storageClassesResource).create(undefined, localPathStorageClass());
    assert.equal((await pvcs(h).create('default', claim('defaulted', '1Gi'))).spec.storageClassName, 'local-path');
    assert.equal((await pvcs(h).create('default', claim('explicit-none', '1Gi', { storageClassName: '' }))).spec.storageClassName, '');
    assert.equal((await pvcs(h).create('default', claim('other', '1Gi', { storageClassName: 'fast' }))).spec.storageClassName, 'fast');
  } finally {
    await h.close();
  }
});
