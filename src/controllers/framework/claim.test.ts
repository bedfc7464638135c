// claimPods against a real in-process API server: what is adopted, released or left alone,
// and the guards (owner being deleted, owner replaced, pod changed since it was read).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/types.js';
import { labelSelectorAsSelector } from '../../api/selectors/labels.js';
import { isConflict } from '../../client/errors.js';
import { pods, startHarness, type Harness } from '../testing.js';
import { claimPods, type PodClaim } from './claim.js';

const owner: KubeObject = { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'web', namespace: 'default', uid: 'uid-web' } };
const ownerRef = { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'uid-web', controller: true, blockOwnerDeletion: true };

async function withApi(fn: (h: Harness) => Promise<void>) {
  const h = await startHarness();
  try {
    await fn(h);
  } finally {
    await h.close();
  }
}

const makePod = (h: Harness, name: string, labels: Record<string, string>, ownerReferences?: any[]) =>
  pods(h.client).create('default', { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels, ...(ownerReferences ? { ownerReferences } : {}) }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });

function claimFor(h: Harness, over: Partial<PodClaim> = {}): PodClaim & { reads: number } {
  const c = {
    owner,
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    selector: labelSelectorAsSelector({ matchLabels: { app: 'web' } }),
    pods: pods(h.client),
    reads: 0,
    getOwner: async () => {
      c.reads++;
      return owner;
    },
    ...over,
  };
  return c;
}

const refsOf = async (h: Harness, name: string) => (await pods(h.client).get('default', name)).metadata.ownerReferences;

describe('claimPods', () => {
  test('adopts matching orphans (one live owner read), keeps owned, releases owned non-matching, ignores others', () =>
    withApi(async (h) => {
      const other = { apiVersion: 'v1', kind: 'ConfigMap', name: 'x', uid: 'uid-x' };
      const candidates = [
        await makePod(h, 'web-0', { app: 'web' }),
        await makePod(h, 'web-1', { app: 'web' }, [other]),
        await makePod(h, 'web-2', { app: 'web' }, [ownerRef]),
        await makePod(h, 'web-3', { app: 'old' }, [other, ownerRef]),
        await makePod(h, 'web-4', { app: 'old' }),
        await makePod(h, 'web-5', { app: 'web' }, [{ ...ownerRef, name: 'someone', uid: 'uid-someone' }]),
      ];
      const claim = claimFor(h);
      const claimed = await claimPods(claim, candidates);
      assert.deepEqual(claimed.map((p) => p.metadata.name).sort(), ['web-0', 'web-1', 'web-2']);
      assert.equal(claim.reads, 1, 'RecheckDeletionTimestamp once per sync');
      assert.deepEqual(await refsOf(h, 'web-0'), [ownerRef]);
      assert.deepEqual(await refsOf(h, 'web-1'), [other, ownerRef], 'other owners kept');
      assert.deepEqual(await refsOf(h, 'web-3'), [other], 'released, other owners kept');
      assert.equal(await refsOf(h, 'web-4'), undefined);
      assert.equal((await refsOf(h, 'web-5'))![0]!.uid, 'uid-someone', 'another controller keeps its pod');
    }));

  test('filter limits adoption and releases owned pods that fail it', () =>
    withApi(async (h) => {
      const candidates = [await makePod(h, 'stray', { app: 'web' }), await makePod(h, 'renamed', { app: 'web' }, [ownerRef])];
      const claimed = await claimPods(claimFor(h, { filter: (p) => /^web-\d+$/.test(p.metadata.name!) }), candidates);
      assert.deepEqual(claimed, []);
      assert.equal(await refsOf(h, 'stray'), undefined);
      assert.equal(await refsOf(h, 'renamed'), undefined);
    }));

  test('an owner being deleted neither adopts nor releases', () =>
    withApi(async (h) => {
      const deleting = { ...owner, metadata: { ...owner.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } };
      const candidates = [await makePod(h, 'web-0', { app: 'web' }), await makePod(h, 'web-1', { app: 'old' }, [ownerRef])];
      const claim = claimFor(h, { owner: deleting });
      assert.deepEqual(await claimPods(claim, candidates), []);
      assert.equal(claim.reads, 0);
      assert.equal(await refsOf(h, 'web-0'), undefined);
      assert.deepEqual(await refsOf(h, 'web-1'), [ownerRef]);
    }));

  test('no adoption when the live read shows the owner gone, replaced (other uid) or being deleted', () =>
    withApi(async (h) => {
      const orphan = await makePod(h, 'web-0', { app: 'web' });
      for (const fresh of [undefined, { ...owner, metadata: { ...owner.metadata, uid: 'uid-new' } }, { ...owner, metadata: { ...owner.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } }]) {
        const claimed = await claimPods(claimFor(h, { getOwner: async () => fresh }), [orphan]);
        assert.deepEqual(claimed, []);
        assert.equal(await refsOf(h, 'web-0'), undefined);
      }
    }));

  test('a pod changed since it was read is not adopted (resourceVersion precondition)', () =>
    withApi(async (h) => {
      const stale = await makePod(h, 'web-0', { app: 'web' });
      await pods(h.client).patch('default', 'web-0', 'merge', { metadata: { annotations: { touched: 'yes' } } });
      await assert.rejects(claimPods(claimFor(h), [stale]), (err) => isConflict(err));
      assert.equal(await refsOf(h, 'web-0'), undefined);
    }));
});
