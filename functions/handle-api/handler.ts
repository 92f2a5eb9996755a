// `/v1/*` behind API Gateway (REST, IAM auth): maps the SigV4 caller to an Identity Store user and
// runs the route's use case inline, so a caller learns at once whether a decision was taken.
// One function serves every route: they share the same tables and grants, and one warm function
// means fewer cold starts than one per route. What a call does is wired in ./build.ts; here: the
// environment, the AWS adapters and the middy chain.

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { DynamoRateCounter } from '#adapters/aws/dynamo-rate-counter.ts';
import { DynamoSlackStore } from '#adapters/aws/dynamo-slack-store.ts';
import { buildCoreDeps } from '#runtime/aws-deps.ts';
import { nonEmpty, readEnv } from '#runtime/env.ts';
import { CORE_ENV, ENV } from '#runtime/env-names.ts';
import { withNarrowing } from '#runtime/grant-deps.ts';
import { logger, metrics } from '#runtime/powertools.ts';
import { publishMetrics } from '#runtime/publish-metrics.ts';
import { buildHandleApi } from './build.ts';

const env = readEnv({
  ...CORE_ENV,
  // Per-caller rate counters live there (keys RATE#…, with TTL).
  [ENV.IDEMPOTENCY_TABLE_NAME]: nonEmpty,
});
// Revocation queues the releases before it commits, so the API needs the provisioning queue too.
const core = withNarrowing(buildCoreDeps(env));
const handleApi = buildHandleApi(
  {
    ...core,
    rateCounter: new DynamoRateCounter({ client: core.dynamo, table: env.IDEMPOTENCY_TABLE_NAME }),
    // `pam slack link` codes (SLACKCODE# keys in the access table).
    slackStore: new DynamoSlackStore({ client: core.dynamo, accessTable: env.ACCESS_TABLE_NAME }),
  },
  { logger },
);

export const handler = middy(handleApi)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(publishMetrics(metrics));
