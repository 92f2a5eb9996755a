// `pam audit verify`: the compliance check, done by the reader, not by the service. It checks two
// things. Links: it reads the audit table directly (a paginated, consistent Scan, or one chain's
// partition), groups events by chain and checks each chain with the domain's verifyChain against
// the head stored at seq 0. Meaning: every request chain must open with request.created or
// breakglass.activated, and every request record of the access table (`pk = REQ#<id>`, `sk = REQ`)
// must have its chain, and claim nothing that chain does not prove (grant-proof.ts: a status that
// needs approvals, activation or a schedule the chain does not record, a grant end past the one it
// proves). One direct write to the access table can flip a record; it cannot write the events.
//
// A Scan is not a snapshot. The access table is scanned before the audit table, so a chain read is
// at least as new as its record (a request and its events commit in one transaction). Still, a
// chain that fails on the Scan is read again on its own (one consistent Query of its partition), and
// a record that fails is read again (consistent GetItem) and then its chain, before either is
// reported: a write racing the scan is not tampering. Read only: Scan, Query and GetItem.
import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  type QueryCommandInput,
  ScanCommand,
  type ScanCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { eventFromItem, headFromItem } from '#adapters/aws/audit-chain-writes.ts';
import { ACCESS_TABLE, AUDIT_TABLE, requestKey } from '#adapters/aws/tables.ts';
import { verifyChain } from '#domain/audit.ts';
import { type AuditEvent, type ChainHead, requestChainId } from '#domain/audit-types.ts';
import { proveFromChain, unprovenClaims } from '#domain/grant-proof.ts';
import { type AccessRequest, REQUEST_STATUSES } from '#domain/model.ts';
import { formatIssue } from '#domain/text.ts';

export interface BrokenChain {
  readonly chainId: string;
  readonly seq: number;
  readonly reason: string;
}

/** A request record that claims more than its audit chain proves (or has no chain). */
export interface UnprovenRequest {
  readonly requestId: string;
  readonly reasons: readonly string[];
}

export interface AuditVerification {
  readonly ok: boolean;
  readonly chains: number;
  readonly events: number;
  /** Request records checked against their chains. */
  readonly requests: number;
  readonly broken: readonly BrokenChain[];
  readonly unproven: readonly UnprovenRequest[];
}

export interface AuditTables {
  readonly audit: string;
  /** Needed unless only a chain that is not a request's is checked. */
  readonly access?: string;
}

/** A read of one of the two tables failed (the CLI names the table in its one-line error). */
export class TableReadError extends Error {
  constructor(
    readonly role: 'audit' | 'access',
    readonly table: string,
    options: { cause: unknown },
  ) {
    super(`cannot read the ${role} table ${table}`, options);
    this.name = 'TableReadError';
  }
}

type Item = Record<string, unknown>;

interface ChainItems {
  head?: ChainHead;
  events: AuditEvent[];
}

const REQUEST_PK_PREFIX = requestKey('').pk;
const REQUEST_SK = requestKey('').sk;
const REQUEST_CHAIN_PREFIX = requestChainId('');

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

function ordered(chain: ChainItems): AuditEvent[] {
  return [...chain.events].sort((a, b) => a.seq - b.seq);
}

/** Links first (seq, prevHash, hash, head); then, for a request chain, how it opens. */
function check(chainId: string, chain: ChainItems): BrokenChain | undefined {
  const events = ordered(chain);
  if (!chain.head) {
    return { chainId, seq: events.at(-1)?.seq ?? 0, reason: 'the chain has no head item (seq 0)' };
  }
  const result = verifyChain(events, chain.head);
  if (!result.ok) return { chainId, seq: result.seq, reason: result.reason };
  if (chainId.startsWith(REQUEST_CHAIN_PREFIX) && !proveFromChain(events).opened) {
    return {
      chainId,
      seq: 1,
      reason: `a request chain must open with request.created or breakglass.activated, this one opens with ${events[0]?.type ?? 'nothing'}`,
    };
  }
  return undefined;
}

