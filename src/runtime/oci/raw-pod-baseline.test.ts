// Heavy (root, runc, CNI plugins): run under /tmp/navarch-e2e.lock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { openRawPodBaseline } from './raw-pod-baseline.js';
import { busyboxArchive } from '../images/testing.js';

const canRun = process.getuid?.() === 0 && existsSync('/usr/lib/cni/bridge');

test('a raw pod gets an address on the test bridge, runs, and leaves nothing behind', { skip: canRun ? false : 'needs root and CNI plugins' }, async () => {
  const bridge = 'nvbrawt0';
  const baseline = await openRawPodBaseline({ imageArchive: await busyboxArchive(), bridge, subnet: '10.239.0.0/24' });
  const netnsBefore = readdirSync('/run/netns').filter((n) => n.startsWith('nvraw-'));
  try {
    const pod = await baseline.start();
    assert.match(pod.ip, /^10\.239\.0\.\d+$/);
    assert.ok(pod.startMs > 0);
    const created = readdirSync('/run/netns').filter((n) => n.startsWith('nvraw-') && !netnsBefore.includes(n));
    assert.equal(created.length, 1);
    // The container really runs inside that netns, with the CNI address on its eth0.
    const addr = execFileSync('ip', ['netns', 'exec', created[0], 'ip', '-4', '-o', 'addr', 'show', 'eth0'], { encoding: 'utf8' });
    assert.match(addr, new RegExp(`inet ${pod.ip.replace(/\./g, '\\.')}/24`));
    await pod.remove();
    assert.ok(!existsSync(`/run/netns/${created[0]}`));
  } finally {
    await baseline.close();
  }
  assert.equal(execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).includes(`${bridge}:`), false);
});
