// Fires due one-time schedules by hand, because moto stores EventBridge Scheduler schedules but
// never fires them (DESIGN §5). Tests call it, and the local runtime's clock calls it on every tick,
// with the clock's `now`. It does what the service does for the schedules `EventBridgeScheduler`
// creates: sends the target's `Input` to the target queue with the target's MessageGroupId, then,
// as `ActionAfterCompletion: DELETE` asks, deletes the schedule. Due schedules are delivered in `at`
// order (ties by name), so an earlier schedule's message is never queued behind a later one's.
//
// Sent first, deleted second: a crash in between re-sends on the next tick, which the FIFO queue's
// content-based deduplication (or the consumer's idempotency) absorbs — never a lost delivery.
// Not simulated: retry policy, dead-letter queue, flexible windows, the 60-second precision.
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

export interface FireDueSchedulesOptions {
  readonly scheduler: SchedulerClient;
  readonly sqs: SQSClient;
  readonly groupName: string;
  readonly now: Date;
  /** The queue URL of a target queue ARN. */
  readonly queueUrlOf: (arn: string) => string;
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
  ScheduleExpression: z.string().min(1),
  ScheduleExpressionTimezone: z.string().nullish(),
  State: z.string().nullish(),
  ActionAfterCompletion: z.string().nullish(),
  Target: z.object({
    Arn: z.string().min(1),
    Input: z.string(),
    SqsParameters: z.object({ MessageGroupId: z.string().min(1).nullish() }).nullish(),
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

async function listNames(scheduler: SchedulerClient, groupName: string): Promise<string[]> {
  const names: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await scheduler.send(
      new ListSchedulesCommand({ GroupName: groupName, State: 'ENABLED', NextToken: nextToken }),
    );
    for (const summary of page.Schedules ?? []) if (summary.Name) names.push(summary.Name);
    nextToken = page.NextToken ?? undefined;
  } while (nextToken);
  return names;
}

/** The schedule when it is due at `now`; undefined when it is not (yet) or no longer exists. */
async function dueSchedule(
  scheduler: SchedulerClient,
  groupName: string,
  name: string,
  now: Date,
): Promise<DueSchedule | undefined> {
  let raw: unknown;
  try {
    raw = await scheduler.send(new GetScheduleCommand({ Name: name, GroupName: groupName }));
  } catch (error) {
    if (isNotFound(error)) return undefined; // removed since the listing
    throw error;
  }
  const parsed = scheduleSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
    throw new UnsupportedScheduleError(name, `unexpected GetSchedule response: ${issues.join('; ')}`);
  }
  const schedule = parsed.data;
  if (schedule.State && schedule.State !== 'ENABLED') return undefined;
  // Recurring schedules (rate, cron) are not one-time schedules; this function leaves them alone.
  if (!schedule.ScheduleExpression.startsWith('at(')) return undefined;
  if ((schedule.ScheduleExpressionTimezone ?? 'UTC') !== 'UTC')
    throw new UnsupportedScheduleError(name, `time zone ${schedule.ScheduleExpressionTimezone} is not UTC`);
  if (schedule.ActionAfterCompletion !== 'DELETE')
    throw new UnsupportedScheduleError(name, 'ActionAfterCompletion is not DELETE');
  const at = parseAtExpression(schedule.ScheduleExpression);
  return at.getTime() <= now.getTime() ? { at, schedule } : undefined;
}

/** Delivers every schedule of `groupName` due at `now`, in `at` order, and deletes it; returns their names. */
export async function fireDueSchedules(options: FireDueSchedulesOptions): Promise<{ fired: string[] }> {
  const { scheduler, sqs, groupName, now, queueUrlOf } = options;
  const due: DueSchedule[] = [];
  // Every schedule is read and checked before anything is sent, so an unsupported one stops the tick
  // before it delivers anything, rather than partway through.
  const names = await listNames(scheduler, groupName);
  for (let start = 0; start < names.length; start += GET_CONCURRENCY) {
    const batch = names.slice(start, start + GET_CONCURRENCY);
    for (const found of await Promise.all(batch.map((name) => dueSchedule(scheduler, groupName, name, now))))
      if (found) due.push(found);
  }
  due.sort((a, b) => a.at.getTime() - b.at.getTime() || (a.schedule.Name < b.schedule.Name ? -1 : 1));

  const fired: string[] = [];
  for (const { schedule } of due) {
    const groupId = schedule.Target.SqsParameters?.MessageGroupId ?? undefined;
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrlOf(schedule.Target.Arn),
        MessageBody: schedule.Target.Input,
        ...(groupId ? { MessageGroupId: groupId } : {}),
      }),
    );
    try {
      await scheduler.send(new DeleteScheduleCommand({ Name: schedule.Name, GroupName: groupName }));
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    fired.push(schedule.Name);
  }
  return { fired };
}
