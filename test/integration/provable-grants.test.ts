// Every grant provably approved: access follows from the audit chain, not from whatever a record or
// a message says. One direct write to the access table, or one forged queue message, creates or
// extends nothing, and the refusal is audited on the `system` chain (and alarmed). The engine runs
// as deployed (test/support/grant-harness.ts) against the fake Identity Center.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  DeleteGroupMembershipCommand,
  ListGroupMembershipsForMemberCommand,
} from '@aws-sdk/client-identitystore';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { documentClient } from '#adapters/aws/audit-chain-writes.ts';
import { requestKey } from '#adapters/aws/tables.ts';
import { tupleGroup } from '#app/grants/tuples.ts';
import type { AccessRequest } from '#domain/model.ts';
import { loadBundledConfig } from '#runtime/bundled-config.ts';
import { defaultDeps } from '../../cli/context.ts';
import { runCliWith } from '../support/cli-run.ts';
import { createGrantHarness } from '../support/grant-harness.ts';
import { MOTO_REGION, motoEndpoint } from '../support/moto.ts';
import { auditLogOf, createPamWorld, DEV_ACCOUNT, PROD_ACCOUNT } from '../support/pam-world.ts';
import { perFile } from '../support/per-file.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const world = perFile(createPamWorld, (w) => w.stop());
const h = perFile(
  () => createGrantHarness(world),
  (harness) => harness.stop(),
);
const audit = perFile(() => auditLogOf(world));

async function stored(id: string): Promise<AccessRequest> {
  return (await h.deps.store.get(id)) as AccessRequest;
}

async function assignedIn(
  accountId: string,
  permissionSet: 'DevReadOnly' | 'ProdAdmin',
): Promise<readonly string[]> {
  return h.deps.identityCenter.listUserAssignments(
    accountId,
    world.permissionSetArns[permissionSet] as string,
  );
}

async function systemRejections(): Promise<Record<string, unknown>[]> {
  return (await audit.readChain('system'))
    .filter((event) => event.type === 'system.rejected')
    .map((event) => ({ requestId: event.requestId, ...event.details }));
}

/** One direct write to the request's item in the access table — no use case, no audit event. */
async function directWrite(requestId: string, set: Record<string, unknown>): Promise<void> {
  const names = Object.keys(set);
  await documentClient(world.dynamo).send(
    new UpdateCommand({
      TableName: world.tables.access,
      Key: requestKey(requestId),
      UpdateExpression: `SET ${names.map((_, i) => `#k${i} = :v${i}`).join(', ')}`,
      ExpressionAttributeNames: Object.fromEntries(names.map((name, i) => [`#k${i}`, name])),
      ExpressionAttributeValues: Object.fromEntries(names.map((name, i) => [`:v${i}`, set[name]])),
    }),
  );
}

async function pendingDevRequest(actorId = world.userIds.alice): Promise<AccessRequest> {
  return h.createRequest({
    actorId,
    entitlementId: 'dev-readonly',
    accountId: DEV_ACCOUNT,
    durationMs: HOUR,
    reason: 'provable grants',
  });
}

async function activeDevGrant(actorId = world.userIds.alice): Promise<AccessRequest> {
  const request = await pendingDevRequest(actorId);
  await h.decide({ action: 'approve', actorId: world.userIds.bob, requestId: request.id });
  await h.settle();
  const active = await stored(request.id);
  expect(active.status).toBe('ACTIVE');
  return active;
}

async function auditVerify(): Promise<{ code: number; stdout: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'pam-verify-'));
  mkdirSync(path.join(dir, '.pam'));
  const localFile = path.join(dir, '.pam', 'local.json');
  writeFileSync(
    localFile,
    JSON.stringify({
      apiUrl: 'http://127.0.0.1:9',
      awsEndpoint: motoEndpoint(),
      region: MOTO_REGION,
      hubAccountId: world.accountId,
      credentials: {
        accessKeyId: world.env.AWS_ACCESS_KEY_ID,
        secretAccessKey: world.env.AWS_SECRET_ACCESS_KEY,
      },
      accessTableName: world.tables.access,
      auditTableName: world.tables.audit,
      users: ['alice'],
      pid: process.pid,
      startedAt: new Date().toISOString(),
    }),
  );
  return runCliWith(defaultDeps, ['audit', 'verify'], { env: { PAM_LOCAL_FILE: localFile }, cwd: dir });
}

