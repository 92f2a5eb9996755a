// SsoAdminIdentityCenter against responses shaped from the sso-admin API reference (aws-sdk-client-mock),
// and the fault-injection / call-counting middleware against a client whose HTTP handler answers
// canned JSON — aws-sdk-client-mock replaces `send` and so would bypass any middleware.

import { IdentitystoreClient, ListUsersCommand } from '@aws-sdk/client-identitystore';
import {
  AccessDeniedException,
  ConflictException,
  CreateAccountAssignmentCommand,
  DeleteAccountAssignmentCommand,
  DeleteInlinePolicyFromPermissionSetCommand,
  DescribeAccountAssignmentCreationStatusCommand,
  DescribeAccountAssignmentDeletionStatusCommand,
  DescribePermissionSetProvisioningStatusCommand,
  GetInlinePolicyForPermissionSetCommand,
  ListAccountAssignmentsCommand,
  ListInstancesCommand,
  ProvisionPermissionSetCommand,
  PutInlinePolicyToPermissionSetCommand,
  SSOAdminClient,
  SSOAdminServiceException,
  ThrottlingException,
} from '@aws-sdk/client-sso-admin';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  BASE_BACKOFF_MS,
  DEFAULT_MAX_THROTTLE_RETRIES,
  IdentityCenterResponseError,
  MAX_BACKOFF_MS,
  SsoAdminIdentityCenter,
} from '#adapters/aws/identity-center.ts';
import { optional } from '#domain/optional.ts';
import type { AssignmentTuple, OperationStatus } from '#ports/grants.ts';
import { callCounter, type FaultRule, faultInjection } from '../support/fault-injection.ts';

const INSTANCE_ARN = 'arn:aws:sso:::instance/ssoins-1234567890abcdef';
const PERMISSION_SET_ARN = `${INSTANCE_ARN.replace(':instance/', ':permissionSet/')}/ps-abcdef0123456789`;
const ACCOUNT_ID = '111122223333';
const USER_ID = '906722a1e2-1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d';
const TUPLE: AssignmentTuple = {
  userId: USER_ID,
  accountId: ACCOUNT_ID,
  permissionSetArn: PERMISSION_SET_ARN,
};
const REQUEST_ID = '3a6e1a5b-0c2d-4e8f-9a1b-2c3d4e5f6a7b';

const throttled = () =>
  new ThrottlingException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 429 } });

/** An AccountAssignmentOperationStatus / PermissionSetProvisioningStatus as the API reference shows it. */
function statusBody(status: 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED', failureReason?: string) {
  return {
    Status: status,
    RequestId: REQUEST_ID,
    ...(failureReason ? { FailureReason: failureReason } : {}),
    TargetId: ACCOUNT_ID,
    TargetType: 'AWS_ACCOUNT' as const,
    PermissionSetArn: PERMISSION_SET_ARN,
    PrincipalType: 'USER' as const,
    PrincipalId: USER_ID,
    CreatedDate: new Date('2025-01-01T00:00:00Z'),
  };
}

