// Revocation denies that hold, checked against Identity Center as AWS documents it — not as moto
// answers (moto deletes at once, keeps no per-account provisioning, evaluates nothing): the engine
// runs as deployed (test/support/grant-harness.ts) against the fake Identity Center
// (local/fake-identity-center.ts), and every question "may this session still act?" is answered by
// the fake's own evaluation of the policy provisioned in that account, never by the project's code.
//
// Removing an assignment does not end a role session already issued, so what ends one is the deny
// (`identitystore:userId`, `aws:TokenIssueTime` before the cut-off) provisioned in its account.
import { CreateGroupMembershipCommand, CreateUserCommand } from '@aws-sdk/client-identitystore';
import { GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { CreateAccountAssignmentCommand } from '@aws-sdk/client-sso-admin';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { documentClient } from '#adapters/aws/audit-chain-writes.ts';
import { requestKey } from '#adapters/aws/tables.ts';
import { ulidGenerator } from '#adapters/system.ts';
import { permissionSetGroup } from '#app/grants/tuples.ts';
import { policySize, ROLE_INLINE_POLICY_LIMIT, readDenies } from '#domain/deny-policy.ts';
import type { AccessRequest } from '#domain/model.ts';
import { loadBundledConfig } from '#runtime/bundled-config.ts';
import type { FakeCredential } from '../../local/fake-identity-center.ts';
import { createGrantHarness } from '../support/grant-harness.ts';
import { auditLogOf, createPamWorld, DEV_ACCOUNT, DEV2_ACCOUNT, PROD_ACCOUNT } from '../support/pam-world.ts';
import { perFile } from '../support/per-file.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

const world = perFile(createPamWorld, (w) => w.stop());
const h = perFile(
  () => createGrantHarness(world),
  (harness) => harness.stop(),
);
const audit = perFile(() => auditLogOf(world));

const fake = () => world.identityCenter.fake;
const devSet = () => world.permissionSetArns.DevReadOnly as string;
const prodSet = () => world.permissionSetArns.ProdAdmin as string;

async function stored(id: string): Promise<AccessRequest> {
  return (await h.deps.store.get(id)) as AccessRequest;
}

let members = 0;
/** A new person in `group` (engineers may request dev-readonly; cloud-ops may break glass on prod-admin). */
async function newMember(group: 'engineers' | 'cloud-ops'): Promise<string> {
  members++;
  const groupId = loadBundledConfig(world.configFile).identityCenter.groupIds[group] as string;
  const { UserId } = await world.identityStore.send(
    new CreateUserCommand({
      IdentityStoreId: world.identityStoreId,
      UserName: `member-${members}`,
      DisplayName: `member-${members}`,
      Name: { GivenName: 'Member', FamilyName: String(members) },
    }),
  );
  await world.identityStore.send(
    new CreateGroupMembershipCommand({
      IdentityStoreId: world.identityStoreId,
      GroupId: groupId,
      MemberId: { UserId: UserId as string },
    }),
  );
  return UserId as string;
}

async function activeDevGrant(userId: string, accountIds: readonly string[]): Promise<AccessRequest> {
  const request = await h.createRequest({
    actorId: userId,
    entitlementId: 'dev-readonly',
    accountId: accountIds[0] as string,
    accountIds,
    durationMs: 4 * HOUR,
    reason: 'revocation drill',
  });
  await h.decide({ action: 'approve', actorId: world.userIds.bob, requestId: request.id });
  await h.settle();
  const active = await stored(request.id);
  expect(active.status).toBe('ACTIVE');
  return active;
}

/** A cloud-ops member breaks glass on prod-admin (ACTIVE at once, no approval). */
async function breakGlass(userId: string): Promise<AccessRequest> {
  const result = await h.api(userId, 'POST', '/v1/break-glass', {
    entitlementId: 'prod-admin',
    accountId: PROD_ACCOUNT,
    duration: 'PT1H',
    reason: 'incident drill',
    ticket: 'OPS-1',
  });
  expect(result.statusCode, result.body).toBe(201);
  const { id } = JSON.parse(result.body) as { id: string };
  await h.settle();
  const active = await stored(id);
  expect(active.status).toBe('ACTIVE');
  return active;
}

async function revoke(actorId: string, requestId: string): Promise<void> {
  const result = await h.api(actorId, 'POST', `/v1/requests/${requestId}/revoke`, { comment: 'drill over' });
  expect(result.statusCode, result.body).toBe(200);
}

async function deadLetters(url: string): Promise<number> {
  const { Attributes } = await world.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] }),
  );
  return Number(Attributes?.ApproximateNumberOfMessages);
}