async function leaveGroup(userId: string, group: string): Promise<void> {
  const groupId = loadBundledConfig(world.configFile).identityCenter.groupIds[group];
  const { GroupMemberships = [] } = await world.identityStore.send(
    new ListGroupMembershipsForMemberCommand({
      IdentityStoreId: world.identityStoreId,
      MemberId: { UserId: userId },
    }),
  );
  const membership = GroupMemberships.find((m) => m.GroupId === groupId);
  if (!membership?.MembershipId) throw new Error(`${userId} is not in ${group}`);
  await world.identityStore.send(
    new DeleteGroupMembershipCommand({
      IdentityStoreId: world.identityStoreId,
      MembershipId: membership.MembershipId,
    }),
  );
}

describe('forged queue messages', () => {
  it('an acquire naming a tuple its request does not name assigns nothing, and is audited', async () => {
    // Prepare: alice's real ACTIVE grant; the attacker wants mallory in the prod account as ProdAdmin.
    const grant = await activeDevGrant();
    const forged = {
      userId: world.userIds.mallory,
      accountId: PROD_ACCOUNT,
      permissionSetArn: world.permissionSetArns.ProdAdmin as string,
    };

    // Act
    await world.sqs.send(
      new SendMessageCommand({
        QueueUrl: world.queues.provisioning.url,
        MessageGroupId: tupleGroup(forged),
        MessageBody: JSON.stringify({ op: 'acquire', requestId: grant.id, tuple: forged }),
      }),
    );
    await h.settle();

    // Assess
    expect(await assignedIn(PROD_ACCOUNT, 'ProdAdmin')).not.toContain(world.userIds.mallory);
    expect(await systemRejections()).toContainEqual(
      expect.objectContaining({ requestId: grant.id, check: 'acquire' }),
    );
  });

  it('an assignment-succeeded without its lease and assignment does not make a request ACTIVE', async () => {
    // Prepare: the assignment stays IN_PROGRESS, so the request waits in PROVISIONING.
    world.identityCenter.fake.setPolls({ create: 1_000_000 });
    const request = await pendingDevRequest(world.userIds.erin);
    await h.decide({ action: 'approve', actorId: world.userIds.bob, requestId: request.id });
    await h.settle({ maxPasses: 3 });
    expect((await stored(request.id)).status).toBe('PROVISIONING');

    // Act: a forged report that the assignment was made.
    await h.send(
      { action: 'assignment-succeeded', requestId: request.id, accountId: DEV_ACCOUNT },
      { by: 'provisioning', lease: 'f'.repeat(40), version: 1 },
    );
    await h.settle({ maxPasses: 3 });

    // Assess
    expect((await stored(request.id)).status).toBe('PROVISIONING');
    expect(await systemRejections()).toContainEqual(
      expect.objectContaining({ requestId: request.id, check: 'assignment-succeeded' }),
    );
    world.identityCenter.fake.setPolls({ create: 0 });
    world.identityCenter.fake.settle();
    await h.settle();
    expect((await stored(request.id)).status).toBe('ACTIVE');
    h.clock.advance(2 * HOUR);
    await h.settle();
  });
});

