// RuntimeClass picks the runtime per pod: on a runc node, `handler: runc` pods are containers
// (own network namespace, own pid 1) while `handler: process` pods are plain host processes;
// a class that does not exist is refused at create; an unavailable handler (crun on a hybrid
// cgroup host) fails the sandbox with the reason, as an event, and the node stays Ready.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readlinkSync } from 'node:fs';
import { startServer, type TestServer, eventually } from './harness.js';

describe('RuntimeClass selects the runtime handler per pod', { skip: process.getuid?.() !== 0 ? 'needs root (runc, network namespaces)' : false }, () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ agent: true, extraArgs: ['--runtime', 'runc', '--cluster-cidr', '10.242.0.0/16', '--service-cidr', '10.243.0.0/16', '--cluster-dns', '10.243.0.10', '--node-name', 'e2e-node'] });
    await eventually(() => /\sReady\s/.test(server.kubectl(['get', 'nodes']).stdout), 'node Ready');
    server.kubectl(['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'v1', kind: 'List', items: [
          { apiVersion: 'node.k8s.io/v1', kind: 'RuntimeClass', metadata: { name: 'runc' }, handler: 'runc' },
          { apiVersion: 'node.k8s.io/v1', kind: 'RuntimeClass', metadata: { name: 'host' }, handler: 'process' },
          { apiVersion: 'node.k8s.io/v1', kind: 'RuntimeClass', metadata: { name: 'crun' }, handler: 'crun' },
        ],
      }),
    });
  });
  after(async () => {
    if (server) {
      server.kubectl(['delete', 'pods', '--all', '--now'], { allowFail: true });
      await server.stop();
    }
  });
  const pod = (name: string) => JSON.parse(server.kubectl(['get', 'pod', name, '-o', 'json']).stdout);
  const podWith = (name: string, runtimeClassName: string) => JSON.stringify({
    apiVersion: 'v1', kind: 'Pod', metadata: { name },
    spec: { runtimeClassName, terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'readlink /proc/self/ns/net; cat /proc/1/comm; sleep 3600'] }] },
  });

  test('the node advertises its runtime handlers', () => {
    const handlers = JSON.parse(server.kubectl(['get', 'node', 'e2e-node', '-o', 'jsonpath={.status.runtimeHandlers}']).stdout);
    const names = handlers.map((h: { name: string }) => h.name);
    assert.deepEqual(names.slice(0, 3), ['', 'runc', 'process']);
    assert.deepEqual(handlers[0].features, { recursiveReadOnlyMounts: false, userNamespaces: false });
  });

  test('runc pods are containers, host pods are host processes', async () => {
    server.kubectl(['apply', '-f', '-'], { input: podWith('boxed', 'runc') });
    server.kubectl(['apply', '-f', '-'], { input: podWith('hosted', 'host') });
    const lines = async (name: string) => eventually(() => {
      if (pod(name).status.phase !== 'Running') return undefined;
      const out = server.kubectl(['logs', name], { allowFail: true }).stdout.trim().split('\n');
      return out.length >= 2 ? out : undefined;
    }, `${name} running with logs`);
    const hostNetns = readlinkSync('/proc/self/ns/net');
    const hostInit = readFileSync('/proc/1/comm', 'utf8').trim();
    const [boxedNetns, boxedInit] = await lines('boxed');
    const [hostedNetns, hostedInit] = await lines('hosted');
    assert.equal(hostedNetns, hostNetns, 'the process handler shares the host network namespace');
    assert.equal(hostedInit, hostInit, 'and sees the host\'s pid 1');
    assert.notEqual(boxedNetns, hostNetns, 'a runc pod has its own network namespace');
    assert.equal(boxedInit, 'sh', 'and its own pid namespace, whose pid 1 is the container command');
    assert.match(pod('boxed').status.podIP, /^10\.242\./);
    assert.match(pod('boxed').status.containerStatuses[0].containerID, /^runc:\/\//);
  });

  test('a pod naming a missing RuntimeClass is refused at create', () => {
    const r = server.kubectl(['apply', '-f', '-'], { input: podWith('lost', 'nosuch'), allowFail: true });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /Error from server \(Forbidden\).*pods "lost" is forbidden: pod rejected: RuntimeClass "nosuch" not found/);
    assert.equal(server.kubectl(['get', 'pod', 'lost'], { allowFail: true }).status, 1);
  });

  test('a handler the node cannot run fails the sandbox with the reason; the node stays Ready', async () => {
    server.kubectl(['apply', '-f', '-'], { input: podWith('crunny', 'crun') });
    const event = await eventually(() => JSON.parse(server.kubectl(['get', 'events', '--field-selector', 'involvedObject.name=crunny', '-o', 'json']).stdout).items
      .find((e: { reason: string }) => e.reason === 'FailedCreatePodSandBox'), 'FailedCreatePodSandBox');
    assert.equal(event.type, 'Warning');
    const handlers = JSON.parse(server.kubectl(['get', 'node', 'e2e-node', '-o', 'jsonpath={.status.runtimeHandlers}']).stdout).map((h: { name: string }) => h.name);
    if (handlers.includes('crun')) {
      assert.fail(`crun passed its preflight on this host, so this check does not apply: ${event.message}`);
    }
    assert.match(event.message, /^Failed to create pod sandbox: failed to get sandbox runtime: runtime "crun" is configured but unavailable: /);
    assert.match(event.message, /crun does not support cgroups in hybrid mode|crun not found/);
    assert.equal(pod('crunny').status.phase, 'Pending');
    assert.match(server.kubectl(['get', 'pod', 'crunny']).stdout, /ContainerCreating/);
    assert.match(server.kubectl(['get', 'nodes']).stdout, /\sReady\s/);
  });
});
