// Use cases of the request core: open a request or a break-glass activation, decide on a request
// (approve, deny, cancel, revoke, extend, review), read and list requests. Each is a factory over
// ports; the HTTP handler and the commands worker call the same functions.

import {
  NotEligibleError,
  NotFoundError,
  TooManyOpenRequestsError,
  UnprovenRecordError,
  ValidationError,
} from '#domain/errors.ts';
import { type AccessRequest, type Actor, OPEN_STATUSES, type RequestStatus } from '#domain/model.ts';
import { optional } from '#domain/optional.ts';
import { groupsMatchedBy, groupsPinnedBySnapshot, intersects } from '#domain/policy.ts';
import { type Command, decide, type Outcome, openBreakGlass, openRequest } from '#domain/state-machine.ts';
import type { Page, PageRequest } from '#ports/index.ts';
import { resolveActor } from './actors.ts';
import type { CoreDeps } from './deps.ts';
import { approvalsStillCounting, refuseUnproven, requesterStillEligible, unproven } from './proof.ts';
import { auditRejections } from './rejections.ts';

export interface CreateRequestInput {
  /** The id to give the request (a Slack submission's, minted by the ingress); default a new ULID. */
  readonly requestId?: string;
  readonly actorId: string;
  readonly entitlementId: string;
  readonly accountId: string;
  /** Several accounts in one all-or-nothing grant; the first must be `accountId`. */
  readonly accountIds?: readonly string[];
  readonly durationMs?: number;
  readonly reason?: string;
  readonly ticket?: string;
  readonly startAt?: string;
}

function entitlementOrNotFound(deps: CoreDeps, entitlementId: string) {
  const entitlement = deps.catalog.get(entitlementId);
  if (!entitlement) throw new NotFoundError(`no entitlement '${entitlementId}'`);
  return entitlement;
}

async function commit(
  deps: CoreDeps,
  outcome: Outcome,
  before: AccessRequest | null,
): Promise<AccessRequest> {
  if (outcome.changed) {
    const ends = outcome.request.status === 'REVOKED' || outcome.request.status === 'EXPIRED';
    if (before && ends && deps.beforeAccessEnds) await deps.beforeAccessEnds(before, outcome.request);
    await deps.store.save({
      request: outcome.request,
      expectedVersion: before?.version ?? null,
      events: outcome.events,
    });
  }
  return outcome.request;
}

/**
 * Opens a request.
 * 1. Resolve the requester (groups read uncached). 2. Check eligibility, target, duration, reason,
 * ticket against the entitlement and snapshot it. 3. Refuse when the requester already has
 * `limits.maxOpenRequestsPerUser` open (TOO_MANY_OPEN_REQUESTS). 4. Save the request and
 * `request.created` (and, when auto-approved, `request.approved`) in one transaction. A refusal is
 * audited on `system`.
 */
export function makeCreateRequest(deps: CoreDeps) {
  return async (input: CreateRequestInput): Promise<AccessRequest> =>
    auditRejections(
      deps,
      {
        action: 'create',
        actorId: input.actorId,
        entitlementId: input.entitlementId,
        accountId: input.accountId,
      },
      async () => {
        const entitlement = entitlementOrNotFound(deps, input.entitlementId);
        const requester = await resolveActor(deps.directory, deps.catalog, input.actorId);
        const startAt = input.startAt === undefined ? undefined : new Date(input.startAt);
        if (startAt && Number.isNaN(startAt.getTime()))
          throw new ValidationError('startAt: expected an ISO-8601 time');
        const outcome = openRequest({
          id: input.requestId ?? deps.ids.next(),
          requester,
          entitlement,
          configHash: deps.catalog.config.configHash,
          accountId: input.accountId,
          ...optional('accountIds', input.accountIds),
          ...optional('durationMs', input.durationMs),
          ...optional('reason', input.reason),
          ...optional('ticket', input.ticket),
          ...(startAt ? { startAt } : {}),
          maxStartDelayMs: deps.catalog.config.maxStartDelayMs ?? DEFAULT_MAX_START_DELAY_MS,
          groupIds: deps.catalog.config.identityCenter.groupIds,
          now: deps.clock.now(),
        });
        // Last, so a request the policy refuses anyway costs no read.
        await refuseBeyondOpenLimit(deps, requester.userId);
        return commit(deps, outcome, null);
      },
    );
}

/** `limits.maxOpenRequestsPerUser` when the config says nothing (infra/config/schema.ts has the same). */
export const DEFAULT_MAX_OPEN_REQUESTS_PER_USER = 10;

