// The drift sweep (shared/app/grants/drift.ts): daily on a schedule, scoped on a CloudTrail
// `CreateAccountAssignment` call not made by cloud-pam, or invoked directly with a scope by an
// operator (the inputs: shared/adapters/lambda-events/drift-sweep-input.ts). Drift mode and grace
// come from the bundled config, never the environment. The sweep stops a minute before the Lambda
// timeout; items that failed fail the invocation so its alarm fires (./build.ts wires all that).
// Here: the environment, the AWS adapters and the middy chain.

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { DynamoDriftSeenStore } from '#adapters/aws/dynamo-drift-seen.ts';
import { buildCoreDeps } from '#runtime/aws-deps.ts';
import { readEnv } from '#runtime/env.ts';
import { CORE_ENV } from '#runtime/env-names.ts';
import { buildGrantDeps } from '#runtime/grant-deps.ts';
import { logger, metrics } from '#runtime/powertools.ts';
import { publishMetrics } from '#runtime/publish-metrics.ts';
import { buildSweepDrift } from './build.ts';

const env = readEnv({
  ...CORE_ENV,
});
const grants = buildGrantDeps(buildCoreDeps(env));
const sweepDrift = buildSweepDrift(
  // First sightings, in the access table (SEEN#…).
  {
    ...grants,
    seen: new DynamoDriftSeenStore({ client: grants.dynamo, accessTable: env.ACCESS_TABLE_NAME }),
  },
  { logger },
);

export const handler = middy(sweepDrift)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(publishMetrics(metrics));
