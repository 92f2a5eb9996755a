// EventBridge Scheduler's one-time `at(yyyy-mm-ddThh:mm:ss)` expressions and schedule names. Every
// schedule cloud-pam creates is evaluated in UTC (`ScheduleExpressionTimezone: 'UTC'`), so the
// expression is always written from the instant's UTC fields, whatever the process's TZ is.
//
// The expression has whole seconds only. A sub-second instant rounds *up*: an expiry schedule that
// fired before the grant's end would be a stale-looking but early command, and the expire use case
// would have to treat "not yet due" as a retryable failure. Rounding up never fires early.
import { createHash } from 'node:crypto';

/** What a schedule is for; it prefixes the schedule name so a listing reads on its own. */
export type SchedulePurpose = 'expire' | 'start' | 'deny-sweep';

/** EventBridge Scheduler's limits for a schedule name (CreateSchedule `Name`). */
export const SCHEDULE_NAME_MAX_LENGTH = 64;
export const SCHEDULE_NAME_PATTERN = /^[0-9a-zA-Z\-_.]+$/;

const AT_PATTERN = /^at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)$/;

/** The text is not a one-time `at(yyyy-mm-ddThh:mm:ss)` expression naming a real instant. */
export class ScheduleExpressionError extends Error {
  constructor(text: string) {
    super(`not a one-time schedule expression at(yyyy-mm-ddThh:mm:ss): ${JSON.stringify(text)}`);
    this.name = 'ScheduleExpressionError';
  }
}

const pad = (value: number, width = 2) => String(value).padStart(width, '0');

/** `at(…)` for `date` in UTC, rounded up to the next whole second when it has milliseconds. */
export function atExpression(date: Date): string {
  const ms = date.getTime();
  if (!Number.isFinite(ms)) throw new RangeError('atExpression: invalid Date');
  const seconds = new Date(Math.ceil(ms / 1000) * 1000);
  const year = seconds.getUTCFullYear();
  if (year < 1000 || year > 9999) throw new RangeError(`atExpression: year ${year} has no 4-digit form`);
  return (
    `at(${year}-${pad(seconds.getUTCMonth() + 1)}-${pad(seconds.getUTCDate())}` +
    `T${pad(seconds.getUTCHours())}:${pad(seconds.getUTCMinutes())}:${pad(seconds.getUTCSeconds())})`
  );
}

/**
 * The UTC instant of an `at(yyyy-mm-ddThh:mm:ss)` expression. Strict: `rate()`, `cron()`, missing
 * seconds, offsets, fractions, whitespace and impossible dates (Feb 30, hour 24) are all refused.
 */
export function parseAtExpression(text: string): Date {
  const match = AT_PATTERN.exec(text);
  if (!match) throw new ScheduleExpressionError(text);
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  // Date.UTC rolls over out-of-range fields (Feb 30 → Mar 2); a real instant survives the round trip.
  if (atExpression(date) !== text) throw new ScheduleExpressionError(text);
  return date;
}

/**
 * A valid, deterministic schedule name: `<purpose>-<id>[-v<version>]`, e.g. `expire-01J…-v2`. An id
 * with characters a schedule name cannot hold, or too long to fit, is shortened to a readable prefix
 * plus a hash of the whole id, so two ids never share a name and the same id always gets the same one.
 */
export function scheduleName(purpose: SchedulePurpose, id: string, version?: number): string {
  if (id.length === 0) throw new RangeError('scheduleName: id is empty');
  if (version !== undefined && !(Number.isSafeInteger(version) && version >= 0))
    throw new RangeError(`scheduleName: version must be a non-negative integer, got ${version}`);
  const suffix = version === undefined ? '' : `-v${version}`;
  const plain = `${purpose}-${id}${suffix}`;
  if (plain.length <= SCHEDULE_NAME_MAX_LENGTH && SCHEDULE_NAME_PATTERN.test(id)) return plain;

  const hash = createHash('sha256').update(id, 'utf8').digest('hex').slice(0, 16);
  const room = SCHEDULE_NAME_MAX_LENGTH - purpose.length - suffix.length - hash.length - 2;
  const readable = id.replace(/[^0-9a-zA-Z\-_.]/g, '_').slice(0, Math.max(0, room));
  return readable ? `${purpose}-${readable}-${hash}${suffix}` : `${purpose}-${hash}${suffix}`;
}