describe('the cut-off covers every credential minted until the deletion completed', () => {
  it('denies, in every account, sessions issued between the decision and the slow deletion', async () => {
    // Prepare: alice holds dev-readonly in two accounts; erin holds it in both too (so the role
    // stays whatever Identity Center does with a role's last assignment).
    const alice = world.userIds.alice;
    await activeDevGrant(world.userIds.erin, [DEV_ACCOUNT, DEV2_ACCOUNT]);
    const grant = await activeDevGrant(alice, [DEV_ACCOUNT, DEV2_ACCOUNT]);
    // Deletions take minutes: they answer IN_PROGRESS until the fake is told to finish them.
    fake().setPolls({ delete: 1_000_000 });

    // Act: bob revokes at `decided`; the deletions are still running ten minutes later.
    const decided = h.clock.now().getTime();
    await revoke(world.userIds.bob, grant.id);
    await h.settle({ maxPasses: 2 });
    h.clock.advance(10 * MINUTE);
    fake().setPolls({ delete: 0 });
    fake().settle();
    const deletedBy = h.clock.now().getTime();
    await h.settle();

    // Assess: sessions issued at any moment the assignment still existed — when the grant began,
    // right after the decision, minutes later, just before the deletion — are denied now, in both accounts.
    const moments = [
      Date.parse(grant.grant?.startedAt as string),
      decided + 1000,
      decided + 5 * MINUTE,
      deletedBy - 1000,
    ];
    for (const accountId of [DEV_ACCOUNT, DEV2_ACCOUNT]) {
      expect(await h.deps.identityCenter.listUserAssignments(accountId, devSet())).not.toContain(alice);
      for (const at of moments) {
        const session = fake().issueCredential({ userId: alice, accountId, permissionSetArn: devSet(), at });
        expect(
          fake().evaluate(session),
          `alice's session of ${new Date(at).toISOString()} in ${accountId}`,
        ).toMatchObject({ allowed: false, reason: 'denied' });
      }
      // erin's sessions are untouched.
      const erin = fake().issueCredential({
        userId: world.userIds.erin,
        accountId,
        permissionSetArn: devSet(),
      });
      expect(fake().mayAct(erin)).toBe(true);
    }
    expect((await stored(grant.id)).status).toBe('REVOKED');
  });
});

