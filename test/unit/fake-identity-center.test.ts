// local/fake-identity-center.ts driven the way the product drives Identity Center: through a real SDK v3
// SSOAdminClient over HTTP, plus the fake's in-process controls (polls, failures, the clock) and its own
// evaluation of the policy provisioned in each account.
import { randomUUID } from 'node:crypto';
import {
  AttachManagedPolicyToPermissionSetCommand,
  CreateAccountAssignmentCommand,
  CreatePermissionSetCommand,
  DeleteAccountAssignmentCommand,
  DeleteInlinePolicyFromPermissionSetCommand,
  DeletePermissionSetCommand,
  DescribeAccountAssignmentCreationStatusCommand,
  DescribeAccountAssignmentDeletionStatusCommand,
  DescribePermissionSetCommand,
  DescribePermissionSetProvisioningStatusCommand,
  DetachManagedPolicyFromPermissionSetCommand,
  GetInlinePolicyForPermissionSetCommand,
  ListAccountAssignmentCreationStatusCommand,
  ListAccountAssignmentsCommand,
  ListAccountsForProvisionedPermissionSetCommand,
  ListInstancesCommand,
  ListManagedPoliciesInPermissionSetCommand,
  ListPermissionSetProvisioningStatusCommand,
  ListPermissionSetsCommand,
  ListTagsForResourceCommand,
  type PrincipalType,
  type ProvisioningStatus,
  ProvisionPermissionSetCommand,
  PutInlinePolicyToPermissionSetCommand,
  SSOAdminClient,
  TagResourceCommand,
} from '@aws-sdk/client-sso-admin';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type FakeIdentityCenter,
  PolicyEvaluationError,
  startFakeIdentityCenter,
} from '../../local/fake-identity-center.ts';

const INSTANCE_ARN = 'arn:aws:sso:::instance/ssoins-1234567890abcdef';
const IDENTITY_STORE_ID = 'd-1234567890';
const [DEV, STAGING, PROD] = ['111111111111', '222222222222', '333333333333'] as const;
const START = Date.parse('2026-03-02T09:00:00.000Z');
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

let clock: number;
let fake: FakeIdentityCenter;
let client: SSOAdminClient;

async function restart(options: { deleteRoleWithLastAssignment?: boolean } = {}) {
  client?.destroy();
  await fake?.close();
  fake = await startFakeIdentityCenter({
    instanceArn: INSTANCE_ARN,
    identityStoreId: IDENTITY_STORE_ID,
    now: () => clock,
    ...options,
  });
  client = new SSOAdminClient({
    endpoint: fake.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    maxAttempts: 1,
  });
}

beforeEach(async () => {
  clock = START;
  fake = await startFakeIdentityCenter({
    instanceArn: INSTANCE_ARN,
    identityStoreId: IDENTITY_STORE_ID,
    now: () => clock,
  });
  client = new SSOAdminClient({
    endpoint: fake.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    maxAttempts: 1,
  });
});

afterEach(async () => {
  client.destroy();
  await fake.close();
});

const instance = { InstanceArn: INSTANCE_ARN };

async function createPermissionSet(name = `jit-${randomUUID().slice(0, 8)}`): Promise<string> {
  const { PermissionSet } = await client.send(
    new CreatePermissionSetCommand({ ...instance, Name: name, SessionDuration: 'PT1H' }),
  );
  if (!PermissionSet?.PermissionSetArn) throw new Error('no permission set');
  return PermissionSet.PermissionSetArn;
}

const assignment = (
  permissionSetArn: string,
  accountId: string,
  principalId: string,
  principalType: PrincipalType = 'USER',
) =>
  ({
    ...instance,
    TargetId: accountId,
    TargetType: 'AWS_ACCOUNT',
    PermissionSetArn: permissionSetArn,
    PrincipalType: principalType,
    PrincipalId: principalId,
  }) as const;

async function assign(permissionSetArn: string, accountId: string, userId: string) {
  const { AccountAssignmentCreationStatus: status } = await client.send(
    new CreateAccountAssignmentCommand(assignment(permissionSetArn, accountId, userId)),
  );
  if (!status?.RequestId) throw new Error('no creation status');
  return status;
}

async function unassign(permissionSetArn: string, accountId: string, userId: string) {
  const { AccountAssignmentDeletionStatus: status } = await client.send(
    new DeleteAccountAssignmentCommand(assignment(permissionSetArn, accountId, userId)),
  );
  if (!status?.RequestId) throw new Error('no deletion status');
  return status;
}

async function creationStatus(requestId: string) {
  const { AccountAssignmentCreationStatus } = await client.send(
    new DescribeAccountAssignmentCreationStatusCommand({
      ...instance,
      AccountAssignmentCreationRequestId: requestId,
    }),
  );
  return AccountAssignmentCreationStatus;
}

