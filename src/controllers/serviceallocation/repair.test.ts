// The repair loop over a memory store with a fake clock: leaked reservations go only after
// the grace period, live ones stay, missing ones come back.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/types.js';
import { nodePortReservationKey, parseReservation, serviceIpReservationKey, ServiceRangeReservations } from '../../apiserver/service-allocation.js';
import { createMemoryStore } from '../../storage/memory/memory-store.js';
import { FakeClock } from '../../util/clock.js';
import { createServiceAllocationRepair } from './repair.js';

const svc = (name: string, uid: string, clusterIP: string, nodePort?: number): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: 'default', uid },
  spec: { type: nodePort ? 'NodePort' : 'ClusterIP', clusterIP, clusterIPs: [clusterIP], ports: [{ port: 80, protocol: 'TCP', ...(nodePort ? { nodePort } : {}) }] },
});

function setup() {
  const store = createMemoryStore();
  const clock = new FakeClock();
  let services: KubeObject[] = [];
  const repair = createServiceAllocationRepair({ store, clock, listServices: async () => services, gracePeriodMs: 120_000, log: () => undefined });
  const reservations = new ServiceRangeReservations(store, clock);
  const ownerOf = async (key: string) => {
    const { kv } = await store.get(key);
    return kv ? parseReservation(kv.value) : null;
  };
  return { store, clock, repair, reservations, ownerOf, setServices: (s: KubeObject[]) => (services = s) };
}

describe('service allocation repair', () => {
  test('a leaked reservation (owner never stored) is released only after the grace period', async () => {
    const { clock, repair, reservations, ownerOf } = setup();
    const key = serviceIpReservationKey('10.43.1.2');
    assert.ok(await reservations.reserve(key, { namespace: 'default', name: 'crashed', uid: 'u-crashed' }));
    clock.advance(60_000);
    assert.deepEqual((await repair.runOnce()).released, [], 'young: maybe a create still in flight');
    assert.ok(await ownerOf(key));
    clock.advance(61_000);
    assert.deepEqual((await repair.runOnce()).released, [key]);
    assert.equal(await ownerOf(key), null);
  });

  test('reservations of live Services holding them stay, however old', async () => {
    const { clock, repair, reservations, ownerOf, setServices } = setup();
    const live = svc('web', 'u-web', '10.43.1.3', 30100);
    setServices([live]);
    await reservations.reserve(serviceIpReservationKey('10.43.1.3'), { namespace: 'default', name: 'web', uid: 'u-web' });
    await reservations.reserve(nodePortReservationKey(30100), { namespace: 'default', name: 'web', uid: 'u-web' });
    clock.advance(3_600_000);
    const result = await repair.runOnce();
    assert.deepEqual(result, { released: [], reserved: [], conflicts: [] });
    assert.equal((await ownerOf(nodePortReservationKey(30100)))?.uid, 'u-web');
  });

  test('a reservation whose owner no longer holds that port, or was re-created under a new uid, is released', async () => {
    const { clock, repair, reservations, ownerOf, setServices } = setup();
    await reservations.reserve(nodePortReservationKey(30200), { namespace: 'default', name: 'web', uid: 'u-web' });
    await reservations.reserve(serviceIpReservationKey('10.43.1.4'), { namespace: 'default', name: 'old', uid: 'u-old' });
    // web moved to another port; "old" was deleted and re-created (new uid) with the same IP.
    setServices([svc('web', 'u-web', '10.43.1.5', 30201), svc('old', 'u-new', '10.43.1.4')]);
    clock.advance(200_000);
    await reservations.reserve(serviceIpReservationKey('10.43.1.5'), { namespace: 'default', name: 'web', uid: 'u-web' });
    await reservations.reserve(nodePortReservationKey(30201), { namespace: 'default', name: 'web', uid: 'u-web' });
    const result = await repair.runOnce();
    assert.deepEqual(result.released.sort(), [nodePortReservationKey(30200), serviceIpReservationKey('10.43.1.4')].sort());
    // The re-created Service's address is re-reserved for it in the same pass.
    assert.deepEqual(result.reserved, [serviceIpReservationKey('10.43.1.4')]);
    assert.equal((await ownerOf(serviceIpReservationKey('10.43.1.4')))?.uid, 'u-new');
    assert.equal(await ownerOf(nodePortReservationKey(30200)), null);
  });

  test('an address a Service holds without a key is reserved for it', async () => {
    const { repair, ownerOf, setServices } = setup();
    setServices([svc('legacy', 'u-legacy', '10.43.2.2', 30300), { ...svc('dns', 'u-dns', 'None'), spec: { clusterIP: 'None', ports: [] } }]);
    const result = await repair.runOnce();
    assert.deepEqual(result.reserved.sort(), [nodePortReservationKey(30300), serviceIpReservationKey('10.43.2.2')].sort());
    const owner = await ownerOf(serviceIpReservationKey('10.43.2.2'));
    assert.deepEqual({ namespace: owner?.namespace, name: owner?.name, uid: owner?.uid }, { namespace: 'default', name: 'legacy', uid: 'u-legacy' });
    assert.deepEqual(await repair.runOnce(), { released: [], reserved: [], conflicts: [] }, 'a second pass has nothing to do');
  });

  test('two Services on one address are reported, the reservation is left with its holder', async () => {
    const { repair, reservations, ownerOf, setServices } = setup();
    await reservations.reserve(serviceIpReservationKey('10.43.3.3'), { namespace: 'default', name: 'a', uid: 'u-a' });
    setServices([svc('a', 'u-a', '10.43.3.3'), svc('b', 'u-b', '10.43.3.3')]);
    const result = await repair.runOnce();
    assert.deepEqual(result.conflicts, [serviceIpReservationKey('10.43.3.3')]);
    assert.equal((await ownerOf(serviceIpReservationKey('10.43.3.3')))?.uid, 'u-a');
  });

  test('start() runs a pass every interval on the injected clock; stop() ends it', async () => {
    const store = createMemoryStore();
    const clock = new FakeClock();
    let passes = 0;
    const repair = createServiceAllocationRepair({ store, clock, intervalMs: 60_000, log: () => undefined, listServices: async () => (passes++, []) });
    repair.start();
    const settle = () => new Promise((r) => setImmediate(r));
    clock.advance(59_000);
    await settle();
    assert.equal(passes, 0);
    clock.advance(1_000);
    await settle();
    assert.equal(passes, 1);
    clock.advance(60_000);
    await settle();
    assert.equal(passes, 2);
    repair.stop();
    clock.advance(600_000);
    await settle();
    assert.equal(passes, 2);
  });
});