/** What `unprovenClaims` reads of a record; anything else malformed here is reported, not trusted. */
const RequestRecordSchema = z.looseObject({
  id: z.string().min(1),
  status: z.enum(REQUEST_STATUSES),
  requesterId: z.string().min(1),
  approvals: z.array(z.looseObject({ approverId: z.string().min(1) })),
  grant: z.looseObject({ expiresAt: z.iso.datetime({ offset: true }) }).optional(),
});

function isRequestItem(item: Item): boolean {
  const pk = item[ACCESS_TABLE.partitionKey];
  return (
    typeof pk === 'string' && pk.startsWith(REQUEST_PK_PREFIX) && item[ACCESS_TABLE.sortKey] === REQUEST_SK
  );
}

function requestIdOf(item: Item): string {
  return String(item[ACCESS_TABLE.partitionKey]).slice(REQUEST_PK_PREFIX.length);
}

/** What a record claims that its chain does not prove; empty when the chain proves all of it. */
function requestProblems(requestId: string, item: Item, chain: ChainItems | undefined): string[] {
  const parsed = RequestRecordSchema.safeParse(item);
  if (!parsed.success) {
    return parsed.error.issues.map((issue) => `malformed record: ${formatIssue(issue, '')}`);
  }
  if (parsed.data.id !== requestId) {
    return [`its id field (${parsed.data.id}) is not the id of its key (${requestId})`];
  }
  if (!chain || chain.events.length === 0) {
    return [`it has no audit chain (${requestChainId(requestId)} holds no event)`];
  }
  // The item as DynamoAccessStore reads it back: the request's own fields, keys dropped.
  const { [ACCESS_TABLE.partitionKey]: _pk, [ACCESS_TABLE.sortKey]: _sk, ...request } = item;
  return unprovenClaims(request as unknown as AccessRequest, proveFromChain(ordered(chain)));
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

async function reading<T>(role: 'audit' | 'access', table: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    throw new TableReadError(role, table, { cause: error });
  }
}

function scanTable(doc: DynamoDBDocumentClient, table: string, input: Partial<ScanCommandInput> = {}) {
  return allPages((startKey) =>
    doc.send(
      new ScanCommand({ ...input, TableName: table, ConsistentRead: true, ExclusiveStartKey: startKey }),
    ),
  );
}

function readPartition(doc: DynamoDBDocumentClient, table: string, chainId: string): Promise<Item[]> {
  const input: QueryCommandInput = {
    TableName: table,
    KeyConditionExpression: '#chainId = :chainId',
    ExpressionAttributeNames: { '#chainId': AUDIT_TABLE.partitionKey },
    ExpressionAttributeValues: { ':chainId': chainId },
    ConsistentRead: true,
  };
  return reading('audit', table, () =>
    allPages((startKey) => doc.send(new QueryCommand({ ...input, ExclusiveStartKey: startKey }))),
  );
}

/** Every request record (a filtered, consistent Scan: the table also holds tuples, sightings, denies). */
async function scanRequests(doc: DynamoDBDocumentClient, table: string): Promise<Item[]> {
  const items = await reading('access', table, () =>
    scanTable(doc, table, {
      FilterExpression: 'begins_with(#pk, :request)',
      ExpressionAttributeNames: { '#pk': ACCESS_TABLE.partitionKey },
      ExpressionAttributeValues: { ':request': REQUEST_PK_PREFIX },
    }),
  );
  return items.filter(isRequestItem);
}

async function getRequest(doc: DynamoDBDocumentClient, table: string, requestId: string) {
  const { Item } = await reading('access', table, () =>
    doc.send(new GetCommand({ TableName: table, Key: requestKey(requestId), ConsistentRead: true })),
  );
  return Item && isRequestItem(Item) ? Item : undefined;
}

