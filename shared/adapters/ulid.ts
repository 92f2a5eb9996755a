// Monotonic ULIDs (github.com/ulid/spec): 48 bits of milliseconds and 80 random bits, Crockford
// base32, 26 characters; within one millisecond — or if the clock steps back — the random part of
// the last id is incremented, so ids from one generator always sort in the order they were made.
// Written out rather than taken from the `ulid` package, whose module imports node:crypto as ESM (a
// namespace that loads WebCrypto) and reads `globalThis.crypto` (loading it again): ~1.5 ms of the
// Slack ingress's cold start (bench/slack-ingress). test/unit/ulid.test.ts decodes its ids with the
// package and holds both to the spec.

// process.getBuiltinModule, not `import`: see #adapters/http/node-http-post.ts.
const { randomBytes } = process.getBuiltinModule('node:crypto');

const ENCODING = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const TIME_MAX = 2 ** 48 - 1;
const TIME_LENGTH = 10;
const RANDOM_LENGTH = 16;

/** The time part: `ms` in 10 base32 characters, most significant first. */
export function encodeUlidTime(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0 || ms > TIME_MAX)
    throw new RangeError(`ULID time must be a whole number of milliseconds from 0 to ${TIME_MAX}`);
  let out = '';
  for (let rest = ms, i = 0; i < TIME_LENGTH; i++, rest = Math.floor(rest / 32))
    out = `${ENCODING[rest % 32]}${out}`;
  return out;
}

/** 80 random bits as 16 base32 characters. */
function randomPart(): string {
  const bytes = randomBytes(10);
  let bits = 0n;
  for (const byte of bytes) bits = (bits << 8n) | BigInt(byte);
  let out = '';
  for (let i = 0; i < RANDOM_LENGTH; i++, bits >>= 5n) out = `${ENCODING[Number(bits & 31n)]}${out}`;
  return out;
}

/** The random part plus one; throws when it is already the largest (2^80 ids in one millisecond). */
export function incrementUlidRandom(random: string): string {
  const digits = random.split('');
  for (let i = digits.length - 1; i >= 0; i--) {
    const value = ENCODING.indexOf(digits[i] as string);
    if (value < 0) throw new RangeError('not a ULID random part');
    if (value < 31) {
      digits[i] = ENCODING[value + 1] as string;
      return digits.join('');
    }
    digits[i] = '0';
  }
  throw new RangeError('ULID random part overflow: more ids in one millisecond than it can number');
}

/** A generator of ids that never sort before the one it made last. */
export function monotonicUlid(): (ms: number) => string {
  let lastTime = -1;
  let lastRandom = '';
  return (ms) => {
    if (ms <= lastTime) {
      lastRandom = incrementUlidRandom(lastRandom);
      return `${encodeUlidTime(lastTime)}${lastRandom}`;
    }
    const time = encodeUlidTime(ms);
    lastTime = ms;
    lastRandom = randomPart();
    return `${time}${lastRandom}`;
  };
}
