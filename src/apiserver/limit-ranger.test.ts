// LimitRanger: Kubernetes' defaults, messages and field paths, table-driven, then through a
// real in-process API server (admission chain, 403 and 422 as clients see them).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../api/types.js';
import { applyContainerDefaults, canonicalQuantity, claimLimitViolations, podLimitViolations, validateLimitRangeSpec, type LimitRangeItem } from './limit-ranger.js';
import { startTestApiServer } from './testing.js';

const lr = (...limits: LimitRangeItem[]): KubeObject => ({ apiVersion: 'v1', kind: 'LimitRange', metadata: { name: 'lr', namespace: 'default' }, spec: { limits } });
const pod = (containers: { name: string; requests?: Record<string, string>; limits?: Record<string, string> }[], init: typeof containers = []): KubeObject => {
  const c = (x: (typeof containers)[number]) => ({ name: x.name, image: 'busybox', resources: { ...(x.requests ? { requests: x.requests } : {}), ...(x.limits ? { limits: x.limits } : {}) } });
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec: { containers: containers.map(c), initContainers: init.length ? init.map(c) : undefined } };
};

describe('canonicalQuantity (resource.Quantity String)', () => {
  for (const [input, want] of [['500m', '500m'], ['0.5', '500m'], ['1', '1'], ['1000m', '1'], ['2000', '2k'], ['1024Mi', '1Gi'], ['1536Mi', '1536Mi'], ['512', '512'], ['100Mi', '100Mi'], ['1G', '1G'], ['1000M', '1G'], ['0', '0'], ['1.5', '1500m']] as const) {
    test(`${input} → ${want}`, () => assert.equal(canonicalQuantity(input), want));
  }
});

describe('container defaults', () => {
  const cases: { name: string; ranges: KubeObject[]; pod: KubeObject; want: { requests?: any; limits?: any }[]; note?: string }[] = [
    {
      name: 'default and defaultRequest fill an empty container',
      ranges: [lr({ type: 'Container', default: { cpu: '500m', memory: '256Mi' }, defaultRequest: { cpu: '100m', memory: '128Mi' } })],
      pod: pod([{ name: 'c' }]),
      want: [{ requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } }],
      note: 'LimitRanger plugin set: cpu, memory request for container c; cpu, memory limit for container c',
    },
    {
      name: 'values the container states are kept; only the missing ones are noted',
      ranges: [lr({ type: 'Container', default: { cpu: '500m', memory: '256Mi' }, defaultRequest: { cpu: '100m', memory: '128Mi' } })],
      pod: pod([{ name: 'c', requests: { cpu: '200m' }, limits: { cpu: '300m' } }]),
      want: [{ requests: { cpu: '200m', memory: '128Mi' }, limits: { cpu: '300m', memory: '256Mi' } }],
      note: 'LimitRanger plugin set: memory request for container c; memory limit for container c',
    },
    {
      name: 'max stands in for a missing default; default for a missing defaultRequest; init containers named as such',
      ranges: [lr({ type: 'Container', max: { cpu: '1' } })],
      pod: pod([{ name: 'app' }], [{ name: 'setup' }]),
      want: [{ requests: { cpu: '1' }, limits: { cpu: '1' } }, { requests: { cpu: '1' }, limits: { cpu: '1' } }],
      note: 'LimitRanger plugin set: cpu request for container app; cpu limit for container app; cpu request for init container setup; cpu limit for init container setup',
    },
    {
      name: 'Pod and PVC items set no defaults',
      ranges: [lr({ type: 'Pod', max: { cpu: '2' } }, { type: 'PersistentVolumeClaim', max: { storage: '1Gi' } })],
      pod: pod([{ name: 'c' }]),
      want: [{}],
    },
  ];
  for (const tc of cases) {
    test(tc.name, () => {
      const note = applyContainerDefaults(tc.pod, tc.ranges);
      assert.equal(note, tc.note);
      const all = [...tc.pod.spec.containers, ...(tc.pod.spec.initContainers ?? [])];
      all.forEach((c: any, i: number) => {
        assert.deepEqual(c.resources.requests ?? undefined, tc.want[i].requests);
        assert.deepEqual(c.resources.limits ?? undefined, tc.want[i].limits);
      });
    });
  }
});

