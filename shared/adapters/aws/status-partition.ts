// Items that are not requests (tuple leases, drift sightings, session denies) live in the access
// table's byStatus index under their own `#…` status, never a request status. This reads one such
// partition, all pages, optionally narrowed on the sort key (`createdAt`).
import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { ACCESS_TABLE } from './tables.ts';

export type SortCondition = { readonly beginsWith: string } | { readonly after: string };

export async function queryStatusPartition(
  doc: DynamoDBDocumentClient,
  accessTable: string,
  status: string,
  sort?: SortCondition,
): Promise<Record<string, unknown>[]> {
  const sortClause = !sort
    ? ''
    : 'beginsWith' in sort
      ? ' AND begins_with(#sort, :sort)'
      : ' AND #sort > :sort';
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(
      new QueryCommand({
        TableName: accessTable,
        IndexName: ACCESS_TABLE.byStatus.indexName,
        KeyConditionExpression: `#status = :status${sortClause}`,
        ExpressionAttributeNames: {
          '#status': ACCESS_TABLE.byStatus.partitionKey,
          ...(sort ? { '#sort': ACCESS_TABLE.byStatus.sortKey } : {}),
        },
        ExpressionAttributeValues: {
          ':status': status,
          ...(sort ? { ':sort': 'beginsWith' in sort ? sort.beginsWith : sort.after } : {}),
        },
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}
