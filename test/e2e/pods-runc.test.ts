// Pods really run: an all-in-one server with its node agent, real runc containers on a CNI
// bridge, driven by the real kubectl — run/logs/exec, OOMKilled, liveness restarts, the seeds'
// init-container example, and a Service reached by name through cluster DNS.
// Traffic stays on this machine: pod IPs on the test server's own bridge, ClusterIPs in a test range.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { startServer, type TestServer, eventually } from './harness.js';


describe('pods on runc with the real kubectl', { skip: process.getuid?.() !== 0 ? 'needs root (runc, network namespaces)' : false }, () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ agent: true, extraArgs: ['--runtime', 'runc', '--cluster-cidr', '10.242.0.0/16', '--service-cidr', '10.243.0.0/16', '--cluster-dns', '10.243.0.10', '--node-name', 'e2e-node'] });
    await eventually(() => /\sReady\s/.test(server.kubectl(['get', 'nodes']).stdout), 'node Ready');
  });
  after(async () => {
    if (server) {
      server.kubectl(['delete', 'pods', '--all', '--now'], { allowFail: true });
      await server.stop();
    }
  });
  const pod = (name: string) => JSON.parse(server.kubectl(['get', 'pod', name, '-o', 'json']).stdout);

  test('kubectl run prints from inside a runc container; logs and exec work', async () => {
    server.kubectl(['run', 'hello', '--image=busybox', '--restart=Never', '--', 'sh', '-c', 'echo hello from a container; cat /etc/resolv.conf']);
    await eventually(() => pod('hello').status.phase === 'Succeeded', 'hello Succeeded');
    const logs = server.kubectl(['logs', 'hello']).stdout;
    assert.match(logs, /hello from a container/);
    assert.match(logs, /nameserver 10\.243\.0\.10/);
    assert.match(logs, /search default\.svc\.cluster\.local svc\.cluster\.local cluster\.local/);
    assert.match(server.kubectl(['get', 'pod', 'hello']).stdout, /hello\s+0\/1\s+Completed\s+0\s+/);

    server.kubectl(['run', 'sleeper', '--image=busybox', '--', 'sleep', '3600']);
    await eventually(() => pod('sleeper').status.containerStatuses?.[0]?.ready, 'sleeper ready');
    const exec = server.kubectl(['exec', 'sleeper', '--', 'sh', '-c', 'echo in $(hostname); id -u']).stdout;
    assert.equal(exec, 'in sleeper\n0\n');
    assert.match(pod('sleeper').status.podIP, /^10\.242\./);
  });

  test('a container over its 32Mi memory limit is OOMKilled', async () => {
    server.kubectl(['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'hog' },
        spec: { restartPolicy: 'Never', containers: [{ name: 'hog', image: 'busybox', command: ['sh', '-c', 'head -c 100m /dev/zero | tail > /dev/null'], resources: { limits: { memory: '32Mi' } } }] },
      }),
    });
    const terminated = await eventually(() => pod('hog').status.containerStatuses?.[0]?.state?.terminated, 'hog terminated');
    assert.equal(terminated.reason, 'OOMKilled');
    assert.equal(terminated.exitCode, 137);
    assert.match(server.kubectl(['get', 'pod', 'hog']).stdout, /hog\s+0\/1\s+OOMKilled\s+0\s+/);
  });

  test('a failing liveness probe restarts the container', async () => {
    server.kubectl(['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'unhealthy' },
        spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'touch /tmp/alive; sleep 2; rm /tmp/alive; sleep 600'], livenessProbe: { exec: { command: ['cat', '/tmp/alive'] }, periodSeconds: 1, failureThreshold: 1 } }] },
      }),
    });
    await eventually(() => (pod('unhealthy').status.containerStatuses?.[0]?.restartCount ?? 0) >= 1, 'a restart', 40_000);
    const events = server.kubectl(['get', 'events', '--field-selector', 'involvedObject.name=unhealthy', '-o', 'json']).stdout;
    const reasons = JSON.parse(events).items.map((e: { reason: string }) => e.reason);
    assert.ok(reasons.includes('Unhealthy'), reasons.join(','));
    assert.ok(reasons.includes('Killing'), reasons.join(','));
  });

  test('init container fills an emptyDir that the main container serves; a Service reaches it by name', async () => {
    server.kubectl(['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'web', labels: { app: 'web' } },
        spec: {
          initContainers: [{ name: 'fetch', image: 'busybox', command: ['sh', '-c', 'echo "<h1>made by init</h1>" > /work/index.html'], volumeMounts: [{ name: 'site', mountPath: '/work' }] }],
          containers: [{ name: 'httpd', image: 'busybox', command: ['httpd', '-f', '-p', '80', '-h', '/site'], ports: [{ containerPort: 80, name: 'http' }], volumeMounts: [{ name: 'site', mountPath: '/site' }], readinessProbe: { tcpSocket: { port: 80 }, periodSeconds: 1 } }],
          volumes: [{ name: 'site', emptyDir: {} }],
        },
      }),
    });
    await eventually(() => pod('web').status.containerStatuses?.[0]?.ready, 'web ready');
    server.kubectl(['expose', 'pod', 'web', '--port=8080', '--target-port=http']);
    await eventually(() => JSON.parse(server.kubectl(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=web', '-o', 'json']).stdout).items[0]?.endpoints?.length, 'web endpoints');
    server.kubectl(['run', 'client', '--image=busybox', '--restart=Never', '--', 'sh', '-c', 'for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- http://web:8080/ && break; sleep 1; done && nslookup web.default.svc.cluster.local']);
    await eventually(() => ['Succeeded', 'Failed'].includes(pod('client').status.phase), 'client finished');
    const out = server.kubectl(['logs', 'client']).stdout;
    assert.match(out, /<h1>made by init<\/h1>/);
    assert.match(out, /Name:\s+web\.default\.svc\.cluster\.local/);
    assert.equal(pod('client').status.phase, 'Succeeded');
  });

  // Last: it stops the server. Pods outlive it (a restarted node adopts them); the idle
  // pre-warmed shims must not — each is a Node process of ~40 MB RSS.
  test('stopping the server leaves its pods running and no idle standby shim behind', async () => {
    assert.equal(pod('web').status.phase, 'Running');
    const shims = () => execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).split('\n')
      .filter((l) => l.includes('shim.mjs') && l.includes(server.dataDir))
      .map((l) => Number(l.trim().split(/\s+/)[0]));
    // A shim that took a container supervises a child (`runc run`); an idle standby has none.
    const idleShims = () => shims().filter((pid) => spawnSync('ps', ['--ppid', String(pid), '-o', 'pid='], { encoding: 'utf8' }).stdout.trim() === '');
    await server.kill('SIGTERM');
    const idle = await eventually(() => (idleShims().length === 0 ? 'none' : undefined), 'no idle shim left', 10_000).catch(() => idleShims().join(','));
    assert.equal(idle, 'none', `idle shims still running: ${idle}`);
    assert.ok(shims().length > 0, 'the pods\' shims keep running');
  });
});
