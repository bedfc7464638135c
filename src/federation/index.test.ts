import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApiServer } from '../apiserver/testing.js';
import { waitFor } from '../client/testing/wait.js';
import { federationCustomResourceDefinitions } from './crds.js';
import { startFederation, type FederationControllerDeps } from './index.js';

const crdResource = { group: 'apiextensions.k8s.io', version: 'v1', resource: 'customresourcedefinitions', namespaced: false };

test('idle until the KubeFedCluster CRD is Established; plugged-in controllers start then and stop with it', async () => {
  const host = await startTestApiServer();
  const stop = new AbortController();
  const started: FederationControllerDeps[] = [];
  let stopped = 0;
  const federation = startFederation({
    transport: host.transport(),
    signal: stop.signal,
    logger: () => {},
    controllers: [
      (deps) => {
        started.push(deps);
        return { stop: () => stopped++ };
      },
    ],
  });
  try {
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(federation.active(), false);
    assert.equal(started.length, 0);
    const kubeFedCluster = federationCustomResourceDefinitions()[0]!;
    await host.client.resource(crdResource).create(undefined, kubeFedCluster);
    await waitFor(() => started.length === 1, 5000, 'extra controller started');
    assert.equal(federation.active(), true);
    assert.deepEqual(started[0]!.members.list(), []);

    // Removing the federation API stops everything again.
    await host.client.resource(crdResource).delete(undefined, kubeFedCluster.metadata.name!);
    await waitFor(() => !federation.active() && stopped === 1, 5000, 'federation stopped');
    assert.equal(started[0]!.signal.aborted, true);
  } finally {
    stop.abort();
    await federation.done;
    await host.close();
  }
});
