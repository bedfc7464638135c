import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApiServer } from './testing.js';

const podsRef = { group: '', version: 'v1', resource: 'pods', namespaced: true, kind: 'Pod' };
const rcRef = { group: 'node.k8s.io', version: 'v1', resource: 'runtimeclasses', namespaced: false, kind: 'RuntimeClass' };

const pod = (name: string, spec: Record<string, unknown> = {}) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', image: 'busybox' }], ...spec } });

test('RuntimeClass admission: existence, overhead, scheduling', async () => {
  const server = await startTestApiServer();
  try {
    const pods = server.client.resource(podsRef);
    const classes = server.client.resource(rcRef);
    await classes.create(undefined, {
      apiVersion: 'node.k8s.io/v1', kind: 'RuntimeClass', metadata: { name: 'sandboxed' }, handler: 'kata',
      overhead: { podFixed: { cpu: '250m', memory: '120Mi' } },
      scheduling: { nodeSelector: { 'runtime/kata': 'yes' }, tolerations: [{ key: 'kata', operator: 'Exists', effect: 'NoSchedule' }] },
    } as any);
    await classes.create(undefined, { apiVersion: 'node.k8s.io/v1', kind: 'RuntimeClass', metadata: { name: 'plain' }, handler: 'runc' } as any);

    // Missing class: Kubernetes' 403 and message.
    await assert.rejects(pods.create('default', pod('lost', { runtimeClassName: 'nosuch' })), (e: any) => {
      assert.equal(e.code, 403);
      assert.equal(e.message, 'pods "lost" is forbidden: pod rejected: RuntimeClass "nosuch" not found');
      return true;
    });

    // Overhead copied, nodeSelector merged, tolerations appended (once).
    const created: any = await pods.create('default', pod('fast', {
      runtimeClassName: 'sandboxed', nodeSelector: { disk: 'ssd' },
      tolerations: [{ key: 'other', operator: 'Exists' }, { key: 'kata', operator: 'Exists', effect: 'NoSchedule' }],
    }));
    assert.deepEqual(created.spec.overhead, { cpu: '250m', memory: '120Mi' });
    assert.deepEqual(created.spec.nodeSelector, { disk: 'ssd', 'runtime/kata': 'yes' });
    assert.deepEqual(created.spec.tolerations.filter((t: any) => t.key === 'kata').length, 1);
    assert.ok(created.spec.tolerations.some((t: any) => t.key === 'other'));

    const withClassTolerations: any = await pods.create('default', pod('fresh', { runtimeClassName: 'sandboxed' }));
    assert.ok(withClassTolerations.spec.tolerations.some((t: any) => t.key === 'kata' && t.effect === 'NoSchedule'));
    assert.deepEqual(withClassTolerations.spec.nodeSelector, { 'runtime/kata': 'yes' });

    // The same overhead, written differently, is accepted; a different one is not.
    const same: any = await pods.create('default', pod('same', { runtimeClassName: 'sandboxed', overhead: { cpu: '0.25', memory: '120Mi' } }));
    assert.deepEqual(same.spec.overhead, { cpu: '250m', memory: '120Mi' });
    await assert.rejects(pods.create('default', pod('greedy', { runtimeClassName: 'sandboxed', overhead: { cpu: '1' } })),
      (e: any) => e.code === 403 && e.message === 'pods "greedy" is forbidden: pod rejected: Pod\'s Overhead doesn\'t match RuntimeClass\'s defined Overhead');
    await assert.rejects(pods.create('default', pod('sneaky', { runtimeClassName: 'plain', overhead: { cpu: '1' } })),
      (e: any) => e.code === 403 && /Pod Overhead set without corresponding RuntimeClass defined Overhead/.test(e.message));

    await assert.rejects(pods.create('default', pod('conflict', { runtimeClassName: 'sandboxed', nodeSelector: { 'runtime/kata': 'no' } })),
      (e: any) => e.code === 403 && e.message === 'pods "conflict" is forbidden: conflict: runtimeClass.scheduling.nodeSelector[runtime/kata] = yes; pod.spec.nodeSelector[runtime/kata] = no');

    // A class without overhead or scheduling changes nothing.
    const plain: any = await pods.create('default', pod('plain', { runtimeClassName: 'plain' }));
    assert.equal(plain.spec.overhead, undefined);
    assert.equal(plain.spec.nodeSelector, undefined);
    assert.equal(plain.spec.runtimeClassName, 'plain');
  } finally {
    await server.close();
  }
});
