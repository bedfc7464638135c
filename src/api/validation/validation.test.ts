import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { validateObject, validateUpdate, statusError422, errorString } from './index.js';
import { applyDefaults, generateJobSelector } from '../defaults/index.js';
import type { KubeObject } from '../types.js';

const lines = (gk: string, obj: KubeObject) => validateObject(gk, obj).map(errorString);
const defaulted = (gk: string, obj: KubeObject) => applyDefaults(gk, structuredClone(obj));

const pod = (spec: Record<string, unknown>, meta: Record<string, unknown> = {}): KubeObject =>
  defaulted('Pod', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', ...meta }, spec });

const deployment = (spec: Record<string, unknown>): KubeObject =>
  defaulted('Deployment.apps', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x', namespace: 'default' }, spec });

const containers = [{ name: 'c', image: 'busybox' }];

describe('metadata', () => {
  const cases: Array<[string, KubeObject, string[]]> = [
    ['name required', { metadata: { namespace: 'default' }, spec: { containers } }, ['metadata.name: Required value: name or generateName is required']],
    [
      'subdomain name',
      { metadata: { name: 'Foo_Bar', namespace: 'default' }, spec: { containers } },
      [
        `metadata.name: Invalid value: "Foo_Bar": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
      ],
    ],
    ['generateName is enough', { metadata: { generateName: 'web-', namespace: 'default' }, spec: { containers } }, []],
    [
      'label value',
      { metadata: { name: 'a', namespace: 'default', labels: { app: '-x' } }, spec: { containers } },
      [
        `metadata.labels: Invalid value: "-x": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
      ],
    ],
    [
      'owner references',
      { metadata: { name: 'a', namespace: 'default', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'r', uid: '' }] }, spec: { containers } },
      ['metadata.ownerReferences.uid: Invalid value: "": uid must not be empty'],
    ],
  ];
  for (const [title, obj, want] of cases) {
    test(title, () => assert.deepEqual(lines('Pod', defaulted('Pod', obj)), want));
  }
  test('service names are DNS-1035 labels', () => {
    const svc = defaulted('Service', { metadata: { name: '1abc', namespace: 'd' }, spec: { ports: [{ port: 80 }] } });
    assert.match(lines('Service', svc)[0], /^metadata\.name: Invalid value: "1abc": a DNS-1035 label must consist of/);
  });
  test('namespace names are DNS-1123 labels and cluster-scoped', () => {
    assert.match(lines('Namespace', defaulted('Namespace', { metadata: { name: 'a.b' } }))[0], /a lowercase RFC 1123 label must consist/);
    assert.deepEqual(lines('Namespace', defaulted('Namespace', { metadata: { name: 'ab', namespace: 'x' } })), ['metadata.namespace: Forbidden: not allowed on this type']);
  });
});

describe('Pod', () => {
  const cases: Array<[string, KubeObject, string[]]> = [
    ['valid', pod({ containers }), []],
    ['containers required', pod({}), ['spec.containers: Required value']],
    ['image required', pod({ containers: [{ name: 'c' }] }), ['spec.containers[0].image: Required value']],
    [
      'duplicate names',
      pod({ containers: [{ name: 'c', image: 'a' }, { name: 'c', image: 'b' }] }),
      ['spec.containers[1].name: Duplicate value: "c"'],
    ],
    [
      'restart policy',
      pod({ containers, restartPolicy: 'Sometimes' }),
      ['spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"'],
    ],
    [
      'requests above limits',
      pod({ containers: [{ name: 'c', image: 'a', resources: { requests: { cpu: '2' }, limits: { cpu: '1' } } }] }),
      ['spec.containers[0].resources.requests[cpu]: Invalid value: "2": must be less than or equal to cpu limit of 1'],
    ],
    [
      'port range',
      pod({ containers: [{ name: 'c', image: 'a', ports: [{ containerPort: 70000 }] }] }),
      ['spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive'],
    ],
    [
      'volume mount must name a volume',
      pod({ containers: [{ name: 'c', image: 'a', volumeMounts: [{ name: 'v', mountPath: '/v' }] }] }),
      ['spec.containers[0].volumeMounts[0].name: Not found: "v"'],
    ],
    [
      // A volume with no source is defaulted to emptyDir, so only the second one is wrong.
      'volume needs exactly one source',
      pod({ containers, volumes: [{ name: 'v' }, { name: 'w', emptyDir: {}, hostPath: { path: '/x' } }] }),
      ['spec.volumes[1].emptyDir: Forbidden: may not specify more than 1 volume type'],
    ],
    [
      'probe needs a handler',
      pod({ containers: [{ name: 'c', image: 'a', livenessProbe: {} }] }),
      ['spec.containers[0].livenessProbe: Required value: must specify a handler type'],
    ],
    [
      'init container probes',
      pod({ containers, initContainers: [{ name: 'i', image: 'a', readinessProbe: { exec: { command: ['x'] } } }] }),
      ['spec.initContainers[0].readinessProbe: Forbidden: may not be set for init containers without restartPolicy=Always'],
    ],
    [
      'env names',
      pod({ containers: [{ name: 'c', image: 'a', env: [{ name: '1X', value: 'y' }] }] }),
      [
        `spec.containers[0].env[0].name: Invalid value: "1X": a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')`,
      ],
    ],
  ];
  for (const [title, obj, want] of cases) test(title, () => assert.deepEqual(lines('Pod', obj), want));

  test('update may change only images and the like', () => {
    const old = pod({ containers });
    const imageOnly = structuredClone(old);
    imageOnly.spec.containers[0].image = 'busybox:2';
    assert.deepEqual(validateUpdate('Pod', imageOnly, old), []);
    const ports = structuredClone(old);
    ports.spec.containers[0].ports = [{ containerPort: 80, protocol: 'TCP' }];
    assert.deepEqual(validateUpdate('Pod', ports, old).map(errorString), [
      'spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
    ]);
  });
});

