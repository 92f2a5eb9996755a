// The provisioning queue worker (SQS FIFO; one group per assignment tuple, one per permission set
// for its inline-policy edits). Records of a group are handled in order; a failure returns the rest
// of that group for retry while other groups go on. The event source's maximum concurrency keeps
// outstanding Identity Center operations far below its limit of 10. What a record does is wired in
// ./build.ts; here: the environment, the AWS adapters, the batch processor and the middy chain.

import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { DynamoDriftSeenStore } from '#adapters/aws/dynamo-drift-seen.ts';
import { buildCoreDeps } from '#runtime/aws-deps.ts';
import { readEnv } from '#runtime/env.ts';
import { CORE_ENV } from '#runtime/env-names.ts';
import { buildGrantDeps } from '#runtime/grant-deps.ts';
import { logger, metrics } from '#runtime/powertools.ts';
import { publishMetrics } from '#runtime/publish-metrics.ts';
import { buildProvisionAccess } from './build.ts';

const env = readEnv({
  ...CORE_ENV,
});
const grants = buildGrantDeps(buildCoreDeps(env));
const provisionRecord = buildProvisionAccess(
  // The drift re-check's first sightings, in the access table (SEEN#…).
  {
    ...grants,
    seen: new DynamoDriftSeenStore({ client: grants.dynamo, accessTable: env.ACCESS_TABLE_NAME }),
  },
  { logger },
);
const processor = new SqsFifoPartialProcessorAsync();

async function handleBatch(event: SQSEvent, context: Context) {
  return processPartialResponse(event, (record: SQSRecord) => provisionRecord(record.body), processor, {
    context,
    skipGroupOnError: true,
  });
}

export const handler = middy(handleBatch)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(publishMetrics(metrics));
