// Refusals by authenticated users are audit events too: on the request's chain when there is a
// request, else on the `system` chain. A refusal is a `PolicyRefusal` (shared/domain/errors.ts says
// which errors are not, and why). Auditing a refusal never changes request state, and if the
// audit write itself fails the refusal still stands (the caller gets the original error).
// With `deps.refusals` (handle-api), a caller's refusals are counted per window: past the budget the
// first one writes a single aggregate event on `system` and the caller gets 429 RATE_LIMITED instead
// of the refusal, and the rest of the window's refusals write nothing (./rate-limit.ts says why).
import { type AuditDraft, requestChainId } from '#domain/audit-types.ts';
import { PolicyRefusal } from '#domain/errors.ts';
import type { CoreDeps } from './deps.ts';
import { RateLimitedError, type RefusalVerdict } from './rate-limit.ts';

/**
 * A refusal recorded on the `system` chain rather than a request's (a sender, a forger or someone
 * outside cloud-pam may be trying to write to that request's chain): `system.rejected`, actor
 * `system`, with `details.check` naming what refused it.
 */
export function systemRejection(
  at: Date,
  refusal: {
    readonly requestId: string | null;
    readonly reason: string;
    readonly details: AuditDraft['details'] & { readonly check: string };
  },
): AuditDraft {
  return {
    chainId: 'system',
    at: at.toISOString(),
    type: 'system.rejected',
    actorId: 'system',
    requestId: refusal.requestId,
    entitlementId: null,
    accountId: null,
    reason: refusal.reason,
    details: refusal.details,
  };
}

export interface RejectionContext {
  readonly action: string;
  readonly actorId: string;
  readonly requestId?: string;
  readonly entitlementId?: string;
  readonly accountId?: string;
}

export async function auditRejections<T>(
  deps: CoreDeps,
  context: RejectionContext,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof PolicyRefusal) {
      const verdict: RefusalVerdict = deps.refusals
        ? await deps.refusals.count(context.actorId)
        : { kind: 'audit' };
      if (verdict.kind === 'audit') await audit(deps, context, error, refusalEvent(deps, context, error));
      else {
        if (verdict.kind === 'aggregate')
          await audit(deps, context, error, suppressionEvent(deps, context, error, verdict));
        throw new RateLimitedError(
          `too many refused attempts from this caller; try again in ${verdict.retryAfterSeconds} s`,
          verdict.retryAfterSeconds,
          { cause: error },
        );
      }
    }
    throw error;
  }
}

function refusalEvent(deps: CoreDeps, context: RejectionContext, error: PolicyRefusal): AuditDraft {
  return {
    chainId: context.requestId ? requestChainId(context.requestId) : 'system',
    at: deps.clock.now().toISOString(),
    type: 'request.rejected',
    actorId: context.actorId,
    requestId: context.requestId ?? null,
    entitlementId: context.entitlementId ?? null,
    accountId: context.accountId ?? null,
    reason: error.message,
    details: { action: context.action, code: error.code },
  };
}

/**
 * The one event for a caller's refusals past the budget in a window: on `system`, never on a
 * request's chain (the point is to keep those free), naming the refusal that crossed the budget.
 * How many followed it is counted, not audited (the counter is kept a day; docs/audit-events.md).
 */
function suppressionEvent(
  deps: CoreDeps,
  context: RejectionContext,
  error: PolicyRefusal,
  verdict: Extract<RefusalVerdict, { kind: 'aggregate' }>,
): AuditDraft {
  const from = new Date(verdict.window.startMs).toISOString();
  const until = new Date(verdict.window.endMs).toISOString();
  return {
    chainId: 'system',
    at: deps.clock.now().toISOString(),
    type: 'request.rejected',
    actorId: context.actorId,
    requestId: context.requestId ?? null,
    entitlementId: context.entitlementId ?? null,
    accountId: context.accountId ?? null,
    reason: `more than ${verdict.audited} refused attempts by this caller since ${from}: until ${until} further refusals are answered 429 and not audited one by one`,
    details: {
      action: context.action,
      code: error.code,
      suppressed: { afterRefusals: verdict.audited, windowStart: from, windowEnd: until },
    },
  };
}

/** Appends the event; a failed append is reported, never thrown (the refusal stands either way). */
async function audit(
  deps: CoreDeps,
  context: RejectionContext,
  error: PolicyRefusal,
  event: AuditDraft,
): Promise<void> {
  try {
    await deps.audit.append(event);
  } catch (auditError) {
    deps.diagnostics?.auditOfRejectionFailed({
      action: context.action,
      code: error.code,
      ...(context.requestId ? { requestId: context.requestId } : {}),
      error: auditError,
    });
  }
}
