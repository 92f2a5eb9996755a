// SsoAdminIdentityCenter against moto over HTTP, in this file's own moto account. Throttling,
// IN_PROGRESS and FAILED never happen on moto; they are injected (fault-injection.ts) and unit-tested.
//
// Moto 5.2.1 deviations met here, and how the adapter and these tests cope:
// - every assignment operation answers SUCCEEDED at once, so create → status needs no polling;
// - a repeated CreateAccountAssignment adds a *duplicate* assignment (AWS keeps one), and one delete
//   then removes only one of them: tests assert on counted calls, not on the list; the adapter answers
//   each user once, so the duplicate is invisible through the port;
// - DeleteAccountAssignment answers the *creation's* RequestId, and DescribeAccountAssignmentCreation-
//   Status for a deleted assignment is a ResourceNotFoundException (AWS keeps status records);
// - deleting an assignment that does not exist is a ResourceNotFoundException (HTTP 400);
// - ProvisionPermissionSet answers SUCCEEDED at once (TargetType is ignored) and
//   DescribePermissionSetProvisioningStatus is not implemented (HTTP 500 with an HTML body, which the
//   SDK reports as a deserialization error): a caller that sees SUCCEEDED never asks, so on moto the
//   status call is never needed; its mapping is covered by the unit tests;
// - a permission set without an inline policy answers `InlinePolicy: ""` (the adapter: undefined);
// - moto creates one sso-admin instance per account and region on first use, with a random ARN and
//   identity store id (test/support/identity-center.ts discovers them); principals are not checked
//   against the identity store.
import { randomUUID } from 'node:crypto';
import { ThrottlingException } from '@aws-sdk/client-sso-admin';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SsoAdminIdentityCenter } from '#adapters/aws/identity-center.ts';
import type { AssignmentTuple } from '#ports/grants.ts';
import { faultInjection } from '../support/fault-injection.ts';
import { createIdentityCenterFixture, type IdentityCenterFixture } from '../support/identity-center.ts';
import { testAccountId } from '../support/moto.ts';

const ACCOUNT = testAccountId();
const TARGET_ACCOUNT = '210987654321';

