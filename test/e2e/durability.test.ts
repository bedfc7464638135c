// Crash safety: every write the server acknowledged survives `kill -9`, and resourceVersions
// keep rising after the restart on the same data dir.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { startServer } from './harness.js';

test('kill -9 mid-stream loses no acknowledged write', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'navarch-crash-'));
  try {
    const first = await startServer({ dataDir });
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(first.kubeconfig);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const acknowledged = new Map<string, string>();
    let stop = false;
    const writers = Array.from({ length: 4 }, async (_, w) => {
      for (let i = 0; !stop; i++) {
        const name = `w${w}-${i}`;
        try {
          const created = await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name }, data: { i: String(i) } } });
          acknowledged.set(name, created.metadata!.resourceVersion!);
        } catch {
          return; // the server died under us: this write was never acknowledged
        }
      }
    });
    while (acknowledged.size < 150) await new Promise((r) => setTimeout(r, 10));
    await first.kill('SIGKILL');
    stop = true;
    await Promise.all(writers);
    const maxRv = Math.max(...[...acknowledged.values()].map(Number));

    const second = await startServer({ dataDir, port: first.port });
    try {
      const kc2 = new k8s.KubeConfig();
      kc2.loadFromFile(second.kubeconfig);
      const list = await kc2.makeApiClient(k8s.CoreV1Api).listNamespacedConfigMap({ namespace: 'default' });
      const names = new Set(list.items.map((c) => c.metadata!.name!));
      for (const name of acknowledged.keys()) assert.ok(names.has(name), `acknowledged ${name} lost after kill -9`);
      const after = await kc2.makeApiClient(k8s.CoreV1Api).createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'after-restart' } } });
      assert.ok(Number(after.metadata!.resourceVersion) > maxRv, 'resourceVersion went backwards after restart');
    } finally {
      await second.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
