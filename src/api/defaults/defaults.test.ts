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
