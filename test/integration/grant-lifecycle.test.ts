// The grant engine against moto over HTTP, run as deployed (test/support/grant-harness.ts): the
// real handlers with their middleware, fed by the event-source emulation `make start` uses —
// approval → assignment → expiry/revocation through the real stream, queues and schedules.
//
// Moto deviations worked around here:
// - sso-admin assignments succeed at once and a repeated create stores a duplicate: assertions
//   count Create/Delete calls (counted by the harness's proxy) rather than trusting the list.
// - schedules never fire: the event sources fire them when the harness clock reaches them.
// - IN_PROGRESS and FAILED never happen on moto: the harness's proxy injects them.
import { CreateAccountAssignmentCommand } from '@aws-sdk/client-sso-admin';
import { describe, expect, it } from 'vitest';
import type { DriftReport } from '#app/grants/drift.ts';
import type { ReconcileReport } from '#app/grants/reconcile.ts';
import { verifyChain } from '#domain/audit.ts';
import type { AccessRequest } from '#domain/model.ts';
import { createGrantHarness } from '../support/grant-harness.ts';
import { auditLogOf, createPamWorld, DEV_ACCOUNT, DEV2_ACCOUNT, PROD_ACCOUNT } from '../support/pam-world.ts';
import { perFile } from '../support/per-file.ts';

const HOUR = 3_600_000;

const world = perFile(createPamWorld, (w) => w.stop());
const h = perFile(
  () => createGrantHarness(world),
  (harness) => harness.stop(),
);
const audit = perFile(() => auditLogOf(world));

async function assigned(
  accountId: string,
  permissionSet: 'DevReadOnly' | 'ProdAdmin',
): Promise<readonly string[]> {
  return h.deps.identityCenter.listUserAssignments(
    accountId,
    world.permissionSetArns[permissionSet] as string,
  );
}

async function stored(id: string): Promise<AccessRequest> {
  return (await h.deps.store.get(id)) as AccessRequest;
}

async function settled(): Promise<void> {
  const { failures } = await h.settle();
  expect(failures).toEqual([]);
}

/** alice asks for dev-readonly, bob approves, the engine provisions it. */
async function activeDevGrant(accountIds: readonly string[] = [DEV_ACCOUNT]): Promise<AccessRequest> {
  const request = await h.createRequest({
    actorId: world.userIds.alice,
    entitlementId: 'dev-readonly',
    accountId: accountIds[0] as string,
    ...(accountIds.length > 1 ? { accountIds } : {}),
    durationMs: HOUR,
    reason: 'investigate',
  });
  await h.decide({ action: 'approve', actorId: world.userIds.bob, requestId: request.id });
  await settled();
  return stored(request.id);
}

async function expireAt(request: AccessRequest): Promise<void> {
  h.clock.set(new Date(Date.parse(request.grant?.expiresAt as string) + 1000));
  await settled();
}

/** An expiry command as the reconciler's pass `pass` would send it. */
async function expireFromReconciler(request: AccessRequest, grantVersion: number, pass: string) {
  await h.send(
    { action: 'expire', requestId: request.id, grantVersion, expiresAt: request.grant?.expiresAt as string },
    { by: 'reconciler', pass },
  );
}

