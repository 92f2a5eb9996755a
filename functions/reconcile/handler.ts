// The reconciler, one pass per invocation (an EventBridge schedule every 5 minutes). It only
// enqueues work (see shared/app/grants/reconcile.ts); what a pass reports and when it fails the
// invocation is wired in ./build.ts. Here: the environment, the AWS adapters and the middy chain.

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { buildCoreDeps } from '#runtime/aws-deps.ts';
import { readEnv } from '#runtime/env.ts';
import { CORE_ENV } from '#runtime/env-names.ts';
import { buildGrantDeps } from '#runtime/grant-deps.ts';
import { logger, metrics } from '#runtime/powertools.ts';
import { publishMetrics } from '#runtime/publish-metrics.ts';
import { buildReconcile } from './build.ts';

const env = readEnv({
  ...CORE_ENV,
});
const reconcilePass = buildReconcile(buildGrantDeps(buildCoreDeps(env)), { logger, metrics });

export const handler = middy(reconcilePass)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(publishMetrics(metrics));
