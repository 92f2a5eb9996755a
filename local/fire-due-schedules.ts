// Fires due one-time schedules by hand, because moto stores EventBridge Scheduler schedules but
// never fires them. The event sources (./event-sources.ts) call it on every tick with the clock's
// `now`, for `make start` and the tests alike. It does what the service does for the schedules
// `EventBridgeScheduler` creates: replaces the context attributes in the target's `Input`
// (`<aws.scheduler.schedule-arn>`, `<aws.scheduler.scheduled-time>`, `<aws.scheduler.execution-id>`,
// `<aws.scheduler.attempt-number>` — EventBridge Scheduler User Guide, "Adding context attributes"),
// sends it to the target queue with the target's MessageGroupId, then, as
// `ActionAfterCompletion: DELETE` asks, deletes the schedule. Due schedules are delivered in `at`
// order (ties by name), so an earlier schedule's message is never queued behind a later one's.
//
// Sent first, deleted second: a crash in between re-sends on the next tick, which the FIFO queue's
// content-based deduplication (or the consumer's idempotency) absorbs — never a lost delivery.
// No schedule can stop the others: one whose delivery fails is retried on later ticks up to its
// RetryPolicy's MaximumRetryAttempts, then sent to its DeadLetterConfig queue with the attributes
// EventBridge Scheduler documents (ERROR_CODE, ERROR_MESSAGE, EXHAUSTED_RETRY_CONDITION,
// RETRY_ATTEMPTS, SCHEDULE_ARN, TARGET_ARN; User Guide, "Configuring a dead-letter queue") and
// deleted; one this emulation cannot fire (a time zone other than UTC, no DELETE after completion,
// a response it cannot read) is reported and left alone. Not simulated: MaximumEventAgeInSeconds,
// flexible windows, the 60-second precision.
import { randomBytes } from 'node:crypto';
import {
  DeleteScheduleCommand,
  GetScheduleCommand,
  ListSchedulesCommand,
  ResourceNotFoundException,
  type SchedulerClient,
} from '@aws-sdk/client-scheduler';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { parseAtExpression } from '#domain/schedule-expression.ts';
import { formatIssues } from '#domain/text.ts';

export interface FireDueSchedulesOptions {
  readonly scheduler: SchedulerClient;
  readonly sqs: SQSClient;
  /** The SQS client acting as a role (the schedule's `Target.RoleArn`); without it, `sqs` sends. */
  readonly sqsAsRole?: (roleArn: string) => Promise<SQSClient>;
  readonly groupName: string;
  readonly now: Date;
  /** The queue URL of a target queue ARN. */
  readonly queueUrlOf: (arn: string) => string;
  /** Failed delivery attempts per schedule ARN, kept by the caller between calls. */
  readonly attempts?: Map<string, number>;
  /** Schedules already read, kept by the caller between calls. */
  readonly cache?: ScheduleCache;
}

export interface FireResult {
  /** Schedules delivered (and deleted). */
  readonly fired: string[];
  /** Schedules whose retries ran out: sent to their dead-letter queue (or dropped) and deleted. */
  readonly deadLettered: string[];
  /** Schedules whose delivery failed this time, with why; retried on the next call. */
  readonly failed: { readonly name: string; readonly error: string }[];
  /** Schedules this emulation cannot fire, with why; left alone. */
  readonly unsupported: { readonly name: string; readonly error: string }[];
}

/** A schedule in the group that this function cannot fire the way EventBridge Scheduler would. */
export class UnsupportedScheduleError extends Error {
  constructor(name: string, reason: string) {
    super(`schedule ${name}: ${reason}`);
    this.name = 'UnsupportedScheduleError';
  }
}

// Moto answers `null` for fields a schedule lacks, the real service omits them: accept both.
const scheduleSchema = z.object({
  Name: z.string().min(1),
  Arn: z.string().min(1),
  ScheduleExpression: z.string().min(1),
  ScheduleExpressionTimezone: z.string().nullish(),
  State: z.string().nullish(),
  ActionAfterCompletion: z.string().nullish(),
  Target: z.object({
    Arn: z.string().min(1),
    Input: z.string(),
    /** The role Scheduler assumes to deliver (and to dead-letter). */
    RoleArn: z.string().min(1),
    SqsParameters: z.object({ MessageGroupId: z.string().min(1).nullish() }).nullish(),
    RetryPolicy: z.object({ MaximumRetryAttempts: z.number().int().nullish() }).nullish(),
    DeadLetterConfig: z.object({ Arn: z.string().nullish() }).nullish(),
  }),
});

