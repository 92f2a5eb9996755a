// handle-api as wired once, for its handler and its tests: each caller's rate budget first, then the
// SigV4 caller mapped to an Identity Store user, then the `/v1` route's use case; errors become
// responses that carry a code, never an internal message. Ports in (the per-caller counters
// included), no environment, no AWS clients.
import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { resolveCaller } from '#adapters/aws/caller-identity.ts';
import { dispatch, makeV1Routes } from '#adapters/http/v1-api.ts';
import { rateClassOf, rateLimitedCaller, withRetryAfter } from '#adapters/http/v1-rate-limits.ts';
import { requestScopedDirectory } from '#adapters/request-scoped-directory.ts';
import type { CoreDeps } from '#app/deps.ts';
import { makeAdmitRequest, makeRefusalLimiter } from '#app/rate-limit.ts';
import { makeCreateSlackLinkCode } from '#app/slack/link.ts';
import type { RateCounter } from '#ports/index.ts';
import type { SlackStore } from '#ports/slack.ts';
import { errorResponse, internalErrorSummary } from '#runtime/http.ts';

export function buildHandleApi(
  deps: CoreDeps & { readonly rateCounter: RateCounter; readonly slackStore?: SlackStore },
  { logger }: { readonly logger: Logger },
) {
  const hubAccountId = deps.catalog.config.identityCenter.hubAccountId;
  // Each caller's own budgets: one user's flood spends only theirs (shared/app/rate-limit.ts).
  const limits = {
    counter: deps.rateCounter,
    clock: deps.clock,
    onCounterFailure: (error: unknown) =>
      logger.warn('rate counters unavailable', internalErrorSummary(error)),
  };
  const admitRequest = makeAdmitRequest(limits);
  // `pam slack link` codes, only where Slack is configured (else the route answers 503).
  const createSlackLinkCode =
    deps.catalog.config.slack && deps.slackStore
      ? makeCreateSlackLinkCode({ slackStore: deps.slackStore, audit: deps.audit, clock: deps.clock })
      : undefined;
  const routeDeps = { ...deps, refusals: makeRefusalLimiter(limits), createSlackLinkCode };

  return async function handleApi(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
    try {
      // Before anything else runs: a caller over budget costs one counter update, nothing more.
      const caller = rateLimitedCaller(event, hubAccountId);
      if (caller) await admitRequest(caller, rateClassOf(event));
      const directory = requestScopedDirectory(routeDeps.directory);
      const actorId = await resolveCaller(event.requestContext?.identity, directory, {
        accountId: hubAccountId,
      });
      logger.appendKeys({ actorId });
      return await dispatch(makeV1Routes({ ...routeDeps, directory }), event, actorId);
    } catch (error) {
      // The name and AWS request id only: an internal error's message can echo the caller's input.
      return withRetryAfter(
        error,
        errorResponse(error, (internal) => logger.error('request failed', internalErrorSummary(internal))),
      );
    } finally {
      logger.removeKeys(['actorId']);
    }
  };
}
