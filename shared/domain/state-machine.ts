// The access-request state machine (docs/architecture.md §4). `openRequest` and `openBreakGlass`
// create a request; `decide` applies one command to one request and returns the next request plus
// the audit events that must commit with it. Anything the diagram does not allow throws; nothing
// here has effects.
//
//   PENDING --approve (quorum not reached)--> PENDING        PENDING --deny--> DENIED
//   PENDING --approve (quorum)--> APPROVED --start--> PROVISIONING --activate--> ACTIVE
//   APPROVED --schedule--> SCHEDULED --start--> PROVISIONING   PROVISIONING --fail--> FAILED
//   PENDING|SCHEDULED --cancel--> CANCELLED    PENDING|SCHEDULED --timeout (when due)--> TIMED_OUT
//   ACTIVE --extend--> EXTENSION_PENDING --approve (quorum)--> ACTIVE (new expiry, grantVersion+1)
//   EXTENSION_PENDING --deny|timeout--> ACTIVE
//   ACTIVE|EXTENSION_PENDING --expire (current grantVersion)--> EXPIRED
//   APPROVED|SCHEDULED|PROVISIONING|ACTIVE|EXTENSION_PENDING --revoke--> REVOKED
//   break-glass: opened APPROVED (no approvals), flagged REVIEW_REQUIRED --review--> REVIEWED
import { type AuditDraft, type AuditEventType, type JsonValue, requestChainId } from './audit-types.ts';
import { InvalidTransitionError, ValidationError } from './errors.ts';
import {
  type AccessRequest,
  type Actor,
  type Approval,
  type Decision,
  type Entitlement,
  type PolicySnapshot,
  type RequestStatus,
  targetAccounts,
} from './model.ts';
import { optional } from './optional.ts';
import {
  assertBreakGlassMember,
  assertDuration,
  assertEligible,
  assertMayApprove,
  assertMayCancel,
  assertMayDeny,
  assertMayExtend,
  assertMayReview,
  assertMayRevoke,
  assertReasonAndTicket,
  assertTarget,
  takeSnapshot,
} from './policy.ts';

export interface OpenRequestInput {
  readonly id: string;
  readonly requester: Actor;
  readonly entitlement: Entitlement;
  readonly configHash: string;
  readonly accountId: string;
  /** Several target accounts in one grant (all or nothing); `accountId` must be the first. */
  readonly accountIds?: readonly string[];
  readonly durationMs?: number;
  readonly reason?: string;
  readonly ticket?: string;
  readonly startAt?: Date;
  /** Group name → Identity Store id from the config, pinned into the snapshot. */
  readonly groupIds?: Readonly<Record<string, string>>;
  /** How far ahead `startAt` may be (config `maxStartDelay`; default: no limit). */
  readonly maxStartDelayMs?: number;
  readonly now: Date;
}

export type Command =
  | { readonly type: 'approve'; readonly actor: Actor; readonly comment?: string }
  | { readonly type: 'deny'; readonly actor: Actor; readonly comment?: string }
  | { readonly type: 'cancel'; readonly actor: Actor; readonly comment?: string }
  | { readonly type: 'revoke'; readonly actor: Actor; readonly comment?: string }
  | {
      readonly type: 'extend';
      readonly actor: Actor;
      readonly additionalMs: number;
      readonly reason?: string;
    }
  | { readonly type: 'review'; readonly actor: Actor; readonly comment?: string }
  | { readonly type: 'timeout'; readonly approvalTimeoutMs: number }
  | { readonly type: 'schedule' }
  | { readonly type: 'start-provisioning' }
  | { readonly type: 'activate' }
  | { readonly type: 'assignment-succeeded'; readonly accountId: string }
  | { readonly type: 'assignment-failed'; readonly accountId: string; readonly failure: string }
  | { readonly type: 'fail'; readonly failure: string }
  /**
   * `provenEnd`: the grant's end as its audit chain proves it (activation and approved extensions).
   * When given, it decides — a record whose expiry or version was written past the chain extends
   * nothing — and the version check is not needed (an early delivery is simply not due yet).
   */
  | { readonly type: 'expire'; readonly grantVersion: number; readonly provenEnd?: string };

export type CommandType = Command['type'];

