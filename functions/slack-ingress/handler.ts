// `POST /slack/commands|interactions|events` behind API Gateway (REST, no auth: Slack signs each
// request, and the ingress checks the signature before it reads anything). What a request does is
// wired in ./build.ts; here: the environment, the adapters and the middy chain. To stay within
// Slack's 3 s on a cold start it loads only what the acknowledgement needs: the bundled config,
// SQS (both FIFO queues), Secrets Manager (signing secret, bot token; cached) and views.open — no
// AWS SDK (the two AWS calls are signed HTTP POSTs: #adapters/aws/aws-json-call.ts), no global
// `fetch` (undici's first load alone is more than a bare Node.js start: #adapters/http/node-http-post.ts),
// no DynamoDB, no Identity Store, no @slack/web-api. bench/slack-ingress times it.
import { isAbsolute, join } from 'node:path';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { getSecretValue, sendMessage } from '#adapters/aws/aws-json-call.ts';
import { SecretStringProvider } from '#adapters/aws/secret-string-provider.ts';
import { nodeHttpPost } from '#adapters/http/node-http-post.ts';
import { makeOpenView } from '#adapters/slack/open-view.ts';
import { systemClock, ulidGenerator } from '#adapters/system.ts';
import { makeCatalog } from '#app/catalog.ts';
import { slackJobGroup } from '#app/slack/jobs.ts';
import * as z from '#domain/zod.ts';
import { loadBundledConfig } from '#runtime/bundled-config.ts';
import { nonEmpty, readEnv } from '#runtime/env.ts';
import { ENV } from '#runtime/env-names.ts';
import { logger, metrics } from '#runtime/powertools.ts';
import { publishMetrics } from '#runtime/publish-metrics.ts';
import { buildSlackIngress } from './build.ts';

/**
 * How long a secret is reused: a rotated signing secret or token is picked up within 5 minutes,
 * and Secrets Manager sees at most one read per secret per 5 minutes per warm function.
 */
const SECRET_MAX_AGE_SECONDS = 300;

const env = readEnv({
  [ENV.PAM_CONFIG_FILE]: nonEmpty,
  [ENV.SLACK_SIGNING_SECRET_ARN]: nonEmpty,
  [ENV.SLACK_BOT_TOKEN_ARN]: nonEmpty,
  [ENV.SLACK_API_URL]: z.string().check(z.regex(/^https?:\/\/\S+\/$/, 'expected an http(s) URL ending in /')),
  [ENV.COMMANDS_QUEUE_URL]: nonEmpty,
  [ENV.SLACK_QUEUE_URL]: nonEmpty,
});
const configFile = isAbsolute(env.PAM_CONFIG_FILE)
  ? env.PAM_CONFIG_FILE
  : join(process.env.LAMBDA_TASK_ROOT ?? process.cwd(), env.PAM_CONFIG_FILE);
const config = loadBundledConfig(configFile);
const secrets = new SecretStringProvider((secretId) => getSecretValue({ SecretId: secretId }));

/** One FIFO send: the group orders, the deduplication id (Slack's occurrence) drops a resend. */
async function sendFifo(queueUrl: string, group: string, dedupId: string, body: unknown): Promise<void> {
  await sendMessage({
    QueueUrl: queueUrl,
    MessageGroupId: group,
    MessageDeduplicationId: dedupId,
    MessageBody: JSON.stringify(body),
  });
}

const slackIngress = buildSlackIngress(
  {
    config,
    catalog: makeCatalog(config),
    clock: systemClock,
    ids: ulidGenerator(systemClock),
    signingSecret: () => {
      // The bot token is read alongside (cached the same 5 minutes): the first request that opens a
      // modal then waits for one Secrets Manager round trip, not two in a row. Its failure is the
      // views.open call's to report.
      secrets.getString(env.SLACK_BOT_TOKEN_ARN, SECRET_MAX_AGE_SECONDS).catch(() => undefined);
      return secrets.getString(env.SLACK_SIGNING_SECRET_ARN, SECRET_MAX_AGE_SECONDS);
    },
    openView: makeOpenView({
      apiUrl: env.SLACK_API_URL,
      fetch: nodeHttpPost,
      token: () => secrets.getString(env.SLACK_BOT_TOKEN_ARN, SECRET_MAX_AGE_SECONDS),
    }),
    sendCommand: (command, dedupId) => sendFifo(env.COMMANDS_QUEUE_URL, command.requestId, dedupId, command),
    sendJob: (job, dedupId) => sendFifo(env.SLACK_QUEUE_URL, slackJobGroup(job), dedupId, job),
  },
  { logger, metrics },
);

export const handler = middy(slackIngress)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(publishMetrics(metrics));
