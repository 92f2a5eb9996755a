// Builds the request core's dependencies from AWS adapters, once per cold start. A bad bundled
// config fails the cold start loudly (see bundled-config.ts).
import { isAbsolute, join } from 'node:path';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { DynamoAccessStore } from '#adapters/aws/dynamo-access-store.ts';
import { DynamoAuditLog } from '#adapters/aws/dynamo-audit-log.ts';
import { IdentityStoreDirectory } from '#adapters/aws/identity-store-directory.ts';
import { systemClock, ulidGenerator } from '#adapters/system.ts';
import { makeCatalog } from '#app/catalog.ts';
import type { CoreDeps } from '#app/deps.ts';
import type { Clock } from '#ports/index.ts';
import { loadBundledConfig } from './bundled-config.ts';
import type { CORE_ENV } from './env-names.ts';
import { REJECTION_AUDIT_FAILED_METRIC, UNPROVEN_ACCESS_METRIC } from './metric-names.ts';
import { logger, metrics } from './powertools.ts';

/** What `CORE_ENV` reads (the contract's names as keys). */
export type CoreEnv = { readonly [K in keyof typeof CORE_ENV]: string };

export function configPath(file: string): string {
  if (isAbsolute(file)) return file;
  return join(process.env.LAMBDA_TASK_ROOT ?? process.cwd(), file);
}

/** SDK clients to use instead of the defaults (tests and the local runtime add middleware). */
export interface CoreClients {
  readonly dynamo?: DynamoDBClient;
  readonly identityStore?: IdentitystoreClient;
  /** The local runtime and tests move time; functions use the system clock. */
  readonly clock?: Clock;
}

export function buildCoreDeps(
  env: CoreEnv,
  clients: CoreClients = {},
): CoreDeps & { dynamo: DynamoDBClient } {
  const config = loadBundledConfig(configPath(env.PAM_CONFIG_FILE));
  const dynamo = clients.dynamo ?? new DynamoDBClient({});
  const identityStore = clients.identityStore ?? new IdentitystoreClient({});
  const clock = clients.clock ?? systemClock;
  const ids = ulidGenerator(clock);
  return {
    dynamo,
    store: new DynamoAccessStore({
      client: dynamo,
      accessTable: env.ACCESS_TABLE_NAME,
      auditTable: env.AUDIT_TABLE_NAME,
      ids,
    }),
    audit: new DynamoAuditLog({ client: dynamo, auditTable: env.AUDIT_TABLE_NAME, ids }),
    directory: new IdentityStoreDirectory({
      client: identityStore,
      identityStoreId: env.IDENTITY_STORE_ID,
      groupIds: config.identityCenter.groupIds,
    }),
    catalog: makeCatalog(config),
    clock,
    ids,
    diagnostics: {
      auditOfRejectionFailed({ action, code, requestId, error }) {
        // Alarmed on (PamAlarms.watchRejectionAudit); the refusal itself still stood.
        logger.error('could not audit a refused action', { action, code, requestId, error });
        metrics.addMetric(REJECTION_AUDIT_FAILED_METRIC, MetricUnit.Count, 1);
      },
      unprovenAccessRefused({ check, requestId, problems }) {
        // Alarmed on (PamAlarms): a tampered record or a forged message was refused.
        logger.error('access refused: not proven by the audit chain', { check, requestId, problems });
        metrics.addMetric(UNPROVEN_ACCESS_METRIC, MetricUnit.Count, 1);
      },
    },
  };
}