export interface Outcome {
  readonly request: AccessRequest;
  readonly events: readonly AuditDraft[];
  /** False when the command was a harmless no-op (a stale expiry); nothing needs writing then. */
  readonly changed: boolean;
}

/** The actor id recorded for transitions the system makes (schedules, the grant engine, the reconciler). */
export const SYSTEM_ACTOR_ID = 'system';

const DECIDING: ReadonlySet<RequestStatus> = new Set(['PENDING', 'EXTENSION_PENDING']);
const HOLDS_OR_AWAITS_ACCESS: ReadonlySet<RequestStatus> = new Set([
  'APPROVED',
  'SCHEDULED',
  'PROVISIONING',
  'ACTIVE',
  'EXTENSION_PENDING',
]);

function iso(date: Date): string {
  return date.toISOString();
}

function baseEvent(request: AccessRequest, type: AuditEventType, at: Date, actorId: string | null) {
  return {
    chainId: requestChainId(request.id),
    at: iso(at),
    type,
    actorId,
    requestId: request.id,
    entitlementId: request.entitlementId,
    accountId: request.accountId,
  } satisfies AuditDraft;
}

/** The snapshot as audit details (plain JSON; canonical JSON compares it with the record's). */
export function snapshotDetails(snapshot: PolicySnapshot): { readonly [key: string]: JsonValue } {
  return JSON.parse(JSON.stringify(snapshot)) as { readonly [key: string]: JsonValue };
}

function notAllowed(request: AccessRequest, action: string): InvalidTransitionError {
  return new InvalidTransitionError(`cannot ${action} a request that is ${request.status}`);
}

function targetsOf(input: { accountId: string; accountIds?: readonly string[] }): readonly string[] {
  const accountIds = input.accountIds && input.accountIds.length > 0 ? input.accountIds : [input.accountId];
  if (accountIds[0] !== input.accountId || new Set(accountIds).size !== accountIds.length) {
    throw new ValidationError('accountIds: expected distinct accounts, the first being accountId');
  }
  return accountIds;
}

/**
 * What opening a request and opening a break-glass activation share: targets, snapshot, duration,
 * reason and ticket checked, and the request's common fields.
 */
function opening(input: Omit<OpenRequestInput, 'startAt'>, reasonAlwaysRequired: boolean) {
  const { entitlement, requester, now } = input;
  const accountIds = targetsOf(input);
  for (const accountId of accountIds) assertTarget(entitlement, accountId);
  const snapshot = takeSnapshot(entitlement, input.configHash, input.groupIds);
  const durationMs = input.durationMs ?? entitlement.defaultDurationMs;
  assertDuration(durationMs, snapshot);
  const reason = input.reason?.trim() || undefined;
  const ticket = input.ticket?.trim() || undefined;
  assertReasonAndTicket(
    reasonAlwaysRequired ? { ...snapshot, requireReason: true } : snapshot,
    reason,
    ticket,
  );
  const base = {
    id: input.id,
    requesterId: requester.userId,
    ...optional('requesterName', requester.displayName),
    requesterPersonKeys: [...requester.personKeys],
    entitlementId: entitlement.id,
    accountId: input.accountId,
    ...(accountIds.length > 1 ? { accountIds } : {}),
    durationMs,
    ...optional('reason', reason),
    ...optional('ticket', ticket),
    approvals: [] as Approval[],
    snapshot,
    version: 1,
    createdAt: iso(now),
    updatedAt: iso(now),
  };
  return { accountIds, snapshot, durationMs, reason, ticket, base };
}

