// The commands queue worker (SQS FIFO, MessageGroupId = request id). Records of a batch are handled
// in order; after a failure the rest of that request's records are returned for retry, so its
// commands never overtake each other, while other requests' commands go on (skipGroupOnError).
// Each command is processed at most once per delivery within 24 h (Powertools Idempotency on
// DynamoDB, keyed by the sender's id for the occurrence — never by the body, which repeats by
// design), beyond SQS's 5-minute deduplication window. A `start` or `expire` up to a minute early
// waits here until due; an earlier one is a no-op that is not remembered; one this invocation has
// no time left to wait for goes back to the queue, visible again when it is due. What a record does
// is wired in ./build.ts; here: the environment, the AWS adapters (idempotency records, the queue's
// visibility, Slack when the deployment has a bot), the batch processor and the middy chain.

import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { ChangeMessageVisibilityCommand, SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { DeliveryTooEarlyError, type ProcessOptions } from '#app/commands.ts';
import { parseCommandSenders } from '#app/senders.ts';
import { buildCoreDeps } from '#runtime/aws-deps.ts';
import { nonEmpty, readEnv } from '#runtime/env.ts';
import { CORE_ENV, ENV } from '#runtime/env-names.ts';
import { buildGrantDeps } from '#runtime/grant-deps.ts';
import { SLACK_DELIVERY_FAILED_METRIC } from '#runtime/metric-names.ts';
import { logger, metrics } from '#runtime/powertools.ts';
import { publishMetrics } from '#runtime/publish-metrics.ts';
import { buildSlackDeps } from '#runtime/slack-deps.ts';
import { invocationWaiter } from '#runtime/wait.ts';
import { buildProcessCommand } from './build.ts';

const env = readEnv({
  ...CORE_ENV,
  [ENV.IDEMPOTENCY_TABLE_NAME]: nonEmpty,
  [ENV.COMMANDS_QUEUE_URL]: nonEmpty,
  [ENV.COMMAND_SENDERS]: nonEmpty,
});
const sqs = new SQSClient({});
const deps = buildGrantDeps(buildCoreDeps(env), process.env, { sqs });
const idempotency = new IdempotencyConfig({ expiresAfterSeconds: 24 * 60 * 60, eventKeyJmesPath: 'key' });
const persistenceStore = new DynamoDBPersistenceLayer({
  tableName: env.IDEMPOTENCY_TABLE_NAME,
  awsSdkV3Client: deps.dynamo,
});
const slack = buildSlackDeps(deps, env.ACCESS_TABLE_NAME);
const processRecord = buildProcessCommand(deps, {
  senders: parseCommandSenders(env.COMMAND_SENDERS, ENV.COMMAND_SENDERS),
  ...(slack
    ? {
        slack: {
          actors: slack.actors,
          reply: {
            slack: slack.slack,
            undelivered: (why) => {
              // Never the URL or the text: the code Slack gave is enough to see what went wrong.
              logger.warn('Slack answer not delivered', { why });
              metrics.addMetric(SLACK_DELIVERY_FAILED_METRIC, MetricUnit.Count, 1);
            },
          },
        },
      }
    : {}),
  once: (section) => makeIdempotent(section, { persistenceStore, config: idempotency, dataIndexArgument: 0 }),
  logger,
  metrics,
});
const processor = new SqsFifoPartialProcessorAsync();

/** Per invocation: how to wait, and when each too-early group is due. */
let invocation: { options: ProcessOptions; dueByGroup: Map<string, Date> } | undefined;

async function handleRecord(record: SQSRecord) {
  try {
    return await processRecord(
      { body: record.body, senderId: record.attributes.SenderId },
      invocation?.options ?? {},
    );
  } catch (error) {
    if (error instanceof DeliveryTooEarlyError) {
      const group = record.attributes.MessageGroupId ?? '';
      invocation?.dueByGroup.set(group, error.dueAt);
    }
    throw error;
  }
}

/** The records of a too-early group come back when due, not after the queue's visibility timeout. */
async function deferUntilDue(event: SQSEvent, response: SQSBatchResponse, dueByGroup: Map<string, Date>) {
  const failed = new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
  for (const record of event.Records) {
    const due = dueByGroup.get(record.attributes.MessageGroupId ?? '');
    if (!due || !failed.has(record.messageId)) continue;
    const seconds = Math.max(0, Math.ceil((due.getTime() - deps.clock.now().getTime()) / 1000));
    await sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: env.COMMANDS_QUEUE_URL,
        ReceiptHandle: record.receiptHandle,
        VisibilityTimeout: seconds,
      }),
    );
  }
}

async function handleBatch(event: SQSEvent, context: Context) {
  idempotency.registerLambdaContext(context);
  invocation = {
    options: { waitUntil: invocationWaiter(context, deps.clock) },
    dueByGroup: new Map(),
  };
  try {
    // One request's failure must not hold up other requests' commands: skip only its group.
    const response = await processPartialResponse(event, handleRecord, processor, {
      context,
      skipGroupOnError: true,
    });
    if (invocation.dueByGroup.size > 0) await deferUntilDue(event, response, invocation.dueByGroup);
    return response;
  } finally {
    invocation = undefined;
  }
}

export const handler = middy(handleBatch)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(publishMetrics(metrics));
