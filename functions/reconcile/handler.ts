// The reconciler, one pass per invocation (an EventBridge schedule every 5 minutes). It only
// enqueues work (see shared/app/grants/reconcile.ts); the report is logged, and a pass with failed
// items fails the invocation so the function's error alarm fires (the rule does not retry it: the
// next pass re-derives everything anyway). The pass stops taking up work RECONCILE_MARGIN_MS before
// the invocation would time out, and says what it left (log + `ReconcileWorkLeft`), instead of
// being killed mid-way with nothing said.

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { makeReconciler, passDeadline, type ReconcileReport } from '#app/grants/reconcile.ts';
import { ValidationError } from '#domain/errors.ts';
import { buildCoreDeps } from '#runtime/aws-deps.ts';
import { readEnv } from '#runtime/env.ts';
import { CORE_ENV } from '#runtime/env-names.ts';
import { buildGrantDeps } from '#runtime/grant-deps.ts';
import { formatIssues } from '#runtime/http.ts';
import { RECONCILE_WORK_LEFT_METRIC } from '#runtime/metric-names.ts';
import { logger, metrics, tracer } from '#runtime/powertools.ts';

const env = readEnv({
  ...CORE_ENV,
});
const deps = buildGrantDeps(buildCoreDeps(env));
const reconcile = makeReconciler(deps);

const ScheduledEvent = z.looseObject({
  id: z.string().regex(/^[\w-]{1,128}$/, 'expected an event id'),
  'detail-type': z.literal('Scheduled Event'),
});

async function handlePass(event: unknown, context: Context): Promise<ReconcileReport> {
  const parsed = ScheduledEvent.safeParse(event);
  if (!parsed.success) throw new ValidationError(formatIssues(parsed.error.issues, 'event'));
  // The rule's event id: EventBridge keeps it when it retries the invocation.
  const report = await reconcile({
    passId: parsed.data.id,
    deadline: passDeadline(deps.clock.now(), context.getRemainingTimeInMillis()),
  });
  const sent = Object.values(report.sent).reduce((sum, count) => sum + count, 0);
  metrics.addMetric('ReconcileMessagesSent', MetricUnit.Count, sent);
  metrics.addMetric('RevokeNeeded', MetricUnit.Count, report.revokeNeeded.length);
  if (report.truncated) metrics.addMetric('ReconcileTruncated', MetricUnit.Count, 1);
  metrics.addMetric(RECONCILE_WORK_LEFT_METRIC, MetricUnit.Count, report.left.length);
  logger.info('reconcile pass done', { sent: report.sent, skipped: report.skipped, unheld: report.unheld });
  if (report.left.length > 0) {
    // Not a failure: the next pass starts again from what ends access. The metric shows when it
    // persists (PamAlarms.watchReconcileWorkLeft).
    logger.warn('reconcile pass stopped at its time budget; the next pass takes it up again', {
      left: report.left,
    });
  }
  if (report.revokeNeeded.length > 0) {
    // The request records stay live until a system-revoke command exists; access already ends.
    logger.warn('requests of disabled or deleted users', { revokeNeeded: report.revokeNeeded });
  }
  if (report.failures.length > 0) {
    logger.error('reconcile items failed', { failures: report.failures });
    throw new Error(`reconcile: ${report.failures.length} item(s) failed; see the log`);
  }
  return report;
}

export const handler = middy(handlePass)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(captureLambdaHandler(tracer, { captureResponse: false }))
  .use(logMetrics(metrics));
