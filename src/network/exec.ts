// How the networking modules run host tools (iptables-restore, ip, CNI plugins). Injected, so
// rule logic can be tested with a recording runner and the shipped path uses real processes.
import { spawn } from 'node:child_process';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  stdin?: string;
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
}

export type CommandRunner = (file: string, args: string[], options?: RunOptions) => Promise<CommandResult>;

export const runCommand: CommandRunner = (file, args, options = {}) =>
  new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      env: options.env ? (options.env as NodeJS.ProcessEnv) : process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? 30_000,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({
        code: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      }),
    );
    // EPIPE when the tool exits without reading stdin is not our error; its exit code tells.
    child.stdin.on('error', () => {});
    child.stdin.end(options.stdin ?? '');
  });

/** Runs and throws with the tool's own message when it fails. */
export async function runChecked(run: CommandRunner, file: string, args: string[], options?: RunOptions): Promise<string> {
  const r = await run(file, args, options);
  if (r.code !== 0) {
    throw new Error(`${file} ${args.join(' ')} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim()}`);
  }
  return r.stdout;
}
