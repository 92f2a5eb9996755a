// Least privilege, proven statically: for every function, the IAM actions its role is granted in the
// synthesized template must be exactly the AWS calls its bundle can make — the SDK commands esbuild
// kept in it (its metafile, `bytesInOutput > 0`), mapped to IAM actions, and the SDK-less signed calls
// of its own code (their `X-Amz-Target`, see signedJsonCalls) — plus what AWS requires for
// the way the function is wired (event sources, tracing, logs, CMK-encrypted tables and queues,
// passing the schedule role), minus commands that are bundled but that no code path of that
// function sends (shared adapter classes keep every method). Any surplus, any missing action and
// any wildcard fails, with the difference printed. The exemption and implication tables below carry
// their reason and their source; a stale exemption fails too.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App } from 'aws-cdk-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfigFile } from '#config/load.ts';
import type { Entitlement, PamConfig } from '#domain/model.ts';
import { defineHub, pamFunctionRefs } from '../../infra/app.ts';
import { functionFolders } from '../support/function-folders.ts';

type Json = Record<string, unknown>;
type Resource = { Type: string; Properties?: Json; DependsOn?: string[] };
type Template = { Resources: Record<string, Resource>; Outputs?: Record<string, Json> };
type Statement = {
  Effect: string;
  Action?: string | string[];
  NotAction?: unknown;
  Resource?: unknown;
  Condition?: Json;
};

const asArray = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];
const sorted = (values: Iterable<string>) => [...new Set(values)].sort();

/** Every deployed function (a folder under `functions/`): each is compared, none can be left out. */
const FUNCTIONS = functionFolders();
type FunctionName = string;

// --- From the bundle: SDK commands → IAM actions ----------------------------------------------

/** IAM service prefix of each AWS SDK v3 client package. An unknown client fails the test. */
const SERVICE_PREFIX: Record<string, string> = {
  'client-dynamodb': 'dynamodb',
  'client-sqs': 'sqs',
  'client-scheduler': 'scheduler',
  'client-sso-admin': 'sso',
  'client-identitystore': 'identitystore',
  'client-cloudwatch': 'cloudwatch',
  'client-sts': 'sts',
  'client-kms': 'kms',
  'client-iam': 'iam',
  'client-organizations': 'organizations',
  'client-sns': 'sns',
  'client-eventbridge': 'events',
  'client-lambda': 'lambda',
  'client-secrets-manager': 'secretsmanager',
};

/** The credential providers' own clients (`@aws-sdk/nested-clients/…/submodules/<name>`). */
const NESTED_PREFIX: Record<string, string> = {
  sts: 'sts',
  sso: 'sso',
  'sso-oidc': 'sso-oauth',
  signin: 'signin',
};

/**
 * A DynamoDB transaction has no IAM action of its own: each Put, Update, Delete and ConditionCheck
 * in it is authorized as PutItem, UpdateItem, DeleteItem and ConditionCheckItem
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html).
 * cloud-pam's only transaction is the audited commit (shared/adapters/aws/audit-chain-writes.ts:
 * the request Put of dynamo-access-store.ts, each event Put, each chain head Put): Puts only, which
 * a test below keeps true.
 */
const TRANSACTION_PARTS = ['dynamodb:PutItem'];

/** lib-dynamodb's document commands and the DynamoDB action each one is. */
const DOCUMENT_COMMANDS: Record<string, readonly string[]> = {
  Get: ['dynamodb:GetItem'],
  Put: ['dynamodb:PutItem'],
  Update: ['dynamodb:UpdateItem'],
  Delete: ['dynamodb:DeleteItem'],
  Query: ['dynamodb:Query'],
  Scan: ['dynamodb:Scan'],
  BatchGet: ['dynamodb:BatchGetItem'],
  BatchWrite: ['dynamodb:BatchWriteItem'],
  TransactGet: ['dynamodb:GetItem'],
  TransactWrite: TRANSACTION_PARTS,
};

const CLIENT_COMMAND =
  /node_modules\/@aws-sdk\/(client-[a-z0-9-]+)\/dist-[a-z]+\/commands\/(\w+)Command\.js$/;
