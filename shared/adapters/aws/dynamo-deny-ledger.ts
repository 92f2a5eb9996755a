// The session denies in force, in the access table: `pk = DENY#<permission set ARN>#<Sid>`,
// `sk = DENY`. Like tuple leases and drift sightings, each item carries `status = '#DENY'` and
// `createdAt = <removeAt>|<permission set ARN>|<Sid>`, which places it in the byStatus index under
// its own partition: the live denies are one Query (`createdAt > now`), never a Scan, and `#DENY`
// can never collide with a request status. The access-table stream consumer ignores items whose pk
// is not `REQ#`. Records past `removeAt` are inert (never read again); they are a few hundred bytes
// per revocation.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { denySid } from '#domain/deny-policy.ts';
import type { DenyLedger, DenyRecord } from '#ports/grants.ts';
import { documentClient } from './audit-chain-writes.ts';
import { queryStatusPartition } from './status-partition.ts';
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
    const items = await queryStatusPartition(this.doc, this.options.accessTable, DENY_STATUS, {
      after: now.toISOString(),
    });
    return items.flatMap((item) => {
      const { permissionSetArn, userId, endedAt, removeAt } = item as Record<string, string | undefined>;
      return permissionSetArn && userId && endedAt && removeAt
        ? [{ permissionSetArn, userId, endedAt, removeAt }]
        : [];
    });
  }
}
