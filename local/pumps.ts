// What AWS does for Lambda event sources, done by hand against moto: drain an SQS FIFO queue into a
// handler (in order, a failed message becomes visible again and holds back the rest of its group),
// and read a DynamoDB stream into a handler (in order, resuming after the last record handled).
// Tests and the local runtime use these; nothing here is bundled into a function.
import {
  type _Record,
  DescribeStreamCommand,
  type DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';

export interface PumpResult {
  readonly handled: number;
  readonly failures: readonly unknown[];
}

export interface QueuePump {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly handle: (body: unknown, groupId: string | undefined) => Promise<void>;
  /** Batches to receive in one call (each up to 10 messages); stops early when the queue is idle. */
  readonly maxBatches?: number;
}

/** Receives up to `maxBatches` batches and handles them; returns how many messages were handled. */
export async function pumpQueue(pump: QueuePump): Promise<PumpResult> {
  let handled = 0;
  const failures: unknown[] = [];
  for (let batch = 0; batch < (pump.maxBatches ?? 1); batch++) {
    const result = await pumpBatch(pump);
    handled += result.handled;
    failures.push(...result.failures);
    if (result.handled === 0) break;
  }
  return { handled, failures };
}

async function pumpBatch(pump: QueuePump): Promise<PumpResult> {
  const { Messages = [] } = await pump.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: pump.queueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 0,
      VisibilityTimeout: 30,
      MessageSystemAttributeNames: ['MessageGroupId'],
    }),
  );
  const failedGroups = new Set<string | undefined>();
  const failures: unknown[] = [];
  let handled = 0;
  for (const message of Messages) {
    const groupId = message.Attributes?.MessageGroupId;
    const release = () =>
      pump.sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: pump.queueUrl,
          ReceiptHandle: message.ReceiptHandle,
          VisibilityTimeout: 0,
        }),
      );
    if (failedGroups.has(groupId)) {
      await release();
      continue;
    }
    try {
      await pump.handle(JSON.parse(message.Body ?? 'null'), groupId);
      await pump.sqs.send(
        new DeleteMessageCommand({ QueueUrl: pump.queueUrl, ReceiptHandle: message.ReceiptHandle }),
      );
      handled++;
    } catch (error) {
      failures.push(error);
      failedGroups.add(groupId);
      await release();
    }
  }
  return { handled, failures };
}

export interface StreamPump {
  readonly streams: DynamoDBStreamsClient;
  readonly streamArn: string;
  readonly handle: (record: _Record) => Promise<void>;
  /** Last sequence number handled per shard (kept by the caller between calls). */
  readonly position: Map<string, string>;
}

/** Reads every shard from where it was left and handles the new records in order. */
export async function pumpStream(pump: StreamPump): Promise<PumpResult> {
  const { StreamDescription } = await pump.streams.send(
    new DescribeStreamCommand({ StreamArn: pump.streamArn }),
  );
  const failures: unknown[] = [];
  let handled = 0;
  for (const shard of StreamDescription?.Shards ?? []) {
    const shardId = shard.ShardId as string;
    const last = pump.position.get(shardId);
    const { ShardIterator } = await pump.streams.send(
      new GetShardIteratorCommand({
        StreamArn: pump.streamArn,
        ShardId: shardId,
        ...(last
          ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: last }
          : { ShardIteratorType: 'TRIM_HORIZON' }),
      }),
    );
    if (!ShardIterator) continue;
    const { Records = [] } = await pump.streams.send(new GetRecordsCommand({ ShardIterator, Limit: 100 }));
    for (const record of Records) {
      try {
        await pump.handle(record);
        pump.position.set(shardId, record.dynamodb?.SequenceNumber as string);
        handled++;
      } catch (error) {
        failures.push(error);
        break;
      }
    }
  }
  return { handled, failures };
}

/** Runs the pumps until none has anything left (or `maxRounds`), returning what failed on the way. */
export async function settle(
  pumps: readonly (() => Promise<PumpResult>)[],
  maxRounds = 50,
): Promise<{ rounds: number; failures: unknown[] }> {
  const failures: unknown[] = [];
  for (let round = 1; round <= maxRounds; round++) {
    let handled = 0;
    for (const pump of pumps) {
      const result = await pump();
      handled += result.handled;
      failures.push(...result.failures);
    }
    if (handled === 0) return { rounds: round, failures };
  }
  return { rounds: maxRounds, failures };
}
