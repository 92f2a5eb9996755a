// The one emulation of Lambda event sources (local/event-sources.ts) against moto, as `make start`
// and the grant-engine tests use it: Lambda's SQS batch semantics (a reported item failure stays on
// the queue, the rest are deleted; a thrown invocation keeps the whole batch; a message that keeps
// failing reaches the queue's DLQ while other groups go on), the DynamoDB stream mapping (filter
// patterns applied before batching, a thrown batch bisected, a failing record retried then described
// to the failure destination and the records after it still delivered, a rolled-back transaction
// not stopping the shard), and rate rules that fire only when due on the local clock, once per
// catch-up, whether or not the last run failed.
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  PutItemCommand,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ACCESS_KEY_PREFIX, requestKey } from '#adapters/aws/tables.ts';
import { LocalClock } from '../../local/clock.ts';
import { EventSources, type EventSourcesOptions } from '../../local/event-sources.ts';
import { motoClient, testAccountId } from '../support/moto.ts';

const accountId = testAccountId();
const sqs = motoClient(SQSClient, accountId);
const dynamo = motoClient(DynamoDBClient, accountId);
const streams = motoClient(DynamoDBStreamsClient, accountId);
const scheduler = motoClient(SchedulerClient, accountId);

interface Invocation {
  readonly fn: string;
  readonly event: { Records?: Record<string, unknown>[]; 'detail-type'?: string };
}

async function queue(name: string, fifo: boolean, attributes: Record<string, string> = {}) {
  const { QueueUrl } = await sqs.send(
    new CreateQueueCommand({
      QueueName: fifo ? `${name}.fifo` : name,
      Attributes: {
        ...(fifo ? { FifoQueue: 'true', ContentBasedDeduplication: 'true' } : {}),
        ...attributes,
      },
    }),
  );
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  return { url: QueueUrl as string, arn: Attributes?.QueueArn as string };
}

async function messagesIn(url: string): Promise<number> {
  const { Attributes } = await sqs.send(
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

function sources(
  overrides: Partial<EventSourcesOptions>,
  invoke: EventSourcesOptions['invoke'],
  clock = new LocalClock(),
) {
  return new EventSources({
    region: 'us-east-1',
    accountId,
    sqs,
    streams,
    scheduler,
    scheduleGroups: [],
    queueUrlOf: () => {
      throw new Error('no queues');
    },
    sqsSources: [],
    streamSources: [],
    rules: [],
    invoke,
    nowMs: () => clock.nowMs(),
    log: () => {},
    retryDelaySeconds: 0,
    ...overrides,
  });
}

async function streamedTable(name: string): Promise<string> {
  await dynamo.send(
    new CreateTableCommand({
      TableName: name,
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    }),
  );
  const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: name }));
  return Table?.LatestStreamArn as string;
}

type StreamEvent = { Records: { dynamodb: { Keys: { pk: { S: string } }; SequenceNumber: string } }[] };
const keysOf = (event: unknown) => (event as StreamEvent).Records.map((r) => r.dynamodb.Keys.pk.S);

describe('SQS event source', () => {
  let work: { url: string; arn: string };

  beforeAll(async () => {
    work = await queue('work', true);
  });

  it('deletes what succeeded and leaves a reported failure on the queue', async () => {
    // Prepare: three messages in three groups.
    for (const group of ['g1', 'g2', 'g3'])
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: work.url,
          MessageBody: JSON.stringify({ group }),
          MessageGroupId: group,
        }),
      );
    const calls: Invocation[] = [];
    const source = sources(
      {
        sqsSources: [
          {
            name: 'work',
            functionName: 'worker',
            queueUrl: work.url,
            queueArn: work.arn,
            batchSize: 10,
            reportBatchItemFailures: true,
          },
        ],
      },
      async (fn, event) => {
        calls.push({ fn, event: event as Invocation['event'] });
        const records = (event as { Records: { messageId: string; body: string }[] }).Records;
        const failed = records.filter((r) => JSON.parse(r.body).group === 'g2');
        return { batchItemFailures: failed.map((r) => ({ itemIdentifier: r.messageId })) };
      },
    );

    // Act
    const result = await source.tick();

    // Assess: one invocation with the SQS event shape; only g2 is left.
    expect(result.work).toBe(3);
    expect(calls).toHaveLength(1);
    const [record] = calls[0]?.event.Records ?? [];
    expect(record).toMatchObject({
      eventSource: 'aws:sqs',
      eventSourceARN: work.arn,
      awsRegion: 'us-east-1',
    });
    expect((record as { attributes: Record<string, string> }).attributes.MessageGroupId).toMatch(/^g\d$/);
    expect(await messagesIn(work.url)).toBe(1);
  });

  it('keeps the whole batch when the invocation throws', async () => {
    const other = await queue('thrown', false);
    await sqs.send(new SendMessageCommand({ QueueUrl: other.url, MessageBody: '{}' }));
    await sqs.send(new SendMessageCommand({ QueueUrl: other.url, MessageBody: '{}' }));
    const source = sources(
      {
        sqsSources: [
          {
            name: 'thrown',
            functionName: 'worker',
            queueUrl: other.url,
            queueArn: other.arn,
            batchSize: 10,
            reportBatchItemFailures: true,
          },
        ],
      },
      async () => {
        throw new Error('boom');
      },
    );

    await source.tick();

    expect(await messagesIn(other.url)).toBe(2);
  });
});