describe('SsoAdminIdentityCenter on moto', () => {
  let fixture: IdentityCenterFixture;
  let identityCenter: SsoAdminIdentityCenter;
  let permissionSetArn: string;

  beforeAll(async () => {
    fixture = await createIdentityCenterFixture(ACCOUNT);
    identityCenter = new SsoAdminIdentityCenter({ client: fixture.client, instanceArn: fixture.instanceArn });
  });

  beforeEach(async () => {
    // A fresh permission set per test, so no test sees another's assignments.
    permissionSetArn = await fixture.createPermissionSet(`jit-${randomUUID().slice(0, 8)}`);
    fixture.calls.reset();
  });

  const tupleFor = (userId: string): AssignmentTuple => ({
    userId,
    accountId: TARGET_ACCOUNT,
    permissionSetArn,
  });

  it('discovers the account’s instance and its identity store', () => {
    expect(fixture.instanceArn).toMatch(/^arn:aws:sso:::instance\/ssoins-[a-z0-9]{16}$/);
    expect(fixture.identityStoreId).toMatch(/^d-[a-z0-9]{10}$/);
  });

  it('creates an assignment, reports it SUCCEEDED and lists the user', async () => {
    // Prepare
    const tuple = tupleFor(randomUUID());

    // Act
    const created = await identityCenter.createAssignment(tuple);
    const status = await identityCenter.creationStatus(created.operationId);
    const users = await identityCenter.listUserAssignments(TARGET_ACCOUNT, permissionSetArn);

    // Assess
    expect(created.status).toBe('SUCCEEDED');
    expect(created.operationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(status).toEqual({ status: 'SUCCEEDED', operationId: created.operationId });
    expect(users).toEqual([tuple.userId]);
  });

  it('lists only the users of that account and permission set', async () => {
    const [alice, bob] = [randomUUID(), randomUUID()];
    const otherSet = await fixture.createPermissionSet(`other-${randomUUID().slice(0, 8)}`);
    await identityCenter.createAssignment(tupleFor(alice));
    await identityCenter.createAssignment(tupleFor(bob));
    await identityCenter.createAssignment({ ...tupleFor(randomUUID()), permissionSetArn: otherSet });
    await identityCenter.createAssignment({ ...tupleFor(randomUUID()), accountId: '333344445555' });

    const users = await identityCenter.listUserAssignments(TARGET_ACCOUNT, permissionSetArn);

    expect([...users].sort()).toEqual([alice, bob].sort());
  });

  it('deletes an assignment, reports it SUCCEEDED and no longer lists the user', async () => {
    // Prepare
    const tuple = tupleFor(randomUUID());
    await identityCenter.createAssignment(tuple);

    // Act
    const deleted = await identityCenter.deleteAssignment(tuple);
    const status = await identityCenter.deletionStatus(deleted.operationId);
    const users = await identityCenter.listUserAssignments(TARGET_ACCOUNT, permissionSetArn);

    // Assess
    expect(deleted.status).toBe('SUCCEEDED');
    expect(status).toEqual({ status: 'SUCCEEDED', operationId: deleted.operationId });
    expect(users).toEqual([]);
  });

  it('sends exactly one create and one delete per call (counted, since moto duplicates repeats)', async () => {
    const tuple = tupleFor(randomUUID());

    await identityCenter.createAssignment(tuple);
    await identityCenter.deleteAssignment(tuple);

    expect(fixture.calls.counts()).toEqual({
      'SSOAdminClient.CreateAccountAssignmentCommand': 1,
      'SSOAdminClient.DeleteAccountAssignmentCommand': 1,
    });
  });

  it('round-trips the inline policy, and answers undefined when there is none', async () => {
    const document = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'RevokeOlderSessions',
          Effect: 'Deny',
          Action: '*',
          Resource: '*',
          Condition: {
            StringEquals: { 'identitystore:userId': 'u-1' },
            DateLessThan: { 'aws:TokenIssueTime': '2025-01-01T00:00:00Z' },
          },
        },
      ],
    });

    const before = await identityCenter.getInlinePolicy(permissionSetArn);
    await identityCenter.putInlinePolicy(permissionSetArn, document);
    const after = await identityCenter.getInlinePolicy(permissionSetArn);
    await identityCenter.putInlinePolicy(permissionSetArn, '');
    const removed = await identityCenter.getInlinePolicy(permissionSetArn);

    expect(before).toBeUndefined();
    expect(JSON.parse(after ?? 'null')).toEqual(JSON.parse(document));
    expect(removed).toBeUndefined();
  });

  it('re-provisions a permission set, answering a status the caller need not poll on moto', async () => {
    const provisioned = await identityCenter.provisionPermissionSet(permissionSetArn);

    expect(provisioned.status).toBe('SUCCEEDED');
    expect(provisioned.operationId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('still lacks DescribePermissionSetProvisioningStatus (update the header when moto adds it)', async () => {
    const { operationId } = await identityCenter.provisionPermissionSet(permissionSetArn);

    await expect(identityCenter.permissionSetProvisioningStatus(operationId)).rejects.toMatchObject({
      $metadata: { httpStatusCode: 500 },
    });
  });

  it('retries injected throttles on a real round trip and creates the assignment once', async () => {
    // Prepare: a second client on the same moto account, with faults on it only.
    const faulty = await createIdentityCenterFixture(ACCOUNT);
    faulty.client.middlewareStack.use(
      faultInjection([{ command: 'CreateAccountAssignmentCommand', fault: 'throttle', times: 2 }]),
    );
    const sleeps: number[] = [];
    const throttled = new SsoAdminIdentityCenter({
      client: faulty.client,
      instanceArn: faulty.instanceArn,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });
    const tuple = tupleFor(randomUUID());

    // Act
    const created = await throttled.createAssignment(tuple);

    // Assess
    expect(created.status).toBe('SUCCEEDED');
    expect(faulty.calls.counts()).toEqual({ 'SSOAdminClient.CreateAccountAssignmentCommand': 3 });
    expect(sleeps).toHaveLength(2);
    expect(await identityCenter.listUserAssignments(TARGET_ACCOUNT, permissionSetArn)).toEqual([
      tuple.userId,
    ]);
  });

  it('rethrows the throttle when it outlasts the retry budget, creating nothing', async () => {
    const faulty = await createIdentityCenterFixture(ACCOUNT);
    faulty.client.middlewareStack.use(
      faultInjection([{ command: 'CreateAccountAssignmentCommand', fault: 'throttle', times: 10 }]),
    );
    const throttled = new SsoAdminIdentityCenter({
      client: faulty.client,
      instanceArn: faulty.instanceArn,
      sleep: async () => {},
      maxThrottleRetries: 3,
    });

    await expect(throttled.createAssignment(tupleFor(randomUUID()))).rejects.toBeInstanceOf(
      ThrottlingException,
    );

    expect(faulty.calls.counts()).toEqual({ 'SSOAdminClient.CreateAccountAssignmentCommand': 4 });
    expect(await identityCenter.listUserAssignments(TARGET_ACCOUNT, permissionSetArn)).toEqual([]);
  });

  it('reports injected IN_PROGRESS polls before the real SUCCEEDED', async () => {
    const faulty = await createIdentityCenterFixture(ACCOUNT);
    faulty.client.middlewareStack.use(
      faultInjection([
        { command: 'CreateAccountAssignmentCommand', fault: 'in-progress', times: 1 },
        { command: 'DescribeAccountAssignmentCreationStatusCommand', fault: 'in-progress', times: 2 },
      ]),
    );
    const slow = new SsoAdminIdentityCenter({ client: faulty.client, instanceArn: faulty.instanceArn });

    const created = await slow.createAssignment(tupleFor(randomUUID()));
    const polls = [];
    for (let n = 0; n < 3; n++) polls.push((await slow.creationStatus(created.operationId)).status);

    expect(created.status).toBe('IN_PROGRESS');
    expect(polls).toEqual(['IN_PROGRESS', 'IN_PROGRESS', 'SUCCEEDED']);
  });
});