async function deletionStatus(requestId: string) {
  const { AccountAssignmentDeletionStatus } = await client.send(
    new DescribeAccountAssignmentDeletionStatusCommand({
      ...instance,
      AccountAssignmentDeletionRequestId: requestId,
    }),
  );
  return AccountAssignmentDeletionStatus;
}

async function putPolicy(permissionSetArn: string, document: string) {
  await client.send(
    new PutInlinePolicyToPermissionSetCommand({
      ...instance,
      PermissionSetArn: permissionSetArn,
      InlinePolicy: document,
    }),
  );
}

async function provisionAll(permissionSetArn: string) {
  const { PermissionSetProvisioningStatus: status } = await client.send(
    new ProvisionPermissionSetCommand({
      ...instance,
      PermissionSetArn: permissionSetArn,
      TargetType: 'ALL_PROVISIONED_ACCOUNTS',
    }),
  );
  if (!status?.RequestId) throw new Error('no provisioning status');
  return status;
}

async function provisioningStatus(requestId: string) {
  const { PermissionSetProvisioningStatus } = await client.send(
    new DescribePermissionSetProvisioningStatusCommand({
      ...instance,
      ProvisionPermissionSetRequestId: requestId,
    }),
  );
  return PermissionSetProvisioningStatus;
}

async function usersIn(permissionSetArn: string, accountId: string): Promise<string[]> {
  const { AccountAssignments } = await client.send(
    new ListAccountAssignmentsCommand({
      ...instance,
      AccountId: accountId,
      PermissionSetArn: permissionSetArn,
    }),
  );
  return (AccountAssignments ?? []).map((a) => a.PrincipalId ?? '');
}

async function accountsWhere(permissionSetArn: string, provisioningStatus?: ProvisioningStatus) {
  const { AccountIds } = await client.send(
    new ListAccountsForProvisionedPermissionSetCommand({
      ...instance,
      PermissionSetArn: permissionSetArn,
      ...(provisioningStatus ? { ProvisioningStatus: provisioningStatus } : {}),
    }),
  );
  return [...(AccountIds ?? [])].sort();
}

/** What a rejected SDK call surfaced. */
async function failure(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    const e = error as Error & { $metadata?: { httpStatusCode?: number } };
    return { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode };
  }
  throw new Error('the call succeeded');
}

/** The message of what `fn` throws (undefined when it returns). */
function thrown(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  return undefined;
}

/** A policy document whose statements are `statements`, with IAM's Version. */
const policy = (...statements: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });

/** The revocation deny AWS documents: this user, tokens issued before `before`. */
const denyBefore = (userId: string, before: Date) => ({
  Sid: 'RevokeSessions',
  Effect: 'Deny',
  Action: '*',
  Resource: '*',
  Condition: {
    StringEquals: { 'identitystore:userId': userId },
    DateLessThan: { 'aws:TokenIssueTime': before.toISOString() },
  },
});

/** A policy of exactly `size` characters that are not whitespace, padded with `whitespace` spaces. */
function policyOfSize(size: number, whitespace = 0): string {
  const shape = (sid: string) => policy({ Sid: sid, Effect: 'Allow', Action: 's3:GetObject', Resource: '*' });
  const document = shape('A'.repeat(size - shape('').length));
  expect(document.length).toBe(size);
  // Whitespace between JSON tokens: IAM does not count it.
  return document.replace('{', `{${' '.repeat(whitespace)}`);
}

