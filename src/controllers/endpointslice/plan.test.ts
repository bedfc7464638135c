import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/types.js';
import { desiredEndpoints, type AddressType, type PortSetEndpoints } from './desired.js';
import { planSlices } from './plan.js';

const service: KubeObject = { metadata: { name: 'web', namespace: 'ns', uid: 'svc-uid' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } };
const pod = (i: number): KubeObject => ({
  metadata: { name: `p${String(i).padStart(3, '0')}`, namespace: 'ns', uid: `u${i}`, labels: { app: 'web' } },
  status: { podIP: `10.42.${Math.floor(i / 250)}.${(i % 250) + 1}`, conditions: [{ type: 'Ready', status: 'True' }] },
});
const desired = (pods: KubeObject[]) => new Map<AddressType, PortSetEndpoints[]>([['IPv4', desiredEndpoints(service, pods, 'IPv4')]]);

/** Applies a plan as the API server would, naming created slices. */
function apply(existing: KubeObject[], plan: ReturnType<typeof planSlices>, counter: { n: number }): KubeObject[] {
  const deleted = new Set(plan.delete.map((s) => s.metadata.name));
  const updated = new Map(plan.update.map((s) => [s.metadata.name, s]));
  const out = existing.filter((s) => !deleted.has(s.metadata.name)).map((s) => updated.get(s.metadata.name) ?? s);
  for (const c of plan.create) out.push({ ...c, metadata: { ...c.metadata, name: `web-${++counter.n}` } });
  return out;
}

test('an unchanged world plans nothing; one new pod touches one slice; removing pods never moves the others', () => {
  const counter = { n: 0 };
  const pods = Array.from({ length: 250 }, (_, i) => pod(i));
  let slices = apply([], planSlices(service, desired(pods), []), counter);
  assert.deepEqual(slices.map((s) => s.endpoints.length), [100, 100, 50]);
  assert.deepEqual(planSlices(service, desired(pods), slices), { create: [], update: [], delete: [] });

  const more = [...pods, pod(250)];
  const plan = planSlices(service, desired(more), slices);
  assert.equal(plan.create.length, 0);
  assert.equal(plan.update.length, 1, 'the new endpoint fills the slice with room');
  slices = apply(slices, plan, counter);

  // Drop every pod of the first slice: that slice goes, the others are not rewritten.
  const first = new Set(slices[0]!.endpoints.map((e: any) => e.targetRef.uid));
  const rest = more.filter((p) => !first.has(p.metadata.uid));
  const shrink = planSlices(service, desired(rest), slices);
  assert.deepEqual(shrink.delete.map((s) => s.metadata.name), ['web-1']);
  assert.equal(shrink.update.length, 0);
  assert.equal(shrink.create.length, 0);
});

test('slices of an earlier Service with the same name are replaced, not reused', () => {
  const stale: KubeObject = { metadata: { name: 'web-old', namespace: 'ns', ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: 'other', controller: true }] }, addressType: 'IPv4', endpoints: [], ports: [] };
  const plan = planSlices(service, desired([pod(1)]), [stale]);
  assert.deepEqual(plan.delete.map((s) => s.metadata.name), ['web-old']);
  assert.equal(plan.create.length, 1);
  assert.equal(plan.create[0]!.metadata.ownerReferences![0]!.uid, 'svc-uid');
});
