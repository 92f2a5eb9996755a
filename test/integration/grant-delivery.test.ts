// Deliveries, as the deployed functions see them (test/support/grant-harness.ts: the real handlers
// with their middy chains, Powertools Idempotency included, fed by the event-source emulation
// `make start` uses): a command is processed once per delivery — never answered from the cache of
// another sender's identical body — an early `start` or `expire` waits until due or is not
// remembered, a hostile string is refused at the edge without stopping the engine, and no poison
// record stops its event source.
//
// Moto deviations worked around here: schedules never fire (the event sources fire them on the
// harness clock); a failed TransactWriteItems used to leave open stream iterators on a discarded
// shard (scripts/moto-server.py keeps the shard; test/integration/local-event-sources.test.ts).
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateScheduleCommand } from '@aws-sdk/client-scheduler';
import { GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { requestKey } from '#adapters/aws/tables.ts';
import { requestChainId } from '#domain/audit-types.ts';
import type { AccessRequest } from '#domain/model.ts';
import { createGrantHarness } from '../support/grant-harness.ts';
import { auditLogOf, createPamWorld, DEV_ACCOUNT, SCHEDULE_GROUP } from '../support/pam-world.ts';
import { perFile } from '../support/per-file.ts';

const HOUR = 3_600_000;
const MINUTE = 60_000;

const world = perFile(createPamWorld, (w) => w.stop());
const h = perFile(
  () => createGrantHarness(world),
  (harness) => harness.stop(),
);
const audit = perFile(() => auditLogOf(world));

async function stored(id: string): Promise<AccessRequest> {
  return (await h.deps.store.get(id)) as AccessRequest;
}

async function assigned(userId: string): Promise<boolean> {
  const users = await h.deps.identityCenter.listUserAssignments(
    DEV_ACCOUNT,
    world.permissionSetArns.DevReadOnly as string,
  );
  return users.includes(userId);
}

async function settled(): Promise<void> {
  const { failures } = await h.settle();
  expect(failures).toEqual([]);
}

/** erin asks for dev-readonly (optionally for later), bob approves. */
async function approvedDevRequest(extra: { startAt?: Date } = {}): Promise<AccessRequest> {
  const request = await h.createRequest({
    actorId: world.userIds.erin,
    entitlementId: 'dev-readonly',
    accountId: DEV_ACCOUNT,
    durationMs: HOUR,
    reason: 'delivery drill',
    ...(extra.startAt ? { startAt: extra.startAt.toISOString() } : {}),
  });
  await h.decide({ action: 'approve', actorId: world.userIds.bob, requestId: request.id });
  return request;
}

async function activeDevGrant(): Promise<AccessRequest> {
  const request = await approvedDevRequest();
  await settled();
  const active = await stored(request.id);
  expect(active.status).toBe('ACTIVE');
  return active;
}

async function endAll(): Promise<void> {
  h.clock.advance(2 * HOUR);
  await h.settle();
}

async function messagesIn(url: string): Promise<number> {
  const { Attributes } = await world.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(Attributes?.ApproximateNumberOfMessages) +
    Number(Attributes?.ApproximateNumberOfMessagesNotVisible)
  );
}

/** Settles until `done` holds (a poison record needs several retries before it is given up). */
async function settleUntil(done: () => Promise<boolean>, rounds = 20): Promise<void> {
  for (let round = 0; round < rounds && !(await done()); round++) await h.settle();
  expect(await done()).toBe(true);
}

describe('a scheduled start through the deployed handlers', () => {
  it('starts when its schedule fires, although react-to-change sent the same start body at approval', async () => {
    // Prepare: approved for a start 30 minutes ahead → SCHEDULED, its start schedule created.
    const startAt = new Date(h.clock.now().getTime() + 30 * MINUTE);
    const request = await approvedDevRequest({ startAt });
    await settled();
    expect((await stored(request.id)).status).toBe('SCHEDULED');

    // Act: 31 minutes later the schedule delivers its `start`.
    h.clock.advance(31 * MINUTE);
    await settled();

    // Assess: ACTIVE with its assignment.
    expect((await stored(request.id)).status).toBe('ACTIVE');
    expect(await assigned(world.userIds.erin)).toBe(true);
    await endAll();
  });
});

