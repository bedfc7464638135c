import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../client/testing/fake-clock.js';
import { SchedulingQueue } from './queue.js';
import { makePod } from './testing.js';

function setup() {
  const clock = new FakeClock();
  const queue = new SchedulingQueue({ clock });
  return { clock, queue };
}

describe('SchedulingQueue', () => {
  test('activeQ pops by priority, then by arrival', async () => {
    const { clock, queue } = setup();
    queue.add(makePod('low-old', { priority: 0 }));
    await clock.advance(10);
    queue.add(makePod('high', { priority: 100 }));
    queue.add(makePod('low-new', { priority: 0 }));
    const order = [];
    for (let i = 0; i < 3; i++) order.push((await queue.pop())!.podInfo.pod.metadata.name);
    assert.deepEqual(order, ['high', 'low-old', 'low-new']);
  });

  test('backoff doubles from 1 s to at most 10 s', () => {
    const { queue } = setup();
    const q = { attempts: 0 } as any;
    const durations = [1, 2, 3, 4, 5, 6].map((attempts) => queue.backoffDuration({ ...q, attempts }));
    assert.deepEqual(durations, [1000, 2000, 4000, 8000, 10000, 10000]);
  });

  test('an unschedulable pod waits for an event its plugins care about', async () => {
    const { clock, queue } = setup();
    queue.add(makePod('p'));
    const q = (await queue.pop())!;
    const cycle = queue.schedulingCycle;
    q.unschedulablePlugins = new Set(['NodeResourcesFit']);
    queue.requeue(q, cycle, true);
    assert.equal(queue.whereIs('default/p'), 'unschedulable');
    queue.moveAllToActiveOrBackoff('PvcChange');
    assert.equal(queue.whereIs('default/p'), 'unschedulable', 'a PVC change cannot free cpu');
    queue.moveAllToActiveOrBackoff('AssignedPodDelete');
    assert.equal(queue.whereIs('default/p'), 'backoff', 'still inside its 1 s backoff');
    queue.run();
    await clock.advance(1000);
    assert.equal(queue.whereIs('default/p'), 'active');
    queue.close();
  });

  test('a move request during the attempt sends the pod to backoff, not unschedulable', async () => {
    const { queue } = setup();
    queue.add(makePod('p'));
    const q = (await queue.pop())!;
    const cycle = queue.schedulingCycle;
    queue.moveAllToActiveOrBackoff('NodeAdd');
    q.unschedulablePlugins = new Set(['NodeResourcesFit']);
    queue.requeue(q, cycle, true);
    assert.equal(queue.whereIs('default/p'), 'backoff');
  });

  test('errors back off instead of waiting for events', async () => {
    const { clock, queue } = setup();
    queue.add(makePod('p'));
    const q = (await queue.pop())!;
    queue.requeue(q, queue.schedulingCycle, false);
    assert.equal(queue.whereIs('default/p'), 'backoff');
    queue.run();
    await clock.advance(1000);
    assert.equal(queue.whereIs('default/p'), 'active');
    queue.close();
  });

  test('leftover unschedulable pods are retried after 5 minutes', async () => {
    const { clock, queue } = setup();
    queue.run();
    queue.add(makePod('p'));
    const q = (await queue.pop())!;
    q.unschedulablePlugins = new Set(['TaintToleration']);
    queue.requeue(q, queue.schedulingCycle, true);
    await clock.advance(4 * 60_000);
    assert.equal(queue.whereIs('default/p'), 'unschedulable');
    await clock.advance(60_000 + 30_000);
    assert.equal(queue.whereIs('default/p'), 'active');
    queue.close();
  });

  test('gated pods wait until their scheduling gates are removed', async () => {
    const { queue } = setup();
    const gated = makePod('g', { spec: { schedulingGates: [{ name: 'example.com/wait' }] } });
    queue.add(gated);
    assert.equal(queue.whereIs('default/g'), 'unschedulable');
    queue.moveAllToActiveOrBackoff('ForceActivate');
    assert.equal(queue.whereIs('default/g'), 'unschedulable');
    queue.update({ ...gated, spec: { ...gated.spec, schedulingGates: [] } });
    assert.equal(queue.whereIs('default/g'), 'active');
  });

  test('pop waits for a pod and close releases waiters', async () => {
    const { queue } = setup();
    const waiting = queue.pop();
    queue.add(makePod('late'));
    assert.equal((await waiting)?.key, 'default/late');
    const never = queue.pop();
    queue.close();
    assert.equal(await never, undefined);
  });
});
