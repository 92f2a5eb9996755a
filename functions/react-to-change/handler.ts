// The access table's stream: reacts to committed request changes by sending follow-up work
// (start, acquire, release, schedules). Only request items reach it (the event source filters on
// `pk` beginning with REQ#); a failure bisects the batch and retries, then goes to the on-failure
// destination with an alarm. What a batch does is wired in ./build.ts; here: the environment, the
// AWS adapters and the middy chain.

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { buildCoreDeps } from '#runtime/aws-deps.ts';
import { readEnv } from '#runtime/env.ts';
import { CORE_ENV } from '#runtime/env-names.ts';
import { buildGrantDeps } from '#runtime/grant-deps.ts';
import { logger, metrics } from '#runtime/powertools.ts';
import { publishMetrics } from '#runtime/publish-metrics.ts';
import { buildReactToChange } from './build.ts';

const env = readEnv({
  ...CORE_ENV,
});
const reactToStream = buildReactToChange(buildGrantDeps(buildCoreDeps(env)), { logger });

export const handler = middy(reactToStream)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(publishMetrics(metrics));