/** Opens a request: validates eligibility, target, duration, reason and ticket; auto-approves when configured. */
export function openRequest(input: OpenRequestInput): Outcome {
  const { entitlement, requester, now } = input;
  assertEligible(requester, entitlement);
  const { accountIds, snapshot, durationMs, reason, ticket, base } = opening(input, false);
  if (input.startAt !== undefined && input.startAt.getTime() < now.getTime() - 60_000) {
    throw new ValidationError('startAt: expected a time in the future');
  }
  if (
    input.startAt !== undefined &&
    input.maxStartDelayMs !== undefined &&
    input.startAt.getTime() > now.getTime() + input.maxStartDelayMs
  ) {
    throw new ValidationError(
      `startAt: expected at most ${Math.round(input.maxStartDelayMs / 3_600_000)} hours ahead (config maxStartDelay)`,
    );
  }
  const status: RequestStatus = snapshot.autoApprove ? 'APPROVED' : 'PENDING';
  const request: AccessRequest = {
    ...base,
    ...optional('startAt', input.startAt ? iso(input.startAt) : undefined),
    status,
  };
  const events: AuditDraft[] = [
    {
      ...baseEvent(request, 'request.created', now, requester.userId),
      reason: reason ?? null,
      details: {
        durationMs,
        accountIds: [...accountIds],
        ticket: ticket ?? null,
        startAt: request.startAt ?? null,
        required: snapshot.required,
        approverGroups: [...snapshot.approverGroups],
        configHash: snapshot.configHash,
        requesterPersonKeys: [...requester.personKeys],
        permissionSetName: snapshot.permissionSetName,
        ...(snapshot.groupIds ? { groupIds: { ...snapshot.groupIds } } : {}),
        // The whole policy snapshot, so the record's can be held to it (grant-proof.ts).
        snapshot: snapshotDetails(snapshot),
      },
    },
  ];
  if (snapshot.autoApprove) {
    events.push({
      ...baseEvent(request, 'request.approved', now, SYSTEM_ACTOR_ID),
      details: { autoApproved: true, quorumReached: true },
    });
  }
  return { request, events, changed: true };
}

/** Break-glass: a member of a break-glass group gets an approved request at once, flagged for review. */
export function openBreakGlass(input: Omit<OpenRequestInput, 'startAt'>): Outcome {
  const { entitlement, requester, now } = input;
  assertBreakGlassMember(requester, entitlement);
  // Break-glass bypasses approval, so a reason is always required whatever the entitlement says.
  const { snapshot, durationMs, reason, base } = opening(input, true);
  const request: AccessRequest = {
    ...base,
    status: 'APPROVED',
    breakGlass: { activatedBy: requester.userId, reviewStatus: 'REVIEW_REQUIRED' },
  };
  const events: AuditDraft[] = [
    {
      ...baseEvent(request, 'breakglass.activated', now, requester.userId),
      reason: reason ?? null,
      details: {
        durationMs,
        ticket: request.ticket ?? null,
        configHash: snapshot.configHash,
        accountIds: [...targetAccounts(request)],
        permissionSetName: snapshot.permissionSetName,
        requesterPersonKeys: [...requester.personKeys],
        snapshot: snapshotDetails(snapshot),
      },
    },
  ];
  return { request, events, changed: true };
}

function activate(request: AccessRequest, now: Date): Outcome {
  const expiresAt = new Date(now.getTime() + request.durationMs);
  const grant = {
    grantVersion: 1,
    startedAt: iso(now),
    expiresAt: iso(expiresAt),
    totalDurationMs: request.durationMs,
  };
  const updated = next(request, now, { status: 'ACTIVE', grant });
  const event: AuditDraft = {
    ...baseEvent(request, 'grant.activated', now, SYSTEM_ACTOR_ID),
    details: {
      expiresAt: grant.expiresAt,
      grantVersion: 1,
      accountIds: [...targetAccounts(request)],
      breakGlass: request.breakGlass !== undefined,
    },
  };
  return { request: updated, events: [event], changed: true };
}

// Names ride along on the record for people to read (views, Slack, the CLI) and stay out of the
// audit events: a chain proves who acted by id and person keys, which is all any decision reads;
// a display name is mutable Identity Store data that proves nothing and, once hashed into an
// append-only chain, could never be corrected.
function decisionOf(actor: Actor, now: Date, comment: string | undefined): Decision {
  return {
    actorId: actor.userId,
    ...optional('actorName', actor.displayName),
    at: iso(now),
    ...optional('comment', comment),
  };
}

function next(request: AccessRequest, now: Date, patch: Partial<AccessRequest>): AccessRequest {
  return { ...request, ...patch, version: request.version + 1, updatedAt: iso(now) };
}

function approvalOf(actor: Actor, now: Date, comment: string | undefined): Approval {
  return {
    approverId: actor.userId,
    ...optional('approverName', actor.displayName),
    at: iso(now),
    personKeys: [...actor.personKeys],
    ...optional('comment', comment),
  };
}

