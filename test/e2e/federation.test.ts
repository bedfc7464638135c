// Cluster federation end to end: three real `navarch server` processes on loopback — a host
// and two members — federated with `navarch federation init/join`, driven by the real kubectl
// with KubeFed's API (FederatedNamespace, FederatedDeployment, FederatedService, KubeFedCluster),
// then the seeds' failover: replicas spread by a ReplicaSchedulingPreference and a federated
// Service published in DNS move to the surviving cluster when one stops answering.
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

const spreadWorkload = `apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: types.kubefed.io/v1beta1
kind: FederatedDeployment
metadata:
  name: api
  namespace: shop
spec:
  template:
    spec:
      replicas: 1
      selector:
        matchLabels:
          app: api
      template:
        metadata:
          labels:
            app: api
        spec:
          containers:
          - name: api
            image: busybox
            command: ["sleep", "3600"]
  placement:
    clusters: []
---
apiVersion: scheduling.kubefed.io/v1alpha1
kind: ReplicaSchedulingPreference
metadata:
  name: api
  namespace: shop
spec:
  targetKind: FederatedDeployment
  totalReplicas: 4
  rebalance: true
  clusters:
    "*":
      weight: 1
---
apiVersion: types.kubefed.io/v1beta1
kind: FederatedService
metadata:
  name: api
  namespace: shop
spec:
  template:
    spec:
      type: LoadBalancer
      selector:
        app: api
      ports:
      - name: http
        port: 8080
  placement:
    clusterSelector: {}
---
apiVersion: multiclusterdns.kubefed.io/v1alpha1
kind: Domain
metadata:
  name: galaxy
  namespace: kube-federation-system
domain: example.test
---
apiVersion: multiclusterdns.kubefed.io/v1alpha1
kind: ServiceDNSRecord
metadata:
  name: api
  namespace: shop
spec:
  domainRef: galaxy
  recordTTL: 30
  allowServiceWithoutEndpoints: true
`;

describe('federation failover: replica spreading and DNS', () => {
  let host: TestServer;
  let member1: TestServer;
  let member2: TestServer;
  before(async () => {
    // Each member's servicelb gives LoadBalancer Services that member's own address (no nodes here).
    [host, member1, member2] = await Promise.all([
      startServer({ extraArgs: serverArgs }),
      startServer({ extraArgs: [...serverArgs, '--node-ip', '127.0.0.2'] }),
      startServer({ extraArgs: [...serverArgs, '--node-ip', '127.0.0.3'] }),
    ]);
    navarch(['federation', 'init', '--kubeconfig', host.kubeconfig]);
    navarch(['federation', 'join', 'cluster1', '--cluster-kubeconfig', member1.kubeconfig, '--kubeconfig', host.kubeconfig]);
    navarch(['federation', 'join', 'cluster2', '--cluster-kubeconfig', member2.kubeconfig, '--kubeconfig', host.kubeconfig]);
  });
  after(async () => {
    await Promise.all([host, member1, member2].map((s) => s?.stop()));
  });

  const replicasIn = (member: TestServer) => {
    const r = member.kubectl(['get', 'deployment', 'api', '-n', 'shop', '-o', 'jsonpath={.spec.replicas}'], { allowFail: true });
    return r.status === 0 ? r.stdout : undefined;
  };
  const globalTargets = () => {
    const r = host.kubectl(['get', 'dnsendpoint', 'service-api', '-n', 'shop', '-o', 'json'], { allowFail: true });
    if (r.status !== 0) return undefined;
    const endpoint = JSON.parse(r.stdout).spec.endpoints?.find((e: any) => e.dnsName === 'api.shop.galaxy.svc.example.test');
    return endpoint && endpoint.recordType === 'A' ? [...endpoint.targets].sort().join(',') : undefined;
  };

  test('replicas and DNS answers follow the clusters that are up', async () => {
    await eventually(() => /cluster2\s+\S+\s+True/.test(host.kubectl(['get', 'kubefedclusters', '-n', 'kube-federation-system']).stdout), 'members Ready', 20_000);
    host.kubectl(['apply', '-f', '-'], { input: spreadWorkload });

    // 4 replicas, equal weights: 2 and 2.
    await eventually(() => replicasIn(member1) === '2' && replicasIn(member2) === '2', 'replicas spread 2/2', 20_000);
    // Both members' load balancer addresses answer for the federated name.
    assert.equal(await eventually(() => globalTargets() === '127.0.0.2,127.0.0.3' && globalTargets(), 'both clusters in DNS', 30_000), '127.0.0.2,127.0.0.3');
    const spread = host.kubectl(['get', 'federateddeployment', 'api', '-n', 'shop', '-o', 'json']);
    assert.deepEqual(JSON.parse(spread.stdout).spec.placement.clusters.map((c: any) => c.name).sort(), ['cluster1', 'cluster2']);

    // cluster2 stops answering: after the failure threshold its replicas move to cluster1 and
    // its address leaves the DNS answer.
    await member2.kill();
    await eventually(() => replicasIn(member1) === '4', 'all 4 replicas in cluster1', 30_000);
    assert.equal(await eventually(() => globalTargets() === '127.0.0.2' && globalTargets(), 'only cluster1 in DNS', 30_000), '127.0.0.2');
    const events = host.kubectl(['get', 'events', '-n', 'shop', '--field-selector', 'involvedObject.kind=ReplicaSchedulingPreference', '-o', 'jsonpath={.items[*].reason}']).stdout;
    assert.match(events, /ReplicasScheduled/);
  });
});
