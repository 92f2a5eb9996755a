// Appending to audit chains in DynamoDB, shared by DynamoAuditLog (events alone) and
// DynamoAccessStore (events committed together with a request write). Every append is one
// TransactWriteItems: each event is put with `attribute_not_exists`, and each chain's head item
// (seq 0) is replaced on the condition that it still holds the seq that was read. Two writers that
// read the same head therefore cannot both commit: the loser re-reads the head and tries again, so
// a chain never forks and never skips a seq.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { headOf, sealEvent } from '#domain/audit.ts';
import type { AuditDraft, AuditEvent, ChainHead, JsonValue } from '#domain/audit-types.ts';
import { AuditWriteError } from '#domain/errors.ts';
import type { IdGenerator } from '#ports/index.ts';
import { AUDIT_TABLE } from './tables.ts';

export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** What a caller is told when the audit record cannot be written (never the SDK's own message). */
export const AUDIT_WRITE_FAILED =
  'the audit record could not be written, so nothing changed; try again later';

export const DEFAULT_MAX_AUDIT_RETRIES = 5;

export function documentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
}

/** A head item: the chain's latest seq and hash, at seq 0 of the chain's own partition. */
export interface HeadItem {
  readonly chainId: string;
  readonly seq: typeof AUDIT_TABLE.headSeq;
  readonly headPartition: typeof AUDIT_TABLE.headPartitionValue;
  readonly headSeq: number;
  readonly headHash: string;
  /** `at` of the event the head points to. */
  readonly headAt: string;
}

function headItem(event: AuditEvent): HeadItem {
  return {
    chainId: event.chainId,
    seq: AUDIT_TABLE.headSeq,
    headPartition: AUDIT_TABLE.headPartitionValue,
    headSeq: event.seq,
    headHash: event.hash,
    headAt: event.at,
  };
}

export function headFromItem(item: Record<string, unknown>): ChainHead {
  return { chainId: String(item.chainId), seq: Number(item.headSeq), hash: String(item.headHash) };
}

/** Reads an event item back into exactly the documented fields (storage attributes dropped). */
export function eventFromItem(item: Record<string, unknown>): AuditEvent {
  const text = (value: unknown): string | null =>
    value === undefined || value === null ? null : String(value);
  return {
    chainId: String(item.chainId),
    seq: Number(item.seq),
    eventId: String(item.eventId),
    at: String(item.at),
    type: item.type as AuditEvent['type'],
    actorId: text(item.actorId),
    requestId: text(item.requestId),
    entitlementId: text(item.entitlementId),
    accountId: text(item.accountId),
    permissionSetArn: text(item.permissionSetArn),
    secretArn: text(item.secretArn),
    instanceId: text(item.instanceId),
    sessionId: text(item.sessionId),
    reason: text(item.reason),
    details: (item.details ?? {}) as { [key: string]: JsonValue },
    prevHash: String(item.prevHash),
    hash: String(item.hash),
  };
}

export async function readHead(
  doc: DynamoDBDocumentClient,
  auditTable: string,
  chainId: string,
): Promise<ChainHead | undefined> {
  const { Item } = await doc.send(
    new GetCommand({
      TableName: auditTable,
      Key: { [AUDIT_TABLE.partitionKey]: chainId, [AUDIT_TABLE.sortKey]: AUDIT_TABLE.headSeq },
      ConsistentRead: true,
    }),
  );
  return Item ? headFromItem(Item) : undefined;
}

/**
 * Seals the drafts in order onto the heads read (drafts on one chain follow each other) and builds
 * the transaction items: one conditional Put per event, then one conditional Put of each chain's
 * head. A transaction may touch an item only once, so a chain gets a single head write, conditioned
 * on the seq read before the first of its drafts.
 */
