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
//   the lease again and re-create if a holder appeared meanwhile (reference counting); note when the
//   deletion was seen completed and, if the user's deny is in force, widen it to then (deny-widen).
// deny-add / deny-widen / deny-sweep (one permission set's FIFO group, so never racing each other):
//   1. the ledger first (one record per permission set and user, widened, never repeated);
//   2. the cut-off: the decision time, widened to when the request's assignments were deleted in every
//      account plus CUTOFF_SKEW_MS (unless an overlapping grant keeps one: then the decision stands);
//   3. the policy: the user's one statement, or the permission-set-wide fallback when the budget (the
//      role's 10,240 characters) would be exceeded — audited, alarmed;
//   4. provisioning tracked to SUCCEEDED in every account (IN_PROGRESS → ps-check; FAILED → retried;
//      a crash after the policy write is healed because provisioning follows the stale accounts, not
//      the policy diff); the reconciler re-provisions any account still stale.

import { requestChainId } from '#domain/audit-types.ts';
import {
  applyDeny,
  applyWideDeny,
  type DenyWindow,
  ROLE_INLINE_POLICY_LIMIT,
  readDenies,
  withoutExpiredDenies,
} from '#domain/deny-policy.ts';
import type { AccessRequest } from '#domain/model.ts';
import { scheduleName } from '#domain/schedule-expression.ts';
import {
  type AssignmentTuple,
  type DenyRecord,
  EVERYONE,
  type OperationStatus,
  type TupleLease,
  tupleKey,
} from '#ports/grants.ts';
import { refuseUnproven, unproven } from '../proof.ts';
import {
  CUTOFF_SKEW_MS,
  DEFAULT_POLL_DELAYS_MS,
  GRANT_METRICS,
  type GrantDeps,
  MAX_PROVISION_ROUNDS,
  SESSION_DURATION_MS,
} from './deps.ts';
import type { ProvisioningMessage } from './messages.ts';
import { permissionSetGroup, tupleGroup, tuplesOf } from './tuples.ts';

const WANTS_ACCESS = new Set(['PROVISIONING', 'ACTIVE', 'EXTENSION_PENDING']);