describe('a deny reaches every account', () => {
  it('a provisioning that fails in one account is healed by retries and, past the DLQ, one reconciler pass', async () => {
    // Prepare
    const user = await newMember('engineers');
    await activeDevGrant(world.userIds.erin, [DEV_ACCOUNT, DEV2_ACCOUNT]);
    const grant = await activeDevGrant(user, [DEV_ACCOUNT, DEV2_ACCOUNT]);
    const started = Date.parse(grant.grant?.startedAt as string);
    const session = (accountId: string) =>
      fake().issueCredential({ userId: user, accountId, permissionSetArn: devSet(), at: started });
    const before = await deadLetters(world.queues.provisioningDlq.url);
    // Provisioning to DEV2 fails more often than the provisioning queue retries a message.
    fake().failNext({
      operation: 'provision',
      accountId: DEV2_ACCOUNT,
      times: 40,
      reason: 'injected: account suspended',
    });

    // Act
    await revoke(world.userIds.bob, grant.id);
    for (
      let round = 0;
      round < 30 && (await deadLetters(world.queues.provisioningDlq.url)) === before;
      round++
    )
      await h.settle();

    // Assess: dead-lettered, and DEV2 still runs the stale policy — the session works there.
    expect(await deadLetters(world.queues.provisioningDlq.url)).toBeGreaterThan(before);
    expect(fake().mayAct(session(DEV_ACCOUNT))).toBe(false);
    expect(fake().mayAct(session(DEV2_ACCOUNT))).toBe(true);
    expect(await h.deps.identityCenter.staleAccounts(devSet())).toContain(DEV2_ACCOUNT);

    // Act: the account recovers; the reconciler's next pass finds it stale and provisions it.
    fake().clearFailures();
    h.clock.advance(5 * MINUTE);
    await h.reconcile();
    await h.settle();

    // Assess
    expect(await h.deps.identityCenter.staleAccounts(devSet())).toEqual([]);
    expect(fake().mayAct(session(DEV2_ACCOUNT))).toBe(false);
  });

  it('a crash between the policy write and the provisioning heals on the retry', async () => {
    // Prepare
    const user = await newMember('engineers');
    await activeDevGrant(world.userIds.erin, [DEV_ACCOUNT]);
    const grant = await activeDevGrant(user, [DEV_ACCOUNT]);
    const session = fake().issueCredential({
      userId: user,
      accountId: DEV_ACCOUNT,
      permissionSetArn: devSet(),
    });
    // The first ProvisionPermissionSet after the policy write dies with the worker.
    h.proxy.inject({
      service: 'sso',
      operation: 'ProvisionPermissionSet',
      times: 1,
      fault: { kind: 'error', status: 400, type: 'InjectedCrash', message: 'the worker died here' },
    });

    // Act
    await revoke(world.userIds.bob, grant.id);
    await h.settle();

    // Assess: the policy carries the deny and every account has it.
    expect(h.proxy.remaining()).toBe(0);
    expect(
      readDenies(await h.deps.identityCenter.getInlinePolicy(devSet())).users.map((u) => u.userId),
    ).toContain(user);
    expect(await h.deps.identityCenter.staleAccounts(devSet())).toEqual([]);
    expect(fake().mayAct(session)).toBe(false);
  });
});