describe('pod and claim bounds', () => {
  const cases: { name: string; ranges: KubeObject[]; obj: KubeObject; claim?: boolean; want: string[] }[] = [
    { name: 'within bounds', ranges: [lr({ type: 'Container', max: { cpu: '1' }, min: { cpu: '100m' } })], obj: pod([{ name: 'c', requests: { cpu: '200m' }, limits: { cpu: '500m' } }]), want: [] },
    { name: 'limit over max', ranges: [lr({ type: 'Container', max: { cpu: '500m' } })], obj: pod([{ name: 'c', requests: { cpu: '100m' }, limits: { cpu: '800m' } }]), want: ['maximum cpu usage per Container is 500m, but limit is 800m'] },
    { name: 'no limit under max', ranges: [lr({ type: 'Container', max: { memory: '1Gi' } })], obj: pod([{ name: 'c' }]), want: ['maximum memory usage per Container is 1Gi.  No limit is specified'] },
    { name: 'request under min', ranges: [lr({ type: 'Container', min: { memory: '100Mi' } })], obj: pod([{ name: 'c', requests: { memory: '50Mi' } }]), want: ['minimum memory usage per Container is 100Mi, but request is 50Mi'] },
    { name: 'no request under min', ranges: [lr({ type: 'Container', min: { cpu: '100m' } })], obj: pod([{ name: 'c' }]), want: ['minimum cpu usage per Container is 100m.  No request is specified'] },
    { name: 'ratio too high', ranges: [lr({ type: 'Container', maxLimitRequestRatio: { cpu: '2' } })], obj: pod([{ name: 'c', requests: { cpu: '100m' }, limits: { cpu: '400m' } }]), want: ['cpu max limit to request ratio per Container is 2, but provided ratio is 4.000000'] },
    { name: 'ratio exactly at the bound', ranges: [lr({ type: 'Container', maxLimitRequestRatio: { cpu: '2' } })], obj: pod([{ name: 'c', requests: { cpu: '100m' }, limits: { cpu: '200m' } }]), want: [] },
    { name: 'ratio without request', ranges: [lr({ type: 'Container', maxLimitRequestRatio: { memory: '2' } })], obj: pod([{ name: 'c', limits: { memory: '1Gi' } }]), want: ['memory max limit to request ratio per Container is 2, but no request is specified or request is 0'] },
    {
      name: 'several failures, init containers too',
      ranges: [lr({ type: 'Container', max: { cpu: '500m' }, min: { cpu: '100m' } })],
      obj: pod([{ name: 'a', requests: { cpu: '50m' }, limits: { cpu: '800m' } }], [{ name: 'i', requests: { cpu: '200m' }, limits: { cpu: '1' } }]),
      want: ['minimum cpu usage per Container is 100m, but request is 50m', 'maximum cpu usage per Container is 500m, but limit is 800m', 'maximum cpu usage per Container is 500m, but limit is 1'],
    },
    {
      name: 'Pod type sums containers',
      ranges: [lr({ type: 'Pod', max: { memory: '1Gi' } })],
      obj: pod([{ name: 'a', requests: { memory: '512Mi' }, limits: { memory: '768Mi' } }, { name: 'b', requests: { memory: '256Mi' }, limits: { memory: '512Mi' } }]),
      want: ['maximum memory usage per Pod is 1Gi, but limit is 1280Mi'],
    },
    {
      name: 'Pod type: an init container bigger than the sum counts alone',
      ranges: [lr({ type: 'Pod', max: { cpu: '1' } })],
      obj: pod([{ name: 'a', requests: { cpu: '100m' }, limits: { cpu: '200m' } }], [{ name: 'i', requests: { cpu: '1' }, limits: { cpu: '1500m' } }]),
      want: ['maximum cpu usage per Pod is 1, but limit is 1500m'],
    },
    { name: 'claim over max', claim: true, ranges: [lr({ type: 'PersistentVolumeClaim', max: { storage: '2Gi' }, min: { storage: '1Gi' } })], obj: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'c' }, spec: { resources: { requests: { storage: '5Gi' } } } }, want: ['maximum storage usage per PersistentVolumeClaim is 2Gi, but request is 5Gi'] },
    { name: 'claim under min', claim: true, ranges: [lr({ type: 'PersistentVolumeClaim', min: { storage: '1Gi' } })], obj: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'c' }, spec: { resources: { requests: { storage: '500Mi' } } } }, want: ['minimum storage usage per PersistentVolumeClaim is 1Gi, but request is 500Mi'] },
    { name: 'claims ignore Container items', claim: true, ranges: [lr({ type: 'Container', max: { cpu: '1' } })], obj: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'c' }, spec: { resources: { requests: { storage: '5Gi' } } } }, want: [] },
  ];
  for (const tc of cases) {
    test(tc.name, () => assert.deepEqual(tc.claim ? claimLimitViolations(tc.obj, tc.ranges) : podLimitViolations(tc.obj, tc.ranges), tc.want));
  }
});

