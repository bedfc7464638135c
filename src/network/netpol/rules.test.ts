import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { computeNetworkPolicyRules, policyTypes, type NetworkPolicyInput } from './rules.js';
import { isProxyChain } from '../proxy/iptables-rules.js';
import { runCommand } from '../exec.js';
import type { NetworkPolicy, Pod } from '../types.js';

const pod = (name: string, ip: string, labels: Record<string, string>, namespace = 'default', ports: { name: string; containerPort: number }[] = []): Pod => ({
  metadata: { name, namespace, labels },
  spec: { containers: [{ name: 'c', ports }] },
  status: { phase: 'Running', podIP: ip },
});
const policy = (name: string, spec: NetworkPolicy['spec'], namespace = 'default'): NetworkPolicy => ({ metadata: { name, namespace }, spec });

const db = pod('db', '10.244.0.10', { role: 'db' }, 'default', [{ name: 'redis', containerPort: 6379 }]);
const frontend = pod('frontend', '10.244.0.11', { role: 'frontend' });
const other = pod('other', '10.244.0.12', { role: 'other' });
const prodApi = pod('api', '10.244.1.5', { role: 'frontend' }, 'prod');
const base: NetworkPolicyInput = {
  policies: [],
  pods: [db, frontend, other, prodApi],
  namespaces: [{ metadata: { name: 'default', labels: { team: 'a' } } }, { metadata: { name: 'prod', labels: { team: 'b' } } }],
};

const lines = (text: string, re: RegExp) => text.split('\n').filter((l) => re.test(l));
const allowLines = (text: string) => lines(text, /-j MARK --set-xmark 0x10000\/0x10000/);

