// The commands queue worker (SQS FIFO, MessageGroupId = request id). Records of a batch are handled
// in order; after a failure the rest of that request's records are returned for retry, so its
// commands never overtake each other, while other requests' commands go on (skipGroupOnError).
// Each command is processed at most once per delivery within 24 h (Powertools Idempotency on
// DynamoDB, keyed by the sender's id for the occurrence — never by the body, which repeats by
// design), beyond SQS's 5-minute deduplication window. A `start` or `expire` up to a minute early
// waits here until due; an earlier one is a no-op that is not remembered; one this invocation has
// no time left to wait for goes back to the queue, visible again when it is due.

import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { ChangeMessageVisibilityCommand, SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import {
  DeliveryTooEarlyError,
  deliveryKey,
  makeProcessCommand,
  type ProcessOptions,
  type QueueCommand,
  QueueCommandSchema,
} from '#app/commands.ts';
import { auditRefusedSender, checkSender, parseCommandSenders } from '#app/senders.ts';
import { ValidationError } from '#domain/errors.ts';
import { assertCleanText } from '#domain/text.ts';
import { buildCoreDeps } from '#runtime/aws-deps.ts';
import { nonEmpty, readEnv } from '#runtime/env.ts';
import { CORE_ENV, ENV } from '#runtime/env-names.ts';
import { buildGrantDeps } from '#runtime/grant-deps.ts';
import { formatIssues } from '#runtime/http.ts';
import { COMMAND_SENDER_REFUSED_METRIC } from '#runtime/metric-names.ts';
import { logger, metrics, tracer } from '#runtime/powertools.ts';
import { invocationWaiter } from '#runtime/wait.ts';

const env = readEnv({
  ...CORE_ENV,
  [ENV.IDEMPOTENCY_TABLE_NAME]: nonEmpty,
  [ENV.COMMANDS_QUEUE_URL]: nonEmpty,
  [ENV.COMMAND_SENDERS]: nonEmpty,
});
const senders = parseCommandSenders(env.COMMAND_SENDERS, ENV.COMMAND_SENDERS);
const sqs = tracer.captureAWSv3Client(new SQSClient({}));
const deps = buildGrantDeps(buildCoreDeps(env), process.env, { sqs });
const processCommand = makeProcessCommand({
  ...deps,
  grants: {
    scheduler: deps.scheduler,
    provisioningQueue: deps.provisioningQueue,
    permissionSets: deps.permissionSets,
    tuples: deps.tuples,
  },
});
const idempotency = new IdempotencyConfig({ expiresAfterSeconds: 24 * 60 * 60, eventKeyJmesPath: 'key' });
const persistenceStore = new DynamoDBPersistenceLayer({
  tableName: env.IDEMPOTENCY_TABLE_NAME,
  awsSdkV3Client: deps.dynamo,
});
const processor = new SqsFifoPartialProcessorAsync();

/** Thrown out of the idempotent section so that an early command is not remembered. */
class NotDueYet extends Error {
  constructor(readonly dueAt: string) {
    super(`not due until ${dueAt}`);
    this.name = 'NotDueYet';
  }
}

const processOnce = makeIdempotent(
  async (input: { key: string; command: QueueCommand }, options: ProcessOptions) => {
    const result = await processCommand(input.command, options);
    if (result.outcome === 'not-due') throw new NotDueYet(result.dueAt);
    if (result.outcome === 'refused') {
      logger.info('command refused', { code: result.code });
      metrics.addMetric('CommandRefused', 'Count', 1);
    } else {
      logger.info('command processed', { outcome: result.outcome, status: result.request.status });
    }
    return { outcome: result.outcome };
  },
  { persistenceStore, config: idempotency, dataIndexArgument: 0 },
);

function parseCommand(body: string): QueueCommand {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    raw = undefined;
  }
  // Text that canonical JSON cannot hash faithfully never reaches a use case.
  assertCleanText(raw, 'command');
  const parsed = QueueCommandSchema.safeParse(raw);
  // A malformed command can never succeed: fail the record so it lands in the DLQ (and alarms).
  if (!parsed.success) throw new ValidationError(formatIssues(parsed.error.issues, 'command'));
  return parsed.data;
}

/** Per invocation: how to wait, and when each too-early group is due. */
let invocation: { options: ProcessOptions; dueByGroup: Map<string, Date> } | undefined;

async function handleRecord(record: SQSRecord) {
  const command = parseCommand(record.body);
  logger.appendKeys({ requestId: command.requestId, action: command.action, delivery: command.delivery.by });
  // Who sent it decides whether it is read at all: a decision from anything but an ingress, or an
  // engine fact from anything but the function that knows it, is refused and never retried.
  const verdict = checkSender(command.action, record.attributes.SenderId, senders);
  if (!verdict.accepted) {
    logger.warn('command refused: sender may not send it', {
      senderRoleId: verdict.senderRoleId ?? null,
      sentAs: verdict.sentAs,
    });
    metrics.addMetric(COMMAND_SENDER_REFUSED_METRIC, 'Count', 1);
    await auditRefusedSender(deps, { action: command.action, requestId: command.requestId, verdict });
    return { outcome: 'refused' };
  }
  try {
    return await processOnce({ key: deliveryKey(command), command }, invocation?.options ?? {});
  } catch (error) {
    if (error instanceof NotDueYet) {
      logger.info('command not due yet; not remembered', { dueAt: error.dueAt });
      return { outcome: 'not-due' };
    }
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
  .use(captureLambdaHandler(tracer, { captureResponse: false }))
  .use(logMetrics(metrics));
