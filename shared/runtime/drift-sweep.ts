// The drift sweep as the functions build it (sweep-drift for the daily and CloudTrail-triggered
// sweeps, provision-access for the scheduled re-check): mode and grace from the bundled config,
// first sightings in the access table.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDriftSeenStore } from '#adapters/aws/dynamo-drift-seen.ts';
import type { GrantDeps } from '#app/grants/deps.ts';
import { makeDriftSweep } from '#app/grants/drift.ts';

export function buildDriftSweep(
  grants: GrantDeps & { readonly dynamo: DynamoDBClient },
  accessTable: string,
  options: { readonly paceMs?: number } = {},
) {
  return makeDriftSweep({
    ...grants,
    driftMode: grants.catalog.config.drift.mode,
    graceMs: grants.catalog.config.drift.graceMs,
    seen: new DynamoDriftSeenStore({ client: grants.dynamo, accessTable }),
    ...(options.paceMs === undefined ? {} : { paceMs: options.paceMs }),
  });
}
