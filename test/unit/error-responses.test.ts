// Domain errors say what went wrong (a stable code, and whether it is a policy refusal); the runtime
// says how each answers on HTTP. The classes are found by importing their modules, so an error class
// added without a status, or a refusal that silently stops being one, fails here.
import { describe, expect, it } from 'vitest';
import * as rateLimit from '#app/rate-limit.ts';
import * as domainErrors from '#domain/errors.ts';
import { PamError, PolicyRefusal } from '#domain/errors.ts';
import { HTTP_STATUS_BY_CODE, httpStatusOf } from '#runtime/error-responses.ts';
import { errorResponse } from '#runtime/http.ts';

/**
 * One instance of every concrete PamError class the modules export. Every constructor takes the
 * message (or, for ConfigInvalidError, the issue list) first: an array serves both, as Error turns
 * it into its text. Abstract classes construct without a `code`, and are left out.
 */
function everyPamError(): PamError[] {
  const exported: unknown[] = [...Object.values(domainErrors), ...Object.values(rateLimit)];
  return exported
    .filter((value): value is new (...args: unknown[]) => PamError => {
      return typeof value === 'function' && value.prototype instanceof PamError;
    })
    .map((errorClass) => Reflect.construct(errorClass, [['probe']]) as PamError)
    .filter((error) => typeof error.code === 'string');
}

/** What each code answered on the wire before the statuses left the domain classes. */
const WIRE_STATUS: Record<string, number> = {
  VALIDATION_FAILED: 400,
  CONFIG_INVALID: 400,
  UNAUTHENTICATED: 401,
  NOT_ELIGIBLE: 403,
  SELF_APPROVAL: 403,
  SAME_PERSON_APPROVAL: 403,
  NOT_APPROVER: 403,
  ALREADY_APPROVED: 409,
  FORBIDDEN: 403,
  NOT_BREAK_GLASS: 403,
  DURATION_EXCEEDED: 400,
  REASON_REQUIRED: 400,
  TICKET_INVALID: 400,
  INVALID_TARGET: 400,
  NOT_FOUND: 404,
  INVALID_STATE: 409,
  RECORD_NOT_PROVEN: 409,
  TOO_MANY_OPEN_REQUESTS: 409,
  CONCURRENT_MODIFICATION: 409,
  AUDIT_UNAVAILABLE: 503,
  RATE_LIMITED: 429,
  // New with the Slack bot (no wire status before): a Slack user refused, Slack not configured.
  SLACK_IDENTITY: 403,
  SLACK_NOT_CONFIGURED: 503,
};

describe('error responses', () => {
  it('has an HTTP status for the code of every PamError class, and no status for a code no class has', () => {
    // Prepare
    const codes = everyPamError().map((error) => error.code);

    // Act
    const statuses = Object.fromEntries(codes.map((code) => [code, httpStatusOf({ code } as PamError)]));

    // Assess
    expect(codes).toHaveLength(Object.keys(WIRE_STATUS).length);
    expect(statuses).toEqual(WIRE_STATUS);
    expect(Object.keys(HTTP_STATUS_BY_CODE).sort()).toEqual([...codes].sort());
  });

  it('answers a PamError with its status, code and message', () => {
    // Prepare
    const error = new rateLimit.RateLimitedError('too many; try again in 40 s', 40);

    // Act
    const response = errorResponse(error, () => {
      throw new Error('not internal');
    });

    // Assess
    expect(response.statusCode).toBe(429);
    expect(JSON.parse(response.body)).toEqual({
      error: { code: 'RATE_LIMITED', message: 'too many; try again in 40 s' },
    });
  });

  it('counts as policy refusals every code but races, an unavailable audit log, unknown ids, unknown callers (Slack ones too), Slack not configured and rate limits', () => {
    // Prepare
    const errors = everyPamError();

    // Act
    const refusals = errors.filter((error) => error instanceof PolicyRefusal).map((error) => error.code);
    const others = errors.filter((error) => !(error instanceof PolicyRefusal)).map((error) => error.code);

    // Assess: CONFIG_INVALID is thrown only while loading the config, never by a use case.
    expect(others.sort()).toEqual([
      'AUDIT_UNAVAILABLE',
      'CONCURRENT_MODIFICATION',
      'CONFIG_INVALID',
      'NOT_FOUND',
      'RATE_LIMITED',
      'SLACK_IDENTITY',
      'SLACK_NOT_CONFIGURED',
      'UNAUTHENTICATED',
    ]);
    expect(refusals.sort()).toEqual([
      'ALREADY_APPROVED',
      'DURATION_EXCEEDED',
      'FORBIDDEN',
      'INVALID_STATE',
      'INVALID_TARGET',
      'NOT_APPROVER',
      'NOT_BREAK_GLASS',
      'NOT_ELIGIBLE',
      'REASON_REQUIRED',
      'RECORD_NOT_PROVEN',
      'SAME_PERSON_APPROVAL',
      'SELF_APPROVAL',
      'TICKET_INVALID',
      'TOO_MANY_OPEN_REQUESTS',
      'VALIDATION_FAILED',
    ]);
  });
});
