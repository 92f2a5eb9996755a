// Builds the grant engine's dependencies from AWS adapters, once per cold start, on top of the
// request core's. Environment names are the contract with the CDK service stack.

import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { DynamoDenyLedger } from '#adapters/aws/dynamo-deny-ledger.ts';
import { DynamoTupleStore } from '#adapters/aws/dynamo-tuple-store.ts';
import { EventBridgeScheduler } from '#adapters/aws/eventbridge-scheduler.ts';
import { SsoAdminIdentityCenter } from '#adapters/aws/identity-center.ts';
import { SqsWorkQueue } from '#adapters/aws/sqs-work-queue.ts';
import { permissionSetsFromJson } from '#adapters/permission-sets.ts';
import type { CoreDeps } from '#app/deps.ts';
import type { GrantDeps, GrantMetrics } from '#app/grants/deps.ts';
import { makeNarrowing } from '#app/grants/narrowing.ts';
import * as z from '#domain/zod.ts';
import { nonEmpty, readEnv } from './env.ts';
import { ENV } from './env-names.ts';
import { metrics } from './powertools.ts';

export const grantEnvShape = {
  [ENV.ACCESS_TABLE_NAME]: nonEmpty,
  [ENV.IDENTITY_CENTER_INSTANCE_ARN]: nonEmpty,
  [ENV.PERMISSION_SET_ARNS]: nonEmpty,
  [ENV.COMMANDS_QUEUE_URL]: nonEmpty,
  [ENV.PROVISIONING_QUEUE_URL]: nonEmpty,
  [ENV.COMMANDS_QUEUE_ARN]: nonEmpty,
  [ENV.PROVISIONING_QUEUE_ARN]: nonEmpty,
  [ENV.SCHEDULER_GROUP_NAME]: nonEmpty,
  [ENV.SCHEDULER_ROLE_ARN]: nonEmpty,
  [ENV.SCHEDULES_DLQ_ARN]: z.optional(z.string()),
};

export const powertoolsMetrics: GrantMetrics = {
  count: (name, value = 1) => metrics.addMetric(name, MetricUnit.Count, value),
  latency: (name, ms) => metrics.addMetric(name, MetricUnit.Milliseconds, ms),
  percent: (name, value) => metrics.addMetric(name, MetricUnit.Percent, value),
};

/** SDK clients to use instead of the defaults (tests and the local runtime add middleware). */
export interface GrantClients {
  readonly sqs?: SQSClient;
  readonly ssoAdmin?: SSOAdminClient;
  readonly scheduler?: SchedulerClient;
  readonly sleep?: (ms: number) => Promise<void>;
}

export function buildGrantDeps(
  core: CoreDeps & { dynamo: DynamoDBClient },
  source: NodeJS.ProcessEnv = process.env,
  clients: GrantClients = {},
): GrantDeps & { dynamo: DynamoDBClient } {
  const env = readEnv(grantEnvShape, source);
  const sqs = clients.sqs ?? new SQSClient({});
  const identityCenter = new SsoAdminIdentityCenter({
    client: clients.ssoAdmin ?? new SSOAdminClient({}),
    instanceArn: env.IDENTITY_CENTER_INSTANCE_ARN,
    ...(clients.sleep ? { sleep: clients.sleep } : {}),
  });
  const permissionSets = permissionSetsFromJson(env.PERMISSION_SET_ARNS);
  const provisioningQueue = new SqsWorkQueue({ client: sqs, queueUrl: env.PROVISIONING_QUEUE_URL });
  const grants: GrantDeps & { dynamo: DynamoDBClient } = {
    ...core,
    identityCenter,
    permissionSets,
    tuples: new DynamoTupleStore({ client: core.dynamo, accessTable: env.ACCESS_TABLE_NAME }),
    denies: new DynamoDenyLedger({ client: core.dynamo, accessTable: env.ACCESS_TABLE_NAME }),
    provisioningQueue,
    commandsQueue: new SqsWorkQueue({ client: sqs, queueUrl: env.COMMANDS_QUEUE_URL }),
    scheduler: new EventBridgeScheduler({
      client: clients.scheduler ?? new SchedulerClient({}),
      groupName: env.SCHEDULER_GROUP_NAME,
      roleArn: env.SCHEDULER_ROLE_ARN,
      targets: { commands: env.COMMANDS_QUEUE_ARN, provisioning: env.PROVISIONING_QUEUE_ARN },
      ...(env.SCHEDULES_DLQ_ARN ? { deadLetterArn: env.SCHEDULES_DLQ_ARN } : {}),
      clock: core.clock,
    }),
    sleep: clients.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
    metrics: powertoolsMetrics,
  };
  return { ...grants, beforeAccessEnds: makeNarrowing(grants) };
}

/**
 * For functions that only end access (handle-api's revoke): the releases and the deny are queued
 * before the commit, so they need the permission sets and the provisioning queue, nothing else.
 */
export function withNarrowing<D extends CoreDeps>(core: D, source = process.env): D {
  const env = readEnv(
    { [ENV.PERMISSION_SET_ARNS]: nonEmpty, [ENV.PROVISIONING_QUEUE_URL]: nonEmpty },
    source,
  );
  const narrowing = makeNarrowing({
    permissionSets: permissionSetsFromJson(env.PERMISSION_SET_ARNS),
    provisioningQueue: new SqsWorkQueue({
      client: new SQSClient({}),
      queueUrl: env.PROVISIONING_QUEUE_URL,
    }),
    clock: core.clock,
  });
  return { ...core, beforeAccessEnds: narrowing };
}
