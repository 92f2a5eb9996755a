// How each PamError code answers on HTTP. The domain names what went wrong; the status is a choice
// of this edge, made once here. The table is typed by the codes of every PamError class, so a class
// added without a status does not compile (and test/unit/error-responses.test.ts checks it at run
// time). The statuses are the public contract in docs/api.md §6: change neither alone.
import type { RateLimitedError } from '#app/rate-limit.ts';
import type * as domainErrors from '#domain/errors.ts';
import type { PamError } from '#domain/errors.ts';

/** The literal `code` of an error class; never for an abstract one, whose code is any string. */
type CodeOf<C> = C extends abstract new (
  ...args: never
) => infer E
  ? E extends PamError
    ? string extends E['code']
      ? never
      : E['code']
    : never
  : never;

export type PamErrorCode =
  | CodeOf<(typeof domainErrors)[keyof typeof domainErrors]>
  | RateLimitedError['code'];

export const HTTP_STATUS_BY_CODE: { readonly [Code in PamErrorCode]: number } = {
  VALIDATION_FAILED: 400,
  // Never reaches /v1 (the config is checked at synth and cold start); kept for the contract.
  CONFIG_INVALID: 400,
  DURATION_EXCEEDED: 400,
  REASON_REQUIRED: 400,
  TICKET_INVALID: 400,
  INVALID_TARGET: 400,
  UNAUTHENTICATED: 401,
  NOT_ELIGIBLE: 403,
  NOT_BREAK_GLASS: 403,
  SELF_APPROVAL: 403,
  SAME_PERSON_APPROVAL: 403,
  NOT_APPROVER: 403,
  FORBIDDEN: 403,
  SLACK_IDENTITY: 403,
  NOT_FOUND: 404,
  ALREADY_APPROVED: 409,
  INVALID_STATE: 409,
  RECORD_NOT_PROVEN: 409,
  // Not 429: waiting does not help (API Gateway's own 429 means it would); one of the user's open
  // requests must end first, so it is a conflict with the user's state.
  TOO_MANY_OPEN_REQUESTS: 409,
  CONCURRENT_MODIFICATION: 409,
  RATE_LIMITED: 429,
  AUDIT_UNAVAILABLE: 503,
  SLACK_NOT_CONFIGURED: 503,
};

/**
 * The status a PamError answers with. A code missing from the table (a class the type above cannot
 * see) answers 500, like any error this edge does not know: never a status guessed for it.
 */
export function httpStatusOf(error: PamError): number {
  return (HTTP_STATUS_BY_CODE as Readonly<Record<string, number>>)[error.code] ?? 500;
}
