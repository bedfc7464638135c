// Reclaiming local-path volumes on nodes this process cannot reach: the helper pod, against a
// real in-process API server. No kubelet runs here, so the test reports the pod's outcome as a
// kubelet would.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/types.js';
import { podsResource } from '../framework/resources.js';
import { eventsFor, eventually, setPodPhase, startHarness, type Harness } from '../testing.js';
import { createPersistentVolumeBinder } from './binder.js';
import { createLocalPathProvisioner, helperPod, isVolumeDirectory, localDirectoryRemover, localPathProvisionerName } from './local-path.js';
import { persistentVolumesResource } from './resources.js';

const basePath = '/var/lib/navarch-test/storage';

/** A provisioned volume whose claim is already gone, so the binder releases it at once. */
function releasedVolume(name: string, directory = `${basePath}/${name}_default_data`, node = 'agent-1'): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name, annotations: { 'pv.kubernetes.io/provisioned-by': localPathProvisionerName } },
    spec: {
      capacity: { storage: '1Gi' },
      accessModes: ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: 'Delete',
      storageClassName: 'local-path',
      claimRef: { kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace: 'default', name: 'data', uid: '00000000-0000-0000-0000-000000000001' },
      hostPath: { path: directory, type: 'DirectoryOrCreate' },
      nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] }] } },
    },
  } as KubeObject;
}

async function withProvisioner(fn: (h: Harness) => Promise<void>): Promise<void> {
  const h = await startHarness();
  try {
    const deps = { client: h.client, informerFactory: h.factory, clock: h.clock, recorder: h.recorder };
    // The server's own node is "server-node": every volume below lives on an agent.
    const directories = localDirectoryRemover({ localNodeNames: ['server-node'], basePath });
    await h.start(createPersistentVolumeBinder(deps), createLocalPathProvisioner({ ...deps, basePath, directories }));
    await fn(h);
  } finally {
    await h.close();
  }
}

const pvs = (h: Harness) => h.client.resource(persistentVolumesResource);
const podApi = (h: Harness) => h.client.resource(podsResource);
const helperOf = (h: Harness, pv: string) => podApi(h).get('kube-system', `helper-pod-delete-${pv}`);
const gone = (p: Promise<unknown>) => p.then(() => false, () => true);

