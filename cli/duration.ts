// Durations on the command line: people type `90m`, `2h`, `1d` or `1h30m` (or `1h 30m`, as the CLI
// prints them), scripts may pass ISO-8601 (`PT2H`). Either way the wire gets the canonical ISO-8601
// form the API takes (shared grammar in #domain/duration.ts), so the API's own rules (fixed-length
// units only, ≤ 32 characters) still apply. Human output turns the API's ISO-8601 back into `2h`.
import { formatIsoDuration, humanDuration, parseIsoDuration } from '#domain/duration.ts';

export { humanDuration };

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;

// Units in order, optionally a space apart (`1h 30m`, what humanDuration prints, reads back).
const SHORTHAND = /^(?:(\d+)w)? *(?:(\d+)d)? *(?:(\d+)h)? *(?:(\d+)m)? *(?:(\d+)s)?$/;

export type DurationFlag =
  | { readonly ok: true; readonly ms: number; readonly iso: string }
  | { readonly ok: false; readonly reason: string };

const EXPECTED = 'expected a duration such as 30m, 2h, 1h30m, 1d or PT2H';

/** Parses `2h`, `1h30m`, `1h 30m`, `1d`, `90m`, `45s`, `1w` (units in that order) or an ISO-8601 duration. */
export function parseDurationFlag(text: string): DurationFlag {
  const trimmed = text.trim();
  let ms: number;
  if (/^p/i.test(trimmed)) {
    const parsed = parseIsoDuration(trimmed.toUpperCase());
    if (!parsed.ok) return { ok: false, reason: parsed.reason };
    ms = parsed.ms;
  } else {
    const match = SHORTHAND.exec(trimmed.toLowerCase());
    if (!match || trimmed === '') return { ok: false, reason: EXPECTED };
    const [, weeks, days, hours, minutes, seconds] = match;
    ms =
      Number(weeks ?? 0) * WEEK +
      Number(days ?? 0) * DAY +
      Number(hours ?? 0) * HOUR +
      Number(minutes ?? 0) * MINUTE +
      Number(seconds ?? 0) * SECOND;
  }
  if (!Number.isSafeInteger(ms)) return { ok: false, reason: `${EXPECTED} of a sensible length` };
  if (ms <= 0) return { ok: false, reason: 'expected a duration longer than zero' };
  return { ok: true, ms, iso: formatIsoDuration(ms) };
}

/** An ISO-8601 duration from the API as people write it (`PT1H30M` → `1h 30m`); anything else as it is. */
export function humanIsoDuration(text: string): string {
  const parsed = parseIsoDuration(text);
  return parsed.ok ? humanDuration(parsed.ms) : text;
}

/**
 * How long a grant ending at `expiresAt` has left at `nowMs`, in whole minutes rounded down (never
 * more than it has): `1h 12m`, `under 1m`, `0m` once its end has passed (its expiry is then on its
 * way). Undefined when `expiresAt` is not a time.
 */
export function timeLeft(expiresAt: string, nowMs: number): string | undefined {
  const ms = Date.parse(expiresAt) - nowMs;
  if (Number.isNaN(ms)) return undefined;
  if (ms <= 0) return '0m';
  if (ms < MINUTE) return 'under 1m';
  return humanDuration(ms - (ms % MINUTE));
}