describe('workloads', () => {
  const template = { metadata: { labels: { app: 'x' } }, spec: { containers } };
  test('deployment without selector', () => {
    const d = deployment({ template });
    const errs = validateObject('Deployment.apps', d);
    assert.deepEqual(errs.map(errorString), [
      'spec.selector: Required value',
      'spec.template.metadata.labels: Invalid value: map[string]string{"app":"x"}: `selector` does not match template `labels`',
    ]);
    const status = statusError422('Deployment.apps', 'x', errs);
    assert.equal(
      status.message,
      'Deployment.apps "x" is invalid: [spec.selector: Required value, spec.template.metadata.labels: Invalid value: map[string]string{"app":"x"}: `selector` does not match template `labels`]',
    );
    assert.deepEqual(status.details.causes[0], { reason: 'FieldValueRequired', message: 'Required value', field: 'spec.selector' });
    assert.equal(status.details.group, 'apps');
    assert.equal(status.code, 422);
    assert.equal(statusError422('Pod', 'p', errs.slice(0, 1)).message, 'Pod "p" is invalid: spec.selector: Required value');
  });
  test('deployment valid, replicas, restartPolicy', () => {
    assert.deepEqual(lines('Deployment.apps', deployment({ selector: { matchLabels: { app: 'x' } }, template })), []);
    assert.deepEqual(lines('Deployment.apps', deployment({ replicas: -1, selector: { matchLabels: { app: 'x' } }, template: { ...template, spec: { containers, restartPolicy: 'Never' } } })), [
      'spec.replicas: Invalid value: -1: must be greater than or equal to 0',
      'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"',
    ]);
  });
  test('selector is immutable', () => {
    const old = deployment({ selector: { matchLabels: { app: 'x' } }, template });
    const changed = structuredClone(old);
    changed.spec.selector = { matchLabels: { app: 'x', v: '2' } };
    changed.spec.template.metadata.labels.v = '2';
    assert.deepEqual(validateUpdate('Deployment.apps', changed, old).map(errorString), [
      'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"x", "v":"2"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable',
    ]);
  });
  test('job restartPolicy and cron schedule', () => {
    const job = defaulted('Job.batch', { metadata: { name: 'j', namespace: 'd', uid: 'u1' }, spec: { template: { spec: { containers, restartPolicy: 'Always' } } } });
    assert.deepEqual(lines('Job.batch', job)[0], 'spec.selector: Required value');
    generateJobSelector(job, 'u1');
    assert.deepEqual(job.spec.selector, { matchLabels: { 'batch.kubernetes.io/controller-uid': 'u1' } });
    assert.equal(job.spec.template.metadata.labels['job-name'], 'j');
    assert.deepEqual(lines('Job.batch', job), ['spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"']);
    const cron = (schedule: string, extra = {}) =>
      defaulted('CronJob.batch', {
        metadata: { name: 'c', namespace: 'd' },
        spec: { schedule, ...extra, jobTemplate: { spec: { template: { spec: { containers, restartPolicy: 'OnFailure' } } } } },
      });
    assert.deepEqual(lines('CronJob.batch', cron('@hourly')), []);
    assert.deepEqual(lines('CronJob.batch', cron('*/5 * * * *')), []);
    assert.deepEqual(lines('CronJob.batch', cron('* * * *')), ['spec.schedule: Invalid value: "* * * *": expected exactly 5 fields, found 4: [* * * *]']);
    assert.deepEqual(lines('CronJob.batch', cron('@every 1h')), []);
    assert.deepEqual(lines('CronJob.batch', cron('* * * * *', { concurrencyPolicy: 'Sometimes' })), [
      'spec.concurrencyPolicy: Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace"',
    ]);
  });
});