describe('SsoAdminIdentityCenter', () => {
  // The instance, not the class: the middleware tests below need SSOAdminClient's real `send`.
  const client = new SSOAdminClient({ region: 'us-east-1' });
  const ssoAdmin = mockClient(client);
  let sleeps: number[];
  let identityCenter: SsoAdminIdentityCenter;

  function build(options: { maxThrottleRetries?: number; random?: () => number } = {}) {
    return new SsoAdminIdentityCenter({
      client,
      instanceArn: INSTANCE_ARN,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      random: options.random ?? (() => 0.5),
      ...optional('maxThrottleRetries', options.maxThrottleRetries),
    });
  }

  beforeEach(() => {
    ssoAdmin.reset();
    sleeps = [];
    identityCenter = build();
  });

  describe('maps operation statuses', () => {
    type Method = 'create' | 'delete' | 'creation' | 'deletion' | 'provision' | 'provisioning';
    const calls: Record<Method, { given: (body: object) => void; act: () => Promise<OperationStatus> }> = {
      create: {
        given: (body) => ssoAdmin.on(CreateAccountAssignmentCommand).resolves(body),
        act: () => identityCenter.createAssignment(TUPLE),
      },
      delete: {
        given: (body) => ssoAdmin.on(DeleteAccountAssignmentCommand).resolves(body),
        act: () => identityCenter.deleteAssignment(TUPLE),
      },
      creation: {
        given: (body) => ssoAdmin.on(DescribeAccountAssignmentCreationStatusCommand).resolves(body),
        act: () => identityCenter.creationStatus(REQUEST_ID),
      },
      deletion: {
        given: (body) => ssoAdmin.on(DescribeAccountAssignmentDeletionStatusCommand).resolves(body),
        act: () => identityCenter.deletionStatus(REQUEST_ID),
      },
      provision: {
        given: (body) => ssoAdmin.on(ProvisionPermissionSetCommand).resolves(body),
        act: () => identityCenter.provisionPermissionSet(PERMISSION_SET_ARN),
      },
      provisioning: {
        given: (body) => ssoAdmin.on(DescribePermissionSetProvisioningStatusCommand).resolves(body),
        act: () => identityCenter.permissionSetProvisioningStatus(REQUEST_ID),
      },
    };
    const member: Record<Method, string> = {
      create: 'AccountAssignmentCreationStatus',
      delete: 'AccountAssignmentDeletionStatus',
      creation: 'AccountAssignmentCreationStatus',
      deletion: 'AccountAssignmentDeletionStatus',
      provision: 'PermissionSetProvisioningStatus',
      provisioning: 'PermissionSetProvisioningStatus',
    };
    const methods = Object.keys(calls) as Method[];

    it.each(
      methods.flatMap((method) => [
        { method, status: 'IN_PROGRESS' as const, reason: undefined },
        { method, status: 'SUCCEEDED' as const, reason: undefined },
        { method, status: 'FAILED' as const, reason: 'Received a 404 status error: Not supported account' },
      ]),
    )('$method answering $status', async ({ method, status, reason }) => {
      // Prepare
      calls[method].given({ [member[method]]: statusBody(status, reason) });

      // Act
      const result = await calls[method].act();

      // Assess
      expect(result).toEqual({
        status,
        operationId: REQUEST_ID,
        ...(reason ? { failureReason: reason } : {}),
      });
    });

    it.each(
      methods.flatMap((method) => [
        { method, broken: 'no RequestId', body: { [member[method]]: { Status: 'SUCCEEDED' } } },
        { method, broken: 'no Status', body: { [member[method]]: { RequestId: REQUEST_ID } } },
        {
          method,
          broken: 'an unknown Status',
          body: { [member[method]]: { Status: 'DONE', RequestId: REQUEST_ID } },
        },
        { method, broken: 'no status object', body: {} },
      ]),
    )('fails closed when $method answers with $broken', async ({ method, body }) => {
      calls[method].given(body);

      await expect(calls[method].act()).rejects.toBeInstanceOf(IdentityCenterResponseError);
    });
  });

  it('assigns the tuple to a USER principal on an AWS_ACCOUNT target', async () => {
    ssoAdmin
      .on(CreateAccountAssignmentCommand)
      .resolves({ AccountAssignmentCreationStatus: statusBody('IN_PROGRESS') })
      .on(DeleteAccountAssignmentCommand)
      .resolves({ AccountAssignmentDeletionStatus: statusBody('IN_PROGRESS') });

    await identityCenter.createAssignment(TUPLE);
    await identityCenter.deleteAssignment(TUPLE);

    const expected = {
      InstanceArn: INSTANCE_ARN,
      TargetId: ACCOUNT_ID,
      TargetType: 'AWS_ACCOUNT',
      PermissionSetArn: PERMISSION_SET_ARN,
      PrincipalType: 'USER',
      PrincipalId: USER_ID,
    };
    expect(ssoAdmin.commandCalls(CreateAccountAssignmentCommand)[0]?.args[0].input).toEqual(expected);
    expect(ssoAdmin.commandCalls(DeleteAccountAssignmentCommand)[0]?.args[0].input).toEqual(expected);
  });

  it('asks for the status of the operation it is given', async () => {
    ssoAdmin
      .on(DescribeAccountAssignmentCreationStatusCommand)
      .resolves({ AccountAssignmentCreationStatus: statusBody('SUCCEEDED') });

    await identityCenter.creationStatus(REQUEST_ID);

    expect(ssoAdmin.commandCalls(DescribeAccountAssignmentCreationStatusCommand)[0]?.args[0].input).toEqual({
      InstanceArn: INSTANCE_ARN,
      AccountAssignmentCreationRequestId: REQUEST_ID,
    });
  });

  describe('retries', () => {
    it('retries a throttled create with growing full-jitter backoff, then succeeds', async () => {
      // Prepare
      ssoAdmin
        .on(CreateAccountAssignmentCommand)
        .rejectsOnce(throttled())
        .rejectsOnce(throttled())
        .resolves({ AccountAssignmentCreationStatus: statusBody('IN_PROGRESS') });

      // Act
      const result = await identityCenter.createAssignment(TUPLE);

      // Assess
      expect(result.status).toBe('IN_PROGRESS');
      expect(ssoAdmin.commandCalls(CreateAccountAssignmentCommand)).toHaveLength(3);
      // random() = 0.5: half of each ceiling (200 ms, then 400 ms).
      expect(sleeps).toEqual([BASE_BACKOFF_MS / 2, BASE_BACKOFF_MS]);
    });

    it('retries a ConflictException, which the API reference says to retry with backoff', async () => {
      ssoAdmin
        .on(PutInlinePolicyToPermissionSetCommand)
        .rejectsOnce(new ConflictException({ message: 'conflict', $metadata: { httpStatusCode: 409 } }))
        .resolves({});

      await identityCenter.putInlinePolicy(PERMISSION_SET_ARN, '{"Version":"2012-10-17","Statement":[]}');

      expect(ssoAdmin.commandCalls(PutInlinePolicyToPermissionSetCommand)).toHaveLength(2);
    });

    it('retries any HTTP 429, whatever the error is called', async () => {
      const tooMany = new SSOAdminServiceException({
        name: 'TooManyRequestsException',
        $fault: 'client',
        $metadata: { httpStatusCode: 429 },
      });
      ssoAdmin.on(GetInlinePolicyForPermissionSetCommand).rejectsOnce(tooMany).resolves({ InlinePolicy: '' });

      await identityCenter.getInlinePolicy(PERMISSION_SET_ARN);

      expect(ssoAdmin.commandCalls(GetInlinePolicyForPermissionSetCommand)).toHaveLength(2);
    });

    it('rethrows the throttle once the retry budget is spent', async () => {
      identityCenter = build({ maxThrottleRetries: 2 });
      ssoAdmin.on(CreateAccountAssignmentCommand).rejects(throttled());

      await expect(identityCenter.createAssignment(TUPLE)).rejects.toBeInstanceOf(ThrottlingException);

      expect(ssoAdmin.commandCalls(CreateAccountAssignmentCommand)).toHaveLength(3);
      expect(sleeps).toHaveLength(2);
    });

    it(`gives up after ${DEFAULT_MAX_THROTTLE_RETRIES} retries by default, each wait below a capped ceiling`, async () => {
      identityCenter = build({ random: () => 0.999999 });
      ssoAdmin.on(ListAccountAssignmentsCommand).rejects(throttled());

      await expect(identityCenter.listUserAssignments(ACCOUNT_ID, PERMISSION_SET_ARN)).rejects.toThrow(
        'Rate exceeded',
      );

      expect(ssoAdmin.commandCalls(ListAccountAssignmentsCommand)).toHaveLength(
        DEFAULT_MAX_THROTTLE_RETRIES + 1,
      );
      const ceilings = sleeps.map((_, n) => Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** n));
      sleeps.forEach((ms, n) => {
        expect(ms).toBeGreaterThanOrEqual(0);
        expect(ms).toBeLessThan(ceilings[n] as number);
      });
      expect(Math.max(...sleeps)).toBeLessThan(MAX_BACKOFF_MS);
    });

    it.each([
      { name: 'AccessDeniedException', error: new AccessDeniedException({ message: 'no', $metadata: {} }) },
      { name: 'a network error', error: new Error('socket hang up') },
    ])('does not retry $name', async ({ error }) => {
      ssoAdmin.on(DeleteAccountAssignmentCommand).rejects(error);

      await expect(identityCenter.deleteAssignment(TUPLE)).rejects.toThrow();

      expect(ssoAdmin.commandCalls(DeleteAccountAssignmentCommand)).toHaveLength(1);
      expect(sleeps).toEqual([]);
    });
  });

  describe('listUserAssignments', () => {
    const assignment = (principalType: 'USER' | 'GROUP', principalId: string) => ({
      AccountId: ACCOUNT_ID,
      PermissionSetArn: PERMISSION_SET_ARN,
      PrincipalType: principalType,
      PrincipalId: principalId,
    });

    it('pages through every assignment and keeps only users, each once', async () => {
      // Prepare
      ssoAdmin
        .on(ListAccountAssignmentsCommand)
        .resolves({
          AccountAssignments: [assignment('USER', 'u-1'), assignment('GROUP', 'g-1')],
          NextToken: 't1',
        })
        .on(ListAccountAssignmentsCommand, { NextToken: 't1' })
        .resolves({
          AccountAssignments: [assignment('USER', 'u-2'), assignment('USER', 'u-1')],
          NextToken: 't2',
        })
        .on(ListAccountAssignmentsCommand, { NextToken: 't2' })
        .resolves({ AccountAssignments: [assignment('GROUP', 'g-2')] });

      // Act
      const users = await identityCenter.listUserAssignments(ACCOUNT_ID, PERMISSION_SET_ARN);

      // Assess
      expect(users).toEqual(['u-1', 'u-2']);
      const inputs = ssoAdmin.commandCalls(ListAccountAssignmentsCommand).map((call) => call.args[0].input);
      expect(inputs).toHaveLength(3);
      expect(inputs[0]).toEqual({
        InstanceArn: INSTANCE_ARN,
        AccountId: ACCOUNT_ID,
        PermissionSetArn: PERMISSION_SET_ARN,
        MaxResults: 100,
      });
      expect(inputs.map((input) => input.NextToken)).toEqual([undefined, 't1', 't2']);
    });

    it('answers an empty list when nothing is assigned', async () => {
      ssoAdmin.on(ListAccountAssignmentsCommand).resolves({ AccountAssignments: [] });

      await expect(identityCenter.listUserAssignments(ACCOUNT_ID, PERMISSION_SET_ARN)).resolves.toEqual([]);
    });

    it('refuses a NextToken handed back twice rather than loop or answer a partial list', async () => {
      ssoAdmin
        .on(ListAccountAssignmentsCommand)
        .resolves({ AccountAssignments: [assignment('USER', 'u-1')], NextToken: 'same' });

      await expect(identityCenter.listUserAssignments(ACCOUNT_ID, PERMISSION_SET_ARN)).rejects.toThrow(
        'same NextToken twice',
      );
    });
  });

  describe('inline policy', () => {
    it.each([
      { shape: 'an empty string', body: { InlinePolicy: '' } },
      { shape: 'no InlinePolicy member', body: {} },
    ])('answers undefined for $shape', async ({ body }) => {
      ssoAdmin.on(GetInlinePolicyForPermissionSetCommand).resolves(body);

      await expect(identityCenter.getInlinePolicy(PERMISSION_SET_ARN)).resolves.toBeUndefined();
    });

    it('answers the document as stored', async () => {
      const document = '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}';
      ssoAdmin.on(GetInlinePolicyForPermissionSetCommand).resolves({ InlinePolicy: document });

      await expect(identityCenter.getInlinePolicy(PERMISSION_SET_ARN)).resolves.toBe(document);
    });

    it('puts a document, and deletes the policy for an empty one', async () => {
      ssoAdmin.on(PutInlinePolicyToPermissionSetCommand).resolves({});
      ssoAdmin.on(DeleteInlinePolicyFromPermissionSetCommand).resolves({});

      await identityCenter.putInlinePolicy(PERMISSION_SET_ARN, '{"Statement":[]}');
      await identityCenter.putInlinePolicy(PERMISSION_SET_ARN, '  ');

      expect(ssoAdmin.commandCalls(PutInlinePolicyToPermissionSetCommand)[0]?.args[0].input).toEqual({
        InstanceArn: INSTANCE_ARN,
        PermissionSetArn: PERMISSION_SET_ARN,
        InlinePolicy: '{"Statement":[]}',
      });
      expect(ssoAdmin.commandCalls(PutInlinePolicyToPermissionSetCommand)).toHaveLength(1);
      expect(ssoAdmin.commandCalls(DeleteInlinePolicyFromPermissionSetCommand)).toHaveLength(1);
    });
  });

  it('re-provisions a permission set to every account it is provisioned to', async () => {
    ssoAdmin
      .on(ProvisionPermissionSetCommand)
      .resolves({ PermissionSetProvisioningStatus: statusBody('IN_PROGRESS') });

    await identityCenter.provisionPermissionSet(PERMISSION_SET_ARN);

    expect(ssoAdmin.commandCalls(ProvisionPermissionSetCommand)[0]?.args[0].input).toEqual({
      InstanceArn: INSTANCE_ARN,
      PermissionSetArn: PERMISSION_SET_ARN,
      TargetType: 'ALL_PROVISIONED_ACCOUNTS',
    });
  });
});

