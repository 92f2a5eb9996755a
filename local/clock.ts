// The local runtime's clock: real time plus an offset that only moves forward, or — while
// `pam local clock advance` runs — a frozen instant that steps from one due event to the next, so
// everything that fires during an advance sees exactly its due time (real seconds spent processing
// never leak into it). Both live in a SharedArrayBuffer that every handler worker maps before its
// bundle loads (local/handler-worker.mjs), so every function's `Date` moves at once, without a message.
const OFFSET = 0;
const FROZEN = 1;

export class LocalClock {
  readonly buffer: SharedArrayBuffer;
  private readonly cells: Float64Array;

  constructor(buffer?: SharedArrayBuffer) {
    this.buffer = buffer ?? new SharedArrayBuffer(2 * Float64Array.BYTES_PER_ELEMENT);
    this.cells = new Float64Array(this.buffer);
    if (!buffer) this.cells[FROZEN] = Number.NaN;
  }

  get offsetMs(): number {
    return this.frozen ? (this.cells[FROZEN] as number) - Date.now() : (this.cells[OFFSET] ?? 0);
  }

  private get frozen(): boolean {
    return !Number.isNaN(this.cells[FROZEN]);
  }

  nowMs(): number {
    return this.frozen ? (this.cells[FROZEN] as number) : Date.now() + (this.cells[OFFSET] ?? 0);
  }

  now(): Date {
    return new Date(this.nowMs());
  }

  /** Stops the clock at its current instant (until `thaw`). */
  freeze(): void {
    if (!this.frozen) this.cells[FROZEN] = this.nowMs();
  }

  /** Lets the clock run again from the instant it shows. */
  thaw(): void {
    if (!this.frozen) return;
    this.cells[OFFSET] = (this.cells[FROZEN] as number) - Date.now();
    this.cells[FROZEN] = Number.NaN;
  }

  /** Moves the clock forward by `ms` (> 0) and answers the new time. */
  advance(ms: number): Date {
    if (!Number.isFinite(ms) || ms <= 0) throw new RangeError('the clock only moves forward');
    this.advanceTo(this.nowMs() + ms);
    return this.now();
  }

  /** Sets the clock to `at` when that is later than now (never backwards). */
  advanceTo(at: number): void {
    const delta = at - this.nowMs();
    if (delta <= 0) return;
    if (this.frozen) this.cells[FROZEN] = at;
    else this.cells[OFFSET] = (this.cells[OFFSET] ?? 0) + delta;
  }
}
