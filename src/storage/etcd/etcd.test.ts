// The contract against a real etcd 3.4 (Debian's etcd-server), started on loopback with free
// ports and a temporary data directory, and killed at the end. Every test gets its own key
// namespace in that one etcd.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { runStoreContract } from '../contract.test-suite.js';
import { StoreUnavailableError } from '../types.js';
import { openEtcdStore } from './etcd-store.js';

const ETCD_BINARY = process.env.NAVARCH_TEST_ETCD ?? '/usr/bin/etcd';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

interface RunningEtcd {
  endpoint: string;
  stop(): Promise<void>;
}

async function startEtcd(): Promise<RunningEtcd> {
  if (!fs.existsSync(ETCD_BINARY)) {
    throw new Error(`etcd tests need an etcd server binary at ${ETCD_BINARY}: install it with 'apt-get install etcd-server' (or set NAVARCH_TEST_ETCD)`);
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'navarch-etcd-test-'));
  const clientPort = await freePort();
  const peerPort = await freePort();
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const child: ChildProcess = spawn(
    ETCD_BINARY,
    [
      '--name', 'navarch-test',
      '--data-dir', dataDir,
      '--listen-client-urls', client,
      '--advertise-client-urls', client,
      '--listen-peer-urls', peer,
      '--initial-advertise-peer-urls', peer,
      '--initial-cluster', `navarch-test=${peer}`,
      // Short raft ticks make a single member elect itself at once and lower etcd's minimum
      // lease TTL (1.5 election timeouts) below the 1 s the contract's lease test uses.
      '--heartbeat-interval', '10',
      '--election-timeout', '100',
      '--logger', 'zap',
      '--log-level', 'error',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`etcd exited at startup: ${stderr}`);
    }
    try {
      const probe = await openEtcdStore({ endpoints: [client], requestTimeoutMs: 500 });
      await probe.close();
      return { endpoint: client, stop };
    } catch (error) {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`etcd did not become ready: ${String(error)} ${stderr}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

let etcd: RunningEtcd | undefined;
let startError: unknown;
before(async () => {
  try {
    etcd = await startEtcd();
  } catch (error) {
    startError = error;
  }
});
after(async () => {
  await etcd?.stop();
});

function endpoint(): string {
  if (!etcd) throw startError instanceof Error ? startError : new Error(String(startError));
  return etcd.endpoint;
}

let namespaceCounter = 0;
runStoreContract('etcd', () => openEtcdStore({ endpoints: [endpoint()], namespace: `/navarch-test-${process.pid}-${++namespaceCounter}` }));

describe('etcd backend specifics', () => {
  test('an unreachable etcd is reported as StoreUnavailableError', async () => {
    const port = await freePort();
    await assert.rejects(openEtcdStore({ endpoints: [`http://127.0.0.1:${port}`], requestTimeoutMs: 300 }), StoreUnavailableError);
  });

  test('namespaces isolate stores sharing one etcd', async () => {
    const a = await openEtcdStore({ endpoints: [endpoint()], namespace: '/cluster-a' });
    const b = await openEtcdStore({ endpoints: [endpoint()], namespace: '/cluster-b' });
    try {
      assert.ok((await a.create('/registry/pods/ns/p', 'in a')).succeeded);
      assert.equal((await b.get('/registry/pods/ns/p')).kv, null);
      const listed = await a.range('/registry/');
      assert.deepEqual(listed.kvs.map((kv) => kv.key), ['/registry/pods/ns/p']);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('losing etcd ends a watch with StoreUnavailableError and fails requests the same way', async () => {
    const own = await startEtcd();
    const store = await openEtcdStore({ endpoints: [own.endpoint], requestTimeoutMs: 500 });
    try {
      const errors: Error[] = [];
      const start = (await store.currentRevision()) + 1;
      store.watch('/registry/pods/', { startRevision: start }, () => {}, (error) => errors.push(error));
      assert.ok((await store.create('/registry/pods/ns/a', 'a')).succeeded);
      await own.stop();
      const deadline = Date.now() + 5000;
      while (errors.length === 0) {
        assert.ok(Date.now() < deadline, 'watch did not report the lost etcd');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.ok(errors[0] instanceof StoreUnavailableError, String(errors[0]));
      await assert.rejects(store.get('/registry/pods/ns/a'), StoreUnavailableError);
    } finally {
      await store.close();
      await own.stop();
    }
  });
});
