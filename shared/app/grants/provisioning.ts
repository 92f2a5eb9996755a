// The provisioning worker: turns leases into Identity Center assignments and back, and keeps the
// revocation deny list. Messages of one tuple are serialized by the FIFO group, so the lease is
// read-modify-written without racing other messages of that tuple; every lease write is still
// conditional on its version.
//
// acquire: 1. the request must still want access (PROVISIONING/ACTIVE); 2. write the lease holder
//   (PROVISIONING) BEFORE CreateAccountAssignment; 3. create (or reuse the assignment another grant
//   holds); 4. poll with backoff; IN_PROGRESS after the budget → re-enqueue `check`, don't block;
//   5. SUCCEEDED → holders ACTIVE, tell the commands queue; FAILED → tell it, drop those holders.
// release: drop the holder; delete only when no holder is left; after the deletion SUCCEEDED read
//   the lease again and re-create if a holder appeared meanwhile (reference counting).

import { withDeny, withoutExpiredDenies } from '#domain/deny-policy.ts';
import { scheduleName } from '#domain/schedule-expression.ts';
import type { AssignmentTuple, OperationStatus, TupleLease } from '#ports/grants.ts';
import { DEFAULT_POLL_DELAYS_MS, type GrantDeps } from './deps.ts';
import type { ProvisioningMessage } from './messages.ts';
import { permissionSetGroup, tupleGroup, tupleKey } from './tuples.ts';

const WANTS_ACCESS = new Set(['PROVISIONING', 'ACTIVE', 'EXTENSION_PENDING']);

export type ProvisioningResult =
  | 'skipped'
  | 'assigned'
  | 'deleted'
  | 'unchanged'
  | 'waiting'
  | 'failed'
  | 'policy-updated'
  | 'drift-checked';

function emptyLease(tuple: AssignmentTuple, now: Date): TupleLease {
  return { tuple, holders: {}, assigned: false, version: 0, updatedAt: now.toISOString() };
}

export interface ProvisioningWorkerDeps extends GrantDeps {
  /** Runs the drift sweep for one (account, permission set): the re-check a first sighting schedules. */
  readonly recheckDrift?: (scope: { accountId: string; permissionSetArn: string }) => Promise<unknown>;
}

