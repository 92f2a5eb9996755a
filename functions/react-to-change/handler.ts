// The access table's stream: reacts to committed request changes by sending follow-up work
// (start, acquire, release, schedules). Only request items reach it (the event source filters on
// `pk` beginning with REQ#); a failure bisects the batch and retries, then goes to the on-failure
// destination with an alarm. With a Slack bot, each change also asks notify-slack to render the
// request's message again. What a batch does is wired in ./build.ts; here: the environment, the
// AWS adapters and the middy chain.

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import { SqsWorkQueue } from '#adapters/aws/sqs-work-queue.ts';
import * as z from '#domain/zod.ts';
import { buildCoreDeps } from '#runtime/aws-deps.ts';
import { readEnv } from '#runtime/env.ts';
import { CORE_ENV, ENV } from '#runtime/env-names.ts';
import { buildGrantDeps } from '#runtime/grant-deps.ts';
import { logger, metrics } from '#runtime/powertools.ts';
import { publishMetrics } from '#runtime/publish-metrics.ts';
import { buildReactToChange } from './build.ts';

const env = readEnv({
  ...CORE_ENV,
  [ENV.SLACK_QUEUE_URL]: z.optional(z.string()),
});
const sqs = new SQSClient({});
const deps = buildGrantDeps(buildCoreDeps(env), process.env, { sqs });
const reactToStream = buildReactToChange(deps, {
  logger,
  ...(env.SLACK_QUEUE_URL
    ? { slackJobs: new SqsWorkQueue({ client: sqs, queueUrl: env.SLACK_QUEUE_URL }) }
    : {}),
});

export const handler = middy(reactToStream)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(publishMetrics(metrics));
