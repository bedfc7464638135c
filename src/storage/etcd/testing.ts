// A real etcd 3.4 (Debian's etcd-server) for tests: loopback, free ports, a temporary data
// directory, killed by stop(). Used by the storage contract and the HA end-to-end test.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { openEtcdStore } from './etcd-store.js';

const ETCD_BINARY = process.env.NAVARCH_TEST_ETCD ?? '/usr/bin/etcd';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface RunningEtcd {
  endpoint: string;
  stop(): Promise<void>;
}

export async function startEtcd(): Promise<RunningEtcd> {
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