describe('SQS poison message', () => {
  it('reaches the queue’s dead-letter queue after maxReceiveCount while other groups are processed', async () => {
    // Prepare: a FIFO queue that redrives after 3 receives; a poison message and two good ones.
    const dlq = await queue('poison-dlq', true);
    const work = await queue('poison-work', true, {
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 3 }),
    });
    for (const [group, body] of [
      ['bad', 'poison'],
      ['g1', 'one'],
      ['g2', 'two'],
    ])
      await sqs.send(
        new SendMessageCommand({ QueueUrl: work.url, MessageBody: body, MessageGroupId: group }),
      );
    const handled: string[] = [];
    const source = sources(
      {
        sqsSources: [
          {
            name: 'work',
            functionName: 'worker',
            queueUrl: work.url,
            queueArn: work.arn,
            batchSize: 10,
            reportBatchItemFailures: true,
          },
        ],
      },
      async (_fn, event) => {
        const records = (event as { Records: { messageId: string; body: string }[] }).Records;
        handled.push(...records.filter((r) => r.body !== 'poison').map((r) => r.body));
        return {
          batchItemFailures: records
            .filter((r) => r.body === 'poison')
            .map((r) => ({ itemIdentifier: r.messageId })),
        };
      },
    );

    // Act
    const result = await source.settle();

    // Assess: the good ones once each; the poison moved to the DLQ; the queue is empty.
    expect(handled.sort()).toEqual(['one', 'two']);
    expect(result.failures.length).toBe(3);
    expect(await messagesIn(work.url)).toBe(0);
    expect(await messagesIn(dlq.url)).toBe(1);
  });
});

describe('DynamoDB stream event source', () => {
  it('filters before batching, retries a failing record, then describes it to the failure queue and goes on', async () => {
    // Prepare: a table with a stream, three items (one not a request), a failure queue.
    await dynamo.send(
      new CreateTableCommand({
        TableName: 'streamed',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
        StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
      }),
    );
    const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: 'streamed' }));
    const [one, two, three] = [requestKey('1').pk, requestKey('2').pk, requestKey('3').pk];
    for (const pk of [one, `${ACCESS_KEY_PREFIX.tuple}x`, two, three])
      await dynamo.send(new PutItemCommand({ TableName: 'streamed', Item: { pk: { S: pk } } }));
    const failures = await queue('stream-failures', false);
    const seen: string[] = [];
    const source = sources(
      {
        streamSources: [
          {
            name: 'stream',
            functionName: 'react',
            streamArn: Table?.LatestStreamArn as string,
            batchSize: 10,
            reportBatchItemFailures: true,
            maxRetryAttempts: 2,
            startingPosition: 'TRIM_HORIZON',
            filters: [
              JSON.stringify({ dynamodb: { Keys: { pk: { S: [{ prefix: ACCESS_KEY_PREFIX.request }] } } } }),
            ],
            onFailureQueueUrl: failures.url,
          },
        ],
      },
      async (_fn, event) => {
        const records = (
          event as { Records: { dynamodb: { Keys: { pk: { S: string } }; SequenceNumber: string } }[] }
        ).Records;
        seen.push(records.map((r) => r.dynamodb.Keys.pk.S).join(','));
        const poison = records.find((r) => r.dynamodb.Keys.pk.S === two);
        return { batchItemFailures: poison ? [{ itemIdentifier: poison.dynamodb.SequenceNumber }] : [] };
      },
    );

    // Act
    await source.settle();

    // Assess: TUPLE# never delivered; REQ#2 tried 1 + 2 times, then sent to the failure queue; REQ#3 delivered.
    expect(seen).toEqual([`${one},${two},${three}`, `${two},${three}`, `${two},${three}`, `${three}`]);
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: failures.url, MaxNumberOfMessages: 10 }),
    );
    expect(Messages).toHaveLength(1);
    expect(JSON.parse(Messages[0]?.Body ?? '{}')).toMatchObject({
      requestContext: { condition: 'RetryAttemptsExhausted' },
      DDBStreamBatchInfo: { batchSize: 1, streamArn: Table?.LatestStreamArn },
    });
  });
});

