// What AWS does between the resources and the functions, which moto does not: Lambda's SQS and
// DynamoDB-stream event source mappings (batches, partial batch responses, retries, the failure
// destination), EventBridge rules on a schedule, and EventBridge Scheduler's one-time schedules
// (fired by the grant engine's `fireDueSchedules`). All of it runs on the local clock.
//
// Differences from AWS, on purpose: a failed SQS message is visible again after RETRY_DELAY_S
// instead of the queue's visibility timeout (so retries show within seconds); a stream batch is not
// bisected on error (with ReportBatchItemFailures the failing record is known, and it is retried
// alone); one batch per source at a time; pattern rules (CloudTrail events) are not emulated —
// moto records no API calls as events.
import { randomUUID } from 'node:crypto';
import {
  type _Record,
  DescribeStreamCommand,
  type DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import { GetScheduleCommand, ListSchedulesCommand, type SchedulerClient } from '@aws-sdk/client-scheduler';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { fireDueSchedules } from '#adapters/aws/fire-due-schedules.ts';
import { parseAtExpression } from '#domain/schedule-expression.ts';
import { compilePattern, type Matcher } from './event-pattern.ts';

export const RETRY_DELAY_S = 2;

export interface SqsSourceSpec {
  readonly name: string;
  readonly functionName: string;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly batchSize: number;
  readonly reportBatchItemFailures: boolean;
}

export interface StreamSourceSpec {
  readonly name: string;
  readonly functionName: string;
  readonly streamArn: string;
  readonly batchSize: number;
  readonly reportBatchItemFailures: boolean;
  readonly maxRetryAttempts: number;
  readonly startingPosition: 'TRIM_HORIZON' | 'LATEST';
  readonly filters: readonly string[];
  /** The failure destination's queue URL. */
  readonly onFailureQueueUrl?: string;
}

export interface ScheduleRuleSpec {
  readonly name: string;
  readonly functionName: string;
  readonly ruleArn: string;
  readonly periodMs: number;
}

export interface EventSourcesOptions {
  readonly region: string;
  readonly accountId: string;
  readonly sqs: SQSClient;
  readonly streams: DynamoDBStreamsClient;
  readonly scheduler: SchedulerClient;
  readonly scheduleGroups: readonly string[];
  readonly queueUrlOf: (arn: string) => string;
  readonly sqsSources: readonly SqsSourceSpec[];
  readonly streamSources: readonly StreamSourceSpec[];
  readonly rules: readonly ScheduleRuleSpec[];
  readonly invoke: (functionName: string, event: unknown) => Promise<unknown>;
  readonly nowMs: () => number;
  readonly log: (line: string) => void;
}

/** `rate(5 minutes)` → milliseconds; anything else (cron) is refused. */
export function ratePeriodMs(expression: string): number {
  const match = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (!match) throw new Error(`schedule ${expression}: only rate(…) expressions are supported locally`);
  const unit = match[2]?.replace(/s$/, '');
  const ms = unit === 'minute' ? 60_000 : unit === 'hour' ? 3_600_000 : 86_400_000;
  return Number(match[1]) * ms;
}

interface ShardState {
  iterator: string | undefined;
  buffer: _Record[];
  attempts: Map<string, number>;
}

export interface TickResult {
  readonly work: number;
  readonly schedules: string[];
  readonly rules: string[];
}

export class EventSources {
  private readonly shards = new Map<string, Map<string, ShardState>>();
  private readonly filters = new Map<string, Matcher[]>();
  private readonly nextDue = new Map<string, number>();
  private lock: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** The last error of each source, for `GET /local/status` and the log. */
  readonly lastErrors = new Map<string, string>();

  constructor(private readonly options: EventSourcesOptions) {
    for (const source of options.streamSources)
      this.filters.set(
        source.name,
        source.filters.map((f) => compilePattern(JSON.parse(f))),
      );
    // Counted from the whole second the rules were created in: one-time schedules (`at(…)`) have a
    // precision of one second, so work a rule starts lines up with the schedules it creates.
    const start = Math.floor(options.nowMs() / 1000) * 1000;
    for (const rule of options.rules) this.nextDue.set(rule.name, start + rule.periodMs);
  }

  /** Polls in the background every `intervalMs` until `stop()`. */
  start(intervalMs = 250): void {
    const loop = async () => {
      if (this.stopped) return;
      try {
        await this.tick();
      } catch (error) {
        this.options.log(`event sources: ${(error as Error).message}`);
      }
      if (!this.stopped) this.timer = setTimeout(loop, intervalMs);
    };
    this.timer = setTimeout(loop, intervalMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.lock.catch(() => undefined);
  }

  /** One pass: due rules, due schedules, one batch from every queue and stream. Serialized. */
  tick(): Promise<TickResult> {
    const run = this.lock.then(() => this.tickNow());
    this.lock = run.catch(() => undefined);
    return run;
  }

  /** Ticks until a pass finds no work (or `maxPasses`). */
  async settle(maxPasses = 200): Promise<TickResult> {
    const schedules: string[] = [];
    const rules: string[] = [];
    let work = 0;
    for (let pass = 0; pass < maxPasses; pass++) {
      const result = await this.tick();
      schedules.push(...result.schedules);
      rules.push(...result.rules);
      work += result.work;
      if (result.work === 0) break;
    }
    return { work, schedules, rules };
  }

  /**
   * Times in (now, until] at which something is due: schedule `at` times and rule occurrences, with
   * a run of one rule's occurrences that nothing else interrupts collapsed to its last (a catch-up).
   */
  async dueTimes(untilMs: number): Promise<number[]> {
    const now = this.options.nowMs();
    const events: { at: number; rule?: string }[] = [];
    for (const at of await this.scheduleTimes()) if (at > now && at <= untilMs) events.push({ at });
    for (const rule of this.options.rules) {
      let due = this.nextDue.get(rule.name) ?? now;
      while (due <= untilMs) {
        if (due > now) events.push({ at: due, rule: rule.name });
        due += rule.periodMs;
      }
    }
    events.sort((a, b) => a.at - b.at);
    const kept = events.filter((event, i) => !(event.rule && events[i + 1]?.rule === event.rule));
    return [...new Set(kept.map((e) => e.at))];
  }

  private async scheduleTimes(): Promise<number[]> {
    const times: number[] = [];
    for (const group of this.options.scheduleGroups) {
      let token: string | undefined;
      do {
        const page = await this.options.scheduler.send(
          new ListSchedulesCommand({ GroupName: group, ...(token ? { NextToken: token } : {}) }),
        );
        for (const summary of page.Schedules ?? []) {
          if (!summary.Name) continue;
          const schedule = await this.options.scheduler.send(
            new GetScheduleCommand({ GroupName: group, Name: summary.Name }),
          );
          if (schedule.ScheduleExpression?.startsWith('at('))
            times.push(parseAtExpression(schedule.ScheduleExpression).getTime());
        }
        token = page.NextToken ?? undefined;
      } while (token);
    }
    return times;
  }

  private async tickNow(): Promise<TickResult> {
    let work = 0;
    const rules: string[] = [];
    const now = this.options.nowMs();
    for (const rule of this.options.rules) {
      const due = this.nextDue.get(rule.name) ?? now;
      if (due > now) continue;
      let next = due;
      while (next <= now) next += rule.periodMs;
      this.nextDue.set(rule.name, next);
      rules.push(rule.name);
      work++;
      await this.guard(rule.name, () =>
        this.options.invoke(rule.functionName, this.scheduledEvent(rule, now)),
      );
    }
    const schedules: string[] = [];
    for (const group of this.options.scheduleGroups) {
      await this.guard(`schedules ${group}`, async () => {
        const { fired } = await fireDueSchedules({
          scheduler: this.options.scheduler,
          sqs: this.options.sqs,
          groupName: group,
          now: new Date(now),
          queueUrlOf: this.options.queueUrlOf,
        });
        schedules.push(...fired);
        work += fired.length;
      });
    }
    for (const source of this.options.streamSources)
      work += (await this.guard(source.name, () => this.pollStream(source))) ?? 0;
    for (const source of this.options.sqsSources)
      work += (await this.guard(source.name, () => this.pollQueue(source))) ?? 0;
    return { work, schedules, rules };
  }

  private async guard<T>(name: string, run: () => Promise<T>): Promise<T | undefined> {
    try {
      const result = await run();
      this.lastErrors.delete(name);
      return result;
    } catch (error) {
      const message = (error as Error).message;
      if (this.lastErrors.get(name) !== message) this.options.log(`${name}: ${message}`);
      this.lastErrors.set(name, message);
      return undefined;
    }
  }

  private scheduledEvent(rule: ScheduleRuleSpec, now: number) {
    return {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: this.options.accountId,
      time: new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: this.options.region,
      resources: [rule.ruleArn],
      detail: {},
    };
  }

  private async pollQueue(source: SqsSourceSpec): Promise<number> {
    const { sqs } = this.options;
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: source.queueUrl,
        MaxNumberOfMessages: Math.min(10, source.batchSize),
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) return 0;
    const event = { Records: Messages.map((m) => this.sqsRecord(m, source)) };
    let failed: Set<string>;
    try {
      const result = (await this.options.invoke(source.functionName, event)) as {
        batchItemFailures?: { itemIdentifier?: string }[];
      } | null;
      failed = new Set(
        source.reportBatchItemFailures
          ? (result?.batchItemFailures ?? []).map((f) => String(f.itemIdentifier))
          : [],
      );
    } catch (error) {
      this.options.log(`${source.name}: batch of ${Messages.length} failed: ${(error as Error).message}`);
      failed = new Set(Messages.map((m) => m.MessageId ?? ''));
    }
    for (const message of Messages) {
      if (failed.has(message.MessageId ?? '')) {
        await sqs.send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: source.queueUrl,
            ReceiptHandle: message.ReceiptHandle,
            VisibilityTimeout: RETRY_DELAY_S,
          }),
        );
      } else {
        await sqs.send(
          new DeleteMessageCommand({ QueueUrl: source.queueUrl, ReceiptHandle: message.ReceiptHandle }),
        );
      }
    }
    return Messages.length;
  }

  private sqsRecord(message: Message, source: SqsSourceSpec) {
    return {
      messageId: message.MessageId,
      receiptHandle: message.ReceiptHandle,
      body: message.Body ?? '',
      attributes: message.Attributes ?? {},
      messageAttributes: message.MessageAttributes ?? {},
      md5OfBody: message.MD5OfBody,
      eventSource: 'aws:sqs',
      eventSourceARN: source.queueArn,
      awsRegion: this.options.region,
    };
  }

  private async shardsOf(source: StreamSourceSpec): Promise<Map<string, ShardState>> {
    let shards = this.shards.get(source.name);
    if (!shards) {
      shards = new Map();
      this.shards.set(source.name, shards);
    }
    const { StreamDescription } = await this.options.streams.send(
      new DescribeStreamCommand({ StreamArn: source.streamArn }),
    );
    for (const shard of StreamDescription?.Shards ?? []) {
      if (!shard.ShardId || shards.has(shard.ShardId)) continue;
      const { ShardIterator } = await this.options.streams.send(
        new GetShardIteratorCommand({
          StreamArn: source.streamArn,
          ShardId: shard.ShardId,
          ShardIteratorType: source.startingPosition,
        }),
      );
      shards.set(shard.ShardId, { iterator: ShardIterator, buffer: [], attempts: new Map() });
    }
    return shards;
  }

  private async pollStream(source: StreamSourceSpec): Promise<number> {
    const matchers = this.filters.get(source.name) ?? [];
    let work = 0;
    for (const [shardId, state] of await this.shardsOf(source)) {
      if (state.buffer.length === 0 && state.iterator) {
        const page = await this.options.streams.send(
          new GetRecordsCommand({ ShardIterator: state.iterator, Limit: 100 }),
        );
        state.iterator = page.NextShardIterator ?? undefined;
        // Lambda drops records that match no filter before it builds a batch.
        state.buffer.push(
          ...(page.Records ?? []).filter(
            (r) => matchers.length === 0 || matchers.some((m) => m(this.streamRecord(r, source))),
          ),
        );
      }
      if (state.buffer.length === 0) continue;
      const batch = state.buffer.slice(0, source.batchSize);
      work += batch.length;
      let failedAt: number;
      try {
        const result = (await this.options.invoke(source.functionName, {
          Records: batch.map((r) => this.streamRecord(r, source)),
        })) as { batchItemFailures?: { itemIdentifier?: string }[] } | null;
        const failures = source.reportBatchItemFailures ? (result?.batchItemFailures ?? []) : [];
        const ids = failures.map((f) => String(f.itemIdentifier));
        failedAt =
          ids.length === 0 ? -1 : batch.findIndex((r) => ids.includes(r.dynamodb?.SequenceNumber ?? ''));
        if (ids.length > 0 && failedAt < 0) failedAt = 0;
      } catch (error) {
        this.options.log(`${source.name}: batch of ${batch.length} failed: ${(error as Error).message}`);
        failedAt = 0;
      }
      if (failedAt < 0) {
        state.buffer.splice(0, batch.length);
        continue;
      }
      // Everything before the failing record is done; the failing record is retried from the start.
      state.buffer.splice(0, failedAt);
      const record = state.buffer[0] as _Record;
      const sequence = record.dynamodb?.SequenceNumber ?? '';
      const attempts = (state.attempts.get(sequence) ?? 0) + 1;
      state.attempts.set(sequence, attempts);
      if (source.maxRetryAttempts >= 0 && attempts > source.maxRetryAttempts) {
        state.buffer.shift();
        state.attempts.delete(sequence);
        await this.sendStreamFailure(source, shardId, record);
      }
    }
    return work;
  }

  private async sendStreamFailure(source: StreamSourceSpec, shardId: string, record: _Record): Promise<void> {
    const sequence = record.dynamodb?.SequenceNumber;
    this.options.log(
      `${source.name}: record ${sequence} exhausted its retries; sent to the failure destination`,
    );
    if (!source.onFailureQueueUrl) return;
    // The shape Lambda sends to an on-failure destination for a stream batch.
    await this.options.sqs.send(
      new SendMessageCommand({
        QueueUrl: source.onFailureQueueUrl,
        MessageBody: JSON.stringify({
          requestContext: {
            requestId: randomUUID(),
            condition: 'RetryAttemptsExhausted',
            approximateInvokeCount: source.maxRetryAttempts + 1,
          },
          responseContext: { statusCode: 200, functionError: 'Unhandled' },
          version: '1.0',
          timestamp: new Date(this.options.nowMs()).toISOString(),
          DDBStreamBatchInfo: {
            shardId,
            startSequenceNumber: sequence,
            endSequenceNumber: sequence,
            batchSize: 1,
            streamArn: source.streamArn,
          },
        }),
      }),
    );
  }

  private streamRecord(record: _Record, source: StreamSourceSpec) {
    const created = record.dynamodb?.ApproximateCreationDateTime;
    return {
      eventID: record.eventID,
      eventName: record.eventName,
      eventVersion: record.eventVersion ?? '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: record.awsRegion ?? this.options.region,
      dynamodb: {
        ...record.dynamodb,
        ...(created ? { ApproximateCreationDateTime: Math.floor(new Date(created).getTime() / 1000) } : {}),
      },
      eventSourceARN: source.streamArn,
    };
  }
}