describe('grant lifecycle', () => {
  it('APPROVED → ACTIVE with the assignment listed → expiry → assignment gone, EXPIRED, chain verifies', async () => {
    // Prepare
    const before = h.assignmentCalls();

    // Act
    const active = await activeDevGrant();
    const whileActive = await assigned(DEV_ACCOUNT, 'DevReadOnly');
    await expireAt(active);

    // Assess
    expect(active.status).toBe('ACTIVE');
    expect(whileActive).toContain(world.userIds.alice);
    const ended = await stored(active.id);
    expect(ended.status).toBe('EXPIRED');
    expect(await assigned(DEV_ACCOUNT, 'DevReadOnly')).not.toContain(world.userIds.alice);
    expect(h.assignmentCalls()).toEqual({ create: before.create + 1, delete: before.delete + 1 });
    const chain = await audit.readChain(`request#${active.id}`);
    expect(chain.map((event) => event.type)).toEqual([
      'request.created',
      'request.approved',
      'grant.provisioning',
      'assignment.acquired',
      'grant.activated',
      'grant.expired',
    ]);
    expect(verifyChain(chain)).toMatchObject({ ok: true });
  });

  it('two overlapping grants on one tuple keep the assignment until the last one ends', async () => {
    const before = h.assignmentCalls();
    const first = await activeDevGrant();
    const second = await activeDevGrant();
    expect(h.assignmentCalls().create).toBe(before.create + 1);

    await h.decide({ action: 'revoke', actorId: world.userIds.alice, requestId: first.id });
    await settled();
    expect((await stored(first.id)).status).toBe('REVOKED');
    expect(await assigned(DEV_ACCOUNT, 'DevReadOnly')).toContain(world.userIds.alice);
    expect(h.assignmentCalls().delete).toBe(before.delete);

    await expireAt(second);
    expect((await stored(second.id)).status).toBe('EXPIRED');
    expect(await assigned(DEV_ACCOUNT, 'DevReadOnly')).not.toContain(world.userIds.alice);
    expect(h.assignmentCalls()).toEqual({ create: before.create + 1, delete: before.delete + 1 });
  });

  it('an extension approved one second before expiry survives the old schedule', async () => {
    const active = await activeDevGrant();
    const oldExpiry = Date.parse(active.grant?.expiresAt as string);
    h.clock.set(new Date(oldExpiry - 1000));
    await h.decide({
      action: 'extend',
      actorId: world.userIds.alice,
      requestId: active.id,
      additionalMs: HOUR,
      reason: 'need more time',
    });
    await h.decide({ action: 'approve', actorId: world.userIds.bob, requestId: active.id });
    await settled();
    // The old version's expiry arrives anyway (e.g. a reconciler pass that read the old grant).
    await expireFromReconciler(active, 1, 'pass-before-extension');
    h.clock.set(new Date(oldExpiry + 1000));
    await settled();

    const extended = await stored(active.id);
    expect(extended.status).toBe('ACTIVE');
    expect(extended.grant?.grantVersion).toBe(2);
    expect(await assigned(DEV_ACCOUNT, 'DevReadOnly')).toContain(world.userIds.alice);

    await expireAt(extended);
    expect((await stored(active.id)).status).toBe('EXPIRED');
  });

  it('an expiry delivered twice is harmless', async () => {
    const active = await activeDevGrant();
    const before = h.assignmentCalls();
    h.clock.set(new Date(Date.parse(active.grant?.expiresAt as string) + 1000));

    // The schedule fires, and a reconciler pass sends its own expiry for the same grant.
    await expireFromReconciler(active, 1, 'pass-after-expiry');
    await settled();

    expect((await stored(active.id)).status).toBe('EXPIRED');
    expect(h.assignmentCalls().delete).toBe(before.delete + 1);
    const expired = (await audit.readChain(`request#${active.id}`)).filter((e) => e.type === 'grant.expired');
    expect(expired).toHaveLength(1);
  });

  it('a multi-assignment grant whose second assignment FAILS leaves nothing behind and is FAILED', async () => {
    // Prepare: the first create stays IN_PROGRESS once (then succeeds when polled); the create in
    // the second account FAILS, answered in place of the service as AWS would (nothing created).
    const before = h.assignmentCalls();
    h.faults.add({ command: 'CreateAccountAssignmentCommand', fault: 'in-progress', times: 1 });
    let failedCreates = 0;
    const failSecondAccount = (operation: string, input: Record<string, unknown>) => {
      if (operation !== 'CreateAccountAssignment' || input.TargetId !== DEV2_ACCOUNT) return undefined;
      failedCreates++;
      return {
        AccountAssignmentCreationStatus: {
          Status: 'FAILED',
          RequestId: `failed-${failedCreates}`,
          FailureReason: 'injected: the account is suspended',
        },
      };
    };
    const unregister = h.answer(failSecondAccount);

    // Act
    const request = await h.createRequest({
      actorId: world.userIds.alice,
      entitlementId: 'dev-readonly',
      accountId: DEV_ACCOUNT,
      accountIds: [DEV_ACCOUNT, DEV2_ACCOUNT],
      durationMs: HOUR,
      reason: 'two accounts at once',
    });
    await h.decide({ action: 'approve', actorId: world.userIds.bob, requestId: request.id });
    await settled();
    unregister();

    // Assess
    const failed = await stored(request.id);
    expect(failed.status).toBe('FAILED');
    expect(failed.failure).toContain(DEV2_ACCOUNT);
    expect(failedCreates).toBe(1);
    expect(await assigned(DEV_ACCOUNT, 'DevReadOnly')).not.toContain(world.userIds.alice);
    expect(await assigned(DEV2_ACCOUNT, 'DevReadOnly')).not.toContain(world.userIds.alice);
    const made = h.assignmentCalls().create - before.create - failedCreates;
    expect(h.assignmentCalls().delete - before.delete).toBe(made);
  });

  it('a revoke adds the session deny, a deploy that drops it gets it back from the reconciler, and a sweep removes it after one session duration', async () => {
    const request = await h.createRequest({
      actorId: world.userIds.alice,
      entitlementId: 'prod-admin',
      accountId: PROD_ACCOUNT,
      durationMs: HOUR,
      reason: 'incident',
      ticket: 'OPS-7',
    });
    await h.decide({ action: 'approve', actorId: world.userIds.bob, requestId: request.id });
    await h.decide({ action: 'approve', actorId: world.userIds.carol, requestId: request.id });
    await settled();
    expect((await stored(request.id)).status).toBe('ACTIVE');
    const psArn = world.permissionSetArns.ProdAdmin as string;

    await h.decide({ action: 'revoke', actorId: world.userIds.bob, requestId: request.id, comment: 'done' });
    await settled();
    const withDeny = await h.deps.identityCenter.getInlinePolicy(psArn);

    expect((await stored(request.id)).status).toBe('REVOKED');
    expect(await assigned(PROD_ACCOUNT, 'ProdAdmin')).not.toContain(world.userIds.alice);
    expect(withDeny).toContain(world.userIds.alice);
    expect(JSON.parse(withDeny as string).Statement[0]).toMatchObject({
      Effect: 'Deny',
      Condition: { StringEquals: { 'identitystore:userId': world.userIds.alice } },
    });

    // A deploy that changes the permission set rewrites its inline policy without the deny; the
    // reconciler's next pass puts it back from the deny ledger (the sessions may still be live).
    await h.deps.identityCenter.putInlinePolicy(
      psArn,
      JSON.stringify({ Version: '2012-10-17', Statement: [] }),
    );
    h.clock.advance(5 * 60_000);
    const pass = (await h.reconcile()) as ReconcileReport;
    expect(pass.sent['deny-add']).toBe(1);
    await settled();
    expect(await h.deps.identityCenter.getInlinePolicy(psArn)).toBe(withDeny);

    h.clock.advance(HOUR + 61_000);
    await settled();
    const afterSweep = await h.deps.identityCenter.getInlinePolicy(psArn);
    expect(afterSweep ?? '').not.toContain(world.userIds.alice);
    // Past its removal time the ledger asks for nothing.
    expect(((await h.reconcile()) as ReconcileReport).sent['deny-add']).toBe(0);
  });
});