function approve(request: AccessRequest, actor: Actor, comment: string | undefined, now: Date): Outcome {
  if (request.status === 'PENDING') {
    assertMayApprove(actor, request, request.approvals);
    const approvals = [...request.approvals, approvalOf(actor, now, comment)];
    const quorumReached = approvals.length >= request.snapshot.required;
    const updated = next(request, now, { approvals, status: quorumReached ? 'APPROVED' : 'PENDING' });
    const event: AuditDraft = {
      ...baseEvent(request, 'request.approved', now, actor.userId),
      reason: comment ?? null,
      details: {
        approvals: approvals.length,
        required: request.snapshot.required,
        quorumReached,
        personKeys: [...actor.personKeys],
        // The approvals that made the quorum (approvers still in an approver group at that moment).
        ...(quorumReached ? { countedApprovers: approvals.map((a) => a.approverId) } : {}),
      },
    };
    return { request: updated, events: [event], changed: true };
  }
  if (request.status === 'EXTENSION_PENDING' && request.extension && request.grant) {
    assertMayApprove(actor, request, request.extension.approvals);
    const approvals = [...request.extension.approvals, approvalOf(actor, now, comment)];
    const quorumReached = approvals.length >= request.snapshot.required;
    if (!quorumReached) {
      const updated = next(request, now, { extension: { ...request.extension, approvals } });
      const event: AuditDraft = {
        ...baseEvent(request, 'request.approved', now, actor.userId),
        reason: comment ?? null,
        details: {
          extension: true,
          approvals: approvals.length,
          required: request.snapshot.required,
          quorumReached,
          personKeys: [...actor.personKeys],
        },
      };
      return { request: updated, events: [event], changed: true };
    }
    return extendGrant(request, request.extension.additionalMs, now, actor.userId, comment, approvals.length);
  }
  throw notAllowed(request, 'approve');
}

function extendGrant(
  request: AccessRequest,
  additionalMs: number,
  now: Date,
  actorId: string,
  comment: string | undefined,
  approvals: number,
): Outcome {
  const grant = request.grant;
  if (!grant) throw notAllowed(request, 'extend');
  const expiresAt = new Date(Date.parse(grant.expiresAt) + additionalMs);
  const updated = next(request, now, {
    status: 'ACTIVE',
    extension: undefined,
    grant: {
      grantVersion: grant.grantVersion + 1,
      startedAt: grant.startedAt,
      expiresAt: iso(expiresAt),
      totalDurationMs: grant.totalDurationMs + additionalMs,
    },
  });
  const event: AuditDraft = {
    ...baseEvent(request, 'request.extension_approved', now, actorId),
    reason: comment ?? null,
    details: {
      additionalMs,
      approvals,
      previousExpiresAt: grant.expiresAt,
      expiresAt: iso(expiresAt),
      grantVersion: grant.grantVersion + 1,
    },
  };
  return { request: updated, events: [event], changed: true };
}

function deny(request: AccessRequest, actor: Actor, comment: string | undefined, now: Date): Outcome {
  if (!DECIDING.has(request.status)) throw notAllowed(request, 'deny');
  assertMayDeny(actor, request);
  const decision = decisionOf(actor, now, comment);
  if (request.status === 'PENDING') {
    const updated = next(request, now, { status: 'DENIED', denial: decision, endedAt: iso(now) });
    const event: AuditDraft = {
      ...baseEvent(request, 'request.denied', now, actor.userId),
      reason: comment ?? null,
    };
    return { request: updated, events: [event], changed: true };
  }
  const updated = next(request, now, { status: 'ACTIVE', extension: undefined });
  const event: AuditDraft = {
    ...baseEvent(request, 'request.extension_denied', now, actor.userId),
    reason: comment ?? null,
    details: { additionalMs: request.extension?.additionalMs ?? 0 },
  };
  return { request: updated, events: [event], changed: true };
}

