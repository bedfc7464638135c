// The dashboard's pure browser modules, imported straight from static/js/ and run in Node.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { age, formatBytes, formatCpu, humanDuration, parseQuantity } from './static/js/format.js';
import {
  containerState, cronJobColumns, deploymentColumns, jobColumns, nodeRoles, nodeStatus, podPhaseCounts, podStatus,
  serviceExternalIP, servicePorts, sortEventsNewestFirst, statusTone,
} from './static/js/status.js';
import { toYaml } from './static/js/yaml.js';
import { parse as parseYaml } from 'yaml';

const s = 1000;
const m = 60 * s;
const hr = 60 * m;
const d = 24 * hr;

describe('humanDuration (kubectl ages)', () => {
  const cases: [number, string][] = [
    [-5 * s, '<invalid>'],
    [-500, '0s'],
    [0, '0s'],
    [45 * s, '45s'],
    [119 * s, '119s'],
    [2 * m, '2m'],
    [3 * m + 20 * s, '3m20s'],
    [9 * m + 59 * s, '9m59s'],
    [10 * m + 30 * s, '10m'],
    [179 * m, '179m'],
    [3 * hr, '3h'],
    [5 * hr + 12 * m, '5h12m'],
    [8 * hr + 30 * m, '8h'],
    [47 * hr, '47h'],
    [2 * d, '2d'],
    [3 * d + 4 * hr, '3d4h'],
    [8 * d, '8d'],
    [400 * d, '400d'],
    [2 * 365 * d, '2y'],
    [3 * 365 * d + 30 * d, '3y30d'],
    [9 * 365 * d + 100 * d, '9y'],
  ];
  for (const [ms, text] of cases) test(`${ms} ms → ${text}`, () => assert.equal(humanDuration(ms), text));

  test('age of a timestamp', () => {
    const now = Date.parse('2024-05-01T12:00:00Z');
    assert.equal(age('2024-05-01T11:55:00Z', now), '5m');
    assert.equal(age(undefined, now), '<unknown>');
    assert.equal(age('not a time', now), '<unknown>');
  });
});

describe('quantities', () => {
  test('parse', () => {
    assert.equal(parseQuantity('250m'), 0.25);
    assert.equal(parseQuantity('2'), 2);
    assert.equal(parseQuantity('1Ki'), 1024);
    assert.equal(parseQuantity('1.5Gi'), 1.5 * 2 ** 30);
    assert.equal(parseQuantity('1k'), 1000);
    assert.equal(parseQuantity('1e3'), 1000);
    assert.ok(Number.isNaN(parseQuantity('12 cores')));
  });
  test('format', () => {
    assert.equal(formatCpu('4'), '4');
    assert.equal(formatCpu('500m'), '500m');
    assert.equal(formatCpu('1500m'), '1.5');
    assert.equal(formatBytes('16323456Ki'), '15.6Gi');
    assert.equal(formatBytes('512Mi'), '512Mi');
    assert.equal(formatBytes('100'), '100');
    assert.equal(formatBytes(undefined), '');
  });
});

const running = (name: string, restartCount = 0, ready = true) => ({ name, ready, restartCount, state: { running: { startedAt: '2024-01-01T00:00:00Z' } } });
const waiting = (name: string, reason: string, restartCount = 0) => ({ name, ready: false, restartCount, state: { waiting: { reason } } });
const terminated = (name: string, exitCode: number, reason?: string, extra: Record<string, unknown> = {}) => ({ name, ready: false, restartCount: 0, state: { terminated: { exitCode, ...(reason ? { reason } : {}), ...extra } } });
const pod = (spec: any, status: any, metadata: any = {}) => ({ metadata: { name: 'p', namespace: 'default', ...metadata }, spec, status });