/**
 * A client whose HTTP handler answers from `bodies` by operation (the awsJson1_1 `X-Amz-Target`),
 * so the whole middleware stack — and the plugins under test — runs. Records what reached "the wire".
 */
function cannedClient<C extends SSOAdminClient | IdentitystoreClient>(
  Ctor: new (config: object) => C,
  bodies: Record<string, object>,
) {
  const wire: string[] = [];
  const client = new Ctor({
    region: 'us-east-1',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    maxAttempts: 1,
    requestHandler: {
      async handle(request: { headers: Record<string, string> }) {
        const target = request.headers['x-amz-target'] ?? '';
        const operation = target.slice(target.indexOf('.') + 1);
        wire.push(operation);
        const body = bodies[operation];
        return {
          response: {
            statusCode: body ? 200 : 400,
            headers: { 'content-type': 'application/x-amz-json-1.1' },
            body: new TextEncoder().encode(
              JSON.stringify(body ?? { __type: 'ValidationException', message: `no canned ${operation}` }),
            ),
          },
        };
      },
    },
  });
  return { client, wire };
}

const SUCCEEDED_CREATE = {
  AccountAssignmentCreationStatus: { Status: 'SUCCEEDED', RequestId: REQUEST_ID, PrincipalId: USER_ID },
};
const SSO_BODIES = {
  CreateAccountAssignment: SUCCEEDED_CREATE,
  DescribeAccountAssignmentCreationStatus: SUCCEEDED_CREATE,
  DeleteAccountAssignment: {
    AccountAssignmentDeletionStatus: { Status: 'SUCCEEDED', RequestId: REQUEST_ID },
  },
  ProvisionPermissionSet: {
    PermissionSetProvisioningStatus: { Status: 'SUCCEEDED', RequestId: REQUEST_ID },
  },
  ListInstances: { Instances: [] },
};