describe('scheduled start', () => {
  it('waits SCHEDULED until its start time, then provisions through the same schedule mechanism', async () => {
    const startAt = new Date(h.clock.now().getTime() + 2 * HOUR);
    const request = await h.createRequest({
      actorId: world.userIds.alice,
      entitlementId: 'dev-readonly',
      accountId: DEV_ACCOUNT,
      durationMs: HOUR,
      reason: 'maintenance window',
      startAt: startAt.toISOString(),
    });
    await h.decide({ action: 'approve', actorId: world.userIds.bob, requestId: request.id });
    await settled();
    expect((await stored(request.id)).status).toBe('SCHEDULED');

    h.clock.set(new Date(startAt.getTime() + 1000));
    await settled();
    const active = await stored(request.id);
    expect(active.status).toBe('ACTIVE');
    expect(await assigned(DEV_ACCOUNT, 'DevReadOnly')).toContain(world.userIds.alice);
    await expireAt(active);
  });
});

describe('drift', () => {
  it('removes standing access nobody holds once seen past the grace period, but never an in-flight grant', async () => {
    // Prepare: erin's standing assignment made by hand in Identity Center (not through cloud-pam)…
    const psArn = world.permissionSetArns.DevReadOnly as string;
    await world.identityCenter.client.send(
      new CreateAccountAssignmentCommand({
        InstanceArn: world.identityCenter.instanceArn,
        TargetId: DEV2_ACCOUNT,
        TargetType: 'AWS_ACCOUNT',
        PermissionSetArn: psArn,
        PrincipalType: 'USER',
        PrincipalId: world.userIds.erin,
      }),
    );
    // …and alice's grant still provisioning (its create stays IN_PROGRESS past the poll budget).
    h.faults.add(
      { command: 'CreateAccountAssignmentCommand', fault: 'in-progress', times: 1 },
      { command: 'DescribeAccountAssignmentCreationStatusCommand', fault: 'in-progress', times: 4 },
    );
    const inFlight = await h.createRequest({
      actorId: world.userIds.alice,
      entitlementId: 'dev-readonly',
      accountId: DEV2_ACCOUNT,
      durationMs: HOUR,
      reason: 'in flight',
    });
    await h.decide({ action: 'approve', actorId: world.userIds.bob, requestId: inFlight.id });
    // Pump only until the poll budget ran out (a `check` is queued, the create still in flight).
    for (let round = 0; round < 20 && h.faults.remaining() > 0; round++) await h.settle({ maxPasses: 1 });
    expect(h.faults.remaining()).toBe(0);
    expect((await stored(inFlight.id)).status).toBe('PROVISIONING');

    // Act: the first sweep only notes what it sees; the second, past the grace period, acts.
    const first = (await h.sweepDrift()) as DriftReport;
    h.clock.advance(HOUR + 60_000);
    const second = (await h.sweepDrift()) as DriftReport;
    await settled();

    // Assess
    expect(first.drift).toEqual([]);
    expect(second.drift.map((finding) => finding.tuple.userId)).toEqual([world.userIds.erin]);
    const remaining = await assigned(DEV2_ACCOUNT, 'DevReadOnly');
    expect(remaining).not.toContain(world.userIds.erin);
    expect(remaining).toContain(world.userIds.alice);
    expect((await stored(inFlight.id)).status).toBe('ACTIVE');
    const chain = await audit.readChain('drift');
    expect(chain.map((event) => event.type)).toContain('drift.removed');
    expect(
      chain.every((event) => event.type !== 'drift.removed' || event.details.userId === world.userIds.erin),
    ).toBe(true);
    expect(verifyChain(chain)).toMatchObject({ ok: true });

    await expireAt(await stored(inFlight.id));
  });
});
