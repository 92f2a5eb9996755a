// Policy evaluation against a request's snapshot: who may request, approve, revoke and review, and
// what a valid request looks like. Every check throws a specific PamError; nothing here reads the
// current config, the clock or the network.
import {
  AlreadyApprovedError,
  DurationExceededError,
  ForbiddenActionError,
  InvalidTargetError,
  NotApproverError,
  NotBreakGlassError,
  NotEligibleError,
  ReasonRequiredError,
  SamePersonApprovalError,
  SelfApprovalError,
  TicketInvalidError,
} from './errors.ts';
import type { AccessRequest, Actor, Approval, Entitlement, PolicySnapshot } from './model.ts';
import { optional } from './optional.ts';

export function intersects(a: readonly string[], b: readonly string[]): boolean {
  if (a.length === 0 || b.length === 0) return false;
  const set = new Set(a);
  return b.some((item) => set.has(item));
}

/**
 * The config group names of `groups` that still stand for the Identity Store group the request's
 * snapshot pinned: a name whose group id changed since the request was made no longer counts for it
 * (fail closed). A snapshot without ids (a request made before ids were recorded) is matched through
 * the current config's ids, which is what the directory already did; `groupsMatchedBy` says which.
 */
export function groupsPinnedBySnapshot(
  groups: readonly string[],
  snapshot: Pick<PolicySnapshot, 'groupIds'>,
  currentIds: Readonly<Record<string, string>>,
): string[] {
  const pinned = snapshot.groupIds;
  if (!pinned) return [...groups];
  return groups.filter((name) => {
    const then = Object.hasOwn(pinned, name) ? pinned[name] : undefined;
    return then !== undefined && then === (Object.hasOwn(currentIds, name) ? currentIds[name] : undefined);
  });
}

/** How a request's groups are matched: by the ids its snapshot pinned, or (older requests) the config's. */
export function groupsMatchedBy(snapshot: Pick<PolicySnapshot, 'groupIds'>): 'snapshot' | 'config' {
  return snapshot.groupIds ? 'snapshot' : 'config';
}

export function takeSnapshot(
  entitlement: Entitlement,
  configHash: string,
  groupIds?: Readonly<Record<string, string>>,
): PolicySnapshot {
  // The Identity Store ids the groups it names stood for at request time (groups are matched by id).
  const named = [...entitlement.eligible, ...entitlement.approval.approvers, ...entitlement.breakGlass];
  const pinned = groupIds
    ? Object.fromEntries(
        named.filter((name) => groupIds[name]).map((name) => [name, groupIds[name] as string]),
      )
    : undefined;
  return {
    ...(pinned ? { groupIds: pinned } : {}),
    entitlementTitle: entitlement.title,
    kind: entitlement.kind,
    permissionSetName: entitlement.target.permissionSet.name,
    eligibleGroups: [...entitlement.eligible],
    approverGroups: [...entitlement.approval.approvers],
    required: entitlement.approval.required,
    autoApprove: entitlement.approval.autoApprove,
    maxDurationMs: entitlement.maxDurationMs,
    maxTotalDurationMs: entitlement.maxTotalDurationMs,
    requireReason: entitlement.requireReason,
    ...optional('ticketPattern', entitlement.ticketPattern),
    breakGlassGroups: [...entitlement.breakGlass],
    strictExpiry: entitlement.strictExpiry,
    privileged: entitlement.privileged,
    configHash,
  };
}

export function isEligible(actor: Actor, entitlement: Entitlement): boolean {
  return intersects(actor.groups, entitlement.eligible);
}

export function assertEligible(actor: Actor, entitlement: Entitlement): void {
  if (!isEligible(actor, entitlement)) {
    throw new NotEligibleError(`you are not in a group eligible for entitlement '${entitlement.id}'`);
  }
}

export function assertBreakGlassMember(actor: Actor, entitlement: Entitlement): void {
  if (!intersects(actor.groups, entitlement.breakGlass)) {
    throw new NotBreakGlassError(`you are not in a break-glass group of entitlement '${entitlement.id}'`);
  }
}

export function assertTarget(entitlement: Entitlement, accountId: string): void {
  if (!entitlement.target.accounts.includes(accountId)) {
    throw new InvalidTargetError(`account ${accountId} is not a target of entitlement '${entitlement.id}'`);
  }
}

function formatMs(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes % 60 === 0) return `${minutes / 60}h`;
  return `${minutes}m`;
}

