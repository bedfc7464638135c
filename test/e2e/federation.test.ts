// Cluster federation end to end: three real `navarch server` processes on loopback — a host
// and two members — federated with `navarch federation init/join`, driven by the real kubectl
// with KubeFed's API (FederatedNamespace, FederatedDeployment, FederatedService, KubeFedCluster).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { eventually, repoRoot, startServer, type TestServer } from './harness.js';

const serverArgs = ['--federation-health-period', '1', '--disable', 'dashboard'];

function navarch(args: string[]): string {
  const r = spawnSync(process.execPath, [join(repoRoot, 'dist/src/cli/main.js'), ...args], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`navarch ${args.join(' ')} failed (${r.status}):\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

const federatedWorkload = `apiVersion: v1
kind: Namespace
metadata:
  name: demo
---
apiVersion: types.kubefed.io/v1beta1
kind: FederatedNamespace
metadata:
  name: demo
  namespace: demo
spec:
  placement:
    clusters:
    - name: cluster1
    - name: cluster2
---
apiVersion: types.kubefed.io/v1beta1
kind: FederatedDeployment
metadata:
  name: web
  namespace: demo
spec:
  template:
    metadata:
      labels:
        app: web
    spec:
      replicas: 1
      selector:
        matchLabels:
          app: web
      template:
        metadata:
          labels:
            app: web
        spec:
          containers:
          - name: web
            image: busybox
            command: ["sleep", "3600"]
  placement:
    clusters:
    - name: cluster1
    - name: cluster2
  overrides:
  - clusterName: cluster2
    clusterOverrides:
    - path: "/spec/replicas"
      value: 3
---
apiVersion: types.kubefed.io/v1beta1
kind: FederatedService
metadata:
  name: web
  namespace: demo
spec:
  template:
    spec:
      selector:
        app: web
      ports:
      - name: http
        port: 80
        targetPort: 8080
  placement:
    clusterSelector: {}
`;

describe('federation with kubectl', () => {
  let host: TestServer;
  let member1: TestServer;
  let member2: TestServer;
  before(async () => {
    [host, member1, member2] = await Promise.all([startServer({ extraArgs: serverArgs }), startServer({ extraArgs: serverArgs }), startServer({ extraArgs: serverArgs })]);
  });
  after(async () => {
    await Promise.all([host, member1, member2].map((s) => s?.stop()));
  });

  const replicasIn = (member: TestServer) => {
    const r = member.kubectl(['get', 'deployment', 'web', '-n', 'demo', '-o', 'jsonpath={.spec.replicas}'], { allowFail: true });
    return r.status === 0 ? r.stdout : undefined;
  };

  test('join before init says what to do', () => {
    const r = spawnSync(process.execPath, [join(repoRoot, 'dist/src/cli/main.js'), 'federation', 'join', 'x', '--cluster-kubeconfig', member1.kubeconfig, '--kubeconfig', member1.kubeconfig], { encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /not a federation host; run "navarch federation init --kubeconfig/);
  });

  test('init, join, propagate with overrides, move placement, report member health', async () => {
    const init = navarch(['federation', 'init', '--kubeconfig', host.kubeconfig]);
    assert.match(init, /customresourcedefinition\.apiextensions\.k8s\.io\/kubefedclusters\.core\.kubefed\.io created/);
    assert.match(init, /done/);
    // Idempotent: a second init changes nothing and succeeds.
    assert.doesNotMatch(navarch(['federation', 'init', '--kubeconfig', host.kubeconfig]), / created/);
    navarch(['federation', 'join', 'cluster1', '--cluster-kubeconfig', member1.kubeconfig, '--kubeconfig', host.kubeconfig]);
    navarch(['federation', 'join', 'cluster2', '--cluster-kubeconfig', member2.kubeconfig, '--kubeconfig', host.kubeconfig]);
    assert.equal(member1.kubectl(['get', 'serviceaccount', 'cluster1-kubefed', '-n', 'kube-federation-system', '-o', 'name']).stdout.trim(), 'serviceaccount/cluster1-kubefed');

    await eventually(() => {
      const out = host.kubectl(['get', 'kubefedclusters', '-n', 'kube-federation-system']).stdout;
      return /cluster1\s+\S+\s+True/.test(out) && /cluster2\s+\S+\s+True/.test(out) && out;
    }, 'both members READY True', 20_000);
    assert.match(host.kubectl(['get', 'kubefedclusters', '-n', 'kube-federation-system']).stdout, /^NAME\s+AGE\s+READY/);
    assert.match(navarch(['federation', 'list', '--kubeconfig', host.kubeconfig]), /cluster1\s+True\s+\d+s/);

    host.kubectl(['apply', '-f', '-'], { input: federatedWorkload });
    assert.equal(await eventually(() => replicasIn(member1), 'deployment in cluster1', 20_000), '1');
    assert.equal(await eventually(() => replicasIn(member2), 'deployment in cluster2', 20_000), '3', 'override of cluster2');
    for (const member of [member1, member2]) {
      await eventually(() => member.kubectl(['get', 'service', 'web', '-n', 'demo'], { allowFail: true }).status === 0, 'service in member', 20_000);
      const labels = JSON.parse(member.kubectl(['get', 'deployment', 'web', '-n', 'demo', '-o', 'jsonpath={.metadata.labels}']).stdout);
      assert.equal(labels['kubefed.io/managed'], 'true');
    }
    await eventually(() => host.kubectl(['get', 'federateddeployment', 'web', '-n', 'demo', '-o', "jsonpath={.status.conditions[?(@.type=='Propagation')].status}"]).stdout === 'True', 'Propagation True', 20_000);

    // Take cluster2 out of the placement: the Deployment is removed there, kept in cluster1.
    host.kubectl(['patch', 'federateddeployment', 'web', '-n', 'demo', '--type=merge', '-p', '{"spec":{"placement":{"clusters":[{"name":"cluster1"}]}}}']);
    await eventually(() => replicasIn(member2) === undefined, 'deployment removed from cluster2', 20_000);
    assert.equal(replicasIn(member1), '1');

    // A member that stops answering turns not Ready after the failure threshold (3 probes of 1 s).
    await member2.kill();
    const out = await eventually(() => {
      const text = host.kubectl(['get', 'kubefedclusters', '-n', 'kube-federation-system']).stdout;
      return /cluster2\s+\S+\s+(False|Unknown)/.test(text) && text;
    }, 'cluster2 not READY', 20_000);
    assert.match(out, /cluster1\s+\S+\s+True/);
    const offline = host.kubectl(['get', 'kubefedcluster', 'cluster2', '-n', 'kube-federation-system', '-o', "jsonpath={.status.conditions[?(@.type=='Offline')].reason}"]).stdout;
    assert.equal(offline, 'ClusterNotReachable');

    navarch(['federation', 'unjoin', 'cluster2', '--kubeconfig', host.kubeconfig]);
    assert.notEqual(host.kubectl(['get', 'kubefedcluster', 'cluster2', '-n', 'kube-federation-system'], { allowFail: true }).status, 0);
    assert.doesNotMatch(navarch(['federation', 'list', '--kubeconfig', host.kubeconfig]), /cluster2/);
  });
});
