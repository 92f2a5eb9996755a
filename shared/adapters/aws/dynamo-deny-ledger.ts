// The session denies in force, in the access table: `pk = DENY#<permission set ARN>#<Sid>`,
// `sk = DENY`. Like tuple leases and drift sightings, each item carries `status = '#DENY'` and
// `createdAt = <removeAt>|<permission set ARN>|<Sid>`, which places it in the byStatus index under
// its own partition: the live denies are one Query (`createdAt > now`), never a Scan, and `#DENY`
// can never collide with a request status. The access-table stream consumer ignores items whose pk
// is not `REQ#`. Records past `removeAt` are inert (never read again); they are a few hundred bytes
// per revocation.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { denySid } from '#domain/deny-policy.ts';
import type { DenyLedger, DenyRecord } from '#ports/grants.ts';
import { documentClient } from './audit-chain-writes.ts';
import { ACCESS_TABLE } from './tables.ts';

export const DENY_STATUS = '#DENY';

function sidOf(entry: DenyRecord): string {
  return denySid({
    userId: entry.userId,
    endedAt: new Date(entry.endedAt),
    removeAt: new Date(entry.removeAt),
  });
}

export class DynamoDenyLedger implements DenyLedger {
  private readonly doc: DynamoDBDocumentClient;

  constructor(private readonly options: { readonly client: DynamoDBClient; readonly accessTable: string }) {
    this.doc = documentClient(options.client);
  }

  async record(entry: DenyRecord): Promise<void> {
    const sid = sidOf(entry);
    const removeAt = new Date(entry.removeAt).toISOString();
    await this.doc.send(
      new PutCommand({
        TableName: this.options.accessTable,
        Item: {
          [ACCESS_TABLE.partitionKey]: `DENY#${entry.permissionSetArn}#${sid}`,
          [ACCESS_TABLE.sortKey]: 'DENY',
          [ACCESS_TABLE.byStatus.partitionKey]: DENY_STATUS,
          [ACCESS_TABLE.byStatus.sortKey]: `${removeAt}|${entry.permissionSetArn}|${sid}`,
          permissionSetArn: entry.permissionSetArn,
          userId: entry.userId,
          endedAt: new Date(entry.endedAt).toISOString(),
          removeAt,
        },
      }),
    );
  }

  async live(now: Date): Promise<readonly DenyRecord[]> {
    const records: DenyRecord[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.options.accessTable,
          IndexName: ACCESS_TABLE.byStatus.indexName,
          KeyConditionExpression: '#status = :deny AND #sort > :now',
          ExpressionAttributeNames: {
            '#status': ACCESS_TABLE.byStatus.partitionKey,
            '#sort': ACCESS_TABLE.byStatus.sortKey,
          },
          ExpressionAttributeValues: { ':deny': DENY_STATUS, ':now': now.toISOString() },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of page.Items ?? []) {
        const { permissionSetArn, userId, endedAt, removeAt } = item as Record<string, string>;
        if (permissionSetArn && userId && endedAt && removeAt)
          records.push({ permissionSetArn, userId, endedAt, removeAt });
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return records;
  }
}
