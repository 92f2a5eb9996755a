// The one emulation of what AWS does between the resources and the functions, which moto does not:
// Lambda's SQS and DynamoDB-stream event source mappings (batches, partial batch responses,
// bisection, bounded retries, the failure destination), EventBridge rules on a schedule, and
// EventBridge Scheduler's one-time schedules (./fire-due-schedules.ts). `make start` and the
// grant engine's integration tests both drive the real handlers through it, on a clock they
// control. Nothing here is bundled into a function.
//
// As AWS does it (Lambda developer guide, "Using Lambda with Amazon SQS" and "… with DynamoDB"):
// - SQS: one batch of up to `batchSize` messages per invocation; with ReportBatchItemFailures the
//   reported messages stay on the queue and the rest are deleted; a thrown invocation keeps the
//   whole batch. A message that keeps failing reaches its queue's dead-letter queue through the
//   queue's own redrive policy (moto applies `maxReceiveCount` on receive).
// - DynamoDB streams: records that match no filter are dropped before batching; a batch is
//   checkpointed at the first reported failure (the records before it are done, it is retried);
//   a thrown invocation with BisectBatchOnFunctionError splits the batch in two and retries each
//   half (a split does not count as a retry); once one record has failed `maxRetryAttempts` more
//   times, its batch is described to the on-failure destination and the shard goes on.
// Differences from AWS, on purpose: a failed SQS message is visible again after `retryDelaySeconds`
// (default 2 s; tests use 0) instead of the queue's visibility timeout, so retries show at once;
// one batch per source at a time; pattern rules (CloudTrail events) are not emulated — moto records
// no API calls as events. A stream read that fails (an expired iterator, a moto error) is retried
// from the last record read, so one bad read never stops a shard.
import { randomUUID } from 'node:crypto';
import {
  type _Record,
  DescribeStreamCommand,
  type DynamoDBStreamsClient,
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { compilePattern, type Matcher } from './event-pattern.ts';
import { fireDueSchedules, readSchedules, type ScheduleCache } from './fire-due-schedules.ts';

/** Seconds before a failed SQS message is visible again (AWS: the queue's visibility timeout). */
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
  /** BisectBatchOnFunctionError: a thrown invocation splits the batch in two. */
  readonly bisectBatchOnError?: boolean;
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
  /** Schedules deliver as their execution role (`Target.RoleArn`) when given; otherwise as `sqs`. */
  readonly sqsAsRole?: (roleArn: string) => Promise<SQSClient>;
  readonly scheduleGroups: readonly string[];
  readonly queueUrlOf: (arn: string) => string;
  readonly sqsSources: readonly SqsSourceSpec[];
  readonly streamSources: readonly StreamSourceSpec[];
  readonly rules: readonly ScheduleRuleSpec[];
  readonly invoke: (functionName: string, event: unknown) => Promise<unknown>;
  readonly nowMs: () => number;
  readonly log: (line: string) => void;
  /** Seconds before a failed SQS message is visible again (default RETRY_DELAY_S). */
  readonly retryDelaySeconds?: number;
}

/** A failed invocation or a reported item failure, as the function's error alarm would count it. */
export interface SourceFailure {
  readonly source: string;
  readonly functionName: string;
  readonly error: string;
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
  /** The last record read from the shard (buffered or handled): where a lost iterator resumes. */
  lastRead: string | undefined;
  buffer: _Record[];
  /** The batch size in force: halved by each bisection, back to full after a success. */
  limit: number;
  attempts: Map<string, number>;
}

export interface TickResult {
  readonly work: number;
  readonly schedules: string[];
  readonly rules: string[];
  /** Work that moved on (messages deleted, records checkpointed or given up, schedules and rules fired). */
  readonly progress: number;
  /** Invocations that failed (thrown or reported item failures) during this tick or settle. */
  readonly failures: SourceFailure[];
}

export interface SettleOptions {
  readonly maxPasses?: number;
  /**
   * Stop after this many passes in a row that had work but moved nothing on (only failing retries).
   * AWS spaces such retries by the queue's visibility timeout; a test then moves the clock.
   */
  readonly maxFailingPasses?: number;
}