describe('podStatus (kubectl get pods STATUS / READY / RESTARTS)', () => {
  test('running and ready', () => {
    assert.deepEqual(podStatus(pod({ containers: [{ name: 'a' }, { name: 'b' }] }, { phase: 'Running', containerStatuses: [running('a', 1), running('b', 2)] })), { status: 'Running', ready: '2/2', restarts: 3 });
  });
  test('pending without statuses', () => {
    assert.deepEqual(podStatus(pod({ containers: [{ name: 'a' }] }, { phase: 'Pending' })), { status: 'Pending', ready: '0/1', restarts: 0 });
    assert.equal(podStatus(pod({ containers: [{ name: 'a' }] }, {})).status, 'Pending');
  });
  test('a waiting reason wins over the phase', () => {
    assert.equal(podStatus(pod({ containers: [{ name: 'a' }] }, { phase: 'Running', containerStatuses: [waiting('a', 'CrashLoopBackOff', 5)] })).status, 'CrashLoopBackOff');
    assert.equal(podStatus(pod({ containers: [{ name: 'a' }] }, { phase: 'Pending', containerStatuses: [waiting('a', 'ContainerCreating')] })).status, 'ContainerCreating');
  });
  test('completed, and exit codes or signals without a reason', () => {
    assert.equal(podStatus(pod({ containers: [{ name: 'a' }] }, { phase: 'Succeeded', containerStatuses: [terminated('a', 0, 'Completed')] })).status, 'Completed');
    assert.equal(podStatus(pod({ containers: [{ name: 'a' }] }, { phase: 'Failed', containerStatuses: [terminated('a', 3)] })).status, 'ExitCode:3');
    assert.equal(podStatus(pod({ containers: [{ name: 'a' }] }, { phase: 'Failed', containerStatuses: [terminated('a', 137, undefined, { signal: 9 })] })).status, 'Signal:9');
  });
  test('one container completed while another runs reads Running (or NotReady)', () => {
    const spec = { containers: [{ name: 'a' }, { name: 'b' }] };
    const statuses = [running('a'), terminated('b', 0, 'Completed')];
    assert.equal(podStatus(pod(spec, { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: statuses })).status, 'Running');
    assert.equal(podStatus(pod(spec, { phase: 'Running', conditions: [{ type: 'Ready', status: 'False' }], containerStatuses: statuses })).status, 'NotReady');
  });
  test('init containers', () => {
    const spec = { initContainers: [{ name: 'i1' }, { name: 'i2' }], containers: [{ name: 'a' }] };
    assert.equal(podStatus(pod(spec, { phase: 'Pending', initContainerStatuses: [terminated('i1', 0, 'Completed'), waiting('i2', 'PodInitializing')] })).status, 'Init:1/2');
    assert.equal(podStatus(pod(spec, { phase: 'Pending', initContainerStatuses: [{ ...waiting('i1', 'CrashLoopBackOff'), restartCount: 4 }] })).status, 'Init:CrashLoopBackOff');
    const failing = podStatus(pod(spec, { phase: 'Pending', initContainerStatuses: [{ ...waiting('i1', 'CrashLoopBackOff'), restartCount: 4 }] }));
    assert.equal(failing.restarts, 4);
    assert.equal(podStatus(pod(spec, { phase: 'Pending', initContainerStatuses: [terminated('i1', 2)] })).status, 'Init:ExitCode:2');
    assert.equal(podStatus(pod(spec, { phase: 'Pending', initContainerStatuses: [terminated('i1', 1, 'Error')] })).status, 'Init:Error');
  });
  test('a started sidecar counts toward READY and does not block', () => {
    const spec = { initContainers: [{ name: 'proxy', restartPolicy: 'Always' }], containers: [{ name: 'a' }] };
    const r = podStatus(pod(spec, { phase: 'Running', conditions: [{ type: 'Initialized', status: 'True' }], initContainerStatuses: [{ ...running('proxy'), started: true }], containerStatuses: [running('a')] }));
    assert.deepEqual(r, { status: 'Running', ready: '2/2', restarts: 0 });
  });
  test('deleted pods are Terminating unless finished; NodeLost reads Unknown', () => {
    const spec = { containers: [{ name: 'a' }] };
    assert.equal(podStatus(pod(spec, { phase: 'Running', containerStatuses: [running('a')] }, { deletionTimestamp: '2024-01-01T00:00:00Z' })).status, 'Terminating');
    assert.equal(podStatus(pod(spec, { phase: 'Succeeded', containerStatuses: [terminated('a', 0, 'Completed')] }, { deletionTimestamp: '2024-01-01T00:00:00Z' })).status, 'Completed');
    assert.equal(podStatus(pod(spec, { phase: 'Running', reason: 'NodeLost' }, { deletionTimestamp: '2024-01-01T00:00:00Z' })).status, 'Unknown');
  });
  test('pod reason and scheduling gates', () => {
    assert.equal(podStatus(pod({ containers: [{ name: 'a' }] }, { phase: 'Failed', reason: 'Evicted' })).status, 'Evicted');
    assert.equal(podStatus(pod({ containers: [{ name: 'a' }] }, { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }] })).status, 'SchedulingGated');
  });
  test('tones', () => {
    assert.equal(statusTone('Running'), 'ok');
    assert.equal(statusTone('Completed'), 'done');
    assert.equal(statusTone('Pending'), 'warn');
    assert.equal(statusTone('Init:1/2'), 'warn');
    assert.equal(statusTone('Init:CrashLoopBackOff'), 'error');
    assert.equal(statusTone('CrashLoopBackOff'), 'error');
    assert.equal(statusTone('ExitCode:1'), 'error');
  });
  test('phase counts', () => {
    const pods = [pod({}, { phase: 'Running' }), pod({}, { phase: 'Running' }), pod({}, {}), pod({}, { phase: 'Failed' })];
    assert.deepEqual(podPhaseCounts(pods), { Running: 2, Pending: 1, Succeeded: 0, Failed: 1, Unknown: 0 });
  });
  test('container state line', () => {
    const now = Date.parse('2024-01-01T00:05:00Z');
    assert.deepEqual(containerState(running('a'), now), { text: 'Running for 5m', tone: 'ok' });
    assert.equal(containerState(waiting('a', 'ImagePullBackOff'), now).tone, 'error');
    assert.equal(containerState(terminated('a', 0, 'Completed'), now).text, 'Terminated: Completed (exit 0)');
    assert.equal(containerState(undefined, now).text, 'Not started');
  });
});

