// Domain errors. Each has a stable `code` that callers (HTTP, Slack, CLI) can rely on; how a code
// answers on a channel (its HTTP status, …) is the runtime's business (shared/runtime/
// error-responses.ts). A `PolicyRefusal` is the policy, the state machine or the request's own
// content saying no to what the actor asked: the use cases audit those. Messages are written for the
// person acting and never contain secrets or internals.

export abstract class PamError extends Error {
  abstract readonly code: string;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * A decision about what the actor asked: audited as `request.rejected` (shared/app/rejections.ts).
 * Not refusals: races (another decision won), an unavailable audit log, unknown ids and callers, and
 * rate limits — none says anything about the actor's request.
 */
export abstract class PolicyRefusal extends PamError {}

/** The input is malformed (a field path names what is wrong). */
export class ValidationError extends PolicyRefusal {
  readonly code = 'VALIDATION_FAILED';
}

/**
 * A config file breaks the contract; `issues` lists every problem with its field path. Thrown while
 * loading the config (synth, cold start), never by a use case.
 */
export class ConfigInvalidError extends PamError {
  readonly code = 'CONFIG_INVALID';
  constructor(readonly issues: readonly string[]) {
    super(`configuration is invalid:\n  ${issues.join('\n  ')}`);
  }
}

/** The caller could not be mapped to an Identity Store user. */
export class UnauthenticatedError extends PamError {
  readonly code = 'UNAUTHENTICATED';
}

/** The requester is not in any of the entitlement's eligible groups. */
export class NotEligibleError extends PolicyRefusal {
  readonly code = 'NOT_ELIGIBLE';
}

/** A person tried to approve (or review) their own request. */
export class SelfApprovalError extends PolicyRefusal {
  readonly code = 'SELF_APPROVAL';
}

/** The approver is another Identity Store user of the same person as the requester. */
export class SamePersonApprovalError extends PolicyRefusal {
  readonly code = 'SAME_PERSON_APPROVAL';
}

/** The approver is not in the snapshot's approver groups at decision time. */
export class NotApproverError extends PolicyRefusal {
  readonly code = 'NOT_APPROVER';
}

/** The approver (or another account of the same person) already approved. */
export class AlreadyApprovedError extends PolicyRefusal {
  readonly code = 'ALREADY_APPROVED';
}

/** The actor may not perform this action on this request (cancel, revoke, review). */
export class ForbiddenActionError extends PolicyRefusal {
  readonly code = 'FORBIDDEN';
}

/** The user is not in a break-glass group of the entitlement. */
export class NotBreakGlassError extends PolicyRefusal {
  readonly code = 'NOT_BREAK_GLASS';
}

/** The requested duration is not positive or exceeds maxDuration / maxTotalDuration. */
export class DurationExceededError extends PolicyRefusal {
  readonly code = 'DURATION_EXCEEDED';
}

/** The entitlement requires a reason and none was given. */
export class ReasonRequiredError extends PolicyRefusal {
  readonly code = 'REASON_REQUIRED';
}

/** The ticket is missing or does not match the entitlement's ticketPattern. */
export class TicketInvalidError extends PolicyRefusal {
  readonly code = 'TICKET_INVALID';
}

/** The target (account) is not one of the entitlement's targets. */
export class InvalidTargetError extends PolicyRefusal {
  readonly code = 'INVALID_TARGET';
}

/** No such request or entitlement (also used when the caller may not see it). */
export class NotFoundError extends PamError {
  readonly code = 'NOT_FOUND';
}

/**
 * The action is not allowed in the request's current status (deciding a request that is not
 * pending, cancelling an active grant, …).
 */
export class InvalidTransitionError extends PolicyRefusal {
  readonly code = 'INVALID_STATE';
}

/**
 * The request record claims something its audit chain does not prove (a status, approvals or
 * an expiry written past the decisions that would justify them). Nothing widens; it is audited and
 * alarmed.
 */
export class UnprovenRecordError extends PolicyRefusal {
  readonly code = 'RECORD_NOT_PROVEN';
}

/**
 * The requester already has as many open requests as `limits.maxOpenRequestsPerUser` allows.
 * Waiting and retrying does not help: one of the open requests must be cancelled, decided or ended
 * first, so it is a conflict with the user's state, not a rate limit.
 */
export class TooManyOpenRequestsError extends PolicyRefusal {
  readonly code = 'TOO_MANY_OPEN_REQUESTS';
}

/** Why a Slack user may not act through the bot. */
export type SlackRefusalReason =
  | 'workspace'
  | 'guest'
  | 'external'
  | 'deleted'
  | 'bot'
  | 'no-identity'
  | 'not-linked';

/**
 * A Slack user cloud-pam will not act for: a workspace outside the allow-list, a guest, a Slack
 * Connect user of another organization, or a Slack account bound to no Identity Store user.
 */
export class SlackIdentityError extends PamError {
  readonly code = 'SLACK_IDENTITY';
  constructor(
    readonly reason: SlackRefusalReason,
    message: string,
  ) {
    super(message);
  }
}

/** A Slack command reached a deployment without a `slack` config section. */
export class SlackNotConfiguredError extends PamError {
  readonly code = 'SLACK_NOT_CONFIGURED';
  constructor() {
    super('Slack is not configured for this cloud-pam deployment');
  }
}

/**
 * Nothing changed, and trying again may go through: a race lost to another decision, an audit log
 * that could not be written. Queue workers let these retry; every other error is a final answer.
 */
export abstract class RetryableError extends PamError {}

/** Another decision changed the request first (optimistic concurrency on `version`). */
export class ConcurrentModificationError extends RetryableError {
  readonly code = 'CONCURRENT_MODIFICATION';
}

/** The audit record could not be written, so nothing changed (fail closed). */
export class AuditWriteError extends RetryableError {
  readonly code = 'AUDIT_UNAVAILABLE';
}

export function isPamError(error: unknown): error is PamError {
  return error instanceof PamError;
}
