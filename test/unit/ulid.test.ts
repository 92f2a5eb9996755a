// The ids every function makes (shared/adapters/ulid.ts, behind ulidGenerator): ULIDs as the spec
// and the `ulid` package read them — time in the first 10 characters, Crockford base32, 26 in all —
// that sort in the order they were made, within a millisecond and when the clock steps back.
import { decodeTime, isValid } from 'ulid';
import { describe, expect, it } from 'vitest';
import { ulidGenerator } from '#adapters/system.ts';
import { encodeUlidTime, incrementUlidRandom, monotonicUlid } from '#adapters/ulid.ts';
import { FakeClock, ULID_PATTERN } from '../support/fakes.ts';

describe('monotonic ULIDs', () => {
  it.each([0, 1, 1_469_918_176_385, Date.UTC(2026, 10, 30, 9, 0, 0, 123), 2 ** 48 - 1])(
    'encodes %i ms so that the ulid package decodes the same time',
    (ms) => {
      // Act
      const id = monotonicUlid()(ms);

      // Assess
      expect(id).toMatch(ULID_PATTERN);
      expect(isValid(id)).toBe(true);
      expect(decodeTime(id)).toBe(ms);
    },
  );

  it('writes the spec’s example time as the spec does', () => {
    expect(encodeUlidTime(1_469_918_176_385)).toBe('01ARYZ6S41');
  });

  it.each([-1, 1.5, 2 ** 48, Number.NaN])('refuses the time %s', (ms) => {
    expect(() => monotonicUlid()(ms)).toThrow(RangeError);
  });

  it('sorts ids made in the same millisecond, and after the clock steps back, in the order made', () => {
    // Prepare
    const next = monotonicUlid();
    const times = [1000, 1000, 1000, 999, 1001, 1001, 5];

    // Act
    const ids = times.map((ms) => next(ms));

    // Assess
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.map((id) => decodeTime(id))).toEqual([1000, 1000, 1000, 1000, 1001, 1001, 1001]);
  });

  it('draws new randomness in each new millisecond', () => {
    // Prepare
    const next = monotonicUlid();

    // Act
    const randoms = Array.from({ length: 50 }, (_, i) => next(1000 + i).slice(10));

    // Assess: 80 random bits each; 50 draws never repeat.
    expect(new Set(randoms).size).toBe(50);
  });

  it('increments the random part with carries, and refuses to wrap around', () => {
    expect(incrementUlidRandom('0000000000000000')).toBe('0000000000000001');
    expect(incrementUlidRandom('000000000000000Z')).toBe('0000000000000010');
    expect(incrementUlidRandom('0ZZZZZZZZZZZZZZZ')).toBe('1000000000000000');
    expect(() => incrementUlidRandom('ZZZZZZZZZZZZZZZZ')).toThrow('ULID random part overflow');
  });

  it('ulidGenerator reads the clock it is given', () => {
    // Prepare
    const clock = new FakeClock();
    const ids = ulidGenerator(clock);

    // Act
    const first = ids.next();
    clock.advance(60_000);
    const second = ids.next();

    // Assess
    expect(decodeTime(first)).toBe(clock.now().getTime() - 60_000);
    expect(decodeTime(second)).toBe(clock.now().getTime());
    expect(second > first).toBe(true);
  });
});