export function assertDuration(durationMs: number, snapshot: PolicySnapshot, alreadyGrantedMs = 0): void {
  if (!Number.isInteger(durationMs) || durationMs < 60_000) {
    throw new DurationExceededError('duration must be at least 1 minute');
  }
  if (durationMs > snapshot.maxDurationMs) {
    throw new DurationExceededError(
      `duration ${formatMs(durationMs)} exceeds the maximum of ${formatMs(snapshot.maxDurationMs)}`,
    );
  }
  if (alreadyGrantedMs + durationMs > snapshot.maxTotalDurationMs) {
    throw new DurationExceededError(
      `total duration ${formatMs(alreadyGrantedMs + durationMs)} would exceed the maximum of ${formatMs(snapshot.maxTotalDurationMs)}`,
    );
  }
}

export function assertReasonAndTicket(
  snapshot: PolicySnapshot,
  reason: string | undefined,
  ticket: string | undefined,
): void {
  if (snapshot.requireReason && (reason === undefined || reason.trim().length === 0)) {
    throw new ReasonRequiredError('a reason is required for this entitlement');
  }
  if (snapshot.ticketPattern !== undefined) {
    // The pattern was length-capped and checked for catastrophic backtracking when the config was validated.
    if (ticket === undefined || !new RegExp(snapshot.ticketPattern).test(ticket)) {
      throw new TicketInvalidError(`a ticket matching ${snapshot.ticketPattern} is required`);
    }
  }
}

/** Same person: equal user ids or any shared person key (ExternalId, employee number). */
export function samePerson(
  a: { userId: string; personKeys: readonly string[] },
  b: { userId: string; personKeys: readonly string[] },
): boolean {
  return a.userId === b.userId || intersects(a.personKeys, b.personKeys);
}

/**
 * Checks that `actor` may add an approval to `approvals` of a request by `requester`:
 * not the requester, not the same person, in the snapshot's approver groups now, and not counted yet.
 */
export function assertMayApprove(
  actor: Actor,
  request: Pick<AccessRequest, 'requesterId' | 'requesterPersonKeys' | 'snapshot'>,
  approvals: readonly Approval[],
): void {
  if (actor.userId === request.requesterId) {
    throw new SelfApprovalError('you cannot approve your own request');
  }
  if (intersects(actor.personKeys, request.requesterPersonKeys)) {
    throw new SamePersonApprovalError(
      'you cannot approve a request made by another account of yours (same person in the Identity Store)',
    );
  }
  if (!intersects(actor.groups, request.snapshot.approverGroups)) {
    throw new NotApproverError('you are not in an approver group of this entitlement');
  }
  const counted = approvals.some((approval) =>
    samePerson({ userId: approval.approverId, personKeys: approval.personKeys }, actor),
  );
  if (counted) throw new AlreadyApprovedError('your approval is already counted on this request');
}

/** Deny needs the same standing as approve (except that a denial is never "already counted"). */
export function assertMayDeny(
  actor: Actor,
  request: Pick<AccessRequest, 'requesterId' | 'requesterPersonKeys' | 'snapshot'>,
): void {
  assertMayApprove(actor, request, []);
}

/** Revocation: the requester, any approver of the entitlement, and admins. */
export function assertMayRevoke(actor: Actor, request: AccessRequest): void {
  if (actor.isAdmin || actor.userId === request.requesterId) return;
  if (intersects(actor.groups, request.snapshot.approverGroups)) return;
  throw new ForbiddenActionError('only the requester, an approver of the entitlement or an admin may revoke');
}

/** Cancellation: the requester (or an admin). */
export function assertMayCancel(actor: Actor, request: AccessRequest): void {
  if (actor.isAdmin || actor.userId === request.requesterId) return;
  throw new ForbiddenActionError('only the requester or an admin may cancel a request');
}

/** Extension: only the requester asks for more time on their own grant. */
export function assertMayExtend(actor: Actor, request: AccessRequest): void {
  if (actor.userId !== request.requesterId) {
    throw new ForbiddenActionError('only the requester may extend their grant');
  }
}

/**
 * Break-glass review: someone other than the activator (and not the same person), who is an
 * approver of the entitlement or an admin.
 */
export function assertMayReview(actor: Actor, request: AccessRequest): void {
  if (actor.userId === request.requesterId) {
    throw new SelfApprovalError('you cannot review your own break-glass activation');
  }
  if (intersects(actor.personKeys, request.requesterPersonKeys)) {
    throw new SamePersonApprovalError(
      'you cannot review a break-glass activation made by another account of yours',
    );
  }
  if (!actor.isAdmin && !intersects(actor.groups, request.snapshot.approverGroups)) {
    throw new NotApproverError(
      'only an approver of the entitlement or an admin may review a break-glass activation',
    );
  }
}

export function assertBreakGlassSnapshot(actor: Actor, snapshot: PolicySnapshot): void {
  if (!intersects(actor.groups, snapshot.breakGlassGroups)) {
    throw new NotBreakGlassError('you are not in a break-glass group of this entitlement');
  }
}
