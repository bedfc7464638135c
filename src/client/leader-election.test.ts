import { test, describe, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createClient, type Client } from './client.js';
import { LeaderElector, formatMicroTime, leasesResource, type LeaderElectionConfig } from './leader-election.js';
import { FakeApiServer } from './testing/fake-apiserver.js';
import { FakeClock, settle } from './testing/fake-clock.js';

const silent = () => {};

describe('LeaderElector', () => {
  let server: FakeApiServer;
  let client: Client;
  let clock: FakeClock;

  beforeEach(() => {
    server = new FakeApiServer([{ ...leasesResource, kind: 'Lease' }]);
    client = createClient(server.transport());
    clock = new FakeClock();
  });

  function candidate(identity: string, overrides: Partial<LeaderElectionConfig> = {}) {
    const log: string[] = [];
    let leadership: AbortSignal | undefined;
    const elector = new LeaderElector({
      client,
      namespace: 'kube-system',
      name: 'navarch-controller-manager',
      identity,
      clock,
      random: () => 0,
      logger: silent,
      onStartedLeading: (signal) => {
        leadership = signal;
        log.push('started');
      },
      onStoppedLeading: () => log.push('stopped'),
      onNewLeader: (who) => log.push(`leader=${who}`),
      ...overrides,
    });
    const abort = new AbortController();
    let finished = false;
    const run = elector.run(abort.signal).then(() => (finished = true));
    return { elector, log, abort, run, leadership: () => leadership, finished: () => finished };
  }

  const lease = () => server.getObject(leasesResource, 'kube-system', 'navarch-controller-manager');

  test('the first candidate creates the lease, renews it every retry period, and releases it on shutdown', async () => {
    const a = candidate('a');
    await settle();
    assert.equal(a.elector.isLeader(), true);
    assert.deepEqual(a.log, ['leader=a', 'started']);
    const created = lease();
    assert.equal(created.spec.holderIdentity, 'a');
    assert.equal(created.spec.leaseDurationSeconds, 15);
    assert.equal(created.spec.leaseTransitions, 0);
    assert.equal(created.spec.acquireTime, formatMicroTime(clock.now()));
    assert.match(created.spec.renewTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);

    await clock.advance(2000);
    const renewed = lease();
    assert.equal(renewed.spec.renewTime, formatMicroTime(clock.now()));
    assert.equal(renewed.spec.acquireTime, created.spec.acquireTime, 'renewal keeps acquireTime');
    assert.equal(renewed.spec.leaseTransitions, 0);

    a.abort.abort();
    await a.run;
    assert.equal(a.leadership()!.aborted, true);
    assert.deepEqual(a.log, ['leader=a', 'started', 'stopped']);
    const released = lease();
    assert.equal(released.spec.holderIdentity, '');
    assert.equal(released.spec.leaseDurationSeconds, 1);
  });

  test('a second candidate waits while the leader renews, and takes over only after the lease expires', async () => {
    const a = candidate('a', { releaseOnCancel: false });
    await settle();
    const b = candidate('b');
    await settle();
    assert.equal(b.elector.isLeader(), false);
    assert.equal(b.elector.getLeader(), 'a');
    await clock.advance(30_000);
    assert.equal(b.elector.isLeader(), false, 'a live leader keeps the lease');

    // The leader dies without releasing: nobody renews any more.
    a.abort.abort();
    await a.run;
    const lastRenewal = clock.now();
    await clock.advance(14_000);
    assert.equal(b.elector.isLeader(), false, 'must wait out leaseDurationSeconds');
    await clock.advance(4_000);
    assert.equal(b.elector.isLeader(), true);
    assert.ok(clock.now() - lastRenewal >= 15_000);
    const taken = lease();
    assert.equal(taken.spec.holderIdentity, 'b');
    assert.equal(taken.spec.leaseTransitions, 1);
    assert.deepEqual(b.log, ['leader=a', 'leader=b', 'started']);
    b.abort.abort();
    await b.run;
  });

  test('a released lease is taken over at the next retry, not after the full lease duration', async () => {
    const a = candidate('a');
    await settle();
    const b = candidate('b');
    await settle();
    a.abort.abort();
    await a.run;
    await clock.advance(2_000);
    assert.equal(b.elector.isLeader(), true);
    assert.equal(lease().spec.leaseTransitions, 1);
    b.abort.abort();
    await b.run;
  });

  test('a leader that cannot renew steps down after renewDeadline', async () => {
    const a = candidate('a');
    await settle();
    assert.equal(a.elector.isLeader(), true);
    for (let i = 0; i < 20; i++) server.injectedFailures.push({ code: 500, reason: 'InternalError', message: 'etcd unavailable' });
    await clock.advance(8_000);
    assert.equal(a.elector.isLeader(), true, 'still within renewDeadline');
    await clock.advance(2_000);
    assert.equal(a.finished(), true);
    assert.equal(a.elector.isLeader(), false);
    assert.equal(a.leadership()!.aborted, true);
    assert.deepEqual(a.log, ['leader=a', 'started', 'stopped']);
  });

  test('two candidates racing for an absent lease: exactly one wins', async () => {
    const make = (identity: string) =>
      new LeaderElector({ client, namespace: 'kube-system', name: 'race', identity, clock, logger: silent, onStartedLeading() {}, onStoppedLeading() {} });
    const results = await Promise.all([make('x').tryAcquireOrRenew(), make('y').tryAcquireOrRenew()]);
    assert.deepEqual(results.sort(), [false, true]);
  });

  test('rejects timings that cannot be safe', () => {
    const base = { client, namespace: 'n', name: 'l', identity: 'i', onStartedLeading() {}, onStoppedLeading() {} };
    assert.throws(() => new LeaderElector({ ...base, leaseDurationMs: 10_000, renewDeadlineMs: 10_000 }), /leaseDuration/);
    assert.throws(() => new LeaderElector({ ...base, renewDeadlineMs: 2_000, retryPeriodMs: 2_000 }), /renewDeadline/);
  });
});
