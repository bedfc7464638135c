// Structured logs: one JSON object per line on stderr, with component, message and fields.
// NAVARCH_LOG=debug shows debug lines; NAVARCH_LOG=quiet hides info.

type Level = 'debug' | 'info' | 'warn' | 'error';
const order: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };

function threshold(): number {
  const v = process.env.NAVARCH_LOG;
  if (v === 'debug') return 0;
  if (v === 'quiet') return 2;
  return 1;
}

function write(level: Level, component: string, msg: string, fields?: Record<string, unknown>): void {
  if (order[level] < threshold()) return;
  process.stderr.write(JSON.stringify({ ts: new Date().toISOString(), level, component, msg, ...(fields ?? {}) }) + '\n');
}

export const log = {
  debug: (component: string, msg: string, fields?: Record<string, unknown>) => write('debug', component, msg, fields),
  info: (component: string, msg: string, fields?: Record<string, unknown>) => write('info', component, msg, fields),
  warn: (component: string, msg: string, fields?: Record<string, unknown>) => write('warn', component, msg, fields),
  error: (component: string, msg: string, fields?: Record<string, unknown>) => write('error', component, msg, fields),
};
