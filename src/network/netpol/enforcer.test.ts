// Real enforcement on a test bridge: three namespaces as pods (db, frontend, other), bridged
// traffic through br_netfilter into FORWARD, where the enforcer's chains decide.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { NetworkPolicyEnforcer } from './enforcer.js';
import { NetnsLab, randomSuffix, sh, startEchoName, tcpRequestsFrom } from '../testing/netns.js';
import type { NetworkPolicy, Pod } from '../types.js';

const isRoot = process.getuid?.() === 0;

describe('NetworkPolicyEnforcer in network namespaces', { skip: !isRoot }, () => {
  const lab = new NetnsLab('np');
  const net = `10.250.${randomInt(10, 250)}`;
  const prefix = `NV${randomSuffix(2).toUpperCase()}N`;
  const enforcer = new NetworkPolicyEnforcer({ chainPrefix: prefix });
  const ns: Record<string, string> = {};
  const ip = { db: `${net}.10`, frontend: `${net}.11`, other: `${net}.12` };
  const pods: Pod[] = (Object.keys(ip) as (keyof typeof ip)[]).map((role) => ({
    metadata: { name: role, namespace: 'default', labels: { role } },
    spec: { containers: [{ name: 'c', ports: role === 'db' ? [{ name: 'redis', containerPort: 6379 }] : [] }] },
    status: { phase: 'Running', podIP: ip[role] },
  }));
  const namespaces = [{ metadata: { name: 'default' } }];
  const dbPolicy: NetworkPolicy = {
    metadata: { name: 'db-from-frontend', namespace: 'default' },
    spec: { podSelector: { matchLabels: { role: 'db' } }, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: { matchLabels: { role: 'frontend' } } }], ports: [{ protocol: 'TCP', port: 'redis' }] }] },
  };

  before(async () => {
    lab.onDispose(() => enforcer.cleanup());
    const bridge = await lab.addBridge('np', `${net}.1/24`);
    let i = 0;
    for (const role of Object.keys(ip) as (keyof typeof ip)[]) {
      ns[role] = await lab.addNamespace(role);
      await lab.attach(ns[role]!, bridge, `${ip[role]}/24`, `${net}.1`, ++i);
    }
    for (const [where, port, name] of [[ns.db!, 6379, 'db-redis'], [ns.db!, 6380, 'db-other'], [ns.other!, 8080, 'other-http']] as const) {
      const s = startEchoName(where, port, name);
      lab.onDispose(async () => s.stop());
      await s.ready;
    }
  });
  after(() => lab.dispose());

  test('without policies everything is reachable', async () => {
    await enforcer.sync({ policies: [], pods, namespaces });
    assert.deepEqual(await tcpRequestsFrom(ns.other!, ip.db, 6379), ['db-redis']);
  });

  test('only role=frontend reaches role=db, and only on TCP 6379 (named port redis)', async () => {
    await enforcer.sync({ policies: [dbPolicy], pods, namespaces });
    assert.deepEqual(await tcpRequestsFrom(ns.frontend!, ip.db, 6379), ['db-redis']);
    assert.deepEqual(await tcpRequestsFrom(ns.other!, ip.db, 6379, 1, 800), ['TIMEOUT']);
    assert.deepEqual(await tcpRequestsFrom(ns.frontend!, ip.db, 6380, 1, 800), ['TIMEOUT']);
    // Pods not selected by any policy stay open.
    assert.deepEqual(await tcpRequestsFrom(ns.frontend!, ip.other, 8080), ['other-http']);
  });

  test('default deny ingress isolates every pod in the namespace', async () => {
    const deny: NetworkPolicy = { metadata: { name: 'default-deny', namespace: 'default' }, spec: { podSelector: {}, policyTypes: ['Ingress'] } };
    await enforcer.sync({ policies: [deny, dbPolicy], pods, namespaces });
    assert.deepEqual(await tcpRequestsFrom(ns.frontend!, ip.other, 8080, 1, 800), ['TIMEOUT']);
    assert.deepEqual(await tcpRequestsFrom(ns.frontend!, ip.db, 6379), ['db-redis'], 'the union of policies still admits frontend');
  });

  test('cleanup removes every chain and the hook', async () => {
    await enforcer.cleanup();
    assert.ok(!(await sh('iptables-save', ['-t', 'filter'])).includes(prefix));
    assert.deepEqual(await tcpRequestsFrom(ns.other!, ip.db, 6379), ['db-redis']);
  });
});