export function makeProvisioningWorker(deps: ProvisioningWorkerDeps) {
  const delays = deps.pollDelaysMs ?? DEFAULT_POLL_DELAYS_MS;

  async function save(lease: TupleLease, patch: Partial<TupleLease>): Promise<TupleLease> {
    const next: TupleLease = {
      ...lease,
      ...patch,
      version: lease.version + 1,
      updatedAt: deps.clock.now().toISOString(),
    };
    await deps.tuples.put(next, lease.version);
    return next;
  }

  async function poll(kind: 'create' | 'delete', first: OperationStatus): Promise<OperationStatus> {
    let status = first;
    for (const delay of delays) {
      if (status.status !== 'IN_PROGRESS') return status;
      await deps.sleep(delay);
      status =
        kind === 'create'
          ? await deps.identityCenter.creationStatus(status.operationId)
          : await deps.identityCenter.deletionStatus(status.operationId);
    }
    return status;
  }

  /** Tells the commands queue the outcome for a request, as one delivery per lease write. */
  async function tell(
    lease: TupleLease,
    body: Record<string, unknown> & { requestId: string },
  ): Promise<void> {
    const delivery = { by: 'provisioning', lease: tupleKey(lease.tuple), version: lease.version };
    await deps.commandsQueue.send({ messageGroupId: body.requestId, body: { ...body, delivery } });
  }

  /** Drives a lease towards "assigned iff it has holders", as far as one message may. */
  async function advance(start: TupleLease): Promise<ProvisioningResult> {
    let lease = start;
    let result: ProvisioningResult = 'unchanged';
    for (let step = 0; step < 6; step++) {
      const hasHolders = Object.keys(lease.holders).length > 0;
      if (!lease.pending) {
        if (hasHolders && !lease.assigned) {
          const op = await deps.identityCenter.createAssignment(lease.tuple);
          lease = await save(lease, { pending: { kind: 'create', operationId: op.operationId } });
          const outcome = await settle(lease, await poll('create', op));
          if (outcome.waiting) return 'waiting';
          lease = outcome.lease;
          result = outcome.result;
          continue;
        }
        if (!hasHolders && lease.assigned) {
          const op = await deps.identityCenter.deleteAssignment(lease.tuple);
          lease = await save(lease, { pending: { kind: 'delete', operationId: op.operationId } });
          const outcome = await settle(lease, await poll('delete', op));
          if (outcome.waiting) return 'waiting';
          lease = outcome.lease;
          result = outcome.result;
          continue;
        }
        return result;
      }
      // An operation was in flight (a crash or an earlier budget ran out): ask about it again.
      const { kind, operationId } = lease.pending;
      const status =
        kind === 'create'
          ? await deps.identityCenter.creationStatus(operationId)
          : await deps.identityCenter.deletionStatus(operationId);
      const outcome = await settle(lease, await poll(kind, status));
      if (outcome.waiting) return 'waiting';
      lease = outcome.lease;
      result = outcome.result;
    }
    return result;
  }

  async function settle(
    lease: TupleLease,
    status: OperationStatus,
  ): Promise<{ lease: TupleLease; result: ProvisioningResult; waiting?: boolean }> {
    const kind = lease.pending?.kind;
    if (status.status === 'IN_PROGRESS') {
      await deps.provisioningQueue.send({
        messageGroupId: tupleGroup(lease.tuple),
        body: { op: 'check', tuple: lease.tuple },
      });
      return { lease, result: 'waiting', waiting: true };
    }
    if (kind === 'create') {
      if (status.status === 'SUCCEEDED') {
        const newlyActive = Object.entries(lease.holders)
          .filter(([, state]) => state === 'PROVISIONING')
          .map(([requestId]) => requestId);
        const holders = Object.fromEntries(Object.keys(lease.holders).map((id) => [id, 'ACTIVE' as const]));
        const next = await save(lease, { assigned: true, pending: undefined, holders });
        for (const requestId of newlyActive) {
          await tell(next, { action: 'assignment-succeeded', requestId, accountId: lease.tuple.accountId });
        }
        return { lease: next, result: 'assigned' };
      }
      const failed = Object.entries(lease.holders)
        .filter(([, state]) => state === 'PROVISIONING')
        .map(([requestId]) => requestId);
      const holders = Object.fromEntries(
        Object.entries(lease.holders).filter(([id]) => !failed.includes(id)),
      );
      const next = await save(lease, { pending: undefined, holders });
      for (const requestId of failed) {
        await tell(next, {
          action: 'assignment-failed',
          requestId,
          accountId: lease.tuple.accountId,
          failure: (status.failureReason ?? 'CreateAccountAssignment FAILED').slice(0, 500),
        });
      }
      return { lease: next, result: 'failed' };
    }
    if (status.status === 'SUCCEEDED') {
      // Re-read after the deletion: reference counting decides again on what is there now.
      const next = await save(lease, { assigned: false, pending: undefined });
      return { lease: next, result: 'deleted' };
    }
    deps.metrics?.count('RevocationFailed');
    await save(lease, { pending: undefined });
    throw new Error(
      `DeleteAccountAssignment FAILED: ${(status.failureReason ?? 'no reason given').slice(0, 200)}`,
    );
  }

  async function acquire(requestId: string, tuple: AssignmentTuple): Promise<ProvisioningResult> {
    const request = await deps.store.get(requestId);
    if (!request || !WANTS_ACCESS.has(request.status)) return 'skipped';
    let lease = (await deps.tuples.get(tuple)) ?? emptyLease(tuple, deps.clock.now());
    if (!lease.holders[requestId]) {
      lease = await save(lease, {
        holders: {
          ...lease.holders,
          [requestId]: lease.assigned && !lease.pending ? 'ACTIVE' : 'PROVISIONING',
        },
      });
      if (lease.assigned && !lease.pending) {
        // Another grant already holds this tuple: nothing to call, only to tell.
        await tell(lease, { action: 'assignment-succeeded', requestId, accountId: tuple.accountId });
        return 'assigned';
      }
    } else if (lease.assigned && !lease.pending) {
      await tell(lease, { action: 'assignment-succeeded', requestId, accountId: tuple.accountId });
      return 'assigned';
    }
    return advance(lease);
  }

  async function release(requestId: string, tuple: AssignmentTuple): Promise<ProvisioningResult> {
    let lease = await deps.tuples.get(tuple);
    if (!lease) return 'unchanged';
    if (lease.holders[requestId]) {
      const holders = Object.fromEntries(Object.entries(lease.holders).filter(([id]) => id !== requestId));
      lease = await save(lease, { holders });
    }
    return advance(lease);
  }

  async function provisionPolicy(permissionSetArn: string, document: string): Promise<void> {
    await deps.identityCenter.putInlinePolicy(permissionSetArn, document);
    let status = await deps.identityCenter.provisionPermissionSet(permissionSetArn);
    for (const delay of delays) {
      if (status.status !== 'IN_PROGRESS') break;
      await deps.sleep(delay);
      status = await deps.identityCenter.permissionSetProvisioningStatus(status.operationId);
    }
    // Still in progress is fine: Identity Center finishes it; a FAILED one is retried by SQS.
    if (status.status === 'FAILED') {
      deps.metrics?.count('RevocationFailed');
      throw new Error(`ProvisionPermissionSet FAILED: ${(status.failureReason ?? '').slice(0, 200)}`);
    }
  }

  async function addDeny(
    message: Extract<ProvisioningMessage, { op: 'deny-add' }>,
  ): Promise<ProvisioningResult> {
    const entry = {
      userId: message.userId,
      endedAt: new Date(message.endedAt),
      removeAt: new Date(message.removeAt),
    };
    // Recorded first: whatever happens to the policy from here (a failed write, a deploy that
    // rewrites it), the reconciler knows this deny must be there until removeAt.
    await deps.denies.record({
      permissionSetArn: message.permissionSetArn,
      userId: message.userId,
      endedAt: entry.endedAt.toISOString(),
      removeAt: entry.removeAt.toISOString(),
    });
    const current = await deps.identityCenter.getInlinePolicy(message.permissionSetArn);
    const updated = withDeny(current, entry);
    if (updated !== undefined) await provisionPolicy(message.permissionSetArn, updated);
    await deps.scheduler.ensure({
      name: scheduleName(
        'deny-sweep',
        permissionSetGroup(message.permissionSetArn).slice(3, 23),
        Math.ceil(entry.removeAt.getTime() / 1000),
      ),
      at: entry.removeAt,
      target: 'provisioning',
      messageGroupId: permissionSetGroup(message.permissionSetArn),
      body: { op: 'deny-sweep', permissionSetArn: message.permissionSetArn },
    });
    return updated === undefined ? 'unchanged' : 'policy-updated';
  }

  async function sweepDenies(permissionSetArn: string): Promise<ProvisioningResult> {
    const current = await deps.identityCenter.getInlinePolicy(permissionSetArn);
    const updated = withoutExpiredDenies(current, deps.clock.now());
    if (updated === undefined) return 'unchanged';
    await provisionPolicy(permissionSetArn, updated);
    return 'policy-updated';
  }

  return async (message: ProvisioningMessage): Promise<ProvisioningResult> => {
    switch (message.op) {
      case 'acquire':
        return acquire(message.requestId, message.tuple);
      case 'release':
        return release(message.requestId, message.tuple);
      case 'check': {
        const lease = await deps.tuples.get(message.tuple);
        return lease ? advance(lease) : 'unchanged';
      }
      case 'deny-add':
        return addDeny(message);
      case 'deny-sweep':
        return sweepDenies(message.permissionSetArn);
      case 'drift-check': {
        // Fail loudly (the message is retried, then dead-lettered and alarmed) rather than drop it.
        if (!deps.recheckDrift) throw new Error('drift-check: this worker has no drift sweep');
        await deps.recheckDrift({ accountId: message.accountId, permissionSetArn: message.permissionSetArn });
        return 'drift-checked';
      }
    }
  };
}
