// The AuditLog port on DynamoDB, for events that are not part of a request change (drift, vault,
// sessions, system chains, and revocations, which record after they act). Appends are conditional on
// the chain head (see audit-chain-writes.ts); heads of all chains are listed through the sparse
// `chainHeads` GSI for the signed digest.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { AuditDraft, AuditEvent, ChainHead } from '#domain/audit-types.ts';
import type { AuditLog, IdGenerator } from '#ports/index.ts';
import {
  type ChainWriter,
  commitWithAudit,
  documentClient,
  eventFromItem,
  headFromItem,
  readHead,
} from './audit-chain-writes.ts';
import { AUDIT_TABLE } from './tables.ts';

export interface DynamoAuditLogOptions {
  readonly client: DynamoDBClient;
  readonly auditTable: string;
  readonly ids: IdGenerator;
  /**
   * Retries after a conflicting append (default 10). Named chains such as `sessions` can see several
   * writers at once, so this is a little more patient than a request change.
   */
  readonly maxAuditRetries?: number;
}

export const DEFAULT_MAX_APPEND_RETRIES = 10;

export class DynamoAuditLog implements AuditLog {
  private readonly doc: DynamoDBDocumentClient;
  private readonly auditTable: string;
  private readonly writer: ChainWriter;

  constructor(options: DynamoAuditLogOptions) {
    this.doc = documentClient(options.client);
    this.auditTable = options.auditTable;
    this.writer = {
      doc: this.doc,
      auditTable: options.auditTable,
      ids: options.ids,
      maxRetries: options.maxAuditRetries ?? DEFAULT_MAX_APPEND_RETRIES,
    };
  }

  async append(draft: AuditDraft): Promise<AuditEvent> {
    const [event] = await commitWithAudit(this.writer, { drafts: [draft] });
    if (!event) throw new Error('commitWithAudit returned no event for one draft');
    return event;
  }

  async readChain(chainId: string): Promise<readonly AuditEvent[]> {
    const items = await this.queryAll({
      TableName: this.auditTable,
      KeyConditionExpression: '#chainId = :chainId AND #seq >= :first',
      ExpressionAttributeNames: { '#chainId': AUDIT_TABLE.partitionKey, '#seq': AUDIT_TABLE.sortKey },
      ExpressionAttributeValues: { ':chainId': chainId, ':first': AUDIT_TABLE.headSeq + 1 },
      ConsistentRead: true,
    });
    return items.map(eventFromItem);
  }

  head(chainId: string): Promise<ChainHead | undefined> {
    return readHead(this.doc, this.auditTable, chainId);
  }

  /** The head of every chain, ordered by chainId (eventually consistent: it reads a GSI). */
  async listHeads(): Promise<readonly ChainHead[]> {
    const items = await this.queryAll({
      TableName: this.auditTable,
      IndexName: AUDIT_TABLE.chainHeads.indexName,
      KeyConditionExpression: '#partition = :head',
      ExpressionAttributeNames: { '#partition': AUDIT_TABLE.chainHeads.partitionKey },
      ExpressionAttributeValues: { ':head': AUDIT_TABLE.headPartitionValue },
    });
    return items.map(headFromItem);
  }

  private async queryAll(input: QueryCommandInput): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(new QueryCommand({ ...input, ExclusiveStartKey: startKey }));
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items;
  }
}
