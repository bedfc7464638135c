// CronJob schedules as Kubernetes reads them (robfig/cron ParseStandard): five fields, the
// descriptors @yearly/@annually/@monthly/@weekly/@daily/@midnight/@hourly and `@every <duration>`,
// evaluated in spec.timeZone (default: the controller's zone, UTC here). cron-parser does the
// field arithmetic; this module adds the descriptors, @every and Kubernetes' missed-run logic.
import { CronExpressionParser } from 'cron-parser';

export interface Schedule {
  /** The first scheduled time strictly after `afterMs`. */
  next(afterMs: number): number;
  /** The latest scheduled time at or before `atMs` that is not before `fromMs` (a run of the same series), if any. */
  latest(fromMs: number, atMs: number): number | undefined;
}

const descriptors: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

const durationUnits: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, µs: 0.001, ns: 0.000001 };

/** Go's time.ParseDuration for the positive durations @every takes ("1h30m", "90s", "1.5h"). */
export function parseGoDuration(text: string): number {
  const re = /(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)/gy;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * durationUnits[m[2]!]!;
    consumed = re.lastIndex;
  }
  if (!text || consumed !== text.length) throw new Error(`time: invalid duration "${text}"`);
  return total;
}

export function parseSchedule(schedule: string, timeZone?: string): Schedule {
  const text = schedule.trim();
  if (text.startsWith('@every ')) {
    // robfig/cron: at least one second, sub-second parts dropped; runs at fixed delays.
    const delay = Math.max(1000, Math.floor(parseGoDuration(text.slice(7).trim()) / 1000) * 1000);
    const next = (afterMs: number) => Math.floor(afterMs / 1000) * 1000 + delay;
    return {
      next,
      latest(fromMs, atMs) {
        const first = next(fromMs - 1);
        return first > atMs ? undefined : first + Math.floor((atMs - first) / delay) * delay;
      },
    };
  }
  const expression = descriptors[text] ?? text;
  if (expression.startsWith('@')) throw new Error(`unrecognized descriptor: ${text}`);
  if (expression.split(/\s+/).length !== 5) throw new Error(`expected exactly 5 fields, found ${expression.split(/\s+/).length}: ${text}`);
  if (timeZone !== undefined) validateTimeZone(timeZone);
  // Parse once now so a bad field fails here, not on the first run.
  CronExpressionParser.parse(expression, { currentDate: 0, tz: timeZone });
  return {
    next: (afterMs) => CronExpressionParser.parse(expression, { currentDate: afterMs, tz: timeZone }).next().getTime(),
    latest(fromMs, atMs) {
      const t = CronExpressionParser.parse(expression, { currentDate: atMs + 1, tz: timeZone }).prev().getTime();
      return t >= fromMs ? t : undefined;
    },
  };
}

export function validateTimeZone(timeZone: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    throw new Error(`unknown time zone ${timeZone}`);
  }
}

export const maxMissedSchedulesBeforeWarning = 100;

/**
 * Kubernetes' mostRecentScheduleTime: the latest scheduled time in (earliest, now], and how
 * many were missed. Beyond a few the count is estimated from the interval, as Kubernetes does,
 * so a year of downtime on a per-minute schedule costs no more than a minute of it.
 */
export function mostRecentScheduleTime(schedule: Schedule, earliestMs: number, nowMs: number): { time?: number; missed: number } {
  const t1 = schedule.next(earliestMs);
  if (t1 > nowMs) return { missed: 0 };
  const t2 = schedule.next(t1);
  if (t2 > nowMs) return { time: t1, missed: 1 };
  const time = schedule.latest(t1, nowMs) ?? t1;
  // An estimate from the first interval, exact for regular schedules — only ever compared with 100.
  const missed = Math.max(2, Math.floor((nowMs - t1) / Math.max(1, t2 - t1)) + 1);
  return { time, missed };
}
