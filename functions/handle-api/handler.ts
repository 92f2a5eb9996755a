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
import { dispatch, makeV1Routes } from '#adapters/http/v1-api.ts';
import { requestScopedDirectory } from '#adapters/request-scoped-directory.ts';
import { buildCoreDeps } from '#runtime/aws-deps.ts';
import { nonEmpty, readEnv } from '#runtime/env.ts';
import { withNarrowing } from '#runtime/grant-deps.ts';
import { errorResponse, internalErrorSummary } from '#runtime/http.ts';
import { logger, metrics, tracer } from '#runtime/powertools.ts';

const env = readEnv({
  ACCESS_TABLE_NAME: nonEmpty,
  AUDIT_TABLE_NAME: nonEmpty,
  IDENTITY_STORE_ID: nonEmpty,
  PAM_CONFIG_FILE: nonEmpty,
});
// Revocation queues the releases before it commits, so the API needs the provisioning queue too.
const deps = withNarrowing(buildCoreDeps(env));

async function handleApi(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  try {
    const directory = requestScopedDirectory(deps.directory);
    const actorId = await resolveCaller(event.requestContext?.identity, directory, {
      accountId: deps.catalog.config.identityCenter.hubAccountId,
    });
    logger.appendKeys({ actorId });
    return await dispatch(makeV1Routes({ ...deps, directory }), event, actorId);
  } catch (error) {
    // The name and AWS request id only: an internal error's message can echo the caller's input.
    return errorResponse(error, (internal) => logger.error('request failed', internalErrorSummary(internal)));
  } finally {
    logger.removeKeys(['actorId']);
  }
}

export const handler = middy(handleApi)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  // Responses carry reasons, tickets and comments: keep them out of X-Ray.
  .use(captureLambdaHandler(tracer, { captureResponse: false }))
  .use(logMetrics(metrics));