/**
 * Refuses a new request from a user who already has `limits.maxOpenRequestsPerUser` open (any
 * status that is not final, ACTIVE included: every open request is work each reconciler pass and
 * each approver's queue carries, and that work must stay bounded per user). Break-glass is not
 * capped — an emergency must never wait for housekeeping. The count reads an index, so requests
 * sent at the same instant can pass it together: the cap bounds a flood, not an exact number.
 */
async function refuseBeyondOpenLimit(deps: CoreDeps, requesterId: string): Promise<void> {
  const limit = deps.catalog.config.limits?.maxOpenRequestsPerUser ?? DEFAULT_MAX_OPEN_REQUESTS_PER_USER;
  const open = await deps.store.countByRequester(requesterId, OPEN_STATUSES, limit);
  if (open >= limit) {
    throw new TooManyOpenRequestsError(
      `you already have ${limit} open requests, the most one user may have; cancel one, or wait until one is decided or ends, then ask again`,
    );
  }
}

/** Break-glass activation: approved at once for a member of a break-glass group, flagged for review. */
export function makeActivateBreakGlass(deps: CoreDeps) {
  return async (input: Omit<CreateRequestInput, 'startAt'>): Promise<AccessRequest> =>
    auditRejections(
      deps,
      {
        action: 'break-glass',
        actorId: input.actorId,
        entitlementId: input.entitlementId,
        accountId: input.accountId,
      },
      async () => {
        const entitlement = entitlementOrNotFound(deps, input.entitlementId);
        const requester = await resolveActor(deps.directory, deps.catalog, input.actorId);
        const outcome = openBreakGlass({
          id: deps.ids.next(),
          requester,
          entitlement,
          configHash: deps.catalog.config.configHash,
          accountId: input.accountId,
          ...optional('durationMs', input.durationMs),
          ...optional('reason', input.reason),
          ...optional('ticket', input.ticket),
          groupIds: deps.catalog.config.identityCenter.groupIds,
          now: deps.clock.now(),
        });
        return commit(deps, outcome, null);
      },
    );
}

export type UserAction = 'approve' | 'deny' | 'cancel' | 'revoke' | 'extend' | 'review';

/** `maxStartDelay` when the config says nothing: a week. */
export const DEFAULT_MAX_START_DELAY_MS = 7 * 24 * 3_600_000;

/**
 * Before a decision that can widen access (an approval, an extension): the record must claim no more
 * than its chain proves, and the requester must still be eligible. When an approval completes the
 * quorum, only approvals by people still in an approver group count.
 */
async function guardWidening(
  deps: CoreDeps,
  request: AccessRequest,
  action: UserAction,
): Promise<AccessRequest> {
  if (action !== 'approve' && action !== 'extend') return request;
  if (action === 'approve' && request.status !== 'PENDING' && request.status !== 'EXTENSION_PENDING')
    return request;
  const problems = await unproven(deps, request);
  if (problems.length > 0) {
    await refuseUnproven(deps, { check: action, requestId: request.id, problems });
    throw new UnprovenRecordError(
      'this request claims approvals or time its audit trail does not record; nothing was changed',
    );
  }
  if (!(await requesterStillEligible(deps, request)))
    throw new NotEligibleError('the requester is no longer in a group eligible for this entitlement');
  if (action !== 'approve') return request;
  const pending =
    request.status === 'EXTENSION_PENDING' ? (request.extension?.approvals ?? []) : request.approvals;
  if (pending.length + 1 < request.snapshot.required) return request;
  const counting = await approvalsStillCounting(deps, request, pending);
  if (counting.length === pending.length) return request;
  return request.status === 'EXTENSION_PENDING' && request.extension
    ? { ...request, extension: { ...request.extension, approvals: counting } }
    : { ...request, approvals: counting };
}

/**
 * A person's decision on a request. A decision carries the decider's `comment`; an extension, like
 * a request, carries the requester's `reason` (the names the API, the state machine and the audit
 * events use).
 */
export type DecisionInput =
  | {
      readonly action: Exclude<UserAction, 'extend'>;
      readonly actorId: string;
      readonly requestId: string;
      readonly comment?: string;
    }
  | {
      readonly action: 'extend';
      readonly actorId: string;
      readonly requestId: string;
      /** Required; checked here so that its absence is a VALIDATION_FAILED like any other input. */
      readonly additionalMs?: number;
      readonly reason?: string;
    };

