// The Slack work queue worker (SQS FIFO: renders grouped by request id, a user's Slack work by user):
// approval messages posted and updated in place from each request's current state, the requester's
// DMs, the request modal, `/pam list`, `/pam link` and App Home. Each job is done at most once per
// Slack occurrence within 24 h (Powertools Idempotency), beyond SQS's 5-minute deduplication window.
// What a record does is wired in ./build.ts and shared/app/slack/notify.ts; here: the environment,
// the AWS adapters, the batch processor and the middy chain.
import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { SLACK_WORK_MAX_RECEIVES } from '#app/slack/jobs.ts';
import { makeConsumeSlackLinkCode } from '#app/slack/link.ts';
import { makeEntitlementsFor, makeSlackLists, makeSlackWorker } from '#app/slack/notify.ts';
import { buildCoreDeps } from '#runtime/aws-deps.ts';
import { nonEmpty, readEnv } from '#runtime/env.ts';
import { CORE_ENV, ENV } from '#runtime/env-names.ts';
import { logger, metrics } from '#runtime/powertools.ts';
import { publishMetrics } from '#runtime/publish-metrics.ts';
import { buildSlackDeps } from '#runtime/slack-deps.ts';
import { buildNotifySlack, parseSlackJobSenders } from './build.ts';

const env = readEnv({
  ...CORE_ENV,
  [ENV.IDEMPOTENCY_TABLE_NAME]: nonEmpty,
  [ENV.SLACK_JOB_SENDERS]: nonEmpty,
});
const core = buildCoreDeps(env);
const slack = buildSlackDeps(core, env.ACCESS_TABLE_NAME);
if (!slack) throw new Error('notify-slack needs a config with a slack section');
const worker = makeSlackWorker({
  store: core.store,
  catalog: core.catalog,
  slack: slack.slack,
  slackStore: slack.slackStore,
  directory: core.directory,
  actors: slack.actors,
  lists: makeSlackLists(core),
  entitlementsFor: makeEntitlementsFor(core),
  linkCodes: {
    consume: makeConsumeSlackLinkCode({
      config: slack.config,
      slack: slack.slack,
      slackStore: slack.slackStore,
      directory: core.directory,
      audit: core.audit,
      clock: core.clock,
    }),
  },
  clock: core.clock,
  log: {
    info: (message, fields) => logger.info(message, fields ?? {}),
    warn: (message, fields) => logger.warn(message, fields ?? {}),
  },
});
const idempotency = new IdempotencyConfig({ expiresAfterSeconds: 24 * 60 * 60, eventKeyJmesPath: 'key' });
const persistenceStore = new DynamoDBPersistenceLayer({
  tableName: env.IDEMPOTENCY_TABLE_NAME,
  awsSdkV3Client: core.dynamo,
});
const processRecord = buildNotifySlack({
  senders: parseSlackJobSenders(env.SLACK_JOB_SENDERS, ENV.SLACK_JOB_SENDERS),
  handle: (job) => worker.handle(job),
  once: (section) => makeIdempotent(section, { persistenceStore, config: idempotency, dataIndexArgument: 0 }),
  maxReceiveCount: SLACK_WORK_MAX_RECEIVES,
  logger,
  metrics,
});
const processor = new SqsFifoPartialProcessorAsync();

function handleRecord(record: SQSRecord) {
  return processRecord({
    body: record.body,
    senderId: record.attributes.SenderId,
    receiveCount: Number(record.attributes.ApproximateReceiveCount ?? '1'),
  });
}

async function handleBatch(event: SQSEvent, context: Context) {
  idempotency.registerLambdaContext(context);
  // One request's failed render must not hold up other requests' messages: skip only its group.
  return processPartialResponse(event, handleRecord, processor, { context, skipGroupOnError: true });
}

export const handler = middy(handleBatch)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(publishMetrics(metrics));
