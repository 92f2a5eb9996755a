// A cloud-pam hub inside one moto account, for tests that drive the real handlers in-process:
// tables, an Identity Store with demo people and groups, a config file, and the environment the
// deployed functions get. The handlers' SDK clients reach moto through AWS_ENDPOINT_URL with an IAM
// access key created in this account, which is how moto attributes their calls to it (no header
// injection inside production code).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateAccessKeyCommand, CreateRoleCommand, CreateUserCommand, IAMClient } from '@aws-sdk/client-iam';
import {
  CreateGroupCommand,
  CreateGroupMembershipCommand,
  CreateUserCommand as CreateIdentityUserCommand,
  IdentitystoreClient,
} from '@aws-sdk/client-identitystore';
import { CreateScheduleGroupCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { CreatePermissionSetCommand, SSOAdminClient } from '@aws-sdk/client-sso-admin';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { DynamoAuditLog } from '#adapters/aws/dynamo-audit-log.ts';
import { ulidGenerator } from '#adapters/system.ts';
import type { CommandSenders } from '#app/senders.ts';
import { parseConfig } from '#config/load.ts';
import { bundledConfigText } from '#runtime/bundled-config.ts';
import { ENV } from '#runtime/env-names.ts';
import { type FakeIdentityCenter, startFakeIdentityCenter } from '../../local/fake-identity-center.ts';
import { createIdentityCenterFixture } from './identity-center.ts';
import { MOTO_REGION, motoClient, motoEndpoint, testAccountId } from './moto.ts';
import { createTables, testTableNames } from './tables.ts';

export const PEOPLE = {
  alice: { groups: ['engineers'] },
  erin: { groups: ['engineers'] },
  bob: { groups: ['cloud-ops'] },
  carol: { groups: ['cloud-ops'] },
  dave: { groups: ['pam-admins'] },
  mallory: { groups: [] as string[] },
} as const;
export type Person = keyof typeof PEOPLE;
const GROUPS = ['engineers', 'cloud-ops', 'pam-admins'] as const;

export const DEV_ACCOUNT = '333333333333';
export const PROD_ACCOUNT = '444444444444';
export const DEV2_ACCOUNT = '555555555555';
const MANAGEMENT_ACCOUNT = '222222222222';

/** The source config, in the form of infra/config/example.yaml. */
function configDocument(hubAccountId: string, identityStoreId: string, groupIds: Record<string, string>) {
  return {
    identityCenter: {
      instanceArn: 'arn:aws:sso:::instance/ssoins-7223a1b2c3d4e5f6',
      identityStoreId,
      hubAccountId,
      managementAccountId: MANAGEMENT_ACCOUNT,
      organizationId: 'o-a1b2c3d4e5',
      groupIds,
    },
    admins: ['pam-admins'],
    drift: { mode: 'remove' },
    entitlements: [
      {
        id: 'dev-readonly',
        title: 'Read-only in dev',
        kind: 'aws-role',
        target: {
          accounts: [DEV_ACCOUNT, DEV2_ACCOUNT],
          permissionSet: { name: 'DevReadOnly', managedPolicies: ['ReadOnlyAccess'] },
        },
        eligible: ['engineers'],
        approval: { approvers: ['cloud-ops'], required: 1 },
        maxDuration: 'PT4H',
        requireReason: true,
      },
      {
        id: 'prod-admin',
        title: 'Administrator in prod',
        kind: 'aws-role',
        target: {
          accounts: [PROD_ACCOUNT],
          permissionSet: { name: 'ProdAdmin', managedPolicies: ['AdministratorAccess'] },
        },
        eligible: ['engineers'],
        approval: { approvers: ['cloud-ops'], required: 2 },
        maxDuration: 'PT2H',
        maxTotalDuration: 'PT4H',
        requireReason: true,
        ticketPattern: '^OPS-[0-9]{1,6}$',
        breakGlass: ['cloud-ops'],
        strictExpiry: true,
        privileged: true,
      },
    ],
  };
}

/** The roles of the world: each engine function's execution role, and the Scheduler's. */
export const WORLD_ROLES = [
  'handle-api',
  'process-command',
  'provision-access',
  'react-to-change',
  'reconcile',
  'sweep-drift',
  'scheduler',
] as const;
export type WorldRole = (typeof WORLD_ROLES)[number];

export interface PamWorld {
  readonly accountId: string;
  /** ARN and role id (`AROA…`) of each role; `env.COMMAND_SENDERS` names them by what they send. */
  readonly roles: Readonly<Record<WorldRole, { readonly arn: string; readonly id: string }>>;
  /** The IAM user whose keys `env` carries (a person's or a test's identity, not a function's). */
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** The environment the deployed functions get (also set on this process, for in-process handlers). */
  readonly env: Readonly<Record<string, string>>;
  readonly identityStoreId: string;
  readonly userIds: Readonly<Record<Person, string>>;
  readonly dynamo: DynamoDBClient;
  readonly identityStore: IdentitystoreClient;
  readonly tables: ReturnType<typeof testTableNames>;
  readonly configFile: string;
  /**
   * Identity Center for the engine: the fake with AWS's documented semantics (local/fake-identity-center.ts;
   * moto cannot show per-account provisioning, deletions that take time, or what a session may do),
   * on the instance and identity store moto made for this account. Its clock is `Date.now` until a
   * harness sets its own (`useClock`).
   */
  readonly identityCenter: {
    readonly fake: FakeIdentityCenter;
    /** An SSO Admin client on the fake. */
    readonly client: SSOAdminClient;
    readonly instanceArn: string;
    readonly identityStoreId: string;
  };
  /** Drives the fake Identity Center's clock (epoch milliseconds). */
  useClock(now: () => number): void;
  stop(): Promise<void>;
  readonly permissionSetArns: Readonly<Record<string, string>>;
  readonly sqs: SQSClient;
  readonly scheduler: SchedulerClient;
  readonly queues: {
    readonly commands: QueueRef;
    readonly provisioning: QueueRef;
    /** Their dead-letter queues (redrive after 5 and 10 receives, as the service stack sets). */
    readonly commandsDlq: QueueRef;
    readonly provisioningDlq: QueueRef;
    /** The access stream's on-failure destination and the schedules' dead-letter queue. */
    readonly streamFailures: QueueRef;
    readonly scheduleDlq: QueueRef;
  };
}

export interface QueueRef {
  readonly url: string;
  readonly arn: string;
}

export const SCHEDULE_GROUP = 'cloud-pam';

/** Creates the hub in a fresh moto account and points this process's AWS environment at it. */
/** The world's audit table, read the way cloud-pam reads it (chains, heads, verification). */
export function auditLogOf(world: PamWorld): DynamoAuditLog {
  return new DynamoAuditLog({ client: world.dynamo, auditTable: world.tables.audit, ids: ulidGenerator() });
}

export async function createPamWorld(): Promise<PamWorld> {
  const accountId = testAccountId();
  const iam = motoClient(IAMClient, accountId);
  await iam.send(new CreateUserCommand({ UserName: 'pam-handlers' }));
  const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: 'pam-handlers' }));
  if (!AccessKey?.AccessKeyId || !AccessKey.SecretAccessKey) throw new Error('moto returned no access key');
  // Each function's execution role and the Scheduler's, as the service stack creates them: the
  // harness runs every function under its own role, so the commands worker sees who sent what.
  const roles = {} as Record<WorldRole, { readonly arn: string; readonly id: string }>;
  for (const name of WORLD_ROLES) {
    const service = name === 'scheduler' ? 'scheduler.amazonaws.com' : 'lambda.amazonaws.com';
    const { Role } = await iam.send(
      new CreateRoleCommand({
        RoleName: `pam-${name}`,
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }],
        }),
      }),
    );
    if (!Role?.Arn || !Role.RoleId) throw new Error('moto returned no role');
    roles[name] = { arn: Role.Arn, id: Role.RoleId };
  }
  const senders: CommandSenders = {
    ingress: [roles['handle-api'].id],
    scheduler: [roles.scheduler.id],
    'provision-access': [roles['provision-access'].id],
    'react-to-change': [roles['react-to-change'].id],
    reconcile: [roles.reconcile.id],
  };

  const dynamo = motoClient(DynamoDBClient, accountId);
  const tables = testTableNames();
  await createTables(dynamo, tables);

  const moto = await createIdentityCenterFixture(accountId);
  let clockNow: () => number = Date.now;
  const fake = await startFakeIdentityCenter({
    instanceArn: moto.instanceArn,
    identityStoreId: moto.identityStoreId,
    now: () => clockNow(),
  });
  const ssoAdmin = new SSOAdminClient({
    endpoint: fake.endpoint,
    region: MOTO_REGION,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    maxAttempts: 1,
  });
  const identityCenter = {
    fake,
    client: ssoAdmin,
    instanceArn: moto.instanceArn,
    identityStoreId: moto.identityStoreId,
  };
  moto.client.destroy();
  const identityStore = motoClient(IdentitystoreClient, accountId);
  const identityStoreId = identityCenter.identityStoreId;
  const groupIds: Record<string, string> = {};
  for (const group of GROUPS) {
    const { GroupId } = await identityStore.send(
      new CreateGroupCommand({ IdentityStoreId: identityStoreId, DisplayName: group }),
    );
    if (!GroupId) throw new Error('moto returned no GroupId');
    groupIds[group] = GroupId;
  }
  const userIds = {} as Record<Person, string>;
  for (const [name, person] of Object.entries(PEOPLE) as [Person, (typeof PEOPLE)[Person]][]) {
    const { UserId } = await identityStore.send(
      new CreateIdentityUserCommand({
        IdentityStoreId: identityStoreId,
        UserName: name,
        DisplayName: name,
        Name: { GivenName: name, FamilyName: 'Demo' },
        Emails: [{ Value: `${name}@example.com`, Type: 'work', Primary: true }],
      }),
    );
    if (!UserId) throw new Error('moto returned no UserId');
    userIds[name] = UserId;
    for (const group of person.groups) {
      await identityStore.send(
        new CreateGroupMembershipCommand({
          IdentityStoreId: identityStoreId,
          GroupId: groupIds[group],
          MemberId: { UserId },
        }),
      );
    }
  }

  const directory = mkdtempSync(join(tmpdir(), 'pam-world-'));
  const configFile = join(directory, 'pam-config.json');
  // What synth bundles: the validated config, as JSON.
  const document = configDocument(accountId, identityStoreId, groupIds);
  document.identityCenter.instanceArn = identityCenter.instanceArn;
  const config = parseConfig(JSON.stringify(document), 'pam-world');
  const permissionSetArns: Record<string, string> = {};
  for (const entitlement of config.entitlements) {
    const name = entitlement.target.permissionSet.name;
    if (permissionSetArns[name]) continue;
    const { PermissionSet } = await ssoAdmin.send(
      new CreatePermissionSetCommand({
        InstanceArn: identityCenter.instanceArn,
        Name: name,
        SessionDuration: 'PT1H',
      }),
    );
    permissionSetArns[name] = PermissionSet?.PermissionSetArn as string;
  }
  fake.resetCalls();

  // The two FIFO work queues with their dead-letter queues, the failure queues and the schedule
  // group, as the service stack creates them.
  const sqs = motoClient(SQSClient, accountId);
  const queue = async (name: string, attributes: Record<string, string>): Promise<QueueRef> => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    if (!QueueUrl) throw new Error('moto returned no QueueUrl');
    return { url: QueueUrl, arn: `arn:aws:sqs:${MOTO_REGION}:${accountId}:${name}` };
  };
  const fifo = { FifoQueue: 'true', ContentBasedDeduplication: 'true', VisibilityTimeout: '30' };
  const redrive = (dlq: QueueRef, maxReceiveCount: number) => ({
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount }),
  });
  const commandsDlq = await queue('pam-commands-dlq.fifo', { FifoQueue: 'true' });
  const provisioningDlq = await queue('pam-provisioning-dlq.fifo', { FifoQueue: 'true' });
  const commandsQueue = await queue('pam-commands.fifo', { ...fifo, ...redrive(commandsDlq, 5) });
  const provisioningQueue = await queue('pam-provisioning.fifo', {
    ...fifo,
    ...redrive(provisioningDlq, 10),
  });
  const streamFailures = await queue('pam-stream-failures', {});
  const scheduleDlq = await queue('pam-schedule-dlq', {});
  const scheduler = motoClient(SchedulerClient, accountId);
  await scheduler.send(new CreateScheduleGroupCommand({ Name: SCHEDULE_GROUP }));
  writeFileSync(configFile, bundledConfigText(config));

  const env: Record<string, string> = {
    AWS_ENDPOINT_URL: motoEndpoint(),
    AWS_REGION: MOTO_REGION,
    AWS_ACCESS_KEY_ID: AccessKey.AccessKeyId,
    AWS_SECRET_ACCESS_KEY: AccessKey.SecretAccessKey,
    [ENV.ACCESS_TABLE_NAME]: tables.access,
    [ENV.AUDIT_TABLE_NAME]: tables.audit,
    [ENV.IDEMPOTENCY_TABLE_NAME]: tables.idempotency,
    [ENV.IDENTITY_STORE_ID]: identityStoreId,
    [ENV.PAM_CONFIG_FILE]: configFile,
    [ENV.IDENTITY_CENTER_INSTANCE_ARN]: identityCenter.instanceArn,
    AWS_ENDPOINT_URL_SSO_ADMIN: fake.endpoint,
    [ENV.PERMISSION_SET_ARNS]: JSON.stringify(permissionSetArns),
    [ENV.COMMANDS_QUEUE_URL]: commandsQueue.url,
    [ENV.COMMANDS_QUEUE_ARN]: commandsQueue.arn,
    [ENV.PROVISIONING_QUEUE_URL]: provisioningQueue.url,
    [ENV.PROVISIONING_QUEUE_ARN]: provisioningQueue.arn,
    [ENV.SCHEDULER_GROUP_NAME]: SCHEDULE_GROUP,
    [ENV.SCHEDULER_ROLE_ARN]: roles.scheduler.arn,
    [ENV.COMMAND_SENDERS]: JSON.stringify(senders),
    [ENV.SCHEDULES_DLQ_ARN]: scheduleDlq.arn,
    POWERTOOLS_SERVICE_NAME: 'test',
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  };
  Object.assign(process.env, env);
  return {
    env,
    accountId,
    roles,
    credentials: { accessKeyId: AccessKey.AccessKeyId, secretAccessKey: AccessKey.SecretAccessKey },
    identityStoreId,
    userIds,
    dynamo,
    identityStore,
    tables,
    configFile,
    identityCenter,
    useClock: (now: () => number) => {
      clockNow = now;
    },
    async stop() {
      ssoAdmin.destroy();
      await fake.close();
    },
    permissionSetArns,
    sqs,
    scheduler,
    queues: {
      commands: commandsQueue,
      provisioning: provisioningQueue,
      commandsDlq,
      provisioningDlq,
      streamFailures,
      scheduleDlq,
    },
  };
}

