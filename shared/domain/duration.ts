// ISO-8601 durations at the edges (config, API), milliseconds inside. Only fixed-length units are
// accepted (weeks, days, hours, minutes, whole seconds): years and months have no fixed length.

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;

const DURATION_SHAPE = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;
/** The same grammar for JSON Schema consumers (editors); lookaheads refuse `P` and `PT` alone. */
export const DURATION_JSON_PATTERN =
  '^P(?=\\d|T\\d)(?:\\d+W)?(?:\\d+D)?(?:T(?=\\d)(?:\\d+H)?(?:\\d+M)?(?:\\d+S)?)?$';
const DURATION_EXAMPLES = 'an ISO-8601 duration such as PT30M, PT1H, P1D or P1DT12H';

export type DurationParse =
  | { readonly ok: true; readonly ms: number }
  | { readonly ok: false; readonly reason: string };

/**
 * Parses the fixed-length subset of ISO-8601 durations: weeks, days, hours, minutes and
 * whole seconds. Years and months are refused because they have no fixed length; fractions are
 * refused to keep the grammar small. The reason reads as `expected …`.
 */
export function parseIsoDuration(text: string): DurationParse {
  const datePart = text.startsWith('P') ? (text.slice(1).split('T')[0] ?? '') : '';
  if (/\d[YM]/.test(datePart)) {
    return {
      ok: false,
      reason: `expected ${DURATION_EXAMPLES}; years and months have no fixed length, use days (P30D)`,
    };
  }
  const match = DURATION_SHAPE.exec(text);
  const [, weeks, days, hours, minutes, seconds] = match ?? [];
  const hasTime = text.includes('T');
  const timeGiven = hours !== undefined || minutes !== undefined || seconds !== undefined;
  if (!match || (hasTime && !timeGiven) || (weeks === undefined && days === undefined && !timeGiven)) {
    return { ok: false, reason: `expected ${DURATION_EXAMPLES}` };
  }
  const ms =
    Number(weeks ?? 0) * WEEK +
    Number(days ?? 0) * DAY +
    Number(hours ?? 0) * HOUR +
    Number(minutes ?? 0) * MINUTE +
    Number(seconds ?? 0) * SECOND;
  if (!Number.isSafeInteger(ms))
    return { ok: false, reason: `expected ${DURATION_EXAMPLES} of a sensible length` };
  return { ok: true, ms };
}

/** Milliseconds back to the canonical ISO-8601 form used in messages (`P1DT12H`, `PT30M`). */
export function formatIsoDuration(ms: number): string {
  if (ms === 0) return 'PT0S';
  const days = Math.floor(ms / DAY);
  const hours = Math.floor((ms % DAY) / HOUR);
  const minutes = Math.floor((ms % HOUR) / MINUTE);
  const seconds = Math.floor((ms % MINUTE) / SECOND);
  const time = `${hours ? `${hours}H` : ''}${minutes ? `${minutes}M` : ''}${seconds ? `${seconds}S` : ''}`;
  return `P${days ? `${days}D` : ''}${time ? `T${time}` : ''}`;
}

/**
 * Milliseconds as people write them: `2h`, `30m`, `1h 30m`, `1d 2h 5m`, `45s` (what the CLI prints
 * and reads back, and what Slack shows). Below a second, milliseconds; not a number, `?`.
 */
export function humanDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '?';
  const sign = ms < 0 ? '-' : '';
  let rest = Math.abs(Math.round(ms));
  if (rest < SECOND) return `${sign}${rest === 0 ? '0s' : `${rest}ms`}`;
  const parts: string[] = [];
  for (const [unit, size] of [
    ['d', DAY],
    ['h', HOUR],
    ['m', MINUTE],
    ['s', SECOND],
  ] as const) {
    const count = Math.floor(rest / size);
    if (count > 0) parts.push(`${count}${unit}`);
    rest -= count * size;
  }
  return `${sign}${parts.join(' ')}`;
}
