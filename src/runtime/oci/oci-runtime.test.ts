// Runs the shared contract against real runc containers. Needs root and runc: without them
// the suite fails with the reason (it never passes silently).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execFile, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { runRuntimeContract, waitFor } from '../contract.js';
import { OciRuntime, preflight } from './oci-runtime.js';
import { ImageStore } from '../images/store.js';
import { busyboxArchive } from '../images/testing.js';

const execFileP = promisify(execFile);
const roots: string[] = [];
const cgroupRoots: string[] = [];
const runtimes: OciRuntime[] = [];
after(async () => {
  for (const r of runtimes) await r.close();
  for (const r of roots) await fsp.rm(r, { recursive: true, force: true });
  for (const c of cgroupRoots) for (const ctrl of await fsp.readdir('/sys/fs/cgroup')) await fsp.rmdir(path.join('/sys/fs/cgroup', ctrl, c)).catch(() => {});
});

async function setUp() {
  preflight('runc');
  const root = await fsp.mkdtemp(path.join(os.tmpdir(), 'navarch-oci-rt-'));
  roots.push(root);
  const images = new ImageStore(path.join(root, 'images'));
  await images.importArchive(await busyboxArchive());
  const cgroupRoot = `/navarch-test-${path.basename(root)}`;
  cgroupRoots.push(cgroupRoot);
  const make = () => { const r = new OciRuntime({ root: path.join(root, 'state'), images, runtimeStateRoot: path.join(root, 'runc'), cgroupRoot, namespaceDir: path.join(root, 'ns') }); runtimes.push(r); return r; };
  return { root, images, make };
}

runRuntimeContract('oci (runc)', async () => {
  const { root, make } = await setUp();
  let current = make();
  return {
    runtime: current,
    image: 'busybox',
    logRoot: path.join(root, 'logs'),
    async restart() { current = make(); return current; },
    async cleanup() { for (const s of await current.listPodSandbox()) await current.removePodSandbox(s.id); },
  };
});

test('oci: memory limit exceeded is reported as OOMKilled (137)', async () => {
  const { root, make } = await setUp();
  const rt = make();
  const sc = { metadata: { name: 'oom', uid: 'oom-uid', namespace: 'default' }, logDirectory: path.join(root, 'logs') };
  const sb = await rt.runPodSandbox(sc);
  try {
    const id = await rt.createContainer(sb, {
      metadata: { name: 'hog' }, image: { image: 'busybox' }, logPath: 'hog.log',
      // tail buffers its whole input in memory: /dev/zero has no newline, so it grows until killed.
      command: ['sh', '-c', 'tail /dev/zero'],
      linux: { resources: { memoryLimitInBytes: 16 << 20 } },
    }, sc);
    await rt.startContainer(id);
    const s = await waitFor('OOM kill', async () => { const st = await rt.containerStatus(id); return st.state === 'CONTAINER_EXITED' && st; }, 20_000);
    assert.equal(s.reason, 'OOMKilled');
    assert.equal(s.exitCode, 137);
  } finally { await rt.removePodSandbox(sb); }
});

