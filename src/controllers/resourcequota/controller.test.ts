// ResourceQuota: the controller's status.used and the admission plugin's 403, against a real
// in-process API server with the plugin added to its chain.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/types.js';
import { isForbidden } from '../../client/errors.js';
import { eventually, pods, setPodPhase, startHarness, type Harness } from '../testing.js';
import { createResourceQuotaController, resourceQuotasResource } from './controller.js';
import { formatQuantity, usageOf } from './usage.js';

async function withQuota(fn: (h: Harness) => Promise<void>) {
  const h = await startHarness();
  // The quota admission plugin is part of every API server's default chain.
  try {
    await h.start(createResourceQuotaController({ client: h.client, informerFactory: h.factory, clock: h.clock }));
    await fn(h);
  } finally {
    await h.close();
  }
}

const pod = (name: string, cpu?: string, memory?: string) =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', image: 'busybox', ...(cpu ? { resources: { requests: { cpu, memory } } } : {}) }] } }) as KubeObject;
const quotas = (h: Harness) => h.client.resource(resourceQuotasResource);
const used = async (h: Harness) => (await quotas(h).get('default', 'q')).status?.used;
const forbiddenWith = (message: string) => (err: unknown) => {
  assert.ok(isForbidden(err), String(err));
  assert.equal((err as Error).message, message);
  return true;
};

describe('resource quota', () => {
  test('status.used follows the namespace; creates over the quota are refused with Kubernetes\' message', () =>
    withQuota(async (h) => {
      await quotas(h).create('default', { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'q' }, spec: { hard: { pods: '2', services: '1', 'count/configmaps': '5', 'requests.cpu': '1', 'requests.memory': '1Gi' } } } as KubeObject);
      await eventually(h.clock, async () => (await used(h))?.pods === '0', 'status.used computed');
      assert.deepEqual((await quotas(h).get('default', 'q')).status.hard, { pods: '2', services: '1', 'count/configmaps': '5', 'requests.cpu': '1', 'requests.memory': '1Gi' });

      await assert.rejects(pods(h.client).create('default', pod('bare')), forbiddenWith('pods "bare" is forbidden: failed quota: q: must specify requests.cpu for: c; requests.memory for: c'));
      await pods(h.client).create('default', pod('p1', '250m', '256Mi'));
      await pods(h.client).create('default', pod('p2', '250m', '256Mi'));
      const expected = JSON.stringify({ pods: '2', services: '0', 'count/configmaps': '0', 'requests.cpu': '500m', 'requests.memory': '512Mi' });
      await eventually(h.clock, async () => JSON.stringify(await used(h)) === expected, `used ${expected}`);
      await assert.rejects(pods(h.client).create('default', pod('p3', '250m', '256Mi')), forbiddenWith('pods "p3" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2'));

      // A finished pod no longer counts; the controller recounts and room appears.
      await setPodPhase(h.client, await pods(h.client).get('default', 'p1'), 'Succeeded');
      await eventually(h.clock, async () => (await used(h))?.pods === '1', 'recounted');
      assert.equal((await used(h))['requests.cpu'], '250m');
      await assert.rejects(pods(h.client).create('default', pod('big', '1', '256Mi')), forbiddenWith('pods "big" is forbidden: exceeded quota: q, requested: requests.cpu=1, used: requests.cpu=250m, limited: requests.cpu=1'));
      await pods(h.client).create('default', pod('p3', '250m', '256Mi'));

      const service = (name: string) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { ports: [{ port: 80 }] } }) as KubeObject;
      const services = h.client.resource({ group: '', version: 'v1', resource: 'services', namespaced: true, kind: 'Service' });
      await services.create('default', service('a'));
      await assert.rejects(services.create('default', service('b')), forbiddenWith('services "b" is forbidden: exceeded quota: q, requested: services=1, used: services=1, limited: services=1'));
      await services.delete('default', 'a');
      await eventually(h.clock, async () => (await used(h))?.services === '0', 'service delete recounted');
      await services.create('default', service('b'));
    }));

  test('admission charges status.used itself, so creates cannot overshoot before a recount; no status yet refuses', async () => {
    const h = await startHarness();
    try {
      const quota = await quotas(h).create('default', { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'q' }, spec: { hard: { 'count/configmaps': '2' } } } as KubeObject);
      const configMaps = h.client.resource({ group: '', version: 'v1', resource: 'configmaps', namespaced: true, kind: 'ConfigMap' });
      const cm = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name } }) as KubeObject;
      await assert.rejects(configMaps.create('default', cm('early')), forbiddenWith('configmaps "early" is forbidden: status unknown for quota: q, resource: count/configmaps'));
      await quotas(h).updateStatus({ ...quota, status: { hard: quota.spec.hard, used: { 'count/configmaps': '0' } } });
      await Promise.all([configMaps.create('default', cm('a')), configMaps.create('default', cm('b'))]);
      await assert.rejects(configMaps.create('default', cm('c')), forbiddenWith('configmaps "c" is forbidden: exceeded quota: q, requested: count/configmaps=1, used: count/configmaps=2, limited: count/configmaps=2'));
    } finally {
      await h.close();
    }
  });

  test('usage arithmetic', () => {
    const p = { spec: { containers: [{ resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { memory: '128Mi' } } }, { resources: { requests: { cpu: '0.4' } } }], initContainers: [{ resources: { requests: { cpu: '2' } } }] } } as unknown as KubeObject;
    const u = usageOf('pods', p);
    assert.equal(u.pods, 1);
    assert.equal(u['count/pods'], 1);
    assert.equal(formatQuantity('requests.cpu', u['requests.cpu']!), '2');
    assert.equal(formatQuantity('requests.memory', u['requests.memory']!), '64Mi');
    assert.equal(formatQuantity('limits.memory', u['limits.memory']!), '128Mi');
    assert.deepEqual(usageOf('pods', { ...p, status: { phase: 'Failed' } } as KubeObject), {});
    assert.equal(formatQuantity('cpu', 0.5), '500m');
    assert.equal(formatQuantity('requests.storage', 1.5 * 2 ** 30), '1536Mi');
    assert.equal(formatQuantity('pods', 3), '3');
  });
});
