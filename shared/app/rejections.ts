// Refusals by authenticated users are audit events too: on the request's chain when there is a
// request, else on the `system` chain. Auditing a refusal never changes request state, and if the
// audit write itself fails the refusal still stands (the caller gets the original error).
import { requestChainId } from '#domain/audit-types.ts';
import { PamError } from '#domain/errors.ts';
import type { CoreDeps } from './deps.ts';

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
    if (error instanceof PamError && isPolicyRefusal(error)) {
      try {
        await deps.audit.append({
          chainId: context.requestId ? requestChainId(context.requestId) : 'system',
          at: deps.clock.now().toISOString(),
          type: 'request.rejected',
          actorId: context.actorId,
          requestId: context.requestId ?? null,
          entitlementId: context.entitlementId ?? null,
          accountId: context.accountId ?? null,
          reason: error.message,
          details: { action: context.action, code: error.code },
        });
      } catch (auditError) {
        deps.diagnostics?.auditOfRejectionFailed({
          action: context.action,
          code: error.code,
          ...(context.requestId ? { requestId: context.requestId } : {}),
          error: auditError,
        });
      }
    }
    throw error;
  }
}

/**
 * Refusals worth an audit record: the policy or state machine said no. Races (another decision won),
 * an unavailable audit log and unknown ids are not decisions about the actor.
 */
function isPolicyRefusal(error: PamError): boolean {
  return !['CONCURRENT_MODIFICATION', 'AUDIT_UNAVAILABLE', 'NOT_FOUND', 'UNAUTHENTICATED'].includes(
    error.code,
  );
}