describe('DynamoDB stream bisection and rollbacks', () => {
  it('splits a thrown batch in two until the poison record stands alone, gives it up, and goes on', async () => {
    // Prepare
    const streamArn = await streamedTable('bisected');
    for (const pk of ['A', 'B', 'POISON', 'C']) {
      await dynamo.send(new PutItemCommand({ TableName: 'bisected', Item: { pk: { S: pk } } }));
    }
    const failures = await queue('bisect-failures', false);
    const batches: string[] = [];
    const source = sources(
      {
        streamSources: [
          {
            name: 'bisected',
            functionName: 'react',
            streamArn,
            batchSize: 10,
            reportBatchItemFailures: true,
            bisectBatchOnError: true,
            maxRetryAttempts: 1,
            startingPosition: 'TRIM_HORIZON',
            filters: [],
            onFailureQueueUrl: failures.url,
          },
        ],
      },
      async (_fn, event) => {
        const keys = keysOf(event);
        batches.push(keys.join(','));
        if (keys.includes('POISON')) throw new Error('cannot read this record');
        return { batchItemFailures: [] };
      },
    );

    // Act
    await source.settle();

    // Assess: 4 → 2 (A,B ok) → 2 (POISON,C) → 1 (POISON, twice) → given up → C.
    expect(batches).toEqual(['A,B,POISON,C', 'A,B', 'POISON,C', 'POISON', 'POISON', 'C']);
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: failures.url, MaxNumberOfMessages: 10 }),
    );
    expect(Messages).toHaveLength(1);
    expect(JSON.parse(Messages[0]?.Body ?? '{}')).toMatchObject({
      DDBStreamBatchInfo: { batchSize: 1, streamArn },
    });
  });

  it('keeps delivering after a transaction was cancelled and rolled back, without its phantom write', async () => {
    // moto 5.2.1 rolls a failed TransactWriteItems back by swapping the table for a copy, which left
    // open iterators on the discarded stream shard (scripts/moto-server.py keeps the shard).
    const streamArn = await streamedTable('rolled-back');
    const seen: string[] = [];
    const source = sources(
      {
        streamSources: [
          {
            name: 'rolled-back',
            functionName: 'react',
            streamArn,
            batchSize: 10,
            reportBatchItemFailures: true,
            maxRetryAttempts: 2,
            startingPosition: 'TRIM_HORIZON',
            filters: [],
          },
        ],
      },
      async (_fn, event) => {
        seen.push(...keysOf(event));
        return { batchItemFailures: [] };
      },
    );
    await dynamo.send(new PutItemCommand({ TableName: 'rolled-back', Item: { pk: { S: 'before' } } }));
    await source.settle();

    // Act: a transaction whose second write fails its condition, then an ordinary write.
    await expect(
      dynamo.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: 'rolled-back', Item: { pk: { S: 'phantom' } } } },
            {
              Put: {
                TableName: 'rolled-back',
                Item: { pk: { S: 'never' } },
                ConditionExpression: 'attribute_exists(pk)',
              },
            },
          ],
        }),
      ),
    ).rejects.toMatchObject({ name: 'TransactionCanceledException' });
    await dynamo.send(new PutItemCommand({ TableName: 'rolled-back', Item: { pk: { S: 'after' } } }));
    await source.settle();

    // Assess
    expect(seen).toEqual(['before', 'after']);
  });
});

describe('rate rules', () => {
  it('fire only when due on the local clock, and once for a catch-up', async () => {
    const clock = new LocalClock();
    const fired: string[] = [];
    const source = sources(
      {
        rules: [
          {
            name: 'every5',
            functionName: 'reconcile',
            ruleArn: 'arn:aws:events:us-east-1:1:rule/x',
            periodMs: 300_000,
          },
        ],
      },
      async (fn, event) => {
        fired.push(`${fn}:${(event as { 'detail-type': string })['detail-type']}`);
        return null;
      },
      clock,
    );

    await source.tick();
    expect(fired).toEqual([]);
    // One due time left in the next hour after collapsing the twelve occurrences.
    expect(await source.dueTimes(clock.nowMs() + 3_600_000)).toHaveLength(1);
    clock.advance(3_600_000);
    await source.tick();
    await source.tick();
    expect(fired).toEqual(['reconcile:Scheduled Event']);
  });

  it('fire again at the next occurrence after a run that failed', async () => {
    const clock = new LocalClock();
    let runs = 0;
    const source = sources(
      {
        rules: [
          {
            name: 'failing',
            functionName: 'reconcile',
            ruleArn: 'arn:aws:events:us-east-1:1:rule/f',
            periodMs: 300_000,
          },
        ],
      },
      async () => {
        runs++;
        throw new Error('this pass failed');
      },
      clock,
    );

    clock.advance(300_000);
    const first = await source.tick();
    clock.advance(300_000);
    await source.tick();

    expect(first.failures).toMatchObject([{ source: 'failing', error: 'this pass failed' }]);
    expect(runs).toBe(2);
  });
});
