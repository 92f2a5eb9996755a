// reconcile as wired once, for its handler and its tests: the rule's event read as a pass id
// (shared/adapters/lambda-events/reconcile-pass.ts), one reconciler pass bounded by the invocation's
// time left, and the verdict — what it sent and left as metrics and a log line, and a pass with
// failed items fails the invocation so the function's error alarm fires (the rule does not retry it:
// the next pass re-derives everything anyway). Ports in, no environment, no AWS clients.
import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { reconcilePassId } from '#adapters/lambda-events/reconcile-pass.ts';
import type { GrantDeps } from '#app/grants/deps.ts';
import { makeReconciler, passDeadline, type ReconcileReport } from '#app/grants/reconcile.ts';
import { RECONCILE_WORK_LEFT_METRIC } from '#runtime/metric-names.ts';

export function buildReconcile(
  deps: GrantDeps,
  { logger, metrics }: { readonly logger: Logger; readonly metrics: Pick<Metrics, 'addMetric'> },
) {
  const reconcile = makeReconciler(deps);

  return async function reconcilePass(
    event: unknown,
    invocation: { getRemainingTimeInMillis(): number },
  ): Promise<ReconcileReport> {
    const passId = reconcilePassId(event);
    // The pass stops taking up work RECONCILE_MARGIN_MS before the invocation would time out, and
    // says what it left (log + `ReconcileWorkLeft`), instead of being killed mid-way with nothing said.
    const report = await reconcile({
      passId,
      deadline: passDeadline(deps.clock.now(), invocation.getRemainingTimeInMillis()),
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
  };
}
