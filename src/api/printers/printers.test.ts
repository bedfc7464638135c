import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { printers, printerFor, humanDuration } from './index.js';
import type { KubeObject } from '../types.js';

const now = new Date('2024-05-01T12:00:00Z');
const ago = (seconds: number) => new Date(now.getTime() - seconds * 1000).toISOString();

describe('humanDuration (duration.HumanDuration)', () => {
  const s = 1000;
  const cases: Array<[number, string]> = [
    [-3 * s, '<invalid>'],
    [-1 * s, '0s'],
    [0, '0s'],
    [5 * s, '5s'],
    [119 * s, '119s'],
    [120 * s, '2m'],
    [182 * s, '3m2s'],
    [10 * 60 * s, '10m'],
    [179 * 60 * s, '179m'],
    [3 * 3600 * s, '3h'],
    [4 * 3600 * s + 5 * 60 * s, '4h5m'],
    [8 * 3600 * s + 30 * 60 * s, '8h'],
    [47 * 3600 * s, '47h'],
    [51 * 3600 * s, '2d3h'],
    [7 * 24 * 3600 * s, '7d'],
    [45 * 24 * 3600 * s, '45d'],
    [(2 * 365 + 20) * 24 * 3600 * s, '2y20d'],
    [3 * 365 * 24 * 3600 * s, '3y'],
    [10 * 365 * 24 * 3600 * s, '10y'],
  ];
  for (const [ms, want] of cases) test(`${ms}ms → ${want}`, () => assert.equal(humanDuration(ms), want));
});

const pod = (status: Record<string, unknown>, spec: Record<string, unknown> = {}, meta: Record<string, unknown> = {}): KubeObject => ({
  metadata: { name: 'p', creationTimestamp: ago(300), ...meta },
  spec: { containers: [{ name: 'c', image: 'i' }], ...spec },
  status,
});

describe('Pod printer', () => {
  const cells = (p: KubeObject) => printers.Pod.cells(p, now);
  test('columns', () => {
    assert.deepEqual(
      printers.Pod.columns.map((c) => [c.name, c.priority]),
      [['Name', 0], ['Ready', 0], ['Status', 0], ['Restarts', 0], ['Age', 0], ['IP', 1], ['Node', 1], ['Nominated Node', 1], ['Readiness Gates', 1]],
    );
  });
  const cases: Array<[string, KubeObject, string, string?]> = [
    ['pending', pod({ phase: 'Pending' }), 'Pending'],
    ['running', pod({ phase: 'Running', containerStatuses: [{ name: 'c', ready: true, restartCount: 0, state: { running: {} } }] }), 'Running'],
    [
      'container creating',
      pod({ phase: 'Pending', containerStatuses: [{ name: 'c', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } }] }),
      'ContainerCreating',
    ],
    [
      'crash loop with restarts',
      pod({
        phase: 'Running',
        containerStatuses: [
          {
            name: 'c',
            restartCount: 3,
            state: { waiting: { reason: 'CrashLoopBackOff' } },
            lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: ago(25) } },
          },
        ],
      }),
      'CrashLoopBackOff',
      '3 (25s ago)',
    ],
    ['completed', pod({ phase: 'Succeeded', containerStatuses: [{ name: 'c', state: { terminated: { exitCode: 0, reason: 'Completed' } } }] }), 'Completed'],
    ['oom', pod({ phase: 'Running', containerStatuses: [{ name: 'c', state: { terminated: { exitCode: 137, reason: 'OOMKilled' } } }] }), 'OOMKilled'],
    ['exit code without reason', pod({ phase: 'Failed', containerStatuses: [{ name: 'c', state: { terminated: { exitCode: 2 } } }] }), 'ExitCode:2'],
    [
      'init 0/1',
      pod({ phase: 'Pending', initContainerStatuses: [{ name: 'i', state: { running: {} } }] }, { initContainers: [{ name: 'i', image: 'x' }] }),
      'Init:0/1',
    ],
    [
      'init error',
      pod({ phase: 'Pending', initContainerStatuses: [{ name: 'i', state: { terminated: { exitCode: 1, reason: 'Error' } } }] }, { initContainers: [{ name: 'i', image: 'x' }] }),
      'Init:Error',
    ],
    [
      'pod initializing',
      pod(
        {
          phase: 'Pending',
          initContainerStatuses: [{ name: 'i', state: { terminated: { exitCode: 0, reason: 'Completed' } } }],
          containerStatuses: [{ name: 'c', state: { waiting: { reason: 'PodInitializing' } } }],
        },
        { initContainers: [{ name: 'i', image: 'x' }] },
      ),
      'PodInitializing',
    ],
    ['terminating', pod({ phase: 'Running' }, {}, { deletionTimestamp: ago(1) }), 'Terminating'],
    ['node lost', pod({ phase: 'Running', reason: 'NodeLost' }, {}, { deletionTimestamp: ago(1) }), 'Unknown'],
    ['evicted', pod({ phase: 'Failed', reason: 'Evicted' }), 'Evicted'],
  ];
  for (const [title, p, status, restarts] of cases) {
    test(title, () => {
      const row = cells(p);
      assert.equal(row[2], status);
      if (restarts) assert.equal(row[3], restarts);
    });
  }
  test('ready count and wide cells', () => {
    const p = pod(
      { phase: 'Running', podIPs: [{ ip: '10.0.0.5' }], podIP: '10.0.0.5', conditions: [{ type: 'x/gate', status: 'True' }], containerStatuses: [{ name: 'c', ready: true, state: { running: {} } }] },
      { nodeName: 'n1', readinessGates: [{ conditionType: 'x/gate' }] },
    );
    assert.deepEqual(cells(p), ['p', '1/1', 'Running', '0', '5m', '10.0.0.5', 'n1', '<none>', '1/1']);
  });
});