const DOCUMENT_COMMAND = /node_modules\/@aws-sdk\/lib-dynamodb\/dist-[a-z]+\/commands\/(\w+)Command\.js$/;
const NESTED_COMMAND =
  /node_modules\/@aws-sdk\/nested-clients\/dist-[a-z]+\/submodules\/([a-z0-9-]+)\/commands\/(\w+)Command\.js$/;

interface Metafile {
  outputs: Record<string, { inputs: Record<string, { bytesInOutput: number }> }>;
}

// --- From the bundle's own code: signed AWS JSON-protocol calls → IAM actions --------------------

/**
 * The Slack ingress calls SQS and Secrets Manager without the SDK, for its cold start
 * (shared/adapters/aws/aws-json-call.ts): one signed POST per operation, which its `X-Amz-Target`
 * names — `AmazonSQS.SendMessage` is the IAM action sqs:SendMessage, `secretsmanager.GetSecretValue`
 * is secretsmanager:GetSecretValue. So in cloud-pam's own modules of a bundle (metafile inputs outside
 * node_modules, `bytesInOutput > 0`) that set that header, each quoted `'<TargetPrefix>.<Operation>'`
 * is a call, counted when the same text is in the bundle's output too: esbuild drops an operation
 * that no code path reaches, as it drops an unused SDK command. An unknown target prefix fails.
 */
const JSON_TARGET_PREFIX: Record<string, string> = {
  AmazonSQS: 'sqs',
  secretsmanager: 'secretsmanager',
};
const SETS_JSON_TARGET = /x-amz-target/i;
const JSON_TARGET = /['"]([A-Za-z]\w*)\.([A-Z]\w*)['"]/g;
const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..');

function signedJsonCalls(input: string, output: string): string[] {
  const source = readFileSync(path.join(REPO_ROOT, input), 'utf8');
  if (!SETS_JSON_TARGET.test(source)) return [];
  return [...source.matchAll(JSON_TARGET)].flatMap(([literal, prefix = '', operation = '']) => {
    const service = JSON_TARGET_PREFIX[prefix];
    if (!service) throw new Error(`${input}: no IAM service prefix known for X-Amz-Target ${literal}`);
    return output.includes(`${prefix}.${operation}`) ? [`${service}:${operation}`] : [];
  });
}

/** IAM action → the bundled command modules (or, for signed calls, own modules) it comes from. */
function bundledActions(metafile: Metafile, outputText: string): Map<string, string[]> {
  const found = new Map<string, string[]>();
  const add = (action: string, input: string) => found.set(action, [...(found.get(action) ?? []), input]);
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      if (bytesInOutput <= 0) continue;
      const client = CLIENT_COMMAND.exec(input);
      const document = DOCUMENT_COMMAND.exec(input);
      const nested = NESTED_COMMAND.exec(input);
      if (client) {
        const [, pkg, name] = client as unknown as [string, string, string];
        const prefix = SERVICE_PREFIX[pkg];
        if (!prefix) throw new Error(`${input}: no IAM service prefix known for @aws-sdk/${pkg}`);
        if (pkg === 'client-dynamodb' && name === 'TransactWriteItems') {
          for (const action of TRANSACTION_PARTS) add(action, input);
        } else if (pkg === 'client-dynamodb' && name === 'TransactGetItems') {
          add('dynamodb:GetItem', input);
        } else {
          add(`${prefix}:${name}`, input);
        }
      } else if (document) {
        const name = (document as unknown as [string, string])[1];
        const actions = DOCUMENT_COMMANDS[name];
        if (!actions) throw new Error(`${input}: no DynamoDB action known for lib-dynamodb ${name}Command`);
        for (const action of actions) add(action, input);
      } else if (nested) {
        const [, submodule, name] = nested as unknown as [string, string, string];
        const prefix = NESTED_PREFIX[submodule];
        if (!prefix) throw new Error(`${input}: no IAM service prefix known for nested client ${submodule}`);
        add(`${prefix}:${name}`, input);
      } else if (!input.includes('node_modules/')) {
        for (const action of signedJsonCalls(input, outputText)) add(action, input);
      }
    }
  }
  return found;
}

// --- Bundled, never sent ------------------------------------------------------------------------