describe('the SSO Admin protocol', () => {
  it('lists its one instance with its identity store', async () => {
    // Act
    const { Instances } = await client.send(new ListInstancesCommand({}));

    // Assess
    expect(Instances).toEqual([
      expect.objectContaining({
        InstanceArn: INSTANCE_ARN,
        IdentityStoreId: IDENTITY_STORE_ID,
        Status: 'ACTIVE',
      }),
    ]);
  });

  it('creates permission sets with ARNs in AWS’s form, their tags and managed policies', async () => {
    // Prepare
    const { PermissionSet } = await client.send(
      new CreatePermissionSetCommand({
        ...instance,
        Name: 'ReadOnly',
        SessionDuration: 'PT2H',
        Tags: [{ Key: 'pam:managed', Value: 'true' }],
      }),
    );
    const arn = PermissionSet?.PermissionSetArn ?? '';

    // Act
    await client.send(
      new AttachManagedPolicyToPermissionSetCommand({
        ...instance,
        PermissionSetArn: arn,
        ManagedPolicyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess',
      }),
    );
    const described = await client.send(
      new DescribePermissionSetCommand({ ...instance, PermissionSetArn: arn }),
    );
    const managed = await client.send(
      new ListManagedPoliciesInPermissionSetCommand({ ...instance, PermissionSetArn: arn }),
    );
    const tags = await client.send(new ListTagsForResourceCommand({ ...instance, ResourceArn: arn }));
    const inline = await client.send(
      new GetInlinePolicyForPermissionSetCommand({ ...instance, PermissionSetArn: arn }),
    );

    // Assess
    expect(arn).toMatch(/^arn:aws:sso:::permissionSet\/ssoins-1234567890abcdef\/ps-[0-9a-f]{16}$/);
    expect(described.PermissionSet).toMatchObject({ Name: 'ReadOnly', SessionDuration: 'PT2H' });
    expect(described.PermissionSet?.CreatedDate).toEqual(new Date(START));
    expect(managed.AttachedManagedPolicies).toEqual([
      { Arn: 'arn:aws:iam::aws:policy/ReadOnlyAccess', Name: 'ReadOnlyAccess' },
    ]);
    expect(tags.Tags).toEqual([{ Key: 'pam:managed', Value: 'true' }]);
    expect(inline.InlinePolicy).toBe('');
    expect(fake.latestVersion(arn)).toBe(2);
  });

  it('versions every definition change, lists provisionings, and deletes a permission set only once unassigned', async () => {
    await restart({ deleteRoleWithLastAssignment: true });
    // Prepare
    const arn = await createPermissionSet();
    const user = randomUUID();
    const readOnly = 'arn:aws:iam::aws:policy/ReadOnlyAccess';
    await client.send(
      new AttachManagedPolicyToPermissionSetCommand({
        ...instance,
        PermissionSetArn: arn,
        ManagedPolicyArn: readOnly,
      }),
    );
    await putPolicy(arn, policy({ Effect: 'Allow', Action: 's3:*', Resource: '*' }));
    await assign(arn, DEV, user);
    fake.failNext({ operation: 'provision', times: 1, reason: 'boom' });

    // Act
    await client.send(new DeleteInlinePolicyFromPermissionSetCommand({ ...instance, PermissionSetArn: arn }));
    await client.send(
      new DetachManagedPolicyFromPermissionSetCommand({
        ...instance,
        PermissionSetArn: arn,
        ManagedPolicyArn: readOnly,
      }),
    );
    await client.send(
      new TagResourceCommand({ ...instance, ResourceArn: arn, Tags: [{ Key: 'team', Value: 'ops' }] }),
    );
    const failed = await provisionAll(arn);
    const versions = { latest: fake.latestVersion(arn), inDev: fake.provisionedVersion(arn, DEV) };
    const listed = await client.send(
      new ListPermissionSetProvisioningStatusCommand({ ...instance, Filter: { Status: 'FAILED' } }),
    );
    const whileAssigned = await failure(
      client.send(new DeletePermissionSetCommand({ ...instance, PermissionSetArn: arn })),
    );
    await unassign(arn, DEV, user);
    await client.send(new DeletePermissionSetCommand({ ...instance, PermissionSetArn: arn }));
    const { PermissionSets } = await client.send(new ListPermissionSetsCommand({ ...instance }));

    // Assess
    expect(versions).toEqual({ latest: 5, inDev: 3 });
    expect(() => fake.latestVersion(arn)).toThrow(/no permission set/);
    expect(failed.Status).toBe('FAILED');
    expect(listed.PermissionSetsProvisioningStatus).toEqual([
      { Status: 'FAILED', RequestId: failed.RequestId, CreatedDate: new Date(START) },
    ]);
    expect(whileAssigned).toMatchObject({ name: 'ConflictException', status: 400 });
    expect(PermissionSets).toEqual([]);
  });

  it('refuses malformed input with a ValidationException and unknown resources with ResourceNotFoundException', async () => {
    // Prepare
    const arn = await createPermissionSet();
    const unknownSet = arn.replace(/ps-[0-9a-f]{16}$/, 'ps-0000000000000000');

    // Act
    const badAccount = await failure(
      client.send(new CreateAccountAssignmentCommand(assignment(arn, '12345', randomUUID()))),
    );
    const badPrincipal = await failure(
      client.send(new CreateAccountAssignmentCommand(assignment(arn, DEV, 'alice'))),
    );
    const missing = await failure(
      client.send(new CreateAccountAssignmentCommand(assignment(unknownSet, DEV, randomUUID()))),
    );
    const notAssigned = await failure(
      client.send(new DeleteAccountAssignmentCommand(assignment(arn, DEV, randomUUID()))),
    );
    const noTarget = await failure(
      client.send(
        new ProvisionPermissionSetCommand({ ...instance, PermissionSetArn: arn, TargetType: 'AWS_ACCOUNT' }),
      ),
    );

    // Assess
    expect(badAccount).toMatchObject({ name: 'ValidationException', status: 400 });
    expect(badAccount.message).toContain('targetId');
    expect(badPrincipal).toMatchObject({ name: 'ValidationException', status: 400 });
    expect(missing).toMatchObject({ name: 'ResourceNotFoundException', status: 400 });
    expect(notAssigned).toMatchObject({ name: 'ResourceNotFoundException', status: 400 });
    expect(noTarget).toMatchObject({ name: 'ValidationException', status: 400 });
  });

  it('answers an operation it does not serve with UnknownOperationException', async () => {
    // Act
    const answer = await failure(
      client.send(new ListAccountAssignmentCreationStatusCommand({ ...instance })),
    );

    // Assess
    expect(answer).toMatchObject({ name: 'UnknownOperationException', status: 400 });
    expect(fake.calls).toEqual(['ListAccountAssignmentCreationStatus']);
  });

  it('answers ThrottlingException on demand without doing the call', async () => {
    // Prepare
    const arn = await createPermissionSet();
    fake.throttleNext(1);

    // Act
    const throttled = await failure(assign(arn, DEV, randomUUID()));
    const afterwards = await assign(arn, DEV, randomUUID());

    // Assess
    expect(throttled).toMatchObject({ name: 'ThrottlingException', status: 400 });
    expect(afterwards.Status).toBe('SUCCEEDED');
    expect(fake.assignmentsOf({ permissionSetArn: arn })).toHaveLength(1);
  });

  it('pages user and group assignments with NextToken and MaxResults', async () => {
    // Prepare
    const arn = await createPermissionSet();
    const users = [randomUUID(), randomUUID(), randomUUID()];
    const group = randomUUID();
    for (const user of users) await assign(arn, DEV, user);
    await client.send(new CreateAccountAssignmentCommand(assignment(arn, DEV, group, 'GROUP')));
    await assign(arn, STAGING, randomUUID());

    // Act
    const pages: { PrincipalType?: string; PrincipalId?: string }[][] = [];
    let token: string | undefined;
    do {
      const page = await client.send(
        new ListAccountAssignmentsCommand({
          ...instance,
          AccountId: DEV,
          PermissionSetArn: arn,
          MaxResults: 3,
          ...(token ? { NextToken: token } : {}),
        }),
      );
      pages.push(page.AccountAssignments ?? []);
      token = page.NextToken;
    } while (token);

    // Assess
    expect(pages.map((p) => p.length)).toEqual([3, 1]);
    expect(pages.flat().map((a) => `${a.PrincipalType}:${a.PrincipalId}`)).toEqual([
      ...users.map((u) => `USER:${u}`),
      `GROUP:${group}`,
    ]);
  });
});

