import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../client/testing/fake-clock.js';
import { Backoff } from './backoff.js';
import { computePodStatus, podPhase, qosClass, type ContainerView, type ObservedInstance } from './status.js';

const now = Date.UTC(2024, 0, 1, 12);
const inst = (over: Partial<ObservedInstance>): ObservedInstance => ({
  id: 'c1', state: 'CONTAINER_RUNNING', createdAt: now - 5000, startedAt: now - 4000, finishedAt: 0, exitCode: 0, reason: '', image: 'busybox', imageRef: 'sha256:aa', restartCount: 0, ...over,
});
const view = (name: string, over: Partial<ContainerView> = {}): ContainerView => ({ name, image: 'busybox', ready: false, started: false, ...over });
const running = (name: string, ready = true) => view(name, { current: inst({ id: name }), ready, started: true });
const exited = (name: string, exitCode: number, reason = exitCode === 0 ? 'Completed' : 'Error') => view(name, { current: inst({ id: name, state: 'CONTAINER_EXITED', exitCode, reason, finishedAt: now - 1000 }) });
const pod = (restartPolicy = 'Always', old: any = {}) => ({ metadata: { name: 'p', namespace: 'default', uid: 'u' }, spec: { restartPolicy, containers: [] }, status: old });

function status(p: any, containers: ContainerView[], initContainers: ContainerView[] = [], sandboxReady = true) {
  return computePodStatus({ pod: p, sandboxReady, podIPs: ['10.0.0.5'], hostIPs: ['192.0.2.1'], initContainers, containers, runtimeName: 'runc', now });
}
const cond = (s: any, type: string) => s.conditions.find((c: any) => c.type === type);

describe('pod phase (Kubernetes getPhase)', () => {
  const table: Array<[string, string, ContainerView[], ContainerView[], string]> = [
    ['all running', 'Always', [running('a'), running('b')], [], 'Running'],
    ['one still creating', 'Always', [running('a'), view('b')], [], 'Pending'],
    ['exited with Always restarts: still Running', 'Always', [exited('a', 1)], [], 'Running'],
    ['all succeeded with Never', 'Never', [exited('a', 0), exited('b', 0)], [], 'Succeeded'],
    ['one failed with Never', 'Never', [exited('a', 0), exited('b', 2)], [], 'Failed'],
    ['failed with OnFailure keeps Running', 'OnFailure', [exited('a', 1)], [], 'Running'],
    ['succeeded with OnFailure', 'OnFailure', [exited('a', 0)], [], 'Succeeded'],
    ['CrashLoopBackOff counts as stopped', 'Always', [view('a', { current: inst({ state: 'CONTAINER_EXITED', exitCode: 1, reason: 'Error' }), waiting: { reason: 'CrashLoopBackOff' } })], [], 'Running'],
    ['init container running', 'Always', [view('a')], [running('init', false)], 'Pending'],
    ['init container failed with Never', 'Never', [view('a')], [exited('init', 1)], 'Failed'],
    ['init container failed with Always', 'Always', [view('a')], [exited('init', 1)], 'Pending'],
  ];
  for (const [name, policy, containers, init, phase] of table) {
    test(name, () => assert.equal(status(pod(policy), containers, init).phase, phase));
  }
});