/** In every bundle, sent by no function. */
const NEVER_SENT: Record<string, string> = {
  'dynamodb:DescribeEndpoints':
    'client-dynamodb links endpoint discovery, which runs only when AWS_ENABLE_ENDPOINT_DISCOVERY / AWS_ENDPOINT_DISCOVERY_ENABLED or the shared config turns it on (https://docs.aws.amazon.com/sdkref/latest/guide/feature-endpoint-discovery.html); no function sets them (checked below)',
  'dynamodb:Scan':
    "lib-dynamodb's pagination module creates paginateScan when it loads, which keeps ScanCommand in the bundle; no source names ScanCommand or paginateScan (checked below)",
};

const DIRECTORY_READS = [
  'identitystore:DescribeUser',
  'identitystore:GetUserId',
  'identitystore:ListGroupMembershipsForMember',
];
const IDENTITY_CENTER = [
  'sso:CreateAccountAssignment',
  'sso:DeleteAccountAssignment',
  'sso:DeleteInlinePolicyFromPermissionSet',
  'sso:DescribeAccountAssignmentCreationStatus',
  'sso:DescribeAccountAssignmentDeletionStatus',
  'sso:DescribePermissionSetProvisioningStatus',
  'sso:GetInlinePolicyForPermissionSet',
  'sso:ListAccountAssignments',
  'sso:ListAccountsForProvisionedPermissionSet',
  'sso:ListPermissionSetProvisioningStatus',
  'sso:ProvisionPermissionSet',
  'sso:PutInlinePolicyToPermissionSet',
];
const except = (all: readonly string[], ...kept: string[]) => all.filter((action) => !kept.includes(action));

/**
 * Per function: commands its bundle holds (the grant engine's adapters are built for every function
 * by shared/runtime/grant-deps.ts, and a class keeps all its methods) that none of its code paths
 * sends. Each reason names where that is decided.
 */
const NOT_SENT_BY: Readonly<Record<FunctionName, readonly { actions: readonly string[]; why: string }[]>> = {
  'handle-api': [
    {
      actions: ['dynamodb:DeleteItem'],
      why: 'it builds the Slack store only to issue link codes (link.ts makeCreateSlackLinkCode: createLinkCode, a PutItem); consuming a code (consumeLinkCode, a DeleteItem) is notify-slack’s',
    },
  ],
  'process-command': [
    {
      actions: ['scheduler:DeleteSchedule'],
      why: 'it only creates start schedules (commands.ts: grants.scheduler.ensure); react-to-change removes them',
    },
    {
      actions: IDENTITY_CENTER,
      why: 'makeProcessCommand takes CoreDeps and CommandGrantDeps, no identityCenter (commands.ts): assignments and policies are provision-access’s',
    },
  ],
  'provision-access': [
    {
      actions: DIRECTORY_READS,
      why: 'the provisioning worker and its drift re-check never read the directory (no `directory.` in grants/provisioning.ts, grants/drift.ts, proof.ts unproven/refuseUnproven)',
    },
    {
      actions: ['scheduler:DeleteSchedule'],
      why: 'provisioning.ts and drift.ts only `ensure` schedules (deny removal, drift re-checks)',
    },
  ],
  'react-to-change': [
    {
      actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'],
      why: 'makeReactToChange takes only permissionSets, the two queues, the scheduler and metrics (grants/react-to-change.ts): the stream record is its input, it reads and writes no table',
    },
    { actions: DIRECTORY_READS, why: 'makeReactToChange takes no directory' },
    { actions: IDENTITY_CENTER, why: 'makeReactToChange takes no identityCenter' },
  ],
  reconcile: [
    {
      actions: ['dynamodb:PutItem'],
      why: 'the reconciler only enqueues (grants/reconcile.ts header): no request, lease or audit write; proofOf only reads the chain',
    },
    {
      actions: ['identitystore:GetUserId', 'identitystore:ListGroupMembershipsForMember'],
      why: 'it reads users by id only (directory.getUser, reconcile.ts step 5)',
    },
    {
      actions: ['scheduler:CreateSchedule', 'scheduler:DeleteSchedule'],
      why: 'it never schedules (no `scheduler.` in reconcile.ts)',
    },
    {
      actions: except(
        IDENTITY_CENTER,
        'sso:GetInlinePolicyForPermissionSet',
        'sso:ListAccountsForProvisionedPermissionSet',
      ),
      why: 'it reads inline policies and stale accounts only (identityCenter.getInlinePolicy, staleAccounts)',
    },
  ],
  'sweep-drift': [
    { actions: DIRECTORY_READS, why: 'the drift sweep never reads the directory (grants/drift.ts)' },
    {
      actions: ['scheduler:DeleteSchedule'],
      why: 'it only creates re-check schedules (drift.ts: scheduler.ensure)',
    },
    {
      actions: except(IDENTITY_CENTER, 'sso:ListAccountAssignments'),
      why: 'it lists assignments only (identityCenter.listUserAssignments); removal is queued to provision-access',
    },
  ],
};