export type ProvisioningResult =
  | 'skipped'
  | 'assigned'
  | 'deleted'
  | 'unchanged'
  | 'waiting'
  | 'failed'
  | 'policy-updated'
  | 'provisioned'
  | 'refused'
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
        body: { op: 'check', tuple: lease.tuple, at: deps.clock.now().toISOString() },
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
      // Re-read after the deletion: reference counting decides again on what is there now. When it
      // was seen done is when a deny's cut-off may widen to (no credential can be minted after).
      const next = await save(lease, {
        assigned: false,
        pending: undefined,
        deletedAt: deps.clock.now().toISOString(),
      });
      await widenAfterDeletion(next.tuple);
      return { lease: next, result: 'deleted' };
    }
    deps.metrics?.count(GRANT_METRICS.revocationFailed);
    await save(lease, { pending: undefined });
    throw new Error(
      `DeleteAccountAssignment FAILED: ${(status.failureReason ?? 'no reason given').slice(0, 200)}`,
    );
  }

  /** Whether `tuple` is one the request's record names (its requester, its accounts, its permission set). */
  function tupleOfRequest(request: AccessRequest, tuple: AssignmentTuple): boolean {
    return tuplesOf(request, deps.permissionSets).some(
      (own) =>
        own.userId === tuple.userId &&
        own.accountId === tuple.accountId &&
        own.permissionSetArn === tuple.permissionSetArn,
    );
  }

  async function acquire(requestId: string, tuple: AssignmentTuple): Promise<ProvisioningResult> {
    const request = await deps.store.get(requestId);
    if (!request || !WANTS_ACCESS.has(request.status)) return 'skipped';
    // The message only names the request: the tuple must be one its record names, and the record's
    // claim to access must be proven by its audit chain. A forged acquire assigns nothing.
    const problems = tupleOfRequest(request, tuple)
      ? await unproven(deps, request)
      : [`the message names ${tuple.userId} in ${tuple.accountId}, which the request does not`];
    if (problems.length > 0) {
      await refuseUnproven(deps, { check: 'acquire', requestId, problems });
      return 'refused';
    }
    let lease = (await deps.tuples.get(tuple)) ?? emptyLease(tuple, deps.clock.now());
    if (!lease.holders[requestId]) {
      // Provisioning widens access: it is audited on the request's chain before it happens.
      await deps.audit.append({
        chainId: requestChainId(requestId),
        at: deps.clock.now().toISOString(),
        type: 'assignment.acquired',
        actorId: 'system',
        requestId,
        entitlementId: request.entitlementId,
        accountId: tuple.accountId,
        permissionSetArn: tuple.permissionSetArn,
        reason: null,
        details: { userId: tuple.userId, shared: lease.assigned && !lease.pending },
      });
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
    // A release takes only what the request holds: the tuple must be one its record names (a
    // request that is gone may still be released from the leases that list it).
    const request = await deps.store.get(requestId);
    if (request && !tupleOfRequest(request, tuple)) {
      await refuseUnproven(deps, {
        check: 'release',
        requestId,
        problems: [`the message names ${tuple.userId} in ${tuple.accountId}, which the request does not`],
      });
      return 'refused';
    }
    if (lease.holders[requestId]) {
      const holders = Object.fromEntries(Object.entries(lease.holders).filter(([id]) => id !== requestId));
      lease = await save(lease, { holders });
    }
    return advance(lease);
  }

  /** A deletion completed: if the user's deny on this permission set is in force, widen it to now. */
  async function widenAfterDeletion(tuple: AssignmentTuple): Promise<void> {
    const deny = await deps.denies.get(tuple.permissionSetArn, tuple.userId);
    if (!deny || Date.parse(deny.removeAt) <= deps.clock.now().getTime()) return;
    await deps.provisioningQueue.send({
      messageGroupId: permissionSetGroup(tuple.permissionSetArn),
      body: { op: 'deny-widen', permissionSetArn: tuple.permissionSetArn, userId: tuple.userId },
    });
  }

  /**
   * The cut-off for `requestIds`' deny: `decided`, widened to the last completed deletion of each
   * request's assignments on this permission set (plus the skew margin) once none of them is left —
   * while an overlapping grant keeps one (or a deletion is still in flight), the decision stands.
   */
  async function cutoffFor(permissionSetArn: string, requestIds: readonly string[], decided: Date) {
    let cutoff = decided;
    for (const requestId of requestIds) {
      const request = await deps.store.get(requestId);
      if (!request) continue;
      const tuples = tuplesOf(request, deps.permissionSets).filter(
        (t) => t.permissionSetArn === permissionSetArn,
      );
      const leases = await Promise.all(tuples.map((tuple) => deps.tuples.get(tuple)));
      if (leases.some((lease) => lease && (lease.assigned || lease.pending))) continue;
      for (const lease of leases) {
        if (!lease?.deletedAt) continue;
        const widened = new Date(Date.parse(lease.deletedAt) + CUTOFF_SKEW_MS);
        if (widened > cutoff) cutoff = widened;
      }
    }
    return cutoff;
  }

  /** Waits for one provisioning; IN_PROGRESS past the budget leaves a `ps-check` behind. */
  async function track(permissionSetArn: string, first: OperationStatus): Promise<OperationStatus> {
    let status = first;
    for (const delay of delays) {
      if (status.status !== 'IN_PROGRESS') break;
      await deps.sleep(delay);
      status = await deps.identityCenter.permissionSetProvisioningStatus(status.operationId);
    }
    if (status.status === 'IN_PROGRESS') {
      await deps.provisioningQueue.send({
        messageGroupId: permissionSetGroup(permissionSetArn),
        body: {
          op: 'ps-check',
          permissionSetArn,
          operationId: status.operationId,
          at: deps.clock.now().toISOString(),
        },
      });
    }
    if (status.status === 'FAILED') {
      // The message is retried (then dead-lettered, alarmed); the reconciler re-provisions the
      // accounts still stale on every pass. A deny that is not everywhere is a revocation at risk.
      deps.metrics?.count(GRANT_METRICS.revocationFailed);
      throw new Error(`ProvisionPermissionSet FAILED: ${(status.failureReason ?? '').slice(0, 200)}`);
    }
    return status;
  }

  /**
   * Provisions the permission set until no account is stale (or a provisioning is left in flight):
   * driven by the accounts' provisioned versions, not by what this message changed, so a crash
   * between a policy write and its provisioning heals on the retry.
   */
  async function provisionEverywhere(permissionSetArn: string): Promise<ProvisioningResult> {
    for (let round = 0; round < MAX_PROVISION_ROUNDS; round++) {
      if ((await deps.identityCenter.staleAccounts(permissionSetArn)).length === 0)
        return round === 0 ? 'unchanged' : 'provisioned';
      let started: OperationStatus;
      try {
        started = await deps.identityCenter.provisionPermissionSet(permissionSetArn);
      } catch (error) {
        // One provisioning of a permission set at a time: follow the one in flight (an earlier
        // attempt of this message, or a deploy) instead of failing.
        if (!(error instanceof Error) || error.name !== 'ConflictException') throw error;
        const inFlight = await deps.identityCenter.provisioningInProgress(permissionSetArn);
        if (!inFlight) throw error;
        started = { status: 'IN_PROGRESS', operationId: inFlight };
      }
      const status = await track(permissionSetArn, started);
      if (status.status === 'IN_PROGRESS') return 'waiting';
    }
    // Still stale after the rounds (the definition keeps changing): the reconciler comes back to it.
    return 'provisioned';
  }

  /** Writes a deny window into the policy (fallback audited and alarmed), then provisions it. */
  async function putDeny(
    permissionSetArn: string,
    userId: string,
    window: DenyWindow,
  ): Promise<ProvisioningResult> {
    const current = await deps.identityCenter.getInlinePolicy(permissionSetArn);
    const change =
      userId === EVERYONE
        ? applyWideDeny(current, window, ROLE_INLINE_POLICY_LIMIT)
        : applyDeny(current, { userId, ...window }, ROLE_INLINE_POLICY_LIMIT);
    deps.metrics?.percent(
      GRANT_METRICS.inlinePolicyBudgetUsed,
      Math.round((change.size / ROLE_INLINE_POLICY_LIMIT) * 100),
    );
    if (change.outcome === 'fallback') await recordFallback(permissionSetArn, current, change.document);
    if (change.document !== undefined)
      await deps.identityCenter.putInlinePolicy(permissionSetArn, change.document);
    const provisioned = await provisionEverywhere(permissionSetArn);
    // A deny already in force had its sweep scheduled when it was written.
    if (change.outcome !== 'covered') await scheduleSweep(permissionSetArn, window.removeAt);
    if (change.document !== undefined) return provisioned === 'waiting' ? 'waiting' : 'policy-updated';
    return provisioned;
  }

  async function recordFallback(
    permissionSetArn: string,
    before: string | undefined,
    after: string | undefined,
  ) {
    const wide = readDenies(after).everyone;
    if (!wide) return;
    deps.metrics?.count(GRANT_METRICS.denyFallback);
    const replaced = readDenies(before).users.map((u) => u.userId);
    await deps.denies.record({
      permissionSetArn,
      userId: EVERYONE,
      endedAt: wide.cutoff.toISOString(),
      removeAt: wide.removeAt.toISOString(),
      requestIds: [],
    });
    await deps.audit.append({
      chainId: 'system',
      at: deps.clock.now().toISOString(),
      type: 'deny.fallback',
      actorId: 'system',
      requestId: null,
      entitlementId: null,
      accountId: null,
      permissionSetArn,
      reason: `revocation denies no longer fit in ${ROLE_INLINE_POLICY_LIMIT} characters: every session issued before the cut-off is denied`,
      details: {
        cutoff: wide.cutoff.toISOString(),
        removeAt: wide.removeAt.toISOString(),
        replacedUsers: replaced.length,
      },
    });
  }

  async function scheduleSweep(permissionSetArn: string, removeAt: Date): Promise<void> {
    await deps.scheduler.ensure({
      name: scheduleName(
        'deny-sweep',
        permissionSetGroup(permissionSetArn).slice(3, 23),
        Math.ceil(removeAt.getTime() / 1000),
      ),
      at: removeAt,
      target: 'provisioning',
      messageGroupId: permissionSetGroup(permissionSetArn),
      body: { op: 'deny-sweep', permissionSetArn },
    });
  }

  /** Records (ledger first: whatever happens to the policy, the reconciler knows), then writes. */
  async function putRecorded(record: DenyRecord): Promise<ProvisioningResult> {
    await deps.denies.record(record);
    return putDeny(record.permissionSetArn, record.userId, {
      cutoff: new Date(record.endedAt),
      removeAt: new Date(record.removeAt),
    });
  }

  async function addDeny(
    message: Extract<ProvisioningMessage, { op: 'deny-add' }>,
  ): Promise<ProvisioningResult> {
    const { permissionSetArn, userId } = message;
    const now = deps.clock.now();
    const existing = await deps.denies.get(permissionSetArn, userId);
    const live = existing && Date.parse(existing.removeAt) > now.getTime() ? existing : undefined;
    // A deny comes from a request's ending (its requester, its permission set) or restores one the
    // ledger holds; a message that agrees with neither does nothing.
    const request = message.requestId ? await deps.store.get(message.requestId) : undefined;
    const fromRequest =
      request !== undefined &&
      request.requesterId === userId &&
      tuplesOf(request, deps.permissionSets).some((t) => t.permissionSetArn === permissionSetArn);
    const fromLedger = live !== undefined && Date.parse(live.endedAt) >= Date.parse(message.endedAt);
    if (!fromRequest && !fromLedger) {
      await refuseUnproven(deps, {
        check: 'deny-add',
        ...(message.requestId ? { requestId: message.requestId } : {}),
        problems: [`no request or recorded deny puts ${userId} under a deny on ${permissionSetArn}`],
      });
      return 'refused';
    }
    const requestIds = [
      ...new Set([...(live?.requestIds ?? []), ...(message.requestId ? [message.requestId] : [])]),
    ];
    let decided = new Date(message.endedAt);
    if (live && Date.parse(live.endedAt) > decided.getTime()) decided = new Date(live.endedAt);
    const cutoff = userId === EVERYONE ? decided : await cutoffFor(permissionSetArn, requestIds, decided);
    return putRecorded({
      permissionSetArn,
      userId,
      endedAt: cutoff.toISOString(),
      removeAt: new Date(cutoff.getTime() + SESSION_DURATION_MS).toISOString(),
      requestIds,
    });
  }

  async function widenDeny(permissionSetArn: string, userId: string): Promise<ProvisioningResult> {
    const existing = await deps.denies.get(permissionSetArn, userId);
    if (!existing || Date.parse(existing.removeAt) <= deps.clock.now().getTime()) return 'unchanged';
    const cutoff = await cutoffFor(permissionSetArn, existing.requestIds ?? [], new Date(existing.endedAt));
    if (cutoff.getTime() <= Date.parse(existing.endedAt)) return 'unchanged';
    return putRecorded({
      ...existing,
      endedAt: cutoff.toISOString(),
      removeAt: new Date(cutoff.getTime() + SESSION_DURATION_MS).toISOString(),
    });
  }

  async function sweepDenies(permissionSetArn: string): Promise<ProvisioningResult> {
    const current = await deps.identityCenter.getInlinePolicy(permissionSetArn);
    const updated = withoutExpiredDenies(current, deps.clock.now());
    if (updated !== undefined) {
      // Lifting a deny widens access (sessions it blocked could act again, were any left): audited.
      const before = readDenies(current);
      const after = readDenies(updated);
      await deps.audit.append({
        chainId: 'system',
        at: deps.clock.now().toISOString(),
        type: 'deny.removed',
        actorId: 'system',
        requestId: null,
        entitlementId: null,
        accountId: null,
        permissionSetArn,
        reason: 'one session duration after its cut-off',
        details: {
          users: before.users
            .filter((u) => !after.users.some((a) => a.userId === u.userId))
            .map((u) => u.userId),
          everyone: before.everyone !== undefined && after.everyone === undefined,
        },
      });
      await deps.identityCenter.putInlinePolicy(permissionSetArn, updated);
    }
    const provisioned = await provisionEverywhere(permissionSetArn);
    if (updated === undefined) return provisioned;
    return provisioned === 'waiting' ? 'waiting' : 'policy-updated';
  }

  async function checkProvisioning(
    permissionSetArn: string,
    operationId: string,
  ): Promise<ProvisioningResult> {
    const status = await track(
      permissionSetArn,
      await deps.identityCenter.permissionSetProvisioningStatus(operationId),
    );
    if (status.status === 'IN_PROGRESS') return 'waiting';
    return provisionEverywhere(permissionSetArn);
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
      case 'deny-widen':
        return widenDeny(message.permissionSetArn, message.userId);
      case 'deny-sweep':
        return sweepDenies(message.permissionSetArn);
      case 'ps-provision':
        return provisionEverywhere(message.permissionSetArn);
      case 'ps-check':
        return checkProvisioning(message.permissionSetArn, message.operationId);
      case 'drift-check': {
        // Fail loudly (the message is retried, then dead-lettered and alarmed) rather than drop it.
        if (!deps.recheckDrift) throw new Error('drift-check: this worker has no drift sweep');
        await deps.recheckDrift({ accountId: message.accountId, permissionSetArn: message.permissionSetArn });
        return 'drift-checked';
      }
    }
  };
}