describe('local-path reclaim on other nodes', () => {
  test('a helper pod removes the directory on the volume node, then the volume goes', () =>
    withProvisioner(async (h) => {
      const name = 'pvc-11111111-aaaa';
      await pvs(h).create(undefined, releasedVolume(name));
      const pod = await eventually(h.clock, () => helperOf(h, name), 'helper pod');
      assert.equal(pod.spec.nodeName, 'agent-1');
      assert.equal(pod.spec.restartPolicy, 'Never');
      assert.equal(pod.spec.priorityClassName, 'system-node-critical');
      assert.deepEqual(pod.spec.tolerations, [{ operator: 'Exists' }]);
      const [container] = pod.spec.containers;
      assert.equal(container.image, 'busybox');
      assert.equal(container.imagePullPolicy, 'IfNotPresent');
      assert.deepEqual(container.command, ['rm', '-rf', `${basePath}/${name}_default_data`]);
      assert.deepEqual(container.volumeMounts, [{ name: 'data', mountPath: basePath }]);
      assert.deepEqual(pod.spec.volumes, [{ name: 'data', hostPath: { path: basePath, type: 'DirectoryOrCreate' } }]);
      assert.equal((await pvs(h).get(undefined, name)).status.phase, 'Released', 'the volume stays until its directory is gone');

      await setPodPhase(h.client, pod, 'Succeeded');
      await eventually(h.clock, () => gone(pvs(h).get(undefined, name)), 'volume deleted');
      await eventually(h.clock, () => gone(helperOf(h, name)), 'helper pod deleted');
    }));

  test('a failed helper pod: VolumeFailedDelete on the volume, which stays Released, then a retry after backoff', () =>
    withProvisioner(async (h) => {
      const name = 'pvc-22222222-bbbb';
      await pvs(h).create(undefined, releasedVolume(name));
      const first = await eventually(h.clock, () => helperOf(h, name), 'first helper pod');
      await setPodPhase(h.client, first, 'Failed', { containerStatuses: [{ name: 'helper-pod', state: { terminated: { exitCode: 1, reason: 'Error' } } }] });
      const events = await eventually(h.clock, async () => {
        const found = (await eventsFor(h.client, 'default', name)).filter((e) => e.reason === 'VolumeFailedDelete');
        return found.length > 0 ? found : false;
      }, 'VolumeFailedDelete event');
      assert.equal(events[0]!.type, 'Warning');
      assert.match(events[0]!.message, /helper pod kube-system\/helper-pod-delete-pvc-22222222-bbbb failed \(exit code 1, Error\)/);
      assert.equal((await pvs(h).get(undefined, name)).status.phase, 'Released');

      // Before the backoff runs out no new helper starts; after it, one does.
      await eventually(h.clock, () => gone(helperOf(h, name)), 'failed helper pod deleted');
      const retry = await eventually(h.clock, async () => {
        const pod = await helperOf(h, name);
        return pod.metadata.uid !== first.metadata.uid ? pod : false;
      }, 'second helper pod', { advanceMs: 200 });
      assert.ok(Date.parse(retry.metadata.creationTimestamp!) - Date.parse(first.metadata.creationTimestamp!) >= 2000, 'retried only after backoff');
      await setPodPhase(h.client, retry, 'Succeeded');
      await eventually(h.clock, () => gone(pvs(h).get(undefined, name)), 'volume deleted after the retry');
    }));

  test('a helper pod that never finishes counts as failed after the timeout', () =>
    withProvisioner(async (h) => {
      const name = 'pvc-33333333-cccc';
      await pvs(h).create(undefined, releasedVolume(name));
      await eventually(h.clock, () => helperOf(h, name), 'helper pod');
      await eventually(h.clock, async () => (await eventsFor(h.client, 'default', name)).some((e) => e.reason === 'VolumeFailedDelete' && /did not complete within 120s/.test(e.message)), 'timeout event', { advanceMs: 5000 });
      assert.ok(await pvs(h).get(undefined, name));
    }));

  test('a directory outside the base path is never handed to a helper pod', () =>
    withProvisioner(async (h) => {
      const name = 'pvc-44444444-dddd';
      await pvs(h).create(undefined, releasedVolume(name, '/etc'));
      await eventually(h.clock, async () => (await eventsFor(h.client, 'default', name)).some((e) => e.reason === 'VolumeFailedDelete' && /not a navarch.io\/local-path volume directory/.test(e.message)), 'refusal event');
      assert.equal((await podApi(h).list('kube-system')).items.length, 0);
      assert.equal((await pvs(h).get(undefined, name)).status.phase, 'Released');
    }));
});

test('isVolumeDirectory accepts only pvc-* directly under the base', () => {
  assert.equal(isVolumeDirectory('/base', '/base/pvc-1_ns_name'), true);
  assert.equal(isVolumeDirectory('/base/', '/base/pvc-1_ns_name/'), true);
  assert.equal(isVolumeDirectory('/base', '/base'), false);
  assert.equal(isVolumeDirectory('/base', '/base/pvc-1/../..'), false);
  assert.equal(isVolumeDirectory('/base', '/base/pvc-1/nested'), false);
  assert.equal(isVolumeDirectory('/base', '/base/../pvc-1'), false);
  assert.equal(isVolumeDirectory('/base', '/base/data'), false);
  assert.equal(isVolumeDirectory('/base', '/etc'), false);
});

test('helperPod refuses a directory that is not a volume directory', () => {
  assert.throws(() => helperPod({ action: 'delete', volumeName: 'pv', node: 'n', directory: '/base', basePath: '/base', image: 'busybox' }));
  assert.throws(() => helperPod({ action: 'delete', volumeName: 'pv', node: 'n', directory: '/', basePath: '/base', image: 'busybox' }));
});
