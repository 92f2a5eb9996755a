// Tuple leases in the access table: `pk = TUPLE#<key>`, `sk = TUPLE`. Each lease item also carries
// `status = '#TUPLE'` and `createdAt = <key>`, which places it in the byStatus index under its own
// partition, so the reconciler lists every lease with a Query instead of a Scan (and `#TUPLE` can
// never collide with a request status). Writes are conditional on the lease's version.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ConcurrentModificationError } from '#domain/errors.ts';
import { type AssignmentTuple, type TupleLease, type TupleStore, tupleKey } from '#ports/grants.ts';
import { documentClient } from './audit-chain-writes.ts';
import { queryStatusPartition } from './status-partition.ts';
import { ACCESS_KEY_PREFIX, ACCESS_TABLE } from './tables.ts';

export const LEASE_STATUS = '#TUPLE';

function keyOf(tuple: AssignmentTuple) {
  return {
    [ACCESS_TABLE.partitionKey]: `${ACCESS_KEY_PREFIX.tuple}${tupleKey(tuple)}`,
    [ACCESS_TABLE.sortKey]: 'TUPLE',
  };
}

function leaseOf(item: Record<string, unknown>): TupleLease {
  const { tuple, holders, assigned, pending, deletedAt, version, updatedAt } = item as unknown as TupleLease;
  return {
    tuple,
    holders,
    assigned,
    ...(pending ? { pending } : {}),
    ...(deletedAt ? { deletedAt } : {}),
    version,
    updatedAt,
  };
}

export class DynamoTupleStore implements TupleStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(private readonly options: { readonly client: DynamoDBClient; readonly accessTable: string }) {
    this.doc = documentClient(options.client);
  }

  async get(tuple: AssignmentTuple): Promise<TupleLease | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.options.accessTable, Key: keyOf(tuple), ConsistentRead: true }),
    );
    return Item ? leaseOf(Item) : undefined;
  }

  async put(lease: TupleLease, expectedVersion: number): Promise<void> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.options.accessTable,
          Item: {
            ...keyOf(lease.tuple),
            [ACCESS_TABLE.byStatus.partitionKey]: LEASE_STATUS,
            [ACCESS_TABLE.byStatus.sortKey]: tupleKey(lease.tuple),
            ...lease,
          },
          ConditionExpression: expectedVersion === 0 ? 'attribute_not_exists(#pk)' : '#version = :expected',
          ExpressionAttributeNames:
            expectedVersion === 0 ? { '#pk': ACCESS_TABLE.partitionKey } : { '#version': 'version' },
          ...(expectedVersion === 0 ? {} : { ExpressionAttributeValues: { ':expected': expectedVersion } }),
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new ConcurrentModificationError('the assignment lease changed; retry', { cause: error });
      }
      throw error;
    }
  }

  async list(): Promise<readonly TupleLease[]> {
    const items = await queryStatusPartition(this.doc, this.options.accessTable, LEASE_STATUS);
    return items.map(leaseOf);
  }
}