describe('the inline-policy budget', () => {
  it('60 self-revocations and 50 users revoked within an hour stay under 10,240 characters and provisioning keeps working', async () => {
    // Prepare: one cloud-ops engineer who breaks glass and revokes it herself, 60 times.
    const sessions: { userId: string; credential: FakeCredential }[] = [];
    const oneUser = await newMember('cloud-ops');
    const issued = (userId: string) => {
      const credential = fake().issueCredential({
        userId,
        accountId: PROD_ACCOUNT,
        permissionSetArn: prodSet(),
      });
      sessions.push({ userId, credential });
    };
    const started = h.clock.now().getTime();
    for (let round = 0; round < 60; round++) {
      const grant = await breakGlass(oneUser);
      issued(oneUser);
      await revoke(oneUser, grant.id);
      await h.settle();
      h.clock.advance(20_000);
    }
    const afterOne = await h.deps.identityCenter.getInlinePolicy(prodSet());
    // One statement for her, however many times she was denied.
    expect(readDenies(afterOne).users.filter((u) => u.userId === oneUser)).toHaveLength(1);

    // Act: 50 more people, each revoked once, within the same hour.
    for (let n = 0; n < 50; n++) {
      const user = await newMember('cloud-ops');
      const grant = await breakGlass(user);
      issued(user);
      await revoke(world.userIds.carol, grant.id);
      await h.settle();
      h.clock.advance(20_000);
    }
    expect(h.clock.now().getTime() - started).toBeLessThan(HOUR);

    // Assess: under budget, provisioned everywhere, every one of those sessions ended …
    const policy = await h.deps.identityCenter.getInlinePolicy(prodSet());
    expect(policySize(policy)).toBeLessThanOrEqual(ROLE_INLINE_POLICY_LIMIT);
    expect(await h.deps.identityCenter.staleAccounts(prodSet())).toEqual([]);
    for (const { userId, credential } of sessions)
      expect(fake().mayAct(credential), `session of ${userId}`).toBe(false);
    // … through the permission-set-wide fallback once the per-user statements no longer fit, audited.
    expect(readDenies(policy).everyone).toBeDefined();
    const system = await audit.readChain('system');
    expect(system.filter((event) => event.type === 'deny.fallback').length).toBeGreaterThanOrEqual(1);
    // And granting still works: a new break-glass session issued now may act.
    const next = await newMember('cloud-ops');
    h.clock.advance(3 * MINUTE);
    await breakGlass(next);
    const fresh = fake().issueCredential({
      userId: next,
      accountId: PROD_ACCOUNT,
      permissionSetArn: prodSet(),
    });
    expect(fake().mayAct(fresh)).toBe(true);
  }, 600_000);

  it('1,000 users revoked at once: every one of their sessions ends through the permission-set-wide deny', async () => {
    // Prepare: 1,000 people with dev-readonly in DEV (assigned straight in Identity Center, as
    // grants would have been), each with a session.
    const users = Array.from(
      { length: 1000 },
      (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    );
    for (const userId of users)
      await world.identityCenter.client.send(
        new CreateAccountAssignmentCommand({
          InstanceArn: world.identityCenter.instanceArn,
          TargetId: DEV2_ACCOUNT,
          TargetType: 'AWS_ACCOUNT',
          PermissionSetArn: devSet(),
          PrincipalType: 'USER',
          PrincipalId: userId,
        }),
      );
    const credentials = users.map((userId) =>
      fake().issueCredential({ userId, accountId: DEV2_ACCOUNT, permissionSetArn: devSet() }),
    );
    // Their 1,000 grants, just revoked: written straight to the table (a fixture, not a shortcut the
    // engine takes), cloned from a real request so every field is as the store writes it.
    const template = await stored(
      (
        await h.createRequest({
          actorId: world.userIds.alice,
          entitlementId: 'dev-readonly',
          accountId: DEV2_ACCOUNT,
          durationMs: HOUR,
          reason: 'template',
        })
      ).id,
    );
    const ids = ulidGenerator();
    const revoked = users.map((userId) => ({
      ...template,
      id: ids.next(),
      requesterId: userId,
      status: 'REVOKED' as const,
    }));
    for (let start = 0; start < revoked.length; start += 25)
      await documentClient(world.dynamo).send(
        new BatchWriteCommand({
          RequestItems: {
            [world.tables.access]: revoked.slice(start, start + 25).map((request) => ({
              PutRequest: { Item: { ...request, ...requestKey(request.id) } },
            })),
          },
        }),
      );
    h.clock.advance(1000);
    const decided = h.clock.now().toISOString();

    // Act: the 1,000 denies, as the revocations' narrowing queues them, all at once.
    for (const request of revoked)
      await world.sqs.send(
        new SendMessageCommand({
          QueueUrl: world.queues.provisioning.url,
          MessageGroupId: permissionSetGroup(devSet()),
          MessageBody: JSON.stringify({
            op: 'deny-add',
            permissionSetArn: devSet(),
            userId: request.requesterId,
            endedAt: decided,
            requestId: request.id,
          }),
        }),
      );
    const { failures } = await h.settle({ maxPasses: 1000 });

    // Assess
    expect(failures).toEqual([]);
    const policy = await h.deps.identityCenter.getInlinePolicy(devSet());
    expect(policySize(policy)).toBeLessThanOrEqual(ROLE_INLINE_POLICY_LIMIT);
    expect(readDenies(policy).everyone?.cutoff.toISOString()).toBe(decided);
    expect(await h.deps.identityCenter.staleAccounts(devSet())).toEqual([]);
    expect(credentials.filter((credential) => fake().mayAct(credential))).toEqual([]);
  }, 600_000);
});
