// `/v1/*` behind API Gateway (REST, IAM auth): maps the SigV4 caller to an Identity Store user and
// runs the route's use case inline, so a caller learns at once whether a decision was taken.
// One function serves every route: they share the same tables and grants, and one warm function
// means fewer cold starts than one per route.

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { resolveCaller } from '#adapters/aws/caller-identity.ts';
import { DynamoRateCounter } from '#adapters/aws/dynamo-rate-counter.ts';
import { dispatch, makeV1Routes } from '#adapters/http/v1-api.ts';
import { rateClassOf, rateLimitedCaller, withRetryAfter } from '#adapters/http/v1-rate-limits.ts';
import { requestScopedDirectory } from '#adapters/request-scoped-directory.ts';
import { makeAdmitRequest, makeRefusalLimiter } from '#app/rate-limit.ts';
import { buildCoreDeps } from '#runtime/aws-deps.ts';
import { nonEmpty, readEnv } from '#runtime/env.ts';
import { CORE_ENV, ENV } from '#runtime/env-names.ts';
import { withNarrowing } from '#runtime/grant-deps.ts';
import { errorResponse, internalErrorSummary } from '#runtime/http.ts';
import { logger, metrics, tracer } from '#runtime/powertools.ts';

const env = readEnv({
  ...CORE_ENV,
  // Per-caller rate counters live there (keys RATE#…, with TTL).
  [ENV.IDEMPOTENCY_TABLE_NAME]: nonEmpty,
});
// Revocation queues the releases before it commits, so the API needs the provisioning queue too.
const core = withNarrowing(buildCoreDeps(env));
const hubAccountId = core.catalog.config.identityCenter.hubAccountId;
// Each caller's own budgets: one user's flood spends only theirs (shared/app/rate-limit.ts).
const limits = {
  counter: new DynamoRateCounter({ client: core.dynamo, table: env.IDEMPOTENCY_TABLE_NAME }),
  clock: core.clock,
  onCounterFailure: (error: unknown) => logger.warn('rate counters unavailable', internalErrorSummary(error)),
};
const admitRequest = makeAdmitRequest(limits);
const deps = { ...core, refusals: makeRefusalLimiter(limits) };

async function handleApi(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  try {
    // Before anything else runs: a caller over budget costs one counter update, nothing more.
    const caller = rateLimitedCaller(event, hubAccountId);
    if (caller) await admitRequest(caller, rateClassOf(event));
    const directory = requestScopedDirectory(deps.directory);
    const actorId = await resolveCaller(event.requestContext?.identity, directory, {
      accountId: hubAccountId,
    });
    logger.appendKeys({ actorId });
    return await dispatch(makeV1Routes({ ...deps, directory }), event, actorId);
  } catch (error) {
    // The name and AWS request id only: an internal error's message can echo the caller's input.
    return withRetryAfter(
      error,
      errorResponse(error, (internal) => logger.error('request failed', internalErrorSummary(internal))),
    );
  } finally {
    logger.removeKeys(['actorId']);
  }
}

export const handler = middy(handleApi)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  // Responses carry reasons, tickets and comments: keep them out of X-Ray.
  .use(captureLambdaHandler(tracer, { captureResponse: false }))
  .use(logMetrics(metrics));
