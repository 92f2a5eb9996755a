// The RateCounter port on DynamoDB: one item per counter in the idempotency table (the hub's table
// of short-lived items, with TTL), under keys `RATE#…` that nothing else uses — handle-api's IAM may
// update only those (infra/constructs/request-api.ts). Each `add` is one UpdateItem: `ADD` is
// atomic, so concurrent invocations of the function never lose a count; with a cap, the condition
// refuses the update once the count has reached it, so a flood past the budget writes nothing and
// the answer says "over". TTL removes a counter some time after its window (DynamoDB deletes expired
// items within days, which is harmless: every window has a key of its own).
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { RateCounter } from '#ports/index.ts';
import { documentClient } from './audit-chain-writes.ts';
import { IDEMPOTENCY_TABLE } from './tables.ts';

/** Partition key prefix of every counter (the IAM condition's `dynamodb:LeadingKeys`). */
export const RATE_COUNTER_KEY_PREFIX = 'RATE#';
const COUNT_ATTRIBUTE = 'hits';

export interface DynamoRateCounterOptions {
  readonly client: DynamoDBClient;
  /** The idempotency table (IDEMPOTENCY_TABLE_NAME). */
  readonly table: string;
}

export class DynamoRateCounter implements RateCounter {
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;

  constructor(options: DynamoRateCounterOptions) {
    this.doc = documentClient(options.client);
    this.table = options.table;
  }

  async add(
    key: string,
    options: { readonly cap?: number; readonly expiresAt: Date },
  ): Promise<number | undefined> {
    const capped = options.cap !== undefined;
    try {
      const { Attributes } = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { [IDEMPOTENCY_TABLE.partitionKey]: `${RATE_COUNTER_KEY_PREFIX}${key}` },
          UpdateExpression: 'SET #expiration = if_not_exists(#expiration, :expiration) ADD #count :one',
          ...(capped ? { ConditionExpression: 'attribute_not_exists(#count) OR #count < :cap' } : {}),
          ExpressionAttributeNames: {
            '#count': COUNT_ATTRIBUTE,
            '#expiration': IDEMPOTENCY_TABLE.ttlAttribute,
          },
          ExpressionAttributeValues: {
            ':one': 1,
            // TTL wants epoch seconds.
            ':expiration': Math.ceil(options.expiresAt.getTime() / 1000),
            ...(capped ? { ':cap': options.cap } : {}),
          },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      const count = Attributes?.[COUNT_ATTRIBUTE];
      if (typeof count !== 'number') throw new Error('the counter update returned no count');
      return count;
    } catch (error) {
      if (capped && (error as { name?: unknown }).name === 'ConditionalCheckFailedException')
        return undefined;
      throw error;
    }
  }
}
