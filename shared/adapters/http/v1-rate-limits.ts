// The `/v1` edge of the per-caller rate limits (shared/app/rate-limit.ts): which budget a call spends
// and whose it is, read from API Gateway's proxy event before anything else runs, and the 429's
// `Retry-After`. The caller is the Identity Center user name of the signed PamRequester session —
// known without an Identity Store read, so a flood costs the Identity Store nothing once over budget.
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { sessionUserName } from '#adapters/aws/caller-identity.ts';
import { NARROWING_ACTIONS, type RateClass, RateLimitedError } from '#app/rate-limit.ts';

// With or without the stage prefix, as the router accepts it (v1-api.ts `dispatch`).
const NARROWING_ROUTE = new RegExp(`^(?:/[^/]+)?/v1/requests/[^/]+/(?:${NARROWING_ACTIONS.join('|')})/?$`);

/** `narrowing` for the routes that only take access away (they run the same path they are classed by). */
export function rateClassOf(event: Pick<APIGatewayProxyEvent, 'httpMethod' | 'path'>): RateClass {
  return event.httpMethod === 'POST' && NARROWING_ROUTE.test(event.path) ? 'narrowing' : 'standard';
}

/**
 * The user name of the PamRequester session that signed the call, or undefined when the identity is
 * not one (caller resolution then refuses it, before any Identity Store read).
 */
export function rateLimitedCaller(
  event: Pick<APIGatewayProxyEvent, 'requestContext'>,
  hubAccountId: string,
): string | undefined {
  const userArn = (event.requestContext?.identity as { userArn?: unknown } | undefined)?.userArn;
  return typeof userArn === 'string' ? sessionUserName(userArn, 'PamRequester', hubAccountId) : undefined;
}

/** Adds `Retry-After` (seconds until the caller's window ends) to the answer of a RATE_LIMITED error. */
export function withRetryAfter(error: unknown, response: APIGatewayProxyResult): APIGatewayProxyResult {
  if (!(error instanceof RateLimitedError)) return response;
  return { ...response, headers: { ...response.headers, 'retry-after': String(error.retryAfterSeconds) } };
}