describe('asynchronous operations', () => {
  it('keeps a creation IN_PROGRESS for the configured polls and creates the assignment only when it succeeds', async () => {
    // Prepare
    const arn = await createPermissionSet();
    const user = randomUUID();
    fake.setPolls({ create: 2 });

    // Act
    const started = await assign(arn, DEV, user);
    const first = await creationStatus(started.RequestId ?? '');
    const listedWhileInProgress = await usersIn(arn, DEV);
    const second = await creationStatus(started.RequestId ?? '');
    clock += MINUTE;
    const final = await creationStatus(started.RequestId ?? '');

    // Assess
    expect(started).toMatchObject({
      Status: 'IN_PROGRESS',
      TargetId: DEV,
      TargetType: 'AWS_ACCOUNT',
      PermissionSetArn: arn,
      PrincipalType: 'USER',
      PrincipalId: user,
      CreatedDate: new Date(START),
    });
    expect([first?.Status, second?.Status, final?.Status]).toEqual([
      'IN_PROGRESS',
      'IN_PROGRESS',
      'SUCCEEDED',
    ]);
    expect(final?.RequestId).toBe(started.RequestId);
    expect(listedWhileInProgress).toEqual([]);
    expect(await usersIn(arn, DEV)).toEqual([user]);
    expect(fake.assignmentsOf({ principalId: user })).toEqual([
      {
        accountId: DEV,
        permissionSetArn: arn,
        principalType: 'USER',
        principalId: user,
        since: new Date(START + MINUTE),
      },
    ]);
  });

  it('keeps a deletion IN_PROGRESS for its polls while the assignment is still listed', async () => {
    // Prepare
    const arn = await createPermissionSet();
    const user = randomUUID();
    await assign(arn, DEV, user);
    fake.setPolls({ delete: 1 });

    // Act
    const started = await unassign(arn, DEV, user);
    const first = await deletionStatus(started.RequestId ?? '');
    const listedWhileInProgress = await usersIn(arn, DEV);
    const final = await deletionStatus(started.RequestId ?? '');

    // Assess
    expect([started.Status, first?.Status, final?.Status]).toEqual([
      'IN_PROGRESS',
      'IN_PROGRESS',
      'SUCCEEDED',
    ]);
    expect(listedWhileInProgress).toEqual([user]);
    expect(await usersIn(arn, DEV)).toEqual([]);
  });

  it('answers the final status in the operation’s own response when no polls are configured', async () => {
    // Prepare
    const arn = await createPermissionSet();
    const user = randomUUID();

    // Act
    const created = await assign(arn, DEV, user);
    const described = await creationStatus(created.RequestId ?? '');

    // Assess
    expect(created.Status).toBe('SUCCEEDED');
    expect(described?.Status).toBe('SUCCEEDED');
    expect(await usersIn(arn, DEV)).toEqual([user]);
  });

  it('updates each account’s provisioned version only when the provisioning completes', async () => {
    // Prepare
    const arn = await createPermissionSet();
    await assign(arn, DEV, randomUUID());
    await assign(arn, STAGING, randomUUID());
    await putPolicy(arn, policy({ Effect: 'Allow', Action: 's3:*', Resource: '*' }));
    fake.setPolls({ provision: 1 });

    // Act
    const started = await provisionAll(arn);
    const versionsWhileInProgress = [
      fake.provisionedVersion(arn, DEV),
      fake.provisionedVersion(arn, STAGING),
    ];
    const first = await provisioningStatus(started.RequestId ?? '');
    const final = await provisioningStatus(started.RequestId ?? '');

    // Assess
    expect(started).toMatchObject({ Status: 'IN_PROGRESS', PermissionSetArn: arn });
    expect(started.AccountId).toBeUndefined();
    expect(versionsWhileInProgress).toEqual([1, 1]);
    expect([first?.Status, final?.Status]).toEqual(['IN_PROGRESS', 'SUCCEEDED']);
    expect([fake.provisionedVersion(arn, DEV), fake.provisionedVersion(arn, STAGING)]).toEqual([2, 2]);
    expect(fake.latestVersion(arn)).toBe(2);
  });
});