describe('LimitRange validation', () => {
  const cases: { name: string; item: LimitRangeItem; want: string[] }[] = [
    { name: 'ordered values pass', item: { type: 'Container', min: { cpu: '100m' }, defaultRequest: { cpu: '200m' }, default: { cpu: '500m' }, max: { cpu: '1' }, maxLimitRequestRatio: { cpu: '5' } }, want: [] },
    { name: 'min over max', item: { type: 'Container', min: { cpu: '2' }, max: { cpu: '1' } }, want: ['spec.limits[0].min[cpu]: Invalid value: "2": min value 2 is greater than max value 1'] },
    { name: 'defaultRequest over default', item: { type: 'Container', default: { memory: '128Mi' }, defaultRequest: { memory: '256Mi' } }, want: ['spec.limits[0].defaultRequest[memory]: Invalid value: "256Mi": default request value 256Mi is greater than default limit value 128Mi'] },
    { name: 'default over max', item: { type: 'Container', default: { cpu: '2' }, max: { cpu: '1' } }, want: ['spec.limits[0].default[cpu]: Invalid value: "1": default value 2 is greater than max value 1'] },
    { name: 'ratio below 1', item: { type: 'Container', maxLimitRequestRatio: { cpu: '500m' } }, want: ['spec.limits[0].maxLimitRequestRatio[cpu]: Invalid value: "500m": ratio 500m is less than 1'] },
    { name: 'Pod with default', item: { type: 'Pod', default: { cpu: '1' } }, want: ["spec.limits[0].default: Forbidden: may not be specified when `type` is 'Pod'"] },
    { name: 'PVC without storage bounds', item: { type: 'PersistentVolumeClaim', max: {} }, want: ['spec.limits[0].limits: Required value: either minimum or maximum storage value is required, but neither was provided'] },
  ];
  for (const tc of cases) {
    test(tc.name, () => assert.deepEqual(validateLimitRangeSpec(lr(tc.item)).map((e) => `${e.field}: ${e.message}`), tc.want));
  }
});

describe('LimitRanger in the admission chain', () => {
  test('pods get defaults and the annotation; pods over max and invalid LimitRanges are refused', async () => {
    const server = await startTestApiServer();
    try {
      const limitRanges = server.client.resource({ group: '', version: 'v1', resource: 'limitranges', namespaced: true });
      const pods = server.client.resource({ group: '', version: 'v1', resource: 'pods', namespaced: true });
      const created = await limitRanges.create('default', lr({ type: 'Container', max: { cpu: '1' }, default: { cpu: '500m' }, defaultRequest: { cpu: '100m' } }));
      // Stored with its defaults filled, as Kubernetes' API defaulting leaves it.
      assert.deepEqual(created.spec.limits[0].defaultRequest, { cpu: '100m' });
      const p = await pods.create('default', pod([{ name: 'c' }]));
      assert.deepEqual(p.spec.containers[0].resources, { requests: { cpu: '100m' }, limits: { cpu: '500m' } });
      assert.equal(p.metadata.annotations?.['kubernetes.io/limit-ranger'], 'LimitRanger plugin set: cpu request for container c; cpu limit for container c');

      const big = { ...pod([{ name: 'c', limits: { cpu: '2' } }]), metadata: { name: 'big', namespace: 'default' } };
      await assert.rejects(pods.create('default', big), (err: any) => {
        assert.equal(err.code ?? err.status?.code, 403);
        assert.match(String(err.message), /pods "big" is forbidden: maximum cpu usage per Container is 1, but limit is 2/);
        return true;
      });

      const bad = { ...lr({ type: 'Container', min: { cpu: '2' }, max: { cpu: '1' } }), metadata: { name: 'bad', namespace: 'default' } };
      await assert.rejects(limitRanges.create('default', bad), (err: any) => {
        assert.match(String(err.message), /LimitRange "bad" is invalid: .*spec\.limits\[0\]\.min\[cpu\]: Invalid value: "2": min value 2 is greater than max value 1/);
        return true;
      });
    } finally {
      await server.close();
    }
  });
});
