// The commands queue worker (SQS FIFO, MessageGroupId = request id). Records of a batch are handled
// in order; after a failure the rest of that request's records are returned for retry, so its
// commands never overtake each other, while other requests' commands go on (skipGroupOnError).
// Each command body is processed at most once within 24 h (Powertools Idempotency on DynamoDB),
// beyond SQS's 5-minute deduplication window.

import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { makeProcessCommand, QueueCommandSchema } from '#app/commands.ts';
import { ValidationError } from '#domain/errors.ts';
import { buildCoreDeps } from '#runtime/aws-deps.ts';
import { nonEmpty, readEnv } from '#runtime/env.ts';
import { buildGrantDeps } from '#runtime/grant-deps.ts';
import { formatIssues } from '#runtime/http.ts';
import { logger, metrics, tracer } from '#runtime/powertools.ts';

const env = readEnv({
  ACCESS_TABLE_NAME: nonEmpty,
  AUDIT_TABLE_NAME: nonEmpty,
  IDENTITY_STORE_ID: nonEmpty,
  PAM_CONFIG_FILE: nonEmpty,
  IDEMPOTENCY_TABLE_NAME: nonEmpty,
});
const deps = buildGrantDeps(buildCoreDeps(env));
const processCommand = makeProcessCommand({
  ...deps,
  grants: {
    scheduler: deps.scheduler,
    provisioningQueue: deps.provisioningQueue,
    permissionSets: deps.permissionSets,
  },
});
const idempotency = new IdempotencyConfig({ expiresAfterSeconds: 24 * 60 * 60, eventKeyJmesPath: 'body' });
const persistenceStore = new DynamoDBPersistenceLayer({
  tableName: env.IDEMPOTENCY_TABLE_NAME,
  awsSdkV3Client: deps.dynamo,
});
const processor = new SqsFifoPartialProcessorAsync();

const handleRecord = makeIdempotent(
  async (record: SQSRecord) => {
    let body: unknown;
    try {
      body = JSON.parse(record.body);
    } catch {
      body = undefined;
    }
    const parsed = QueueCommandSchema.safeParse(body);
    if (!parsed.success) {
      // A malformed command can never succeed: fail the record so it lands in the DLQ (and alarms).
      throw new ValidationError(formatIssues(parsed.error.issues, 'command'));
    }
    const command = parsed.data;
    logger.appendKeys({ requestId: command.requestId, action: command.action });
    const result = await processCommand(command);
    if (result.outcome === 'refused') {
      logger.info('command refused', { code: result.code });
      metrics.addMetric('CommandRefused', 'Count', 1);
    } else {
      logger.info('command processed', { outcome: result.outcome, status: result.request.status });
    }
    return { outcome: result.outcome };
  },
  { persistenceStore, config: idempotency },
);

async function handleBatch(event: SQSEvent, context: Context) {
  idempotency.registerLambdaContext(context);
  // One request's failure must not hold up other requests' commands: skip only its group.
  return processPartialResponse(event, handleRecord, processor, { context, skipGroupOnError: true });
}

export const handler = middy(handleBatch)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(captureLambdaHandler(tracer, { captureResponse: false }))
  .use(logMetrics(metrics));
