import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { applyDefaults, defaultImagePullPolicy, generateJobSelector, prepareServiceForUpdate } from './index.js';
import type { KubeObject } from '../types.js';

const d = (gk: string, obj: Record<string, unknown>) => applyDefaults(gk, { metadata: { name: 'x' }, ...obj } as KubeObject);

describe('Pod defaults', () => {
  test('pod spec and containers', () => {
    const pod = d('Pod', {
      spec: {
        containers: [
          {
            name: 'c',
            image: 'nginx',
            ports: [{ containerPort: 80 }],
            livenessProbe: { httpGet: { port: 80 } },
            resources: { limits: { cpu: '1' } },
          },
        ],
      },
    });
    const spec = pod.spec;
    assert.equal(spec.restartPolicy, 'Always');
    assert.equal(spec.dnsPolicy, 'ClusterFirst');
    assert.equal(spec.schedulerName, 'default-scheduler');
    assert.equal(spec.terminationGracePeriodSeconds, 30);
    assert.deepEqual(spec.securityContext, {});
    assert.equal(spec.enableServiceLinks, true);
    assert.equal(spec.serviceAccountName, undefined, 'service account is admission, not defaulting');
    const c = spec.containers[0];
    assert.equal(c.terminationMessagePath, '/dev/termination-log');
    assert.equal(c.terminationMessagePolicy, 'File');
    assert.equal(c.imagePullPolicy, 'Always');
    assert.equal(c.ports[0].protocol, 'TCP');
    assert.deepEqual(c.livenessProbe, { httpGet: { port: 80, path: '/', scheme: 'HTTP' }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 });
    assert.deepEqual(c.resources.requests, { cpu: '1' });
    assert.equal(pod.status.phase, 'Pending');
  });
  const pullCases: Array<[string, string]> = [
    ['nginx', 'Always'],
    ['nginx:latest', 'Always'],
    ['nginx:1.25', 'IfNotPresent'],
    ['localhost:5000/app', 'Always'],
    ['localhost:5000/app:v1', 'IfNotPresent'],
    ['busybox@sha256:abc', 'IfNotPresent'],
  ];
  for (const [image, want] of pullCases) test(`imagePullPolicy ${image}`, () => assert.equal(defaultImagePullPolicy(image), want));
});

describe('workload defaults', () => {
  test('Deployment', () => {
    const dep = d('Deployment.apps', { spec: { template: { spec: { containers: [{ name: 'c', image: 'a:1' }] } } } });
    assert.equal(dep.spec.replicas, 1);
    assert.deepEqual(dep.spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } });
    assert.equal(dep.spec.revisionHistoryLimit, 10);
    assert.equal(dep.spec.progressDeadlineSeconds, 600);
    assert.equal(dep.spec.template.spec.restartPolicy, 'Always');
    assert.equal(dep.spec.template.spec.containers[0].imagePullPolicy, 'IfNotPresent');
  });
  test('DaemonSet and StatefulSet', () => {
    const ds = d('DaemonSet.apps', { spec: {} });
    assert.deepEqual(ds.spec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
    const ss = d('StatefulSet.apps', { spec: {} });
    assert.equal(ss.spec.podManagementPolicy, 'OrderedReady');
    assert.deepEqual(ss.spec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { partition: 0 } });
    assert.deepEqual(ss.spec.persistentVolumeClaimRetentionPolicy, { whenDeleted: 'Retain', whenScaled: 'Retain' });
  });
  test('Job completions/parallelism follow Kubernetes', () => {
    const plain = d('Job.batch', { spec: {} });
    assert.equal(plain.spec.completions, 1);
    assert.equal(plain.spec.parallelism, 1);
    assert.equal(plain.spec.backoffLimit, 6);
    assert.equal(plain.spec.completionMode, 'NonIndexed');
    assert.equal(plain.spec.suspend, false);
    assert.equal(plain.spec.podReplacementPolicy, 'TerminatingOrFailed');
    const workQueue = d('Job.batch', { spec: { parallelism: 3 } });
    assert.equal(workQueue.spec.completions, undefined);
    const job = d('Job.batch', { metadata: { name: 'pi' }, spec: { template: { spec: {} } } });
    generateJobSelector(job, 'uid-1');
    assert.deepEqual(job.spec.template.metadata.labels, {
      'batch.kubernetes.io/controller-uid': 'uid-1',
      'batch.kubernetes.io/job-name': 'pi',
      'controller-uid': 'uid-1',
      'job-name': 'pi',
    });
    const manual = d('Job.batch', { spec: { manualSelector: true, selector: { matchLabels: { a: 'b' } } } });
    generateJobSelector(manual, 'uid-2');
    assert.deepEqual(manual.spec.selector, { matchLabels: { a: 'b' } });
  });
  test('CronJob', () => {
    const cj = d('CronJob.batch', { spec: { schedule: '@hourly', jobTemplate: { spec: {} } } });
    assert.equal(cj.spec.concurrencyPolicy, 'Allow');
    assert.equal(cj.spec.suspend, false);
    assert.equal(cj.spec.successfulJobsHistoryLimit, 3);
    assert.equal(cj.spec.failedJobsHistoryLimit, 1);
  });
  test('ReplicationController selector from template', () => {
    const rc = d('ReplicationController', { spec: { template: { metadata: { labels: { app: 'x' } }, spec: {} } } });
    assert.deepEqual(rc.spec.selector, { app: 'x' });
    assert.deepEqual(rc.metadata.labels, { app: 'x' });
  });
});

