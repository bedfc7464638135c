/// <reference types="node" />
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { applyJsonPatch } from './json-patch.js';
import { applyMergePatch } from './merge-patch.js';
import { PatchError } from './errors.js';

describe('applyJsonPatch (RFC 6902)', () => {
  const cases: { name: string; doc: unknown; ops: unknown[]; want: unknown }[] = [
    { name: 'add a field', doc: { spec: {} }, ops: [{ op: 'add', path: '/spec/replicas', value: 3 }], want: { spec: { replicas: 3 } } },
    { name: 'add replaces an existing field', doc: { a: 1 }, ops: [{ op: 'add', path: '/a', value: 2 }], want: { a: 2 } },
    { name: 'add inserts into a list by index', doc: { l: [1, 3] }, ops: [{ op: 'add', path: '/l/1', value: 2 }], want: { l: [1, 2, 3] } },
    { name: 'add at index == length appends', doc: { l: [1] }, ops: [{ op: 'add', path: '/l/1', value: 2 }], want: { l: [1, 2] } },
    { name: "add with '-' appends", doc: { l: [1] }, ops: [{ op: 'add', path: '/l/-', value: 2 }], want: { l: [1, 2] } },
    {
      name: 'escaped pointer tokens (label with a slash)',
      doc: { metadata: { labels: { 'app.kubernetes.io/name': 'a', 'x~y': 'b' } } },
      ops: [
        { op: 'replace', path: '/metadata/labels/app.kubernetes.io~1name', value: 'c' },
        { op: 'remove', path: '/metadata/labels/x~0y' },
      ],
      want: { metadata: { labels: { 'app.kubernetes.io/name': 'c' } } },
    },
    { name: 'remove a list item', doc: { l: ['a', 'b', 'c'] }, ops: [{ op: 'remove', path: '/l/1' }], want: { l: ['a', 'c'] } },
    { name: 'replace a list item', doc: { l: ['a', 'b'] }, ops: [{ op: 'replace', path: '/l/0', value: 'z' }], want: { l: ['z', 'b'] } },
    { name: 'replace the whole document', doc: { a: 1 }, ops: [{ op: 'replace', path: '', value: { b: 2 } }], want: { b: 2 } },
    { name: 'move', doc: { a: { x: 1 }, b: {} }, ops: [{ op: 'move', from: '/a/x', path: '/b/y' }], want: { a: {}, b: { y: 1 } } },
    { name: 'move within a list', doc: { l: [1, 2, 3] }, ops: [{ op: 'move', from: '/l/0', path: '/l/-' }], want: { l: [2, 3, 1] } },
    { name: 'copy', doc: { a: { x: [1] } }, ops: [{ op: 'copy', from: '/a/x', path: '/b' }], want: { a: { x: [1] }, b: [1] } },
    {
      name: 'test then replace',
      doc: { spec: { replicas: 1 } },
      ops: [{ op: 'test', path: '/spec/replicas', value: 1 }, { op: 'replace', path: '/spec/replicas', value: 5 }],
      want: { spec: { replicas: 5 } },
    },
    { name: 'test compares objects structurally', doc: { a: { x: 1, y: [1] } }, ops: [{ op: 'test', path: '/a', value: { y: [1], x: 1 } }], want: { a: { x: 1, y: [1] } } },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const before = structuredClone(c.doc);
      assert.deepEqual(applyJsonPatch(c.doc, c.ops), c.want);
      assert.deepEqual(c.doc, before, 'the input document must not change');
    });
  }

  const failures: { name: string; doc: unknown; ops: unknown; message: string | RegExp; code?: number }[] = [
    { name: 'remove a missing field', doc: { spec: {} }, ops: [{ op: 'remove', path: '/spec/foo' }], message: "error in remove for path: '/spec/foo': Unable to remove nonexistent key: foo: missing value" },
    { name: 'remove below a missing parent', doc: {}, ops: [{ op: 'remove', path: '/spec/foo' }], message: 'remove operation does not apply: doc is missing path: "/spec/foo": missing value' },
    { name: 'add below a missing parent', doc: {}, ops: [{ op: 'add', path: '/spec/foo', value: 1 }], message: 'add operation does not apply: doc is missing path: "/spec/foo": missing value' },
    { name: 'replace a missing key', doc: { spec: {} }, ops: [{ op: 'replace', path: '/spec/foo', value: 1 }], message: 'replace operation does not apply: doc is missing key: /spec/foo: missing value' },
    { name: 'failed test', doc: { spec: { replicas: 2 } }, ops: [{ op: 'test', path: '/spec/replicas', value: 1 }], message: 'testing value /spec/replicas failed: test failed' },
    { name: 'index out of range', doc: { l: [1] }, ops: [{ op: 'add', path: '/l/5', value: 1 }], message: "error in add for path: '/l/5': Unable to access invalid index: 5: invalid index referenced" },
    { name: 'unknown op', doc: {}, ops: [{ op: 'frob', path: '/a' }], message: 'Unexpected kind: frob' },
    { name: 'not a list of operations', doc: {}, ops: { op: 'add' }, message: /cannot unmarshal/, code: 400 },
    { name: 'test below a missing parent', doc: {}, ops: [{ op: 'test', path: '/invalid/path', value: 'podA' }], message: 'test operation does not apply: is missing path: /invalid/path: missing value' },
    { name: 'remove out of range', doc: { l: [] }, ops: [{ op: 'remove', path: '/l/0' }], message: "error in remove for path: '/l/0': Unable to access invalid index: 0: invalid index referenced" },
    { name: 'too many operations', doc: {}, ops: Array.from({ length: 10001 }, () => ({ op: 'test', path: '', value: {} })), message: 'The allowed maximum operations in a JSON patch is 10000, got 10001', code: 413 },
    { name: 'move into own child', doc: { a: { b: {} } }, ops: [{ op: 'move', from: '/a', path: '/a/b/c' }], message: /own child/ },
  ];
  for (const f of failures) {
    test(`rejects: ${f.name}`, () => {
      assert.throws(() => applyJsonPatch(f.doc, f.ops), (err: unknown) => {
        assert.ok(err instanceof PatchError);
        if (typeof f.message === 'string') assert.equal(err.message, f.message);
        else assert.match(err.message, f.message);
        assert.equal(err.code, f.code ?? 422);
        // Kubernetes answers a patch that does not apply with a generic 422 Status.
        if (err.code === 422) {
          assert.deepEqual(err.toStatus(), {
            kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
            message: 'the server rejected our request due to an error in our request', reason: 'Invalid', details: {}, code: 422,
          });
        } else {
          assert.equal(err.toStatus().message, err.message);
        }
        return true;
      });
    });
  }

  test('a failing operation leaves no partial change behind', () => {
    const doc = { a: 1 };
    assert.throws(() => applyJsonPatch(doc, [{ op: 'replace', path: '/a', value: 2 }, { op: 'remove', path: '/b' }]));
    assert.deepEqual(doc, { a: 1 });
  });
});

describe('applyMergePatch (RFC 7386)', () => {
  // The RFC 7386 appendix A examples.
  const cases: [unknown, unknown, unknown][] = [
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [['a', 'b'], ['c', 'd'], ['c', 'd']],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  for (const [original, patch, want] of cases) {
    test(`${JSON.stringify(original)} + ${JSON.stringify(patch)}`, () => {
      const before = structuredClone(original);
      assert.deepEqual(applyMergePatch(original, patch), want);
      assert.deepEqual(original, before);
    });
  }

  test('the result shares no objects with the original', () => {
    const original = { spec: { template: { labels: { a: '1' } } } };
    const result = applyMergePatch(original, { spec: { replicas: 2 } }) as typeof original;
    result.spec.template.labels.a = 'changed';
    assert.equal(original.spec.template.labels.a, '1');
  });
});