// --- Implied by how a function is wired ---------------------------------------------------------

interface Implied {
  readonly actions: readonly string[];
  readonly why: string;
  readonly doc: string;
}

const IMPLIED = {
  logs: {
    actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
    why: 'Lambda writes the function’s logs with its execution role (the log group exists: no CreateLogGroup)',
    doc: 'https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html',
  },
  tracing: {
    actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
    why: 'active tracing: Lambda sends segments with the execution role',
    doc: 'https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html',
  },
  sqsEventSource: {
    actions: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'],
    why: 'an SQS event source mapping polls, deletes and reads the queue’s attributes with the execution role',
    doc: 'https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html',
  },
  receiveFromEncryptedQueue: {
    actions: ['kms:Decrypt'],
    why: 'messages of a queue encrypted with a customer managed key are decrypted for the receiver',
    doc: 'https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html',
  },
  streamEventSource: {
    actions: [
      'dynamodb:DescribeStream',
      'dynamodb:GetRecords',
      'dynamodb:GetShardIterator',
      'dynamodb:ListStreams',
    ],
    why: 'a DynamoDB stream event source mapping reads the stream with the execution role',
    doc: 'https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/iam-policy-example-lamda-process-dynamodb-streams.html',
  },
  readEncryptedStream: {
    actions: ['kms:Decrypt'],
    why: 'a stream is encrypted with its table’s key; the records are decrypted for the reader',
    doc: 'https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/encryption.usagenotes.html',
  },
  failureDestination: {
    actions: ['sqs:SendMessage'],
    why: 'Lambda sends a discarded stream batch’s record to the on-failure queue with the execution role',
    doc: 'https://docs.aws.amazon.com/lambda/latest/dg/services-dynamodb-errors.html',
  },
  sendToEncryptedQueue: {
    actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
    why: 'a producer of a queue encrypted with a customer managed key needs GenerateDataKey and Decrypt',
    doc: 'https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html',
  },
  readEncryptedTable: {
    actions: ['kms:Decrypt', 'kms:DescribeKey'],
    why: 'DynamoDB decrypts a customer-managed-key table for the caller (the key policy example for principals using DynamoDB)',
    doc: 'https://docs.aws.amazon.com/kms/latest/developerguide/services-dynamodb.html',
  },
  writeEncryptedTable: {
    actions: ['kms:Encrypt', 'kms:GenerateDataKey'],
    why: 'and encrypts what the caller writes',
    doc: 'https://docs.aws.amazon.com/kms/latest/developerguide/services-dynamodb.html',
  },
  passScheduleRole: {
    actions: ['iam:PassRole'],
    why: 'CreateSchedule names the role the schedule runs as; the caller must be allowed to pass it',
    doc: 'https://docs.aws.amazon.com/scheduler/latest/UserGuide/setting-up.html',
  },
  selfAccountRoles: {
    actions: [
      'iam:AttachRolePolicy',
      'iam:CreateRole',
      'iam:DeleteRole',
      'iam:DeleteRolePermissionsBoundary',
      'iam:DeleteRolePolicy',
      'iam:DetachRolePolicy',
      'iam:GetRole',
      'iam:ListAttachedRolePolicies',
      'iam:ListRolePolicies',
      'iam:PutRolePermissionsBoundary',
      'iam:PutRolePolicy',
      'iam:UpdateAssumeRolePolicy',
      'iam:UpdateRole',
      'iam:UpdateRoleDescription',
      'iam:CreateSAMLProvider',
      'iam:GetSAMLProvider',
      'iam:UpdateSAMLProvider',
    ],
    why: 'Identity Center’s service-linked role manages the AWSReservedSSO_* roles and its SAML provider in every account but the management account (its policy excludes it); there, assignments and provisioning run them with the caller’s credentials — only when the hub is the management account and a managed permission set targets it',
    doc: 'https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSSSOServiceRolePolicy.html, https://docs.aws.amazon.com/singlesignon/latest/userguide/howtodelegatessoaccess.html',
  },
} as const satisfies Record<string, Implied>;
type ImpliedReason = keyof typeof IMPLIED;