export class EventSources {
  private readonly shards = new Map<string, Map<string, ShardState>>();
  private readonly filters = new Map<string, Matcher[]>();
  private readonly nextDue = new Map<string, number>();
  private readonly scheduleAttempts = new Map<string, number>();
  private readonly scheduleCache: ScheduleCache = new Map();
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

  /** Ticks until a pass finds no work (or `maxPasses`, or `maxFailingPasses` without progress). */
  async settle(options: SettleOptions = {}): Promise<TickResult> {
    const schedules: string[] = [];
    const rules: string[] = [];
    const failures: SourceFailure[] = [];
    let work = 0;
    let progress = 0;
    let failing = 0;
    for (let pass = 0; pass < (options.maxPasses ?? 200); pass++) {
      const result = await this.tick();
      schedules.push(...result.schedules);
      rules.push(...result.rules);
      failures.push(...result.failures);
      work += result.work;
      progress += result.progress;
      if (result.work === 0) break;
      failing = result.progress === 0 ? failing + 1 : 0;
      if (failing >= (options.maxFailingPasses ?? Number.POSITIVE_INFINITY)) break;
    }
    return { work, progress, schedules, rules, failures };
  }

  /** Invokes a rule's function now with its scheduled event (tests: "the rule fired"). */
  async fireRule(name: string): Promise<unknown> {
    const rule = this.options.rules.find((r) => r.name === name);
    if (!rule) throw new Error(`no rule ${name}`);
    return this.options.invoke(rule.functionName, this.scheduledEvent(rule, this.options.nowMs()));
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
    for (const group of this.options.scheduleGroups)
      for (const { reading } of await readSchedules(this.options.scheduler, group, this.scheduleCache))
        if (reading.kind === 'one-time') times.push(reading.at.getTime());
    return times;
  }

  private async tickNow(): Promise<TickResult> {
    let work = 0;
    let progress = 0;
    const rules: string[] = [];
    const failures: SourceFailure[] = [];
    const now = this.options.nowMs();
    for (const rule of this.options.rules) {
      const due = this.nextDue.get(rule.name) ?? now;
      if (due > now) continue;
      let next = due;
      while (next <= now) next += rule.periodMs;
      this.nextDue.set(rule.name, next);
      rules.push(rule.name);
      work++;
      progress++;
      try {
        await this.options.invoke(rule.functionName, this.scheduledEvent(rule, now));
        this.lastErrors.delete(rule.name);
      } catch (error) {
        // EventBridge retries per the target's retry policy; the next occurrence comes regardless.
        failures.push({ source: rule.name, functionName: rule.functionName, error: messageOf(error) });
        this.noteError(rule.name, messageOf(error));
      }
    }
    const schedules: string[] = [];
    for (const group of this.options.scheduleGroups) {
      await this.guard(`schedules ${group}`, async () => {
        const result = await fireDueSchedules({
          scheduler: this.options.scheduler,
          sqs: this.options.sqs,
          ...(this.options.sqsAsRole ? { sqsAsRole: this.options.sqsAsRole } : {}),
          groupName: group,
          now: new Date(now),
          queueUrlOf: this.options.queueUrlOf,
          attempts: this.scheduleAttempts,
          cache: this.scheduleCache,
        });
        schedules.push(...result.fired);
        work += result.fired.length + result.deadLettered.length + result.failed.length;
        progress += result.fired.length + result.deadLettered.length;
        for (const name of result.deadLettered)
          this.options.log(`schedule ${name}: retries exhausted; sent to its dead-letter queue`);
        for (const { name, error } of [...result.failed, ...result.unsupported]) {
          this.noteError(`schedule ${name}`, error);
          failures.push({
            source: `schedules ${group}`,
            functionName: 'scheduler',
            error: `${name}: ${error}`,
          });
        }
      });
    }
    const polls: (readonly [string, () => Promise<Polled>])[] = [
      ...this.options.streamSources.map((s) => [s.name, () => this.pollStream(s, failures)] as const),
      ...this.options.sqsSources.map((s) => [s.name, () => this.pollQueue(s, failures)] as const),
    ];
    for (const [name, poll] of polls) {
      const polled = await this.guard(name, poll);
      work += polled?.work ?? 0;
      progress += polled?.progress ?? 0;
    }
    return { work, progress, schedules, rules, failures };
  }

