// Service ClusterIP/NodePort allocation through a real in-process API server (memory store):
// concurrent creates race for real in storage, and what clients see is Kubernetes' 422.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../api/types.js';
import { nodePortReservationKey, parseReservation, serviceIpReservationKey, serviceIpReservationPrefix, nodePortReservationPrefix } from './service-allocation.js';
import { startTestApiServer, type TestApiServer } from './testing.js';

const service = (name: string, spec: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: 'default' },
  spec: { ports: [{ port: 80, protocol: 'TCP' }], ...spec },
});

async function withServer(fn: (server: TestApiServer, services: ReturnType<TestApiServer['client']['resource']>) => Promise<void>): Promise<void> {
  const server = await startTestApiServer();
  try {
    await fn(server, server.client.resource({ group: '', version: 'v1', resource: 'services', namespaced: true }));
  } finally {
    await server.close();
  }
}

const codeOf = (err: any) => err.code ?? err.status?.code;
const reservationOf = async (server: TestApiServer, key: string) => {
  const { kv } = await server.api.resources.store.get(key);
  return kv ? parseReservation(kv.value) : null;
};

describe('ClusterIP allocation', () => {
  test('50 concurrent creates asking for the same clusterIP: exactly one wins, 49 get 422 already allocated', async () => {
    await withServer(async (server, services) => {
      const results = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => services.create('default', service(`s${i}`, { clusterIP: '10.43.7.7' }))));
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      assert.equal(won.length, 1);
      assert.equal(lost.length, 49);
      for (const r of lost) {
        assert.equal(codeOf(r.reason), 422);
        assert.match(String(r.reason.message), /spec\.clusterIPs: Invalid value: \[\]string\{"10\.43\.7\.7"\}: failed to allocate IP 10\.43\.7\.7: provided IP is already allocated/);
      }
      const winner = (won[0] as PromiseFulfilledResult<KubeObject>).value;
      assert.equal((await reservationOf(server, serviceIpReservationKey('10.43.7.7')))?.uid, winner.metadata.uid);
      // The losers reserved nothing that outlives them.
      const { kvs } = await server.api.resources.store.range(serviceIpReservationPrefix);
      assert.equal(kvs.filter((kv) => parseReservation(kv.value)?.name.startsWith('s')).length, 1);
    });
  });

  test('200 concurrent creates without a clusterIP get 200 distinct addresses, each reserved by its Service', async () => {
    await withServer(async (server, services) => {
      const created = await Promise.all(Array.from({ length: 200 }, (_, i) => services.create('default', service(`d${i}`))));
      const ips = created.map((s) => s.spec.clusterIP as string);
      assert.equal(new Set(ips).size, 200);
      for (const ip of ips) assert.ok(ip !== '10.43.0.1' && ip !== '10.43.0.10', `${ip} is kept for kubernetes/kube-dns`);
      for (const s of created) assert.equal((await reservationOf(server, serviceIpReservationKey(s.spec.clusterIP)))?.uid, s.metadata.uid);
    });
  });

  test('the kubernetes (.1) and kube-dns (.10) addresses are granted on request, once', async () => {
    await withServer(async (_server, services) => {
      const dns = await services.create('default', service('dns', { clusterIP: '10.43.0.10' }));
      assert.equal(dns.spec.clusterIP, '10.43.0.10');
      await assert.rejects(services.create('default', service('dns2', { clusterIP: '10.43.0.10' })), (err: any) => codeOf(err) === 422);
    });
  });

  test('out-of-range addresses keep Kubernetes\' message', async () => {
    await withServer(async (_server, services) => {
      await assert.rejects(services.create('default', service('far', { clusterIP: '10.99.0.5' })), (err: any) => {
        assert.equal(codeOf(err), 422);
        assert.match(String(err.message), /the provided IP \(10\.99\.0\.5\) is not in the valid range\. The range of valid IPs is 10\.43\.0\.0\/16/);
        return true;
      });
      assert.equal(await reservationOf(_server, serviceIpReservationKey('10.99.0.5')), null);
    });
  });

  test('delete releases the address so another Service can take it', async () => {
    await withServer(async (server, services) => {
      const first = await services.create('default', service('a', { clusterIP: '10.43.9.9' }));
      await services.delete('default', 'a');
      assert.equal(await reservationOf(server, serviceIpReservationKey('10.43.9.9')), null);
      const second = await services.create('default', service('b', { clusterIP: '10.43.9.9' }));
      assert.notEqual(second.metadata.uid, first.metadata.uid);
      assert.equal((await reservationOf(server, serviceIpReservationKey('10.43.9.9')))?.uid, second.metadata.uid);
    });
  });

  test('a finalizer keeps the address reserved until the Service is really gone', async () => {
    await withServer(async (server, services) => {
      await services.create('default', { ...service('held', { clusterIP: '10.43.9.10' }), metadata: { name: 'held', namespace: 'default', finalizers: ['example.com/hold'] } });
      await services.delete('default', 'held');
      assert.ok(await reservationOf(server, serviceIpReservationKey('10.43.9.10')), 'still reserved while terminating');
      await services.patch('default', 'held', 'merge', { metadata: { finalizers: null } });
      assert.equal(await reservationOf(server, serviceIpReservationKey('10.43.9.10')), null);
    });
  });

  test('a create that fails after admission reserved its address gives the address back', async () => {
    await withServer(async (server, services) => {
      await services.create('default', service('taken', { clusterIP: '10.43.3.3' }));
      // Same name: 409 from storage after admission reserved 10.43.3.4.
      await assert.rejects(services.create('default', service('taken', { clusterIP: '10.43.3.4' })), (err: any) => codeOf(err) === 409);
      assert.equal(await reservationOf(server, serviceIpReservationKey('10.43.3.4')), null);
      // Invalid spec: 422 from validation, which runs after admission.
      await assert.rejects(services.create('default', service('bad', { clusterIP: '10.43.3.5', ports: [{ port: 70000 }] })), (err: any) => codeOf(err) === 422);
      assert.equal(await reservationOf(server, serviceIpReservationKey('10.43.3.5')), null);
      // A dry run reserves nothing.
      await services.create('default', service('dry', { clusterIP: '10.43.3.6' }), { dryRun: 'All' } as any);
      assert.equal(await reservationOf(server, serviceIpReservationKey('10.43.3.6')), null);
    });
  });
});

