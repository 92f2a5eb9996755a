// The project's SsoAdminIdentityCenter adapter against local/fake-identity-center.ts (which, unlike moto,
// keeps operations IN_PROGRESS, provisions per account and evaluates the provisioned deny itself), and
// the wiring the functions use: an SSOAdminClient configured only by AWS_ENDPOINT_URL_SSO_ADMIN reaches
// the fake while every other client still reaches moto through AWS_ENDPOINT_URL.
import { randomUUID } from 'node:crypto';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { CreatePermissionSetCommand, ListInstancesCommand, SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SsoAdminIdentityCenter } from '#adapters/aws/identity-center.ts';
import { applyDeny, userDenyStatement } from '#domain/deny-policy.ts';
import type { OperationStatus } from '#ports/grants.ts';
import { startAwsProxy } from '../../local/aws-proxy.ts';
import { type FakeIdentityCenter, startFakeIdentityCenter } from '../../local/fake-identity-center.ts';
import { MOTO_REGION, motoAccount, motoEndpoint, testAccountId } from '../support/moto.ts';

const INSTANCE_ARN = 'arn:aws:sso:::instance/ssoins-fa4e1dc0ffee0001';
const IDENTITY_STORE_ID = 'd-fa4e1dc0ff';
const TARGET_ACCOUNT = '210987654321';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };

describe('SsoAdminIdentityCenter on the fake Identity Center', () => {
  let clock = Date.parse('2026-03-02T09:00:00.000Z');
  let fake: FakeIdentityCenter;
  let client: SSOAdminClient;
  let sleeps: number[];
  let identityCenter: SsoAdminIdentityCenter;
  let permissionSetArn: string;

  beforeAll(async () => {
    fake = await startFakeIdentityCenter({
      instanceArn: INSTANCE_ARN,
      identityStoreId: IDENTITY_STORE_ID,
      now: () => clock,
    });
    client = new SSOAdminClient({
      endpoint: fake.endpoint,
      region: MOTO_REGION,
      credentials,
      maxAttempts: 1,
    });
  });

  afterAll(async () => {
    client.destroy();
    await fake.close();
  });

  beforeEach(async () => {
    sleeps = [];
    fake.setPolls({ create: 0, delete: 0, provision: 0 });
    identityCenter = new SsoAdminIdentityCenter({
      client,
      instanceArn: INSTANCE_ARN,
      // A backoff is where time passes: whatever was IN_PROGRESS completes meanwhile.
      sleep: async (ms) => {
        sleeps.push(ms);
        fake.settle();
      },
      random: () => 0.5,
    });
    const { PermissionSet } = await client.send(
      new CreatePermissionSetCommand({
        InstanceArn: INSTANCE_ARN,
        Name: `jit-${randomUUID().slice(0, 8)}`,
        SessionDuration: 'PT1H',
      }),
    );
    permissionSetArn = PermissionSet?.PermissionSetArn ?? '';
    fake.resetCalls();
  });

  /** Polls a status the way the provisioning worker does, a bounded number of times. */
  async function untilDone(first: OperationStatus, next: (id: string) => Promise<OperationStatus>) {
    let status = first;
    for (let polls = 0; status.status === 'IN_PROGRESS' && polls < 10; polls++) {
      clock += 1_000;
      status = await next(status.operationId);
    }
    return status;
  }

  it('polls assignments to completion, and the deny it provisions ends a session the deletion left usable', async () => {
    // Prepare
    const [alice, bob] = [randomUUID(), randomUUID()];
    fake.setPolls({ create: 2, delete: 2, provision: 2 });
    for (const userId of [alice, bob]) {
      const tuple = { userId, accountId: TARGET_ACCOUNT, permissionSetArn };
      const created = await untilDone(await identityCenter.createAssignment(tuple), (id) =>
        identityCenter.creationStatus(id),
      );
      expect(created.status).toBe('SUCCEEDED');
    }
    const session = fake.issueCredential({ userId: alice, accountId: TARGET_ACCOUNT, permissionSetArn });
    clock += 10 * MINUTE;

    // Act
    const deleted = await untilDone(
      await identityCenter.deleteAssignment({ userId: alice, accountId: TARGET_ACCOUNT, permissionSetArn }),
      (id) => identityCenter.deletionStatus(id),
    );
    const afterDeletion = fake.mayAct(session);
    const entry = { userId: alice, cutoff: new Date(clock), removeAt: new Date(clock + HOUR) };
    const { document } = applyDeny(await identityCenter.getInlinePolicy(permissionSetArn), entry);
    await identityCenter.putInlinePolicy(permissionSetArn, document ?? '');
    const beforeProvisioning = fake.mayAct(session);
    const provisioned = await untilDone(await identityCenter.provisionPermissionSet(permissionSetArn), (id) =>
      identityCenter.permissionSetProvisioningStatus(id),
    );

    // Assess
    expect(deleted.status).toBe('SUCCEEDED');
    expect(await identityCenter.listUserAssignments(TARGET_ACCOUNT, permissionSetArn)).toEqual([bob]);
    expect(afterDeletion).toBe(true);
    expect(beforeProvisioning).toBe(true);
    expect(provisioned.status).toBe('SUCCEEDED');
    expect(fake.evaluate(session)).toEqual({
      allowed: false,
      reason: 'denied',
      statements: [userDenyStatement(entry).Sid],
    });
    const bobSession = fake.issueCredential({ userId: bob, accountId: TARGET_ACCOUNT, permissionSetArn });
    expect(fake.mayAct(bobSession)).toBe(true);
    expect(fake.calls.filter((c) => c === 'DescribeAccountAssignmentCreationStatus')).toHaveLength(6);
  });

  it('retries a provisioning that conflicts with one IN_PROGRESS, then a throttled call', async () => {
    // Prepare
    await identityCenter.createAssignment({
      userId: randomUUID(),
      accountId: TARGET_ACCOUNT,
      permissionSetArn,
    });
    await identityCenter.putInlinePolicy(
      permissionSetArn,
      JSON.stringify({ Version: '2012-10-17', Statement: [] }),
    );
    fake.setPolls({ provision: 3 });
    const running = await identityCenter.provisionPermissionSet(permissionSetArn);
    fake.setPolls({ provision: 0 });
    fake.resetCalls();
    const retrying = new SsoAdminIdentityCenter({
      client,
      instanceArn: INSTANCE_ARN,
      // First backoff: the next call is throttled; second: the running provisioning has completed.
      sleep: async (ms) => {
        sleeps.push(ms);
        if (sleeps.length === 1) fake.throttleNext(1);
        else fake.settle();
      },
      random: () => 0.5,
    });

    // Act
    const retried = await retrying.provisionPermissionSet(permissionSetArn);

    // Assess
    expect(running.status).toBe('IN_PROGRESS');
    expect(retried.status).toBe('SUCCEEDED');
    expect(sleeps).toEqual([100, 200]);
    expect(fake.calls).toEqual([
      'ProvisionPermissionSet',
      'ProvisionPermissionSet',
      'ProvisionPermissionSet',
    ]);
    expect(fake.provisionedVersion(permissionSetArn, TARGET_ACCOUNT)).toBe(
      fake.latestVersion(permissionSetArn),
    );
  });

  it('treats deleting an assignment that is not there as done', async () => {
    // Act
    const status = await identityCenter.deleteAssignment({
      userId: randomUUID(),
      accountId: TARGET_ACCOUNT,
      permissionSetArn,
    });

    // Assess
    expect(status).toEqual({ status: 'SUCCEEDED', operationId: 'already-deleted' });
  });
});