describe('computeNetworkPolicyRules', () => {
  test('policyTypes default as Kubernetes does', () => {
    assert.deepEqual(policyTypes(policy('p', { podSelector: {} })), ['Ingress']);
    assert.deepEqual(policyTypes(policy('p', { podSelector: {}, egress: [{}] })), ['Ingress', 'Egress']);
    assert.deepEqual(policyTypes(policy('p', { podSelector: {}, policyTypes: ['Egress'] })), ['Egress']);
  });

  const cases: { name: string; policies: NetworkPolicy[]; check: (t: string) => void }[] = [
    {
      name: 'no policies: no pod is isolated',
      policies: [],
      check: (t) => assert.equal(lines(t, /-j DROP/).length, 0),
    },
    {
      name: 'frontend → db on TCP 6379 only',
      policies: [policy('db', { podSelector: { matchLabels: { role: 'db' } }, ingress: [{ from: [{ podSelector: { matchLabels: { role: 'frontend' } } }], ports: [{ protocol: 'TCP', port: 6379 }] }] })],
      check: (t) => {
        assert.equal(lines(t, /^-A NAVARCH-NWPLCY -d 10\.244\.0\.10\/32 .*-j NAVARCH-NWPLCY-IN-/).length, 1);
        const allow = allowLines(t);
        assert.equal(allow.length, 1, 'same-namespace frontend only, not prod/api');
        assert.match(allow[0]!, /-s 10\.244\.0\.11\/32 -p tcp -m tcp --dport 6379/);
        assert.equal(lines(t, /-j DROP/).length, 1);
      },
    },
    {
      name: 'namespaceSelector and podSelector in one peer mean AND',
      policies: [policy('db', { podSelector: { matchLabels: { role: 'db' } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'b' } }, podSelector: { matchLabels: { role: 'frontend' } } }] }] })],
      check: (t) => assert.deepEqual(allowLines(t).map((l) => /-s (\S+)/.exec(l)?.[1]), ['10.244.1.5/32']),
    },
    {
      name: 'namespaceSelector alone admits every pod of those namespaces',
      policies: [policy('db', { podSelector: { matchLabels: { role: 'db' } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'a' } } }] }] })],
      check: (t) => assert.equal(allowLines(t).length, 3),
    },
    {
      name: 'named ports resolve against the protected pod',
      policies: [policy('db', { podSelector: { matchLabels: { role: 'db' } }, ingress: [{ ports: [{ port: 'redis' }, { port: 'missing' }] }] })],
      check: (t) => {
        const allow = allowLines(t);
        assert.equal(allow.length, 1);
        assert.match(allow[0]!, /-p tcp -m tcp --dport 6379/);
        assert.doesNotMatch(allow[0]!, / -s /);
      },
    },
    {
      name: 'endPort makes a range; protocol without port matches the whole protocol',
      policies: [policy('db', { podSelector: { matchLabels: { role: 'db' } }, ingress: [{ ports: [{ protocol: 'TCP', port: 32000, endPort: 32768 }, { protocol: 'UDP' }] }] })],
      check: (t) => {
        assert.equal(lines(t, /--dport 32000:32768 .*MARK/).length, 1);
        assert.equal(lines(t, /-p udp -m comment .*MARK/).length, 1);
      },
    },
    {
      name: 'ipBlock with except uses a sub-chain that returns for the excepted range',
      policies: [policy('db', { podSelector: { matchLabels: { role: 'db' } }, ingress: [{ from: [{ ipBlock: { cidr: '172.17.0.0/16', except: ['172.17.1.0/24'] } }] }] })],
      check: (t) => {
        assert.equal(lines(t, /^-A NAVARCH-NWPLCY-IN-\S+ -s 172\.17\.0\.0\/16 .*-j NAVARCH-NWPLCY-EX-/).length, 1);
        assert.equal(lines(t, /^-A NAVARCH-NWPLCY-EX-\S+ -s 172\.17\.1\.0\/24 -j RETURN/).length, 1);
        assert.equal(lines(t, /^-A NAVARCH-NWPLCY-EX-\S+ -j MARK/).length, 1);
      },
    },
    {
      name: 'default deny ingress for a namespace isolates every pod there with no allow',
      policies: [policy('deny', { podSelector: {}, policyTypes: ['Ingress'] })],
      check: (t) => {
        assert.equal(lines(t, /^-A NAVARCH-NWPLCY -d .* -j NAVARCH-NWPLCY-IN-/).length, 3);
        assert.equal(allowLines(t).length, 0);
        assert.equal(lines(t, /-j DROP/).length, 3);
      },
    },
    {
      name: 'egress isolation dispatches on the source and resolves named ports on destinations',
      policies: [policy('out', { podSelector: { matchLabels: { role: 'frontend' } }, egress: [{ to: [{ podSelector: { matchLabels: { role: 'db' } } }], ports: [{ port: 'redis' }] }] })],
      check: (t) => {
        assert.equal(lines(t, /^-A NAVARCH-NWPLCY -s 10\.244\.0\.11\/32 .*-j NAVARCH-NWPLCY-EG-/).length, 1);
        assert.deepEqual(allowLines(t).map((l) => /-d (\S+) -p tcp -m tcp --dport (\d+)/.exec(l)?.slice(1).join(':')), ['10.244.0.10/32:6379']);
        assert.equal(lines(t, /^-A NAVARCH-NWPLCY -d /).length, 1, 'Ingress is also defaulted on, with no rules → deny');
      },
    },
    {
      name: 'an empty ingress rule allows everything',
      policies: [policy('all', { podSelector: { matchLabels: { role: 'db' } }, ingress: [{}] })],
      check: (t) => assert.match(allowLines(t)[0]!, /^-A NAVARCH-NWPLCY-IN-\S+ -m comment/),
    },
  ];

  for (const c of cases) {
    test(c.name, () => {
      const r = computeNetworkPolicyRules({ ...base, policies: c.policies });
      assert.match(r.text, /^-A NAVARCH-NWPLCY -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN$/m);
      for (const ch of r.chains.filter ?? []) assert.ok(ch.length <= 28, ch);
      c.check(r.text);
    });
  }

  test('policy chains are never claimed by the service proxy', () => {
    const r = computeNetworkPolicyRules({ ...base, policies: [policy('deny', { podSelector: {} })] });
    for (const ch of r.chains.filter ?? []) assert.equal(isProxyChain(ch), false, ch);
    assert.equal(isProxyChain('NAVARCH-SVC-0123456789ABCDEF'), true);
  });

  test('iptables-restore --test accepts the generated text', { skip: process.getuid?.() !== 0 }, async () => {
    const r = computeNetworkPolicyRules({
      ...base,
      chainPrefix: 'NVUNIT',
      policies: [
        policy('db', { podSelector: { matchLabels: { role: 'db' } }, ingress: [{ from: [{ ipBlock: { cidr: '172.17.0.0/16', except: ['172.17.1.0/24'] } }, { podSelector: {} }], ports: [{ port: 'redis' }, { protocol: 'UDP', port: 1000, endPort: 2000 }] }] }),
        policy('out', { podSelector: {}, egress: [{ ports: [{ port: 'redis' }, { port: 53, protocol: 'UDP' }] }] }),
      ],
    });
    const res = await runCommand('iptables-restore', ['--test', '--noflush'], { stdin: r.text });
    assert.equal(res.code, 0, res.stderr);
  });
});