describe('NodePort allocation', () => {
  test('50 concurrent creates asking for the same nodePort: one wins, 49 get 422 already allocated', async () => {
    await withServer(async (server, services) => {
      const results = await Promise.allSettled(
        Array.from({ length: 50 }, (_, i) => services.create('default', service(`n${i}`, { type: 'NodePort', ports: [{ port: 80, protocol: 'TCP', nodePort: 30080 }] }))),
      );
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      assert.equal(won.length, 1);
      for (const r of lost) {
        assert.equal(codeOf(r.reason), 422);
        assert.match(String(r.reason.message), /spec\.ports\[0\]\.nodePort: Invalid value: 30080: provided port is already allocated/);
      }
      assert.equal(lost.length, 49);
      assert.equal((await reservationOf(server, nodePortReservationKey(30080)))?.uid, (won[0] as PromiseFulfilledResult<KubeObject>).value.metadata.uid);
    });
  });

  test('200 concurrent NodePort creates get 200 distinct ports in range', async () => {
    await withServer(async (server, services) => {
      const created = await Promise.all(Array.from({ length: 200 }, (_, i) => services.create('default', service(`p${i}`, { type: 'NodePort' }))));
      const ports = created.map((s) => s.spec.ports[0].nodePort as number);
      assert.equal(new Set(ports).size, 200);
      for (const p of ports) assert.ok(p >= 30000 && p <= 32767);
      const { kvs } = await server.api.resources.store.range(nodePortReservationPrefix);
      assert.equal(kvs.length, 200);
    });
  });

  test('out-of-range nodePort keeps Kubernetes\' message', async () => {
    await withServer(async (_server, services) => {
      await assert.rejects(services.create('default', service('low', { type: 'NodePort', ports: [{ port: 80, nodePort: 80 }] })), (err: any) => {
        assert.match(String(err.message), /Invalid value: 80: provided port is not in the valid range\. The range of valid ports is 30000-32767/);
        return true;
      });
    });
  });

  test('changing type from NodePort to ClusterIP releases the port; delete releases the rest', async () => {
    await withServer(async (server, services) => {
      const svc = await services.create('default', service('np', { type: 'NodePort', ports: [{ port: 80, protocol: 'TCP', nodePort: 31000 }] }));
      await services.update({ ...svc, spec: { ...svc.spec, type: 'ClusterIP', ports: [{ port: 80, protocol: 'TCP' }] } });
      assert.equal(await reservationOf(server, nodePortReservationKey(31000)), null);
      const other = await services.create('default', service('np2', { type: 'NodePort', ports: [{ port: 80, protocol: 'TCP', nodePort: 31000 }] }));
      assert.equal(other.spec.ports[0].nodePort, 31000);
      await services.delete('default', 'np2');
      assert.equal(await reservationOf(server, nodePortReservationKey(31000)), null);
      assert.equal(await reservationOf(server, serviceIpReservationKey(other.spec.clusterIP)), null);
    });
  });

  test('an update keeping its nodePort keeps its reservation', async () => {
    await withServer(async (server, services) => {
      const svc = await services.create('default', service('keep', { type: 'NodePort' }));
      const port = svc.spec.ports[0].nodePort;
      await services.patch('default', 'keep', 'merge', { metadata: { labels: { a: 'b' } } });
      assert.equal((await reservationOf(server, nodePortReservationKey(port)))?.uid, svc.metadata.uid);
    });
  });
});

describe('repair through the API server', () => {
  test('a Service whose reservation vanished (restore, upgrade) gets it back', async () => {
    await withServer(async (server, services) => {
      const svc = await services.create('default', service('restored', { type: 'NodePort' }));
      await server.api.resources.store.delete(serviceIpReservationKey(svc.spec.clusterIP));
      await server.api.resources.store.delete(nodePortReservationKey(svc.spec.ports[0].nodePort));
      const result = await server.api.serviceAllocationRepair!.runOnce();
      assert.deepEqual(result.reserved.sort(), [nodePortReservationKey(svc.spec.ports[0].nodePort), serviceIpReservationKey(svc.spec.clusterIP)].sort());
      assert.equal((await reservationOf(server, serviceIpReservationKey(svc.spec.clusterIP)))?.uid, svc.metadata.uid);
      // Meanwhile no other Service could take it: the listing of existing Services still guards it.
      await assert.rejects(services.create('default', service('thief', { clusterIP: svc.spec.clusterIP })), (err: any) => codeOf(err) === 422);
    });
  });
});