describe('other kinds', () => {
  test('Service', () => {
    const svc = d('Service', { spec: { ports: [{ port: 80 }, { port: 53, protocol: 'UDP', targetPort: 'dns' }] } });
    assert.equal(svc.spec.type, 'ClusterIP');
    assert.equal(svc.spec.sessionAffinity, 'None');
    assert.deepEqual(svc.spec.ports, [
      { port: 80, protocol: 'TCP', targetPort: 80 },
      { port: 53, protocol: 'UDP', targetPort: 'dns' },
    ]);
    assert.equal(svc.spec.ipFamilyPolicy, 'SingleStack');
    assert.deepEqual(svc.spec.ipFamilies, ['IPv4']);
    assert.equal(svc.spec.internalTrafficPolicy, 'Cluster');
  });
  test('Service update keeps allocations', () => {
    const old = { metadata: { name: 's' }, spec: { type: 'NodePort', clusterIP: '10.0.0.9', clusterIPs: ['10.0.0.9'], ports: [{ port: 80, protocol: 'TCP', nodePort: 30001 }] } };
    const next = { metadata: { name: 's' }, spec: { type: 'NodePort', ports: [{ port: 80, protocol: 'TCP' }] } } as KubeObject;
    prepareServiceForUpdate(next, old);
    assert.equal(next.spec.clusterIP, '10.0.0.9');
    assert.equal(next.spec.ports[0].nodePort, 30001);
  });
  test('Namespace, PV, PVC, Secret', () => {
    const ns = d('Namespace', {});
    assert.deepEqual(ns.spec.finalizers, ['kubernetes']);
    assert.equal(ns.status.phase, 'Active');
    assert.equal(d('PersistentVolume', { spec: {} }).spec.persistentVolumeReclaimPolicy, 'Retain');
    assert.equal(d('PersistentVolumeClaim', { spec: {} }).spec.volumeMode, 'Filesystem');
    const secret = d('Secret', { stringData: { a: 'hi' } });
    assert.equal(secret.type, 'Opaque');
    assert.deepEqual(secret.data, { a: 'aGk=' });
    assert.equal(secret.stringData, undefined);
  });
});

