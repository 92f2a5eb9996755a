// Creates in moto the resources the wiring manifest lists, each in its stack's account, the way
// CloudFormation would have deployed them: properties resolved against what was created before
// (topological order within a stack, stacks in dependency order), names generated from stack and
// logical id where the template names none. A resource type this file does not know stops the
// start with its name: the runtime never skips something a handler might use.
import { randomBytes } from 'node:crypto';
import { CreateTableCommand, type DynamoDBClient, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { CreateRoleCommand, type IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { CreateKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { CreateScheduleGroupCommand, type SchedulerClient } from '@aws-sdk/client-scheduler';
import { CreateSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import {
  AttachManagedPolicyToPermissionSetCommand,
  CreatePermissionSetCommand,
  PutInlinePolicyToPermissionSetCommand,
  type SSOAdminClient,
} from '@aws-sdk/client-sso-admin';
import type { CfnValue, WiringManifest, WiringResource } from '../infra/wiring/manifest.ts';
import { localReferences, type PhysicalResource, type ResolveContext, resolveValue } from './resolve.ts';

export interface AccountClients {
  readonly dynamo: DynamoDBClient;
  readonly sqs: SQSClient;
  readonly kms: KMSClient;
  readonly iam: IAMClient;
  readonly scheduler: SchedulerClient;
  readonly ssoAdmin: SSOAdminClient;
  readonly secrets: SecretsManagerClient;
}

export interface ProvisionOptions {
  readonly manifest: WiringManifest;
  readonly clientsFor: (accountId: string) => AccountClients;
  readonly substitutions: ReadonlyMap<string, string>;
  readonly log?: (line: string) => void;
}

type Props = Record<string, CfnValue>;

/** CloudFormation-style generated name: `<stack>-<logicalId>`, cut to `max`. */
function generatedName(resource: WiringResource, max: number, suffix = ''): string {
  return `${resource.stack}-${resource.logicalId}`.slice(0, max - suffix.length) + suffix;
}

const text = (value: CfnValue | undefined): string | undefined =>
  value === undefined || value === null
    ? undefined
    : typeof value === 'string'
      ? value
      : JSON.stringify(value);

function ordered(resources: readonly WiringResource[], stacks: readonly string[]): WiringResource[] {
  const out: WiringResource[] = [];
  for (const stack of stacks) {
    const pending = new Map(resources.filter((r) => r.stack === stack).map((r) => [r.logicalId, r]));
    const done = new Set<string>();
    const visit = (resource: WiringResource, path: string[]) => {
      if (done.has(resource.logicalId)) return;
      if (path.includes(resource.logicalId)) throw new Error(`circular reference: ${path.join(' → ')}`);
      for (const dep of localReferences(resource.properties)) {
        const next = pending.get(dep);
        if (next) visit(next, [...path, resource.logicalId]);
      }
      done.add(resource.logicalId);
      out.push(resource);
    };
    for (const resource of pending.values()) visit(resource, []);
  }
  return out;
}

/** Creates every resource; answers `stack/logicalId` → its physical ids and attributes. */
export async function provisionResources(options: ProvisionOptions): Promise<Map<string, PhysicalResource>> {
  const { manifest } = options;
  const physical = new Map<string, PhysicalResource>();
  const notes: string[] = [];
  const ctx: ResolveContext = { manifest, physical, substitutions: options.substitutions };
  for (const resource of ordered(
    manifest.resources,
    manifest.stacks.map((s) => s.id),
  )) {
    const stack = manifest.stacks.find((s) => s.id === resource.stack);
    if (!stack) throw new Error(`${resource.stack}: not in the manifest's stacks`);
    const props = resolveValue(ctx, resource.stack, resource.properties) as Props;
    const clients = options.clientsFor(stack.account);
    const created = await create(resource, props, clients, stack, notes);
    physical.set(`${resource.stack}/${resource.logicalId}`, created);
    if (resource.type === 'AWS::IAM::Role') {
      const actions = manifest.roleActions[`${resource.stack}/${resource.logicalId}`] ?? [];
      await grantActions(clients.iam, created.ref, actions);
    }
  }
  for (const note of notes) options.log?.(note);
  return physical;
}

async function create(
  resource: WiringResource,
  props: Props,
  clients: AccountClients,
  stack: { account: string; region: string },
  notes: string[],
): Promise<PhysicalResource> {
  switch (resource.type) {
    case 'AWS::KMS::Key': {
      const { KeyMetadata } = await clients.kms.send(
        new CreateKeyCommand({ Description: text(props.Description), Policy: text(props.KeyPolicy) }),
      );
      if (!KeyMetadata?.KeyId || !KeyMetadata.Arn)
        throw new Error(`${resource.logicalId}: moto created no key`);
      return { ref: KeyMetadata.KeyId, attrs: { Arn: KeyMetadata.Arn, KeyId: KeyMetadata.KeyId } };
    }
    case 'AWS::DynamoDB::Table': {
      const name = text(props.TableName) ?? generatedName(resource, 255);
      const stream = props.StreamSpecification as { StreamViewType?: string } | undefined;
      const sse = props.SSESpecification as { SSEEnabled?: boolean; KMSMasterKeyId?: string } | undefined;
      const { TableDescription } = await clients.dynamo.send(
        new CreateTableCommand({
          TableName: name,
          AttributeDefinitions: props.AttributeDefinitions as never,
          KeySchema: props.KeySchema as never,
          ...(props.GlobalSecondaryIndexes
            ? { GlobalSecondaryIndexes: props.GlobalSecondaryIndexes as never }
            : {}),
          BillingMode: (text(props.BillingMode) as 'PAY_PER_REQUEST' | undefined) ?? 'PAY_PER_REQUEST',
          ...(stream?.StreamViewType
            ? { StreamSpecification: { StreamEnabled: true, StreamViewType: stream.StreamViewType as never } }
            : {}),
          ...(sse?.SSEEnabled
            ? { SSESpecification: { Enabled: true, SSEType: 'KMS', KMSMasterKeyId: sse.KMSMasterKeyId } }
            : {}),
        }),
      );
      const ttl = props.TimeToLiveSpecification as { AttributeName?: string; Enabled?: boolean } | undefined;
      if (ttl?.Enabled && ttl.AttributeName) {
        await clients.dynamo.send(
          new UpdateTimeToLiveCommand({
            TableName: name,
            TimeToLiveSpecification: { AttributeName: ttl.AttributeName, Enabled: true },
          }),
        );
      }
      const arn =
        TableDescription?.TableArn ?? `arn:aws:dynamodb:${stack.region}:${stack.account}:table/${name}`;
      return {
        ref: name,
        attrs: {
          Arn: arn,
          ...(TableDescription?.LatestStreamArn ? { StreamArn: TableDescription.LatestStreamArn } : {}),
        },
      };
    }
    case 'AWS::SQS::Queue': {
      const fifo = props.FifoQueue === true || props.FifoQueue === 'true';
      const name = text(props.QueueName) ?? generatedName(resource, 80, fifo ? '.fifo' : '');
      const attributes: Record<string, string> = {};
      for (const key of [
        'FifoQueue',
        'ContentBasedDeduplication',
        'VisibilityTimeout',
        'MessageRetentionPeriod',
        'KmsMasterKeyId',
        'KmsDataKeyReusePeriodSeconds',
        'DelaySeconds',
        'ReceiveMessageWaitTimeSeconds',
        'RedrivePolicy',
      ]) {
        const value = text(props[key]);
        if (value !== undefined) attributes[key] = value;
      }
      const { QueueUrl } = await clients.sqs.send(
        new CreateQueueCommand({ QueueName: name, Attributes: attributes }),
      );
      if (!QueueUrl) throw new Error(`${resource.logicalId}: moto created no queue`);
      const { Attributes } = await clients.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
      );
      const arn = Attributes?.QueueArn ?? `arn:aws:sqs:${stack.region}:${stack.account}:${name}`;
      return { ref: QueueUrl, attrs: { Arn: arn, QueueName: name, QueueUrl } };
    }
    case 'AWS::SecretsManager::Secret': {
      // As CloudFormation does with GenerateSecretString: a random value until someone stores the
      // real one (the local runtime stores the Slack stand-in's credentials right after).
      const name = text(props.Name) ?? generatedName(resource, 256);
      const { ARN } = await clients.secrets.send(
        new CreateSecretCommand({
          Name: name,
          ...(text(props.Description) ? { Description: text(props.Description) } : {}),
          SecretString: text(props.SecretString) ?? randomBytes(32).toString('base64url'),
        }),
      );
      if (!ARN) throw new Error(`${resource.logicalId}: moto created no secret`);
      return { ref: ARN, attrs: { Id: ARN } };
    }
    case 'AWS::Scheduler::ScheduleGroup': {
      const name = text(props.Name) ?? generatedName(resource, 64);
      const { ScheduleGroupArn } = await clients.scheduler.send(
        new CreateScheduleGroupCommand({ Name: name }),
      );
      return {
        ref: name,
        attrs: {
          Arn:
            ScheduleGroupArn ?? `arn:aws:scheduler:${stack.region}:${stack.account}:schedule-group/${name}`,
        },
      };
    }
    case 'AWS::IAM::Role': {
      const name = text(props.RoleName) ?? generatedName(resource, 64);
      const { Role } = await clients.iam.send(
        new CreateRoleCommand({
          RoleName: name,
          AssumeRolePolicyDocument: text(props.AssumeRolePolicyDocument),
          ...(text(props.Description) ? { Description: text(props.Description) } : {}),
        }),
      );
      if (!Role?.Arn || !Role.RoleId) throw new Error(`${resource.logicalId}: moto created no role`);
      return { ref: name, attrs: { Arn: Role.Arn, RoleId: Role.RoleId } };
    }
    case 'AWS::SSO::PermissionSet': {
      const instanceArn = text(props.InstanceArn);
      const { PermissionSet } = await clients.ssoAdmin.send(
        new CreatePermissionSetCommand({
          InstanceArn: instanceArn,
          Name: text(props.Name),
          Description: text(props.Description),
          SessionDuration: text(props.SessionDuration),
          ...(Array.isArray(props.Tags) ? { Tags: props.Tags as never } : {}),
        }),
      );
      const arn = PermissionSet?.PermissionSetArn;
      if (!arn) throw new Error(`${resource.logicalId}: moto created no permission set`);
      for (const policy of (props.ManagedPolicies ?? []) as string[]) {
        try {
          await clients.ssoAdmin.send(
            new AttachManagedPolicyToPermissionSetCommand({
              InstanceArn: instanceArn,
              PermissionSetArn: arn,
              ManagedPolicyArn: policy,
            }),
          );
        } catch (error) {
          // moto knows only some AWS managed policies (not e.g. job-function/ViewOnlyAccess) and
          // evaluates none: the set is created without it, and the log says so.
          if (!/Policy does not exist/.test((error as Error).message)) throw error;
          notes.push(`moto does not know ${policy}: ${text(props.Name)} is created without it`);
        }
      }
      if (props.InlinePolicy) {
        await clients.ssoAdmin.send(
          new PutInlinePolicyToPermissionSetCommand({
            InstanceArn: instanceArn,
            PermissionSetArn: arn,
            InlinePolicy: text(props.InlinePolicy),
          }),
        );
      }
      return { ref: `${instanceArn}|${arn}`, attrs: { PermissionSetArn: arn } };
    }
    default:
      throw new Error(
        `${resource.stack}/${resource.logicalId}: the local runtime cannot create ${resource.type} (local/provision.ts)`,
      );
  }
}

/**
 * moto checks a DynamoDB transaction as one action of its own; AWS authorizes each item's action
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html). So a
 * role that may write items may call TransactWriteItems in moto, and one that may read them,
 * TransactGetItems — what AWS would allow item by item.
 */
const MOTO_TRANSACTION_ACTIONS: Readonly<Record<string, readonly string[]>> = {
  'dynamodb:TransactWriteItems': [
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
    'dynamodb:ConditionCheckItem',
  ],
  'dynamodb:TransactGetItems': ['dynamodb:GetItem'],
};

/**
 * Gives a role exactly the actions its template policies allow, on every resource and without
 * conditions: moto evaluates actions (resources only for SQS, IAM and STS; conditions it cannot
 * supply deny), so resources and conditions are proven by the template tests (test/infra/), and a
 * missing action fails here as it would in AWS.
 */
async function grantActions(iam: IAMClient, roleName: string, actions: readonly string[]): Promise<void> {
  const granted = new Set(actions);
  for (const [alias, itemActions] of Object.entries(MOTO_TRANSACTION_ACTIONS))
    if (itemActions.some((action) => granted.has(action))) granted.add(alias);
  if (granted.size === 0) return;
  await iam.send(
    new PutRolePolicyCommand({
      RoleName: roleName,
      PolicyName: 'cloud-pam-template-actions',
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: [...granted].sort(), Resource: '*' }],
      }),
    }),
  );
}