describe('failures on demand', () => {
  it('ends a creation FAILED with the reason in the chosen account only, leaving no assignment there', async () => {
    // Prepare
    const arn = await createPermissionSet();
    const user = randomUUID();
    fake.failNext({
      operation: 'create',
      accountId: STAGING,
      times: 1,
      reason: 'Received a 500 status error',
    });

    // Act
    const inDev = await assign(arn, DEV, user);
    const inStaging = await assign(arn, STAGING, user);

    // Assess
    expect(inDev.Status).toBe('SUCCEEDED');
    expect(inStaging).toMatchObject({ Status: 'FAILED', FailureReason: 'Received a 500 status error' });
    expect(await usersIn(arn, STAGING)).toEqual([]);
    expect(fake.provisionedVersion(arn, STAGING)).toBeUndefined();
    expect((await assign(arn, STAGING, user)).Status).toBe('SUCCEEDED');
  });

  it('ends a deletion FAILED after its polls and keeps the assignment', async () => {
    // Prepare
    const arn = await createPermissionSet();
    const user = randomUUID();
    await assign(arn, DEV, user);
    fake.setPolls({ delete: 1 });
    fake.failNext({ operation: 'delete', times: 1, reason: 'Internal failure' });

    // Act
    const started = await unassign(arn, DEV, user);
    await deletionStatus(started.RequestId ?? '');
    const final = await deletionStatus(started.RequestId ?? '');

    // Assess
    expect(final).toMatchObject({ Status: 'FAILED', FailureReason: 'Internal failure' });
    expect(await usersIn(arn, DEV)).toEqual([user]);
  });

  it('fails a provisioning to all accounts when one account fails, naming it, and that account keeps its version', async () => {
    // Prepare
    const arn = await createPermissionSet();
    for (const account of [DEV, STAGING, PROD]) await assign(arn, account, randomUUID());
    await putPolicy(arn, policy({ Effect: 'Allow', Action: 'ec2:Describe*', Resource: '*' }));
    fake.failNext({ operation: 'provision', accountId: PROD, times: 1, reason: 'Role update throttled' });

    // Act
    const status = await provisionAll(arn);

    // Assess
    expect(status.Status).toBe('FAILED');
    expect(status.FailureReason).toContain(`${PROD}: Role update throttled`);
    expect(status.FailureReason).not.toContain(DEV);
    expect(fake.provisioningByAccount(status.RequestId ?? '')).toEqual([
      { accountId: DEV, status: 'SUCCEEDED' },
      { accountId: STAGING, status: 'SUCCEEDED' },
      { accountId: PROD, status: 'FAILED', failureReason: 'Role update throttled' },
    ]);
    expect([DEV, STAGING, PROD].map((a) => fake.provisionedVersion(arn, a))).toEqual([2, 2, 1]);
    expect(await accountsWhere(arn, 'LATEST_PERMISSION_SET_NOT_PROVISIONED')).toEqual([PROD]);
  });
});