test('oci: the pod network namespace is exposed, isolated, and port-forward reaches into it', async () => {
  const { root, make } = await setUp();
  const rt = make();
  const sc = { metadata: { name: 'web', uid: 'web-uid', namespace: 'default' }, hostname: 'web-0', logDirectory: path.join(root, 'logs'),
    linux: { resources: { memoryLimitInBytes: 256 << 20, cpuPeriod: 100000, cpuQuota: 50000 } } };
  const sb = await rt.runPodSandbox(sc);
  try {
    const podCgroup = `/navarch-test-${path.basename(root)}/podweb-uid`;
    assert.equal((await fsp.readFile(`/sys/fs/cgroup/memory${podCgroup}/memory.limit_in_bytes`, 'utf8')).trim(), String(256 << 20), 'pod-level memory limit');
    assert.equal((await fsp.readFile(`/sys/fs/cgroup/cpu${podCgroup}/cpu.cfs_quota_us`, 'utf8')).trim(), '50000', 'pod-level cpu quota');
    const st = await rt.podSandboxStatus(sb);
    assert.match(st.network!.namespacePath!, /^\/run\/netns\/navarch-/);
    const { stdout } = await execFileP('ip', ['netns', 'exec', path.basename(st.network!.namespacePath!), 'ip', '-o', 'link']);
    assert.deepEqual(stdout.trim().split('\n').map((l) => l.split(':')[1].trim()), ['lo'], 'only loopback until CNI adds an interface');
    const id = await rt.createContainer(sb, {
      metadata: { name: 'httpd' }, image: { image: 'busybox' }, logPath: 'httpd.log',
      command: ['sh', '-c', 'echo -n "hello from $(hostname)" > /var/www/index.html && exec httpd -f -p 127.0.0.1:8080 -h /var/www'],
    }, sc);
    await rt.startContainer(id);
    const body = await waitFor('http answer through port-forward', async () => {
      const sock = await rt.portForward(sb, 8080);
      const chunks: Buffer[] = [];
      sock.on('data', (d: Buffer) => chunks.push(d));
      sock.write('GET / HTTP/1.0\r\n\r\n');
      await new Promise((r) => sock.on('end', r));
      const text = Buffer.concat(chunks).toString();
      return text.includes('200 OK') && text.split('\r\n\r\n')[1];
    }, 5000);
    assert.equal(body, 'hello from web-0');
  } finally { await rt.removePodSandbox(sb); }
});

test('oci: the busybox image resolves names through DNS (nslookup, wget, nc) inside a pod netns', async () => {
  const { root, make } = await setUp();
  const rt = make();
  // A "server" namespace of the test's own, joined to the pod's by a veth pair: the pod has no
  // other route, so nothing can leave the namespaces this test made.
  const tag = randomBytes(3).toString('hex');
  const srv = `navarch-dnstest-${tag}`;
  const [serverIp, podIp] = ['10.213.77.1', '10.213.77.2'];
  const sc = { metadata: { name: 'dns', uid: 'dns-uid', namespace: 'default' }, hostname: 'dns', logDirectory: path.join(root, 'logs'),
    dnsConfig: { servers: [serverIp], searches: ['navarch.test'], options: ['ndots:1'] } };
  const sb = await rt.runPodSandbox(sc);
  const procs: ReturnType<typeof spawn>[] = [];
  try {
    const podNs = path.basename((await rt.podSandboxStatus(sb)).network!.namespacePath!);
    await execFileP('ip', ['netns', 'add', srv]);
    await execFileP('ip', ['link', 'add', `nvd${tag}a`, 'netns', srv, 'type', 'veth', 'peer', 'name', `nvd${tag}b`, 'netns', podNs]);
    await execFileP('ip', ['-n', srv, 'addr', 'add', `${serverIp}/30`, 'dev', `nvd${tag}a`]);
    await execFileP('ip', ['-n', srv, 'link', 'set', `nvd${tag}a`, 'up']);
    await execFileP('ip', ['-n', srv, 'link', 'set', 'lo', 'up']);
    await execFileP('ip', ['-n', podNs, 'addr', 'add', `${podIp}/30`, 'dev', `nvd${tag}b`]);
    await execFileP('ip', ['-n', podNs, 'link', 'set', `nvd${tag}b`, 'up']);
    const www = path.join(root, 'www');
    await fsp.mkdir(www, { recursive: true });
    await fsp.writeFile(path.join(www, 'index.html'), 'served over dns\n');
    const dnsPacket = createRequire(import.meta.url).resolve('dns-packet');
    const server = path.join(root, 'dns-server.mjs');
    await fsp.writeFile(server, `
      import dgram from 'node:dgram';
      import { createRequire } from 'node:module';
      const packet = createRequire(import.meta.url)(${JSON.stringify(dnsPacket)});
      const sock = dgram.createSocket('udp4');
      sock.on('message', (msg, rinfo) => {
        const q = packet.decode(msg);
        const question = q.questions[0];
        const known = question.name.toLowerCase() === 'web.navarch.test';
        const answers = known && question.type === 'A' ? [{ type: 'A', name: question.name, ttl: 5, data: ${JSON.stringify(serverIp)} }] : [];
        sock.send(packet.encode({ id: q.id, type: 'response', flags: packet.RECURSION_DESIRED | packet.RECURSION_AVAILABLE | (known ? 0 : 3), questions: q.questions, answers }), rinfo.port, rinfo.address);
      });
      sock.bind(53, ${JSON.stringify(serverIp)}, () => console.log('ready'));
      setTimeout(() => process.exit(0), 60000).unref();
    `);
    const dns = spawn('ip', ['netns', 'exec', srv, process.execPath, server], { stdio: ['ignore', 'pipe', 'inherit'] });
    procs.push(dns);
    await new Promise<void>((resolve, reject) => { dns.stdout!.once('data', () => resolve()); dns.once('exit', (c) => reject(new Error(`dns server exited ${c}`))); });
    const httpd = spawn('ip', ['netns', 'exec', srv, '/bin/busybox', 'httpd', '-f', '-p', `${serverIp}:8080`, '-h', www], { stdio: 'ignore' });
    procs.push(httpd);
    const id = await rt.createContainer(sb, {
      metadata: { name: 'client' }, image: { image: 'busybox' }, logPath: 'client.log',
      command: ['sh', '-c', [
        'nslookup web.navarch.test',
        // (Debian's busybox 1.35 wget crashes on -T, whatever the name: no timeout flag here.)
        'wget -q -O - http://web:8080/',
        'printf "GET / HTTP/1.0\\r\\n\\r\\n" | nc web.navarch.test 8080 | tail -n 1',
      ].join(' && ')],
    }, sc);
    await rt.startContainer(id);
    const s = await waitFor('client to finish', async () => { const st = await rt.containerStatus(id); return st.state === 'CONTAINER_EXITED' && st; }, 20_000);
    const log = await fsp.readFile(s.logPath, 'utf8');
    assert.equal(s.exitCode, 0, log);
    assert.match(log, /Address: 10\.213\.77\.1/);
    assert.equal(log.split('\n').filter((l) => l.endsWith(' F served over dns')).length, 2, log);
  } finally {
    for (const p of procs) p.kill();
    await execFileP('ip', ['netns', 'delete', srv]).catch(() => {});
    await rt.removePodSandbox(sb);
  }
});

