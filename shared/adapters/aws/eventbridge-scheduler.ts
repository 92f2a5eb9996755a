// The `Scheduler` port over EventBridge Scheduler: one one-time schedule per purpose and grant
// version (docs/architecture.md §5.4). Each schedule sends its JSON body to one of the two
// FIFO work queues with the message group the body belongs to, then deletes itself
// (`ActionAfterCompletion: DELETE`). Failed deliveries are retried by the service and end in the
// dead-letter queue; a stale grant version in the body makes a late or duplicate delivery a no-op.
//
// Past instants. AWS documents neither that an `at()` in the past is accepted nor that it fires at
// once, and users report CreateSchedule refusing one. Expiry must still happen when a grant is
// extended or approved late, so an instant that is not at least `minimumLeadMs` ahead of the clock is
// moved to that lead: the schedule is always created in the future and fires within about a minute
// (the service's precision is 60 s). The body keeps the real instant (e.g. `expiresAt`), and the
// reconciler's overdue sweep stays the backstop.
import {
  ActionAfterCompletion,
  ConflictException,
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  DeleteScheduleCommand,
  FlexibleTimeWindowMode,
  ResourceNotFoundException,
  type SchedulerClient,
} from '@aws-sdk/client-scheduler';
import { systemClock } from '#adapters/system.ts';
import { atExpression } from '#domain/schedule-expression.ts';
import type { OneTimeSchedule, Scheduler } from '#ports/grants.ts';
import type { Clock } from '#ports/index.ts';

/** How far ahead of now a schedule is placed at least (see the header: past instants). */
export const DEFAULT_MINIMUM_LEAD_MS = 60_000;

/** Retries by the service before a delivery goes to the dead-letter queue (its maxima: 24 h, 185). */
export const DEFAULT_RETRY_POLICY = { maximumEventAgeSeconds: 86_400, maximumRetryAttempts: 185 } as const;

export interface EventBridgeSchedulerOptions {
  readonly client: SchedulerClient;
  /** The schedule group cloud-pam owns; `fireDueSchedules` lists it. */
  readonly groupName: string;
  /** The execution role EventBridge Scheduler assumes to call `sqs:SendMessage` on the targets. */
  readonly roleArn: string;
  /** Queue ARNs of the two FIFO work queues. */
  readonly targets: { readonly commands: string; readonly provisioning: string };
  /** An SQS queue for deliveries that exhausted their retries. */
  readonly deadLetterArn?: string;
  readonly retryPolicy?: { readonly maximumEventAgeSeconds: number; readonly maximumRetryAttempts: number };
  readonly minimumLeadMs?: number;
  readonly clock?: Clock;
}

export class EventBridgeScheduler implements Scheduler {
  private readonly client: SchedulerClient;
  private readonly groupName: string;
  private readonly roleArn: string;
  private readonly targets: EventBridgeSchedulerOptions['targets'];
  private readonly deadLetterArn: string | undefined;
  private readonly retryPolicy: NonNullable<EventBridgeSchedulerOptions['retryPolicy']>;
  private readonly minimumLeadMs: number;
  private readonly clock: Clock;

  constructor(options: EventBridgeSchedulerOptions) {
    this.client = options.client;
    this.groupName = options.groupName;
    this.roleArn = options.roleArn;
    this.targets = options.targets;
    this.deadLetterArn = options.deadLetterArn;
    this.retryPolicy = options.retryPolicy ?? DEFAULT_RETRY_POLICY;
    this.minimumLeadMs = options.minimumLeadMs ?? DEFAULT_MINIMUM_LEAD_MS;
    this.clock = options.clock ?? systemClock;
  }

  /** The CreateSchedule input for `schedule`, as `ensure` sends it. */
  createInput(schedule: OneTimeSchedule): CreateScheduleCommandInput {
    const earliest = this.clock.now().getTime() + this.minimumLeadMs;
    const at = new Date(Math.max(schedule.at.getTime(), earliest));
    return {
      Name: schedule.name,
      GroupName: this.groupName,
      ScheduleExpression: atExpression(at),
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: FlexibleTimeWindowMode.OFF },
      ActionAfterCompletion: ActionAfterCompletion.DELETE,
      Target: {
        Arn: this.targets[schedule.target],
        RoleArn: this.roleArn,
        Input: JSON.stringify(schedule.body),
        SqsParameters: { MessageGroupId: schedule.messageGroupId },
        RetryPolicy: {
          MaximumEventAgeInSeconds: this.retryPolicy.maximumEventAgeSeconds,
          MaximumRetryAttempts: this.retryPolicy.maximumRetryAttempts,
        },
        ...(this.deadLetterArn ? { DeadLetterConfig: { Arn: this.deadLetterArn } } : {}),
      },
    };
  }

  async ensure(schedule: OneTimeSchedule): Promise<void> {
    try {
      await this.client.send(new CreateScheduleCommand(this.createInput(schedule)));
    } catch (error) {
      // Names carry the grant version, so an existing schedule of this name is this very schedule.
      if (isError(error, ConflictException)) return;
      throw error;
    }
  }

  async remove(name: string): Promise<void> {
    try {
      await this.client.send(new DeleteScheduleCommand({ Name: name, GroupName: this.groupName }));
    } catch (error) {
      // Already fired (and deleted itself) or never created: either way, it will not fire.
      if (isError(error, ResourceNotFoundException)) return;
      throw error;
    }
  }
}

// By name as well as by class: a second copy of the SDK (or a mock) throws lookalikes.
function isError(error: unknown, type: { new (...args: never[]): Error; name: string }): boolean {
  return error instanceof type || (error instanceof Error && error.name === type.name);
}