const TABLE_READS = ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:BatchGetItem', 'dynamodb:Scan'];
const TABLE_WRITES = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
];
const SELF_ACCOUNT_TRIGGERS = [
  'sso:CreateAccountAssignment',
  'sso:DeleteAccountAssignment',
  'sso:ProvisionPermissionSet',
];

// --- From the template --------------------------------------------------------------------------

interface Synthesized {
  readonly config: PamConfig;
  readonly service: Template;
  readonly data: Template;
  readonly dataStackName: string;
  /** functions/ folder → logical id of its AWS::Lambda::Function. */
  readonly functions: Map<string, string>;
  readonly assemblyDir: string;
}

function synth(config: PamConfig, bundle: boolean): Synthesized {
  const app = new App({
    outdir: mkdtempSync(path.join(tmpdir(), 'cloud-pam-cdk-')),
    // CDK's built-in CloudFormation validation is slow; hub-compliance.test.ts runs it (and cfn-lint).
    builtinCloudFormationValidation: false,
    ...(bundle ? {} : { context: { 'aws:cdk:bundling-stacks': [] } }),
  });
  const stacks = defineHub(app, config, { region: 'eu-west-1' });
  const assembly = app.synth();
  return {
    config,
    service: assembly.getStackByName(stacks.service.stackName).template as Template,
    data: assembly.getStackByName(stacks.data.stackName).template as Template,
    dataStackName: stacks.data.stackName,
    functions: new Map(
      pamFunctionRefs(app)
        .filter((ref) => ref.stack === stacks.service.stackName)
        .map((ref) => [ref.name, ref.logicalId]),
    ),
    assemblyDir: assembly.directory,
  };
}

const getAttOf = (value: unknown): [string, string] | undefined =>
  (value as { 'Fn::GetAtt'?: [string, string] } | null)?.['Fn::GetAtt'];

function roleOf(world: Synthesized, fnId: string): string {
  const role = getAttOf(world.service.Resources[fnId]?.Properties?.Role);
  if (!role) throw new Error(`${fnId}: its role is not a role of this stack`);
  return role[0];
}

/** Every Allow action of the role: its AWS::IAM::Policy resources and inline policies. */
function granted(world: Synthesized, roleId: string): { actions: string[]; problems: string[] } {
  const problems: string[] = [];
  const role = world.service.Resources[roleId] as Resource;
  if (asArray(role.Properties?.ManagedPolicyArns as unknown[]).length > 0)
    problems.push('managed policies attached (their actions cannot be checked here)');
  const documents = [
    ...Object.values(world.service.Resources)
      .filter(
        (r) =>
          r.Type === 'AWS::IAM::Policy' &&
          asArray(r.Properties?.Roles as unknown[]).some((ref) => (ref as { Ref?: string }).Ref === roleId),
      )
      .map((r) => r.Properties?.PolicyDocument),
    ...asArray(role.Properties?.Policies as { PolicyDocument: unknown }[]).map((p) => p.PolicyDocument),
  ] as { Statement: Statement[] }[];
  const actions: string[] = [];
  for (const statement of documents.flatMap((d) => d.Statement)) {
    if (statement.Effect !== 'Allow') continue;
    if (statement.NotAction !== undefined) problems.push(`NotAction ${JSON.stringify(statement.NotAction)}`);
    for (const action of asArray(statement.Action)) {
      if (action.includes('*') || action.includes('?')) problems.push(`wildcard action ${action}`);
      actions.push(action);
    }
  }
  return { actions: sorted(actions), problems };
}

