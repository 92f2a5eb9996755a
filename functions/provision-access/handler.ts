// The provisioning queue worker (SQS FIFO; one group per assignment tuple, one per permission set
// for its inline-policy edits). Records of a group are handled in order; a failure returns the rest
// of that group for retry while other groups go on. The event source's maximum concurrency keeps
// outstanding Identity Center operations far below its limit of 10.

import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { ProvisioningMessageSchema } from '#app/grants/messages.ts';
import { makeProvisioningWorker } from '#app/grants/provisioning.ts';
import { ValidationError } from '#domain/errors.ts';
import { assertCleanText } from '#domain/text.ts';
import { buildCoreDeps } from '#runtime/aws-deps.ts';
import { buildDriftSweep } from '#runtime/drift-sweep.ts';
import { readEnv } from '#runtime/env.ts';
import { CORE_ENV } from '#runtime/env-names.ts';
import { buildGrantDeps } from '#runtime/grant-deps.ts';
import { formatIssues } from '#runtime/http.ts';
import { logger, metrics, tracer } from '#runtime/powertools.ts';

const env = readEnv({
  ...CORE_ENV,
});
const grants = buildGrantDeps(buildCoreDeps(env));
// The drift sweep's scheduled re-check of one (account, permission set) runs here, in the tuple's
// FIFO group, with the same config-driven mode and grace as the daily sweep.
const driftSweep = buildDriftSweep(grants, env.ACCESS_TABLE_NAME);
const worker = makeProvisioningWorker({
  ...grants,
  recheckDrift: async (scope) => {
    const report = await driftSweep(scope);
    if (report.failures.length > 0) throw new Error(`drift-check failed: ${report.failures[0]?.error}`);
    return report;
  },
});
const processor = new SqsFifoPartialProcessorAsync();

async function handleRecord(record: SQSRecord) {
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch {
    body = undefined;
  }
  assertCleanText(body, 'message');
  const parsed = ProvisioningMessageSchema.safeParse(body);
  if (!parsed.success) throw new ValidationError(formatIssues(parsed.error.issues, 'message'));
  const message = parsed.data;
  logger.appendKeys({ op: message.op, ...('requestId' in message ? { requestId: message.requestId } : {}) });
  const result = await worker(message);
  logger.info('provisioning message processed', { result });
  return result;
}

async function handleBatch(event: SQSEvent, context: Context) {
  return processPartialResponse(event, handleRecord, processor, { context, skipGroupOnError: true });
}

export const handler = middy(handleBatch)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(captureLambdaHandler(tracer, { captureResponse: false }))
  .use(logMetrics(metrics));