describe('other kubectl columns', () => {
  test('nodes', () => {
    const node = (conditions: any[], labels: Record<string, string> = {}, unschedulable = false) => ({ metadata: { name: 'n', labels }, spec: { unschedulable }, status: { conditions } });
    assert.equal(nodeStatus(node([{ type: 'Ready', status: 'True' }])), 'Ready');
    assert.equal(nodeStatus(node([{ type: 'Ready', status: 'False' }])), 'NotReady');
    assert.equal(nodeStatus(node([{ type: 'Ready', status: 'Unknown' }])), 'Unknown');
    assert.equal(nodeStatus(node([])), 'Unknown');
    assert.equal(nodeStatus(node([{ type: 'Ready', status: 'True' }], {}, true)), 'Ready,SchedulingDisabled');
    assert.equal(nodeRoles(node([], { 'node-role.kubernetes.io/control-plane': '', 'node-role.kubernetes.io/master': '' })), 'control-plane,master');
    assert.equal(nodeRoles(node([], { 'kubernetes.io/role': 'worker' })), 'worker');
    assert.equal(nodeRoles(node([])), '<none>');
  });
  test('deployments default to one replica', () => {
    assert.deepEqual(deploymentColumns({ spec: {}, status: {} }), { ready: '0/1', upToDate: 0, available: 0, desired: 1 });
    assert.deepEqual(deploymentColumns({ spec: { replicas: 3 }, status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 } }), { ready: '2/3', upToDate: 3, available: 2, desired: 3 });
  });
  test('jobs', () => {
    const now = Date.parse('2024-01-01T00:10:00Z');
    assert.deepEqual(jobColumns({ metadata: {}, spec: { completions: 3 }, status: { succeeded: 1, startTime: '2024-01-01T00:00:00Z' } }, now), { status: 'Running', completions: '1/3', duration: '10m' });
    assert.deepEqual(
      jobColumns({ metadata: {}, spec: { completions: 1 }, status: { succeeded: 1, startTime: '2024-01-01T00:00:00Z', completionTime: '2024-01-01T00:00:42Z', conditions: [{ type: 'Complete', status: 'True' }] } }, now),
      { status: 'Complete', completions: '1/1', duration: '42s' },
    );
    assert.equal(jobColumns({ metadata: {}, spec: { parallelism: 3 }, status: {} }, now).completions, '0/1 of 3');
    assert.equal(jobColumns({ metadata: {}, spec: { suspend: true }, status: {} }, now).status, 'Suspended');
    assert.equal(jobColumns({ metadata: {}, spec: {}, status: { conditions: [{ type: 'Failed', status: 'True' }] } }, now).status, 'Failed');
  });
  test('cron jobs', () => {
    const now = Date.parse('2024-01-01T01:00:00Z');
    assert.deepEqual(cronJobColumns({ spec: { schedule: '*/5 * * * *' }, status: { active: [{}], lastScheduleTime: '2024-01-01T00:55:00Z' } }, now), { schedule: '*/5 * * * *', timeZone: '<none>', suspend: 'False', active: 1, lastSchedule: '5m' });
  });
  test('services', () => {
    assert.equal(servicePorts({ spec: { ports: [{ port: 80, protocol: 'TCP' }, { port: 443, nodePort: 30443 }, { port: 53, protocol: 'UDP' }] } }), '80/TCP,443:30443/TCP,53/UDP');
    assert.equal(servicePorts({ spec: {} }), '<none>');
    assert.equal(serviceExternalIP({ spec: { type: 'ClusterIP' } }), '<none>');
    assert.equal(serviceExternalIP({ spec: { type: 'LoadBalancer' } }), '<pending>');
    assert.equal(serviceExternalIP({ spec: { type: 'LoadBalancer' }, status: { loadBalancer: { ingress: [{ ip: '192.0.2.10' }] } } }), '192.0.2.10');
    assert.equal(serviceExternalIP({ spec: { type: 'ExternalName', externalName: 'db.example.com' } }), 'db.example.com');
  });
  test('events newest first by their last occurrence', () => {
    const events = [
      { metadata: { name: 'old' }, lastTimestamp: '2024-01-01T00:00:00Z' },
      { metadata: { name: 'series' }, lastTimestamp: '2024-01-01T00:00:01Z', series: { lastObservedTime: '2024-01-01T00:09:00Z' } },
      { metadata: { name: 'new' }, eventTime: '2024-01-01T00:05:00.000000Z' },
    ];
    assert.deepEqual(sortEventsNewestFirst(events).map((e) => e.metadata.name), ['series', 'new', 'old']);
  });
});

