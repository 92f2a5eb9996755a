import { describe, expect, it } from 'vitest';
import { humanDuration, parseDurationFlag } from '../../../cli/duration.ts';

describe('parseDurationFlag', () => {
  it.each([
    ['90m', 'PT1H30M', 90 * 60_000],
    ['2h', 'PT2H', 2 * 3_600_000],
    ['2H', 'PT2H', 2 * 3_600_000],
    ['25h', 'P1DT1H', 25 * 3_600_000],
    ['1d', 'P1D', 86_400_000],
    ['1h30m', 'PT1H30M', 90 * 60_000],
    ['1d2h', 'P1DT2H', 26 * 3_600_000],
    ['1h 30m', 'PT1H30M', 90 * 60_000],
    ['1d 2h 5m', 'P1DT2H5M', 26 * 3_600_000 + 5 * 60_000],
    ['45s', 'PT45S', 45_000],
    ['1w', 'P7D', 7 * 86_400_000],
    ['PT2H', 'PT2H', 2 * 3_600_000],
    ['pt30m', 'PT30M', 30 * 60_000],
    ['P1DT12H', 'P1DT12H', 36 * 3_600_000],
    ['P1W', 'P7D', 7 * 86_400_000],
    [' 2h ', 'PT2H', 2 * 3_600_000],
  ])('reads %j as %s on the wire', (text, iso, ms) => {
    expect(parseDurationFlag(text)).toEqual({ ok: true, iso, ms });
  });

  it.each([
    ['', 'expected a duration'],
    ['h', 'expected a duration'],
    ['2', 'expected a duration'],
    ['2x', 'expected a duration'],
    ['1.5h', 'expected a duration'],
    ['-1h', 'expected a duration'],
    ['30m1h', 'expected a duration'],
    ['30m 1h', 'expected a duration'],
    ['1 h', 'expected a duration'],
    ['0m', 'longer than zero'],
    ['PT0S', 'longer than zero'],
    ['P1M', 'years and months have no fixed length'],
    ['PT', 'expected an ISO-8601 duration'],
    ['P', 'expected an ISO-8601 duration'],
    ['PT1.5H', 'expected an ISO-8601 duration'],
  ])('refuses %j', (text, reason) => {
    const parsed = parseDurationFlag(text);
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? '' : parsed.reason).toContain(reason);
  });

  it('refuses a duration too long to count in milliseconds', () => {
    expect(parseDurationFlag('99999999999999999d').ok).toBe(false);
  });
});

describe('humanDuration', () => {
  it.each([
    [0, '0s'],
    [2 * 3_600_000, '2h'],
    [25 * 3_600_000, '1d 1h'],
    [90 * 60_000, '1h 30m'],
    [45_000, '45s'],
    [-30 * 60_000, '-30m'],
    [500, '500ms'],
  ])('writes %d ms as %s', (ms, text) => {
    expect(humanDuration(ms)).toBe(text);
  });

  it.each([2 * 3_600_000, 90 * 60_000, 26 * 3_600_000 + 5 * 60_000 + 7_000])(
    'writes %d ms as something --for reads back',
    (ms) => {
      expect(parseDurationFlag(humanDuration(ms))).toMatchObject({ ok: true, ms });
    },
  );
});