export const lambdaContext = {
  functionName: 'test',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:test',
  memoryLimitInMB: '256',
  awsRequestId: 'test-request',
  logGroupName: '/aws/lambda/test',
  logStreamName: 'test',
  callbackWaitsForEmptyEventLoop: false,
  getRemainingTimeInMillis: () => 30_000,
  done: () => {},
  fail: () => {},
  succeed: () => {},
} as unknown as Context;

/** The requestContext API Gateway builds for a SigV4 call from a PamRequester session of `userName`. */
export function apiEvent(
  hubAccountId: string,
  userName: string,
  method: string,
  path: string,
  body?: unknown,
  query?: Record<string, string>,
): APIGatewayProxyEvent {
  return {
    httpMethod: method,
    path,
    resource: '/v1/{proxy+}',
    body: body === undefined ? null : JSON.stringify(body),
    isBase64Encoded: false,
    headers: { 'content-type': 'application/json' },
    multiValueHeaders: {},
    queryStringParameters: query ?? null,
    multiValueQueryStringParameters: null,
    pathParameters: { proxy: path.replace(/^\/v1\//, '') },
    stageVariables: null,
    requestContext: {
      accountId: hubAccountId,
      apiId: 'testapi',
      httpMethod: method,
      path: `/prod${path}`,
      stage: 'prod',
      requestId: 'req',
      requestTimeEpoch: Date.now(),
      resourceId: 'res',
      resourcePath: '/v1/{proxy+}',
      protocol: 'HTTP/1.1',
      authorizer: null,
      identity: {
        userArn: `arn:aws:sts::${hubAccountId}:assumed-role/AWSReservedSSO_PamRequester_0a1b2c3d4e5f6a7b/${userName}`,
        user: `AROAEXAMPLE:${userName}`,
        caller: `AROAEXAMPLE:${userName}`,
        accountId: hubAccountId,
        accessKey: null,
        apiKey: null,
        apiKeyId: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: 'o-a1b2c3d4e5',
        sourceIp: '127.0.0.1',
        userAgent: 'vitest',
        clientCert: null,
      },
    },
  } as APIGatewayProxyEvent;
}

export type ApiHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

export interface ApiAnswer<T = Record<string, unknown>> {
  readonly status: number;
  readonly body: T;
}

/** Calls the real handle-api handler as `userName`. */
export function apiClient(handler: ApiHandler, hubAccountId: string) {
  return async <T = Record<string, unknown>>(
    userName: string,
    method: string,
    path: string,
    body?: unknown,
    query?: Record<string, string>,
  ): Promise<ApiAnswer<T>> => {
    const result = await handler(apiEvent(hubAccountId, userName, method, path, body, query), lambdaContext);
    return { status: result.statusCode, body: JSON.parse(result.body) as T };
  };
}