function extend(
  request: AccessRequest,
  actor: Actor,
  additionalMs: number,
  reason: string | undefined,
  now: Date,
) {
  if (request.status !== 'ACTIVE' || !request.grant) throw notAllowed(request, 'extend');
  assertMayExtend(actor, request);
  assertDuration(additionalMs, request.snapshot, request.grant.totalDurationMs);
  const trimmed = reason?.trim() || undefined;
  assertReasonAndTicket({ ...request.snapshot, ticketPattern: undefined }, trimmed, undefined);
  const requested: AuditDraft = {
    ...baseEvent(request, 'request.extension_requested', now, actor.userId),
    reason: trimmed ?? null,
    details: { additionalMs, expiresAt: request.grant.expiresAt },
  };
  if (request.snapshot.autoApprove) {
    const extended = extendGrant(request, additionalMs, now, SYSTEM_ACTOR_ID, undefined, 0);
    return { ...extended, events: [requested, ...extended.events] };
  }
  const updated = next(request, now, {
    status: 'EXTENSION_PENDING',
    extension: {
      requestedBy: actor.userId,
      at: iso(now),
      additionalMs,
      approvals: [],
      ...optional('reason', trimmed),
    },
  });
  return { request: updated, events: [requested], changed: true };
}

function end(
  request: AccessRequest,
  now: Date,
  status: RequestStatus,
  type: AuditEventType,
  actorId: string,
  patch: Partial<AccessRequest> = {},
  details: AuditDraft['details'] = {},
  reason?: string,
): Outcome {
  const updated = next(request, now, { ...patch, status, endedAt: iso(now), extension: undefined });
  const event: AuditDraft = {
    ...baseEvent(request, type, now, actorId),
    reason: reason ?? null,
    details: { previousStatus: request.status, ...details },
  };
  return { request: updated, events: [event], changed: true };
}