describe('toYaml', () => {
  test('round-trips API objects through a real YAML parser', () => {
    const objects = [
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web', labels: { app: 'web', version: '1.0', enabled: 'true', empty: '' }, annotations: {} },
        spec: {
          replicas: 3,
          template: { spec: { containers: [{ name: 'c', image: 'busybox:1.36', command: ['sh', '-c', 'echo "hi: there" # not a comment\nsleep 10\n'], env: [{ name: 'X', value: '0755' }, { name: 'Y', value: 'null' }] }] } },
          nested: [[1, 2], [], [{ a: null, b: false }], '- dash', ': colon', 'tab\there', 'trailing ', ' leading'],
        },
        weird: { 'key with: colon': 1, '#hash': 2, '': 3, '0x1F': '0x1F', 'yes': 'no', '1e3': 1e3, '-': '-', '~': '~' },
        text: 'ends without newline\nsecond',
        kept: 'two\nlines\n\n',
      },
    ];
    for (const o of objects) assert.deepEqual(parseYaml(toYaml(o)), o);
  });
  test('reads like kubectl -o yaml', () => {
    assert.equal(toYaml({ metadata: { name: 'a' }, spec: { ports: [{ port: 80 }, { port: 443 }], empty: [] } }), 'metadata:\n  name: a\nspec:\n  ports:\n  - port: 80\n  - port: 443\n  empty: []\n');
  });
});
