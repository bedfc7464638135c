import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseLabelSelector,
  matches,
  selectorToString,
  labelSelectorAsSelector,
  labelSelectorMatches,
  formatLabelSelector,
  formatLabels,
} from './labels.js';
import { parseFieldSelector, fieldSelectorMatches, fieldSelectorToString } from './fields.js';

describe('label selector string form', () => {
  // [selector, labels, expected match] — cases from Kubernetes' labels/selector_test.go semantics.
  const cases: Array<[string, Record<string, string>, boolean]> = [
    ['', { x: 'y' }, true],
    ['x=y', { x: 'y' }, true],
    ['x==y', { x: 'y' }, true],
    ['x=y', { x: 'z' }, false],
    ['x!=y', { x: 'z' }, true],
    ['x!=y', {}, true],
    ['x in (a,b)', { x: 'b' }, true],
    ['x in (a,b)', { x: 'c' }, false],
    ['x notin (a,b)', { x: 'c' }, true],
    ['x notin (a,b)', {}, true],
    ['x notin (a,b)', { x: 'a' }, false],
    ['x', { x: '' }, true],
    ['x', { y: '1' }, false],
    ['!x', { y: '1' }, true],
    ['!x', { x: '1' }, false],
    ['x=a,y=b', { x: 'a', y: 'b' }, true],
    ['x=a,y=b', { x: 'a' }, false],
    ['x>1', { x: '2' }, true],
    ['x>1', { x: '1' }, false],
    ['x<1', { x: '0' }, true],
    ['x<1', { x: 'a' }, false],
    ['x=', { x: '' }, true],
    ['x in ()', { x: '' }, true],
    ['  a = b ,  c  in  ( d , e ) ', { a: 'b', c: 'e' }, true],
    ['in=notin', { in: 'notin' }, true],
  ];
  for (const [sel, labels, want] of cases) {
    test(`${JSON.stringify(sel)} vs ${JSON.stringify(labels)} → ${want}`, () => {
      assert.equal(matches(parseLabelSelector(sel), labels), want);
    });
  }

  test('String() sorts by key and normalises', () => {
    assert.equal(selectorToString(parseLabelSelector('z=1,a in (c,b),!m,k,x!=2,y==3')), 'a in (b,c),k,!m,x!=2,y==3,z=1');
    assert.equal(selectorToString(parseLabelSelector('a notin (b)')), 'a notin (b)');
    assert.equal(selectorToString(parseLabelSelector('a>5')), 'a>5');
  });

  const errors: Array<[string, string | RegExp]> = [
    ['x=a,', "found '', expected: identifier after ','"],
    ['x in (a', "unable to parse requirement: found '', expected: ',' or ')'"],
    ['x in a', "unable to parse requirement: found 'a' expected: '('"],
    ['x y', "unable to parse requirement: found 'y', expected: in, notin, =, ==, !=, gt, lt"],
    ['=x', "found '=', expected: !, identifier, or 'end of string'"],
    ['!x=y', "found '=', expected: ',' or 'end of string'"],
    ['x>a', /^unable to parse requirement: values\[0\]: Invalid value: "a": for 'Gt', 'Lt' operators, the value must be an integer$/],
    ['a b=c', "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"],
    ['-x=1', /^unable to parse requirement: <nil>: Invalid value: "-x": name part must consist of alphanumeric characters/],
    ['x=-1', /^unable to parse requirement: values\[0\]\[x\]: Invalid value: "-1": a valid label must be an empty string/],
  ];
  for (const [sel, msg] of errors) {
    test(`error for ${JSON.stringify(sel)}`, () => {
      assert.throws(() => parseLabelSelector(sel), (e: Error) => (typeof msg === 'string' ? e.message === msg : msg.test(e.message)));
    });
  }
});

describe('metav1.LabelSelector', () => {
  test('nil selects nothing, empty selects everything', () => {
    assert.equal(labelSelectorMatches(null, { a: 'b' }), false);
    assert.equal(labelSelectorMatches({}, { a: 'b' }), true);
    assert.equal(formatLabelSelector(null), '<none>');
    assert.equal(formatLabelSelector({}), '<none>');
  });
  test('matchLabels and matchExpressions combine with AND', () => {
    const ls = {
      matchLabels: { app: 'web' },
      matchExpressions: [
        { key: 'tier', operator: 'In', values: ['front', 'edge'] },
        { key: 'canary', operator: 'DoesNotExist' },
        { key: 'env', operator: 'NotIn', values: ['dev'] },
        { key: 'team', operator: 'Exists' },
      ],
    };
    assert.equal(labelSelectorMatches(ls, { app: 'web', tier: 'edge', team: 'x' }), true);
    assert.equal(labelSelectorMatches(ls, { app: 'web', tier: 'edge', team: 'x', canary: '1' }), false);
    assert.equal(labelSelectorMatches(ls, { app: 'web', tier: 'edge', team: 'x', env: 'dev' }), false);
    assert.equal(labelSelectorMatches(ls, { app: 'web', tier: 'back', team: 'x' }), false);
    assert.equal(formatLabelSelector(ls), 'app=web,!canary,env notin (dev),team,tier in (edge,front)');
  });
  test('invalid operator', () => {
    assert.throws(() => labelSelectorAsSelector({ matchExpressions: [{ key: 'a', operator: 'Foo' }] }), /"Foo" is not a valid label selector operator/);
    assert.equal(formatLabelSelector({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }), '<error>');
  });
  test('formatLabels', () => {
    assert.equal(formatLabels({ b: '2', a: '1' }), 'a=1,b=2');
    assert.equal(formatLabels({}), '<none>');
  });
});

describe('field selectors', () => {
  test('operators and matching', () => {
    const s = parseFieldSelector('metadata.name=foo,spec.nodeName!=,status.phase==Running');
    assert.equal(fieldSelectorMatches(s, { 'metadata.name': 'foo', 'spec.nodeName': 'n1', 'status.phase': 'Running' }), true);
    assert.equal(fieldSelectorMatches(s, { 'metadata.name': 'foo', 'spec.nodeName': '', 'status.phase': 'Running' }), false);
    assert.equal(fieldSelectorToString(s), 'metadata.name=foo,spec.nodeName!=,status.phase=Running');
  });
  test('escapes', () => {
    const s = parseFieldSelector('a=x\\,y\\=z');
    assert.deepEqual(s.requirements, [{ field: 'a', operator: '=', value: 'x,y=z' }]);
    assert.equal(fieldSelectorToString(s), 'a=x\\,y\\=z');
  });
  test('errors', () => {
    assert.throws(() => parseFieldSelector('abc'), { message: "invalid selector: 'abc'; can't understand 'abc'" });
    assert.throws(() => parseFieldSelector('a=b\\c'), { message: 'invalid field selector: invalid escape sequence: \\c' });
    assert.throws(() => parseFieldSelector('a=b=c'), { message: 'invalid field selector: unescaped character in value: =' });
  });
  test('empty selects everything', () => {
    assert.equal(fieldSelectorMatches(parseFieldSelector(''), { a: 'b' }), true);
  });
});
