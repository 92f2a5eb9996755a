// The drift sweep: nobody keeps standing access. Every USER assignment of a managed permission set in
// an account an entitlement targets must be held by a lease (a grant that is PROVISIONING or
// ACTIVE, or an operation in flight); one that nothing holds is drift. The daily full sweep is the
// guarantee; a CloudTrail `CreateAccountAssignment` event not made by cloud-pam starts a sweep
// scoped to that account and permission set, which catches most drift sooner.
//
// Identity Center gives no creation time for an assignment, so the grace period counts from when
// cloud-pam first saw it (DriftSeenStore, a port in shared/ports/grants.ts; the first sighting
// wins). Inside the grace period an assignment is left alone, and before anything is done the
// lease is read again (consistently), so an assignment being provisioned right now is never taken
// for drift.
//
// Removal goes through the provisioning queue, not a direct DeleteAccountAssignment: the sweep
// claims the assignment in the tuple's lease (holders: none, assigned: true — a conditional write,
// so it loses to any concurrent acquire) and sends `check` to the tuple's FIFO group. The worker
// then deletes it in order with every other message of that tuple: an acquire queued just before
// reuses the assignment instead of racing a delete, and one queued just after re-creates it after
// the deletion (reference counting re-checks holders). A direct delete from here could remove an
// assignment a grant had just been told it holds. The removal is queued BEFORE the audit events are
// written (narrowing never waits on the audit write).
//
// Steps per (account, permission set): 1. list USER assignments (paced: a sleep between Identity
// Center calls leaves capacity for revocations); 2. for each, held → forget any first sighting; not
// held → mark seen; past grace → re-read the lease, audit `drift.detected` on the `drift` chain,
// metric DriftDetected, and in `remove` mode queue the removal and audit `drift.removed`;
// 3. forget first sightings of assignments that are no longer there.
//
// An assignment inside its grace period gets a one-time schedule at the moment the grace ends (to
// the provisioning queue, in the tuple's group: `drift-check` for its account and permission set),
// so it is decided then — not a day later at the next full sweep. Standing access therefore lasts at
// most until the first sweep that sees it plus the grace period.

import { createHash } from 'node:crypto';
import type { AuditDraft } from '#domain/audit-types.ts';
import { ConcurrentModificationError } from '#domain/errors.ts';
import type { DriftMode } from '#domain/model.ts';
import { type AssignmentTuple, type DriftSeenStore, type TupleLease, tupleKey } from '#ports/grants.ts';
import { GRANT_METRICS, type GrantDeps } from './deps.ts';
import { tupleGroup } from './tuples.ts';

export interface DriftSweepDeps extends GrantDeps {
  readonly driftMode: DriftMode;
  readonly graceMs: number;
  readonly seen: DriftSeenStore;
  /** Wait between Identity Center calls (default DEFAULT_DRIFT_PACE_MS). */
  readonly paceMs?: number;
}

export interface DriftScope {
  readonly accountId?: string;
  readonly permissionSetArn?: string;
}

export interface DriftSweepControl {
  /** Asked before each (account, permission set): true ends the sweep early (Lambda time running out). */
  readonly shouldStop?: () => boolean;
}

export interface DriftFinding {
  readonly tuple: AssignmentTuple;
  readonly firstSeenAt: string;
  /** `contended`: the lease changed while claiming it; the next sweep decides again. */
  readonly outcome: 'reported' | 'removal-queued' | 'contended';
}

export interface DriftReport {
  /** (account, permission set) pairs listed. */
  readonly listed: number;
  readonly assignments: number;
  readonly withinGrace: readonly { readonly tuple: AssignmentTuple; readonly eligibleAt: string }[];
  readonly drift: readonly DriftFinding[];
  readonly forgotten: number;
  /** Stopped early: pairs after the last listed one were not visited (their sightings are kept). */
  readonly truncated: boolean;
  readonly failures: readonly {
    readonly accountId: string;
    readonly permissionSetArn: string;
    readonly error: string;
  }[];
}

/** 5 calls a second at most, of Identity Center's ~20 TPS shared by all its APIs. */
export const DEFAULT_DRIFT_PACE_MS = 200;
export const DRIFT_CHAIN = 'drift';
export const DRIFT_ACTOR = 'system:drift-sweep';

/** The re-check schedule's name: one per assignment and first sighting (≤ 64 characters). */
export function driftRecheckName(key: string, firstSeen: Date): string {
  const digest = createHash('sha256').update(key).digest('hex').slice(0, 32);
  return `drift-${digest}-${Math.floor(firstSeen.getTime() / 1000)}`;
}

function heldOrBusy(lease: TupleLease | undefined): boolean {
  return lease !== undefined && (Object.keys(lease.holders).length > 0 || lease.pending !== undefined);
}

/** Every (account, permission set) an entitlement targets with a managed permission set, in a stable order. */
function sweepPairs(
  deps: DriftSweepDeps,
  scope: DriftScope,
): { accountId: string; permissionSetArn: string }[] {
  const arnByName = new Map(deps.permissionSets.all().map((set) => [set.name, set.arn]));
  const accountsByArn = new Map<string, Set<string>>();
  for (const entitlement of deps.catalog.config.entitlements) {
    const arn = arnByName.get(entitlement.target.permissionSet.name);
    if (!arn) continue;
    const accounts = accountsByArn.get(arn) ?? new Set<string>();
    for (const account of entitlement.target.accounts) accounts.add(account);
    accountsByArn.set(arn, accounts);
  }
  return [...accountsByArn]
    .flatMap(([permissionSetArn, accounts]) =>
      [...accounts].map((accountId) => ({ accountId, permissionSetArn })),
    )
    .filter(
      (pair) =>
        (scope.accountId === undefined || pair.accountId === scope.accountId) &&
        (scope.permissionSetArn === undefined || pair.permissionSetArn === scope.permissionSetArn),
    )
    .sort((a, b) =>
      a.permissionSetArn === b.permissionSetArn
        ? a.accountId.localeCompare(b.accountId)
        : a.permissionSetArn.localeCompare(b.permissionSetArn),
    );
}

