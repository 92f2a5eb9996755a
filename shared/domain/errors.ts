// Domain errors. Each has a stable `code` that callers (HTTP, Slack, CLI) can rely on, and an HTTP
// status the error middleware maps it to. Messages are written for the person acting and never
// contain secrets or internals.

export abstract class PamError extends Error {
  abstract readonly code: string;
  abstract readonly httpStatus: number;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** 400: the input is malformed (a field path names what is wrong). */
export class ValidationError extends PamError {
  readonly code = 'VALIDATION_FAILED';
  readonly httpStatus = 400;
}

/** 400: a config file breaks the contract; `issues` lists every problem with its field path. */
export class ConfigInvalidError extends PamError {
  readonly code = 'CONFIG_INVALID';
  readonly httpStatus = 400;
  constructor(readonly issues: readonly string[]) {
    super(`configuration is invalid:\n  ${issues.join('\n  ')}`);
  }
}

/** 401: the caller could not be mapped to an Identity Store user. */
export class UnauthenticatedError extends PamError {
  readonly code = 'UNAUTHENTICATED';
  readonly httpStatus = 401;
}

/** 403: the requester is not in any of the entitlement's eligible groups. */
export class NotEligibleError extends PamError {
  readonly code = 'NOT_ELIGIBLE';
  readonly httpStatus = 403;
}

/** 403: a person tried to approve (or review) their own request. */
export class SelfApprovalError extends PamError {
  readonly code = 'SELF_APPROVAL';
  readonly httpStatus = 403;
}

/** 403: the approver is another Identity Store user of the same person as the requester. */
export class SamePersonApprovalError extends PamError {
  readonly code = 'SAME_PERSON_APPROVAL';
  readonly httpStatus = 403;
}

/** 403: the approver is not in the snapshot's approver groups at decision time. */
export class NotApproverError extends PamError {
  readonly code = 'NOT_APPROVER';
  readonly httpStatus = 403;
}

/** 409: the approver (or another account of the same person) already approved. */
export class AlreadyApprovedError extends PamError {
  readonly code = 'ALREADY_APPROVED';
  readonly httpStatus = 409;
}

/** 403: the actor may not perform this action on this request (cancel, revoke, review). */
export class ForbiddenActionError extends PamError {
  readonly code = 'FORBIDDEN';
  readonly httpStatus = 403;
}

/** 403: the user is not in a break-glass group of the entitlement. */
export class NotBreakGlassError extends PamError {
  readonly code = 'NOT_BREAK_GLASS';
  readonly httpStatus = 403;
}

/** 400: the requested duration is not positive or exceeds maxDuration / maxTotalDuration. */
export class DurationExceededError extends PamError {
  readonly code = 'DURATION_EXCEEDED';
  readonly httpStatus = 400;
}

/** 400: the entitlement requires a reason and none was given. */
export class ReasonRequiredError extends PamError {
  readonly code = 'REASON_REQUIRED';
  readonly httpStatus = 400;
}

/** 400: the ticket is missing or does not match the entitlement's ticketPattern. */
export class TicketInvalidError extends PamError {
  readonly code = 'TICKET_INVALID';
  readonly httpStatus = 400;
}

/** 400: the target (account) is not one of the entitlement's targets. */
export class InvalidTargetError extends PamError {
  readonly code = 'INVALID_TARGET';
  readonly httpStatus = 400;
}

/** 404: no such request or entitlement (also used when the caller may not see it). */
export class NotFoundError extends PamError {
  readonly code = 'NOT_FOUND';
  readonly httpStatus = 404;
}

/**
 * 409: the action is not allowed in the request's current status (deciding a request that is not
 * pending, cancelling an active grant, …).
 */
export class InvalidTransitionError extends PamError {
  readonly code = 'INVALID_STATE';
  readonly httpStatus = 409;
}

/**
 * 409: the request record claims something its audit chain does not prove (a status, approvals or
 * an expiry written past the decisions that would justify them). Nothing widens; it is audited and
 * alarmed.
 */
export class UnprovenRecordError extends PamError {
  readonly code = 'RECORD_NOT_PROVEN';
  readonly httpStatus = 409;
}

/**
 * 409: the requester already has as many open requests as `limits.maxOpenRequestsPerUser` allows.
 * Not 429: waiting and retrying does not help (API Gateway's own 429 means that) — one of the open
 * requests must be cancelled, decided or ended first, so it is a conflict with the user's state.
 */
export class TooManyOpenRequestsError extends PamError {
  readonly code = 'TOO_MANY_OPEN_REQUESTS';
  readonly httpStatus = 409;
}

/** 409: another decision changed the request first (optimistic concurrency on `version`). */
export class ConcurrentModificationError extends PamError {
  readonly code = 'CONCURRENT_MODIFICATION';
  readonly httpStatus = 409;
}

/** 503: the audit record could not be written, so nothing changed (fail closed). */
export class AuditWriteError extends PamError {
  readonly code = 'AUDIT_UNAVAILABLE';
  readonly httpStatus = 503;
}

export function isPamError(error: unknown): error is PamError {
  return error instanceof PamError;
}
