// The AccessStore port on DynamoDB. A request is one item (`pk = REQ#<id>`, `sk = REQ`, then the
// request's own fields, nested objects as maps). `save` writes the request and its audit events in
// one TransactWriteItems, so a decision and its record commit together or not at all (fail closed):
// the request Put is conditional on the version read (optimistic concurrency), the audit items on
// their chain heads (see audit-chain-writes.ts).
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { AuditEvent } from '#domain/audit-types.ts';
import { ConcurrentModificationError, ValidationError } from '#domain/errors.ts';
import type { AccessRequest, RequestStatus } from '#domain/model.ts';
import type { AccessStore, IdGenerator, Page, PageRequest, RequestChange } from '#ports/index.ts';
import {
  type ChainWriter,
  commitWithAudit,
  DEFAULT_MAX_AUDIT_RETRIES,
  documentClient,
  type TransactItem,
} from './audit-chain-writes.ts';
import { ACCESS_KEY_PREFIX, ACCESS_TABLE, requestKey } from './tables.ts';

export interface DynamoAccessStoreOptions {
  readonly client: DynamoDBClient;
  readonly accessTable: string;
  readonly auditTable: string;
  readonly ids: IdGenerator;
  /** Retries after only the audit items conflicted (default 5); then `AuditWriteError`. */
  readonly maxAuditRetries?: number;
}

export const DEFAULT_PAGE_LIMIT = 25;
export const MAX_PAGE_LIMIT = 100;
const MAX_TOKEN_LENGTH = 2048;

type RequestIndex = typeof ACCESS_TABLE.byRequester | typeof ACCESS_TABLE.byStatus;

export class DynamoAccessStore implements AccessStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly accessTable: string;
  private readonly writer: ChainWriter;

  constructor(options: DynamoAccessStoreOptions) {
    this.doc = documentClient(options.client);
    this.accessTable = options.accessTable;
    this.writer = {
      doc: this.doc,
      auditTable: options.auditTable,
      ids: options.ids,
      maxRetries: options.maxAuditRetries ?? DEFAULT_MAX_AUDIT_RETRIES,
    };
  }

  async get(requestId: string): Promise<AccessRequest | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.accessTable, Key: requestKey(requestId), ConsistentRead: true }),
    );
    return Item ? requestFromItem(Item) : undefined;
  }

  async save(change: RequestChange): Promise<readonly AuditEvent[]> {
    const { request, expectedVersion } = change;
    const version = expectedVersion === null ? 1 : expectedVersion + 1;
    if (request.version !== version) {
      // A bug in the caller, not a conflict: the state machine bumps the version on every change.
      throw new Error(
        `request ${request.id} carries version ${request.version}, expected ${version} (expectedVersion ${expectedVersion})`,
      );
    }
    const put: TransactItem = {
      Put: {
        TableName: this.accessTable,
        Item: { ...request, ...requestKey(request.id) },
        ...(expectedVersion === null
          ? {
              ConditionExpression: 'attribute_not_exists(#pk)',
              ExpressionAttributeNames: { '#pk': ACCESS_TABLE.partitionKey },
            }
          : {
              ConditionExpression: '#version = :expected',
              ExpressionAttributeNames: { '#version': 'version' },
              ExpressionAttributeValues: { ':expected': expectedVersion },
            }),
      },
    };
    return commitWithAudit(this.writer, {
      drafts: change.events,
      leadingItems: [put],
      leadingFailure: ([requestCode]) =>
        requestCode === 'ConditionalCheckFailed'
          ? new ConcurrentModificationError('the request was changed by another decision; reload and retry')
          : undefined,
    });
  }

  listByRequester(requesterId: string, page: PageRequest): Promise<Page<AccessRequest>> {
    return this.list(ACCESS_TABLE.byRequester, requesterId, false, page);
  }

  listByStatus(status: RequestStatus, page: PageRequest): Promise<Page<AccessRequest>> {
    return this.list(ACCESS_TABLE.byStatus, status, true, page);
  }

  /**
   * One Query of the user's partition of `byRequester` per page, filtered on status and answering
   * only the count, newest first (open requests are mostly recent ones), until `atMost` are found
   * or the partition ends. A user's closed requests are read too (a filter applies after the read):
   * the cost grows with their history only while they have fewer than `atMost` open.
   */
  async countByRequester(
    requesterId: string,
    statuses: readonly RequestStatus[],
    atMost: number,
  ): Promise<number> {
    if (!Number.isInteger(atMost) || atMost < 1) throw new RangeError('atMost: expected an integer ≥ 1');
    if (statuses.length === 0) return 0;
    const values = Object.fromEntries(statuses.map((status, index) => [`:status${index}`, status]));
    let count = 0;
    let startKey: Record<string, unknown> | undefined;
    do {
      const result = await this.doc.send(
        new QueryCommand({
          TableName: this.accessTable,
          IndexName: ACCESS_TABLE.byRequester.indexName,
          KeyConditionExpression: '#requester = :requester',
          FilterExpression: `#status IN (${Object.keys(values).join(', ')})`,
          ExpressionAttributeNames: {
            '#requester': ACCESS_TABLE.byRequester.partitionKey,
            '#status': 'status',
          },
          ExpressionAttributeValues: { ':requester': requesterId, ...values },
          Select: 'COUNT',
          ScanIndexForward: false,
          ExclusiveStartKey: startKey,
        }),
      );
      count += result.Count ?? 0;
      startKey = result.LastEvaluatedKey;
    } while (startKey && count < atMost);
    return Math.min(count, atMost);
  }

  /**
   * Reads one more item than asked for, so a `nextToken` is returned only when more items exist,
   * and keeps reading while DynamoDB stops a page early (1 MB).
   */
  private async list(
    index: RequestIndex,
    partitionValue: string,
    oldestFirst: boolean,
    page: PageRequest,
  ): Promise<Page<AccessRequest>> {
    const limit = pageLimit(page.limit);
    let startKey =
      page.nextToken === undefined ? undefined : decodeToken(page.nextToken, index, partitionValue);
    const items: Record<string, unknown>[] = [];
    do {
      const result = await this.doc.send(
        new QueryCommand({
          TableName: this.accessTable,
          IndexName: index.indexName,
          KeyConditionExpression: '#partition = :value',
          ExpressionAttributeNames: { '#partition': index.partitionKey },
          ExpressionAttributeValues: { ':value': partitionValue },
          ScanIndexForward: oldestFirst,
          Limit: limit + 1 - items.length,
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...(result.Items ?? []));
      startKey = result.LastEvaluatedKey;
    } while (startKey && items.length <= limit);
    if (items.length <= limit) return { items: items.map(requestFromItem) };
    const shown = items.slice(0, limit);
    const last = shown[shown.length - 1] as Record<string, unknown>;
    return { items: shown.map(requestFromItem), nextToken: encodeToken(keyOf(last, index)) };
  }
}

function requestFromItem(item: Record<string, unknown>): AccessRequest {
  const { pk: _pk, sk: _sk, ...request } = item;
  return request as unknown as AccessRequest;
}

function pageLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) {
    throw new ValidationError(`limit: must be an integer from 1 to ${MAX_PAGE_LIMIT}`);
  }
  return limit;
}