describe('one body, two senders', () => {
  it('a start the reconciler sent too early is not remembered: the same body from the schedule starts the grant', async () => {
    // Prepare
    const startAt = new Date(h.clock.now().getTime() + 2 * HOUR);
    const request = await approvedDevRequest({ startAt });
    await settled();
    expect((await stored(request.id)).status).toBe('SCHEDULED');

    // Act: a reconciler pass sends `start` an hour early (a no-op), then the schedule fires on time.
    await h.send({ action: 'start', requestId: request.id }, { by: 'reconciler', pass: 'early-pass' });
    await settled();
    expect((await stored(request.id)).status).toBe('SCHEDULED');
    h.clock.set(new Date(startAt.getTime() + 1000));
    await settled();

    // Assess
    expect((await stored(request.id)).status).toBe('ACTIVE');
    await endAll();
  });

  it('an expire the schedule delivered too early is not remembered: the reconciler’s identical expire ends the grant', async () => {
    // Prepare
    const active = await activeDevGrant();
    const expire = {
      action: 'expire',
      requestId: active.id,
      grantVersion: 1,
      expiresAt: active.grant?.expiresAt as string,
    };
    const expiresAt = Date.parse(active.grant?.expiresAt as string);

    // Act: the same body twice — from a schedule, two minutes early; from a reconciler pass, after.
    h.clock.set(new Date(expiresAt - 2 * MINUTE));
    await h.send(expire, {
      by: 'schedule',
      schedule: `arn:aws:scheduler:us-east-1:${world.accountId}:schedule/${SCHEDULE_GROUP}/early-one`,
      at: new Date(expiresAt - 2 * MINUTE).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    });
    await settled();
    expect((await stored(active.id)).status).toBe('ACTIVE');
    h.clock.set(new Date(expiresAt + 5 * MINUTE));
    await h.send(expire, { by: 'reconciler', pass: 'after-expiry' });
    await h.settle();

    // Assess: ended (by whichever came first once due), exactly once.
    expect((await stored(active.id)).status).toBe('EXPIRED');
    expect(await assigned(world.userIds.erin)).toBe(false);
    const ended = (await audit.readChain(requestChainId(active.id))).filter(
      (e) => e.type === 'grant.expired',
    );
    expect(ended).toHaveLength(1);
  });
});

describe('an expire delivered early', () => {
  it('30 s early, it waits in the worker and ends the grant on time; the on-time delivery is a no-op', async () => {
    // Prepare
    const active = await activeDevGrant();
    const expiresAt = Date.parse(active.grant?.expiresAt as string);
    h.clock.set(new Date(expiresAt - 30_000));

    // Act: a reconciler pass that read the clock a little ahead sends `expire` 30 s early; the
    // worker waits on the clock, which reaches the end while it waits.
    await h.send(
      { action: 'expire', requestId: active.id, grantVersion: 1, expiresAt: active.grant?.expiresAt },
      { by: 'reconciler', pass: 'thirty-seconds-early' },
    );
    const settling = h.settle();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect((await stored(active.id)).status).toBe('ACTIVE');
    h.clock.set(new Date(expiresAt));
    await settling;
    // The schedule's own delivery at expiresAt comes too (the clock passed it).
    await settled();

    // Assess: EXPIRED no earlier than its end and within a minute of it, once, assignment gone.
    const expired = await stored(active.id);
    expect(expired.status).toBe('EXPIRED');
    const lateMs = Date.parse(expired.endedAt as string) - expiresAt;
    expect(lateMs).toBeGreaterThanOrEqual(0);
    expect(lateMs).toBeLessThan(60_000);
    expect(await assigned(world.userIds.erin)).toBe(false);
    const ended = (await audit.readChain(requestChainId(active.id))).filter(
      (e) => e.type === 'grant.expired',
    );
    expect(ended).toHaveLength(1);
  });
});

describe('a hostile string', () => {
  it('a lone surrogate in a reason is refused with 400 naming the field, and the next grant still activates', async () => {
    // Act
    const refused = await h.api(world.userIds.erin, 'POST', '/v1/requests', {
      entitlementId: 'dev-readonly',
      accountId: DEV_ACCOUNT,
      duration: 'PT1H',
      reason: '\ud800',
    });

    // Assess: refused at the edge …
    expect(refused.statusCode).toBe(400);
    expect(JSON.parse(refused.body)).toEqual({
      error: { code: 'VALIDATION_FAILED', message: expect.stringContaining('body.reason') },
    });
    // … and the engine goes on.
    const active = await activeDevGrant();
    expect(await assigned(world.userIds.erin)).toBe(true);
    h.clock.set(new Date(Date.parse(active.grant?.expiresAt as string) + 1000));
    await settled();
  });

  it('a command with a control character goes to the dead-letter queue and changes nothing', async () => {
    const request = await approvedDevRequest();
    await settled();
    const before = await messagesIn(world.queues.commandsDlq.url);

    await h.send(
      { action: 'system-revoke', requestId: request.id, reason: 'bell \u0007' },
      { by: 'reconciler', pass: 'hostile' },
    );
    await settleUntil(async () => (await messagesIn(world.queues.commandsDlq.url)) > before);

    expect((await stored(request.id)).status).toBe('ACTIVE');
    await endAll();
  });
});

