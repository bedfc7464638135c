import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/types.js';
import { configMapsResource, namespacesResource, serviceAccountsResource } from '../framework/resources.js';
import { eventually, startHarness } from '../testing.js';
import { createRootCaPublisher, createServiceAccountsController, rootCaDescription } from './controller.js';

const caPem = '-----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----\n';

test('every namespace gets a default ServiceAccount and the kube-root-ca.crt ConfigMap, restored when changed', async () => {
  const h = await startHarness();
  try {
    const deps = { client: h.client, informerFactory: h.factory, clock: h.clock };
    await h.start(createServiceAccountsController(deps), createRootCaPublisher({ ...deps, caPem }));
    const sa = h.client.resource(serviceAccountsResource);
    const cm = h.client.resource(configMapsResource);
    // Namespaces that existed before start (default, kube-system…) and new ones.
    await h.client.resource(namespacesResource).create(undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } });
    for (const ns of ['default', 'kube-system', 'team-a']) {
      await eventually(h.clock, () => sa.get(ns, 'default').then(() => true, () => false), `default SA in ${ns}`);
      const root = await eventually<KubeObject>(h.clock, () => cm.get(ns, 'kube-root-ca.crt').catch(() => false), `root CA in ${ns}`);
      assert.deepEqual(root.data, { 'ca.crt': caPem });
      assert.equal(root.metadata.annotations!['kubernetes.io/description'], rootCaDescription);
    }
    // Edited: put back. Deleted: recreated.
    const root = await cm.get('team-a', 'kube-root-ca.crt');
    await cm.update({ ...root, data: { 'ca.crt': 'tampered', extra: 'x' } });
    await eventually(h.clock, async () => JSON.stringify((await cm.get('team-a', 'kube-root-ca.crt')).data) === JSON.stringify({ 'ca.crt': caPem }), 'restored');
    await sa.delete('team-a', 'default');
    await eventually(h.clock, () => sa.get('team-a', 'default').then(() => true, () => false), 'default SA recreated');
  } finally {
    await h.close();
  }
});
