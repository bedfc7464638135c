import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/types.js';
import { desiredManagedTaints, evictionTime, reconcileTaints, tolerates, type Taint } from './taints.js';

const t0 = Date.parse('2026-01-01T00:00:00Z');
const unreachable: Taint = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: '2026-01-01T00:00:00Z' };
const podWith = (tolerations?: unknown[]) => ({ metadata: {}, spec: { tolerations } }) as KubeObject;

describe('taints and tolerations', () => {
  test('toleration matching (Kubernetes ToleratesTaint)', () => {
    const taint: Taint = { key: 'k', value: 'v', effect: 'NoExecute' };
    assert.equal(tolerates({ key: 'k', operator: 'Equal', value: 'v' }, taint), true);
    assert.equal(tolerates({ key: 'k', value: 'v' }, taint), true, 'operator defaults to Equal');
    assert.equal(tolerates({ key: 'k', operator: 'Equal', value: 'w' }, taint), false);
    assert.equal(tolerates({ key: 'k', operator: 'Exists' }, taint), true);
    assert.equal(tolerates({ operator: 'Exists' }, taint), true, 'empty key with Exists tolerates everything');
    assert.equal(tolerates({ key: 'k', operator: 'Exists', effect: 'NoSchedule' }, taint), false);
  });

  test('eviction time: untolerated at once, tolerationSeconds from timeAdded, no seconds never', () => {
    assert.equal(evictionTime(podWith(), [unreachable], t0 + 5000), t0 + 5000);
    assert.equal(evictionTime(podWith([{ key: unreachable.key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }]), [unreachable], t0 + 5000), t0 + 300_000);
    assert.equal(evictionTime(podWith([{ key: unreachable.key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: -5 }]), [unreachable], t0 + 5000), t0);
    assert.equal(evictionTime(podWith([{ operator: 'Exists' }]), [unreachable], t0), undefined);
    assert.equal(evictionTime(podWith(), [{ key: 'x', effect: 'NoSchedule' }], t0), undefined, 'NoSchedule never evicts');
    // Two taints: the earliest deadline wins; one tolerated forever does not save the pod from the other.
    const other: Taint = { key: 'dedicated', effect: 'NoExecute', timeAdded: '2026-01-01T00:01:00Z' };
    assert.equal(evictionTime(podWith([{ key: unreachable.key, operator: 'Exists' }, { key: 'dedicated', operator: 'Exists', tolerationSeconds: 10 }]), [unreachable, other], t0), t0 + 70_000);
  });

  test('managed taints follow conditions and cordon; user taints and timeAdded are kept', () => {
    const node = (ready: string, unschedulable = false, extra: unknown[] = []) => ({ metadata: {}, spec: { unschedulable }, status: { conditions: [{ type: 'Ready', status: ready }, ...extra] } }) as KubeObject;
    assert.deepEqual(desiredManagedTaints(node('True')), []);
    assert.deepEqual(desiredManagedTaints(node('False')).map((t) => `${t.key}:${t.effect}`), ['node.kubernetes.io/not-ready:NoSchedule', 'node.kubernetes.io/not-ready:NoExecute']);
    assert.deepEqual(desiredManagedTaints(node('True', true, [{ type: 'DiskPressure', status: 'True' }])).map((t) => `${t.key}:${t.effect}`), ['node.kubernetes.io/disk-pressure:NoSchedule', 'node.kubernetes.io/unschedulable:NoSchedule']);
    const user: Taint = { key: 'dedicated', value: 'db', effect: 'NoExecute' };
    const now = '2026-01-01T00:05:00Z';
    assert.equal(reconcileTaints([user, unreachable, { key: unreachable.key, effect: 'NoSchedule' }], desiredManagedTaints(node('Unknown')), now), undefined);
    assert.deepEqual(reconcileTaints([user, unreachable], [], now), [user]);
    assert.deepEqual(reconcileTaints([user], [{ key: unreachable.key, effect: 'NoExecute' }], now), [user, { ...unreachable, timeAdded: now }]);
  });
});