describe('workload printers', () => {
  test('Deployment', () => {
    const d: KubeObject = {
      metadata: { name: 'web', creationTimestamp: ago(3600 * 50) },
      spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: { spec: { containers: [{ name: 'a', image: 'nginx' }, { name: 'b', image: 'envoy' }] } } },
      status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 },
    };
    assert.deepEqual(printers['Deployment.apps'].cells(d, now), ['web', '2/3', 3, 2, '2d2h', 'a,b', 'nginx,envoy', 'app=web']);
  });
  test('Job completions, duration and status', () => {
    const job: KubeObject = {
      metadata: { name: 'j', creationTimestamp: ago(100) },
      spec: { completions: 3, parallelism: 1, template: { spec: { containers: [{ name: 'c', image: 'i' }] } }, selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'u' } } },
      status: { succeeded: 3, startTime: ago(100), completionTime: ago(40), conditions: [{ type: 'Complete', status: 'True' }] },
    };
    assert.deepEqual(printers['Job.batch'].cells(job, now).slice(0, 5), ['j', 'Complete', '3/3', '60s', '100s']);
    const queue: KubeObject = { metadata: { name: 'q' }, spec: { parallelism: 4 }, status: {} };
    assert.deepEqual(printers['Job.batch'].cells(queue, now).slice(0, 4), ['q', 'Running', '0/1 of 4', '']);
  });
  test('CronJob', () => {
    const cj: KubeObject = { metadata: { name: 'c', creationTimestamp: ago(10) }, spec: { schedule: '*/1 * * * *', suspend: false }, status: {} };
    assert.deepEqual(printers['CronJob.batch'].cells(cj, now).slice(0, 7), ['c', '*/1 * * * *', '<none>', 'False', 0, '<none>', '10s']);
  });
  test('DaemonSet node selector', () => {
    const ds: KubeObject = { metadata: { name: 'd' }, spec: { template: { spec: { nodeSelector: { 'kubernetes.io/os': 'linux' } } } }, status: { desiredNumberScheduled: 2 } };
    assert.deepEqual(printers['DaemonSet.apps'].cells(ds, now).slice(0, 8), ['d', 2, 0, 0, 0, 0, 'kubernetes.io/os=linux', '<unknown>']);
  });
});