describe('reaching the fake Identity Center the way the functions do', () => {
  const account = testAccountId();
  let fake: FakeIdentityCenter;
  const saved = {
    AWS_ENDPOINT_URL: process.env.AWS_ENDPOINT_URL,
    AWS_ENDPOINT_URL_SSO_ADMIN: process.env.AWS_ENDPOINT_URL_SSO_ADMIN,
  };

  beforeAll(async () => {
    fake = await startFakeIdentityCenter({ instanceArn: INSTANCE_ARN, identityStoreId: IDENTITY_STORE_ID });
  });

  afterAll(async () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await fake.close();
  });

  const instanceArnOf = async (ssoAdmin: SSOAdminClient) =>
    (await ssoAdmin.send(new ListInstancesCommand({}))).Instances?.[0]?.InstanceArn;

  it('sends SSO Admin to AWS_ENDPOINT_URL_SSO_ADMIN and every other service to AWS_ENDPOINT_URL', async () => {
    // Prepare
    process.env.AWS_ENDPOINT_URL = motoEndpoint();
    process.env.AWS_ENDPOINT_URL_SSO_ADMIN = fake.endpoint;
    const ssoAdmin = new SSOAdminClient({ region: MOTO_REGION, credentials, maxAttempts: 1 });
    const dynamo = new DynamoDBClient({ region: MOTO_REGION, credentials, maxAttempts: 1 });
    dynamo.middlewareStack.use(motoAccount(account) as Parameters<typeof dynamo.middlewareStack.use>[0]);
    fake.resetCalls();

    // Act
    const instanceArn = await instanceArnOf(ssoAdmin);
    const tables = await dynamo.send(new ListTablesCommand({}));

    // Assess
    expect(instanceArn).toBe(INSTANCE_ARN);
    expect(tables.TableNames).toEqual([]);
    expect(fake.calls).toEqual(['ListInstances']);
    ssoAdmin.destroy();
    dynamo.destroy();
  });

  it('leaves SSO Admin on AWS_ENDPOINT_URL (moto) when AWS_ENDPOINT_URL_SSO_ADMIN is not set', async () => {
    // Prepare
    process.env.AWS_ENDPOINT_URL = motoEndpoint();
    delete process.env.AWS_ENDPOINT_URL_SSO_ADMIN;
    const ssoAdmin = new SSOAdminClient({ region: MOTO_REGION, credentials, maxAttempts: 1 });
    ssoAdmin.middlewareStack.use(motoAccount(account) as Parameters<typeof ssoAdmin.middlewareStack.use>[0]);
    fake.resetCalls();

    // Act
    const instanceArn = await instanceArnOf(ssoAdmin);

    // Assess
    expect(instanceArn).toMatch(/^arn:aws:sso:::instance\/ssoins-/);
    expect(instanceArn).not.toBe(INSTANCE_ARN);
    expect(fake.calls).toEqual([]);
    ssoAdmin.destroy();
  });

  it('answers the sso service behind local/aws-proxy.ts', async () => {
    // Prepare
    const proxy = await startAwsProxy({ upstream: motoEndpoint(), routes: { sso: fake.endpoint } });
    const ssoAdmin = new SSOAdminClient({
      endpoint: proxy.endpoint,
      region: MOTO_REGION,
      credentials,
      maxAttempts: 1,
    });

    // Act
    const instanceArn = await instanceArnOf(ssoAdmin).finally(() => proxy.close());

    // Assess
    expect(instanceArn).toBe(INSTANCE_ARN);
    expect(proxy.counts()).toEqual({ 'sso:ListInstances': 1 });
    ssoAdmin.destroy();
  });
});