describe('faultInjection', () => {
  function faultyClient(rules: FaultRule[]) {
    const { client, wire } = cannedClient(SSOAdminClient, SSO_BODIES);
    const faults = faultInjection(rules);
    client.middlewareStack.use(faults);
    const calls = callCounter();
    client.middlewareStack.use(calls);
    return { client, wire, faults, calls };
  }

  const create = () =>
    new CreateAccountAssignmentCommand({
      InstanceArn: INSTANCE_ARN,
      TargetId: ACCOUNT_ID,
      TargetType: 'AWS_ACCOUNT',
      PermissionSetArn: PERMISSION_SET_ARN,
      PrincipalType: 'USER',
      PrincipalId: USER_ID,
    });

  it('throttles exactly the next N matching calls, before they reach the service, then passes through', async () => {
    // Prepare
    const { client, wire, faults } = faultyClient([
      { command: 'CreateAccountAssignmentCommand', fault: 'throttle', times: 2 },
    ]);

    // Act
    const outcomes = [];
    for (let n = 0; n < 3; n++) outcomes.push(await client.send(create()).catch((error: unknown) => error));

    // Assess
    for (const error of outcomes.slice(0, 2)) {
      expect(error).toBeInstanceOf(ThrottlingException);
      expect((error as ThrottlingException).$metadata.httpStatusCode).toBe(429);
    }
    expect(outcomes[2]).toMatchObject({ AccountAssignmentCreationStatus: { Status: 'SUCCEEDED' } });
    expect(wire).toEqual(['CreateAccountAssignment']);
    expect(faults.injected()).toBe(2);
    expect(faults.remaining()).toBe(0);
  });

  it('leaves other commands alone', async () => {
    const { client, wire } = faultyClient([
      { command: 'CreateAccountAssignmentCommand', fault: 'throttle', times: 5 },
    ]);

    await client.send(new ListInstancesCommand({}));

    expect(wire).toEqual(['ListInstances']);
  });

  it('reports IN_PROGRESS for N status answers, then the real one', async () => {
    const { client, faults } = faultyClient([
      { command: 'DescribeAccountAssignmentCreationStatusCommand', fault: 'in-progress', times: 2 },
    ]);
    const describe = () =>
      client.send(
        new DescribeAccountAssignmentCreationStatusCommand({
          InstanceArn: INSTANCE_ARN,
          AccountAssignmentCreationRequestId: REQUEST_ID,
        }),
      );

    const statuses = [];
    for (let n = 0; n < 3; n++) statuses.push((await describe()).AccountAssignmentCreationStatus?.Status);

    expect(statuses).toEqual(['IN_PROGRESS', 'IN_PROGRESS', 'SUCCEEDED']);
    expect(faults.injected()).toBe(2);
  });

  it.each([
    { command: 'DeleteAccountAssignmentCommand', member: 'AccountAssignmentDeletionStatus' },
    { command: 'ProvisionPermissionSetCommand', member: 'PermissionSetProvisioningStatus' },
  ])('reports FAILED with the rule’s FailureReason on $command', async ({ command, member }) => {
    const { client } = faultyClient([
      { command, fault: 'failed', times: 1, failureReason: 'Request failed: the role could not be created' },
    ]);
    const send =
      command === 'DeleteAccountAssignmentCommand'
        ? () =>
            client.send(
              new DeleteAccountAssignmentCommand({
                InstanceArn: INSTANCE_ARN,
                TargetId: ACCOUNT_ID,
                TargetType: 'AWS_ACCOUNT',
                PermissionSetArn: PERMISSION_SET_ARN,
                PrincipalType: 'USER',
                PrincipalId: USER_ID,
              }),
            )
        : () =>
            client.send(
              new ProvisionPermissionSetCommand({
                InstanceArn: INSTANCE_ARN,
                PermissionSetArn: PERMISSION_SET_ARN,
                TargetType: 'ALL_PROVISIONED_ACCOUNTS',
              }),
            );

    const first = (await send()) as unknown as Record<string, { Status: string; FailureReason?: string }>;
    const second = (await send()) as unknown as Record<string, { Status: string; FailureReason?: string }>;

    expect(first[member]).toMatchObject({
      Status: 'FAILED',
      RequestId: REQUEST_ID,
      FailureReason: 'Request failed: the role could not be created',
    });
    expect(second[member]).toMatchObject({ Status: 'SUCCEEDED' });
    expect(second[member]?.FailureReason).toBeUndefined();
  });

  it('refuses to rewrite a command that carries no operation status', async () => {
    const { client } = faultyClient([{ command: 'ListInstancesCommand', fault: 'in-progress', times: 1 }]);

    await expect(client.send(new ListInstancesCommand({}))).rejects.toThrow('no operation status to rewrite');
  });

  it('matches only the named client when one is given', async () => {
    const { client, wire } = faultyClient([
      { command: 'CreateAccountAssignmentCommand', client: 'SomeOtherClient', fault: 'throttle', times: 1 },
    ]);

    await client.send(create());

    expect(wire).toEqual(['CreateAccountAssignment']);
  });

  it('drives the adapter: throttles are retried, IN_PROGRESS and FAILED reach the caller', async () => {
    // Prepare
    const { client, calls, faults } = faultyClient([
      { command: 'CreateAccountAssignmentCommand', fault: 'throttle', times: 2 },
      { command: 'DescribeAccountAssignmentCreationStatusCommand', fault: 'in-progress', times: 1 },
      { command: 'DescribeAccountAssignmentCreationStatusCommand', fault: 'failed', times: 1 },
    ]);
    const identityCenter = new SsoAdminIdentityCenter({
      client,
      instanceArn: INSTANCE_ARN,
      sleep: async () => {},
    });

    // Act
    const created = await identityCenter.createAssignment(TUPLE);
    const polled = [
      await identityCenter.creationStatus(created.operationId),
      await identityCenter.creationStatus(created.operationId),
      await identityCenter.creationStatus(created.operationId),
    ];

    // Assess
    expect(created).toEqual({ status: 'SUCCEEDED', operationId: REQUEST_ID });
    expect(polled.map((status) => status.status)).toEqual(['IN_PROGRESS', 'FAILED', 'SUCCEEDED']);
    expect(polled[1]?.failureReason).toBe('Injected failure');
    expect(calls.counts()).toEqual({
      'SSOAdminClient.CreateAccountAssignmentCommand': 3,
      'SSOAdminClient.DescribeAccountAssignmentCreationStatusCommand': 3,
    });
    expect(faults.remaining()).toBe(0);
  });

  it('takes rules added while in use', async () => {
    const { client, faults } = faultyClient([]);
    await client.send(create());

    faults.add({ command: 'CreateAccountAssignmentCommand', fault: 'throttle', times: 1 });

    await expect(client.send(create())).rejects.toBeInstanceOf(ThrottlingException);
    await expect(client.send(create())).resolves.toBeDefined();
  });
});

