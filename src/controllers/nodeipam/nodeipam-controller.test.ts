import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/types.js';
import { startTestApiServer, type TestApiServer } from '../../apiserver/testing.js';
import { CidrSet } from './cidr.js';
import { createNodeIpamController, nodesRef } from './nodeipam-controller.js';

const quiet = () => {};
let server: TestApiServer;
before(async () => {
  server = await startTestApiServer();
});
after(async () => {
  await server.close();
});

async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 3000;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what} not reached: ${JSON.stringify(v).slice(0, 800)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const listNodes = async () => (await server.client.resource(nodesRef).list()).items;
const cidrOf = (nodes: KubeObject[], name: string) => nodes.find((n) => n.metadata.name === name)?.spec?.podCIDR as string | undefined;

describe('CidrSet', () => {
  test('carves /24s out of a /16 in order, skipping taken ones, and reports full', () => {
    const set = new CidrSet('10.42.0.0/16', 24);
    assert.equal(set.allocate(), '10.42.0.0/24');
    assert.ok(set.occupy('10.42.1.0/24'));
    assert.equal(set.allocate(), '10.42.2.0/24');
    assert.equal(set.occupy('10.43.0.0/24'), false, 'outside the cluster CIDR');
    assert.equal(set.occupy('10.42.5.0/25'), false, 'wrong size');
    const small = new CidrSet('10.9.0.0/23', 24);
    assert.equal(small.allocate(), '10.9.0.0/24');
    assert.equal(small.allocate(), '10.9.1.0/24');
    assert.equal(small.allocate(), undefined);
    small.release('10.9.0.0/24');
    assert.equal(small.allocate(), '10.9.0.0/24');
  });
});

describe('node IPAM controller', () => {
  test('allocates a distinct podCIDR per node, keeps existing ones, recovers after restart and releases on delete', async () => {
    const nodes = server.client.resource(nodesRef);
    // A node that already holds a subnet (e.g. from before a restart) keeps it and blocks it.
    await nodes.create(undefined, { metadata: { name: 'old' }, spec: { podCIDR: '10.42.0.0/24', podCIDRs: ['10.42.0.0/24'] } });
    await nodes.create(undefined, { metadata: { name: 'a' } });
    await nodes.create(undefined, { metadata: { name: 'b' } });

    const first = new AbortController();
    const run1 = createNodeIpamController({ client: server.client, logger: quiet }).start(first.signal);
    let all = await eventually(listNodes, (l) => l.every((n) => n.spec?.podCIDR), 'all allocated');
    assert.equal(cidrOf(all, 'old'), '10.42.0.0/24');
    const taken = all.map((n) => n.spec.podCIDR);
    assert.equal(new Set(taken).size, 3, `distinct: ${taken}`);
    for (const n of all) assert.deepEqual(n.spec.podCIDRs, [n.spec.podCIDR]);
    first.abort();
    await run1;

    // A new controller (a restart) must not hand any of those out again.
    await nodes.create(undefined, { metadata: { name: 'c' } });
    const second = new AbortController();
    const ipam = createNodeIpamController({ client: server.client, logger: quiet });
    const run2 = ipam.start(second.signal);
    all = await eventually(listNodes, (l) => !!cidrOf(l, 'c'), 'c allocated');
    assert.ok(!taken.includes(cidrOf(all, 'c')), `c got a fresh subnet (${cidrOf(all, 'c')})`);
    assert.equal(ipam.cidrs.usedCount(), 4);

    await nodes.delete(undefined, 'a');
    await eventually(async () => ipam.cidrs.usedCount(), (n) => n === 3, 'released');
    second.abort();
    await run2;
  });

  test('a small cluster CIDR runs out instead of overlapping', async () => {
    const s = await startTestApiServer();
    try {
      const nodes = s.client.resource(nodesRef);
      for (const name of ['x', 'y', 'z']) await nodes.create(undefined, { metadata: { name } });
      const stop = new AbortController();
      const run = createNodeIpamController({ client: s.client, clusterCidr: '10.50.0.0/23', logger: quiet }).start(stop.signal);
      const got = await eventually(async () => (await nodes.list()).items, (l) => l.filter((n) => n.spec?.podCIDR).length === 2, 'two allocated');
      await new Promise((r) => setTimeout(r, 100));
      const cidrs = got.map((n) => n.spec?.podCIDR).filter(Boolean).sort();
      assert.deepEqual(cidrs, ['10.50.0.0/24', '10.50.1.0/24']);
      assert.equal((await nodes.list()).items.filter((n) => n.spec?.podCIDR).length, 2);
      stop.abort();
      await run;
    } finally {
      await s.close();
    }
  });
});
