import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildRouteTable, handlesIngress, matchRequest, normaliseHost, pathMatches, tlsEntryFor } from './routing.js';
import type { Ingress, IngressClass, PathType } from './types.js';

const svc = (name: string, port: number | string = 80) => ({ service: { name, port: typeof port === 'number' ? { number: port } : { name: port } } });

function ingress(name: string, created: string, rules: { host?: string; paths: [string, PathType, string][] }[], extra: Partial<NonNullable<Ingress['spec']>> = {}): Ingress {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: 'default', creationTimestamp: created },
    spec: { ...extra, rules: rules.map((r) => ({ host: r.host, http: { paths: r.paths.map(([path, pathType, backend]) => ({ path, pathType, backend: svc(backend) })) } })) },
  };
}

describe('pathMatches (the Ingress spec examples)', () => {
  const cases: [PathType, string, string, boolean][] = [
    ['Prefix', '/', '/anything/at/all', true],
    ['Exact', '/foo', '/foo', true],
    ['Exact', '/foo', '/bar', false],
    ['Exact', '/foo', '/foo/', false],
    ['Exact', '/foo/', '/foo', false],
    ['Prefix', '/foo', '/foo', true],
    ['Prefix', '/foo', '/foo/', true],
    ['Prefix', '/foo/', '/foo', true],
    ['Prefix', '/foo/', '/foo/', true],
    ['Prefix', '/aaa/bb', '/aaa/bbb', false],
    ['Prefix', '/aaa/bbb', '/aaa/bbb', true],
    ['Prefix', '/aaa/bbb/', '/aaa/bbb', true],
    ['Prefix', '/aaa/bbb', '/aaa/bbb/', true],
    ['Prefix', '/aaa/bbb', '/aaa/bbb/ccc', true],
    ['Prefix', '/aaa/bbb', '/aaa/bbbxyz', false],
    ['ImplementationSpecific', '/aaa', '/aaa/ccc', true],
    ['ImplementationSpecific', '/aaa', '/aaaccc', false],
  ];
  for (const [pathType, path, request, want] of cases) {
    test(`${pathType} ${path} vs ${request} → ${want}`, () => assert.equal(pathMatches({ path, pathType }, request), want));
  }
});

describe('matchRequest', () => {
  const table = buildRouteTable([
    ingress('b-newer', '2024-01-02T00:00:00Z', [
      { host: 'foo.example.com', paths: [['/', 'Prefix', 'foo-root'], ['/api', 'Prefix', 'foo-api-newer']] },
      { paths: [['/', 'Prefix', 'any-root']] },
    ]),
    ingress('a-older', '2024-01-01T00:00:00Z', [
      { host: 'foo.example.com', paths: [['/api', 'Prefix', 'foo-api-older'], ['/api', 'Exact', 'foo-api-exact'], ['/api/v2', 'Prefix', 'foo-api-v2']] },
      { host: '*.example.com', paths: [['/', 'Prefix', 'wild']] },
      { host: 'only-api.example.org', paths: [['/api', 'Prefix', 'only-api']] },
    ], { defaultBackend: svc('default-older') }),
    ingress('c-default', '2024-01-03T00:00:00Z', [], { defaultBackend: svc('default-newer') }),
  ]);
  const cases: [string | undefined, string, string | 404][] = [
    ['foo.example.com', '/', 'foo-root'],
    ['FOO.example.com:8080', '/x', 'foo-root'],
    ['foo.example.com.', '/x', 'foo-root'],
    ['foo.example.com', '/api', 'foo-api-exact'],
    ['foo.example.com', '/api/', 'foo-api-older'],
    ['foo.example.com', '/api/v1?x=1', 'foo-api-older'],
    ['foo.example.com', '/api/v2/users', 'foo-api-v2'],
    ['foo.example.com', '/apiary', 'foo-root'],
    ['bar.example.com', '/anything', 'wild'],
    ['deep.bar.example.com', '/', 'any-root'],
    ['example.com', '/', 'any-root'],
    ['10.0.0.1', '/', 'any-root'],
    [undefined, '/', 'any-root'],
    ['only-api.example.org', '/api/x', 'only-api'],
    ['only-api.example.org', '/', 'default-older'],
  ];
  for (const [host, path, want] of cases) {
    test(`${host} ${path} → ${want}`, () => {
      const m = matchRequest(table, host, path);
      const got = m.kind === 'none' ? 404 : m.kind === 'route' ? m.route.backend.service!.name : m.backend.service!.name;
      assert.equal(got, want);
    });
  }
  test('no rule and no default backend → none', () => {
    const t = buildRouteTable([ingress('x', '2024-01-01T00:00:00Z', [{ host: 'a.test', paths: [['/', 'Prefix', 'a']] }])]);
    assert.equal(matchRequest(t, 'b.test', '/').kind, 'none');
    assert.equal(matchRequest(t, 'a.test', '/').kind, 'route');
  });
});

describe('handlesIngress', () => {
  const ours: IngressClass = { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'navarch', annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } }, spec: { controller: 'navarch.io/ingress' } };
  const oursNotDefault: IngressClass = { ...ours, metadata: { name: 'navarch' } };
  const theirs: IngressClass = { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'nginx' }, spec: { controller: 'k8s.io/ingress-nginx' } };
  const cases: [string, Ingress, IngressClass[], boolean][] = [
    ['our class by name', { ...ingress('i', '', []), spec: { ingressClassName: 'navarch' } }, [ours, theirs], true],
    ['another class', { ...ingress('i', '', []), spec: { ingressClassName: 'nginx' } }, [ours, theirs], false],
    ['unknown class', { ...ingress('i', '', []), spec: { ingressClassName: 'nope' } }, [ours], false],
    ['no class, ours is default', ingress('i', '', []), [ours, theirs], true],
    ['no class, ours is not default', ingress('i', '', []), [oursNotDefault], false],
    ['legacy annotation', { ...ingress('i', '', []), metadata: { name: 'i', annotations: { 'kubernetes.io/ingress.class': 'navarch' } } }, [oursNotDefault], true],
  ];
  for (const [name, ing, classes, want] of cases) test(name, () => assert.equal(handlesIngress(ing, classes), want));
});

describe('tlsEntryFor (SNI)', () => {
  const table = buildRouteTable([
    ingress('a', '2024-01-01T00:00:00Z', [], { tls: [{ hosts: ['a.test'], secretName: 'a-cert' }, { hosts: ['*.wild.test'], secretName: 'wild-cert' }] }),
    ingress('b', '2024-01-02T00:00:00Z', [], { tls: [{ secretName: 'any-cert' }] }),
  ]);
  const cases: [string | undefined, string][] = [
    ['a.test', 'a-cert'],
    ['A.TEST', 'a-cert'],
    ['x.wild.test', 'wild-cert'],
    ['y.x.wild.test', 'any-cert'],
    ['other.test', 'any-cert'],
    [undefined, 'any-cert'],
  ];
  for (const [sni, want] of cases) test(`${sni} → ${want}`, () => assert.equal(tlsEntryFor(table, sni)?.secretName, want));
});

test('normaliseHost', () => {
  assert.equal(normaliseHost('Foo.Example.COM:443'), 'foo.example.com');
  assert.equal(normaliseHost('[::1]:80'), '[::1]');
  assert.equal(normaliseHost(undefined), '');
});