describe('quantities are stored in canonical form', () => {
  const podSpec = () => ({
    containers: [{ name: 'c', image: 'nginx:1', resources: { requests: { cpu: 0.5, memory: '1024Mi' }, limits: { cpu: '1000m', memory: '1.5Gi' } } }],
    initContainers: [{ name: 'i', image: 'nginx:1', resources: { limits: { cpu: '0.1' } } }],
    ephemeralContainers: [{ name: 'e', image: 'nginx:1', resources: { requests: { 'ephemeral-storage': '1000' } } }],
    overhead: { cpu: '0.25', memory: '0.5Gi' },
    volumes: [
      { name: 'v', emptyDir: { sizeLimit: '1024Ki' } },
      { name: 'w', ephemeral: { volumeClaimTemplate: { spec: { resources: { requests: { storage: '1000M' } } } } } },
    ],
  });
  const expectCanonical = (spec: any) => {
    assert.deepEqual(spec.containers[0].resources, { requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '1', memory: '1536Mi' } });
    // requests copied from limits carry the canonical form too
    assert.deepEqual(spec.initContainers[0].resources, { limits: { cpu: '100m' }, requests: { cpu: '100m' } });
    assert.deepEqual(spec.ephemeralContainers[0].resources.requests, { 'ephemeral-storage': '1k' });
    assert.deepEqual(spec.overhead, { cpu: '250m', memory: '512Mi' });
    assert.equal(spec.volumes[0].emptyDir.sizeLimit, '1Mi');
    assert.equal(spec.volumes[1].ephemeral.volumeClaimTemplate.spec.resources.requests.storage, '1G');
  };

  test('Pod, and the QoS class sees equal amounts as equal', () => {
    const pod = d('Pod', {
      spec: { ...podSpec(), initContainers: [], ephemeralContainers: [] },
    });
    assert.deepEqual(pod.spec.containers[0].resources.limits, { cpu: '1', memory: '1536Mi' });
    const guaranteed = d('Pod', { spec: { containers: [{ name: 'c', image: 'x:1', resources: { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1000m', memory: '1024Mi' } } }] } });
    assert.equal(guaranteed.status?.qosClass, 'Guaranteed');
    const full = d('Pod', { spec: podSpec() });
    expectCanonical(full.spec);
  });

  for (const [gk, wrap] of [
    ['Deployment.apps', (t: unknown) => ({ spec: { template: t } })],
    ['ReplicaSet.apps', (t: unknown) => ({ spec: { template: t } })],
    ['StatefulSet.apps', (t: unknown) => ({ spec: { template: t } })],
    ['DaemonSet.apps', (t: unknown) => ({ spec: { template: t } })],
    ['Job.batch', (t: unknown) => ({ spec: { template: t } })],
    ['ReplicationController', (t: unknown) => ({ spec: { template: t } })],
    ['PodTemplate', (t: unknown) => ({ template: t })],
  ] as const) {
    test(`${gk} pod template`, () => {
      const obj = d(gk, wrap({ metadata: { labels: { a: 'b' } }, spec: podSpec() })) as any;
      expectCanonical((obj.template ?? obj.spec.template).spec);
    });
  }

  test('CronJob job template', () => {
    const cj = d('CronJob.batch', { spec: { schedule: '* * * * *', jobTemplate: { spec: { template: { spec: podSpec() } } } } });
    expectCanonical(cj.spec.jobTemplate.spec.template.spec);
  });

  test('StatefulSet volumeClaimTemplates, PVC spec and status, PV capacity', () => {
    const ss = d('StatefulSet.apps', { spec: { volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { resources: { requests: { storage: '2048Mi' } } } }] } });
    assert.equal(ss.spec.volumeClaimTemplates[0].spec.resources.requests.storage, '2Gi');
    const pvc = d('PersistentVolumeClaim', { spec: { resources: { requests: { storage: '0.5Gi' }, limits: { storage: '1000Mi' } } }, status: { capacity: { storage: '1024Mi' } } });
    assert.deepEqual(pvc.spec.resources, { requests: { storage: '512Mi' }, limits: { storage: '1000Mi' } });
    assert.deepEqual(pvc.status.capacity, { storage: '1Gi' });
    const pv = d('PersistentVolume', { spec: { capacity: { storage: '1048576Ki' } } });
    assert.deepEqual(pv.spec.capacity, { storage: '1Gi' });
  });

  test('ResourceQuota, LimitRange, Node, RuntimeClass', () => {
    const rq = d('ResourceQuota', { spec: { hard: { 'requests.cpu': '2000m', pods: '10', 'limits.memory': '2048Mi' } }, status: { hard: { pods: '1000' }, used: { 'requests.cpu': '0.5' } } });
    assert.deepEqual(rq.spec.hard, { 'requests.cpu': '2', pods: '10', 'limits.memory': '2Gi' });
    assert.deepEqual(rq.status, { hard: { pods: '1k' }, used: { 'requests.cpu': '500m' } });
    const lr = d('LimitRange', { spec: { limits: [{ type: 'Container', max: { cpu: '2000m' }, min: { cpu: 0.1 }, default: { memory: '1024Mi' }, defaultRequest: { memory: '0.5Gi' }, maxLimitRequestRatio: { cpu: '1.50' } }] } });
    assert.deepEqual(lr.spec.limits[0], { type: 'Container', max: { cpu: '2' }, min: { cpu: '100m' }, default: { memory: '1Gi' }, defaultRequest: { memory: '512Mi' }, maxLimitRequestRatio: { cpu: '1500m' } });
    const node = d('Node', { status: { capacity: { cpu: '4', memory: '8388608Ki', pods: '110' } } });
    assert.deepEqual(node.status.capacity, { cpu: '4', memory: '8Gi', pods: '110' });
    assert.deepEqual(node.status.allocatable, { cpu: '4', memory: '8Gi', pods: '110' });
    const rc = d('RuntimeClass.node.k8s.io', { handler: 'runc', overhead: { podFixed: { cpu: '0.25', memory: '131072Ki' } } });
    assert.deepEqual(rc.overhead.podFixed, { cpu: '250m', memory: '128Mi' });
  });

  test('values validation rejects are left as written for its message', () => {
    const pod = d('Pod', { spec: { containers: [{ name: 'c', image: 'x:1', resources: { requests: { cpu: 'lots', memory: '1GB' } } }] } });
    assert.deepEqual(pod.spec.containers[0].resources.requests, { cpu: 'lots', memory: '1GB' });
  });
});