test('oci: createContainer+startContainer overhead against a raw `runc run -d` of the same bundle', async (t) => {
  const { measureStartOverhead } = await import('./start-overhead.js');
  const r = await measureStartOverhead(4);
  t.diagnostic(`navarch create+start median ${r.navarchMedianMs.toFixed(1)} ms (create ${r.createMedianMs.toFixed(1)} ms), raw runc run -d ${r.rawRuncMedianMs.toFixed(1)} ms, ratio ${r.ratio.toFixed(2)}`);
  // A loose bound: the machine is shared, so this catches regressions like a cold Node boot per start.
  assert.ok(r.navarchMedianMs < r.rawRuncMedianMs + 500, JSON.stringify(r));
});

test('oci: crun on this hybrid-cgroup host is refused with advice to use runc', (t) => {
  if (!fs.existsSync('/sys/fs/cgroup/unified') || !fs.existsSync('/sys/fs/cgroup/memory')) { t.skip('not a hybrid cgroup host'); return; }
  assert.throws(() => preflight('crun'), /hybrid mode.*runc/);
});

test('oci: exec with a tty gets a terminal whose size follows resize', async () => {
  const { root, make } = await setUp();
  const rt = make();
  const sc = { metadata: { name: 'tty', uid: 'tty-uid', namespace: 'default' }, logDirectory: path.join(root, 'logs') };
  const sb = await rt.runPodSandbox(sc);
  try {
    const id = await rt.createContainer(sb, { metadata: { name: 'c' }, image: { image: 'busybox' }, logPath: 'c.log', command: ['sleep', '1000'] }, sc);
    await rt.startContainer(id);
    const session = await rt.exec(id, ['sh', '-c', 'read line; stty size; [ -t 0 ] && [ -t 1 ] && echo is-a-tty'], { tty: true, stdin: true });
    assert.equal(session.stderr, null, 'a tty merges stderr');
    let out = '';
    session.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    await new Promise((r) => setTimeout(r, 300));
    session.resize(99, 33);
    await new Promise((r) => setTimeout(r, 100));
    session.stdin!.write('go\n');
    assert.equal(await session.exit, 0, out);
    assert.match(out, /33 99/);
    assert.match(out, /is-a-tty/);
    const failing = await rt.exec(id, ['sh', '-c', 'exit 3'], { tty: true });
    failing.stdout.resume();
    assert.equal(await failing.exit, 3, 'the exit code comes back from a tty exec');
  } finally { await rt.removePodSandbox(sb); }
});

