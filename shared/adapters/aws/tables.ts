// The DynamoDB table designs, in one place: the CDK data stack builds the tables from these
// constants, the adapters read and write with them, and tests and the local runtime create the same
// tables in moto with `createTableInputs`. Table *names* are never fixed here (they come from the
// stack or the environment); only keys, indexes and streams are.
import type { CreateTableCommandInput, UpdateTimeToLiveCommandInput } from '@aws-sdk/client-dynamodb';

/**
 * Access requests. One item per request: `pk = REQ#<id>`, `sk = REQ`, plus the request's fields
 * (nested objects as maps). The GSIs project every attribute so a list needs no second read.
 */
export const ACCESS_TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** Requests of one user, sorted by creation time (the adapter reads newest first). */
  byRequester: { indexName: 'byRequester', partitionKey: 'requesterId', sortKey: 'createdAt' },
  /** Requests in one status, sorted by creation time (the adapter reads oldest first). */
  byStatus: { indexName: 'byStatus', partitionKey: 'status', sortKey: 'createdAt' },
  streamViewType: 'NEW_AND_OLD_IMAGES',
} as const;

/**
 * The access table's partition key prefixes, one per kind of item (requests, tuple leases, session
 * denies, drift first sightings). Adapters build keys from them; the stack scopes each function's
 * writes with them (`dynamodb:LeadingKeys`) and filters the stream to requests.
 */
export const ACCESS_KEY_PREFIX = {
  request: 'REQ#',
  tuple: 'TUPLE#',
  deny: 'DENY#',
  sighting: 'SEEN#',
  slackMessage: 'SLACKMSG#',
  slackLink: 'SLACKLINK#',
  slackCode: 'SLACKCODE#',
} as const;

export function requestKey(requestId: string): { pk: string; sk: string } {
  return { pk: `${ACCESS_KEY_PREFIX.request}${requestId}`, sk: 'REQ' };
}

/**
 * Audit events, keyed `(chainId, seq)` with seq ≥ 1. The chain head of every chain lives in the same
 * partition at seq 0 and carries `headPartition = 'HEAD'` (only heads do), so the sparse GSI
 * `chainHeads` lists every chain's latest `(headSeq, headHash)` without a scan.
 */
export const AUDIT_TABLE = {
  partitionKey: 'chainId',
  sortKey: 'seq',
  /** Sort key value of a chain's head item. */
  headSeq: 0,
  /** Attribute present only on head items, always `headPartitionValue`. */
  headPartitionAttribute: 'headPartition',
  headPartitionValue: 'HEAD',
  chainHeads: { indexName: 'chainHeads', partitionKey: 'headPartition', sortKey: 'chainId' },
  streamViewType: 'NEW_AND_OLD_IMAGES',
} as const;

/** Powertools Idempotency persistence (its defaults: key attribute `id`, TTL attribute `expiration`). */
export const IDEMPOTENCY_TABLE = {
  partitionKey: 'id',
  ttlAttribute: 'expiration',
} as const;

export interface TableNames {
  readonly access: string;
  readonly audit: string;
  readonly idempotency: string;
}

/** `CreateTable` inputs for moto (tests, local runtime); the CDK stack builds the same shapes. */
export function createTableInputs(names: TableNames): CreateTableCommandInput[] {
  const access: CreateTableCommandInput = {
    TableName: names.access,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: ACCESS_TABLE.partitionKey, AttributeType: 'S' },
      { AttributeName: ACCESS_TABLE.sortKey, AttributeType: 'S' },
      { AttributeName: ACCESS_TABLE.byRequester.partitionKey, AttributeType: 'S' },
      { AttributeName: ACCESS_TABLE.byStatus.partitionKey, AttributeType: 'S' },
      { AttributeName: ACCESS_TABLE.byRequester.sortKey, AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: ACCESS_TABLE.partitionKey, KeyType: 'HASH' },
      { AttributeName: ACCESS_TABLE.sortKey, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [ACCESS_TABLE.byRequester, ACCESS_TABLE.byStatus].map((index) => ({
      IndexName: index.indexName,
      KeySchema: [
        { AttributeName: index.partitionKey, KeyType: 'HASH' },
        { AttributeName: index.sortKey, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
    })),
    StreamSpecification: { StreamEnabled: true, StreamViewType: ACCESS_TABLE.streamViewType },
  };
  const audit: CreateTableCommandInput = {
    TableName: names.audit,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: AUDIT_TABLE.partitionKey, AttributeType: 'S' },
      { AttributeName: AUDIT_TABLE.sortKey, AttributeType: 'N' },
      { AttributeName: AUDIT_TABLE.chainHeads.partitionKey, AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: AUDIT_TABLE.partitionKey, KeyType: 'HASH' },
      { AttributeName: AUDIT_TABLE.sortKey, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: AUDIT_TABLE.chainHeads.indexName,
        KeySchema: [
          { AttributeName: AUDIT_TABLE.chainHeads.partitionKey, KeyType: 'HASH' },
          { AttributeName: AUDIT_TABLE.chainHeads.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
    StreamSpecification: { StreamEnabled: true, StreamViewType: AUDIT_TABLE.streamViewType },
  };
  const idempotency: CreateTableCommandInput = {
    TableName: names.idempotency,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [{ AttributeName: IDEMPOTENCY_TABLE.partitionKey, AttributeType: 'S' }],
    KeySchema: [{ AttributeName: IDEMPOTENCY_TABLE.partitionKey, KeyType: 'HASH' }],
  };
  return [access, audit, idempotency];
}

/** TTL cannot be set by `CreateTable`; this is the follow-up call for the idempotency table. */
export function timeToLiveInputs(names: TableNames): UpdateTimeToLiveCommandInput[] {
  return [
    {
      TableName: names.idempotency,
      TimeToLiveSpecification: { Enabled: true, AttributeName: IDEMPOTENCY_TABLE.ttlAttribute },
    },
  ];
}
