// The garbage collector against a real in-process API server.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/types.js';
import { isNotFound } from '../../client/errors.js';
import { configMapsResource, deploymentsResource, replicaSetsResource } from '../framework/resources.js';
import { createDeploymentController } from '../deployment/controller.js';
import { createReplicaSetController } from '../replicaset/controller.js';
import { eventually, listPods, startHarness, type Harness } from '../testing.js';
import { createGarbageCollector } from './controller.js';
import type { Transport } from '../../client/transport.js';
import { cronTabDefinition } from '../../apiserver/crd/testdata.js';

const cm = (h: Harness) => h.client.resource(configMapsResource);

function configMap(name: string, owners: KubeObject[] = [], extra: Record<string, any> = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name,
      ownerReferences: owners.length ? owners.map((o) => ({ apiVersion: 'v1', kind: 'ConfigMap', name: o.metadata.name!, uid: o.metadata.uid!, blockOwnerDeletion: true })) : undefined,
      ...extra,
    },
    data: {},
  };
}

const gone = async (h: Harness, name: string) => {
  try {
    await cm(h).get('default', name);
    return false;
  } catch (err) {
    return isNotFound(err);
  }
};

async function withGc(fn: (h: Harness) => Promise<void>, before?: (h: Harness) => Promise<void>, transport?: (t: Transport) => Transport) {
  const h = await startHarness({ transport });
  try {
    if (before) await before(h);
    const deps = { client: h.client, informerFactory: h.factory, clock: h.clock, recorder: h.recorder };
    const gc = createGarbageCollector(deps);
    await h.start(gc, createDeploymentController(deps), createReplicaSetController(deps));
    await eventually(h.clock, () => gc.hasSynced(), 'gc synced');
    await fn(h);
  } finally {
    await h.close();
  }
}

describe('garbage collector', () => {
  test('background: dependents of a deleted owner are deleted; those with a live owner stay', () =>
    withGc(async (h) => {
      const owner = await cm(h).create('default', configMap('owner'));
      const keeper = await cm(h).create('default', configMap('keeper'));
      await cm(h).create('default', configMap('child', [owner]));
      await cm(h).create('default', configMap('shared', [owner, keeper]));
      await cm(h).delete('default', 'owner');
      await eventually(h.clock, () => gone(h, 'child'), 'child deleted');
      // Still owned by a live object: only the dead owner's reference goes.
      const shared = await eventually(h.clock, async () => {
        const s = await cm(h).get('default', 'shared');
        return s.metadata.ownerReferences?.length === 1 && s;
      }, 'dangling reference removed');
      assert.equal(shared.metadata.ownerReferences![0]!.uid, keeper.metadata.uid);
    }));

  test('works from current state: garbage left while it was not running is collected at start', () =>
    withGc(
      async (h) => {
        await eventually(h.clock, () => gone(h, 'stale'), 'stale dependent collected');
        await eventually(h.clock, () => gone(h, 'replaced-owner-child'), 'dependent of a replaced owner collected');
        assert.equal((await cm(h).get('default', 'live-child')).metadata.name, 'live-child');
      },
      async (h) => {
        await cm(h).create('default', configMap('stale', [{ metadata: { name: 'never-existed', uid: '11111111-2222-3333-4444-555555555555' } }]));
        const first = await cm(h).create('default', configMap('recreated'));
        await cm(h).create('default', configMap('replaced-owner-child', [first]));
        await cm(h).delete('default', 'recreated');
        const live = await cm(h).create('default', configMap('recreated'));
        await cm(h).create('default', configMap('live-child', [live]));
      },
    ));

  test('an owner the cache has not seen yet is checked live, never assumed gone', () => {
    // The watch never delivers the owner: only a live GET can tell the collector it exists.
    const hideOwner = (t: Transport): Transport => ({
      request: (req) => t.request(req),
      watch: (req, onEvent, onClose) => t.watch(req, (ev) => ev.object?.metadata?.name !== 'unseen-owner' && onEvent(ev), onClose),
    });
    return withGc(
      async (h) => {
        const owner = await cm(h).create('default', configMap('unseen-owner'));
        await cm(h).create('default', configMap('unseen-child', [owner]));
        await cm(h).create('default', configMap('orphaned-child', [{ metadata: { name: 'unseen-owner', uid: '99999999-2222-3333-4444-555555555555' } }]));
        // The child with a wrong uid proves the collector has looked; the other must survive that look.
        await eventually(h.clock, () => gone(h, 'orphaned-child'), 'child of a different uid collected');
        await new Promise((r) => setTimeout(r, 30));
        assert.equal((await cm(h).get('default', 'unseen-child')).metadata.name, 'unseen-child');
      },
      undefined,
      hideOwner,
    );
  });

  test('foreground: the owner waits for its blocking dependents, then goes', () =>
    withGc(async (h) => {
      const owner = await cm(h).create('default', configMap('fg-owner'));
      await cm(h).create('default', configMap('fg-child', [owner], { finalizers: ['example.com/hold'] }));
      await cm(h).delete('default', 'fg-owner', { propagationPolicy: 'Foreground' });
      const child = await eventually(h.clock, async () => {
        const c = await cm(h).get('default', 'fg-child');
        return c.metadata.deletionTimestamp ? c : false;
      }, 'child being deleted');
      await new Promise((r) => setTimeout(r, 30));
      const waiting = await cm(h).get('default', 'fg-owner');
      assert.ok(waiting.metadata.deletionTimestamp);
      assert.deepEqual(waiting.metadata.finalizers, ['foregroundDeletion']);
      await cm(h).patch('default', 'fg-child', 'merge', { metadata: { finalizers: null, resourceVersion: child.metadata.resourceVersion } });
      await eventually(h.clock, () => gone(h, 'fg-owner'), 'owner deleted after its dependent');
    }));

  test('orphan: dependents lose the ownerReference and stay', () =>
    withGc(async (h) => {
      const owner = await cm(h).create('default', configMap('or-owner'));
      await cm(h).create('default', configMap('or-a', [owner]));
      await cm(h).create('default', configMap('or-b', [owner]));
      await cm(h).delete('default', 'or-owner', { propagationPolicy: 'Orphan' });
      await eventually(h.clock, () => gone(h, 'or-owner'), 'owner deleted');
      for (const name of ['or-a', 'or-b']) assert.equal((await cm(h).get('default', name)).metadata.ownerReferences, undefined);
    }));

  test('foreground delete of a Deployment removes its ReplicaSet and pods first', () =>
    withGc(async (h) => {
      const deployments = h.client.resource(deploymentsResource);
      await deployments.create('default', {
        apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' },
        spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
      });
      await eventually(h.clock, async () => (await listPods(h.client, 'default', 'app=web')).length === 2, 'pods');
      await deployments.delete('default', 'web', { propagationPolicy: 'Foreground' });
      await eventually(h.clock, async () => {
        try {
          await deployments.get('default', 'web');
          return false;
        } catch (err) {
          return isNotFound(err);
        }
      }, 'deployment deleted');
      assert.equal((await h.client.resource(replicaSetsResource).list('default')).items.length, 0);
      assert.equal((await listPods(h.client, 'default', 'app=web')).length, 0);
    }));
});