export function sealDrafts(
  auditTable: string,
  drafts: readonly AuditDraft[],
  heads: ReadonlyMap<string, ChainHead | undefined>,
  eventIds: readonly string[],
): { events: AuditEvent[]; items: TransactItem[] } {
  const current = new Map(heads);
  const events = drafts.map((draft, index) => {
    const eventId = eventIds[index];
    if (eventId === undefined) throw new Error('sealDrafts needs one event id per draft');
    const event = sealEvent(draft, current.get(draft.chainId), eventId);
    current.set(draft.chainId, headOf(event));
    return event;
  });
  const items: TransactItem[] = events.map((event) => ({
    Put: {
      TableName: auditTable,
      Item: { ...event },
      ConditionExpression: 'attribute_not_exists(#chainId)',
      ExpressionAttributeNames: { '#chainId': AUDIT_TABLE.partitionKey },
    },
  }));
  const lastOfChain = new Map(events.map((event) => [event.chainId, event]));
  for (const [chainId, last] of lastOfChain) {
    const read = heads.get(chainId);
    items.push({
      Put: {
        TableName: auditTable,
        Item: { ...headItem(last) },
        ...(read
          ? {
              ConditionExpression: '#headSeq = :readSeq',
              ExpressionAttributeNames: { '#headSeq': 'headSeq' },
              ExpressionAttributeValues: { ':readSeq': read.seq },
            }
          : {
              ConditionExpression: 'attribute_not_exists(#chainId)',
              ExpressionAttributeNames: { '#chainId': AUDIT_TABLE.partitionKey },
            }),
      },
    });
  }
  return { events, items };
}

/** Cancellation reason codes, index-aligned with the transaction's items; undefined if not a cancellation. */
export function cancellationCodes(error: unknown): string[] | undefined {
  if (!(error instanceof Error) || error.name !== 'TransactionCanceledException') return undefined;
  const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons;
  if (reasons) return reasons.map((reason) => reason.Code ?? 'None');
  // DynamoDB lists the same codes in the message ("… reasons [None, ConditionalCheckFailed]").
  const listed = /\[([^\]]*)\]\s*$/.exec(error.message)?.[1];
  return listed?.split(',').map((code) => code.trim());
}

/** Codes after which the whole transaction is worth trying again with fresh heads. */
const RETRYABLE_AUDIT_CODES = new Set(['None', 'ConditionalCheckFailed', 'TransactionConflict']);

/** Full-jitter exponential backoff (base 25 ms, cap 2 s). */
export function backoffMs(attempt: number): number {
  return Math.random() * Math.min(2000, 25 * 2 ** attempt);
}

export interface ChainWriter {
  readonly doc: DynamoDBDocumentClient;
  readonly auditTable: string;
  readonly ids: IdGenerator;
  /** Retries after the first attempt when only audit items conflicted. */
  readonly maxRetries: number;
}

export interface AuditCommit {
  readonly drafts: readonly AuditDraft[];
  /** Items committed in the same transaction ahead of the audit items (the request write). */
  readonly leadingItems?: readonly TransactItem[];
  /**
   * Given the cancellation codes of the leading items, the error to throw at once (no retry), or
   * undefined when they did not cause the cancellation.
   */
  readonly leadingFailure?: (codes: readonly string[]) => Error | undefined;
}

/**
 * Commits the leading items and the sealed drafts in one transaction, re-reading the chain heads
 * and retrying (bounded, jittered) while only audit items conflict. Throws the leading failure, or
 * `AuditWriteError` for anything else; a throw means nothing was written.
 */
export async function commitWithAudit(writer: ChainWriter, commit: AuditCommit): Promise<AuditEvent[]> {
  const leading = commit.leadingItems ?? [];
  const eventIds = commit.drafts.map(() => writer.ids.next());
  const chainIds = [...new Set(commit.drafts.map((draft) => draft.chainId))];
  for (let attempt = 0; ; attempt++) {
    try {
      const heads = await Promise.all(
        chainIds.map(
          async (chainId) => [chainId, await readHead(writer.doc, writer.auditTable, chainId)] as const,
        ),
      );
      const sealed = sealDrafts(writer.auditTable, commit.drafts, new Map(heads), eventIds);
      await writer.doc.send(new TransactWriteCommand({ TransactItems: [...leading, ...sealed.items] }));
      return sealed.events;
    } catch (error) {
      const codes = cancellationCodes(error);
      if (!codes) throw new AuditWriteError(AUDIT_WRITE_FAILED, { cause: error });
      const leadingError = commit.leadingFailure?.(codes.slice(0, leading.length));
      if (leadingError) throw leadingError;
      const retryable = codes.every((code) => RETRYABLE_AUDIT_CODES.has(code));
      if (!retryable || attempt >= writer.maxRetries) {
        throw new AuditWriteError(AUDIT_WRITE_FAILED, { cause: error });
      }
    }
    await new Promise((resolve) => setTimeout(resolve, backoffMs(attempt)));
  }
}
