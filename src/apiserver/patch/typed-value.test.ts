/// <reference types="node" />
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { collectFields, compareObjects, fieldSetOf, mergeApplied, removePath } from './typed-value.js';
import { FieldSet } from './field-set.js';
import { deepEqual } from './json.js';
import { podSchema } from './testdata/schemas.js';

/** The comparison by definition: the owned paths of each side, matched by path and value. */
function referenceComparison(before: unknown, after: unknown) {
  const old = collectFields(before, podSchema);
  const now = collectFields(after, podSchema);
  const added = new FieldSet();
  const modified = new FieldSet();
  const removed = new FieldSet();
  for (const [key, entry] of now) {
    const previous = old.get(key);
    if (!previous) added.insert(entry.path);
    else if (!entry.listItem && !deepEqual(previous.value, entry.value)) modified.insert(entry.path);
  }
  for (const [key, entry] of old) if (!now.has(key)) removed.insert(entry.path);
  return { added, modified, removed };
}

/** A small deterministic generator, so failures reproduce. */
function random(seed: number) {
  let state = seed;
  return (n: number) => {
    state = (state * 1103515245 + 12345) % 2147483648;
    // The high bits: an LCG's low bits repeat with a short period.
    return Math.floor(state / 65536) % n;
  };
}

function randomPod(next: (n: number) => number) {
  const pick = <T>(values: T[]) => values[next(values.length)]!;
  const containers = ['a', 'b', 'c'].filter(() => next(3) > 0).map((name) => ({
    name,
    ...(next(2) ? { image: pick(['x:1', 'x:2']) } : {}),
    ...(next(2) ? { args: pick([[], ['1'], ['1', '2']]) } : {}),
    ...(next(2) ? { env: ['E1', 'E2', 'E3'].filter(() => next(2) > 0).map((envName) => ({ name: envName, value: pick(['p', 'q']) })) } : {}),
    ...(next(2) ? { resources: pick([{}, { limits: { cpu: '1' } }, { limits: { cpu: '2' }, requests: {} }]) } : {}),
    ...(next(3) === 0 ? { ports: [{ containerPort: pick([80, 81]) }] } : {}),
  }));
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'p',
      resourceVersion: String(next(10)),
      ...(next(2) ? { labels: pick([{}, { app: 'x' }, { app: 'y', tier: 'z' }]) } : {}),
      ...(next(2) ? { finalizers: pick([[], ['f1'], ['f1', 'f2']]) } : {}),
    },
    spec: {
      containers,
      ...(next(2) ? { nodeSelector: pick([{ a: '1' }, { a: '2' }]) } : {}),
      ...(next(2) ? { tolerations: pick([[], [{ key: 'k' }]]) } : {}),
      ...(next(3) === 0 ? { volumes: pick([[{ name: 'v', emptyDir: {} }], [{ name: 'v', configMap: { name: 'c' } }]]) } : {}),
    },
    ...(next(2) ? { status: pick([{}, { phase: 'Running' }, { phase: 'Pending', conditions: [{ type: 'Ready' }] }]) } : {}),
  };
}

describe('compareObjects', () => {
  test('agrees with the definition on 500 random pairs of pods', () => {
    const next = random(42);
    for (let i = 0; i < 500; i++) {
      const before = randomPod(next);
      const after = next(4) === 0 ? structuredClone(before) : randomPod(next);
      const fast = compareObjects(before, after, podSchema);
      const reference = referenceComparison(before, after);
      const context = `pair ${i}: ${JSON.stringify(before)} -> ${JSON.stringify(after)}`;
      assert.deepEqual(fast.added.toFieldsV1(), reference.added.toFieldsV1(), `added, ${context}`);
      assert.deepEqual(fast.modified.toFieldsV1(), reference.modified.toFieldsV1(), `modified, ${context}`);
      assert.deepEqual(fast.removed.toFieldsV1(), reference.removed.toFieldsV1(), `removed, ${context}`);
    }
  });

  test('server-owned metadata is never compared', () => {
    const result = compareObjects({ metadata: { name: 'a', resourceVersion: '1', generation: 1 } }, { metadata: { name: 'b', resourceVersion: '2', generation: 2 } }, podSchema);
    assert.ok(result.added.isEmpty() && result.modified.isEmpty() && result.removed.isEmpty());
  });
});

describe('fieldSetOf / mergeApplied / removePath', () => {
  test('an unnameable list item makes the list atomic', () => {
    const set = fieldSetOf({ spec: { containers: [{ image: 'no-name' }] } }, podSchema);
    assert.deepEqual(set.toFieldsV1(), { 'f:spec': { 'f:containers': {} } });
  });

  test('mergeApplied never mutates the live object', () => {
    const live = { spec: { containers: [{ name: 'a', image: '1' }] } };
    const before = structuredClone(live);
    mergeApplied(live, { spec: { containers: [{ name: 'a', image: '2' }, { name: 'b' }] } }, podSchema);
    assert.deepEqual(live, before);
  });

  test('removePath prunes maps it empties, but never the root', () => {
    const object = { metadata: { labels: { a: '1' } }, spec: {} };
    removePath(object, ['f:metadata', 'f:labels', 'f:a']);
    assert.deepEqual(object, { spec: {} });
  });
});