describe('garbage collector rediscovery', () => {
  const crdsResource = { group: 'apiextensions.k8s.io', version: 'v1', resource: 'customresourcedefinitions', namespaced: false };
  const cronTabs = { group: 'stable.example.com', version: 'v1', resource: 'crontabs', namespaced: true };

  /** A CRD created after the collector started; resolves once its custom resources are served. */
  async function createCronTabType(h: Harness): Promise<void> {
    await h.client.resource(crdsResource).create(undefined, cronTabDefinition());
    await eventually(h.clock, async () => (await h.client.resource(cronTabs).list('default')) && true, 'crontabs served');
  }

  async function ownedCronTab(h: Harness, owner: KubeObject, name: string): Promise<void> {
    await h.client.resource(cronTabs).create('default', {
      apiVersion: 'stable.example.com/v1', kind: 'CronTab',
      metadata: { name, ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: owner.metadata.name!, uid: owner.metadata.uid! }] },
      spec: { cronSpec: '* * * * */5' },
    });
  }

  const cronTabGone = (h: Harness, name: string) => async () => {
    try {
      await h.client.resource(cronTabs).get('default', name);
      return false;
    } catch (err) {
      return isNotFound(err);
    }
  };

  test('a CRD created after start is monitored at once: a custom resource whose owner is deleted goes', async () => {
    const h = await startHarness();
    try {
      const gc = createGarbageCollector({ client: h.client, informerFactory: h.factory, clock: h.clock });
      await h.start(gc);
      await eventually(h.clock, () => gc.hasSynced(), 'gc synced');
      await createCronTabType(h);
      const owner = await cm(h).create('default', configMap('ct-owner'));
      await ownedCronTab(h, owner, 'ct-child');
      await cm(h).delete('default', 'ct-owner');
      await eventually(h.clock, cronTabGone(h, 'ct-child'), 'custom resource dependent collected');
    } finally {
      await h.close();
    }
  });

  test('without CRD events, the periodic rediscovery (30 s) finds new resources and drops removed ones', async () => {
    const h = await startHarness();
    const logs: string[] = [];
    try {
      const gc = createGarbageCollector({ client: h.client, informerFactory: h.factory, clock: h.clock, watchCustomResourceDefinitions: false, logger: (_level, message, fields) => logs.push(`${message} ${fields?.resource ?? ''}`) });
      await h.start(gc);
      await eventually(h.clock, () => gc.hasSynced(), 'gc synced');
      await createCronTabType(h);
      const owner = await cm(h).create('default', configMap('ct-owner2'));
      await ownedCronTab(h, owner, 'ct-child2');
      await cm(h).delete('default', 'ct-owner2');
      // Before the period ends the collector does not know the type, so the dependent stays.
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(await cronTabGone(h, 'ct-child2')(), false);
      await h.clock.advance(30_000);
      await eventually(h.clock, cronTabGone(h, 'ct-child2'), 'collected after rediscovery');
      assert.ok(logs.includes('monitoring new resource stable.example.com/crontabs'), logs.join('\n'));

      await h.client.resource(crdsResource).delete(undefined, 'crontabs.stable.example.com');
      await eventually(h.clock, async () => {
        try {
          await h.client.resource(cronTabs).list('default');
          return false;
        } catch {
          return true;
        }
      }, 'crontabs no longer served');
      await h.clock.advance(30_000);
      await eventually(h.clock, () => logs.includes('resource left discovery; monitor stopped stable.example.com/crontabs'), 'monitor stopped');
    } finally {
      await h.close();
    }
  });
});
