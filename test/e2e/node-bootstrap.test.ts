// Node join: the join token verifies the server's CA and gets a node client certificate through
// the CertificateSigningRequest API (auto-approved and signed by the server's controllers);
// a wrong token or a token for another CA is refused with a message saying why.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { bootstrapNodeCredentials } from '../../src/cli/node-bootstrap.js';
import { startServer, type TestServer } from './harness.js';

describe('node bootstrap', () => {
  let server: TestServer;
  let agentDir: string;
  before(async () => {
    server = await startServer();
    agentDir = mkdtempSync(join(tmpdir(), 'navarch-agent-'));
  });
  after(async () => {
    await server?.stop();
    rmSync(agentDir, { recursive: true, force: true });
  });

  test('a node with the join token gets its own client certificate', async () => {
    const token = readFileSync(join(server.dataDir, 'token'), 'utf8').trim();
    const creds = await bootstrapNodeCredentials({ server: server.url, token, dataDir: agentDir, nodeName: 'worker-1' });
    const whoami = spawnSync('/usr/bin/kubectl', ['--kubeconfig', creds.kubeconfigPath, 'auth', 'whoami', '-o', 'json'], { encoding: 'utf8' });
    assert.equal(whoami.status, 0, whoami.stderr);
    const user = JSON.parse(whoami.stdout).status.userInfo;
    assert.equal(user.username, 'system:node:worker-1');
    assert.ok(user.groups.includes('system:nodes'));
    const csr = server.kubectl(['get', 'csr', '-o', 'json']).stdout;
    const items = JSON.parse(csr).items;
    assert.equal(items.length, 1);
    assert.equal(items[0].spec.username, 'system:bootstrap:navarch-join');
    assert.equal(items[0].status.conditions[0].type, 'Approved');
    // A second call reuses the stored credentials without the token.
    const again = await bootstrapNodeCredentials({ server: server.url, dataDir: agentDir, nodeName: 'worker-1' });
    assert.equal(again.certPem, creds.certPem);
  });

  test('a token for another cluster is refused before anything is sent', async () => {
    const wrong = `K10${'0'.repeat(64)}::server:abcdef`;
    await assert.rejects(bootstrapNodeCredentials({ server: server.url, token: wrong, dataDir: mkdtempSync(join(tmpdir(), 'navarch-agent-x-')), nodeName: 'worker-2' }), /does not match the join token/);
  });
});