describe('service, node and others', () => {
  test('Service', () => {
    const svc: KubeObject = {
      metadata: { name: 's', creationTimestamp: ago(5) },
      spec: { type: 'NodePort', clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }], selector: { app: 'x' } },
    };
    assert.deepEqual(printers.Service.cells(svc, now), ['s', 'NodePort', '10.96.0.10', '<none>', '80:30080/TCP,53/UDP', '5s', 'app=x']);
    const lb: KubeObject = { metadata: { name: 'l' }, spec: { type: 'LoadBalancer', clusterIPs: ['10.0.0.1'], ports: [] } };
    assert.equal(printers.Service.cells(lb, now)[3], '<pending>');
  });
  test('Node', () => {
    const node: KubeObject = {
      metadata: { name: 'n', creationTimestamp: ago(60), labels: { 'node-role.kubernetes.io/control-plane': '', 'node-role.kubernetes.io/master': '' } },
      spec: { unschedulable: true },
      status: {
        conditions: [{ type: 'Ready', status: 'True' }],
        addresses: [{ type: 'InternalIP', address: '192.168.1.2' }],
        nodeInfo: { kubeletVersion: 'v1.30.0', osImage: 'Debian', kernelVersion: '6.1', containerRuntimeVersion: 'navarch://0.1' },
      },
    };
    assert.deepEqual(printers.Node.cells(node, now), [
      'n',
      'Ready,SchedulingDisabled',
      'control-plane,master',
      '60s',
      'v1.30.0',
      '192.168.1.2',
      '<none>',
      'Debian',
      '6.1',
      'navarch://0.1',
    ]);
  });
  test('Endpoints and EndpointSlice', () => {
    const ep: KubeObject = { metadata: { name: 'e' }, subsets: [{ addresses: [1, 2, 3, 4].map((i) => ({ ip: `10.0.0.${i}` })), ports: [{ port: 80 }] }] };
    assert.equal(printers.Endpoints.cells(ep, now)[1], '10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 1 more...');
    const es: KubeObject = { metadata: { name: 'e' }, addressType: 'IPv4', ports: [{ port: 80 }], endpoints: [{ addresses: ['10.0.0.1'] }] };
    assert.deepEqual(printers['EndpointSlice.discovery.k8s.io'].cells(es, now).slice(0, 4), ['e', 'IPv4', '80', '10.0.0.1']);
  });
  test('Secret, ConfigMap, Event, default', () => {
    assert.deepEqual(printers.Secret.cells({ metadata: { name: 's' }, type: 'Opaque', data: { a: 'eA==' } }, now), ['s', 'Opaque', 1, '<unknown>']);
    assert.deepEqual(printers.ConfigMap.cells({ metadata: { name: 'c' }, data: { a: '1' }, binaryData: { b: 'eA==' } }, now), ['c', 2, '<unknown>']);
    const ev: KubeObject = {
      metadata: { name: 'p.1' },
      type: 'Normal',
      reason: 'Scheduled',
      involvedObject: { kind: 'Pod', name: 'p' },
      source: { component: 'default-scheduler' },
      message: 'Successfully assigned default/p to n1 ',
      firstTimestamp: ago(30),
      lastTimestamp: ago(10),
      count: 2,
    };
    assert.deepEqual(printers.Event.cells(ev, now), ['10s', 'Normal', 'Scheduled', 'pod/p', '', 'default-scheduler', 'Successfully assigned default/p to n1', '30s', 2, 'p.1']);
    assert.deepEqual(printerFor('Widget.example.com').cells({ metadata: { name: 'w', creationTimestamp: ago(7) } }, now), ['w', '7s']);
  });
  test('HPA targets', () => {
    const hpa: KubeObject = {
      apiVersion: 'autoscaling/v2',
      metadata: { name: 'h' },
      spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 5, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }] },
      status: { currentReplicas: 2 },
    };
    assert.deepEqual(printers['HorizontalPodAutoscaler.autoscaling'].cells(hpa, now).slice(0, 6), ['h', 'Deployment/web', 'cpu: <unknown>/50%', '1', 5, 2]);
  });
});
