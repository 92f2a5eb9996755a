// Faults in the grant engine, against moto over HTTP: for each injected fault — throttling,
// IN_PROGRESS × n, FAILED, and a crash at every AWS call k of provisioning and of revocation — the
// invariants hold after retries plus one reconciler pass:
//   1. no ACTIVE request without its assignment,
//   2. no assignment without an ACTIVE or PROVISIONING grant,
//   3. no deny statement left past its removal time.
//
// The engine runs as deployed (test/support/grant-harness.ts): the real handlers in worker threads,
// fed by the event-source emulation `make start` uses; a "crash" is an AWS call that fails as the
// function's process dying at that point would leave it (the harness's proxy answers it with an
// error the SDK does not retry).
// Moto deviations worked around (see the harness): assignments succeed at once (IN_PROGRESS/FAILED
// are injected by the proxy), a repeated create would store a duplicate (the proxy answers it as
// AWS does), schedules never fire (the event sources fire them on the harness clock).

import { randomUUID } from 'node:crypto';
import { CreateGroupMembershipCommand, CreateUserCommand } from '@aws-sdk/client-identitystore';
import { describe, expect, it } from 'vitest';
import { denyRemovalTimes } from '#domain/deny-policy.ts';
import { type AccessRequest, REQUEST_STATUSES, targetAccounts } from '#domain/model.ts';
import { loadBundledConfig } from '#runtime/bundled-config.ts';
import { createGrantHarness } from '../support/grant-harness.ts';
import { createPamWorld, DEV_ACCOUNT, DEV2_ACCOUNT } from '../support/pam-world.ts';
import { perFile } from '../support/per-file.ts';

const HOUR = 3_600_000;

const world = perFile(createPamWorld, (w) => w.stop());
const h = perFile(
  () => createGrantHarness(world),
  (harness) => harness.stop(),
);

async function allRequests(): Promise<AccessRequest[]> {
  const all: AccessRequest[] = [];
  for (const status of REQUEST_STATUSES) {
    let nextToken: string | undefined;
    do {
      const page = await h.deps.store.listByStatus(status, {
        limit: 100,
        ...(nextToken ? { nextToken } : {}),
      });
      all.push(...page.items);
      nextToken = page.nextToken;
    } while (nextToken);
  }
  return all;
}

/** Retries (pumping until idle), then one reconciler pass a few minutes later, then idle again. */
async function recover(): Promise<void> {
  await h.settle();
  // A crash is injected into the flow, not into the reconciler pass that repairs it.
  h.clearCrash();
  h.clock.advance(3 * 60_000);
  await h.reconcile().catch(() => undefined);
  await h.settle();
}

async function assertInvariants(): Promise<void> {
  const requests = await allRequests();
  const psArn = world.permissionSetArns.DevReadOnly as string;
  for (const accountId of [DEV_ACCOUNT, DEV2_ACCOUNT]) {
    const users = await h.deps.identityCenter.listUserAssignments(accountId, psArn);
    // 2. every assignment is held by an ACTIVE (or PROVISIONING) grant of that user and account
    for (const userId of users) {
      const holder = requests.find(
        (request) =>
          request.requesterId === userId &&
          targetAccounts(request).includes(accountId) &&
          ['ACTIVE', 'EXTENSION_PENDING', 'PROVISIONING'].includes(request.status),
      );
      expect(holder, `assignment of ${userId} in ${accountId} without a grant`).toBeDefined();
    }
    // 1. every ACTIVE grant has its assignment
    for (const request of requests.filter(
      (r) => r.status === 'ACTIVE' && targetAccounts(r).includes(accountId),
    )) {
      expect(users, `ACTIVE ${request.id} without its assignment in ${accountId}`).toContain(
        request.requesterId,
      );
    }
  }
  // 3. no deny statement past its removal time
  const now = h.clock.now().getTime();
  for (const { arn } of h.deps.permissionSets.all()) {
    const overdue = denyRemovalTimes(await h.deps.identityCenter.getInlinePolicy(arn)).filter(
      (at) => at.getTime() <= now,
    );
    expect(overdue, `deny statements past their removal time on ${arn}`).toEqual([]);
  }
}

async function approvedDevRequest(
  accountIds: readonly string[] = [DEV_ACCOUNT, DEV2_ACCOUNT],
): Promise<AccessRequest> {
  const request = await h.createRequest({
    actorId: world.userIds.erin,
    entitlementId: 'dev-readonly',
    accountId: accountIds[0] as string,
    accountIds,
    durationMs: HOUR,
    reason: 'fault drill',
  });
  await h.decide({ action: 'approve', actorId: world.userIds.bob, requestId: request.id });
  return request;
}

/** bob's revoke through the commands queue, as an ingress would send it. */
async function revokeThroughQueue(request: AccessRequest): Promise<void> {
  await h.send(
    { action: 'revoke', requestId: request.id, actorId: world.userIds.bob, comment: 'drill over' },
    { by: 'api', requestId: randomUUID() },
  );
}

/** Ends everything erin holds, so each case starts from a clean tuple. */
async function cleanUp(): Promise<void> {
  for (const request of await allRequests()) {
    if (request.requesterId !== world.userIds.erin) continue;
    if (['ACTIVE', 'EXTENSION_PENDING', 'PROVISIONING', 'APPROVED'].includes(request.status)) {
      await revokeThroughQueue(request);
    }
  }
  await recover();
  h.clock.advance(HOUR + 120_000);
  await recover();
}