function bundleOf(world: Synthesized, fnId: string): Map<string, string[]> {
  const key = String((world.service.Resources[fnId]?.Properties?.Code as Json | undefined)?.S3Key);
  const hash = /^([0-9a-f]{64})\.zip$/.exec(key)?.[1];
  if (!hash) throw new Error(`${fnId}: unexpected asset key ${key}`);
  const dir = path.join(world.assemblyDir, `asset.${hash}`);
  return bundledActions(
    JSON.parse(readFileSync(path.join(dir, 'index.meta.json'), 'utf8')) as Metafile,
    readFileSync(path.join(dir, 'index.mjs'), 'utf8'),
  );
}

/** What an event source ARN points at: a queue of this stack, or a table stream of the data stack. */
function sourceKind(world: Synthesized, arn: unknown): { kind: 'queue' | 'stream'; id: string } {
  const att = getAttOf(arn);
  if (att && world.service.Resources[att[0]]?.Type === 'AWS::SQS::Queue')
    return { kind: 'queue', id: att[0] };
  const imported = (arn as { 'Fn::ImportValue'?: string } | null)?.['Fn::ImportValue'];
  const exported = Object.values(world.data.Outputs ?? {}).find(
    (output) => (output.Export as { Name?: string } | undefined)?.Name === imported,
  );
  const streamOf = getAttOf(exported?.Value);
  if (streamOf?.[1] === 'StreamArn' && world.data.Resources[streamOf[0]]?.Type === 'AWS::DynamoDB::Table')
    return { kind: 'stream', id: streamOf[0] };
  throw new Error(`event source ${JSON.stringify(arn)}: neither a queue of this stack nor a table stream`);
}

const queueEncrypted = (world: Synthesized, queueId: string) =>
  world.service.Resources[queueId]?.Properties?.KmsMasterKeyId !== undefined;
const tableEncrypted = (world: Synthesized, tableId: string) =>
  (world.data.Resources[tableId]?.Properties?.SSESpecification as Json | undefined)?.KMSMasterKeyId !==
  undefined;

/** Why each implied action applies to this function (from its template and its SDK actions). */
function impliedFor(world: Synthesized, fnId: string, sdk: ReadonlySet<string>): Set<ImpliedReason> {
  const reasons = new Set<ImpliedReason>();
  const fn = world.service.Resources[fnId]?.Properties ?? {};
  if ((fn.LoggingConfig as Json | undefined)?.LogGroup) reasons.add('logs');
  if ((fn.TracingConfig as Json | undefined)?.Mode === 'Active') reasons.add('tracing');
  const mappings = Object.values(world.service.Resources).filter(
    (r) =>
      r.Type === 'AWS::Lambda::EventSourceMapping' &&
      (r.Properties?.FunctionName as { Ref?: string } | undefined)?.Ref === fnId,
  );
  for (const mapping of mappings) {
    const source = sourceKind(world, mapping.Properties?.EventSourceArn);
    if (source.kind === 'queue') {
      reasons.add('sqsEventSource');
      if (queueEncrypted(world, source.id)) reasons.add('receiveFromEncryptedQueue');
    } else {
      reasons.add('streamEventSource');
      if (tableEncrypted(world, source.id)) reasons.add('readEncryptedStream');
    }
    const onFailure = (mapping.Properties?.DestinationConfig as { OnFailure?: { Destination: unknown } })
      ?.OnFailure?.Destination;
    if (onFailure !== undefined) {
      const destination = sourceKind(world, onFailure);
      reasons.add('failureDestination');
      if (queueEncrypted(world, destination.id)) reasons.add('sendToEncryptedQueue');
    }
  }
  // Every queue and table is encrypted with the hub CMK (asserted below), so any send or item access
  // needs the key through the service.
  if (sdk.has('sqs:SendMessage')) reasons.add('sendToEncryptedQueue');
  if (TABLE_READS.some((a) => sdk.has(a)) || TABLE_WRITES.some((a) => sdk.has(a)))
    reasons.add('readEncryptedTable');
  if (TABLE_WRITES.some((a) => sdk.has(a))) {
    reasons.add('readEncryptedTable');
    reasons.add('writeEncryptedTable');
  }
  if (sdk.has('scheduler:CreateSchedule')) reasons.add('passScheduleRole');
  const { hubAccountId, managementAccountId } = world.config.identityCenter;
  const targetsHub = world.config.entitlements.some(
    (e) => e.kind === 'aws-role' && e.target.accounts.includes(hubAccountId),
  );
  if (hubAccountId === managementAccountId && targetsHub && SELF_ACCOUNT_TRIGGERS.some((a) => sdk.has(a)))
    reasons.add('selfAccountRoles');
  return reasons;
}

