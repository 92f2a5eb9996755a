// EventBridgeScheduler against aws-sdk-client-mock: the exact CreateSchedule input (moto stores any
// input, so only here is its shape pinned), idempotent create and delete, past instants.
import {
  ConflictException,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  ResourceNotFoundException,
  SchedulerClient,
  ValidationException,
} from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { EventBridgeScheduler } from '#adapters/aws/eventbridge-scheduler.ts';
import type { OneTimeSchedule } from '#ports/grants.ts';

const ROLE_ARN = 'arn:aws:iam::111122223333:role/pam-scheduler';
const COMMANDS_ARN = 'arn:aws:sqs:us-east-1:111122223333:pam-commands.fifo';
const PROVISIONING_ARN = 'arn:aws:sqs:us-east-1:111122223333:pam-provisioning.fifo';
const DLQ_ARN = 'arn:aws:sqs:us-east-1:111122223333:pam-scheduler-dlq';
const REQUEST_ID = '01JD4W9X2Y3Z4A5B6C7D8E9F0G';

const expiry: OneTimeSchedule = {
  name: `expire-${REQUEST_ID}-v2`,
  at: new Date('2026-11-26T15:04:05.250Z'),
  target: 'commands',
  messageGroupId: REQUEST_ID,
  body: { type: 'expire', requestId: REQUEST_ID, grantVersion: 2, expiresAt: '2026-11-26T15:04:05.250Z' },
};

describe('EventBridgeScheduler', () => {
  const scheduler = mockClient(SchedulerClient);
  let now = new Date('2026-11-26T12:00:00Z');

  function adapter(options: { deadLetterArn?: string } = {}) {
    return new EventBridgeScheduler({
      client: new SchedulerClient({ region: 'us-east-1' }),
      groupName: 'cloud-pam',
      roleArn: ROLE_ARN,
      targets: { commands: COMMANDS_ARN, provisioning: PROVISIONING_ARN },
      clock: { now: () => now },
      ...options,
    });
  }

  beforeEach(() => {
    scheduler.reset();
    now = new Date('2026-11-26T12:00:00Z');
  });

  it('creates a one-time UTC schedule that sends the body to the commands queue in the request’s group', async () => {
    // Prepare
    scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn:aws:scheduler:…' });

    // Act
    await adapter({ deadLetterArn: DLQ_ARN }).ensure(expiry);

    // Assess
    const calls = scheduler.commandCalls(CreateScheduleCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toStrictEqual({
      Name: `expire-${REQUEST_ID}-v2`,
      GroupName: 'cloud-pam',
      ScheduleExpression: 'at(2026-11-26T15:04:06)',
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      Target: {
        Arn: COMMANDS_ARN,
        RoleArn: ROLE_ARN,
        Input: JSON.stringify(expiry.body),
        SqsParameters: { MessageGroupId: REQUEST_ID },
        RetryPolicy: { MaximumEventAgeInSeconds: 86_400, MaximumRetryAttempts: 185 },
        DeadLetterConfig: { Arn: DLQ_ARN },
      },
    });
  });

  it('targets the provisioning queue and leaves DeadLetterConfig out when none is configured', async () => {
    scheduler.on(CreateScheduleCommand).resolves({});

    await adapter().ensure({
      ...expiry,
      name: 'deny-sweep-ps-1-v1',
      target: 'provisioning',
      messageGroupId: 'ps-1',
    });

    const target = scheduler.commandCalls(CreateScheduleCommand)[0]?.args[0].input.Target;
    expect(target?.Arn).toBe(PROVISIONING_ARN);
    expect(target?.SqsParameters).toStrictEqual({ MessageGroupId: 'ps-1' });
    expect(target).not.toHaveProperty('DeadLetterConfig');
  });

  it('treats an existing schedule of the same name as done (ConflictException)', async () => {
    scheduler.on(CreateScheduleCommand).rejects(
      new ConflictException({
        message: 'Schedule exists.',
        Message: 'Schedule exists.',
        $metadata: { httpStatusCode: 409 },
      }),
    );

    await expect(adapter().ensure(expiry)).resolves.toBeUndefined();
    expect(scheduler.commandCalls(CreateScheduleCommand)).toHaveLength(1);
  });

  it('passes any other CreateSchedule failure on, so the caller retries', async () => {
    scheduler.on(CreateScheduleCommand).rejects(
      new ValidationException({
        message: 'Invalid Schedule Expression',
        Message: 'Invalid Schedule Expression',
        $metadata: {},
      }),
    );

    await expect(adapter().ensure(expiry)).rejects.toThrow('Invalid Schedule Expression');
  });

  it('moves an instant already past to one minute ahead of the clock, keeping the body as it is', async () => {
    // Prepare: the grant ended an hour ago (e.g. approved late).
    scheduler.on(CreateScheduleCommand).resolves({});
    now = new Date('2026-11-26T16:04:05.250Z');

    // Act
    await adapter().ensure(expiry);

    // Assess
    const input = scheduler.commandCalls(CreateScheduleCommand)[0]?.args[0].input;
    expect(input?.ScheduleExpression).toBe('at(2026-11-26T16:05:06)');
    expect(input?.Target?.Input).toBe(JSON.stringify(expiry.body));
  });

  it('keeps an instant more than a minute ahead exactly where it is', async () => {
    scheduler.on(CreateScheduleCommand).resolves({});
    now = new Date('2026-11-26T15:03:05.000Z');

    await adapter().ensure(expiry);

    expect(scheduler.commandCalls(CreateScheduleCommand)[0]?.args[0].input.ScheduleExpression).toBe(
      'at(2026-11-26T15:04:06)',
    );
  });

  it('deletes a schedule by name in its group', async () => {
    scheduler.on(DeleteScheduleCommand).resolves({});

    await adapter().remove(`expire-${REQUEST_ID}-v2`);

    expect(scheduler.commandCalls(DeleteScheduleCommand)[0]?.args[0].input).toStrictEqual({
      Name: `expire-${REQUEST_ID}-v2`,
      GroupName: 'cloud-pam',
    });
  });

  it('treats deleting a missing schedule (already fired, or never made) as done', async () => {
    scheduler.on(DeleteScheduleCommand).rejects(
      new ResourceNotFoundException({
        message: 'Schedule expire-x-v1 does not exist.',
        Message: 'Schedule expire-x-v1 does not exist.',
        $metadata: { httpStatusCode: 404 },
      }),
    );

    await expect(adapter().remove('expire-x-v1')).resolves.toBeUndefined();
  });

  it('passes any other DeleteSchedule failure on', async () => {
    scheduler.on(DeleteScheduleCommand).rejects(new Error('throttled'));

    await expect(adapter().remove('expire-x-v1')).rejects.toThrow('throttled');
  });
});
