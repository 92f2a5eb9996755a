// EventBridgeScheduler, fireDueSchedules and SqsWorkQueue against moto over HTTP, in this file's own
// moto account, with real FIFO queues (content-based deduplication, as deployed).
//
// Moto 5.2.1 deviations:
// - schedules never fire: `fireDueSchedules` does the firing (send Target.Input, then delete), and
//   retry policies, dead-letter queues and the 60-second precision are not simulated;
// - CreateSchedule does not validate `at()` expressions, past instants, names or target ARNs (the
//   exact input is pinned in test/unit/eventbridge-scheduler.test.ts instead);
// - CreateSchedule into a group that does not exist is an HTTP 500 (KeyError), not
//   ResourceNotFoundException, so the group is created first;
// - ConflictException comes back with HTTP 400 rather than 409 (the SDK maps it by name all the same);
// - ClientToken is ignored; ListSchedules lists newest first.
import {
  CreateScheduleGroupCommand,
  GetScheduleCommand,
  ListSchedulesCommand,
  SchedulerClient,
} from '@aws-sdk/client-scheduler';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { EventBridgeScheduler } from '#adapters/aws/eventbridge-scheduler.ts';
import { SqsWorkQueue } from '#adapters/aws/sqs-work-queue.ts';
import { DeliverySchema, SCHEDULED_DELIVERY } from '#app/delivery.ts';
import { atExpression, scheduleName } from '#domain/schedule-expression.ts';
import { fireDueSchedules } from '../../local/fire-due-schedules.ts';
import { motoAccount, motoClient, motoClientConfig, testAccountId } from '../support/moto.ts';