/** Applies one command; throws a PamError when the state machine or the policy refuses it. */
export function decide(request: AccessRequest, command: Command, now: Date): Outcome {
  switch (command.type) {
    case 'approve':
      return approve(request, command.actor, command.comment, now);
    case 'deny':
      return deny(request, command.actor, command.comment, now);
    case 'extend':
      return extend(request, command.actor, command.additionalMs, command.reason, now);
    case 'cancel': {
      if (request.status !== 'PENDING' && request.status !== 'SCHEDULED') throw notAllowed(request, 'cancel');
      assertMayCancel(command.actor, request);
      const decision = decisionOf(command.actor, now, command.comment);
      return end(
        request,
        now,
        'CANCELLED',
        'request.cancelled',
        command.actor.userId,
        { cancellation: decision },
        {},
        command.comment,
      );
    }
    case 'revoke': {
      if (!HOLDS_OR_AWAITS_ACCESS.has(request.status)) throw notAllowed(request, 'revoke');
      assertMayRevoke(command.actor, request);
      const decision = decisionOf(command.actor, now, command.comment);
      return end(
        request,
        now,
        'REVOKED',
        'grant.revoked',
        command.actor.userId,
        { revocation: decision },
        {},
        command.comment,
      );
    }
    case 'review': {
      const breakGlass = request.breakGlass;
      if (!breakGlass) throw new InvalidTransitionError('only a break-glass activation can be reviewed');
      if (breakGlass.reviewStatus === 'REVIEWED')
        throw new InvalidTransitionError('this break-glass activation is already reviewed');
      assertMayReview(command.actor, request);
      const review = decisionOf(command.actor, now, command.comment);
      const updated = next(request, now, { breakGlass: { ...breakGlass, reviewStatus: 'REVIEWED', review } });
      const event: AuditDraft = {
        ...baseEvent(request, 'breakglass.reviewed', now, command.actor.userId),
        reason: command.comment ?? null,
        details: { status: request.status },
      };
      return { request: updated, events: [event], changed: true };
    }
    case 'timeout': {
      // Due only once the wait has really lasted approvalTimeout: an early or forged timeout is a no-op.
      const waitingSince =
        request.status === 'EXTENSION_PENDING'
          ? request.extension?.at
          : request.status === 'SCHEDULED'
            ? request.startAt
            : request.createdAt;
      const due =
        waitingSince !== undefined && now.getTime() >= Date.parse(waitingSince) + command.approvalTimeoutMs;
      if (request.status === 'PENDING' || request.status === 'SCHEDULED') {
        if (!due) return { request, events: [], changed: false };
        return end(request, now, 'TIMED_OUT', 'request.timed_out', SYSTEM_ACTOR_ID);
      }
      if (request.status === 'EXTENSION_PENDING') {
        if (!due) return { request, events: [], changed: false };
        const updated = next(request, now, { status: 'ACTIVE', extension: undefined });
        const event: AuditDraft = {
          ...baseEvent(request, 'request.extension_denied', now, SYSTEM_ACTOR_ID),
          details: { timedOut: true, additionalMs: request.extension?.additionalMs ?? 0 },
        };
        return { request: updated, events: [event], changed: true };
      }
      throw notAllowed(request, 'time out');
    }
    case 'schedule': {
      if (request.status !== 'APPROVED' || !request.startAt) throw notAllowed(request, 'schedule');
      const updated = next(request, now, { status: 'SCHEDULED' });
      const event: AuditDraft = {
        ...baseEvent(request, 'request.scheduled', now, SYSTEM_ACTOR_ID),
        details: { startAt: request.startAt },
      };
      return { request: updated, events: [event], changed: true };
    }
    case 'start-provisioning': {
      if (request.status !== 'APPROVED' && request.status !== 'SCHEDULED')
        throw notAllowed(request, 'provision');
      const updated = next(request, now, { status: 'PROVISIONING' });
      const event: AuditDraft = { ...baseEvent(request, 'grant.provisioning', now, SYSTEM_ACTOR_ID) };
      return { request: updated, events: [event], changed: true };
    }
    case 'activate':
      if (request.status !== 'PROVISIONING') throw notAllowed(request, 'activate');
      return activate(request, now);
    case 'assignment-succeeded': {
      // A result for a request that is no longer provisioning (revoked meanwhile) changes nothing;
      // the grant engine releases the assignment it made.
      if (request.status !== 'PROVISIONING') return { request, events: [], changed: false };
      if (!targetAccounts(request).includes(command.accountId))
        throw notAllowed(request, 'record an assignment for');
      const provisioned = [...new Set([...(request.provisioned ?? []), command.accountId])];
      const allDone = targetAccounts(request).every((accountId) => provisioned.includes(accountId));
      if (allDone) return activate({ ...request, provisioned }, now);
      if (provisioned.length === (request.provisioned ?? []).length)
        return { request, events: [], changed: false };
      return { request: next(request, now, { provisioned }), events: [], changed: true };
    }
    case 'assignment-failed': {
      if (request.status !== 'PROVISIONING') return { request, events: [], changed: false };
      const failure = `${command.accountId}: ${command.failure}`;
      return end(
        request,
        now,
        'FAILED',
        'grant.failed',
        SYSTEM_ACTOR_ID,
        { failure },
        { failure, accountId: command.accountId },
      );
    }
    case 'fail': {
      if (request.status !== 'PROVISIONING') throw notAllowed(request, 'fail');
      return end(
        request,
        now,
        'FAILED',
        'grant.failed',
        SYSTEM_ACTOR_ID,
        { failure: command.failure },
        { failure: command.failure },
      );
    }
    case 'expire': {
      const grant = request.grant;
      if ((request.status !== 'ACTIVE' && request.status !== 'EXTENSION_PENDING') || !grant) {
        // An expiry for a grant that already ended (or never started) is a harmless duplicate.
        if (request.status === 'EXPIRED' || request.status === 'REVOKED')
          return { request, events: [], changed: false };
        throw notAllowed(request, 'expire');
      }
      // A schedule carrying an older grant version was superseded by an extension: a no-op.
      if (command.provenEnd === undefined && command.grantVersion !== grant.grantVersion)
        return { request, events: [], changed: false };
      // Delivered early (clock skew): ignore; the schedule or the reconciler delivers it again when due.
      const endsAt = command.provenEnd ?? grant.expiresAt;
      if (now.getTime() < Date.parse(endsAt)) return { request, events: [], changed: false };
      return end(
        request,
        now,
        'EXPIRED',
        'grant.expired',
        SYSTEM_ACTOR_ID,
        {},
        {
          expiresAt: endsAt,
          grantVersion: grant.grantVersion,
          ...(endsAt !== grant.expiresAt ? { recordExpiresAt: grant.expiresAt } : {}),
        },
      );
    }
  }
}
