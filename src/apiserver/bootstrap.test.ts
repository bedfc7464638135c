// Default RBAC policy at start: created once, then reconciled like kube-apiserver's bootstrap
// policy — a cluster made by an older navarch gains the rules a newer one needs, an unchanged
// one is not rewritten, and `autoupdate: "false"` leaves an administrator's edit alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrapClusterObjects } from './bootstrap.js';
import { defaultRbacObjects } from './security.js';
import { startTestApiServer } from './testing.js';

test('default cluster roles are reconciled at start: missing rules added, nothing rewritten when complete, autoupdate false respected', async () => {
  const server = await startTestApiServer();
  try {
    const roles = server.client.resource({ group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterroles', namespaced: false });
    await bootstrapClusterObjects(server.api, defaultRbacObjects());
    const before = await roles.get(undefined, 'system:navarch:dns');

    // A second start changes nothing.
    await bootstrapClusterObjects(server.api, defaultRbacObjects());
    assert.equal((await roles.get(undefined, 'system:navarch:dns')).metadata.resourceVersion, before.metadata.resourceVersion);

    // As an older navarch left it: one rule short, plus a rule an administrator added.
    const extra = { apiGroups: [''], resources: ['nodes'], verbs: ['get'] };
    await roles.update({ ...before, rules: [...before.rules.slice(0, -1), extra] });
    await bootstrapClusterObjects(server.api, defaultRbacObjects());
    const reconciled = await roles.get(undefined, 'system:navarch:dns');
    assert.equal(reconciled.rules.length, before.rules.length + 1);
    assert.deepEqual(reconciled.rules.at(-2), extra, 'what was added by hand stays');
    assert.deepEqual(reconciled.rules.at(-1), before.rules.at(-1), 'the missing default rule is back');

    // autoupdate "false": left as the administrator made it.
    const pinned = { ...reconciled, metadata: { ...reconciled.metadata, annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'false' } }, rules: [extra] };
    await roles.update(pinned);
    await bootstrapClusterObjects(server.api, defaultRbacObjects());
    assert.deepEqual((await roles.get(undefined, 'system:navarch:dns')).rules, [extra]);
  } finally {
    await server.close();
  }
});
