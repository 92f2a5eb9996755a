// atExpression / parseAtExpression / scheduleName: the UTC `at()` form EventBridge Scheduler
// evaluates with ScheduleExpressionTimezone UTC, and names the service accepts.
import { afterEach, describe, expect, it } from 'vitest';
import {
  atExpression,
  parseAtExpression,
  SCHEDULE_NAME_MAX_LENGTH,
  SCHEDULE_NAME_PATTERN,
  ScheduleExpressionError,
  scheduleName,
} from '#domain/schedule-expression.ts';

describe('atExpression', () => {
  const originalTz = process.env.TZ;
  afterEach(() => {
    if (originalTz === undefined) delete process.env.TZ;
    else process.env.TZ = originalTz;
  });

  it.each(['America/Los_Angeles', 'Asia/Kathmandu', 'UTC'])(
    'writes UTC while the process runs in %s',
    (tz) => {
      // Prepare: Node applies a TZ assigned at run time to later local-time calls.
      process.env.TZ = tz;
      const date = new Date('2026-07-01T23:30:00-07:00');

      // Act + Assess
      expect(atExpression(date)).toBe('at(2026-07-02T06:30:00)');
    },
  );

  it('writes the UTC wall-clock time of an instant given with a non-UTC offset', () => {
    // Prepare: 15:04:05 at +05:30 is 09:34:05 UTC, whatever TZ this process runs in.
    const date = new Date('2026-11-26T15:04:05+05:30');

    // Act + Assess
    expect(atExpression(date)).toBe('at(2026-11-26T09:34:05)');
  });

  it('crosses the date line in UTC, not in the offset the instant was written with', () => {
    expect(atExpression(new Date('2026-03-01T01:30:00+03:00'))).toBe('at(2026-02-28T22:30:00)');
    expect(atExpression(new Date('2026-02-28T22:30:00-05:00'))).toBe('at(2026-03-01T03:30:00)');
  });

  it('zero-pads month, day, hour, minute and second', () => {
    expect(atExpression(new Date(Date.UTC(2027, 0, 2, 3, 4, 5)))).toBe('at(2027-01-02T03:04:05)');
  });

  it.each([
    ['2026-11-26T15:04:05.001Z', 'at(2026-11-26T15:04:06)'],
    ['2026-11-26T15:04:05.999Z', 'at(2026-11-26T15:04:06)'],
    ['2026-11-26T15:04:59.500Z', 'at(2026-11-26T15:05:00)'],
    ['2026-11-26T15:04:05.000Z', 'at(2026-11-26T15:04:05)'],
  ])('rounds %s up to the next whole second (%s), never down', (iso, expected) => {
    expect(atExpression(new Date(iso))).toBe(expected);
  });

  it('rounds the last millisecond of a year into the next year', () => {
    expect(atExpression(new Date('2026-12-31T23:59:59.001Z'))).toBe('at(2027-01-01T00:00:00)');
  });

  it('keeps the year boundary exact', () => {
    expect(atExpression(new Date('2026-12-31T23:59:59Z'))).toBe('at(2026-12-31T23:59:59)');
    expect(atExpression(new Date('2027-01-01T00:00:00Z'))).toBe('at(2027-01-01T00:00:00)');
  });

  it('refuses an invalid Date', () => {
    expect(() => atExpression(new Date('not a date'))).toThrow(RangeError);
  });
});

describe('parseAtExpression', () => {
  it.each([
    '2026-11-26T15:04:05.000Z',
    '2027-01-01T00:00:00.000Z',
    '2028-02-29T23:59:59.000Z',
    '2026-12-31T23:59:59.000Z',
  ])('round-trips %s', (iso) => {
    const date = new Date(iso);
    expect(parseAtExpression(atExpression(date)).toISOString()).toBe(iso);
  });

  it('reads the expression as UTC', () => {
    expect(parseAtExpression('at(2026-11-26T15:04:05)').getTime()).toBe(Date.UTC(2026, 10, 26, 15, 4, 5));
  });

  it.each([
    'rate(5 minutes)',
    'cron(0 12 * * ? *)',
    'at(2026-11-26T15:04)',
    'at(2026-11-26)',
    'at(2026-11-26 15:04:05)',
    'at(2026-11-26T15:04:05Z)',
    'at(2026-11-26T15:04:05.000)',
    'at(2026-11-26T15:04:05+01:00)',
    ' at(2026-11-26T15:04:05)',
    'at(2026-11-26T15:04:05) ',
    'AT(2026-11-26T15:04:05)',
    'at(2026-1-26T15:04:05)',
    'at(2026-02-30T00:00:00)',
    'at(2027-02-29T00:00:00)',
    'at(2026-13-01T00:00:00)',
    'at(2026-11-26T24:00:00)',
    'at(2026-11-26T15:60:00)',
    'at(2026-11-26T15:04:60)',
    '2026-11-26T15:04:05',
    '',
  ])('rejects %j', (text) => {
    expect(() => parseAtExpression(text)).toThrow(ScheduleExpressionError);
  });
});

describe('scheduleName', () => {
  const ULID = '01JD4W9X2Y3Z4A5B6C7D8E9F0G';

  it('names a grant version’s schedule `<purpose>-<id>-v<version>`', () => {
    expect(scheduleName('expire', ULID, 2)).toBe(`expire-${ULID}-v2`);
    expect(scheduleName('start', ULID, 0)).toBe(`start-${ULID}-v0`);
  });

  it('leaves the version off when none is given', () => {
    expect(scheduleName('deny-sweep', ULID)).toBe(`deny-sweep-${ULID}`);
  });

  it.each([
    ['an ARN', 'arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-0123456789abcdef'],
    ['a long id', 'x'.repeat(200)],
    ['spaces and slashes', 'a b/c'],
  ])('makes a valid, stable name from %s', (_label, id) => {
    const name = scheduleName('deny-sweep', id, 12);

    expect(name.length).toBeLessThanOrEqual(SCHEDULE_NAME_MAX_LENGTH);
    expect(name).toMatch(SCHEDULE_NAME_PATTERN);
    expect(name.startsWith('deny-sweep-')).toBe(true);
    expect(name.endsWith('-v12')).toBe(true);
    expect(scheduleName('deny-sweep', id, 12)).toBe(name);
  });

  it('gives ids that only differ past the cut, or in a replaced character, different names', () => {
    expect(scheduleName('expire', `${'a'.repeat(80)}1`)).not.toBe(
      scheduleName('expire', `${'a'.repeat(80)}2`),
    );
    expect(scheduleName('expire', 'a/b')).not.toBe(scheduleName('expire', 'a:b'));
  });

  it('refuses an empty id and a negative or fractional version', () => {
    expect(() => scheduleName('expire', '')).toThrow(RangeError);
    expect(() => scheduleName('expire', ULID, -1)).toThrow(RangeError);
    expect(() => scheduleName('expire', ULID, 1.5)).toThrow(RangeError);
  });
});
