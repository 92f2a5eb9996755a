// First sightings of unheld assignments (the drift sweep's grace period) in the access table:
// `pk = SEEN#<tupleKey>`, `sk = SEEN`. The first sighting is a conditional put, so when two sweeps
// (the daily one and a CloudTrail-triggered one) see the same assignment, the earlier time stands.
// Like tuple leases, each item carries `status = '#SEEN'` and `createdAt = <account>|<permission
// set ARN>|<tupleKey>`, which places it in the byStatus index under its own partition: the sweep
// lists one account's and permission set's sightings with a Query (begins_with), never a Scan, and
// `#SEEN` can never collide with a request status. The access-table stream consumer ignores items
// whose pk is not `REQ#`.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { AssignmentTuple, DriftSeenEntry, DriftSeenStore } from '#ports/grants.ts';
import { documentClient } from './audit-chain-writes.ts';
import { queryStatusPartition } from './status-partition.ts';
import { ACCESS_KEY_PREFIX, ACCESS_TABLE } from './tables.ts';

export const SEEN_STATUS = '#SEEN';

function keyOf(key: string) {
  return {
    [ACCESS_TABLE.partitionKey]: `${ACCESS_KEY_PREFIX.sighting}${key}`,
    [ACCESS_TABLE.sortKey]: 'SEEN',
  };
}

function scopePrefix(accountId: string, permissionSetArn: string): string {
  return `${accountId}|${permissionSetArn}|`;
}

function entryOf(item: Record<string, unknown>): DriftSeenEntry {
  const { key, tuple, firstSeenAt } = item as unknown as DriftSeenEntry;
  return { key, tuple, firstSeenAt };
}

export class DynamoDriftSeenStore implements DriftSeenStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(private readonly options: { readonly client: DynamoDBClient; readonly accessTable: string }) {
    this.doc = documentClient(options.client);
  }

  async firstSeen(key: string): Promise<Date | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.options.accessTable, Key: keyOf(key), ConsistentRead: true }),
    );
    return Item ? new Date(entryOf(Item).firstSeenAt) : undefined;
  }

  async markSeen(key: string, at: Date, tuple: AssignmentTuple): Promise<Date> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.options.accessTable,
          Item: {
            ...keyOf(key),
            [ACCESS_TABLE.byStatus.partitionKey]: SEEN_STATUS,
            [ACCESS_TABLE.byStatus.sortKey]: `${scopePrefix(tuple.accountId, tuple.permissionSetArn)}${key}`,
            key,
            tuple: {
              userId: tuple.userId,
              accountId: tuple.accountId,
              permissionSetArn: tuple.permissionSetArn,
            },
            firstSeenAt: at.toISOString(),
          },
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': ACCESS_TABLE.partitionKey },
        }),
      );
      return at;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // An earlier sighting stands.
      const first = await this.firstSeen(key);
      if (!first)
        throw new Error(`drift sighting ${key} vanished while being recorded; retry`, { cause: error });
      return first;
    }
  }

  async forget(key: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.options.accessTable, Key: keyOf(key) }));
  }

  async listSeen(accountId: string, permissionSetArn: string): Promise<readonly DriftSeenEntry[]> {
    const items = await queryStatusPartition(this.doc, this.options.accessTable, SEEN_STATUS, {
      beginsWith: scopePrefix(accountId, permissionSetArn),
    });
    return items.map(entryOf);
  }
}
