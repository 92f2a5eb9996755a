// provision-access as wired once, for its handler and for the tests that stand in for it: a record's
// body parsed as a provisioning message, then the provisioning worker, whose drift re-check is the
// sweep sweep-drift runs (shared/runtime/drift-sweep.ts) scoped to one (account, permission set).
// Ports in, no environment, no AWS clients: handler.ts builds those.
import type { Logger } from '@aws-lambda-powertools/logger';
import { parseProvisioningMessage } from '#adapters/lambda-events/queue-records.ts';
import { makeProvisioningWorker, type ProvisioningResult } from '#app/grants/provisioning.ts';
import { buildDriftSweep, type ConfiguredDriftSweepDeps } from '#runtime/drift-sweep.ts';

export function buildProvisionAccess(
  deps: ConfiguredDriftSweepDeps,
  { logger }: { readonly logger: Logger },
) {
  // The re-check runs in the tuple's FIFO group, with the same config-driven mode and grace as the
  // daily sweep. A pair it could not check fails the message, so it is retried, never dropped.
  const driftSweep = buildDriftSweep(deps);
  const worker = makeProvisioningWorker({
    ...deps,
    recheckDrift: async (scope) => {
      const report = await driftSweep(scope);
      if (report.failures.length > 0) throw new Error(`drift-check failed: ${report.failures[0]?.error}`);
      return report;
    },
  });

  /** One provisioning-queue record, by its body; a malformed one throws (DLQ after retries). */
  return async function provisionRecord(body: string): Promise<ProvisioningResult> {
    const message = parseProvisioningMessage(body);
    logger.appendKeys({
      op: message.op,
      ...('requestId' in message ? { requestId: message.requestId } : {}),
    });
    const result = await worker(message);
    logger.info('provisioning message processed', { result });
    return result;
  };
}