interface Verdict {
  readonly surplus: string[];
  readonly missing: string[];
  readonly problems: string[];
}

/** granted vs. (bundle − never sent − not sent by this function) ∪ implied. */
function compare(world: Synthesized, name: FunctionName, bundle: Map<string, string[]>): Verdict {
  const fnId = world.functions.get(name);
  if (!fnId) throw new Error(`no function ${name} in the service stack`);
  const notSent = new Set((NOT_SENT_BY[name] ?? []).flatMap((entry) => entry.actions));
  const sdk = new Set([...bundle.keys()].filter((a) => !(a in NEVER_SENT) && !notSent.has(a)));
  const needed = new Set(sdk);
  for (const reason of impliedFor(world, fnId, sdk)) for (const a of IMPLIED[reason].actions) needed.add(a);
  const { actions, problems } = granted(world, roleOf(world, fnId));
  return {
    surplus: actions.filter((a) => !needed.has(a)),
    missing: sorted([...needed].filter((a) => !actions.includes(a))),
    problems,
  };
}

const config = loadConfigFile('infra/config/example.yaml');
let world: Synthesized;
let bundles: Map<FunctionName, Map<string, string[]>>;

beforeAll(() => {
  world = synth(config, true);
  bundles = new Map(
    FUNCTIONS.map((name) => [name, bundleOf(world, world.functions.get(name) as string)] as const),
  );
});

describe('least privilege: granted = what the bundle sends + what AWS implies', () => {
  it('knows every function of the stack', () => {
    expect(sorted(world.functions.keys())).toEqual(sorted(FUNCTIONS));
  });

  it.each(FUNCTIONS)('%s holds exactly the actions its code and wiring need', (name) => {
    const verdict = compare(world, name, bundles.get(name) as Map<string, string[]>);
    expect(verdict, `${name}: surplus = granted, not needed; missing = needed, not granted`).toEqual({
      surplus: [],
      missing: [],
      problems: [],
    });
  });

  it.each(FUNCTIONS)('%s: so does it when the hub is the management account and a target', (name) => {
    // Same bundles; the template differs (Identity Center then works on the hub's own roles).
    const [first, ...rest] = config.entitlements as [Entitlement, ...Entitlement[]];
    const hub = config.identityCenter.managementAccountId;
    const variant: PamConfig = {
      ...config,
      identityCenter: { ...config.identityCenter, hubAccountId: hub },
      entitlements: [{ ...first, target: { ...first.target, accounts: [hub] } }, ...rest],
    };
    const verdict = compare(synthOnce(variant), name, bundles.get(name) as Map<string, string[]>);
    expect(verdict, `${name} (hub = management account)`).toEqual({ surplus: [], missing: [], problems: [] });
  });
});

let variantWorld: Synthesized | undefined;
function synthOnce(variant: PamConfig): Synthesized {
  variantWorld ??= synth(variant, false);
  return variantWorld;
}