/** Parallel GetSchedule calls; the order of delivery is decided after all are read. */
const GET_CONCURRENCY = 10;

type ScheduleDetails = z.infer<typeof scheduleSchema>;

interface DueSchedule {
  readonly at: Date;
  readonly schedule: ScheduleDetails;
}

function isNotFound(error: unknown): boolean {
  return (
    error instanceof ResourceNotFoundException ||
    (error instanceof Error && error.name === 'ResourceNotFoundException')
  );
}

/** What the emulation knows of one schedule, read once per modification (see `ScheduleCache`). */
export type ScheduleReading =
  | { readonly kind: 'one-time'; readonly at: Date; readonly schedule: ScheduleDetails }
  | { readonly kind: 'other' }
  | { readonly kind: 'unsupported'; readonly error: string };

/**
 * GetSchedule answers by schedule, keyed by `<group>|<name>` and valid while ListSchedules reports
 * the same LastModificationDate: a tick reads only schedules that are new or changed, not every one
 * (a busy local runtime holds hundreds of expiry and sweep schedules).
 */
export type ScheduleCache = Map<string, { readonly modified: string; readonly reading: ScheduleReading }>;

async function listSummaries(
  scheduler: SchedulerClient,
  groupName: string,
): Promise<{ name: string; modified: string }[]> {
  const names: { name: string; modified: string }[] = [];
  let nextToken: string | undefined;
  do {
    const page = await scheduler.send(
      new ListSchedulesCommand({ GroupName: groupName, State: 'ENABLED', NextToken: nextToken }),
    );
    for (const summary of page.Schedules ?? [])
      if (summary.Name)
        names.push({ name: summary.Name, modified: summary.LastModificationDate?.toISOString() ?? '' });
    nextToken = page.NextToken ?? undefined;
  } while (nextToken);
  return names;
}

async function readSchedule(
  scheduler: SchedulerClient,
  groupName: string,
  name: string,
): Promise<ScheduleReading | undefined> {
  let raw: unknown;
  try {
    raw = await scheduler.send(new GetScheduleCommand({ Name: name, GroupName: groupName }));
  } catch (error) {
    if (isNotFound(error)) return undefined; // removed since the listing
    throw error;
  }
  const parsed = scheduleSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = formatIssues(parsed.error.issues, '');
    return {
      kind: 'unsupported',
      error: new UnsupportedScheduleError(name, `unexpected GetSchedule response: ${issues}`).message,
    };
  }
  const schedule = parsed.data;
  if (schedule.State && schedule.State !== 'ENABLED') return { kind: 'other' };
  // Recurring schedules (rate, cron) are not one-time schedules; the emulation leaves them alone.
  if (!schedule.ScheduleExpression.startsWith('at(')) return { kind: 'other' };
  if ((schedule.ScheduleExpressionTimezone ?? 'UTC') !== 'UTC')
    return {
      kind: 'unsupported',
      error: new UnsupportedScheduleError(name, `time zone ${schedule.ScheduleExpressionTimezone} is not UTC`)
        .message,
    };
  if (schedule.ActionAfterCompletion !== 'DELETE')
    return {
      kind: 'unsupported',
      error: new UnsupportedScheduleError(name, 'ActionAfterCompletion is not DELETE').message,
    };
  return { kind: 'one-time', at: parseAtExpression(schedule.ScheduleExpression), schedule };
}

/** Every enabled schedule of the group, read through the cache (GetSchedule only for new or changed ones). */
export async function readSchedules(
  scheduler: SchedulerClient,
  groupName: string,
  cache: ScheduleCache = new Map(),
): Promise<{ name: string; reading: ScheduleReading }[]> {
  const summaries = await listSummaries(scheduler, groupName);
  const listed = new Set(summaries.map((s) => `${groupName}|${s.name}`));
  for (const key of cache.keys()) if (key.startsWith(`${groupName}|`) && !listed.has(key)) cache.delete(key);
  const out: { name: string; reading: ScheduleReading }[] = [];
  const stale = summaries.filter(
    (s) => cache.get(`${groupName}|${s.name}`)?.modified !== s.modified || !s.modified,
  );
  for (let start = 0; start < stale.length; start += GET_CONCURRENCY) {
    const batch = stale.slice(start, start + GET_CONCURRENCY);
    const readings = await Promise.all(batch.map((s) => readSchedule(scheduler, groupName, s.name)));
    batch.forEach((summary, index) => {
      const reading = readings[index];
      if (reading) cache.set(`${groupName}|${summary.name}`, { modified: summary.modified, reading });
      else cache.delete(`${groupName}|${summary.name}`);
    });
  }
  for (const summary of summaries) {
    const cached = cache.get(`${groupName}|${summary.name}`);
    if (cached) out.push({ name: summary.name, reading: cached.reading });
  }
  return out;
}

