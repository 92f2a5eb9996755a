// `pam audit verify`: the compliance check, done by the reader, not by the service. It reads the
// audit table directly (a paginated, consistent Scan, or one chain's partition), groups events by
// chain and checks each chain with the domain's verifyChain against the head stored at seq 0. A
// Scan is not a snapshot, so a chain that fails is read again on its own (one consistent Query of
// its partition) before it is reported: a write racing the scan is not tampering.
import {
  type DynamoDBDocumentClient,
  QueryCommand,
  type QueryCommandInput,
  ScanCommand,
} from '@aws-sdk/lib-dynamodb';
import { eventFromItem, headFromItem } from '#adapters/aws/audit-chain-writes.ts';
import { AUDIT_TABLE } from '#adapters/aws/tables.ts';
import { verifyChain } from '#domain/audit.ts';
import type { AuditEvent, ChainHead } from '#domain/audit-types.ts';

export interface BrokenChain {
  readonly chainId: string;
  readonly seq: number;
  readonly reason: string;
}

export interface AuditVerification {
  readonly ok: boolean;
  readonly chains: number;
  readonly events: number;
  readonly broken: readonly BrokenChain[];
}

type Item = Record<string, unknown>;

interface ChainItems {
  head?: ChainHead;
  events: AuditEvent[];
}

function group(items: readonly Item[]): Map<string, ChainItems> {
  const chains = new Map<string, ChainItems>();
  for (const item of items) {
    const chainId = String(item[AUDIT_TABLE.partitionKey]);
    const chain = chains.get(chainId) ?? { events: [] };
    chains.set(chainId, chain);
    if (Number(item[AUDIT_TABLE.sortKey]) === AUDIT_TABLE.headSeq) chain.head = headFromItem(item);
    else chain.events.push(eventFromItem(item));
  }
  return chains;
}

function check(chainId: string, chain: ChainItems): BrokenChain | undefined {
  const events = [...chain.events].sort((a, b) => a.seq - b.seq);
  if (!chain.head) {
    return { chainId, seq: events.at(-1)?.seq ?? 0, reason: 'the chain has no head item (seq 0)' };
  }
  const result = verifyChain(events, chain.head);
  return result.ok ? undefined : { chainId, seq: result.seq, reason: result.reason };
}

interface Page {
  readonly Items?: Item[];
  readonly LastEvaluatedKey?: Item;
}

async function allPages(read: (startKey: Item | undefined) => Promise<Page>): Promise<Item[]> {
  const items: Item[] = [];
  let startKey: Item | undefined;
  do {
    const page = await read(startKey);
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}

function readPartition(doc: DynamoDBDocumentClient, table: string, chainId: string): Promise<Item[]> {
  const input: QueryCommandInput = {
    TableName: table,
    KeyConditionExpression: '#chainId = :chainId',
    ExpressionAttributeNames: { '#chainId': AUDIT_TABLE.partitionKey },
    ExpressionAttributeValues: { ':chainId': chainId },
    ConsistentRead: true,
  };
  return allPages((startKey) => doc.send(new QueryCommand({ ...input, ExclusiveStartKey: startKey })));
}

/** Verifies every chain in the table, or only `chainId` (which then must exist). */
export async function verifyAuditTable(
  doc: DynamoDBDocumentClient,
  table: string,
  chainId?: string,
): Promise<AuditVerification> {
  const items =
    chainId === undefined
      ? await allPages((startKey) =>
          doc.send(new ScanCommand({ TableName: table, ConsistentRead: true, ExclusiveStartKey: startKey })),
        )
      : await readPartition(doc, table, chainId);
  const chains = group(items);
  if (chainId !== undefined && !chains.has(chainId)) {
    return {
      ok: false,
      chains: 0,
      events: 0,
      broken: [{ chainId, seq: 0, reason: 'no such chain: the table holds no event and no head for it' }],
    };
  }
  const broken: BrokenChain[] = [];
  let events = 0;
  for (const id of [...chains.keys()].sort()) {
    let chain = chains.get(id) ?? { events: [] };
    let failure = check(id, chain);
    if (failure && chainId === undefined) {
      chain = group(await readPartition(doc, table, id)).get(id) ?? { events: [] };
      failure = check(id, chain);
    }
    events += chain.events.length;
    if (failure) broken.push(failure);
  }
  return { ok: broken.length === 0, chains: chains.size, events, broken };
}
