import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runRuntimeContract } from '../contract.js';
import { ProcessRuntime } from './process-runtime.js';

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