describe('callCounter', () => {
  it('counts calls per client and command, and starts again after reset', async () => {
    // Prepare
    const sso = cannedClient(SSOAdminClient, SSO_BODIES);
    const store = cannedClient(IdentitystoreClient, { ListUsers: { Users: [] } });
    const calls = callCounter();
    sso.client.middlewareStack.use(calls);
    store.client.middlewareStack.use(calls);

    // Act
    await sso.client.send(new ListInstancesCommand({}));
    await sso.client.send(new ListInstancesCommand({}));
    await sso.client.send(
      new ProvisionPermissionSetCommand({
        InstanceArn: INSTANCE_ARN,
        PermissionSetArn: PERMISSION_SET_ARN,
        TargetType: 'ALL_PROVISIONED_ACCOUNTS',
      }),
    );
    await store.client.send(new ListUsersCommand({ IdentityStoreId: 'd-1234567890' }));
    const before = calls.counts();
    calls.reset();
    await sso.client.send(new ListInstancesCommand({}));

    // Assess
    expect(before).toEqual({
      'SSOAdminClient.ListInstancesCommand': 2,
      'SSOAdminClient.ProvisionPermissionSetCommand': 1,
      'IdentitystoreClient.ListUsersCommand': 1,
    });
    expect(calls.counts()).toEqual({ 'SSOAdminClient.ListInstancesCommand': 1 });
  });

  it('counts calls that fail too', async () => {
    const { client } = cannedClient(SSOAdminClient, {});
    const calls = callCounter();
    client.middlewareStack.use(calls);

    await expect(client.send(new ListInstancesCommand({}))).rejects.toThrow();

    expect(calls.counts()).toEqual({ 'SSOAdminClient.ListInstancesCommand': 1 });
  });
});
