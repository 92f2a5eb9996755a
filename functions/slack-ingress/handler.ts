// `POST /slack/commands|interactions|events` behind API Gateway (REST, no auth: Slack signs each
// request, and the ingress checks the signature before it reads anything). What a request does is
// wired in ./build.ts; here: the environment, the adapters and the telemetry. To stay within
// Slack's 3 s on a cold start it loads only what the acknowledgement needs: the bundled config,
// SQS (both FIFO queues), Secrets Manager (signing secret, bot token; cached) and views.open — no
// AWS SDK (the two AWS calls are signed HTTP POSTs: #adapters/aws/aws-json-call.ts), no global
// `fetch` (undici's first load alone is more than a bare Node.js start: #adapters/http/node-http-post.ts),
// no DynamoDB, no Identity Store, no @slack/web-api, and no middy or Powertools Logger and Metrics:
// its log lines and EMF metrics are Powertools' format written by #runtime/lean-telemetry.ts, the
// one function that does so. bench/slack-ingress times it.
import { getSecretValue, sendMessage } from '#adapters/aws/aws-json-call.ts';
import { SecretStringProvider } from '#adapters/aws/secret-string-provider.ts';
import { nodeHttpPost } from '#adapters/http/node-http-post.ts';
import { makeOpenView } from '#adapters/slack/open-view.ts';
import { systemClock, ulidGenerator } from '#adapters/system.ts';
import { makeCatalog } from '#app/catalog.ts';
import { slackJobGroup } from '#app/slack/job-keys.ts';
import * as z from '#domain/zod.ts';
import { loadHashCheckedConfig } from '#runtime/bundled-config-text.ts';
import { nonEmpty, readEnv } from '#runtime/env.ts';
import { ENV } from '#runtime/env-names.ts';
import { LeanLogger, LeanMetrics, withLeanTelemetry } from '#runtime/lean-telemetry.ts';
import { buildSlackIngress } from './build.ts';

// Node's modules by process.getBuiltinModule, not `import`: see #adapters/http/node-http-post.ts.
const { isAbsolute, join } = process.getBuiltinModule('node:path');

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
// Integrity only, no shape check: see loadHashCheckedConfig (the commands worker checks both).
const config = loadHashCheckedConfig(configFile);
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

const telemetry = { logger: new LeanLogger(), metrics: new LeanMetrics() };

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
  telemetry,
);

export const handler = withLeanTelemetry(telemetry, slackIngress);
