// Reacts to committed request changes (the access table's stream): the outbox of the request core.
// It only sends follow-up work — commands, provisioning messages, schedules — and never writes a
// request itself, so a request keeps a single writer. Every reaction is idempotent (FIFO content
// deduplication, idempotent schedules, lease reference counting), so stream retries are harmless.
import type { AccessRequest } from '#domain/model.ts';
import { expiryScheduleName, startScheduleName } from '#domain/schedule-names.ts';
import { type Delivery, SCHEDULED_DELIVERY } from '../delivery.ts';
import { GRANT_METRICS, type GrantDeps } from './deps.ts';
import { tupleGroup, tuplesOf } from './tuples.ts';

const GRANTED = new Set(['ACTIVE', 'EXTENSION_PENDING']);

export function makeReactToChange(
  deps: Pick<GrantDeps, 'permissionSets' | 'provisioningQueue' | 'commandsQueue' | 'scheduler' | 'metrics'>,
) {
  /** `delivery`: the stream record being reacted to (its eventID), for the commands it sends. */
  return async (
    before: AccessRequest | undefined,
    after: AccessRequest | undefined,
    delivery: Extract<Delivery, { by: 'stream' }>,
  ): Promise<string[]> => {
    if (!after) return [];
    const done: string[] = [];
    const entered = (status: string) => after.status === status && before?.status !== status;

    if (entered('APPROVED')) {
      await deps.commandsQueue.send({
        messageGroupId: after.id,
        body: { action: 'start', requestId: after.id, delivery },
      });
      done.push('start');
    }
    if (entered('PROVISIONING')) {
      for (const tuple of tuplesOf(after, deps.permissionSets)) {
        await deps.provisioningQueue.send({
          messageGroupId: tupleGroup(tuple),
          body: { op: 'acquire', requestId: after.id, tuple },
        });
      }
      done.push('acquire');
    }
    const grant = after.grant;
    if (grant && GRANTED.has(after.status) && before?.grant?.grantVersion !== grant.grantVersion) {
      await deps.scheduler.ensure({
        name: expiryScheduleName(after.id, grant.grantVersion),
        at: new Date(grant.expiresAt),
        target: 'commands',
        messageGroupId: after.id,
        body: {
          action: 'expire',
          requestId: after.id,
          grantVersion: grant.grantVersion,
          expiresAt: grant.expiresAt,
          delivery: SCHEDULED_DELIVERY,
        },
      });
      done.push('schedule-expiry');
      // The old version's schedule would be a no-op; remove it so nothing stale lingers.
      if (before?.grant) await deps.scheduler.remove(expiryScheduleName(after.id, before.grant.grantVersion));
    }
    if (entered('FAILED')) {
      // Compensation: release every tuple; leases only delete what no other grant holds.
      for (const tuple of tuplesOf(after, deps.permissionSets)) {
        await deps.provisioningQueue.send({
          messageGroupId: tupleGroup(tuple),
          body: { op: 'release', requestId: after.id, tuple },
        });
      }
      done.push('compensate');
    }
    if (entered('ACTIVE') && before?.status === 'PROVISIONING') {
      deps.metrics?.count(GRANT_METRICS.grantActivated);
      deps.metrics?.latency(
        GRANT_METRICS.provisioningLatency,
        Date.parse(after.updatedAt) - Date.parse(before.updatedAt),
      );
    }
    if (entered('EXPIRED')) deps.metrics?.count(GRANT_METRICS.grantExpired);
    if (entered('REVOKED')) deps.metrics?.count(GRANT_METRICS.grantRevoked);
    if (before?.status === 'SCHEDULED' && after.status !== 'SCHEDULED') {
      await deps.scheduler.remove(startScheduleName(after.id));
    }
    if ((entered('EXPIRED') || entered('REVOKED')) && after.grant) {
      await deps.scheduler.remove(expiryScheduleName(after.id, after.grant.grantVersion));
    }
    return done;
  };
}
