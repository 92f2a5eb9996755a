// The access table's stream: reacts to committed request changes by sending follow-up work
// (start, acquire, release, schedules). Only request items reach it (the event source filters on
// `pk` beginning with REQ#); a failure bisects the batch and retries, then goes to the on-failure
// destination with an alarm.

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { requestFromImage } from '#adapters/aws/stream-images.ts';
import { makeReactToChange } from '#app/grants/react-to-change.ts';
import { buildCoreDeps } from '#runtime/aws-deps.ts';
import { readEnv } from '#runtime/env.ts';
import { CORE_ENV } from '#runtime/env-names.ts';
import { buildGrantDeps } from '#runtime/grant-deps.ts';
import { logger, metrics, tracer } from '#runtime/powertools.ts';

const env = readEnv({
  ...CORE_ENV,
});
const react = makeReactToChange(buildGrantDeps(buildCoreDeps(env)));

async function handleStream(event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
  // In order; on the first failure report it and everything after it, so order holds on retry.
  for (const [index, record] of event.Records.entries()) {
    try {
      const before = requestFromImage(record.dynamodb?.OldImage);
      const after = requestFromImage(record.dynamodb?.NewImage);
      if (!record.eventID) throw new Error('stream record without an eventID');
      const done = await react(before, after, { by: 'stream', eventId: record.eventID });
      if (done.length > 0) logger.info('reacted', { requestId: after?.id, status: after?.status, done });
    } catch (error) {
      logger.error('reaction failed', { error, sequenceNumber: record.dynamodb?.SequenceNumber });
      return {
        batchItemFailures: event.Records.slice(index).map((failed) => ({
          itemIdentifier: failed.dynamodb?.SequenceNumber ?? '',
        })),
      };
    }
  }
  return { batchItemFailures: [] };
}

export const handler = middy(handleStream)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(captureLambdaHandler(tracer, { captureResponse: false }))
  .use(logMetrics(metrics));
