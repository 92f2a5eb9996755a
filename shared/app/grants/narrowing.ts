// Ending access. Revocation and expiry narrow access, so they never wait on the audit write: the
// releases (and the deny for sessions already issued) are durably queued BEFORE the request's new
// status and its audit event are committed. If that commit then fails, the command is retried
// (and dead-lettered with an alarm); access is already on its way out.
import type { AccessRequest } from '#domain/model.ts';
import type { GrantDeps } from './deps.ts';
import { permissionSetGroup, tupleGroup, tuplesOf } from './tuples.ts';

const HOLDS_OR_AWAITS = new Set(['APPROVED', 'SCHEDULED', 'PROVISIONING', 'ACTIVE', 'EXTENSION_PENDING']);
const MAY_HAVE_SESSIONS = new Set(['PROVISIONING', 'ACTIVE', 'EXTENSION_PENDING']);

export type Narrowing = (before: AccessRequest, after: AccessRequest) => Promise<void>;

export function makeNarrowing(
  deps: Pick<GrantDeps, 'permissionSets' | 'provisioningQueue' | 'clock'>,
): Narrowing {
  return async (before, after) => {
    if (!HOLDS_OR_AWAITS.has(before.status)) return;
    if (after.status !== 'REVOKED' && after.status !== 'EXPIRED') return;
    const tuples = tuplesOf(before, deps.permissionSets);
    for (const tuple of tuples) {
      await deps.provisioningQueue.send({
        messageGroupId: tupleGroup(tuple),
        body: { op: 'release', requestId: before.id, tuple },
      });
    }
    // Removing the assignment does not end role sessions already issued (up to PT1H): revocation,
    // and expiry where strictExpiry is set, also deny tokens issued before now.
    const deny =
      MAY_HAVE_SESSIONS.has(before.status) &&
      (after.status === 'REVOKED' || before.snapshot.strictExpiry || before.snapshot.kind !== 'aws-role');
    const first = tuples[0];
    if (deny && first) {
      // At once with the decision time as the cut-off; the provisioning worker widens it to when the
      // request's assignments are gone in every account (their deletion may take minutes).
      const decided = after.endedAt ? new Date(after.endedAt) : deps.clock.now();
      await deps.provisioningQueue.send({
        messageGroupId: permissionSetGroup(first.permissionSetArn),
        body: {
          op: 'deny-add',
          permissionSetArn: first.permissionSetArn,
          userId: before.requesterId,
          endedAt: decided.toISOString(),
          requestId: before.id,
        },
      });
    }
  };
}
