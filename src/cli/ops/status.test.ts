import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatStatus } from './status.js';

test('status table: running, failing readyz check, certificates, nodes and pods by phase', () => {
  const text = formatStatus(
    {
      dataDir: '/home/u/.navarch',
      serverPid: 77,
      apiServer: 'https://127.0.0.1:6443',
      readyz: { ok: false, text: '[+]ping ok\n[-]etcd failed: reason withheld\n[+]kubeconfig ok\nreadyz check failed' },
      datastoreBytes: 3 * 1024 * 1024 + 512 * 1024,
      certificates: [
        { name: 'server', expires: new Date('2027-01-11T00:00:00Z') },
        { name: 'ca', expires: new Date('2025-12-31T00:00:00Z') },
      ],
      nodes: { total: 2, ready: 1 },
      podsByPhase: { Running: 5, Pending: 1 },
    },
    new Date('2026-01-01T00:00:00Z'),
  );
  assert.equal(text, [
    'Data dir     /home/u/.navarch',
    'Server       running (pid 77)',
    'API server   https://127.0.0.1:6443',
    'Ready        no (failing: etcd)',
    'Datastore    3.5 MiB',
    'Cert server  expires 2027-01-11 (in 375 days)',
    'Cert ca      expires 2025-12-31 (EXPIRED 1 days ago)',
    'Nodes        1/2 Ready',
    'Pods         1 Pending, 5 Running',
  ].join('\n'));
});

test('status table of a stopped cluster', () => {
  assert.equal(formatStatus({ dataDir: '/d', certificates: [] }, new Date()), 'Data dir   /d\nServer     not running\nDatastore  none (sqlite file absent)');
});
