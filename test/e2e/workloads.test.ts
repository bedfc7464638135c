// Workload controllers through the real kubectl: Deployments roll out ReplicaSets, history and
// undo work, cascading deletion follows --cascade, and namespace deletion empties the namespace.
// (No node agent here: pods stay Pending; the controllers' bookkeeping is what is checked.)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer, eventually } from './harness.js';


describe('workloads with kubectl', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server?.stop();
  });
  const json = (args: string[]) => JSON.parse(server.kubectl([...args, '-o', 'json']).stdout);

  test('deployment: create, scale, roll out, history, undo', async () => {
    server.kubectl(['create', 'deployment', 'web', '--image=busybox:1.35', '--replicas=2']);
    await eventually(() => json(['get', 'pods', '-l', 'app=web']).items.length === 2, '2 pods');
    server.kubectl(['scale', 'deployment', 'web', '--replicas=4']);
    await eventually(() => json(['get', 'pods', '-l', 'app=web']).items.length === 4, '4 pods');
    server.kubectl(['set', 'image', 'deployment/web', 'busybox=busybox:1.36']);
    const sets = await eventually(() => {
      const items = json(['get', 'rs', '-l', 'app=web']).items;
      return items.length === 2 ? items : undefined;
    }, 'a second ReplicaSet');
    const revisions = sets.map((rs: { metadata: { annotations: Record<string, string> } }) => rs.metadata.annotations['deployment.kubernetes.io/revision']).sort();
    assert.deepEqual(revisions, ['1', '2']);
    const history = server.kubectl(['rollout', 'history', 'deployment/web']).stdout;
    assert.match(history, /REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>/);
    server.kubectl(['rollout', 'undo', 'deployment/web']);
    await eventually(() => json(['get', 'deploy', 'web']).spec.template.spec.containers[0].image === 'busybox:1.35', 'template back to 1.35');
    await eventually(() => json(['get', 'deploy', 'web']).metadata.annotations['deployment.kubernetes.io/revision'] === '3', 'revision 3');
    const table = server.kubectl(['get', 'deploy', 'web']).stdout;
    assert.match(table, /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\nweb\s+0\/4\s+\d+\s+0\s+\d+s\n$/);
  });

  test('cascading deletion: foreground removes dependents, orphan keeps them', async () => {
    server.kubectl(['create', 'deployment', 'fg', '--image=busybox', '--replicas=1']);
    server.kubectl(['create', 'deployment', 'orphaned', '--image=busybox', '--replicas=1']);
    await eventually(() => json(['get', 'rs', '-l', 'app=fg']).items.length === 1 && json(['get', 'rs', '-l', 'app=orphaned']).items.length === 1, 'ReplicaSets');
    server.kubectl(['delete', 'deployment', 'fg', '--cascade=foreground']);
    assert.equal(json(['get', 'rs', '-l', 'app=fg']).items.length, 0);
    assert.equal(json(['get', 'pods', '-l', 'app=fg']).items.length, 0);
    server.kubectl(['delete', 'deployment', 'orphaned', '--cascade=orphan']);
    const rs = await eventually(() => {
      const items = json(['get', 'rs', '-l', 'app=orphaned']).items;
      return items.length === 1 && !items[0].metadata.ownerReferences ? items : undefined;
    }, 'orphaned ReplicaSet without owner');
    assert.equal(rs.length, 1);
  });

  test('deleting a namespace deletes its content, then the namespace', async () => {
    server.kubectl(['create', 'namespace', 'scratch']);
    server.kubectl(['create', 'configmap', 'c', '-n', 'scratch']);
    server.kubectl(['create', 'deployment', 'd', '--image=busybox', '-n', 'scratch']);
    server.kubectl(['delete', 'namespace', 'scratch']);
    const gone = server.kubectl(['get', 'namespace', 'scratch'], { allowFail: true });
    assert.match(gone.stderr, /namespaces "scratch" not found/);
  });

  test('every namespace gets a default service account and the root CA', async () => {
    server.kubectl(['create', 'namespace', 'fresh']);
    await eventually(() => json(['get', 'sa', '-n', 'fresh']).items.some((s: { metadata: { name: string } }) => s.metadata.name === 'default'), 'default service account');
    const ca = await eventually(() => json(['get', 'cm', '-n', 'fresh']).items.find((c: { metadata: { name: string } }) => c.metadata.name === 'kube-root-ca.crt'), 'kube-root-ca.crt');
    assert.match(ca.data['ca.crt'], /BEGIN CERTIFICATE/);
  });
});
