// local/aws-proxy.ts between real SDK v3 clients and moto, in this file's own moto account: every
// client's `endpoint` is the proxy and still carries `x-moto-account-id`, which the proxy passes on.
// One protocol family per client: awsJson 1.0 (DynamoDB, SQS), awsJson 1.1 (SSO Admin), restJson1
// (EventBridge Scheduler), awsQuery (IAM).
import { randomUUID } from 'node:crypto';
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type Server,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { CreateRoleCommand, GetRoleCommand, IAMClient, ListRolesCommand } from '@aws-sdk/client-iam';
import { DescribeUserCommand, IdentitystoreClient } from '@aws-sdk/client-identitystore';
import {
  CreateScheduleCommand,
  CreateScheduleGroupCommand,
  DeleteScheduleCommand,
  DeleteScheduleGroupCommand,
  GetScheduleCommand,
  GetScheduleGroupCommand,
  ListScheduleGroupsCommand,
  ListSchedulesCommand,
  SchedulerClient,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import {
  CreateQueueCommand,
  ListQueuesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import {
  CreateAccountAssignmentCommand,
  CreatePermissionSetCommand,
  ListAccountAssignmentsCommand,
  ListInstancesCommand,
  SSOAdminClient,
} from '@aws-sdk/client-sso-admin';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AwsProxy, startAwsProxy } from '../../local/aws-proxy.ts';
import { motoAccount, motoClient, motoClientConfig, motoEndpoint, testAccountId } from '../support/moto.ts';

const ACCOUNT = testAccountId();
const TARGET_ACCOUNT = '210987654321';
const TABLE = 'proxy-items';

type Use = { middlewareStack: { use(plugin: unknown): void } };

/** A client for this file's moto account that talks to `endpoint` (the proxy). */
function through<C>(
  // biome-ignore lint/suspicious/noExplicitAny: SDK clients declare their config as a rest tuple.
  Ctor: new (...args: any[]) => C,
  endpoint: string,
  maxAttempts = 1,
): C {
  const client = new Ctor({ ...motoClientConfig(), endpoint, maxAttempts });
  (client as unknown as Use).middlewareStack.use(motoAccount(ACCOUNT));
  return client;
}

/** What a rejected SDK call surfaced. */
async function failure(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    const e = error as Error & { $metadata?: { httpStatusCode?: number; attempts?: number } };
    return {
      name: e.name,
      message: e.message,
      status: e.$metadata?.httpStatusCode,
      attempts: e.$metadata?.attempts,
    };
  }
  throw new Error('expected the call to fail');
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('the AWS proxy in front of moto', () => {
  let proxy: AwsProxy;
  let dynamo: DynamoDBClient;
  let sqs: SQSClient;
  let sso: SSOAdminClient;
  let scheduler: SchedulerClient;
  let iam: IAMClient;
  let instanceArn: string;

  beforeAll(async () => {
    proxy = await startAwsProxy({ upstream: motoEndpoint() });
    dynamo = through(DynamoDBClient, proxy.endpoint);
    sqs = through(SQSClient, proxy.endpoint);
    sso = through(SSOAdminClient, proxy.endpoint);
    scheduler = through(SchedulerClient, proxy.endpoint);
    iam = through(IAMClient, proxy.endpoint);
    await dynamo.send(
      new CreateTableCommand({
        TableName: TABLE,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      }),
    );
    const { Instances } = await sso.send(new ListInstancesCommand({}));
    instanceArn = Instances?.[0]?.InstanceArn ?? '';
    expect(instanceArn).toMatch(/^arn:aws:sso:::instance\//);
    proxy.resetCounts();
  });

  afterEach(() => {
    proxy.clearFaults();
    proxy.clearCrash();
    proxy.resetCounts();
  });

  afterAll(async () => {
    await proxy?.close();
  });

  const putItem = (pk: string, client: DynamoDBClient = dynamo) =>
    client.send(new PutItemCommand({ TableName: TABLE, Item: { pk: { S: pk }, at: { S: 'now' } } }));
  const getItem = (pk: string) =>
    dynamo.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: pk } }, ConsistentRead: true }));

  async function permissionSet(): Promise<string> {
    const { PermissionSet } = await sso.send(
      new CreatePermissionSetCommand({
        InstanceArn: instanceArn,
        Name: `ps-${randomUUID().slice(0, 8)}`,
        SessionDuration: 'PT1H',
      }),
    );
    return PermissionSet?.PermissionSetArn ?? '';
  }
  const assign = (permissionSetArn: string, principalId: string) =>
    sso.send(
      new CreateAccountAssignmentCommand({
        InstanceArn: instanceArn,
        PermissionSetArn: permissionSetArn,
        PrincipalType: 'USER',
        PrincipalId: principalId,
        TargetType: 'AWS_ACCOUNT',
        TargetId: TARGET_ACCOUNT,
      }),
    );
  const assignedUsers = async (permissionSetArn: string) => {
    const { AccountAssignments } = await sso.send(
      new ListAccountAssignmentsCommand({
        InstanceArn: instanceArn,
        AccountId: TARGET_ACCOUNT,
        PermissionSetArn: permissionSetArn,
      }),
    );
    return (AccountAssignments ?? []).map((a) => a.PrincipalId);
  };

  describe('forwarding and counting', () => {
    it('forwards awsJson 1.0 (DynamoDB) with the moto account header and counts each operation', async () => {
      // Act
      await putItem('k-forward');
      const { Item } = await getItem('k-forward');
      const direct = motoClient(DynamoDBClient, ACCOUNT);
      const otherAccount = motoClient(DynamoDBClient, testAccountId());

      // Assess: the item is in this account's moto state, reached through the proxy
      expect(Item?.pk?.S).toBe('k-forward');
      expect((await direct.send(new DescribeTableCommand({ TableName: TABLE }))).Table?.TableName).toBe(
        TABLE,
      );
      expect((await failure(otherAccount.send(new DescribeTableCommand({ TableName: TABLE })))).name).toBe(
        'ResourceNotFoundException',
      );
      expect(proxy.counts()).toEqual({ 'dynamodb:PutItem': 1, 'dynamodb:GetItem': 1 });
      expect(proxy.total()).toBe(2);
      expect(proxy.calls.map(({ service, operation, status }) => ({ service, operation, status }))).toEqual([
        { service: 'dynamodb', operation: 'PutItem', status: 200 },
        { service: 'dynamodb', operation: 'GetItem', status: 200 },
      ]);
      expect(proxy.calls[0]?.input).toEqual({
        TableName: TABLE,
        Item: { pk: { S: 'k-forward' }, at: { S: 'now' } },
      });
    });

    it('forwards awsJson 1.0 (SQS), and queue URLs point back at the proxy', async () => {
      // Act
      const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'proxy-forward' }));
      await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'hello' }));
      const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 0 }));

      // Assess
      expect(QueueUrl?.startsWith(proxy.endpoint)).toBe(true);
      expect(Messages?.map((m) => m.Body)).toEqual(['hello']);
      expect(proxy.counts()).toEqual({
        'sqs:CreateQueue': 1,
        'sqs:SendMessage': 1,
        'sqs:ReceiveMessage': 1,
      });
    });

    it('forwards awsJson 1.1 (SSO Admin)', async () => {
      // Act
      const { Instances } = await sso.send(new ListInstancesCommand({}));
      const permissionSetArn = await permissionSet();

      // Assess
      expect(Instances?.[0]?.InstanceArn).toBe(instanceArn);
      expect(permissionSetArn).toMatch(/\/ps-[a-z0-9]+$/);
      expect(proxy.counts()).toEqual({ 'sso:ListInstances': 1, 'sso:CreatePermissionSet': 1 });
      expect(proxy.calls[1]?.input).toMatchObject({ InstanceArn: instanceArn, SessionDuration: 'PT1H' });
    });

    it('names every restJson1 (Scheduler) operation from its method and path', async () => {
      // Prepare
      const target = {
        Arn: `arn:aws:sqs:us-east-1:${ACCOUNT}:proxy-forward`,
        RoleArn: `arn:aws:iam::${ACCOUNT}:role/scheduler`,
      };
      const schedule = (expression: string) => ({
        Name: 'expire-1',
        GroupName: 'proxy-group',
        ScheduleExpression: expression,
        FlexibleTimeWindow: { Mode: 'OFF' as const },
        Target: target,
      });

      // Act
      await scheduler.send(new CreateScheduleGroupCommand({ Name: 'proxy-group' }));
      await scheduler.send(new GetScheduleGroupCommand({ Name: 'proxy-group' }));
      await scheduler.send(new ListScheduleGroupsCommand({}));
      await scheduler.send(new CreateScheduleCommand(schedule('at(2030-01-01T00:00:00)')));
      await scheduler.send(new UpdateScheduleCommand(schedule('at(2031-01-01T00:00:00)')));
      const got = await scheduler.send(
        new GetScheduleCommand({ Name: 'expire-1', GroupName: 'proxy-group' }),
      );
      const { Schedules } = await scheduler.send(new ListSchedulesCommand({ GroupName: 'proxy-group' }));
      await scheduler.send(new DeleteScheduleCommand({ Name: 'expire-1', GroupName: 'proxy-group' }));
      await scheduler.send(new DeleteScheduleGroupCommand({ Name: 'proxy-group' }));

      // Assess
      expect(got.ScheduleExpression).toBe('at(2031-01-01T00:00:00)');
      expect(Schedules?.map((s) => s.Name)).toEqual(['expire-1']);
      expect(proxy.counts()).toEqual({
        'scheduler:CreateScheduleGroup': 1,
        'scheduler:GetScheduleGroup': 1,
        'scheduler:ListScheduleGroups': 1,
        'scheduler:CreateSchedule': 1,
        'scheduler:UpdateSchedule': 1,
        'scheduler:GetSchedule': 1,
        'scheduler:ListSchedules': 1,
        'scheduler:DeleteSchedule': 1,
        'scheduler:DeleteScheduleGroup': 1,
      });
      expect(proxy.calls[3]?.input).toMatchObject({ ScheduleExpression: 'at(2030-01-01T00:00:00)' });
    });

    it('names awsQuery (IAM) operations from the Action parameter', async () => {
      // Act
      await iam.send(new CreateRoleCommand({ RoleName: 'proxy-role', AssumeRolePolicyDocument: '{}' }));
      const { Role } = await iam.send(new GetRoleCommand({ RoleName: 'proxy-role' }));
      await iam.send(new ListRolesCommand({}));

      // Assess
      expect(Role?.Arn).toBe(`arn:aws:iam::${ACCOUNT}:role/proxy-role`);
      expect(proxy.counts()).toEqual({ 'iam:CreateRole': 1, 'iam:GetRole': 1, 'iam:ListRoles': 1 });
      expect(proxy.calls[0]?.input).toBeUndefined();
    });
  });

  describe('throttling', () => {
    it('answers the AWS JSON throttle shape without forwarding', async () => {
      // Prepare: a hand-made awsJson 1.1 request; only the credential scope and target matter
      proxy.inject({ service: 'sso', operation: 'ListInstances', times: 1, fault: { kind: 'throttle' } });

      // Act
      const response = await fetch(proxy.endpoint, {
        method: 'POST',
        headers: {
          authorization:
            'AWS4-HMAC-SHA256 Credential=testing/20261129/us-east-1/sso/aws4_request, SignedHeaders=host, Signature=00',
          'x-amz-target': 'SWBExternalService.ListInstances',
          'content-type': 'application/x-amz-json-1.1',
        },
        body: '{}',
      });

      // Assess
      expect(response.status).toBe(400);
      expect(response.headers.get('x-amzn-errortype')).toBe('ThrottlingException');
      expect(response.headers.get('content-type')).toBe('application/x-amz-json-1.1');
      expect(await response.json()).toEqual({
        __type: 'ThrottlingException',
        message: 'Rate exceeded (injected)',
      });
      expect(proxy.calls.map((c) => c.injected)).toEqual(['throttle']);
    });

    it('surfaces a throttle as ThrottlingException with one attempt', async () => {
      // Prepare
      proxy.inject({ service: 'sso', operation: 'ListInstances', times: 1, fault: { kind: 'throttle' } });

      // Act
      const error = await failure(sso.send(new ListInstancesCommand({})));

      // Assess
      expect(error).toMatchObject({ name: 'ThrottlingException', status: 400, attempts: 1 });
      expect(proxy.remaining()).toBe(0);
      expect(proxy.counts()).toEqual({ 'sso:ListInstances': 1 });
    });

    it('lets the SDK retry throttles away with three attempts', async () => {
      // Prepare
      const retrying = through(SSOAdminClient, proxy.endpoint, 3);
      proxy.inject({ operation: 'ListInstances', times: 2, fault: { kind: 'throttle' } });

      // Act
      const listed = await retrying.send(new ListInstancesCommand({}));

      // Assess
      expect(listed.Instances?.[0]?.InstanceArn).toBe(instanceArn);
      expect(listed.$metadata.attempts).toBe(3);
      expect(proxy.counts()).toEqual({ 'sso:ListInstances': 3 });
      expect(proxy.calls.map((c) => c.status)).toEqual([400, 400, 200]);
    });

    it('throttles awsQuery calls with the XML error IAM answers', async () => {
      // Prepare
      proxy.inject({ service: 'iam', operation: 'ListRoles', times: 1, fault: { kind: 'throttle' } });

      // Act
      const error = await failure(iam.send(new ListRolesCommand({})));

      // Assess
      expect(error).toMatchObject({ name: 'Throttling', status: 400 });
    });

    it('throttles only the service the rule names', async () => {
      // Prepare
      proxy.inject({ service: 'sqs', operation: 'GetItem', times: 1, fault: { kind: 'throttle' } });

      // Act
      await getItem('anything');

      // Assess
      expect(proxy.remaining()).toBe(1);
    });
  });

  describe('errors and lost responses', () => {
    it('answers an injected error without the call reaching moto', async () => {
      // Prepare
      const name = `never-${randomUUID().slice(0, 8)}`;
      proxy.inject({
        service: 'sqs',
        operation: 'CreateQueue',
        times: 1,
        fault: { kind: 'error', status: 400, type: 'QueueDeletedRecently', message: 'wait a minute' },
      });

      // Act
      const error = await failure(sqs.send(new CreateQueueCommand({ QueueName: name })));
      const { QueueUrls } = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: name }));

      // Assess
      expect(error).toMatchObject({ name: 'QueueDeletedRecently', message: 'wait a minute', status: 400 });
      expect(QueueUrls ?? []).toEqual([]);
      expect(proxy.calls.map((c) => [c.operation, c.status, c.injected])).toEqual([
        ['CreateQueue', 400, 'error'],
        ['ListQueues', 200, undefined],
      ]);
    });

    it('answers an injected awsQuery error in the XML shape, without the call reaching moto', async () => {
      // Prepare
      proxy.inject({
        service: 'iam',
        operation: 'CreateRole',
        times: 1,
        fault: { kind: 'error', status: 409, type: 'EntityAlreadyExists', message: 'taken' },
      });

      // Act
      const error = await failure(
        iam.send(new CreateRoleCommand({ RoleName: 'proxy-never', AssumeRolePolicyDocument: '{}' })),
      );
      const lookup = await failure(iam.send(new GetRoleCommand({ RoleName: 'proxy-never' })));

      // Assess
      expect(error).toMatchObject({ name: 'EntityAlreadyExistsException', message: 'taken', status: 409 });
      expect(lookup.name).toBe('NoSuchEntityException');
    });

    it('loses the response of a call that did reach moto, only for the input `when` accepts', async () => {
      // Prepare
      proxy.inject({
        service: 'dynamodb',
        operation: 'PutItem',
        times: 5,
        fault: { kind: 'lose-response' },
        when: (input) => (input as { Item?: { pk?: { S?: string } } }).Item?.pk?.S === 'k-lost',
      });

      // Act
      await putItem('k-kept');
      const error = await failure(putItem('k-lost'));
      const { Item } = await getItem('k-lost');

      // Assess
      expect(error).toMatchObject({ name: 'InternalFailure', status: 500 });
      expect(Item?.pk?.S).toBe('k-lost');
      expect(proxy.remaining()).toBe(4);
    });
  });

  describe('operation status rewrites', () => {
    it('reports a created assignment IN_PROGRESS', async () => {
      // Prepare
      const permissionSetArn = await permissionSet();
      const user = randomUUID();
      proxy.inject({
        service: 'sso',
        operation: 'CreateAccountAssignment',
        times: 1,
        fault: { kind: 'status', status: 'IN_PROGRESS' },
      });

      // Act
      const { AccountAssignmentCreationStatus: status } = await assign(permissionSetArn, user);
      const users = await assignedUsers(permissionSetArn);

      // Assess: rewritten, yet the assignment exists on moto
      expect(status?.Status).toBe('IN_PROGRESS');
      expect(status?.RequestId).toMatch(/^[0-9a-f-]{36}$/);
      expect(status?.PrincipalId).toBe(user);
      expect(status?.FailureReason).toBeUndefined();
      expect(users).toEqual([user]);
      expect(proxy.remaining()).toBe(0);
    });

    it('reports a created assignment FAILED with the rule’s reason', async () => {
      // Prepare
      const permissionSetArn = await permissionSet();
      proxy.inject({
        service: 'sso',
        operation: 'CreateAccountAssignment',
        times: 1,
        fault: { kind: 'status', status: 'FAILED', failureReason: 'Principal not found' },
      });

      // Act
      const first = await assign(permissionSetArn, randomUUID());
      const second = await assign(permissionSetArn, randomUUID());

      // Assess: only the first is rewritten
      expect(first.AccountAssignmentCreationStatus).toMatchObject({
        Status: 'FAILED',
        FailureReason: 'Principal not found',
      });
      expect(second.AccountAssignmentCreationStatus?.Status).toBe('SUCCEEDED');
    });

    it('fails loudly when the operation has no status to rewrite, and keeps the injection', async () => {
      // Prepare
      proxy.inject({ operation: 'ListInstances', times: 1, fault: { kind: 'status', status: 'FAILED' } });

      // Act
      const error = await failure(sso.send(new ListInstancesCommand({})));

      // Assess
      expect(error.status).toBe(500);
      expect(error.message).toContain('sso:ListInstances returned no operation status to rewrite');
      expect(proxy.remaining()).toBe(1);
    });
  });

  describe('crash points', () => {
    it('crashAfter(2) fails exactly the third call, not retryably, then clears itself', async () => {
      // Prepare
      const retrying = through(SQSClient, proxy.endpoint, 3);
      proxy.crashAfter(2);

      // Act
      const first = await retrying.send(new ListQueuesCommand({}));
      await dynamo.send(new DescribeTableCommand({ TableName: TABLE }));
      const crashedBefore = proxy.crashed();
      const third = await failure(retrying.send(new ListQueuesCommand({})));
      const fourth = await retrying.send(new ListQueuesCommand({}));

      // Assess
      expect(first.$metadata.httpStatusCode).toBe(200);
      expect(crashedBefore).toBe(false);
      expect(third).toMatchObject({ name: 'InjectedCrash', status: 400, attempts: 1 });
      expect(fourth.$metadata.httpStatusCode).toBe(200);
      expect(proxy.crashed()).toBe(true);
      expect(proxy.calls.map((c) => c.injected ?? c.status)).toEqual([200, 200, 'crash', 200]);
    });

    it('crashAfter(0, { after: true }) crashes once the call has happened', async () => {
      // Prepare
      proxy.crashAfter(0, { after: true });

      // Act
      const error = await failure(putItem('k-crash-after'));
      const { Item } = await getItem('k-crash-after');

      // Assess
      expect(error.name).toBe('InjectedCrash');
      expect(Item?.pk?.S).toBe('k-crash-after');
    });

    it('crashes an awsQuery call with the XML error shape', async () => {
      // Prepare
      proxy.crashAfter(0);

      // Act
      const error = await failure(iam.send(new ListRolesCommand({})));

      // Assess
      expect(error).toMatchObject({ name: 'InjectedCrash', message: 'injected crash', status: 400 });
      expect(proxy.crashed()).toBe(true);
    });
  });

  it('answers through an interceptor without forwarding, until it is unregistered', async () => {
    // Prepare
    const permissionSetArn = await permissionSet();
    const [refused, accepted] = [randomUUID(), randomUUID()];
    const seen: string[] = [];
    const unregister = proxy.answer(({ service, operation, input }) => {
      seen.push(`${service}:${operation}`);
      if (operation !== 'CreateAccountAssignment') return undefined;
      const { PrincipalId } = input as { PrincipalId: string };
      return {
        AccountAssignmentCreationStatus: {
          Status: 'FAILED',
          RequestId: 'req-answered',
          FailureReason: 'Answered by the test',
          PrincipalId,
        },
      };
    });

    // Act
    const answered = await assign(permissionSetArn, refused);
    const listedWhileAnswering = await assignedUsers(permissionSetArn);
    unregister();
    const forwarded = await assign(permissionSetArn, accepted);

    // Assess
    expect(answered.AccountAssignmentCreationStatus).toEqual({
      Status: 'FAILED',
      RequestId: 'req-answered',
      FailureReason: 'Answered by the test',
      PrincipalId: refused,
    });
    expect(listedWhileAnswering).toEqual([]);
    expect(forwarded.AccountAssignmentCreationStatus?.Status).toBe('SUCCEEDED');
    expect(await assignedUsers(permissionSetArn)).toEqual([accepted]);
    expect(seen).toEqual(['sso:CreateAccountAssignment', 'sso:ListAccountAssignments']);
    expect(proxy.counts()['sso:CreateAccountAssignment']).toBe(2);
  });

  it('sends a routed service elsewhere, and back to moto when the route is removed', async () => {
    // Prepare: a stand-in Identity Store that records what reached it
    const received: IncomingHttpHeaders[] = [];
    const fake = createServer((request, response) => {
      received.push(request.headers);
      request.resume();
      request.on('end', () => {
        response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
        response.end(JSON.stringify({ IdentityStoreId: 'd-fake', UserId: 'u-1', UserName: 'fake-alice' }));
      });
    });
    const fakeEndpoint = await listen(fake);
    const routed = await startAwsProxy({ upstream: motoEndpoint(), routes: { identitystore: fakeEndpoint } });
    const store = through(IdentitystoreClient, routed.endpoint);
    const describeUser = () =>
      store.send(new DescribeUserCommand({ IdentityStoreId: 'd-fake', UserId: 'u-1' }));

    try {
      // Act
      const user = await describeUser();
      routed.routeTo('identitystore', undefined);
      const onMoto = await failure(describeUser());
      routed.routeTo('identitystore', fakeEndpoint);
      const again = await describeUser();

      // Assess
      expect(user.UserName).toBe('fake-alice');
      expect(again.UserName).toBe('fake-alice');
      expect(onMoto).toMatchObject({ name: 'ResourceNotFoundException', message: 'USER not found.' });
      expect(received).toHaveLength(2);
      expect(received[0]?.['x-amz-target']).toBe('AWSIdentityStore.DescribeUser');
      expect(received[0]?.['x-moto-account-id']).toBe(ACCOUNT);
      expect(routed.counts()).toEqual({ 'identitystore:DescribeUser': 3 });
    } finally {
      await routed.close();
      await new Promise((resolve) => fake.close(resolve));
    }
  });

  it('counts concurrent calls exactly and hands out a limited fault exactly `times` times', async () => {
    // Prepare
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'proxy-concurrent' }));
    proxy.resetCounts();

    // Act
    await Promise.all([
      ...Array.from({ length: 30 }, (_, i) => putItem(`k-c-${i}`)),
      ...Array.from({ length: 20 }, (_, i) =>
        sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: `${i}` })),
      ),
    ]);
    const counted = proxy.counts();
    proxy.inject({ service: 'dynamodb', operation: 'PutItem', times: 5, fault: { kind: 'throttle' } });
    const outcomes = await Promise.allSettled(Array.from({ length: 25 }, (_, i) => putItem(`k-t-${i}`)));

    // Assess
    expect(counted).toEqual({ 'dynamodb:PutItem': 30, 'sqs:SendMessage': 20 });
    expect(outcomes.filter((o) => o.status === 'rejected')).toHaveLength(5);
    expect(
      outcomes.every((o) => o.status === 'fulfilled' || (o.reason as Error).name === 'ThrottlingException'),
    ).toBe(true);
    expect(proxy.remaining()).toBe(0);
    expect(proxy.total()).toBe(75);
    expect(proxy.calls).toHaveLength(75);
  });

  it('closes promptly with a kept-alive connection open', async () => {
    // Prepare: one request over a keep-alive connection, left open
    const spare = await startAwsProxy({ upstream: motoEndpoint() });
    const agent = new Agent({ keepAlive: true });
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${spare.endpoint}/moto-api/`, { agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });

    // Act
    const started = Date.now();
    await spare.close();
    const took = Date.now() - started;
    agent.destroy();

    // Assess
    expect(status).toBe(200);
    expect(took).toBeLessThan(1_000);
    await expect(fetch(`${spare.endpoint}/moto-api/`)).rejects.toThrow();
  });
});
