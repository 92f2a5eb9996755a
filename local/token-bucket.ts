// API Gateway's throttle, as its developer guide describes it ("Throttle requests to your REST APIs"):
// a token bucket per method of a stage, holding at most `burstLimit` tokens, refilled at `rateLimit`
// tokens per second; a request takes one token or is answered 429. The bucket starts full. Time is
// whatever clock the caller reads (the local runtime's controllable one), so a frozen clock refills
// nothing and a test can drain a bucket without racing real time.

export interface ThrottleLimits {
  /** Steady-state requests per second (tokens added per second). */
  readonly rateLimit: number;
  /** The bucket's capacity: how many requests may arrive at once. */
  readonly burstLimit: number;
}

export class TokenBucket {
  private tokens: number;
  private refilledAt: number | undefined;

  constructor(readonly limits: ThrottleLimits) {
    if (!(limits.rateLimit >= 0) || !(limits.burstLimit >= 0))
      throw new RangeError('a throttle needs a rate and a burst of zero or more');
    this.tokens = limits.burstLimit;
  }

  /** Takes one token at `nowMs` if the bucket holds one; false means "429". */
  take(nowMs: number): boolean {
    this.refill(nowMs);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Tokens left at `nowMs` (for tests and diagnostics). */
  available(nowMs: number): number {
    this.refill(nowMs);
    return this.tokens;
  }

  private refill(nowMs: number): void {
    // A clock that never goes back is assumed; an earlier reading refills nothing rather than draining.
    const elapsedMs = this.refilledAt === undefined ? 0 : Math.max(0, nowMs - this.refilledAt);
    this.tokens = Math.min(this.limits.burstLimit, this.tokens + (elapsedMs * this.limits.rateLimit) / 1000);
    this.refilledAt = Math.max(this.refilledAt ?? nowMs, nowMs);
  }
}
