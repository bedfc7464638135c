import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { computeIptablesRules, type ProxyRulesInput } from './iptables-rules.js';
import { runCommand } from '../exec.js';
import type { EndpointSlice, Service } from '../types.js';

function svc(name: string, spec: Service['spec'], status?: Service['status']): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec, status };
}

function slice(service: string, endpoints: EndpointSlice['endpoints'], ports: EndpointSlice['ports'] = [{ name: 'http', port: 8080, protocol: 'TCP' }]): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${service}-abc`, namespace: 'default', labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    endpoints,
    ports,
  };
}

const ep = (ip: string, extra: Partial<NonNullable<EndpointSlice['endpoints']>[number]> = {}) => ({ addresses: [ip], ...extra });
const web = (extra: Service['spec'] = {}, status?: Service['status']) =>
  svc('web', { clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }], ...extra }, status);

function rules(partial: Partial<ProxyRulesInput>) {
  return computeIptablesRules({ services: [], endpointSlices: [], nodeIPs: [], clusterCIDR: '10.244.0.0/16', nodeName: 'node-a', ...partial });
}

const lines = (text: string, re: RegExp) => text.split('\n').filter((l) => re.test(l));

describe('computeIptablesRules', () => {
  const cases: { name: string; input: Partial<ProxyRulesInput>; check: (text: string) => void }[] = [
    {
      name: 'ClusterIP with two ready endpoints balances 1/2 then the rest',
      input: { services: [web()], endpointSlices: [slice('web', [ep('10.244.1.2'), ep('10.244.1.3')])] },
      check: (t) => {
        assert.equal(lines(t, /^-A NAVARCH-SERVICES .*-d 10\.96\.0\.10\/32 -p tcp -m tcp --dport 80 -j NAVARCH-SVC-/).length, 1);
        const balance = lines(t, /^-A NAVARCH-SVC-.* -j NAVARCH-SEP-/);
        assert.equal(balance.length, 2);
        assert.match(balance[0]!, /--probability 0\.5000000000/);
        assert.doesNotMatch(balance[1]!, /statistic/);
        assert.equal(lines(t, /-j DNAT --to-destination 10\.244\.1\.[23]:8080$/).length, 2);
        assert.equal(lines(t, /^-A NAVARCH-SVC-.* ! -s 10\.244\.0\.0\/16 .* -j NAVARCH-MARK-MASQ/).length, 1);
        assert.equal(lines(t, /^-A NAVARCH-SEP-.* -s 10\.244\.1\.2\/32 .*-j NAVARCH-MARK-MASQ/).length, 1, 'hairpin masquerade');
      },
    },
    {
      name: 'three endpoints use probabilities 1/3, 1/2, rest',
      input: { services: [web()], endpointSlices: [slice('web', [ep('10.244.1.2'), ep('10.244.1.3'), ep('10.244.1.4')])] },
      check: (t) => {
        const p = lines(t, /^-A NAVARCH-SVC-.* -j NAVARCH-SEP-/).map((l) => /probability (\S+)/.exec(l)?.[1] ?? 'rest');
        assert.deepEqual(p, ['0.3333333333', '0.5000000000', 'rest']);
      },
    },
    {
      name: 'no endpoints rejects in the filter table and writes no nat jump',
      input: { services: [web()], endpointSlices: [] },
      check: (t) => {
        const filter = t.slice(0, t.indexOf('*nat'));
        assert.equal(lines(filter, /-A NAVARCH-SERVICES .*has no endpoints.* -d 10\.96\.0\.10\/32 .*-j REJECT/).length, 1);
        assert.equal(lines(t, /NAVARCH-SVC-/).length, 0);
      },
    },
    {
      name: 'not-ready endpoints are skipped while a ready one exists',
      input: { services: [web()], endpointSlices: [slice('web', [ep('10.244.1.2'), ep('10.244.1.3', { conditions: { ready: false } })])] },
      check: (t) => {
        assert.equal(lines(t, /DNAT --to-destination 10\.244\.1\.3/).length, 0);
        assert.equal(lines(t, /DNAT --to-destination 10\.244\.1\.2/).length, 1);
      },
    },
    {
      name: 'serving+terminating endpoints are used only when nothing is ready',
      input: {
        services: [web()],
        endpointSlices: [slice('web', [ep('10.244.1.2', { conditions: { ready: false, serving: true, terminating: true } }), ep('10.244.1.3', { conditions: { ready: false, serving: false, terminating: true } })])],
      },
      check: (t) => {
        assert.equal(lines(t, /DNAT --to-destination 10\.244\.1\.2/).length, 1);
        assert.equal(lines(t, /DNAT --to-destination 10\.244\.1\.3/).length, 0);
      },
    },
    {
      name: 'ports match by name; an unmatched slice port gives no endpoints',
      input: { services: [web()], endpointSlices: [slice('web', [ep('10.244.1.2')], [{ name: 'other', port: 9, protocol: 'TCP' }])] },
      check: (t) => assert.equal(lines(t, /REJECT/).length, 1),
    },
    {
      name: 'sessionAffinity ClientIP checks and sets -m recent',
      input: { services: [web({ sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } })], endpointSlices: [slice('web', [ep('10.244.1.2'), ep('10.244.1.3')])] },
      check: (t) => {
        assert.equal(lines(t, /-m recent --name NAVARCH-SEP-\S+ --rcheck --seconds 60 --reap/).length, 2);
        assert.equal(lines(t, /-m recent --set --name NAVARCH-SEP-\S+ .*-j DNAT/).length, 2);
      },
    },
    {
      name: 'NodePort with externalTrafficPolicy Local goes to local endpoints only for outside clients',
      input: {
        services: [web({ type: 'NodePort', externalTrafficPolicy: 'Local', ports: [{ name: 'http', port: 80, nodePort: 30080, protocol: 'TCP' }] })],
        endpointSlices: [slice('web', [ep('10.244.1.2', { nodeName: 'node-a' }), ep('10.244.2.2', { nodeName: 'node-b' })])],
      },
      check: (t) => {
        assert.equal(lines(t, /^-A NAVARCH-NODEPORTS .*--dport 30080 -j NAVARCH-EXT-/).length, 1);
        const svl = lines(t, /^-A NAVARCH-SVL-.* -j NAVARCH-SEP-/);
        assert.equal(svl.length, 1);
        assert.match(svl[0]!, /10\.244\.1\.2:8080/);
        assert.equal(lines(t, /^-A NAVARCH-EXT-.* -s 10\.244\.0\.0\/16 .*-j NAVARCH-SVC-/).length, 1);
        assert.equal(lines(t, /^-A NAVARCH-SERVICES .*addrtype --dst-type LOCAL -j NAVARCH-NODEPORTS/).length, 1);
      },
    },
    {
      name: 'externalTrafficPolicy Local without local endpoints drops external traffic',
      input: {
        services: [web({ type: 'NodePort', externalTrafficPolicy: 'Local', ports: [{ name: 'http', port: 80, nodePort: 30080, protocol: 'TCP' }] })],
        endpointSlices: [slice('web', [ep('10.244.2.2', { nodeName: 'node-b' })])],
      },
      check: (t) => assert.equal(lines(t, /^-A NAVARCH-EXTERNAL-SERVICES .*--dport 30080 -j DROP/).length, 1),
    },
    {
      name: 'internalTrafficPolicy Local sends the ClusterIP to local endpoints, drops without any',
      input: { services: [web({ internalTrafficPolicy: 'Local' })], endpointSlices: [slice('web', [ep('10.244.2.2', { nodeName: 'node-b' })])] },
      check: (t) => {
        assert.equal(lines(t, /^-A NAVARCH-SERVICES .*has no local endpoints.*-j DROP/).length, 1);
        assert.equal(lines(t, /DNAT/).length, 0);
      },
    },
    {
      name: 'LoadBalancer ingress IPs and externalIPs go through the EXT chain and masquerade',
      input: {
        services: [web({ type: 'LoadBalancer', externalIPs: ['192.0.2.50'], ports: [{ name: 'http', port: 80, nodePort: 30081, protocol: 'TCP' }] }, { loadBalancer: { ingress: [{ ip: '198.51.100.7' }] } })],
        endpointSlices: [slice('web', [ep('10.244.1.2')])],
      },
      check: (t) => {
        assert.equal(lines(t, /^-A NAVARCH-SERVICES .*-d 198\.51\.100\.7\/32 .*-j NAVARCH-EXT-/).length, 1);
        assert.equal(lines(t, /^-A NAVARCH-SERVICES .*-d 192\.0\.2\.50\/32 .*-j NAVARCH-EXT-/).length, 1);
        assert.equal(lines(t, /^-A NAVARCH-EXT-.* -j NAVARCH-MARK-MASQ/).length, 1);
      },
    },
    {
      name: 'headless and ExternalName services produce no translation',
      input: {
        services: [svc('h', { clusterIP: 'None', ports: [{ name: 'http', port: 80 }] }), svc('x', { type: 'ExternalName', externalName: 'example.org' })],
        endpointSlices: [slice('h', [ep('10.244.1.2')])],
      },
      check: (t) => assert.equal(lines(t, /DNAT|REJECT/).length, 0),
    },
    {
      name: 'UDP ports use the udp match',
      input: { services: [svc('dns', { clusterIP: '10.96.0.53', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] })], endpointSlices: [slice('dns', [ep('10.244.1.9')], [{ name: 'dns', port: 53, protocol: 'UDP' }])] },
      check: (t) => assert.equal(lines(t, /^-A NAVARCH-SERVICES .*-d 10\.96\.0\.53\/32 -p udp -m udp --dport 53/).length, 1),
    },
  ];

  for (const c of cases) {
    test(c.name, () => {
      const r = rules(c.input);
      c.check(r.text);
      for (const chain of [...r.chains.filter, ...r.chains.nat]) assert.ok(chain.length <= 28, chain);
    });
  }

  test('output is deterministic regardless of input order', () => {
    const a = svc('a', { clusterIP: '10.96.0.1', ports: [{ port: 80 }] });
    const b = svc('b', { clusterIP: '10.96.0.2', ports: [{ port: 80 }] });
    const slices = [slice('a', [ep('10.244.1.2')], [{ port: 80 }]), slice('b', [ep('10.244.1.3'), ep('10.244.1.4')], [{ port: 80 }])];
    assert.equal(rules({ services: [a, b], endpointSlices: slices }).text, rules({ services: [b, a], endpointSlices: [...slices].reverse() }).text);
  });

  test('iptables-restore --test accepts the generated text', { skip: process.getuid?.() !== 0 }, async () => {
    const r = rules({
      services: [web({ type: 'LoadBalancer', sessionAffinity: 'ClientIP', externalTrafficPolicy: 'Local', ports: [{ name: 'http', port: 80, nodePort: 30082, protocol: 'TCP' }] }, { loadBalancer: { ingress: [{ ip: '198.51.100.7' }] } }), svc('empty', { clusterIP: '10.96.0.11', ports: [{ port: 80 }] })],
      endpointSlices: [slice('web', [ep('10.244.1.2', { nodeName: 'node-a' }), ep('10.244.2.2', { nodeName: 'node-b' })])],
      chainPrefix: 'NVUNIT',
    });
    const res = await runCommand('iptables-restore', ['--test', '--noflush'], { stdin: r.text });
    assert.equal(res.code, 0, res.stderr);
  });
});