describe('conflicts', () => {
  it('refuses a second provisioning of a permission set while one is IN_PROGRESS, and allows it once that completes', async () => {
    // Prepare
    const arn = await createPermissionSet();
    const other = await createPermissionSet();
    await assign(arn, DEV, randomUUID());
    await assign(other, DEV, randomUUID());
    fake.setPolls({ provision: 1 });
    const first = await provisionAll(arn);

    // Act
    const overlapping = await failure(provisionAll(arn));
    const otherSet = await provisionAll(other);
    fake.settle();
    const afterwards = await provisionAll(arn);

    // Assess
    expect(first.Status).toBe('IN_PROGRESS');
    expect(overlapping).toMatchObject({ name: 'ConflictException', status: 400 });
    expect(otherSet.Status).toBe('IN_PROGRESS');
    expect(afterwards.Status).toBe('IN_PROGRESS');
  });
});

describe('per-account provisioned state', () => {
  it('lists exactly the stale accounts as LATEST_PERMISSION_SET_NOT_PROVISIONED', async () => {
    // Prepare
    const arn = await createPermissionSet();
    for (const account of [DEV, STAGING, PROD]) await assign(arn, account, randomUUID());
    await putPolicy(arn, policy({ Effect: 'Allow', Action: 'logs:*', Resource: '*' }));

    // Act
    await client.send(
      new ProvisionPermissionSetCommand({
        ...instance,
        PermissionSetArn: arn,
        TargetType: 'AWS_ACCOUNT',
        TargetId: STAGING,
      }),
    );

    // Assess
    expect(await accountsWhere(arn, 'LATEST_PERMISSION_SET_NOT_PROVISIONED')).toEqual([DEV, PROD]);
    expect(await accountsWhere(arn, 'LATEST_PERMISSION_SET_PROVISIONED')).toEqual([STAGING]);
    expect(await accountsWhere(arn)).toEqual([DEV, STAGING, PROD]);
  });

  it('provisions the current version with an assignment in a new account but leaves an existing role stale', async () => {
    // Prepare
    const arn = await createPermissionSet();
    await assign(arn, DEV, randomUUID());
    await putPolicy(arn, policy({ Effect: 'Allow', Action: 'sqs:*', Resource: '*' }));

    // Act
    await assign(arn, DEV, randomUUID());
    await assign(arn, PROD, randomUUID());

    // Assess
    expect(fake.provisionedVersion(arn, DEV)).toBe(1);
    expect(fake.provisionedVersion(arn, PROD)).toBe(2);
    expect(fake.provisionedPolicy(arn, PROD)).toContain('sqs:*');
    expect(await accountsWhere(arn, 'LATEST_PERMISSION_SET_NOT_PROVISIONED')).toEqual([DEV]);
  });
});

describe('policy size limits', () => {
  it('refuses an inline policy over 32,768 characters with a ValidationException and accepts one of exactly 32,768', async () => {
    // Prepare
    const arn = await createPermissionSet();
    const atLimit = policyOfSize(1_000, 32_768 - 1_000);

    // Act
    const over = await failure(putPolicy(arn, `${atLimit} `));
    await putPolicy(arn, atLimit);

    // Assess
    expect(atLimit).toHaveLength(32_768);
    expect(over).toMatchObject({ name: 'ValidationException', status: 400 });
    expect(over.message).toContain('inlinePolicy');
    expect(fake.latestVersion(arn)).toBe(2);
  });

  it('fails provisioning in every account when the policy exceeds 10,240 non-whitespace characters, keeping their version', async () => {
    // Prepare
    const arn = await createPermissionSet();
    await assign(arn, DEV, randomUUID());
    await assign(arn, STAGING, randomUUID());
    await putPolicy(arn, policyOfSize(10_241));

    // Act
    const status = await provisionAll(arn);

    // Assess
    expect(status.Status).toBe('FAILED');
    expect(status.FailureReason).toMatch(/exceeds the maximum role policy size/);
    expect(status.FailureReason).toContain(DEV);
    expect(status.FailureReason).toContain(STAGING);
    expect([fake.provisionedVersion(arn, DEV), fake.provisionedVersion(arn, STAGING)]).toEqual([1, 1]);
  });

  it('provisions a policy of exactly 10,240 non-whitespace characters however much whitespace it holds', async () => {
    // Prepare
    const arn = await createPermissionSet();
    await assign(arn, DEV, randomUUID());
    const document = policyOfSize(10_240, 20_000);
    await putPolicy(arn, document);

    // Act
    const status = await provisionAll(arn);

    // Assess
    expect(document.length).toBe(30_240);
    expect(status.Status).toBe('SUCCEEDED');
    expect(fake.provisionedPolicy(arn, DEV)).toBe(document);
  });

  it('fails an assignment whose provisioning would exceed the role policy size', async () => {
    // Prepare
    const arn = await createPermissionSet();
    await putPolicy(arn, policyOfSize(12_000));

    // Act
    const status = await assign(arn, DEV, randomUUID());

    // Assess
    expect(status.Status).toBe('FAILED');
    expect(status.FailureReason).toMatch(/exceeds the maximum role policy size/);
    expect(await usersIn(arn, DEV)).toEqual([]);
  });
});

