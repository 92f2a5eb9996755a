// The commands-queue worker as deployed (test/support/grant-harness.ts): the real process-command
// handler — Powertools FIFO batch processing, Powertools Idempotency keyed by delivery on the
// DynamoDB idempotency table — fed by the SQS event-source emulation `make start` uses, from the
// FIFO commands queue (MessageGroupId = request id) with its dead-letter queue.
import { GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import type { Delivery } from '#app/delivery.ts';
import { requestChainId } from '#domain/audit-types.ts';
import { createGrantHarness } from '../support/grant-harness.ts';
import { auditLogOf, createPamWorld, DEV_ACCOUNT } from '../support/pam-world.ts';
import { perFile } from '../support/per-file.ts';

let sequence = 0;

const world = perFile(createPamWorld, (w) => w.stop());
const h = perFile(
  () => createGrantHarness(world, { functions: ['handle-api', 'process-command'] }),
  (harness) => harness.stop(),
);
const auditLog = perFile(() => auditLogOf(world));

/** A fresh ingress delivery (an API Gateway request id). */
function delivery(): Delivery {
  sequence += 1;
  return { by: 'api', requestId: `apigw-${sequence}` };
}

async function openDevRequest(): Promise<string> {
  const created = await h.createRequest({
    actorId: world.userIds.alice,
    entitlementId: 'dev-readonly',
    accountId: DEV_ACCOUNT,
    reason: 'investigate an alarm',
  });
  return created.id;
}

async function statusOf(requestId: string): Promise<{ status: string; version: number }> {
  const request = await h.deps.store.get(requestId);
  return { status: request?.status ?? 'missing', version: request?.version ?? 0 };
}

async function eventTypes(requestId: string): Promise<string[]> {
  return (await auditLog.readChain(requestChainId(requestId))).map((event) => event.type);
}

async function deadLetters(): Promise<number> {
  const { Attributes } = await world.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: world.queues.commandsDlq.url,
      AttributeNames: ['ApproximateNumberOfMessages'],
    }),
  );
  return Number(Attributes?.ApproximateNumberOfMessages);
}

describe('process-command', () => {
  it('applies an approval from the queue like the API does', async () => {
    const requestId = await openDevRequest();

    await h.send({ action: 'approve', requestId, actorId: world.userIds.bob }, delivery());
    const { failures } = await h.settle();

    expect(failures).toEqual([]);
    expect(await statusOf(requestId)).toEqual({ status: 'APPROVED', version: 2 });
  });

  it('processes one delivery once within the idempotency window, even when SQS lets a repeat through', async () => {
    const requestId = await openDevRequest();
    const click = delivery();
    // Two messages (their bodies differ, so SQS deduplication does not drop the second) of one delivery.
    await h.send({ action: 'approve', requestId, actorId: world.userIds.bob, commandId: 'try-1' }, click);
    await h.send({ action: 'approve', requestId, actorId: world.userIds.bob, commandId: 'try-2' }, click);

    await h.settle();

    // Without idempotency the repeat would be refused (already approved) and audited as a rejection.
    expect(await eventTypes(requestId)).toEqual(['request.created', 'request.approved']);
  });

  it('processes the same body once per delivery: a second sender is not answered from the first one’s record', async () => {
    const requestId = await openDevRequest();
    const body = { action: 'approve', requestId, actorId: world.userIds.bob };

    await h.send(body, delivery());
    await h.settle();
    await h.send(body, delivery());
    await h.settle();

    // The second delivery was processed: refused (already approved) and audited.
    expect(await eventTypes(requestId)).toEqual(['request.created', 'request.approved', 'request.rejected']);
  });

  it('keeps the order of one request group: approve then deny → approved, deny refused and audited', async () => {
    const requestId = await openDevRequest();

    await h.send({ action: 'approve', requestId, actorId: world.userIds.bob }, delivery());
    await h.send({ action: 'deny', requestId, actorId: world.userIds.carol }, delivery());
    await h.settle();

    expect((await statusOf(requestId)).status).toBe('APPROVED');
    const events = await auditLog.readChain(requestChainId(requestId));
    expect(events.map((event) => event.type)).toEqual([
      'request.created',
      'request.approved',
      'request.rejected',
    ]);
    expect(events[2]?.details).toMatchObject({ action: 'deny', code: 'INVALID_STATE' });
  });

  it('dead-letters a malformed command after its retries while other requests go on', async () => {
    const requestId = await openDevRequest();
    const otherId = await openDevRequest();
    const before = await deadLetters();
    await world.sqs.send(
      new SendMessageCommand({
        QueueUrl: world.queues.commands.url,
        MessageGroupId: requestId,
        MessageBody: JSON.stringify({
          action: 'approve',
          requestId,
          actorId: world.userIds.bob,
          extra: 'field',
          delivery: delivery(),
        }),
      }),
    );
    await h.send({ action: 'approve', requestId, actorId: world.userIds.carol }, delivery());
    await h.send({ action: 'approve', requestId: otherId, actorId: world.userIds.bob }, delivery());

    const first = await h.settle();

    // The other request went on at once; the malformed command held only its own group.
    expect(first.failures.length).toBeGreaterThan(0);
    expect(await statusOf(otherId)).toEqual({ status: 'APPROVED', version: 2 });
    for (let round = 0; round < 10 && (await deadLetters()) === before; round++) await h.settle();
    // SQS FIFO returns the group's later messages with the failed one, so their receive counts run
    // out together: the command queued behind the malformed one is dead-lettered with it (both
    // alarm; the reconciler re-derives what was lost), and the request is untouched.
    expect(await deadLetters()).toBe(before + 2);
    expect(await statusOf(requestId)).toEqual({ status: 'PENDING', version: 1 });
  });

  it('refuses, once and without retry, an expiry for a request that never became active', async () => {
    const requestId = await openDevRequest();
    const before = await deadLetters();

    await h.send(
      { action: 'expire', requestId, grantVersion: 1, expiresAt: new Date().toISOString() },
      delivery(),
    );
    const { failures } = await h.settle();

    // Expiring a request that never became active is refused as INVALID_STATE: final, not retried.
    expect(failures).toEqual([]);
    expect(await deadLetters()).toBe(before);
    expect(await statusOf(requestId)).toEqual({ status: 'PENDING', version: 1 });
  });
});