describe('the tables behind the comparison', () => {
  it('finds AWS calls in every bundle (the metafile is there and read)', () => {
    for (const name of FUNCTIONS) expect(bundles.get(name)?.size ?? 0, name).toBeGreaterThan(0);
  });

  it('exempts only commands the bundles really contain', () => {
    const all = new Set(FUNCTIONS.flatMap((name) => [...(bundles.get(name)?.keys() ?? [])]));
    expect(Object.keys(NEVER_SENT).filter((a) => !all.has(a))).toEqual([]);
    expect(Object.keys(NOT_SENT_BY).filter((name) => !FUNCTIONS.includes(name))).toEqual([]);
    for (const name of FUNCTIONS) {
      const bundle = bundles.get(name) as Map<string, string[]>;
      const stale = (NOT_SENT_BY[name] ?? []).flatMap((entry) => entry.actions).filter((a) => !bundle.has(a));
      expect(stale, `${name}: exempted but not in its bundle`).toEqual([]);
    }
  });

  it('encrypts every table and queue with a customer managed key (the KMS implications rely on it)', () => {
    const tables = Object.entries(world.data.Resources).filter(([, r]) => r.Type === 'AWS::DynamoDB::Table');
    const queues = Object.entries(world.service.Resources).filter(([, r]) => r.Type === 'AWS::SQS::Queue');
    expect(tables.length).toBeGreaterThan(0);
    expect(queues.length).toBeGreaterThan(0);
    for (const [id] of tables) expect(tableEncrypted(world, id), id).toBe(true);
    for (const [id] of queues) expect(queueEncrypted(world, id), id).toBe(true);
  });

  // The credential links Lambda never reaches (SSO, ini, process, web identity: their STS, SSO and
  // sign-in clients) are not bundled at all (pam-function.ts UNREACHED_CREDENTIAL_PROVIDERS): were
  // they back, their commands would be "missing" above. A variable that picked one would make the
  // chain fail instead of reaching it, so none is set.
  it('sets no variable that turns on endpoint discovery or another credential provider', () => {
    const variables = Object.values(world.service.Resources)
      .filter((r) => r.Type === 'AWS::Lambda::Function')
      .flatMap((r) => Object.keys((r.Properties?.Environment as { Variables?: Json })?.Variables ?? {}));
    expect(variables.length).toBeGreaterThan(0);
    const forbidden = [
      'AWS_ENABLE_ENDPOINT_DISCOVERY',
      'AWS_ENDPOINT_DISCOVERY_ENABLED',
      'AWS_PROFILE',
      'AWS_CONFIG_FILE',
      'AWS_SHARED_CREDENTIALS_FILE',
      'AWS_ROLE_ARN',
      'AWS_WEB_IDENTITY_TOKEN_FILE',
      'AWS_CONTAINER_CREDENTIALS_FULL_URI',
      'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
    ];
    expect(variables.filter((v) => forbidden.includes(v))).toEqual([]);
  });

  const sources = (dir: string): string[] =>
    readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
      .map((entry) => path.join(entry.parentPath, entry.name));

  it('sends no Scan and builds no transaction item but Put (TRANSACTION_PARTS, NEVER_SENT)', () => {
    const files = [...sources('shared'), ...sources('functions')];
    expect(files.length).toBeGreaterThan(10);
    const offending = files.filter((file) => {
      const text = readFileSync(file, 'utf8');
      return (
        /\b(ScanCommand|paginateScan)\b/.test(text) || /\b(ConditionCheck|Update|Delete)\s*:\s*\{/.test(text)
      );
    });
    expect(offending).toEqual([]);
  });
});

describe('table writes', () => {
  const idempotencyTable = () =>
    Object.entries(world.data.Resources).find(
      ([id, r]) => r.Type === 'AWS::DynamoDB::Table' && id.startsWith('IdempotencyTable'),
    )?.[0] as string;

  it('limits every write to the key prefixes its code writes, except Powertools’ idempotency records', () => {
    const unscoped: string[] = [];
    for (const name of FUNCTIONS) {
      const roleId = roleOf(world, world.functions.get(name) as string);
      const statements = Object.values(world.service.Resources)
        .filter(
          (r) =>
            r.Type === 'AWS::IAM::Policy' &&
            asArray(r.Properties?.Roles as unknown[]).some((ref) => (ref as { Ref?: string }).Ref === roleId),
        )
        .flatMap(
          (r) => (r.Properties?.PolicyDocument as { Statement: Statement[] } | undefined)?.Statement ?? [],
        );
      for (const s of statements) {
        if (!asArray(s.Action).some((a) => TABLE_WRITES.includes(a))) continue;
        const keys = (s.Condition?.['ForAllValues:StringLike'] as Json | undefined)?.['dynamodb:LeadingKeys'];
        const onIdempotency = JSON.stringify(s.Resource).includes(idempotencyTable());
        if (!onIdempotency && (!Array.isArray(keys) || keys.length === 0))
          unscoped.push(`${name}: ${asArray(s.Action).join(',')} on ${JSON.stringify(s.Resource)}`);
      }
    }
    expect(unscoped).toEqual([]);
  });
});
