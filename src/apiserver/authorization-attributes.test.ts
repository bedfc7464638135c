// The attributes the authorizer sees for a request, as Kubernetes' RequestInfoFactory derives them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApiServer } from './testing.js';

test('a list or watch narrowed by fieldSelector=metadata.name is authorized as a request for that name', async () => {
  const seen: { verb: string; name: string }[] = [];
  const server = await startTestApiServer({
    authorizer: {
      authorize(attributes) {
        if (attributes.resource === 'configmaps') seen.push({ verb: attributes.verb, name: attributes.name });
        return { allowed: true, reason: '' };
      },
    },
  });
  try {
    const configMaps = server.client.resource({ group: '', version: 'v1', resource: 'configmaps', namespaced: true });
    await configMaps.list('kube-system', { fieldSelector: 'metadata.name=kube-dns' });
    await configMaps.list('kube-system', { fieldSelector: 'metadata.name==kube-dns' });
    await configMaps.list('kube-system', { fieldSelector: 'metadata.name=kube-dns,metadata.namespace=kube-system' });
    await configMaps.list('kube-system', {});
    assert.deepEqual(seen, [
      { verb: 'list', name: 'kube-dns' },
      { verb: 'list', name: 'kube-dns' },
      { verb: 'list', name: '' },
      { verb: 'list', name: '' },
    ]);
  } finally {
    await server.close();
  }
});