/** The index key of an item: what DynamoDB's LastEvaluatedKey holds for a GSI query. */
function keyOf(item: Record<string, unknown>, index: RequestIndex): Record<string, string> {
  return {
    [ACCESS_TABLE.partitionKey]: String(item[ACCESS_TABLE.partitionKey]),
    [ACCESS_TABLE.sortKey]: String(item[ACCESS_TABLE.sortKey]),
    [index.partitionKey]: String(item[index.partitionKey]),
    [index.sortKey]: String(item[index.sortKey]),
  };
}

function encodeToken(key: Record<string, string>): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/**
 * Accepts only a key this list could have returned: the index's four string attributes, a request
 * key, and the partition being listed (so a token cannot be replayed against another user's list).
 */
function decodeToken(token: string, index: RequestIndex, partitionValue: string): Record<string, string> {
  const invalid = () => new ValidationError('nextToken: not a token returned by this list');
  if (token.length === 0 || token.length > MAX_TOKEN_LENGTH || !/^[A-Za-z0-9_-]+$/.test(token))
    throw invalid();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw invalid();
  const key = parsed as Record<string, unknown>;
  const expected = [ACCESS_TABLE.partitionKey, ACCESS_TABLE.sortKey, index.partitionKey, index.sortKey];
  const names = Object.keys(key);
  if (names.length !== expected.length || !expected.every((name) => typeof key[name] === 'string')) {
    throw invalid();
  }
  const pk = key[ACCESS_TABLE.partitionKey] as string;
  if (!pk.startsWith(ACCESS_KEY_PREFIX.request) || key[ACCESS_TABLE.sortKey] !== requestKey('').sk)
    throw invalid();
  if (key[index.partitionKey] !== partitionValue) throw invalid();
  return key as Record<string, string>;
}
