// sweep-drift as wired once, for its handler and its tests: an invocation's input read as a scope
// (shared/adapters/lambda-events/drift-sweep-input.ts), the sweep with the bundled config's mode and
// grace (shared/runtime/drift-sweep.ts), and the verdict: a sweep that failed items or ran out of
// time fails the invocation, so its error alarm fires. Ports in, no environment, no AWS clients.
import type { Logger } from '@aws-lambda-powertools/logger';
import { driftSweepInput } from '#adapters/lambda-events/drift-sweep-input.ts';
import type { DriftReport } from '#app/grants/drift.ts';
import { buildDriftSweep, type ConfiguredDriftSweepDeps } from '#runtime/drift-sweep.ts';

/** The sweep stops taking up pairs this long before the invocation would time out. */
export const SWEEP_STOP_MARGIN_MS = 60_000;

export function buildSweepDrift(deps: ConfiguredDriftSweepDeps, { logger }: { readonly logger: Logger }) {
  const sweep = buildDriftSweep(deps);

  return async function sweepDrift(
    event: unknown,
    invocation: { getRemainingTimeInMillis(): number },
  ): Promise<DriftReport> {
    const { scope, principal } = driftSweepInput(event);
    // Only USER assignments are swept (group assignments are not listed); a GROUP one is logged.
    if (principal) logger.appendKeys(principal);
    logger.appendKeys({ scope });
    const report = await sweep(scope, {
      shouldStop: () => invocation.getRemainingTimeInMillis() < SWEEP_STOP_MARGIN_MS,
    });
    logger.info('drift sweep done', {
      listed: report.listed,
      assignments: report.assignments,
      drift: report.drift,
      withinGrace: report.withinGrace,
      forgotten: report.forgotten,
      truncated: report.truncated,
    });
    if (report.failures.length > 0 || report.truncated) {
      logger.error('drift sweep incomplete', { failures: report.failures, truncated: report.truncated });
      throw new Error(
        `drift sweep incomplete: ${report.failures.length} failure(s), truncated=${report.truncated}`,
      );
    }
    return report;
  };
}
