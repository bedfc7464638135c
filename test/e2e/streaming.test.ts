// Streaming with the real kubectl against runc pods: exec (stdin, exit codes, tty), attach,
// `run -i --rm`, cp both ways, and port-forward — with the current kubectl (WebSocket v5 exec,
// SPDY tunnelled in WebSocket for port-forward) and kubectl 1.27 (SPDY/3.1 for everything).
// Traffic stays on loopback and on the test server's own pod bridge.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, kubectlBinaries, startServer, type TestServer, eventually } from './harness.js';


function httpGet(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

describe('kubectl streaming against runc pods', { skip: process.getuid?.() !== 0 ? 'needs root (runc, network namespaces)' : false }, () => {
  let server: TestServer;
  const scratch = mkdtempSync(join(tmpdir(), 'navarch-streaming-'));
  before(async () => {
    server = await startServer({ agent: true, extraArgs: ['--runtime', 'runc', '--cluster-cidr', '10.246.0.0/16', '--service-cidr', '10.247.0.0/16', '--cluster-dns', '10.247.0.10', '--node-name', 'stream-node'] });
    await eventually(() => /\sReady\s/.test(server.kubectl(['get', 'nodes']).stdout), 'node Ready');
    server.kubectl(['run', 'box', '--image=busybox', '--', 'sh', '-c', 'echo "<b>served</b>" > /tmp/index.html; httpd -p 80 -h /tmp; while true; do echo tick; sleep 0.3; done']);
    await eventually(() => JSON.parse(server.kubectl(['get', 'pod', 'box', '-o', 'json']).stdout).status.containerStatuses?.[0]?.ready, 'box ready');
  });
  after(async () => {
    if (server) {
      server.kubectl(['delete', 'pods', '--all', '--now'], { allowFail: true });
      await server.stop();
    }
    rmSync(scratch, { recursive: true, force: true });
  });

  for (const binary of kubectlBinaries) {
    const name = binary.endsWith('1.27') ? 'kubectl 1.27 (SPDY)' : 'kubectl (WebSocket)';
    const kubectl = (args: string[], opts: { input?: string; allowFail?: boolean } = {}) => server.kubectl(args, { ...opts, binary });

    test(`${name}: exec with stdin, exit codes, tty; attach`, async () => {
      assert.equal(kubectl(['exec', '-i', 'box', '--', 'cat'], { input: 'hi from stdin\n' }).stdout, 'hi from stdin\n');
      const failed = kubectl(['exec', 'box', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3'], { allowFail: true });
      assert.equal(failed.status, 3, failed.stderr);
      assert.equal(failed.stdout, 'out\n');
      assert.match(failed.stderr, /err\n/);
      // A pseudo-terminal around kubectl, so that -t really asks for a tty in the container.
      const tty = spawnSync('script', ['-qec', `${binary} --kubeconfig ${server.kubeconfig} exec -it box -- sh -c '[ -t 0 ] && [ -t 1 ] && echo has-a-tty'`, '/dev/null'], { encoding: 'utf8', timeout: 20_000, input: '' });
      assert.match(tty.stdout, /has-a-tty/);
      const noTty = kubectl(['exec', 'box', '--', 'sh', '-c', '[ -t 1 ] && echo tty || echo no-tty']);
      assert.equal(noTty.stdout, 'no-tty\n');

      const attach = spawn(binary, ['--kubeconfig', server.kubeconfig, 'attach', 'box'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      attach.stdout.on('data', (d) => (out += d));
      try { await eventually(() => out.includes('tick\ntick'), 'attached output', 10_000); } finally { attach.kill(); }
    });

    test(`${name}: cp both ways and port-forward`, async () => {
      const local = join(scratch, `${name.length}-up.txt`);
      writeFileSync(local, 'copied up\n');
      kubectl(['cp', local, 'box:/tmp/up.txt']);
      assert.equal(kubectl(['exec', 'box', '--', 'cat', '/tmp/up.txt']).stdout, 'copied up\n');
      const back = join(scratch, `${name.length}-back.html`);
      kubectl(['cp', 'box:/tmp/index.html', back]);
      assert.equal(readFileSync(back, 'utf8'), '<b>served</b>\n');

      const port = await freePort();
      const forward = spawn(binary, ['--kubeconfig', server.kubeconfig, 'port-forward', 'pod/box', `${port}:80`, '-v=6'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let log = '';
      forward.stdout.on('data', (d) => (log += d));
      forward.stderr.on('data', (d) => (log += d));
      try {
        await eventually(() => log.includes('Forwarding from 127.0.0.1'), 'port-forward listening', 10_000);
        // Several connections through one forwarding session, each its own stream pair.
        for (let i = 0; i < 3; i++) assert.equal(await httpGet(port, '/index.html'), '<b>served</b>\n');
        assert.doesNotMatch(log, /^(error|E\d{4} )/m);
        // kubectl ≥ 1.31 must get its WebSocket tunnel, not fall back to plain SPDY.
        assert.doesNotMatch(log, /fallback to secondary dialer/);
      } finally {
        forward.kill();
      }
    });
  }

  test('kubectl run -i --rm prints the output without an exit-code protocol error', () => {
    for (const [i, binary] of kubectlBinaries.entries()) {
      const r = server.kubectl(['run', '-i', '--rm', `once-${i}`, '--image=busybox', '--restart=Never', '--', 'sh', '-c', 'echo hello'], { binary });
      assert.match(r.stdout, /^hello$/m);
      assert.doesNotMatch(r.stderr, /invalid exit code|protocol error/);
    }
  });

  test('navarch image ls / import while the node runs', () => {
    const main = join(import.meta.dirname, '../../dist/src/cli/main.js');
    const ls = spawnSync(process.execPath, [main, 'image', 'ls', '--data-dir', server.dataDir], { encoding: 'utf8' });
    assert.match(ls.stdout, /^REPOSITORY\s+TAG\s+IMAGE ID\s+SIZE\n/);
    assert.match(ls.stdout, /docker\.io\/library\/busybox\s+latest\s+[0-9a-f]{13}\s+\d/);
    const archive = join(server.dataDir, 'images', 'busybox.tar');
    const copy = join(scratch, 'again.tar');
    writeFileSync(copy, readFileSync(archive));
    const imported = spawnSync(process.execPath, [main, 'image', 'import', copy, '--data-dir', server.dataDir], { encoding: 'utf8' });
    assert.equal(imported.status, 0, imported.stderr);
    assert.match(imported.stdout, /is running on .*it will be imported at the node's next start/);
  });
});
