// Who may send what on the commands queue. Every function runs under its own role in moto and the
// proxy gives each message its real sender's SenderId (`<RoleId>:<session>`), as SQS does; the
// deployed process-command handler accepts each command only from the roles that may send it
// (shared/app/senders.ts). A refused command changes nothing, is audited on the `system` chain and is
// not retried.
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import type { Delivery } from '#app/delivery.ts';
import type { AccessRequest } from '#domain/model.ts';
import { createGrantHarness } from '../support/grant-harness.ts';
import { auditLogOf, createPamWorld, DEV_ACCOUNT } from '../support/pam-world.ts';
import { perFile } from '../support/per-file.ts';

let passes = 0;
const HOUR = 3_600_000;

const world = perFile(createPamWorld, (w) => w.stop());
const h = perFile(
  () => createGrantHarness(world),
  (harness) => harness.stop(),
);
const audit = perFile(() => auditLogOf(world));

const stored = async (id: string) => (await h.deps.store.get(id)) as AccessRequest;
const delivery = (): Delivery => ({ by: 'reconciler', pass: `pass-${++passes}` }) as Delivery;

async function senderRefusals(requestId: string): Promise<Record<string, unknown>[]> {
  return (await audit.readChain('system'))
    .filter((event) => event.type === 'system.rejected' && event.requestId === requestId)
    .map((event) => ({ ...event.details }));
}

async function messagesIn(url: string): Promise<number> {
  const { GetQueueAttributesCommand } = await import('@aws-sdk/client-sqs');
  const { Attributes } = await world.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

async function pendingDevRequest(): Promise<AccessRequest> {
  return h.createRequest({
    actorId: world.userIds.alice,
    entitlementId: 'dev-readonly',
    accountId: DEV_ACCOUNT,
    durationMs: HOUR,
    reason: 'command senders',
  });
}

describe('the commands worker checks who sent each command', () => {
  it('refuses and audits an approval sent by an engine role, and does not retry it', async () => {
    // Prepare
    const request = await pendingDevRequest();

    // Act: the reconciler's role (compromised) approves as bob.
    await h.send(
      { action: 'approve', requestId: request.id, actorId: world.userIds.bob },
      delivery(),
      'reconcile',
    );
    await h.settle();

    // Assess
    expect((await stored(request.id)).status).toBe('PENDING');
    expect((await stored(request.id)).approvals).toEqual([]);
    expect(await senderRefusals(request.id)).toEqual([
      expect.objectContaining({
        check: 'sender',
        action: 'approve',
        senderRoleId: world.roles.reconcile.id,
        sentAs: ['reconcile'],
        mayBeSentBy: ['ingress'],
      }),
    ]);
    expect(await messagesIn(world.queues.commands.url)).toBe(0);
    expect(await messagesIn(world.queues.commandsDlq.url)).toBe(0);
  });

  it('refuses a system-revoke sent from the API’s role; the reconciler’s is obeyed', async () => {
    // Prepare: an active grant.
    const request = await pendingDevRequest();
    await h.decide({ action: 'approve', actorId: world.userIds.bob, requestId: request.id });
    await h.settle();
    expect((await stored(request.id)).status).toBe('ACTIVE');

    // Act 1: handle-api's role (internet-facing) forges a system revocation.
    await h.send({ action: 'system-revoke', requestId: request.id, reason: 'forged' }, delivery(), 'ingress');
    await h.settle();

    // Assess 1
    expect((await stored(request.id)).status).toBe('ACTIVE');
    expect(await senderRefusals(request.id)).toContainEqual(
      expect.objectContaining({ check: 'sender', action: 'system-revoke', sentAs: ['ingress'] }),
    );

    // Act 2: the reconciler sends it.
    await h.send({ action: 'system-revoke', requestId: request.id, reason: 'user disabled' }, delivery());
    await h.settle();

    // Assess 2
    expect((await stored(request.id)).status).toBe('REVOKED');
  });

  it('refuses a command from a sender that is none of cloud-pam’s roles (an IAM user)', async () => {
    // Prepare
    const request = await pendingDevRequest();

    // Act: sent with the world's IAM user keys, straight to the queue.
    await world.sqs.send(
      new SendMessageCommand({
        QueueUrl: world.queues.commands.url,
        MessageGroupId: request.id,
        MessageBody: JSON.stringify({
          action: 'approve',
          requestId: request.id,
          actorId: world.userIds.bob,
          delivery: delivery(),
        }),
      }),
    );
    await h.settle();

    // Assess
    expect((await stored(request.id)).approvals).toEqual([]);
    expect(await senderRefusals(request.id)).toEqual([
      expect.objectContaining({ check: 'sender', action: 'approve', sentAs: [] }),
    ]);
  });

  it('an assumed role’s session name is not its identity: the reconciler’s role in a session named handle-api may not extend', async () => {
    // Prepare: an active grant; a session of the reconciler's role named like the Scheduler's.
    const request = await pendingDevRequest();
    await h.decide({ action: 'approve', actorId: world.userIds.bob, requestId: request.id });
    await h.settle();
    const grant = (await stored(request.id)).grant;

    // Act: approve (human-only) from the reconciler's role under the session name "handle-api".
    const { roleIdentities } = await import('../../local/role-identity.ts');
    const roles = roleIdentities({ proxy: h.proxy, region: 'us-east-1', credentials: world.credentials });
    try {
      const sqs = await roles.sqsAs(world.roles.reconcile.arn, 'handle-api');
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: world.queues.commands.url,
          MessageGroupId: request.id,
          MessageBody: JSON.stringify({
            action: 'extend',
            requestId: request.id,
            actorId: world.userIds.alice,
            additionalMs: HOUR,
            delivery: delivery(),
          }),
        }),
      );
      await h.settle();
    } finally {
      roles.destroy();
    }

    // Assess
    expect((await stored(request.id)).status).toBe('ACTIVE');
    expect((await stored(request.id)).grant).toEqual(grant);
    expect(await senderRefusals(request.id)).toContainEqual(
      expect.objectContaining({ action: 'extend', senderRoleId: world.roles.reconcile.id }),
    );
  });
});
