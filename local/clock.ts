// The local runtime's clock: real time plus an offset that only moves forward. The offset lives in
// a SharedArrayBuffer that every handler worker maps before its bundle loads (local/handler-worker.mjs),
// so `pam local clock advance 2h` moves every function's `Date` at once, without a message.
export class LocalClock {
  readonly buffer: SharedArrayBuffer;
  private readonly offset: Float64Array;

  constructor(buffer?: SharedArrayBuffer) {
    this.buffer = buffer ?? new SharedArrayBuffer(Float64Array.BYTES_PER_ELEMENT);
    this.offset = new Float64Array(this.buffer);
  }

  get offsetMs(): number {
    return this.offset[0] ?? 0;
  }

  nowMs(): number {
    return Date.now() + this.offsetMs;
  }

  now(): Date {
    return new Date(this.nowMs());
  }

  /** Moves the clock forward by `ms` (> 0) and answers the new time. */
  advance(ms: number): Date {
    if (!Number.isFinite(ms) || ms <= 0) throw new RangeError('the clock only moves forward');
    this.offset[0] = this.offsetMs + ms;
    return this.now();
  }

  /** Sets the clock to `at` when that is later than now (never backwards). */
  advanceTo(at: number): void {
    const delta = at - this.nowMs();
    if (delta > 0) this.offset[0] = this.offsetMs + delta;
  }
}