function userCommand(input: DecisionInput, actor: Actor): Command {
  if (input.action === 'extend') {
    if (input.additionalMs === undefined) throw new ValidationError('duration: required to extend');
    return { type: 'extend', actor, additionalMs: input.additionalMs, ...optional('reason', input.reason) };
  }
  return { type: input.action, actor, ...optional('comment', input.comment) };
}

/**
 * A person's decision on a request.
 * 1. Load the request (consistent read). 2. Resolve the actor (groups uncached, person keys).
 * 3. Apply the command through the state machine and the snapshot's policy. 4. Save with the
 * version read and the audit events in one transaction: a concurrent decision makes this one fail
 * with CONCURRENT_MODIFICATION and change nothing. A refusal is audited on the request's chain.
 */
export function makeDecideRequest(deps: CoreDeps) {
  return async (input: DecisionInput): Promise<AccessRequest> => {
    const request = await deps.store.get(input.requestId);
    if (!request) throw new NotFoundError(`no request '${input.requestId}'`);
    return auditRejections(
      deps,
      {
        action: input.action,
        actorId: input.actorId,
        requestId: request.id,
        entitlementId: request.entitlementId,
        accountId: request.accountId,
      },
      async () => {
        const actor = actingOn(
          request,
          await resolveActor(deps.directory, deps.catalog, input.actorId),
          deps,
        );
        const guarded = await guardWidening(deps, request, input.action);
        const outcome = decide(guarded, userCommand(input, actor), deps.clock.now());
        return commit(deps, withGroupMatching(outcome, request, deps), request);
      },
    );
  };
}

/** The actor with only the groups that still stand for the ids the request's snapshot pinned. */
function actingOn(request: AccessRequest, actor: Actor, deps: Pick<CoreDeps, 'catalog'>): Actor {
  const groups = groupsPinnedBySnapshot(
    actor.groups,
    request.snapshot,
    deps.catalog.config.identityCenter.groupIds,
  );
  return groups.length === actor.groups.length ? actor : { ...actor, groups };
}

/**
 * A request made before snapshots recorded group ids is matched through the config's
 * `identityCenter.groupIds`; each decision on it says so in its audit event, with the ids used.
 */
function withGroupMatching(
  outcome: Outcome,
  request: AccessRequest,
  deps: Pick<CoreDeps, 'catalog'>,
): Outcome {
  if (groupsMatchedBy(request.snapshot) === 'snapshot' || !outcome.changed) return outcome;
  const current = deps.catalog.config.identityCenter.groupIds;
  const named = [
    ...new Set([
      ...request.snapshot.eligibleGroups,
      ...request.snapshot.approverGroups,
      ...request.snapshot.breakGlassGroups,
    ]),
  ];
  const groupIds = Object.fromEntries(
    named.filter((name) => Object.hasOwn(current, name)).map((name) => [name, current[name] as string]),
  );
  return {
    ...outcome,
    events: outcome.events.map((event) => ({
      ...event,
      details: { ...(event.details ?? {}), groupsMatchedBy: 'config', groupIds },
    })),
  };
}

export type SystemCommand = Extract<
  Command,
  {
    type:
      | 'timeout'
      | 'expire'
      | 'schedule'
      | 'start-provisioning'
      | 'activate'
      | 'assignment-succeeded'
      | 'assignment-failed'
      | 'fail';
  }
>;

/** A transition the system makes (schedules, reconciler, grant engine). A stale one is a no-op. */
export function makeApplySystemCommand(deps: CoreDeps) {
  return async (
    requestId: string,
    command: SystemCommand,
  ): Promise<{ request: AccessRequest; changed: boolean }> => {
    const request = await deps.store.get(requestId);
    if (!request) throw new NotFoundError(`no request '${requestId}'`);
    const outcome = decide(request, command, deps.clock.now());
    await commit(deps, outcome, request);
    return { request: outcome.request, changed: outcome.changed };
  };
}

/** The actor the reconciler revokes as when a user is disabled or deleted in the Identity Store. */
export const SYSTEM_REVOKER: Actor = {
  userId: 'system:reconciler',
  groups: [],
  personKeys: [],
  isAdmin: true,
};

/**
 * Revocation by the system (the user was disabled or deleted): same state machine and narrowing
 * as a person's revoke, with the reason recorded. Only the commands queue (policy-restricted to
 * cloud-pam's own roles) can ask for it; `/v1` cannot.
 */