describe('no poison record stops its event source', () => {
  it('commands queue: a malformed command is dead-lettered while other requests’ commands are processed', async () => {
    // Prepare: a poison command in one request's group, then a real request in another.
    const before = await messagesIn(world.queues.commandsDlq.url);
    await world.sqs.send(
      new SendMessageCommand({
        QueueUrl: world.queues.commands.url,
        MessageGroupId: '01JNQ0000000000000000000ZZ',
        MessageBody: JSON.stringify({ action: 'approve', requestId: '01JNQ0000000000000000000ZZ' }),
      }),
    );
    const request = await approvedDevRequest();

    // Act
    await settleUntil(async () => (await messagesIn(world.queues.commandsDlq.url)) > before);

    // Assess
    expect((await stored(request.id)).status).toBe('ACTIVE');
    await endAll();
  });

  it('provisioning queue: a malformed message is dead-lettered while other tuples are provisioned', async () => {
    const before = await messagesIn(world.queues.provisioningDlq.url);
    await world.sqs.send(
      new SendMessageCommand({
        QueueUrl: world.queues.provisioning.url,
        MessageGroupId: 'tuple-poison',
        MessageBody: '{"op":"acquire","requestId":"not a ulid"}',
      }),
    );
    const request = await approvedDevRequest();

    await settleUntil(async () => (await messagesIn(world.queues.provisioningDlq.url)) > before);

    expect((await stored(request.id)).status).toBe('ACTIVE');
    await endAll();
  });

  it('access stream: a request item no reaction can read goes to the failure queue while later changes are reacted to', async () => {
    // Prepare: an item under a request key that is not a request, written straight to the table.
    const before = await messagesIn(world.queues.streamFailures.url);
    await world.dynamo.send(
      new PutItemCommand({
        TableName: world.tables.access,
        Item: {
          pk: { S: requestKey('POISON').pk },
          sk: { S: requestKey('POISON').sk },
          status: { S: 'NOT-A-STATUS' },
        },
      }),
    );
    const request = await approvedDevRequest();

    // Act
    await settleUntil(async () => (await messagesIn(world.queues.streamFailures.url)) > before);
    await h.settle();

    // Assess
    expect((await stored(request.id)).status).toBe('ACTIVE');
    await endAll();
  });

  it('schedules: one whose target cannot be reached is dead-lettered while the others fire', async () => {
    // Prepare: an active grant (its expiry schedule), and a schedule due first whose queue is gone.
    const active = await activeDevGrant();
    const before = await messagesIn(world.queues.scheduleDlq.url);
    await world.scheduler.send(
      new CreateScheduleCommand({
        Name: 'poison',
        GroupName: SCHEDULE_GROUP,
        ScheduleExpression: `at(${new Date(h.clock.now().getTime() + MINUTE).toISOString().slice(0, 19)})`,
        ScheduleExpressionTimezone: 'UTC',
        FlexibleTimeWindow: { Mode: 'OFF' },
        ActionAfterCompletion: 'DELETE',
        Target: {
          Arn: `arn:aws:sqs:us-east-1:${world.accountId}:no-such-queue.fifo`,
          RoleArn: `arn:aws:iam::${world.accountId}:role/pam-scheduler`,
          Input: '{}',
          SqsParameters: { MessageGroupId: 'poison' },
          RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 },
          DeadLetterConfig: { Arn: world.queues.scheduleDlq.arn },
        },
      }),
    );

    // Act: past both.
    h.clock.set(new Date(Date.parse(active.grant?.expiresAt as string) + 1000));
    await settleUntil(async () => (await messagesIn(world.queues.scheduleDlq.url)) > before);

    // Assess: the grant's expiry fired; the poison schedule is in the DLQ.
    expect((await stored(active.id)).status).toBe('EXPIRED');
  });
});
