// Per-caller rate limits of `/v1`. API Gateway throttles per method, not per caller (an IAM-authorized
// REST API has no per-user usage plans), so one flooding user could otherwise take the capacity of
// everyone, and every refusal they provoke would be another audit event on someone's request chain.
// Two limits, both counted in fixed windows of the clock, per caller (never shared between callers):
// - requests: a budget per window for the narrowing actions (revoke, deny, cancel) and a separate,
//   smaller one for everything else, checked before any use case runs. A caller over budget is
//   answered 429 RATE_LIMITED with the seconds until the window ends; what they spent was their own.
// - refusals: the first `refusalsAudited` refusals of a caller in a window are audited one by one,
//   as before. The next one writes a single aggregate event on the `system` chain and every refusal
//   after it in the window is answered 429 without an audit event, so a hostile caller cannot keep
//   a request's chain busy and make the legitimate decision's audit write lose its conditional race.
// Narrowing never waits on this module: when the counters cannot be reached, a narrowing request goes
// on (and a refusal is audited one by one, as before); anything else fails closed.
import { PamError } from '#domain/errors.ts';
import type { Clock, RateCounter } from '#ports/index.ts';

/** Actions that only take access away; `/v1/requests/{id}/<action>` each has its own capacity. */
export const NARROWING_ACTIONS = ['revoke', 'deny', 'cancel'] as const;
export type NarrowingAction = (typeof NARROWING_ACTIONS)[number];

/** Which budget a request spends: narrowing actions never compete with the rest. */
export type RateClass = 'narrowing' | 'standard';

export interface RateLimits {
  /** Length of a fixed window; windows start at multiples of it since the epoch. */
  readonly windowMs: number;
  /** Requests per caller per window on every route but the narrowing ones. */
  readonly standard: number;
  /** Requests per caller per window on revoke, deny and cancel. */
  readonly narrowing: number;
  /** Refusals per caller per window that are audited one by one. */
  readonly refusalsAudited: number;
  /** How long a refusal counter is kept after its window (the exact count of what was suppressed). */
  readonly keepRefusalCountMs: number;
}

/**
 * A person at the CLI makes a handful of calls a minute; a script that pages through lists a few
 * dozen. 120 a minute leaves room for both and holds a flood to 2 a second of real work per caller.
 * Narrowing gets twice that, so an admin revoking a compromised user's grants in a loop is not
 * slowed. Ten refusals a minute is more than any honest mistake makes.
 */
export const DEFAULT_RATE_LIMITS: RateLimits = {
  windowMs: 60_000,
  standard: 120,
  narrowing: 240,
  refusalsAudited: 10,
  keepRefusalCountMs: 24 * 3_600_000,
};

/** The caller spent this window's budget; `retryAfterSeconds` is when the next window starts. */
export class RateLimitedError extends PamError {
  readonly code = 'RATE_LIMITED';
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface RateWindow {
  readonly startMs: number;
  readonly endMs: number;
}

export function windowAt(nowMs: number, windowMs: number): RateWindow {
  const startMs = Math.floor(nowMs / windowMs) * windowMs;
  return { startMs, endMs: startMs + windowMs };
}

function retryAfterSeconds(window: RateWindow, nowMs: number): number {
  return Math.max(1, Math.ceil((window.endMs - nowMs) / 1000));
}

/** The counter of one caller's `what` in one window (`caller` is a user name or user id: no `#`). */
export function counterKey(what: string, caller: string, window: RateWindow): string {
  return `${what}#${caller}#${window.startMs}`;
}

export interface RateLimitDeps {
  readonly counter: RateCounter;
  readonly clock: Clock;
  readonly limits?: RateLimits;
  /** The counters could not be reached (logged; narrowing went on regardless). */
  readonly onCounterFailure?: (error: unknown) => void;
}

/**
 * Admits one request of `caller` (the Identity Center user name of the signed session) or throws
 * RateLimitedError. 1. Count it in the caller's counter of its class for this window, capped at the
 * budget (a flood past the budget writes nothing). 2. Over budget: 429 until the window ends.
 * A narrowing request is admitted when the counter cannot be reached; any other request fails.
 */
export function makeAdmitRequest(deps: RateLimitDeps) {
  const limits = deps.limits ?? DEFAULT_RATE_LIMITS;
  return async (caller: string, rateClass: RateClass): Promise<void> => {
    const nowMs = deps.clock.now().getTime();
    const window = windowAt(nowMs, limits.windowMs);
    const budget = rateClass === 'narrowing' ? limits.narrowing : limits.standard;
    let count: number | undefined;
    try {
      count = await deps.counter.add(counterKey(`requests-${rateClass}`, caller, window), {
        cap: budget,
        expiresAt: new Date(window.endMs),
      });
    } catch (error) {
      if (rateClass !== 'narrowing') throw error;
      deps.onCounterFailure?.(error);
      return;
    }
    if (count === undefined) {
      const seconds = retryAfterSeconds(window, nowMs);
      throw new RateLimitedError(
        `more than ${budget} requests from this caller in ${limits.windowMs / 1000} s; try again in ${seconds} s`,
        seconds,
      );
    }
  };
}

/** How a refusal is recorded. */
export type RefusalVerdict =
  /** Audited one by one (within the budget, or the counters could not be reached). */
  | { readonly kind: 'audit' }
  /** The first refusal past the budget: one aggregate event, then 429. */
  | {
      readonly kind: 'aggregate';
      readonly window: RateWindow;
      readonly audited: number;
      readonly retryAfterSeconds: number;
    }
  /** Past the budget, after the aggregate: 429, no event. */
  | { readonly kind: 'suppress'; readonly retryAfterSeconds: number };

export interface RefusalLimiter {
  /** Counts one refusal of `actorId` (an Identity Store user id) and says how to record it. */
  count(actorId: string): Promise<RefusalVerdict>;
}

/**
 * Counts refusals per caller and window, uncapped, so exactly one refusal is the first past the
 * budget (it writes the aggregate event) and the counter holds how many there were in all.
 */
export function makeRefusalLimiter(deps: RateLimitDeps): RefusalLimiter {
  const limits = deps.limits ?? DEFAULT_RATE_LIMITS;
  return {
    async count(actorId) {
      const nowMs = deps.clock.now().getTime();
      const window = windowAt(nowMs, limits.windowMs);
      let count: number | undefined;
      try {
        count = await deps.counter.add(counterKey('refusals', actorId, window), {
          expiresAt: new Date(window.endMs + limits.keepRefusalCountMs),
        });
      } catch (error) {
        // Auditing every refusal is what happened before this limit existed: safe, only louder.
        deps.onCounterFailure?.(error);
        return { kind: 'audit' };
      }
      if (count === undefined || count <= limits.refusalsAudited) return { kind: 'audit' };
      const seconds = retryAfterSeconds(window, nowMs);
      return count === limits.refusalsAudited + 1
        ? { kind: 'aggregate', window, audited: limits.refusalsAudited, retryAfterSeconds: seconds }
        : { kind: 'suppress', retryAfterSeconds: seconds };
    },
  };
}