describe('direct writes to the access table', () => {
  it('a PENDING request flipped to APPROVED is not provisioned, and `pam audit verify` names it', async () => {
    // Prepare
    const request = await pendingDevRequest(world.userIds.erin);

    // Act
    await directWrite(request.id, { status: 'APPROVED', version: request.version + 1 });
    await h.settle();
    h.clock.advance(5 * 60_000);
    await h.reconcile();
    await h.settle();

    // Assess: nothing provisioned, the refusal audited, and the compliance check fails naming it.
    expect(await assignedIn(DEV_ACCOUNT, 'DevReadOnly')).not.toContain(world.userIds.erin);
    expect((await stored(request.id)).status).toBe('APPROVED');
    expect(await systemRejections()).toContainEqual(
      expect.objectContaining({ requestId: request.id, check: 'start' }),
    );
    const verify = await auditVerify();
    expect(verify.code).toBe(1);
    expect(verify.stdout).toContain(request.id);
  });

  it('a grant whose expiry was written later still ends on time', async () => {
    // Prepare
    const grant = await activeDevGrant(world.userIds.erin);
    const provenEnd = Date.parse(grant.grant?.expiresAt as string);

    // Act: the record says the grant lasts a day longer.
    await directWrite(grant.id, {
      grant: { ...grant.grant, expiresAt: new Date(provenEnd + DAY).toISOString() },
    });
    h.clock.set(new Date(provenEnd + 1000));
    await h.settle();

    // Assess
    const ended = await stored(grant.id);
    expect(ended.status).toBe('EXPIRED');
    expect(Date.parse(ended.endedAt as string) - provenEnd).toBeLessThan(60_000);
    expect(await assignedIn(DEV_ACCOUNT, 'DevReadOnly')).not.toContain(world.userIds.erin);
  });
});

describe('checks made again when access would widen', () => {
  it('an approval by someone removed from the approver group before quorum does not count', async () => {
    // Prepare: prod-admin needs two cloud-ops approvals; bob approves, then leaves cloud-ops.
    const request = await h.createRequest({
      actorId: world.userIds.alice,
      entitlementId: 'prod-admin',
      accountId: PROD_ACCOUNT,
      durationMs: HOUR,
      reason: 'incident',
      ticket: 'OPS-9',
    });
    await h.decide({ action: 'approve', actorId: world.userIds.bob, requestId: request.id });
    await leaveGroup(world.userIds.bob, 'cloud-ops');

    // Act: carol's approval would complete the quorum with bob's.
    const after = await h.decide({ action: 'approve', actorId: world.userIds.carol, requestId: request.id });
    await h.settle();

    // Assess: one approval counts; nothing is provisioned.
    expect(after.status).toBe('PENDING');
    expect(after.approvals.map((a) => a.approverId)).toEqual([world.userIds.carol]);
    expect(await assignedIn(PROD_ACCOUNT, 'ProdAdmin')).not.toContain(world.userIds.alice);
  });

  it('a requester who leaves the eligible group before the start gets no access', async () => {
    // Prepare: erin's request, approved for a start two hours ahead.
    const startAt = new Date(h.clock.now().getTime() + 2 * HOUR);
    const request = await h.createRequest({
      actorId: world.userIds.erin,
      entitlementId: 'dev-readonly',
      accountId: DEV_ACCOUNT,
      durationMs: HOUR,
      reason: 'later',
      startAt: startAt.toISOString(),
    });
    await h.decide({ action: 'approve', actorId: world.userIds.carol, requestId: request.id });
    await h.settle();
    expect((await stored(request.id)).status).toBe('SCHEDULED');
    await leaveGroup(world.userIds.erin, 'engineers');

    // Act
    h.clock.set(new Date(startAt.getTime() + 1000));
    await h.settle();

    // Assess
    expect((await stored(request.id)).status).toBe('REVOKED');
    expect(await assignedIn(DEV_ACCOUNT, 'DevReadOnly')).not.toContain(world.userIds.erin);
  });

  it('a startAt past maxStartDelay (default P7D) is refused', async () => {
    const result = await h.api(world.userIds.alice, 'POST', '/v1/requests', {
      entitlementId: 'dev-readonly',
      accountId: DEV_ACCOUNT,
      duration: 'PT1H',
      reason: 'six months ahead',
      startAt: new Date(h.clock.now().getTime() + 180 * DAY).toISOString(),
    });

    expect(result.statusCode).toBe(400);
    expect(JSON.parse(result.body).error).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringContaining('startAt'),
    });
  });
});