  private noteError(name: string, message: string): void {
    if (this.lastErrors.get(name) !== message) this.options.log(`${name}: ${message}`);
    this.lastErrors.set(name, message);
  }

  private async guard<T>(name: string, run: () => Promise<T>): Promise<T | undefined> {
    try {
      const result = await run();
      this.lastErrors.delete(name);
      return result;
    } catch (error) {
      this.noteError(name, messageOf(error));
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

  private async pollQueue(source: SqsSourceSpec, failures: SourceFailure[]): Promise<Polled> {
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
    if (Messages.length === 0) return { work: 0, progress: 0 };
    const event = { Records: Messages.map((m) => this.sqsRecord(m, source)) };
    let failed: Set<string>;
    try {
      const result = (await this.options.invoke(source.functionName, event)) as {
        batchItemFailures?: { itemIdentifier?: string }[];
      } | null;
      const reported = source.reportBatchItemFailures ? (result?.batchItemFailures ?? []) : [];
      // An empty or unknown identifier fails the whole batch, as Lambda reads it.
      const ids = new Set(Messages.map((m) => m.MessageId ?? ''));
      failed = reported.some((f) => !ids.has(String(f.itemIdentifier ?? '')))
        ? ids
        : new Set(reported.map((f) => String(f.itemIdentifier)));
      if (failed.size > 0)
        failures.push({
          source: source.name,
          functionName: source.functionName,
          error: `${failed.size} of ${Messages.length} message(s) reported failed`,
        });
    } catch (error) {
      this.noteError(`${source.name} invoke`, `batch of ${Messages.length} failed: ${messageOf(error)}`);
      failures.push({ source: source.name, functionName: source.functionName, error: messageOf(error) });
      failed = new Set(Messages.map((m) => m.MessageId ?? ''));
    }
    for (const message of Messages) {
      if (failed.has(message.MessageId ?? '')) {
        await sqs.send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: source.queueUrl,
            ReceiptHandle: message.ReceiptHandle,
            VisibilityTimeout: this.options.retryDelaySeconds ?? RETRY_DELAY_S,
          }),
        );
      } else {
        await sqs.send(
          new DeleteMessageCommand({ QueueUrl: source.queueUrl, ReceiptHandle: message.ReceiptHandle }),
        );
      }
    }
    return { work: Messages.length, progress: Messages.length - failed.size };
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
      shards.set(shard.ShardId, {
        iterator: await this.iteratorFor(source, shard.ShardId, undefined),
        lastRead: undefined,
        buffer: [],
        limit: source.batchSize,
        attempts: new Map(),
      });
    }
    return shards;
  }

  /** An iterator after `lastRead`, or at the source's starting position when nothing was read. */
  private async iteratorFor(
    source: StreamSourceSpec,
    shardId: string,
    lastRead: string | undefined,
  ): Promise<string | undefined> {
    const { ShardIterator } = await this.options.streams.send(
      new GetShardIteratorCommand({
        StreamArn: source.streamArn,
        ShardId: shardId,
        ...(lastRead
          ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: lastRead }
          : { ShardIteratorType: source.startingPosition }),
      }),
    );
    return ShardIterator ?? undefined;
  }

  /** Fills the shard's buffer with the next page of records that pass the filters. */
  private async readShard(source: StreamSourceSpec, shardId: string, state: ShardState): Promise<void> {
    if (!state.iterator) return;
    let page: GetRecordsCommandOutput;
    try {
      page = await this.options.streams.send(
        new GetRecordsCommand({ ShardIterator: state.iterator, Limit: 100 }),
      );
    } catch (error) {
      // An expired iterator or a failed read must not end the shard: resume after the last record
      // read on the next pass.
      state.iterator = await this.iteratorFor(source, shardId, state.lastRead);
      throw error;
    }
    state.iterator = page.NextShardIterator ?? undefined;
    const records = page.Records ?? [];
    const last = records.at(-1)?.dynamodb?.SequenceNumber;
    if (last) state.lastRead = last;
    // Lambda drops records that match no filter before it builds a batch.
    const matchers = this.filters.get(source.name) ?? [];
    state.buffer.push(
      ...records.filter(
        (r) => matchers.length === 0 || matchers.some((m) => m(this.streamRecord(r, source))),
      ),
    );
  }

  private async pollStream(source: StreamSourceSpec, failures: SourceFailure[]): Promise<Polled> {
    let work = 0;
    let progress = 0;
    for (const [shardId, state] of await this.shardsOf(source)) {
      if (state.buffer.length === 0) await this.readShard(source, shardId, state);
      if (state.buffer.length === 0) continue;
      const batch = state.buffer.slice(0, Math.max(1, Math.min(state.limit, source.batchSize)));
      work += batch.length;
      // Index of the first record to retry: -1 when the batch succeeded.
      let failedAt = -1;
      let thrown = false;
      try {
        const result = (await this.options.invoke(source.functionName, {
          Records: batch.map((r) => this.streamRecord(r, source)),
        })) as { batchItemFailures?: { itemIdentifier?: string }[] } | null;
        const reported = source.reportBatchItemFailures ? (result?.batchItemFailures ?? []) : [];
        if (reported.length > 0) {
          // The lowest reported sequence number is the checkpoint; an unknown one fails the batch.
          const positions = reported.map((f) =>
            batch.findIndex((r) => r.dynamodb?.SequenceNumber === String(f.itemIdentifier ?? '')),
          );
          failedAt = positions.some((p) => p < 0) ? 0 : Math.min(...positions);
          failures.push({
            source: source.name,
            functionName: source.functionName,
            error: `record ${batch[failedAt]?.dynamodb?.SequenceNumber} reported failed`,
          });
        }
      } catch (error) {
        this.noteError(`${source.name} invoke`, `batch of ${batch.length} failed: ${messageOf(error)}`);
        failures.push({ source: source.name, functionName: source.functionName, error: messageOf(error) });
        failedAt = 0;
        thrown = true;
      }
      if (failedAt < 0) {
        state.buffer.splice(0, batch.length);
        state.limit = source.batchSize;
        progress += batch.length;
        continue;
      }
      // Everything before the failing record is done; the rest is retried from it.
      state.buffer.splice(0, failedAt);
      progress += failedAt;
      if (thrown && source.bisectBatchOnError && batch.length > 1) {
        // Split in two; a split is not a retry.
        state.limit = Math.ceil(batch.length / 2);
        continue;
      }
      const record = state.buffer[0] as _Record;
      const sequence = record.dynamodb?.SequenceNumber ?? '';
      const attempts = (state.attempts.get(sequence) ?? 0) + 1;
      state.attempts.set(sequence, attempts);
      if (source.maxRetryAttempts >= 0 && attempts > source.maxRetryAttempts) {
        const size = thrown ? Math.max(1, batch.length - failedAt) : 1;
        const given = state.buffer.splice(0, size);
        state.attempts.delete(sequence);
        state.limit = source.batchSize;
        progress += given.length;
        await this.sendStreamFailure(source, shardId, given);
      }
    }
    return { work, progress };
  }

  private async sendStreamFailure(
    source: StreamSourceSpec,
    shardId: string,
    batch: _Record[],
  ): Promise<void> {
    const first = batch[0]?.dynamodb?.SequenceNumber;
    const last = batch.at(-1)?.dynamodb?.SequenceNumber;
    this.options.log(
      `${source.name}: records ${first}..${last} exhausted their retries; sent to the failure destination`,
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
            startSequenceNumber: first,
            endSequenceNumber: last,
            batchSize: batch.length,
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

interface Polled {
  readonly work: number;
  readonly progress: number;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