/** Whether checking `chainId` (or everything, when undefined) reads the access table. */
export function needsAccessTable(chainId?: string): boolean {
  return chainId === undefined || chainId.startsWith(REQUEST_CHAIN_PREFIX);
}

function needAccess(tables: AuditTables): string {
  if (!tables.access) throw new Error('the access table is needed to check request records');
  return tables.access;
}

/**
 * Verifies every chain in the audit table and every request record in the access table, or only
 * `chainId` (which then must exist) and, when it is a request's chain, that request.
 */
export async function verifyAuditTables(
  doc: DynamoDBDocumentClient,
  tables: AuditTables,
  chainId?: string,
): Promise<AuditVerification> {
  return chainId === undefined ? verifyAll(doc, tables) : verifyOne(doc, tables, chainId);
}

async function verifyAll(doc: DynamoDBDocumentClient, tables: AuditTables): Promise<AuditVerification> {
  const accessTable = needAccess(tables);
  // Records first: a chain read after its record holds at least the events the record was saved with.
  const records = await scanRequests(doc, accessTable);
  const chains = group(await reading('audit', tables.audit, () => scanTable(doc, tables.audit)));

  const broken: BrokenChain[] = [];
  let events = 0;
  for (const id of [...chains.keys()].sort()) {
    let chain = chains.get(id) ?? { events: [] };
    let failure = check(id, chain);
    if (failure) {
      chain = group(await readPartition(doc, tables.audit, id)).get(id) ?? { events: [] };
      chains.set(id, chain);
      failure = check(id, chain);
    }
    events += chain.events.length;
    if (failure) broken.push(failure);
  }

  const unproven: UnprovenRequest[] = [];
  const byId = new Map(records.map((item) => [requestIdOf(item), item]));
  for (const requestId of [...byId.keys()].sort()) {
    const chainId = requestChainId(requestId);
    let reasons = requestProblems(requestId, byId.get(requestId) as Item, chains.get(chainId));
    if (reasons.length > 0) {
      // Read again, the record first: its chain, read after it, then holds every event it was saved with.
      const fresh = await getRequest(doc, accessTable, requestId);
      if (!fresh) continue;
      const chain = group(await readPartition(doc, tables.audit, chainId)).get(chainId);
      reasons = requestProblems(requestId, fresh, chain);
    }
    if (reasons.length > 0) unproven.push({ requestId, reasons });
  }

  return {
    ok: broken.length === 0 && unproven.length === 0,
    chains: chains.size,
    events,
    requests: byId.size,
    broken,
    unproven,
  };
}

async function verifyOne(
  doc: DynamoDBDocumentClient,
  tables: AuditTables,
  chainId: string,
): Promise<AuditVerification> {
  const requestId = chainId.startsWith(REQUEST_CHAIN_PREFIX)
    ? chainId.slice(REQUEST_CHAIN_PREFIX.length)
    : undefined;
  // The record before its chain, as in the full check (both reads are consistent).
  const record = requestId ? await getRequest(doc, needAccess(tables), requestId) : undefined;
  const chain = group(await readPartition(doc, tables.audit, chainId)).get(chainId);
  const broken: BrokenChain[] = [];
  if (!chain) {
    broken.push({ chainId, seq: 0, reason: 'no such chain: the table holds no event and no head for it' });
  } else {
    const failure = check(chainId, chain);
    if (failure) broken.push(failure);
  }
  const unproven: UnprovenRequest[] = [];
  if (requestId && record) {
    const reasons = requestProblems(requestId, record, chain);
    if (reasons.length > 0) unproven.push({ requestId, reasons });
  }
  return {
    ok: broken.length === 0 && unproven.length === 0,
    chains: chain ? 1 : 0,
    events: chain?.events.length ?? 0,
    requests: record ? 1 : 0,
    broken,
    unproven,
  };
}
