import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { runRuntimeContract, waitFor } from '../contract.js';
import { ProcessRuntime } from './process-runtime.js';

const execFileP = promisify(execFile);

runRuntimeContract('process', async () => {
  const root = await fsp.mkdtemp(path.join(os.tmpdir(), 'navarch-process-rt-'));
  const runtimes: ProcessRuntime[] = [new ProcessRuntime({ root: path.join(root, 'state') })];
  return {
    runtime: runtimes[0],
    image: 'host',
    logRoot: path.join(root, 'logs'),
    async restart() { const r = new ProcessRuntime({ root: path.join(root, 'state') }); runtimes.push(r); return r; },
    async cleanup() {
      const r = runtimes[runtimes.length - 1];
      for (const s of await r.listPodSandbox()) await r.removePodSandbox(s.id);
      for (const x of runtimes) await x.close();
      await fsp.rm(root, { recursive: true, force: true });
    },
  };
});

test('containers outlive the agent process: a new agent collects the exit code', async () => {
  const root = await fsp.mkdtemp(path.join(os.tmpdir(), 'navarch-process-agent-'));
  try {
    // A separate "agent" process starts the container and exits without any cleanup.
    const agent = path.join(root, 'agent.mts');
    await fsp.writeFile(agent, `
      import { ProcessRuntime } from ${JSON.stringify(path.resolve('src/runtime/process/process-runtime.ts'))};
      const rt = new ProcessRuntime({ root: ${JSON.stringify(path.join(root, 'state'))}, prewarmShim: false });
      const sc = { metadata: { name: 'p', uid: 'u', namespace: 'default' }, logDirectory: ${JSON.stringify(path.join(root, 'logs'))} };
      const sb = await rt.runPodSandbox(sc);
      const id = await rt.createContainer(sb, { metadata: { name: 'c' }, image: { image: 'host' }, command: ['sh', '-c', 'echo started; sleep 1; echo done; exit 9'], logPath: 'c.log' }, sc);
      await rt.startContainer(id);
      console.log(id);
      process.exit(0);
    `);
    const { stdout } = await execFileP(process.execPath, ['--import', 'tsx', agent], { cwd: process.cwd() });
    const id = stdout.trim();
    const rt = new ProcessRuntime({ root: path.join(root, 'state'), prewarmShim: false });
    assert.equal((await rt.containerStatus(id)).state, 'CONTAINER_RUNNING', 'still running after its agent exited');
    const s = await waitFor('exit', async () => { const st = await rt.containerStatus(id); return st.state === 'CONTAINER_EXITED' && st; }, 5000);
    assert.equal(s.exitCode, 9);
    assert.deepEqual((await fsp.readFile(s.logPath, 'utf8')).trim().split('\n').map((l) => l.split(' ').slice(3).join(' ')), ['started', 'done']);
    await rt.close();
  } finally {
    await fsp.rm(root, { recursive: true, force: true });
  }
});
