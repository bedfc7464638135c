// The background server `navarch up` started: DATA/server.pid.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid of the running server of `dataDir`, or undefined when none runs (a stale pid file is ignored). */
export function runningServerPid(dataDir: string, alive: (pid: number) => boolean = isAlive): number | undefined {
  const pidFile = join(dataDir, 'server.pid');
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  return pid > 0 && alive(pid) ? pid : undefined;
}

/** SIGTERM, up to 10 s for a clean shutdown, then SIGKILL; removes the pid file. */
export async function stopServer(dataDir: string): Promise<number | undefined> {
  const pid = runningServerPid(dataDir);
  if (pid) {
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 100 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
    if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  }
  rmSync(join(dataDir, 'server.pid'), { force: true });
  return pid;
}
