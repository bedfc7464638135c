// The namespace controller against a real in-process API server.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isNotFound } from '../../client/errors.js';
import { discoverResources } from '../framework/discovery.js';
import { configMapsResource, deploymentsResource, namespacesResource } from '../framework/resources.js';
import { eventually, listPods, startHarness } from '../testing.js';
import { createNamespaceController, deleteNamespaceContent, namespaceConditions } from './controller.js';

const pod = (name: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });

describe('namespace controller', () => {
  test('deletes every namespaced resource and reports what remains in Kubernetes wording', async () => {
    const h = await startHarness();
    try {
      const ns = h.client.resource(namespacesResource);
      await ns.create(undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } });
      const pods = h.client.resource({ group: '', version: 'v1', resource: 'pods', namespaced: true });
      await pods.create('team', pod('a'));
      await pods.create('team', pod('b'));
      await h.client.resource(configMapsResource).create('team', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'plain' } });
      await h.client.resource(configMapsResource).create('team', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'held', finalizers: ['example.com/hold'] } });
      await h.client.resource(deploymentsResource).create('team', {
        apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' },
        spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } },
      });
      await h.client.resource(configMapsResource).create('default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'elsewhere' } });

      const content = await deleteNamespaceContent(h.client, await discoverResources(h.client), 'team', h.clock.now());
      assert.equal((await listPods(h.client, 'team')).length, 0);
      assert.equal((await h.client.resource(deploymentsResource).list('team')).items.length, 0);
      assert.deepEqual([...content.remaining], [['configmaps.', 1]]);
      assert.deepEqual([...content.finalizers], [['example.com/hold', 1]]);
      assert.deepEqual(
        namespaceConditions(content).map((c) => `${c.type}=${c.status} ${c.reason}: ${c.message}`),
        [
          'NamespaceDeletionDiscoveryFailure=False ResourcesDiscovered: All resources successfully discovered',
          'NamespaceDeletionGroupVersionParsingFailure=False ParsedGroupVersions: All legacy kube types successfully parsed',
          'NamespaceDeletionContentFailure=False ContentDeleted: All content successfully deleted, may be waiting on finalization',
          'NamespaceContentRemaining=True SomeResourcesRemain: Some resources are remaining: configmaps. has 1 resource instances',
          'NamespaceFinalizersRemaining=True SomeFinalizersRemain: Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances',
        ],
      );
      // Other namespaces are untouched.
      assert.equal((await h.client.resource(configMapsResource).get('default', 'elsewhere')).metadata.name, 'elsewhere');
    } finally {
      await h.close();
    }
  });

  test('a Terminating namespace is emptied, then finalized and removed', async () => {
    const h = await startHarness();
    try {
      const controller = createNamespaceController({ client: h.client, informerFactory: h.factory, clock: h.clock });
      await h.start(controller);
      const ns = h.client.resource(namespacesResource);
      await ns.create(undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'probe' } });
      await ns.delete(undefined, 'probe');
      // The API server keeps a deleted namespace Terminating while spec.finalizers is non-empty.
      const probe = await ns.get(undefined, 'probe');
      assert.equal(probe.status.phase, 'Terminating');
      await ns.create(undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'doomed' } });
      await h.client.resource(configMapsResource).create('doomed', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } });
      await ns.delete(undefined, 'doomed');
      await eventually(h.clock, () => ns.get(undefined, 'doomed').then(() => false, (err) => isNotFound(err)), 'namespace removed', { advanceMs: 1000 });
    } finally {
      await h.close();
    }
  });
});
