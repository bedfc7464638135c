// A 3-node local cluster (`navarch cluster create --nodes 3 --runtime runc`): a server and two
// agents in their own network namespaces, real runc pods, driven by the real kubectl.
// Pod-to-pod and Service traffic across nodes, cluster DNS (A, headless, StatefulSet pod names),
// a DaemonSet on every node, the seeds' NetworkPolicy example, a Job to 4 completions, and a
// delete that leaves nothing behind. Traffic stays inside the namespaces and bridge the test made.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually } from './harness.js';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runClusterCommand } from '../../src/cli/cluster.js';
import { loadState, type ClusterState } from '../../src/cli/cluster/state.js';


describe('3-node runc cluster', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, () => {
  const root = mkdtempSync(join(tmpdir(), 'navarch-e2e-clusters-'));
  const name = `e${Math.random().toString(36).slice(2, 5)}`;
  const io = { root, out: () => undefined, timeoutMs: 60_000 };
  let state: ClusterState;
  let kubeconfig: string;
  const kubectl = (args: string[], allowFail = false) => {
    const r = spawnSync('/usr/bin/kubectl', ['--kubeconfig', kubeconfig, ...args], { encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0 && !allowFail) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}${r.stdout}`);
    return { stdout: r.stdout ?? '', stderr: r.stderr ?? '', status: r.status };
  };
  const json = (args: string[]) => JSON.parse(kubectl([...args, '-o', 'json']).stdout);
  const apply = (obj: object) => spawnSync('/usr/bin/kubectl', ['--kubeconfig', kubeconfig, 'apply', '-f', '-'], { input: JSON.stringify(obj), encoding: 'utf8' });
  /** Runs a busybox command in a pod on `node` and returns its logs. */
  const runOn = async (pod: string, node: string, script: string, labels: Record<string, string> = {}) => {
    apply({ apiVersion: 'v1', kind: 'Pod', metadata: { name: pod, labels }, spec: { nodeName: node, restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', script] }] } });
    await eventually(() => ['Succeeded', 'Failed'].includes(json(['get', 'pod', pod]).status.phase), `${pod} finished`);
    return kubectl(['logs', pod]).stdout;
  };

  before(async () => {
    await runClusterCommand(['create', '--name', name, '--nodes', '3', '--runtime', 'runc'], io);
    state = loadState(root, name)!;
    kubeconfig = join(state.nodes[0]!.dataDir, 'kubeconfig');
    await eventually(() => (json(['get', 'nodes']).items as { status: { conditions: { type: string; status: string }[] } }[]).filter((n) => (n.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')).length === 3, '3 Ready nodes');
  });
  after(async () => {
    if (loadState(root, name)) await runClusterCommand(['delete', name], io).catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  });

  test('a DaemonSet runs one pod on every node', async () => {
    apply({ apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'agent' }, spec: { selector: { matchLabels: { app: 'agent' } }, template: { metadata: { labels: { app: 'agent' } }, spec: { tolerations: [{ operator: 'Exists' }], containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'] }] } } } });
    const pods = await eventually(() => {
      const items = json(['get', 'pods', '-l', 'app=agent']).items.filter((p: { status: { phase: string } }) => p.status.phase === 'Running');
      return items.length === 3 ? items : undefined;
    }, 'a running DaemonSet pod per node');
    assert.deepEqual(new Set(pods.map((p: { spec: { nodeName: string } }) => p.spec.nodeName)).size, 3);
    assert.match(kubectl(['get', 'ds', 'agent']).stdout, /agent\s+3\s+3\s+3\s+3\s+3\s+<none>/);
  });

  test('Services balance across nodes and resolve through cluster DNS, pod to pod across nodes', async () => {
    kubectl(['create', 'deployment', 'web', '--image=busybox', '--replicas=3', '--', 'sh', '-c', 'hostname > /tmp/index.html; httpd -f -p 80 -h /tmp']);
    kubectl(['expose', 'deployment', 'web', '--port=80']);
    const pods = await eventually(() => {
      const items = json(['get', 'pods', '-l', 'app=web']).items.filter((p: { status: { podIP?: string; phase: string } }) => p.status.phase === 'Running' && p.status.podIP);
      return items.length === 3 ? items : undefined;
    }, '3 web pods');
    const nodes = new Set(pods.map((p: { spec: { nodeName: string } }) => p.spec.nodeName));
    assert.ok(nodes.size >= 2, `web pods spread over nodes: ${[...nodes]}`);
    const direct = pods.map((p: { status: { podIP: string } }) => `for i in 1 2 3 4 5; do wget -qO- http://${p.status.podIP}/ && break; sleep 1; done`).join('; ');
    const out = await runOn('client', `${name}-agent-1`, `${direct}; for i in 1 2 3 4 5 6 7 8 9; do wget -qO- http://web/; done; nslookup web.default.svc.cluster.local`);
    for (const p of pods) assert.ok(out.includes(p.metadata.name), `pod ${p.metadata.name} (on ${p.spec.nodeName}) reached directly and via the Service:\n${out}`);
    assert.match(out, /Name:\s+web\.default\.svc\.cluster\.local/);
  });

  test('StatefulSet pods get stable DNS names through their headless Service', async () => {
    apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'db' }, spec: { clusterIP: 'None', selector: { app: 'db' }, ports: [{ port: 80 }] } });
    apply({ apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'db' }, spec: { serviceName: 'db', replicas: 2, selector: { matchLabels: { app: 'db' } }, template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'hostname > /tmp/index.html; httpd -f -p 80 -h /tmp'], readinessProbe: { tcpSocket: { port: 80 }, periodSeconds: 1 } }] } } } });
    await eventually(() => json(['get', 'sts', 'db']).status?.readyReplicas === 2, 'db-0 and db-1 ready');
    const out = await runOn('sts-client', `${name}-agent-2`, 'for i in 1 2 3 4 5; do wget -qO- http://db-1.db.default.svc.cluster.local/ && break; sleep 1; done; nslookup db.default.svc.cluster.local');
    assert.match(out, /^db-1$/m);
    const addresses = [...out.matchAll(/Address: (10\.\d+\.\d+\.\d+)/g)].map((m) => m[1]);
    assert.ok(addresses.length >= 2, `headless Service returns both pods:\n${out}`);
  });

  test("the seeds' NetworkPolicy: only role=frontend reaches role=db on 6379", async () => {
    apply({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'redis', labels: { role: 'db' } }, spec: { nodeName: `${name}-agent-2`, containers: [{ name: 'c', image: 'busybox', command: ['httpd', '-f', '-p', '6379', '-h', '/etc'] }] } });
    const ip = await eventually(() => {
      const p = json(['get', 'pod', 'redis']);
      return p.status.phase === 'Running' && p.status.podIP;
    }, 'redis running');
    apply({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'db-access' }, spec: { podSelector: { matchLabels: { role: 'db' } }, ingress: [{ from: [{ podSelector: { matchLabels: { role: 'frontend' } } }], ports: [{ protocol: 'TCP', port: 6379 }] }] } });
    await new Promise((r) => setTimeout(r, 2000));
    const probe = `for i in 1 2 3; do if timeout 3 wget -qO- http://${ip}:6379/hostname >/dev/null 2>&1; then echo REACHED; exit 0; fi; done; echo BLOCKED`;
    const frontend = await runOn('frontend', `${name}-agent-1`, probe, { role: 'frontend' });
    const other = await runOn('other', `${name}-agent-1`, probe, { role: 'other' });
    assert.match(frontend, /REACHED/);
    assert.match(other, /BLOCKED/);
  });

  test("the seeds' pet-race Job (parallelism 2, completions 4) completes exactly 4 pods", async () => {
    apply({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'pet-race' }, spec: { parallelism: 2, completions: 4, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'sleep 1; echo done'] }] } } } });
    await eventually(() => json(['get', 'job', 'pet-race']).status?.succeeded === 4, 'job complete', 90_000);
    const job = json(['get', 'job', 'pet-race']);
    assert.ok(job.status.conditions.some((c: { type: string; status: string }) => c.type === 'Complete' && c.status === 'True'));
    assert.equal(json(['get', 'pods', '-l', 'job-name=pet-race']).items.length, 4);
  });

  test("the seeds' autoscaling walkthrough: php-apache behind a Service, an HPA, a load generator by name, an Ingress host, a NodePort from the host", async () => {
    kubectl(['create', 'deployment', 'php-apache', '--image=busybox', '--', 'sh', '-c', 'echo OK! > /tmp/index.html; httpd -f -p 80 -h /tmp']);
    kubectl(['set', 'resources', 'deployment', 'php-apache', '--requests=cpu=200m', '--limits=cpu=500m']);
    kubectl(['expose', 'deployment', 'php-apache', '--port=80', '--type=NodePort']);
    kubectl(['autoscale', 'deployment', 'php-apache', '--cpu-percent=50', '--min=1', '--max=3']);
    kubectl(['create', 'ingress', 'php', '--rule=php.example/*=php-apache:80']);
    await eventually(() => json(['get', 'deploy', 'php-apache']).status?.availableReplicas >= 1, 'php-apache available');
    kubectl(['run', 'load-generator', '--image=busybox', '--restart=Never', '--', 'sh', '-c', 'while true; do wget -q -O- http://php-apache; sleep 0.2; done']);
    await eventually(() => (kubectl(['logs', 'load-generator'], true).stdout.match(/OK!/g) ?? []).length >= 3, 'the load generator reaches php-apache by name');
    const get = (host: string, port: number, hostHeader?: string) => {
      // node:http, not fetch: fetch drops a Host header.
      const script = `require('http').get({ host: '${host}', port: ${port}, path: '/', headers: ${JSON.stringify(hostHeader ? { host: hostHeader } : {})}, timeout: 3000 }, (r) => { let b = ''; r.on('data', (d) => b += d); r.on('end', () => console.log(r.statusCode, b.trim())); }).on('error', (e) => console.log('ERR', e.message)).on('timeout', function () { this.destroy(new Error('timeout')); })`;
      const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
      return r.stdout.trim();
    };
    const server = state.nodes[0]!;
    await eventually(() => get(server.ip, 80, 'php.example') === '200 OK!', 'the Ingress routes php.example to php-apache');
    const nodePort = json(['get', 'svc', 'php-apache']).spec.ports[0].nodePort as number;
    await eventually(() => get(state.nodes[1]!.ip, nodePort) === '200 OK!', `NodePort ${nodePort} on an agent node from the host`);
    // The HPA reads CPU through metrics.k8s.io from every node's stats: a percentage, not <unknown>.
    const targets = await eventually(() => {
      const line = kubectl(['get', 'hpa', 'php-apache']).stdout.split('\n')[1] ?? '';
      return /cpu: \d+%\/50%/.test(line) ? line : undefined;
    }, 'HPA reports CPU utilisation', 90_000);
    assert.match(targets, /php-apache\s+Deployment\/php-apache\s+cpu: \d+%\/50%\s+1\s+3\s+\d/);
    kubectl(['delete', 'pod', 'load-generator', '--grace-period=1']);
  });

  test('pods move off a node whose agent was killed', async () => {
    const victim = state.nodes[2]!;
    apply({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'mover' },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'mover' } },
        template: {
          metadata: { labels: { app: 'mover' } },
          spec: {
            nodeSelector: {},
            affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, preference: { matchFields: [{ key: 'metadata.name', operator: 'In', values: [victim.name] }] } }] } },
            // Evicted 2 s after the node is found unreachable (Kubernetes' default is 300 s).
            tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 2 }],
            terminationGracePeriodSeconds: 1,
            containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'] }],
          },
        },
      },
    });
    await eventually(() => json(['get', 'pods', '-l', 'app=mover']).items.filter((p: { spec: { nodeName?: string }; status: { phase: string } }) => p.spec.nodeName === victim.name && p.status.phase === 'Running').length === 2, 'mover pods on the victim');
    process.kill(victim.pid!, 'SIGKILL');
    // The node lifecycle controller notices the silent lease (40 s), taints the node, and evicts.
    await eventually(() => json(['get', 'node', victim.name]).status.conditions.find((c: { type: string; status: string }) => c.type === 'Ready')?.status === 'Unknown', 'victim Ready=Unknown', 90_000);
    const moved = await eventually(() => {
      const items = json(['get', 'pods', '-l', 'app=mover']).items.filter((p: { spec: { nodeName?: string }; status: { phase: string }; metadata: { deletionTimestamp?: string } }) => p.spec.nodeName && p.spec.nodeName !== victim.name && p.status.phase === 'Running' && !p.metadata.deletionTimestamp);
      return items.length === 2 ? items : undefined;
    }, 'two mover pods running elsewhere', 90_000);
    assert.equal(moved.length, 2);
    const taints = json(['get', 'node', victim.name]).spec.taints ?? [];
    assert.ok(taints.some((t: { key: string; effect: string }) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoExecute'), JSON.stringify(taints));
  });

  test('delete removes every process, namespace and interface it made', async () => {
    await runClusterCommand(['delete', name], io);
    const links = spawnSync('ip', ['-o', 'link'], { encoding: 'utf8' }).stdout;
    assert.ok(!links.includes(state.bridge), `bridge ${state.bridge} left behind`);
    const namespaces = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
    assert.ok(!namespaces.includes(`navarch-${name}-`), namespaces);
  });
});
