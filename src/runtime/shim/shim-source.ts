// The per-container supervisor ("shim"), in the spirit of containerd-shim / conmon.
//
// Why a separate process: the container must outlive the node agent (an agent restart or
// upgrade must not kill pods), yet someone must hold the container's stdio pipes, turn them
// into CRI log lines, and collect the exit status. The shim is started detached (its own
// session), runs the payload in the foreground (`runc run …` for oci, the command itself for
// the process runtime) and records everything on disk under its state directory:
//   shim.pid      the shim's own pid (liveness check by the agent)
//   started.json  {pid, startedAt}: the container's host pid, once known
//   exit.json     {exitCode, finishedAt, oomKilled, signal}: written atomically on exit
//   spec.attachSocket  unix socket: output frames to every client, client bytes to stdin
// SIGHUP makes it reopen the log file (CRI ReopenContainerLog after rotation).
//
// It is plain JavaScript kept in a string so the same file works from the TypeScript sources
// (tsx) and from the compiled dist/ without a build step: the runtime writes it to its root
// and starts it with the bare `node` binary (~40 ms start, no tsx), which keeps the
// createContainer+startContainer overhead small.
export const shimSource = String.raw`
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';

function main(spec) {
  const stateDir = spec.stateDir;
  const write = (name, obj) => {
    const tmp = path.join(stateDir, '.' + name + '.tmp');
    fs.writeFileSync(tmp, JSON.stringify(obj));
    fs.renameSync(tmp, path.join(stateDir, name));
  };
  { const tmp = path.join(stateDir, '.shim.pid.tmp'); fs.writeFileSync(tmp, String(process.pid)); fs.renameSync(tmp, path.join(stateDir, 'shim.pid')); }

  function ts() { return new Date().toISOString().slice(0, -1) + '000000Z'; }
  let logFd = -1;
  function openLog() {
    if (!spec.logPath) return;
    fs.mkdirSync(path.dirname(spec.logPath), { recursive: true });
    const fd = fs.openSync(spec.logPath, 'a', 0o640);
    if (logFd >= 0) fs.closeSync(logFd);
    logFd = fd;
  }
  openLog();
  process.on('SIGHUP', () => { try { openLog(); } catch {} });
  // The shim must never die from the signals meant for the container or the agent's group.
  process.on('SIGTERM', () => {});
  process.on('SIGINT', () => {});
  process.on('SIGPIPE', () => {});

  const MAX_LINE = 16 * 1024;
  const pending = { stdout: '', stderr: '' };
  function logChunk(stream, text) {
    if (logFd < 0) return;
    let buf = pending[stream] + text;
    let out = '';
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      out += ts() + ' ' + stream + ' F ' + buf.slice(0, nl) + '\n';
      buf = buf.slice(nl + 1);
    }
    while (buf.length > MAX_LINE) {
      out += ts() + ' ' + stream + ' P ' + buf.slice(0, MAX_LINE) + '\n';
      buf = buf.slice(MAX_LINE);
    }
    pending[stream] = buf;
    if (out) fs.writeSync(logFd, out);
  }
  function flushLog() {
    for (const s of ['stdout', 'stderr']) if (pending[s]) { logChunk(s, ''); fs.writeSync(logFd, ts() + ' ' + s + ' F ' + pending[s] + '\n'); pending[s] = ''; }
  }

  const clients = new Set();
  function frame(kind, data) {
    const h = Buffer.alloc(5); h[0] = kind; h.writeUInt32BE(data.length, 1);
    return Buffer.concat([h, data]);
  }
  function broadcast(kind, data) { const f = frame(kind, data); for (const c of clients) c.write(f); }

  // The attach socket listens before the container is reported started, so an attach right
  // after startContainer finds it.
  let child = null;
  let listening = false;
  let pendingStart = null;
  function announce() { if (listening && pendingStart) { write('started.json', pendingStart); pendingStart = null; } }
  const sockPath = spec.attachSocket;
  try { fs.unlinkSync(sockPath); } catch {}
  // allowHalfOpen: an attach client that closes its stdin still receives the output that follows.
  const server = net.createServer({ allowHalfOpen: true }, (c) => {
    clients.add(c);
    c.on('data', (d) => { if (stdinOpen && child && child.stdin) child.stdin.write(d); });
    c.on('end', () => { if (spec.stdinOnce && child && child.stdin) { stdinOpen = false; child.stdin.end(); } });
    c.on('error', () => {});
    c.on('close', () => clients.delete(c));
  });
  // Attach is a convenience: a socket problem must never take the container's supervisor down.
  server.on('error', (err) => { try { fs.writeFileSync(path.join(stateDir, 'attach.error'), String(err)); } catch {} listening = true; announce(); });
  server.listen(sockPath, () => { listening = true; announce(); });
  child = spawn(spec.argv[0], spec.argv.slice(1), {
    cwd: spec.cwd || undefined,
    env: spec.env || {},
    stdio: [spec.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    detached: !!spec.ownProcessGroup,
  });
  child.on('error', (err) => {
    logChunk('stderr', 'failed to start: ' + err.message + '\n');
  });
  let stdinOpen = !!spec.stdin;
  if (child.stdin) child.stdin.on('error', () => {});
  child.stdout.on('data', (d) => { logChunk('stdout', d.toString('utf8')); broadcast(1, d); });
  child.stderr.on('data', (d) => { logChunk('stderr', d.toString('utf8')); broadcast(2, d); });

  let containerPid = 0;
  function started(pid) {
    if (containerPid) return;
    containerPid = pid;
    pendingStart = { pid, startedAt: Date.now() };
    announce();
  }
  if (spec.pidFile) {
    const tryPid = () => {
      try { const p = parseInt(fs.readFileSync(spec.pidFile, 'utf8'), 10); if (p > 0) { started(p); return true; } } catch {}
      return false;
    };
    const t = setInterval(() => { if (tryPid()) clearInterval(t); }, 5);
    child.on('exit', () => { clearInterval(t); tryPid(); });
  } else if (child.pid) {
    started(child.pid);
  }

  let oomKilled = false;
  let events = null;
  if (spec.oomEventsArgv) {
    // runc events subscribes to the cgroup's OOM notifications (v1: eventfd on memory.oom_control).
    const startEvents = () => {
      events = spawn(spec.oomEventsArgv[0], spec.oomEventsArgv.slice(1), { stdio: ['ignore', 'pipe', 'ignore'] });
      let buf = '';
      events.stdout.on('data', (d) => {
        buf += d.toString();
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl); buf = buf.slice(nl + 1);
          try { if (JSON.parse(line).type === 'oom') oomKilled = true; } catch {}
        }
      });
      events.on('error', () => {});
    };
    const t = setInterval(() => { if (containerPid) { clearInterval(t); startEvents(); } }, 5);
    child.on('exit', () => clearInterval(t));
  }
  if (spec.oomKillFile) {
    // Fallback for a kernel that reports kills in memory.oom_control: read it while the cgroup exists.
    // runc removes the cgroup as the container exits, so the count must be read while it lives:
    // often at first (a container that allocates at once is killed within milliseconds, possibly
    // before runc events subscribed), then once a second.
    const readOom = () => { try { const m = /oom_kill (\d+)/.exec(fs.readFileSync(spec.oomKillFile, 'utf8')); if (m && +m[1] > 0) oomKilled = true; } catch {} };
    let reads = 0;
    const fast = setInterval(() => { readOom(); if (++reads >= 200) clearInterval(fast); }, 10); fast.unref();
    const t = setInterval(readOom, 1000); t.unref();
    child.on('exit', () => { clearInterval(fast); readOom(); });
  }



  child.on('close', (code, signal) => {
    let exitCode = code;
    if (exitCode === null || exitCode === undefined) exitCode = 128 + (os.constants.signals[signal] || 0);
    if (child.pid === undefined && exitCode === 0) exitCode = 128;
    // A brief grace period lets runc events deliver an OOM notification that raced the exit.
    setTimeout(() => {
      if (events) try { events.kill('SIGKILL'); } catch {}
      if (logFd >= 0) flushLog();
      const failedToStart = child.pid === undefined || (!containerPid && spec.pidFile);
      write('exit.json', { exitCode: oomKilled && exitCode === 0 ? 137 : exitCode, finishedAt: Date.now(), oomKilled, signal: signal || null, failedToStart: !!failedToStart });
      broadcast(3, Buffer.from(String(exitCode)));
      for (const c of clients) c.end();
      server.close();
      try { fs.unlinkSync(sockPath); } catch {}
      setTimeout(() => process.exit(0), 50).unref();
    }, spec.oomEventsArgv && exitCode === 137 ? 100 : 0);
  });
}

if (process.argv[2] === '--standby') {
  // A pre-started shim waiting for its container: it takes Node's start-up time off the
  // critical path of startContainer. The agent claims it by renaming <pid>.ready, writes
  // <pid>.json and sends SIGUSR2.
  const me = path.join(process.argv[3], String(process.pid));
  const keep = setInterval(() => {}, 1 << 30);
  const expire = setTimeout(() => { try { fs.unlinkSync(me + '.ready'); } catch {} process.exit(0); }, Number(process.argv[4] || 600000));
  process.on('SIGTERM', () => process.exit(0));
  process.on('SIGUSR2', () => {
    let spec;
    try { spec = JSON.parse(fs.readFileSync(me + '.json', 'utf8')); } catch { return; }
    clearInterval(keep); clearTimeout(expire);
    process.removeAllListeners('SIGTERM');
    for (const f of ['.json', '.claimed', '.ready']) { try { fs.unlinkSync(me + f); } catch {} }
    main(spec);
  });
  fs.writeFileSync(me + '.ready', '');
} else {
  main(JSON.parse(fs.readFileSync(process.argv[2], 'utf8')));
}
`;