const ACCOUNT = testAccountId();
const GROUP = 'cloud-pam';
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/pam-scheduler`;
const T0 = new Date('2030-05-01T10:00:00.000Z');
const minutes = (n: number) => new Date(T0.getTime() + n * 60_000);

describe('schedules on moto', () => {
  const scheduler = new SchedulerClient(motoClientConfig());
  scheduler.middlewareStack.use(motoAccount(ACCOUNT) as Parameters<typeof scheduler.middlewareStack.use>[0]);
  const sqs = motoClient(SQSClient, ACCOUNT);
  const urlByArn = new Map<string, string>();
  const queues = { commands: '', provisioning: '' };
  const now = T0;

  const queueUrlOf = (arn: string) => {
    const url = urlByArn.get(arn);
    if (!url) throw new Error(`no queue ${arn}`);
    return url;
  };

  async function createFifoQueue(name: string): Promise<{ url: string; arn: string }> {
    const { QueueUrl } = await sqs.send(
      new CreateQueueCommand({
        QueueName: name,
        Attributes: { FifoQueue: 'true', ContentBasedDeduplication: 'true' },
      }),
    );
    if (!QueueUrl) throw new Error('moto returned no QueueUrl');
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
    );
    const arn = Attributes?.QueueArn;
    if (!arn) throw new Error('moto returned no QueueArn');
    urlByArn.set(arn, QueueUrl);
    return { url: QueueUrl, arn };
  }

  async function receive(queueUrl: string): Promise<Message[]> {
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        MessageSystemAttributeNames: ['MessageGroupId'],
        VisibilityTimeout: 300,
        WaitTimeSeconds: 0,
      }),
    );
    const messages = Messages ?? [];
    // Deleted at once: a FIFO queue holds back the rest of a group while any of it is in flight.
    if (messages.length)
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
        }),
      );
    return messages;
  }

  async function scheduleNames(group: string): Promise<string[]> {
    const names: string[] = [];
    let NextToken: string | undefined;
    do {
      const page = await scheduler.send(new ListSchedulesCommand({ GroupName: group, NextToken }));
      names.push(...(page.Schedules ?? []).map((s) => s.Name ?? ''));
      NextToken = page.NextToken ?? undefined;
    } while (NextToken);
    return names.sort();
  }

  let commands: { url: string; arn: string };
  let provisioning: { url: string; arn: string };
  let adapter: EventBridgeScheduler;

  beforeAll(async () => {
    commands = await createFifoQueue('pam-commands.fifo');
    provisioning = await createFifoQueue('pam-provisioning.fifo');
    queues.commands = commands.arn;
    queues.provisioning = provisioning.arn;
    await scheduler.send(new CreateScheduleGroupCommand({ Name: GROUP }));
    adapter = new EventBridgeScheduler({
      client: scheduler,
      groupName: GROUP,
      roleArn: ROLE_ARN,
      targets: queues,
      clock: { now: () => now },
    });
  });

  it('fires only the due schedule, to its queue and message group, and deletes it; the later one stays', async () => {
    // Prepare: an expiry in 60 minutes and one in 120; the first is ensured twice (idempotent).
    const first = {
      name: scheduleName('expire', 'REQ-A', 1),
      at: minutes(60),
      target: 'commands' as const,
      messageGroupId: 'REQ-A',
      body: { type: 'expire', requestId: 'REQ-A', grantVersion: 1, expiresAt: minutes(60).toISOString() },
    };
    const second = {
      name: scheduleName('expire', 'REQ-B', 3),
      at: minutes(120),
      target: 'commands' as const,
      messageGroupId: 'REQ-B',
      body: { type: 'expire', requestId: 'REQ-B', grantVersion: 3, expiresAt: minutes(120).toISOString() },
    };
    await adapter.ensure(first);
    await adapter.ensure(second);
    await adapter.ensure({ ...first, body: { ...first.body, grantVersion: 99 } });

    const stored = await scheduler.send(new GetScheduleCommand({ Name: first.name, GroupName: GROUP }));
    expect(stored.ScheduleExpression).toBe(atExpression(minutes(60)));
    expect(stored.Target?.Input).toBe(JSON.stringify(first.body)); // the second ensure changed nothing
    expect(await scheduleNames(GROUP)).toEqual([first.name, second.name].sort());

    // Act: the clock stands between the two.
    const result = await fireDueSchedules({
      scheduler,
      sqs,
      groupName: GROUP,
      now: minutes(90),
      queueUrlOf,
    });

    // Assess
    expect(result.fired).toEqual([first.name]);
    const messages = await receive(commands.url);
    expect(messages).toHaveLength(1);
    expect(messages[0]?.Attributes?.MessageGroupId).toBe('REQ-A');
    expect(JSON.parse(messages[0]?.Body ?? 'null')).toEqual(first.body);
    expect(await receive(provisioning.url)).toEqual([]);
    expect(await scheduleNames(GROUP)).toEqual([second.name]);

    // Nothing is due twice.
    expect(
      (await fireDueSchedules({ scheduler, sqs, groupName: GROUP, now: minutes(90), queueUrlOf })).fired,
    ).toEqual([]);
  });

  it('fills in the context attributes EventBridge Scheduler documents, as the service would when it fires', async () => {
    // Prepare: the delivery a commands-queue schedule carries (shared/app/delivery.ts).
    const name = scheduleName('start', 'REQ-C');
    await adapter.ensure({
      name,
      at: minutes(30),
      target: 'commands',
      messageGroupId: 'REQ-C',
      body: { action: 'start', requestId: 'REQ-C', delivery: SCHEDULED_DELIVERY },
    });
    const { Arn } = await scheduler.send(new GetScheduleCommand({ Name: name, GroupName: GROUP }));

    // Act
    const result = await fireDueSchedules({ scheduler, sqs, groupName: GROUP, now: minutes(31), queueUrlOf });

    // Assess: the schedule's ARN and its scheduled time (whole seconds, as the service writes it).
    expect(result.fired).toContain(name);
    const bodies = (await receive(commands.url)).map((m) => JSON.parse(m.Body ?? 'null'));
    expect(bodies).toContainEqual({
      action: 'start',
      requestId: 'REQ-C',
      delivery: {
        by: 'schedule',
        schedule: Arn,
        at: minutes(30)
          .toISOString()
          .replace(/\.\d{3}Z$/, 'Z'),
      },
    });
    expect(DeliverySchema.safeParse(bodies.find((b) => b.requestId === 'REQ-C')?.delivery).success).toBe(
      true,
    );
  });

  it('removes a schedule, and removing it again (or one that never was) is fine', async () => {
    const name = scheduleName('expire', 'REQ-B', 3);
    expect(await scheduleNames(GROUP)).toContain(name);

    await adapter.remove(name);
    await adapter.remove(name);
    await adapter.remove(scheduleName('expire', 'NEVER', 1));

    expect(await scheduleNames(GROUP)).not.toContain(name);
    expect(
      (await fireDueSchedules({ scheduler, sqs, groupName: GROUP, now: minutes(600), queueUrlOf })).fired,
    ).toEqual([]);
  });

  it('delivers due schedules in `at` order across pages of the listing, each to its own target', async () => {
    // Prepare: more schedules than one ListSchedules page (moto's default is 50), created in an
    // order unrelated to their instants.
    const group = 'cloud-pam-many';
    await scheduler.send(new CreateScheduleGroupCommand({ Name: group }));
    const many = new EventBridgeScheduler({
      client: scheduler,
      groupName: group,
      roleArn: ROLE_ARN,
      targets: queues,
      clock: { now: () => now },
    });
    const count = 55;
    const offsets = Array.from({ length: count }, (_, i) => ((i * 37) % count) + 10);
    for (const [i, offset] of offsets.entries()) {
      await many.ensure({
        name: scheduleName('start', `R${i}`),
        at: minutes(offset),
        target: i === 0 ? 'provisioning' : 'commands',
        messageGroupId: 'ONE-GROUP',
        body: { offset },
      });
    }

    // Act
    const result = await fireDueSchedules({
      scheduler,
      sqs,
      groupName: group,
      now: minutes(1000),
      queueUrlOf,
    });

    // Assess: fired in `at` order; one FIFO group keeps that order on the queue.
    const expected = offsets
      .map((offset, i) => ({ offset, i }))
      .sort((a, b) => a.offset - b.offset)
      .map(({ i }) => scheduleName('start', `R${i}`));
    expect(result.fired).toEqual(expected);
    const received: number[] = [];
    for (let batch = await receive(commands.url); batch.length; batch = await receive(commands.url))
      received.push(...batch.map((m) => (JSON.parse(m.Body ?? '{}') as { offset: number }).offset));
    expect(received).toEqual(offsets.filter((_, i) => i !== 0).sort((a, b) => a - b));
    const toProvisioning = await receive(provisioning.url);
    expect(toProvisioning.map((m) => m.Body)).toEqual([JSON.stringify({ offset: offsets[0] })]);
    expect(await scheduleNames(group)).toEqual([]);
  });

  it('SqsWorkQueue sends the JSON body in the given message group', async () => {
    const queue = new SqsWorkQueue({ client: sqs, queueUrl: provisioning.url });

    await queue.send({ messageGroupId: 'tuple-1', body: { type: 'create-assignment', tuple: 'u/a/ps' } });

    const messages = await receive(provisioning.url);
    expect(messages).toHaveLength(1);
    expect(messages[0]?.Attributes?.MessageGroupId).toBe('tuple-1');
    expect(JSON.parse(messages[0]?.Body ?? 'null')).toEqual({ type: 'create-assignment', tuple: 'u/a/ps' });
  });
});