describe('injected Identity Center faults', () => {
  it.each([
    [
      'throttling on create (retried with backoff)',
      [{ command: 'CreateAccountAssignmentCommand', fault: 'throttle', times: 2 }],
    ],
    [
      'IN_PROGRESS × 3 on create (polled)',
      [
        { command: 'CreateAccountAssignmentCommand', fault: 'in-progress', times: 1 },
        { command: 'DescribeAccountAssignmentCreationStatusCommand', fault: 'in-progress', times: 2 },
      ],
    ],
    [
      'IN_PROGRESS beyond the poll budget (a check is re-enqueued)',
      [
        { command: 'CreateAccountAssignmentCommand', fault: 'in-progress', times: 1 },
        { command: 'DescribeAccountAssignmentCreationStatusCommand', fault: 'in-progress', times: 9 },
      ],
    ],
    ['throttling on delete', [{ command: 'DeleteAccountAssignmentCommand', fault: 'throttle', times: 2 }]],
    // On moto the rewritten FAILED delete did remove the assignment; the retry then finds it gone,
    // which the adapter treats as deleted (as it would after AWS removed it on a later attempt).
    [
      'FAILED on delete (the release is retried)',
      [{ command: 'DeleteAccountAssignmentCommand', fault: 'failed', times: 1 }],
    ],
    [
      'IN_PROGRESS × 6 on delete',
      [
        { command: 'DeleteAccountAssignmentCommand', fault: 'in-progress', times: 1 },
        { command: 'DescribeAccountAssignmentDeletionStatusCommand', fault: 'in-progress', times: 5 },
      ],
    ],
  ] as const)('%s: the grant activates, the revoke removes it, the invariants hold', async (_, rules) => {
    h.faults.add(...rules.map((rule) => ({ ...rule })));
    const request = await approvedDevRequest();
    await recover();
    expect((await h.deps.store.get(request.id))?.status).toBe('ACTIVE');
    await assertInvariants();

    await revokeThroughQueue(request);
    await recover();
    expect((await h.deps.store.get(request.id))?.status).toBe('REVOKED');
    await assertInvariants();
    expect(h.faults.remaining()).toBe(0);
    await cleanUp();
    await assertInvariants();
  });

  it('a FAILED create fails the grant and leaves nothing behind', async () => {
    let failed = 0;
    const failCreate = (operation: string) => {
      if (operation !== 'CreateAccountAssignment' || failed > 0) return undefined;
      failed++;
      return {
        AccountAssignmentCreationStatus: {
          Status: 'FAILED',
          RequestId: 'injected-failed',
          FailureReason: 'injected',
        },
      };
    };
    const unregister = h.answer(failCreate);
    const request = await approvedDevRequest();
    await recover();
    unregister();

    expect((await h.deps.store.get(request.id))?.status).toBe('FAILED');
    await assertInvariants();
    await cleanUp();
  });
});

describe('a crash at every AWS call', () => {
  // Each case uses a new engineer, so its tuple is fresh and no clean-up is needed in between.
  let engineers = 0;
  async function newEngineer(): Promise<string> {
    engineers++;
    const groupId = loadBundledConfig(world.configFile).identityCenter.groupIds.engineers as string;
    const { UserId } = await world.identityStore.send(
      new CreateUserCommand({
        IdentityStoreId: world.identityStoreId,
        UserName: `crash-${engineers}`,
        DisplayName: `crash-${engineers}`,
        Name: { GivenName: 'Crash', FamilyName: String(engineers) },
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

  async function approvedBy(userId: string): Promise<AccessRequest> {
    const request = await h.createRequest({
      actorId: userId,
      entitlementId: 'dev-readonly',
      accountId: DEV_ACCOUNT,
      durationMs: HOUR,
      reason: 'crash drill',
    });
    await h.decide({ action: 'approve', actorId: world.userIds.bob, requestId: request.id });
    return request;
  }

  function callsSoFar(): number {
    return h.totalCalls();
  }

  it('of provisioning: after retries and one reconciler pass the invariants hold', async () => {
    // Measure the calls the flow makes from approval to idle on a clean run.
    const probe = await approvedBy(await newEngineer());
    const before = callsSoFar();
    await h.settle();
    const total = callsSoFar() - before;
    expect(total).toBeGreaterThan(10);
    expect((await h.deps.store.get(probe.id))?.status).toBe('ACTIVE');

    for (let k = 0; k < total; k++) {
      const created = await approvedBy(await newEngineer());
      h.crashAfter(k);
      try {
        await recover();
      } finally {
        h.clearCrash();
      }
      const status = (await h.deps.store.get(created.id))?.status;
      expect(['ACTIVE', 'FAILED'], `crash at call ${k} of ${total}: ${status}`).toContain(status);
      await assertInvariants();
    }
  }, 900_000);

  it('of revocation: after retries and one reconciler pass the invariants hold', async () => {
    const probe = await approvedBy(await newEngineer());
    await h.settle();
    const before = callsSoFar();
    await revokeThroughQueue(probe);
    await h.settle();
    const total = callsSoFar() - before;
    expect(total).toBeGreaterThan(10);
    expect((await h.deps.store.get(probe.id))?.status).toBe('REVOKED');

    for (let k = 0; k < total; k++) {
      const created = await approvedBy(await newEngineer());
      await h.settle();
      expect((await h.deps.store.get(created.id))?.status).toBe('ACTIVE');
      await revokeThroughQueue(created);
      h.crashAfter(k);
      try {
        await recover();
      } finally {
        h.clearCrash();
      }
      expect((await h.deps.store.get(created.id))?.status, `crash at call ${k} of ${total}`).toBe('REVOKED');
      await assertInvariants();
    }
    // Past one session duration every deny added by these revocations has been swept.
    h.clock.advance(HOUR + 120_000);
    await recover();
    await assertInvariants();
  }, 900_000);
});