test('oci: a tty container gets a terminal, takes stdin through attach and reports its exit code', async () => {
  const { root, make } = await setUp();
  const rt = make();
  const sc = { metadata: { name: 'tty-ctr', uid: 'tty-ctr-uid', namespace: 'default' }, logDirectory: path.join(root, 'logs') };
  const sb = await rt.runPodSandbox(sc);
  try {
    const id = await rt.createContainer(sb, {
      metadata: { name: 'shell' }, image: { image: 'busybox' }, logPath: 'shell.log', tty: true, stdin: true,
      command: ['sh', '-c', '[ -t 0 ] && [ -t 1 ] && echo "is-tty $TERM"; read x; echo "got $x"; echo "size $(stty size)"; exit 4'],
    }, sc);
    await rt.startContainer(id);
    const session = await rt.attach(id, { stdin: true });
    let out = '';
    session.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    const logPath = (await rt.containerStatus(id)).logPath;
    await waitFor('the shell to be ready', async () => (await fsp.readFile(logPath, 'utf8').catch(() => '')).includes('is-tty xterm'), 5000);
    // kubectl attach -t sends the local terminal's size first; the container sees it.
    session.resize(101, 37);
    await new Promise((r) => setTimeout(r, 200));
    session.stdin!.write('hello\n');
    const s = await waitFor('exit', async () => { const st = await rt.containerStatus(id); return st.state === 'CONTAINER_EXITED' && st; }, 10_000);
    const log = await fsp.readFile(s.logPath, 'utf8');
    assert.equal(s.exitCode, 4, log);
    assert.match(log, /stdout F is-tty xterm/);
    assert.match(log, /stdout F got hello/);
    assert.match(log, /stdout F size 37 101/, 'attach resizes the container terminal');
    assert.match(out, /got hello/, 'attach streams the terminal output');
    session.close();
  } finally { await rt.removePodSandbox(sb); }
});

test('oci: containers of a pod share its IPC namespace, other pods do not', async () => {
  const { root, make } = await setUp();
  const rt = make();
  const sandboxes: string[] = [];
  try {
    const ipcOf = async (pod: string, containers: number) => {
      const sc = { metadata: { name: pod, uid: `${pod}-uid`, namespace: 'default' }, logDirectory: path.join(root, 'logs') };
      const sb = await rt.runPodSandbox(sc);
      sandboxes.push(sb);
      const out: string[] = [];
      for (let i = 0; i < containers; i++) {
        const id = await rt.createContainer(sb, { metadata: { name: `c${i}` }, image: { image: 'busybox' }, logPath: `${pod}-${i}.log`, command: ['sleep', '1000'] }, sc);
        await rt.startContainer(id);
        out.push((await rt.execSync(id, ['readlink', '/proc/self/ns/ipc'], 5)).stdout.toString().trim());
      }
      return out;
    };
    const [a1, a2] = await ipcOf('ipc-a', 2);
    const [b1] = await ipcOf('ipc-b', 1);
    assert.match(a1, /^ipc:\[\d+\]$/);
    assert.equal(a1, a2);
    assert.notEqual(a1, b1);
    assert.notEqual(a1, fs.readlinkSync('/proc/self/ns/ipc'));
  } finally { for (const sb of sandboxes) await rt.removePodSandbox(sb); }
  assert.deepEqual(await fsp.readdir(path.join(root, 'ns')), [], 'pinned namespaces released');
});
