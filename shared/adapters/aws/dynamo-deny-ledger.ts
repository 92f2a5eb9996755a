// The session denies in force, in the access table: one item per (permission set, user),
// `pk = DENY#<permission set ARN>#<user id>` (`*` for the permission-set-wide deny), `sk = DENY`,
// replaced as the deny widens. Like tuple leases and drift sightings, each item carries `status = '#DENY'` and
// `createdAt = <removeAt>|<permission set ARN>|<Sid>`, which places it in the byStatus index under
// its own partition: the live denies are one Query (`createdAt > now`), never a Scan, and `#DENY`
// can never collide with a request status. The access-table stream consumer ignores items whose pk
// is not `REQ#`. Records past `removeAt` are inert (never read again); they are a few hundred bytes
// per revocation.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DenyLedger, DenyRecord } from '#ports/grants.ts';
import { documentClient } from './audit-chain-writes.ts';
import { queryStatusPartition } from './status-partition.ts';
import { ACCESS_KEY_PREFIX, ACCESS_TABLE } from './tables.ts';

export const DENY_STATUS = '#DENY';

function keyOf(permissionSetArn: string, userId: string) {
  return {
    [ACCESS_TABLE.partitionKey]: `${ACCESS_KEY_PREFIX.deny}${permissionSetArn}#${userId}`,
    [ACCESS_TABLE.sortKey]: 'DENY',
  };
}

function recordOf(item: Record<string, unknown> | undefined): DenyRecord | undefined {
  if (!item) return undefined;
  const { permissionSetArn, userId, endedAt, removeAt, requestIds } = item as Record<string, unknown>;
  if (typeof permissionSetArn !== 'string' || typeof userId !== 'string') return undefined;
  if (typeof endedAt !== 'string' || typeof removeAt !== 'string') return undefined;
  const ids = Array.isArray(requestIds)
    ? requestIds.filter((id): id is string => typeof id === 'string')
    : [];
  return { permissionSetArn, userId, endedAt, removeAt, requestIds: ids };
}

export class DynamoDenyLedger implements DenyLedger {
  private readonly doc: DynamoDBDocumentClient;

  constructor(private readonly options: { readonly client: DynamoDBClient; readonly accessTable: string }) {
    this.doc = documentClient(options.client);
  }

  async get(permissionSetArn: string, userId: string): Promise<DenyRecord | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({
        TableName: this.options.accessTable,
        Key: keyOf(permissionSetArn, userId),
        ConsistentRead: true,
      }),
    );
    return recordOf(Item);
  }

  async record(entry: DenyRecord): Promise<void> {
    const removeAt = new Date(entry.removeAt).toISOString();
    await this.doc.send(
      new PutCommand({
        TableName: this.options.accessTable,
        Item: {
          ...keyOf(entry.permissionSetArn, entry.userId),
          [ACCESS_TABLE.byStatus.partitionKey]: DENY_STATUS,
          [ACCESS_TABLE.byStatus.sortKey]: `${removeAt}|${entry.permissionSetArn}|${entry.userId}`,
          permissionSetArn: entry.permissionSetArn,
          userId: entry.userId,
          endedAt: new Date(entry.endedAt).toISOString(),
          removeAt,
          requestIds: [...(entry.requestIds ?? [])],
        },
      }),
    );
  }

  async live(now: Date): Promise<readonly DenyRecord[]> {
    const items = await queryStatusPartition(this.doc, this.options.accessTable, DENY_STATUS, {
      after: now.toISOString(),
    });
    return items.flatMap((item) => {
      const record = recordOf(item as Record<string, unknown>);
      return record ? [record] : [];
    });
  }
}
