import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/types.js';
import { defaultStorageClass, findBestMatch, volumeFitsNode, volumeMismatch } from './matching.js';

function pv(name: string, size: string, extra: { modes?: string[]; class?: string; phase?: string; labels?: Record<string, string>; claimRef?: any; volumeMode?: string; nodes?: string[] } = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name, labels: extra.labels },
    spec: {
      capacity: { storage: size },
      accessModes: extra.modes ?? ['ReadWriteOnce'],
      storageClassName: extra.class ?? '',
      volumeMode: extra.volumeMode,
      claimRef: extra.claimRef,
      hostPath: { path: `/data/${name}` },
      ...(extra.nodes ? { nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: extra.nodes }] }] } } } : {}),
    },
    status: { phase: extra.phase ?? 'Available' },
  } as KubeObject;
}

function pvc(size: string, extra: { modes?: string[]; class?: string; selector?: any; volumeMode?: string } = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: 'data', namespace: 'default', uid: 'claim-uid' },
    spec: { accessModes: extra.modes ?? ['ReadWriteOnce'], resources: { requests: { storage: size } }, storageClassName: extra.class, selector: extra.selector, volumeMode: extra.volumeMode },
  } as KubeObject;
}

describe('findBestMatch', () => {
  const cases: { name: string; claim: KubeObject; volumes: KubeObject[]; want: string | undefined }[] = [
    { name: 'smallest volume that fits', claim: pvc('1Gi'), volumes: [pv('big', '10Gi'), pv('small', '512Mi'), pv('fit', '2Gi'), pv('exact', '1Gi')], want: 'exact' },
    { name: 'binary and decimal units compare by bytes', claim: pvc('1G'), volumes: [pv('gi', '1Gi'), pv('tooSmall', '999M')], want: 'gi' },
    { name: 'nothing large enough', claim: pvc('5Gi'), volumes: [pv('a', '1Gi'), pv('b', '4Gi')], want: undefined },
    { name: 'access modes must all be offered', claim: pvc('1Gi', { modes: ['ReadWriteMany'] }), volumes: [pv('rwo', '1Gi'), pv('rwx', '5Gi', { modes: ['ReadWriteOnce', 'ReadWriteMany'] })], want: 'rwx' },
    { name: 'ReadOnlyMany volume does not satisfy ReadWriteOnce', claim: pvc('1Gi'), volumes: [pv('rox', '1Gi', { modes: ['ReadOnlyMany'] })], want: undefined },
    { name: 'storage class must match', claim: pvc('1Gi', { class: 'fast' }), volumes: [pv('none', '1Gi'), pv('slow', '1Gi', { class: 'slow' }), pv('fast', '3Gi', { class: 'fast' })], want: 'fast' },
    { name: 'claim without class takes only class-less volumes', claim: pvc('1Gi'), volumes: [pv('fast', '1Gi', { class: 'fast' })], want: undefined },
    { name: 'only Available volumes', claim: pvc('1Gi'), volumes: [pv('released', '1Gi', { phase: 'Released' }), pv('pending', '1Gi', { phase: 'Pending' }), pv('ok', '2Gi')], want: 'ok' },
    { name: 'volume bound to another claim is skipped', claim: pvc('1Gi'), volumes: [pv('taken', '1Gi', { claimRef: { namespace: 'default', name: 'other', uid: 'x' } }), pv('free', '8Gi')], want: 'free' },
    { name: 'pre-bound volume wins over a better fit', claim: pvc('1Gi'), volumes: [pv('exact', '1Gi'), pv('mine', '8Gi', { claimRef: { namespace: 'default', name: 'data' }, class: 'other', phase: 'Available' })], want: 'mine' },
    { name: 'pre-bound volume that is too small is not used', claim: pvc('2Gi'), volumes: [pv('mine', '1Gi', { claimRef: { namespace: 'default', name: 'data' } })], want: undefined },
    { name: 'claimRef with another uid is another claim', claim: pvc('1Gi'), volumes: [pv('old', '1Gi', { claimRef: { namespace: 'default', name: 'data', uid: 'previous' } })], want: undefined },
    { name: 'volume mode must match', claim: pvc('1Gi', { volumeMode: 'Block' }), volumes: [pv('fs', '1Gi'), pv('block', '2Gi', { volumeMode: 'Block' })], want: 'block' },
    { name: 'filesystem claim never gets a block volume', claim: pvc('1Gi'), volumes: [pv('block', '1Gi', { volumeMode: 'Block' })], want: undefined },
    {
      name: 'label selector',
      claim: pvc('1Gi', { selector: { matchLabels: { tier: 'gold' } } }),
      volumes: [pv('plain', '1Gi'), pv('silver', '1Gi', { labels: { tier: 'silver' } }), pv('gold', '4Gi', { labels: { tier: 'gold' } })],
      want: 'gold',
    },
    {
      name: 'label selector expressions',
      claim: pvc('1Gi', { selector: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a', 'b'] }] } }),
      volumes: [pv('c', '1Gi', { labels: { zone: 'c' } }), pv('b', '1Gi', { labels: { zone: 'b' } })],
      want: 'b',
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      assert.equal(findBestMatch(c.claim, c.volumes)?.metadata.name, c.want);
    });
  }
});

test('volumeMismatch explains why a requested volume cannot serve a claim', () => {
  assert.equal(volumeMismatch(pvc('2Gi'), pv('a', '1Gi')), 'requested PV is too small');
  assert.equal(volumeMismatch(pvc('1Gi', { modes: ['ReadWriteMany'] }), pv('a', '1Gi')), 'incompatible accessMode');
  assert.equal(volumeMismatch(pvc('1Gi', { class: 'x' }), pv('a', '1Gi')), 'storageClassName does not match');
  assert.equal(volumeMismatch(pvc('1Gi'), pv('a', '1Gi')), undefined);
});

test('volumeFitsNode follows the volume node affinity', () => {
  const node = (name: string) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name } } }) as KubeObject;
  assert.equal(volumeFitsNode(pv('anywhere', '1Gi'), node('n1')), true);
  assert.equal(volumeFitsNode(pv('local', '1Gi', { nodes: ['n1'] }), node('n1')), true);
  assert.equal(volumeFitsNode(pv('local', '1Gi', { nodes: ['n1'] }), node('n2')), false);
});

test('defaultStorageClass picks the newest class marked default', () => {
  const sc = (name: string, created: string, isDefault: string | undefined, beta = false) =>
    ({
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name, creationTimestamp: created, annotations: isDefault ? { [beta ? 'storageclass.beta.kubernetes.io/is-default-class' : 'storageclass.kubernetes.io/is-default-class']: isDefault } : {} },
    }) as KubeObject;
  assert.equal(defaultStorageClass([sc('a', '2026-01-01T00:00:00Z', undefined)]), undefined);
  assert.equal(defaultStorageClass([sc('a', '2026-01-01T00:00:00Z', 'false')]), undefined);
  assert.equal(defaultStorageClass([sc('old', '2026-01-01T00:00:00Z', 'true'), sc('new', '2026-02-01T00:00:00Z', 'true'), sc('x', '2026-03-01T00:00:00Z', undefined)])?.metadata.name, 'new');
  assert.equal(defaultStorageClass([sc('b', '2026-01-01T00:00:00Z', 'true'), sc('a', '2026-01-01T00:00:00Z', 'true', true)])?.metadata.name, 'a');
});