export function makeDriftSweep(deps: DriftSweepDeps) {
  const paceMs = deps.paceMs ?? DEFAULT_DRIFT_PACE_MS;

  /** Claims the unheld assignment in its lease and queues the deletion in the tuple's group. */
  async function queueRemoval(
    tuple: AssignmentTuple,
    current: TupleLease | undefined,
    now: Date,
  ): Promise<boolean> {
    if (!current?.assigned) {
      const claimed: TupleLease = current
        ? { ...current, assigned: true, version: current.version + 1, updatedAt: now.toISOString() }
        : { tuple, holders: {}, assigned: true, version: 1, updatedAt: now.toISOString() };
      try {
        await deps.tuples.put(claimed, current?.version ?? 0);
      } catch (error) {
        if (error instanceof ConcurrentModificationError) return false;
        throw error;
      }
    }
    await deps.provisioningQueue.send({ messageGroupId: tupleGroup(tuple), body: { op: 'check', tuple } });
    return true;
  }

  function event(
    type: 'drift.detected' | 'drift.removed',
    tuple: AssignmentTuple,
    firstSeenAt: string,
    now: Date,
  ): AuditDraft {
    return {
      chainId: DRIFT_CHAIN,
      at: now.toISOString(),
      type,
      actorId: DRIFT_ACTOR,
      accountId: tuple.accountId,
      permissionSetArn: tuple.permissionSetArn,
      reason:
        type === 'drift.detected'
          ? 'account assignment on a managed permission set that no grant holds'
          : "removal queued in the assignment's provisioning group",
      details: { userId: tuple.userId, firstSeenAt, mode: deps.driftMode },
    };
  }

  return async function sweep(scope: DriftScope = {}, control: DriftSweepControl = {}): Promise<DriftReport> {
    const pairs = sweepPairs(deps, scope);
    const leaseByKey = new Map((await deps.tuples.list()).map((lease) => [tupleKey(lease.tuple), lease]));
    const withinGrace: { tuple: AssignmentTuple; eligibleAt: string }[] = [];
    const drift: DriftFinding[] = [];
    const failures: { accountId: string; permissionSetArn: string; error: string }[] = [];
    let listed = 0;
    let assignments = 0;
    let forgotten = 0;
    let truncated = false;

    for (const { accountId, permissionSetArn } of pairs) {
      if (control.shouldStop?.()) {
        truncated = true;
        break;
      }
      try {
        if (listed > 0) await deps.sleep(paceMs);
        listed += 1;
        const users = await deps.identityCenter.listUserAssignments(accountId, permissionSetArn);
        assignments += users.length;
        const seenEntries = await deps.seen.listSeen(accountId, permissionSetArn);
        const seenByKey = new Map(seenEntries.map((entry) => [entry.key, entry]));
        const present = new Set<string>();

        for (const userId of users) {
          const tuple: AssignmentTuple = { userId, accountId, permissionSetArn };
          const key = tupleKey(tuple);
          present.add(key);
          if (heldOrBusy(leaseByKey.get(key))) {
            if (seenByKey.has(key)) {
              await deps.seen.forget(key);
              forgotten += 1;
            }
            continue;
          }
          const now = deps.clock.now();
          const known = seenByKey.get(key);
          const firstSeen = known ? new Date(known.firstSeenAt) : await deps.seen.markSeen(key, now, tuple);
          const eligibleAt = new Date(firstSeen.getTime() + deps.graceMs);
          if (now < eligibleAt) {
            withinGrace.push({ tuple, eligibleAt: eligibleAt.toISOString() });
            // Idempotent by name, so every sweep inside the grace period may ask again.
            await deps.scheduler.ensure({
              name: driftRecheckName(key, firstSeen),
              at: eligibleAt,
              target: 'provisioning',
              messageGroupId: tupleGroup(tuple),
              body: { op: 'drift-check', accountId, permissionSetArn },
            });
            continue;
          }
          // The listing may predate an acquire: decide on the lease as it is now.
          const current = await deps.tuples.get(tuple);
          if (heldOrBusy(current)) {
            await deps.seen.forget(key);
            forgotten += 1;
            continue;
          }
          const firstSeenAt = firstSeen.toISOString();
          deps.metrics?.count(GRANT_METRICS.driftDetected);
          if (deps.driftMode === 'remove') {
            const queued = await queueRemoval(tuple, current, now);
            await deps.audit.append(event('drift.detected', tuple, firstSeenAt, now));
            if (queued) await deps.audit.append(event('drift.removed', tuple, firstSeenAt, now));
            drift.push({ tuple, firstSeenAt, outcome: queued ? 'removal-queued' : 'contended' });
          } else {
            await deps.audit.append(event('drift.detected', tuple, firstSeenAt, now));
            drift.push({ tuple, firstSeenAt, outcome: 'reported' });
          }
        }

        for (const entry of seenEntries) {
          if (present.has(entry.key)) continue;
          await deps.seen.forget(entry.key);
          forgotten += 1;
        }
      } catch (error) {
        failures.push({
          accountId,
          permissionSetArn,
          error: (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).slice(0, 300),
        });
      }
    }

    return { listed, assignments, withinGrace, drift, forgotten, truncated, failures };
  };
}

export type DriftSweep = ReturnType<typeof makeDriftSweep>;