describe('container statuses and conditions', () => {
  test('creating: waiting ContainerCreating, conditions with Kubernetes reasons', () => {
    const s = status(pod(), [view('app')], [], false);
    assert.deepEqual(s.containerStatuses[0].state, { waiting: { reason: 'ContainerCreating' } });
    assert.equal(s.containerStatuses[0].imageID, '');
    assert.equal(cond(s, 'PodReadyToStartContainers').status, 'False');
    assert.equal(cond(s, 'Ready').reason, 'ContainersNotReady');
    assert.equal(cond(s, 'Ready').message, 'containers with unready status: [app]');
    assert.equal(cond(s, 'Initialized').status, 'True');
  });
  test('with init containers pending everything waits with PodInitializing', () => {
    const s = status(pod(), [view('app')], [view('init')]);
    assert.equal(s.containerStatuses[0].state.waiting.reason, 'PodInitializing');
    assert.equal(s.initContainerStatuses[0].state.waiting.reason, 'PodInitializing');
    assert.equal(cond(s, 'Initialized').reason, 'ContainersNotInitialized');
    assert.equal(cond(s, 'Initialized').message, 'containers with incomplete status: [init]');
  });
  test('restarted container: running with lastState terminated and restartCount', () => {
    const s = status(pod(), [view('app', { current: inst({ id: 'new', restartCount: 2 }), previous: inst({ id: 'old', state: 'CONTAINER_EXITED', exitCode: 137, reason: 'OOMKilled', finishedAt: now - 6000 }), ready: true, started: true })]);
    const c = s.containerStatuses[0];
    assert.equal(c.restartCount, 2);
    assert.equal(c.containerID, 'runc://new');
    assert.equal(c.lastState.terminated.reason, 'OOMKilled');
    assert.equal(c.lastState.terminated.exitCode, 137);
    assert.equal(c.lastState.terminated.containerID, 'runc://old');
    assert.equal(cond(s, 'Ready').status, 'True');
  });
  test('succeeded pod: Ready False with PodCompleted; lastTransitionTime kept when unchanged', () => {
    const first = status(pod('Never'), [exited('a', 0)]);
    assert.equal(cond(first, 'Ready').reason, 'PodCompleted');
    const later = computePodStatus({ pod: pod('Never', first), sandboxReady: false, podIPs: [], hostIPs: ['192.0.2.1'], initContainers: [], containers: [exited('a', 0)], runtimeName: 'runc', now: now + 60_000 });
    assert.equal(cond(later, 'Ready').lastTransitionTime, cond(first, 'Ready').lastTransitionTime);
    assert.notEqual(cond(later, 'PodReadyToStartContainers').lastTransitionTime, cond(first, 'PodReadyToStartContainers').lastTransitionTime);
  });
  test('PodScheduled and readiness gate conditions written by others are kept', () => {
    const old = { conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: '2024-01-01T00:00:00Z' }] };
    const s = status(pod('Always', old), [running('a')]);
    assert.equal(cond(s, 'PodScheduled').status, 'True');
    const gated = { ...pod('Always', old), spec: { restartPolicy: 'Always', readinessGates: [{ conditionType: 'example.com/lb' }] } };
    const g = status(gated, [running('a')]);
    assert.equal(cond(g, 'ContainersReady').status, 'True');
    assert.equal(cond(g, 'Ready').status, 'False');
    assert.equal(cond(g, 'Ready').reason, 'ReadinessGatesNotReady');
  });
  test('qosClass', () => {
    assert.equal(qosClass({ spec: { containers: [{}] } }), 'BestEffort');
    assert.equal(qosClass({ spec: { containers: [{ resources: { limits: { cpu: '1', memory: '1Gi' } } }] } }), 'Guaranteed');
    assert.equal(qosClass({ spec: { containers: [{ resources: { requests: { cpu: '100m' } } }] } }), 'Burstable');
  });
  test('podPhase on raw statuses', () => {
    assert.equal(podPhase({ spec: {} }, [], []), 'Pending');
  });
});

describe('CrashLoopBackOff backoff (flowcontrol.Backoff)', () => {
  test('first restart immediate, then 10s doubling to 5m; reset after 10 min quiet', async () => {
    const clock = new FakeClock(now);
    const b = new Backoff(clock);
    let finished = clock.now();
    assert.equal(b.isInBackOffSince('k', finished), false); // first crash: restart at once
    b.next('k', finished);
    const waits: number[] = [];
    for (let i = 0; i < 7; i++) {
      finished = clock.now();
      assert.equal(b.isInBackOffSince('k', finished), true);
      waits.push(b.get('k'));
      await clock.advance(b.get('k'));
      assert.equal(b.isInBackOffSince('k', finished), false);
      b.next('k', finished);
    }
    assert.deepEqual(waits, [10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000]);
    await clock.advance(10 * 60_000 + 1);
    b.next('k', clock.now());
    assert.equal(b.get('k'), 10_000);
  });
});