describe('evaluation of sessions', () => {
  it('lets a session issued before its assignment was deleted act until a provisioned deny with a later cut-off applies', async () => {
    // Prepare
    const arn = await createPermissionSet();
    const [alice, bob] = [randomUUID(), randomUUID()];
    await assign(arn, DEV, alice);
    await assign(arn, DEV, bob); // bob keeps the role in the account
    clock += MINUTE;
    const session = fake.issueCredential({ userId: alice, accountId: DEV, permissionSetArn: arn });
    fake.setPolls({ delete: 1, provision: 1 });

    // Act
    clock += MINUTE;
    const deletion = await unassign(arn, DEV, alice);
    const whileDeleting = fake.mayAct(session);
    clock += MINUTE;
    await deletionStatus(deletion.RequestId ?? '');
    await deletionStatus(deletion.RequestId ?? '');
    const afterDeletion = fake.mayAct(session);
    const newSession = thrown(() =>
      fake.issueCredential({ userId: alice, accountId: DEV, permissionSetArn: arn }),
    );
    await putPolicy(arn, policy(denyBefore(alice, new Date(clock))));
    const provisioning = await provisionAll(arn);
    const whileProvisioning = fake.mayAct(session);
    clock += MINUTE;
    await provisioningStatus(provisioning.RequestId ?? '');
    await provisioningStatus(provisioning.RequestId ?? '');
    const afterDeny = fake.evaluate(session);

    // Assess
    expect(whileDeleting).toBe(true);
    expect(afterDeletion).toBe(true);
    expect(newSession).toMatch(/holds no assignment/);
    expect(whileProvisioning).toBe(true);
    expect(afterDeny).toEqual({ allowed: false, reason: 'denied', statements: ['RevokeSessions'] });
    // The deny was provisioned at START + 4 min: before that the session could act, as the fake remembers.
    expect(fake.mayAct(session, { at: START + 3 * MINUTE })).toBe(true);
    expect(fake.mayAct(fake.issueCredential({ userId: bob, accountId: DEV, permissionSetArn: arn }))).toBe(
      true,
    );
  });

  it('does not deny a session issued after the deny’s cut-off', async () => {
    // Prepare
    const arn = await createPermissionSet();
    const user = randomUUID();
    await assign(arn, DEV, user);
    const before = fake.issueCredential({ userId: user, accountId: DEV, permissionSetArn: arn });
    clock += 1_000;
    await putPolicy(arn, policy(denyBefore(user, new Date(clock))));
    await provisionAll(arn);
    clock += 1_000;

    // Act
    const after = fake.issueCredential({ userId: user, accountId: DEV, permissionSetArn: arn });

    // Assess
    expect(fake.mayAct(after)).toBe(true);
    expect(fake.mayAct(before)).toBe(false);
  });

  it('does not deny through a deny that is in the definition but not yet provisioned to the account', async () => {
    // Prepare
    const arn = await createPermissionSet();
    const user = randomUUID();
    await assign(arn, DEV, user);
    const session = fake.issueCredential({ userId: user, accountId: DEV, permissionSetArn: arn });
    clock += MINUTE;

    // Act
    await putPolicy(arn, policy(denyBefore(user, new Date(clock))));

    // Assess
    expect(fake.latestVersion(arn)).toBe(2);
    expect(fake.provisionedVersion(arn, DEV)).toBe(1);
    expect(fake.mayAct(session)).toBe(true);
    await provisionAll(arn);
    expect(fake.mayAct(session)).toBe(false);
  });

  it('denies only the user the deny names', async () => {
    // Prepare
    const arn = await createPermissionSet();
    const [alice, bob] = [randomUUID(), randomUUID()];
    await assign(arn, DEV, alice);
    await assign(arn, DEV, bob);
    const sessions = [alice, bob].map((userId) =>
      fake.issueCredential({ userId, accountId: DEV, permissionSetArn: arn }),
    );
    clock += MINUTE;

    // Act
    await putPolicy(arn, policy(denyBefore(alice, new Date(clock))));
    await provisionAll(arn);

    // Assess
    expect(sessions.map((s) => fake.mayAct(s))).toEqual([false, true]);
  });

  it('ends a session one hour after it was issued', async () => {
    // Prepare
    const arn = await createPermissionSet();
    const user = randomUUID();
    await assign(arn, DEV, user);

    // Act
    const session = fake.issueCredential({ userId: user, accountId: DEV, permissionSetArn: arn });

    // Assess
    expect(session.expiresAt.getTime() - session.issuedAt.getTime()).toBe(HOUR);
    expect(fake.mayAct(session, { at: START + HOUR - 1 })).toBe(true);
    expect(fake.evaluate(session, { at: START + HOUR })).toEqual({ allowed: false, reason: 'expired' });
  });

  it('ends the sessions of a role deleted with the last assignment in the account (when told to)', async () => {
    await restart({ deleteRoleWithLastAssignment: true });
    // Prepare
    const arn = await createPermissionSet();
    const user = randomUUID();
    await assign(arn, DEV, user);
    const session = fake.issueCredential({ userId: user, accountId: DEV, permissionSetArn: arn });

    // Act
    await unassign(arn, DEV, user);
    await assign(arn, DEV, user);

    // Assess
    expect(fake.provisionedVersion(arn, DEV)).toBe(1);
    expect(fake.evaluate(session)).toEqual({ allowed: false, reason: 'role-deleted' });
  });

  it('ANDs condition keys and ORs the values of one key, with epoch-second dates', async () => {
    // Prepare
    const arn = await createPermissionSet();
    const [alice, bob] = [randomUUID(), randomUUID()];
    await assign(arn, DEV, alice);
    await assign(arn, DEV, bob);
    const aliceSession = fake.issueCredential({ userId: alice, accountId: DEV, permissionSetArn: arn });
    const bobSession = fake.issueCredential({ userId: bob, accountId: DEV, permissionSetArn: arn });
    const cutOff = Math.floor((START + MINUTE) / 1000);

    // Act
    await putPolicy(
      arn,
      policy(
        {
          Effect: 'Deny',
          Action: ['*'],
          Resource: '*',
          Condition: {
            StringLike: { 'identitystore:userId': [`${alice.slice(0, 8)}*`, 'nobody'] },
            DateLessThan: { 'aws:TokenIssueTime': cutOff },
          },
        },
        {
          Effect: 'Deny',
          Action: '*',
          Resource: '*',
          Condition: {
            StringEquals: { 'identitystore:userId': bob },
            DateGreaterThan: { 'aws:TokenIssueTime': String(cutOff) },
          },
        },
      ),
    );
    await provisionAll(arn);

    // Assess
    expect(fake.evaluate(aliceSession)).toEqual({
      allowed: false,
      reason: 'denied',
      statements: ['Statement[0]'],
    });
    expect(fake.mayAct(bobSession)).toBe(true);
  });

  it('throws on a deny with a condition operator it does not know instead of allowing', async () => {
    // Prepare
    const arn = await createPermissionSet();
    const user = randomUUID();
    await assign(arn, DEV, user);
    const session = fake.issueCredential({ userId: user, accountId: DEV, permissionSetArn: arn });
    await putPolicy(
      arn,
      policy({
        Effect: 'Deny',
        Action: '*',
        Resource: '*',
        Condition: { 'ForAnyValue:StringEquals': { 'identitystore:userId': [user] } },
      }),
    );
    await provisionAll(arn);

    // Act
    const act = () => fake.mayAct(session);

    // Assess
    expect(act).toThrow(PolicyEvaluationError);
    expect(act).toThrow(/unsupported condition operator ForAnyValue:StringEquals/);
  });

  it('throws on a deny with a condition key it does not know', async () => {
    // Prepare
    const arn = await createPermissionSet();
    const user = randomUUID();
    await assign(arn, DEV, user);
    const session = fake.issueCredential({ userId: user, accountId: DEV, permissionSetArn: arn });
    await putPolicy(
      arn,
      policy({
        Effect: 'Deny',
        Action: '*',
        Resource: '*',
        Condition: { StringEquals: { 'aws:SourceIp': '10.0.0.1' } },
      }),
    );
    await provisionAll(arn);

    // Act
    const act = () => fake.mayAct(session);

    // Assess
    expect(act).toThrow(/unsupported condition key aws:SourceIp/);
  });

  it('refuses to issue a session without a completed assignment', async () => {
    // Prepare
    const arn = await createPermissionSet();
    const user = randomUUID();
    fake.setPolls({ create: 1 });
    const started = await assign(arn, DEV, user);

    // Act
    const beforeCompletion = thrown(() =>
      fake.issueCredential({ userId: user, accountId: DEV, permissionSetArn: arn }),
    );
    await creationStatus(started.RequestId ?? '');
    await creationStatus(started.RequestId ?? '');

    // Assess
    expect(beforeCompletion).toMatch(/holds no assignment/);
    expect(fake.issueCredential({ userId: user, accountId: DEV, permissionSetArn: arn }).issuedAt).toEqual(
      new Date(START),
    );
  });
});