export function makeSystemRevoke(deps: CoreDeps) {
  return async (requestId: string, reason: string): Promise<{ request: AccessRequest; changed: boolean }> => {
    const request = await deps.store.get(requestId);
    if (!request) throw new NotFoundError(`no request '${requestId}'`);
    const outcome = decide(
      request,
      { type: 'revoke', actor: SYSTEM_REVOKER, comment: reason },
      deps.clock.now(),
    );
    await commit(deps, outcome, request);
    return { request: outcome.request, changed: outcome.changed };
  };
}

/** Who may see a request: the requester, approvers of its entitlement (per snapshot), break-glass reviewers, admins. */
function mayView(actor: Actor, request: AccessRequest): boolean {
  return (
    actor.isAdmin ||
    actor.userId === request.requesterId ||
    intersects(actor.groups, request.snapshot.approverGroups)
  );
}

export function makeGetRequest(deps: CoreDeps) {
  return async (input: { actorId: string; requestId: string }): Promise<AccessRequest> => {
    const [request, actor] = await Promise.all([
      deps.store.get(input.requestId),
      resolveActor(deps.directory, deps.catalog, input.actorId),
    ]);
    // Unknown and not-yours look the same, so ids cannot be probed.
    if (!request || !mayView(actor, request)) throw new NotFoundError(`no request '${input.requestId}'`);
    return request;
  };
}

export function makeListMyRequests(deps: CoreDeps) {
  return async (input: { actorId: string } & PageRequest): Promise<Page<AccessRequest>> =>
    deps.store.listByRequester(input.actorId, pageOf(input));
}

function pageOf(input: PageRequest): PageRequest {
  return {
    ...optional('limit', input.limit),
    ...optional('nextToken', input.nextToken),
  };
}

const AWAITING: readonly RequestStatus[] = ['PENDING', 'EXTENSION_PENDING'];

interface AwaitingToken {
  readonly s: number;
  readonly t?: string;
}

function decodeAwaitingToken(token: string | undefined): AwaitingToken {
  if (token === undefined) return { s: 0 };
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown;
    if (
      typeof parsed === 'object' &&
      parsed !== null &&
      typeof (parsed as AwaitingToken).s === 'number' &&
      Number.isInteger((parsed as AwaitingToken).s) &&
      (parsed as AwaitingToken).s >= 0 &&
      (parsed as AwaitingToken).s < AWAITING.length &&
      ((parsed as AwaitingToken).t === undefined || typeof (parsed as AwaitingToken).t === 'string')
    ) {
      return parsed as AwaitingToken;
    }
  } catch {
    // fall through
  }
  throw new ValidationError('nextToken: expected a token returned by a previous call');
}

function encodeAwaitingToken(token: AwaitingToken): string {
  return Buffer.from(JSON.stringify(token), 'utf8').toString('base64url');
}

/**
 * Requests awaiting the actor's decision: pending (or extension-pending) requests whose snapshot
 * names a group of the actor, not made by the actor (or another account of the same person), and
 * not yet approved by them. A page may hold fewer than `limit` items; follow `nextToken`.
 */
export function makeListAwaitingMyApproval(deps: CoreDeps) {
  return async (input: { actorId: string } & PageRequest): Promise<Page<AccessRequest>> => {
    const actor = await resolveActor(deps.directory, deps.catalog, input.actorId);
    const position = decodeAwaitingToken(input.nextToken);
    const status = AWAITING[position.s] as RequestStatus;
    const page = await deps.store.listByStatus(status, {
      ...optional('limit', input.limit),
      ...optional('nextToken', position.t),
    });
    const items = page.items.filter((request) => awaitsActor(actingOn(request, actor, deps), request));
    let nextToken: string | undefined;
    if (page.nextToken) nextToken = encodeAwaitingToken({ s: position.s, t: page.nextToken });
    else if (position.s + 1 < AWAITING.length) nextToken = encodeAwaitingToken({ s: position.s + 1 });
    return nextToken ? { items, nextToken } : { items };
  };
}

function awaitsActor(actor: Actor, request: AccessRequest): boolean {
  if (request.requesterId === actor.userId || intersects(actor.personKeys, request.requesterPersonKeys))
    return false;
  if (!intersects(actor.groups, request.snapshot.approverGroups)) return false;
  const approvals =
    request.status === 'EXTENSION_PENDING' ? (request.extension?.approvals ?? []) : request.approvals;
  return !approvals.some(
    (approval) => approval.approverId === actor.userId || intersects(approval.personKeys, actor.personKeys),
  );
}