/** The target input with the context attributes the service fills in at invocation. */
export function withContextAttributes(input: string, scheduleArn: string, at: Date): string {
  return input
    .replaceAll('<aws.scheduler.schedule-arn>', scheduleArn)
    .replaceAll('<aws.scheduler.scheduled-time>', at.toISOString().replace(/\.\d{3}Z$/, 'Z'))
    .replaceAll('<aws.scheduler.execution-id>', randomBytes(8).toString('hex'))
    .replaceAll('<aws.scheduler.attempt-number>', '1');
}

/** EventBridge Scheduler's default when a target sets no retry policy. */
const DEFAULT_MAXIMUM_RETRY_ATTEMPTS = 185;

function messageOf(error: unknown): { code: string; message: string } {
  if (error instanceof Error) return { code: error.name, message: error.message };
  return { code: 'Error', message: String(error) };
}

/**
 * Delivers every schedule of `groupName` due at `now`, in `at` order, and deletes it. A schedule
 * that cannot be read or fired, or whose delivery fails, never holds up the others.
 */
export async function fireDueSchedules(options: FireDueSchedulesOptions): Promise<FireResult> {
  const { scheduler, groupName, now, queueUrlOf } = options;
  const attempts = options.attempts ?? new Map<string, number>();
  const due: DueSchedule[] = [];
  const unsupported: FireResult['unsupported'] = [];
  for (const { name, reading } of await readSchedules(scheduler, groupName, options.cache)) {
    if (reading.kind === 'unsupported') unsupported.push({ name, error: reading.error });
    else if (reading.kind === 'one-time' && reading.at.getTime() <= now.getTime())
      due.push({ at: reading.at, schedule: reading.schedule });
  }
  due.sort((a, b) => a.at.getTime() - b.at.getTime() || (a.schedule.Name < b.schedule.Name ? -1 : 1));

  const fired: string[] = [];
  const deadLettered: string[] = [];
  const failed: FireResult['failed'] = [];
  const remove = async (name: string) => {
    try {
      await scheduler.send(new DeleteScheduleCommand({ Name: name, GroupName: groupName }));
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  };
  for (const { schedule, at } of due) {
    const groupId = schedule.Target.SqsParameters?.MessageGroupId ?? undefined;
    const input = withContextAttributes(schedule.Target.Input, schedule.Arn, at);
    // Scheduler delivers as the schedule's execution role (and dead-letters as it too).
    let sqs = options.sqs;
    try {
      if (options.sqsAsRole) sqs = await options.sqsAsRole(schedule.Target.RoleArn);
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: queueUrlOf(schedule.Target.Arn),
          MessageBody: input,
          ...(groupId ? { MessageGroupId: groupId } : {}),
        }),
      );
    } catch (error) {
      const tries = (attempts.get(schedule.Arn) ?? 0) + 1;
      attempts.set(schedule.Arn, tries);
      const { code, message } = messageOf(error);
      const allowed = schedule.Target.RetryPolicy?.MaximumRetryAttempts ?? DEFAULT_MAXIMUM_RETRY_ATTEMPTS;
      if (tries <= allowed) {
        failed.push({ name: schedule.Name, error: `${code}: ${message}` });
        continue;
      }
      const dlq = schedule.Target.DeadLetterConfig?.Arn ?? undefined;
      if (dlq) {
        const attribute = (value: string) => ({ DataType: 'String', StringValue: value.slice(0, 256) });
        await sqs.send(
          new SendMessageCommand({
            QueueUrl: queueUrlOf(dlq),
            MessageBody: input,
            MessageAttributes: {
              ERROR_CODE: attribute(code),
              ERROR_MESSAGE: attribute(message),
              EXHAUSTED_RETRY_CONDITION: attribute('MaximumRetryAttempts'),
              RETRY_ATTEMPTS: { DataType: 'Number', StringValue: String(tries - 1) },
              SCHEDULE_ARN: attribute(schedule.Arn),
              TARGET_ARN: attribute(schedule.Target.Arn),
            },
          }),
        );
      }
      await remove(schedule.Name);
      attempts.delete(schedule.Arn);
      deadLettered.push(schedule.Name);
      continue;
    }
    await remove(schedule.Name);
    attempts.delete(schedule.Arn);
    fired.push(schedule.Name);
  }
  return { fired, deadLettered, failed, unsupported };
}