describe('Service, ConfigMap, Secret, RBAC', () => {
  const svc = (spec: Record<string, unknown>) => defaulted('Service', { metadata: { name: 's', namespace: 'd' }, spec });
  test('service rules', () => {
    assert.deepEqual(lines('Service', svc({ ports: [] })), ['spec.ports: Required value']);
    assert.deepEqual(lines('Service', svc({ clusterIP: 'None' })), []);
    assert.deepEqual(lines('Service', svc({ type: 'ExternalName', externalName: 'example.com' })), []);
    assert.deepEqual(lines('Service', svc({ type: 'NodePort', ports: [{ port: 80, nodePort: 80 }] })), [
      'spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range. The range of valid ports is 30000-32767',
    ]);
    assert.deepEqual(lines('Service', svc({ type: 'Magic', ports: [{ port: 80 }] })), [
      'spec.type: Unsupported value: "Magic": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
    ]);
    const old = svc({ ports: [{ port: 80 }], clusterIP: '10.0.0.1' });
    const moved = structuredClone(old);
    moved.spec.clusterIP = '10.0.0.2';
    moved.spec.clusterIPs = ['10.0.0.2'];
    assert.deepEqual(validateUpdate('Service', moved, old).map(errorString), ['spec.clusterIPs[0]: Invalid value: []string{"10.0.0.2"}: may not change once set']);
  });
  test('configmap keys and immutability', () => {
    const cm = { metadata: { name: 'c', namespace: 'd' }, data: { 'a b': 'x' } };
    assert.match(lines('ConfigMap', cm)[0], /^data\[a b\]: Invalid value: "a b": a valid config key must consist of alphanumeric characters/);
    const old = { metadata: { name: 'c', namespace: 'd' }, data: { a: '1' }, immutable: true };
    assert.deepEqual(validateUpdate('ConfigMap', { ...old, data: { a: '2' } }, old).map(errorString), ['data: Forbidden: field is immutable when `immutable` is set']);
  });
  test('secret tls keys', () => {
    assert.deepEqual(lines('Secret', defaulted('Secret', { metadata: { name: 's', namespace: 'd' }, type: 'kubernetes.io/tls', data: {} })), [
      'data[tls.crt]: Required value',
      'data[tls.key]: Required value',
    ]);
  });
  test('roleRef is required and immutable', () => {
    const rb = { metadata: { name: 'rb', namespace: 'd' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r' }, subjects: [] };
    assert.deepEqual(lines('RoleBinding.rbac.authorization.k8s.io', rb), []);
    assert.deepEqual(lines('RoleBinding.rbac.authorization.k8s.io', { ...rb, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role' } }), ['roleRef.name: Required value']);
    const changed = { ...rb, roleRef: { ...rb.roleRef, name: 'other' } };
    assert.deepEqual(validateUpdate('RoleBinding.rbac.authorization.k8s.io', changed, rb).map(errorString), [
      'roleRef: Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"Role", Name:"other"}: cannot change roleRef',
    ]);
  });
  test('CRD needs exactly one storage version', () => {
    const crd = {
      metadata: { name: 'widgets.example.com' },
      spec: {
        group: 'example.com',
        scope: 'Namespaced',
        names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object' } } }],
      },
    };
    assert.deepEqual(lines('CustomResourceDefinition.apiextensions.k8s.io', crd), []);
    crd.spec.versions[0].storage = false;
    assert.deepEqual(lines('CustomResourceDefinition.apiextensions.k8s.io', crd), [
      'spec.versions: Invalid value: must have exactly one version marked as storage version',
    ]);
  });
});

describe('networking, policy, storage, coordination, scheduling', () => {
  const m = (name: string, namespace?: string) => ({ name, ...(namespace ? { namespace } : {}) });
  // [gk, object, expected error lines] — valid objects first, then one typical mistake each.
  const cases: Array<[string, KubeObject, string[]]> = [
    [
      'Ingress.networking.k8s.io',
      {
        metadata: m('i', 'd'),
        spec: { rules: [{ host: 'a.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
      },
      [],
    ],
    [
      'Ingress.networking.k8s.io',
      { metadata: m('i', 'd'), spec: { rules: [{ http: { paths: [{ path: '/', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] } },
      ['spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified'],
    ],
    ['NetworkPolicy.networking.k8s.io', { metadata: m('n', 'd'), spec: { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8' } }] }] } }, []],
    [
      'NetworkPolicy.networking.k8s.io',
      { metadata: m('n', 'd'), spec: { podSelector: {}, policyTypes: ['Sideways'] } },
      ['spec.policyTypes[0]: Unsupported value: "Sideways": supported values: "Egress", "Ingress"'],
    ],
    [
      'HorizontalPodAutoscaler.autoscaling',
      { apiVersion: 'autoscaling/v2', metadata: m('h', 'd'), spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, minReplicas: 3, maxReplicas: 2 } },
      ['spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`'],
    ],
    ['HorizontalPodAutoscaler.autoscaling', { apiVersion: 'autoscaling/v1', metadata: m('h', 'd'), spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, maxReplicas: 2 } }, []],
    [
      'PodDisruptionBudget.policy',
      { metadata: m('p', 'd'), spec: { minAvailable: 1, maxUnavailable: 1 } },
      ['spec: Invalid value: minAvailable and maxUnavailable cannot be both set'],
    ],
    ['PersistentVolume', { metadata: m('pv'), spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/data' } } }, []],
    ['PersistentVolume', { metadata: m('pv'), spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'] } }, ['spec: Required value: must specify a volume type']],
    ['PersistentVolumeClaim', { metadata: m('c', 'd'), spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }, []],
    [
      'PersistentVolumeClaim',
      { metadata: m('c', 'd'), spec: { resources: { requests: {} } } },
      ['spec.accessModes: Required value: at least 1 access mode is required', 'spec.resources[storage]: Required value'],
    ],
    ['StorageClass.storage.k8s.io', { metadata: m('s'), provisioner: 'rancher.io/local-path' }, []],
    ['Lease.coordination.k8s.io', { metadata: m('l', 'd'), spec: { holderIdentity: 'a', leaseDurationSeconds: 0 } }, ['spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0']],
    ['EndpointSlice.discovery.k8s.io', { metadata: m('e', 'd'), addressType: 'IPv4', endpoints: [{ addresses: ['10.0.0.1'] }], ports: [{ port: 80 }] }, []],
    [
      'EndpointSlice.discovery.k8s.io',
      { metadata: m('e', 'd'), addressType: 'IPv4', endpoints: [{ addresses: [] }] },
      ['endpoints[0].addresses: Required value: must contain at least 1 address'],
    ],
    ['PriorityClass.scheduling.k8s.io', { metadata: m('high'), value: 2000000000 }, ['value: Forbidden: maximum allowed value of a user defined priority is 1000000000']],
    ['RuntimeClass.node.k8s.io', { metadata: m('r') }, ['handler: Required value']],
    ['Role.rbac.authorization.k8s.io', { metadata: m('r', 'd'), rules: [{ apiGroups: [''], resources: ['pods'], verbs: [] }] }, ['rules[0].verbs: Required value: verbs must contain at least one value']],
  ];
  cases.forEach(([gk, obj, want], i) => {
    test(`${gk} #${i}`, () => assert.deepEqual(lines(gk, defaulted(gk, obj)), want));
  });
  test('StorageClass parameters are immutable', () => {
    const old = defaulted('StorageClass.storage.k8s.io', { metadata: m('s'), provisioner: 'p.io/x', parameters: { a: '1' } });
    const changed = { ...structuredClone(old), parameters: { a: '2' } };
    assert.deepEqual(validateUpdate('StorageClass.storage.k8s.io', changed, old).map(errorString), ['parameters: Forbidden: updates to parameters are forbidden.']);
  });
});
