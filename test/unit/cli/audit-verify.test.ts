// verifyAuditTables's reading and checking: every Scan page is followed, a chain that fails on the
// Scan (a write raced it) is read again on its own before it is reported, and every request record
// must be proven by its chain (re-read with GetItem, then its chain, before it is reported). The
// records and chains are built by the real state machine and sealed by the real hash chain.
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { ACCESS_KEY_PREFIX, requestKey } from '#adapters/aws/tables.ts';
import { headOf, sealEvent } from '#domain/audit.ts';
import { type AuditDraft, type AuditEvent, requestChainId } from '#domain/audit-types.ts';
import type { AccessRequest, Grant } from '#domain/model.ts';
import { type Command, decide, type Outcome, openBreakGlass, openRequest } from '#domain/state-machine.ts';
import { needsAccessTable, verifyAuditTables } from '../../../cli/audit-verify.ts';
import {
  ACCOUNTS,
  at,
  fixtureActor,
  fixtureConfig,
  fixtureEntitlement,
  PROD_ADMIN,
  READ_ONLY,
  SANDBOX,
  U,
  VALID_JUSTIFICATION,
} from '../../support/fakes.ts';
import { runCli } from './harness.ts';

type Item = Record<string, unknown>;

const TABLES = { audit: 'audit', access: 'access' } as const;

/** A valid chain of `length` events, as stored items (an event is stored as its own fields). */
function chain(chainId: string, length: number): AuditEvent[] {
  const events: AuditEvent[] = [];
  for (let i = 0; i < length; i++) {
    const prev = events.at(-1);
    events.push(
      sealEvent(
        { chainId, at: `2026-11-26T18:0${i}:00.000Z`, type: 'drift.detected' },
        prev && headOf(prev),
        `EVENT${chainId}${i}`,
      ),
    );
  }
  return events;
}

function headItem(event: AuditEvent): Item {
  return {
    chainId: event.chainId,
    seq: 0,
    headPartition: 'HEAD',
    headSeq: event.seq,
    headHash: event.hash,
    headAt: event.at,
  };
}

/** A request and its chain, moved on by the real state machine; `events` sealed as the store would. */
class Story {
  request: AccessRequest;
  readonly events: AuditEvent[] = [];
  private minute = 0;

  constructor(outcome: Outcome) {
    this.request = outcome.request;
    this.seal(outcome.events);
  }

  apply(command: Command): this {
    this.minute += 1;
    const outcome = decide(this.request, command, at(this.minute));
    this.request = outcome.request;
    this.seal(outcome.events);
    return this;
  }

  private seal(drafts: readonly AuditDraft[]) {
    for (const draft of drafts) {
      const prev = this.events.at(-1);
      this.events.push(sealEvent(draft, prev && headOf(prev), `EV${this.request.id}${this.events.length}`));
    }
  }

  get chainId(): string {
    return requestChainId(this.request.id);
  }

  /** The record as DynamoAccessStore stores it. */
  record(patch: Partial<AccessRequest> = {}): Item {
    return { ...structuredClone(this.request), ...patch, ...requestKey(this.request.id) };
  }

  /** The chain's items: head and events. */
  chainItems(): Item[] {
    const last = this.events.at(-1);
    return last ? [headItem(last), ...(this.events as unknown as Item[])] : [];
  }
}

const config = fixtureConfig();
const actor = (userId: string) => fixtureActor(userId);

function opened(id: string, entitlementId = READ_ONLY, breakGlass = false): Story {
  const input = {
    id,
    requester: actor(U.eve),
    entitlement: fixtureEntitlement(entitlementId),
    configHash: config.configHash,
    accountId: ACCOUNTS.dev,
    ...VALID_JUSTIFICATION,
    now: at(0),
  };
  return new Story(breakGlass ? openBreakGlass(input) : openRequest(input));
}

const ID = {
  pending: '01JNQ0000000000000000000A1',
  approved: '01JNQ0000000000000000000A2',
  active: '01JNQ0000000000000000000A3',
  auto: '01JNQ0000000000000000000A4',
  breakGlass: '01JNQ0000000000000000000A5',
} as const;

interface FakeTables {
  /** Scan pages by table name. */
  readonly scans: Record<string, Item[][]>;
  /** What a Query of the audit table answers, by chainId. */
  readonly partitions?: Record<string, Item[]>;
  /** What a GetItem of the access table answers, by pk. */
  readonly records?: Record<string, Item>;
}

/** A document client answering Scan, Query and GetItem from `tables`, recording what was sent. */
function fakeDoc(tables: FakeTables) {
  const sent: { name: string; input: Record<string, unknown> }[] = [];
  const doc = {
    send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      const { name } = command.constructor;
      sent.push({ name, input: command.input });
      if (name === 'ScanCommand') {
        const pages = tables.scans[String(command.input.TableName)] ?? [[]];
        const index = command.input.ExclusiveStartKey
          ? Number((command.input.ExclusiveStartKey as Item).page)
          : 0;
        const last = index === pages.length - 1;
        return { Items: pages[index], ...(last ? {} : { LastEvaluatedKey: { page: index + 1 } }) };
      }
      if (name === 'GetCommand') {
        const key = command.input.Key as Item;
        return { Item: tables.records?.[String(key.pk)] };
      }
      const values = command.input.ExpressionAttributeValues as Item;
      return { Items: tables.partitions?.[String(values[':chainId'])] ?? [] };
    },
  } as unknown as DynamoDBDocumentClient;
  return { doc, sent };
}

describe('verifyAuditTables: links', () => {
  it('follows every Scan page of both tables, with consistent reads, requests filtered by key', async () => {
    // Prepare: two chains spread over three pages, and no request.
    const a = chain('a', 3);
    const b = chain('b', 2);
    const pages = [
      [headItem(a[2] as AuditEvent), a[0], a[1]],
      [a[2], headItem(b[1] as AuditEvent)],
      [b[0], b[1]],
    ] as Item[][];
    const { doc, sent } = fakeDoc({ scans: { audit: pages, access: [[], []] } });
    // Act
    const result = await verifyAuditTables(doc, TABLES);
    // Assess
    expect(result).toEqual({ ok: true, chains: 2, events: 5, requests: 0, broken: [], unproven: [] });
    expect(sent.map((s) => `${s.name} ${s.input.TableName}`)).toEqual([
      'ScanCommand access',
      'ScanCommand access',
      'ScanCommand audit',
      'ScanCommand audit',
      'ScanCommand audit',
    ]);
    expect(sent.every((s) => s.input.ConsistentRead === true)).toBe(true);
    expect(sent[0]?.input).toMatchObject({
      FilterExpression: 'begins_with(#pk, :request)',
      ExpressionAttributeNames: { '#pk': 'pk' },
      ExpressionAttributeValues: { ':request': ACCESS_KEY_PREFIX.request },
    });
  });

  it('a chain that only looked broken during the Scan is read again and passes', async () => {
    // Prepare: the Scan saw the head before the third event was appended.
    const a = chain('a', 3);
    const { doc, sent } = fakeDoc({
      scans: { audit: [[headItem(a[1] as AuditEvent), ...a] as Item[]] },
      partitions: { a: [headItem(a[2] as AuditEvent), ...a] as Item[] },
    });
    // Act
    const result = await verifyAuditTables(doc, TABLES);
    // Assess
    expect(result).toEqual({ ok: true, chains: 1, events: 3, requests: 0, broken: [], unproven: [] });
    expect(sent.map((s) => s.name)).toEqual(['ScanCommand', 'ScanCommand', 'QueryCommand']);
  });

  it('a chain still broken on the second read is reported; a chain with no head is broken', async () => {
    const a = chain('a', 2);
    const forged = { ...a[1], reason: 'edited' } as Item;
    const b = chain('b', 1);
    const { doc } = fakeDoc({
      scans: { audit: [[headItem(a[1] as AuditEvent), a[0], forged, b[0]] as unknown as Item[]] },
      partitions: {
        a: [headItem(a[1] as AuditEvent), a[0], forged] as unknown as Item[],
        b: [b[0]] as unknown as Item[],
      },
    });
    const result = await verifyAuditTables(doc, TABLES);
    expect(result).toEqual({
      ok: false,
      chains: 2,
      events: 3,
      requests: 0,
      broken: [
        { chainId: 'a', seq: 2, reason: 'hash does not match the event' },
        { chainId: 'b', seq: 1, reason: 'the chain has no head item (seq 0)' },
      ],
      unproven: [],
    });
  });

  it('a request chain must open with request.created or breakglass.activated', async () => {
    // Prepare: a well-linked request chain whose first event is an activation.
    const chainId = requestChainId(ID.pending);
    const event = sealEvent({ chainId, at: at(0).toISOString(), type: 'grant.activated' }, undefined, 'E1');
    const items = [headItem(event), event] as unknown as Item[];
    const { doc } = fakeDoc({ scans: { audit: [items] }, partitions: { [chainId]: items } });
    // Act
    const result = await verifyAuditTables(doc, TABLES);
    // Assess
    expect(result.broken).toEqual([
      {
        chainId,
        seq: 1,
        reason:
          'a request chain must open with request.created or breakglass.activated, this one opens with grant.activated',
      },
    ]);
  });
});

describe('verifyAuditTables: every request record is proven by its chain', () => {
  /** Valid requests: pending, 1-of-1 approved, auto-approved, break-glass active, active and extended. */
  function validStories() {
    const pending = opened(ID.pending);
    const approved = opened(ID.approved).apply({ type: 'approve', actor: actor(U.alice) });
    const active = opened(ID.active)
      .apply({ type: 'approve', actor: actor(U.alice) })
      .apply({ type: 'start-provisioning' })
      .apply({ type: 'activate' })
      .apply({ type: 'extend', actor: actor(U.eve), additionalMs: 3_600_000, reason: 'still digging' })
      .apply({ type: 'approve', actor: actor(U.alice) });
    const auto = opened(ID.auto, SANDBOX);
    const breakGlass = opened(ID.breakGlass, PROD_ADMIN, true)
      .apply({ type: 'start-provisioning' })
      .apply({ type: 'activate' });
    expect([pending, approved, active, auto, breakGlass].map((s) => s.request.status)).toEqual([
      'PENDING',
      'APPROVED',
      'ACTIVE',
      'APPROVED',
      'ACTIVE',
    ]);
    expect(active.request.grant?.grantVersion).toBe(2);
    return { pending, approved, active, auto, breakGlass };
  }

  function tablesOf(stories: readonly Story[], records = stories.map((s) => s.record())): FakeTables {
    const partitions = Object.fromEntries(stories.map((s) => [s.chainId, s.chainItems()]));
    return {
      scans: {
        // A tuple lease the filter would have dropped server-side is ignored here too.
        access: [[...records, { pk: `${ACCESS_KEY_PREFIX.tuple}x`, sk: 'TUPLE', status: 'ACTIVE' }]],
        audit: [stories.flatMap((s) => s.chainItems())],
      },
      partitions,
      records: Object.fromEntries(records.map((record) => [String(record.pk), record])),
    };
  }

  it('valid records and chains pass, each request counted', async () => {
    const stories = Object.values(validStories());
    const { doc, sent } = fakeDoc(tablesOf(stories));
    const result = await verifyAuditTables(doc, TABLES);
    expect(result).toMatchObject({ ok: true, chains: 5, requests: 5, broken: [], unproven: [] });
    expect(sent.map((s) => s.name)).toEqual(['ScanCommand', 'ScanCommand']);
  });

  it('a record flipped to APPROVED, a grant pushed later, a record with no chain: each named', async () => {
    // Prepare
    const { pending, approved, active } = validStories();
    const grant = active.request.grant as NonNullable<AccessRequest['grant']>;
    const pushed = new Date(Date.parse(grant.expiresAt) + 8 * 3_600_000).toISOString();
    const orphan = {
      ...approved.record(),
      pk: requestKey('01JNQ0000000000000000000A9').pk,
      id: '01JNQ0000000000000000000A9',
    };
    const records = [
      pending.record({ status: 'APPROVED' }),
      active.record({ grant: { ...grant, expiresAt: pushed } }),
      approved.record(),
      orphan,
    ];
    const { doc, sent } = fakeDoc(tablesOf([pending, approved, active], records));
    // Act
    const result = await verifyAuditTables(doc, TABLES);
    // Assess
    expect(result).toMatchObject({ ok: false, chains: 3, requests: 4, broken: [] });
    expect(result.unproven).toEqual([
      {
        requestId: ID.pending,
        reasons: ['it is APPROVED but its chain proves 0 distinct approval(s) of 1 required'],
      },
      {
        requestId: ID.active,
        reasons: [
          `its grant ends at ${pushed} but the chain proves ${grant.expiresAt} (activation and approved extensions)`,
        ],
      },
      {
        requestId: '01JNQ0000000000000000000A9',
        reasons: ['it has no audit chain (request#01JNQ0000000000000000000A9 holds no event)'],
      },
    ]);
    // Each failing record was read again (GetItem, consistent) and then its chain, before it was reported.
    const rereads = sent.slice(2).map((s) => `${s.name} ${String((s.input.Key as Item)?.pk ?? '')}`);
    expect(rereads).toEqual([
      `GetCommand ${requestKey(ID.pending).pk}`,
      'QueryCommand ',
      `GetCommand ${requestKey(ID.active).pk}`,
      'QueryCommand ',
      `GetCommand ${requestKey('01JNQ0000000000000000000A9').pk}`,
      'QueryCommand ',
    ]);
    expect(sent.slice(2).every((s) => s.input.ConsistentRead === true)).toBe(true);
  });

  it('a record that only looked unproven during the Scan (its chain read stale) passes on the re-read', async () => {
    // Prepare: the audit Scan saw the chain before the approval committed with the record.
    const approved = opened(ID.approved).apply({ type: 'approve', actor: actor(U.alice) });
    const stale = approved.chainItems().slice(1, 2) as Item[];
    const staleHead = headItem(stale[0] as unknown as AuditEvent);
    const { doc } = fakeDoc({
      scans: { access: [[approved.record()]], audit: [[staleHead, ...stale]] },
      partitions: { [approved.chainId]: approved.chainItems() },
      records: { [requestKey(ID.approved).pk]: approved.record() },
    });
    // Act
    const result = await verifyAuditTables(doc, TABLES);
    // Assess
    expect(result).toMatchObject({ ok: true, chains: 1, requests: 1, unproven: [] });
  });

  it('a record gone on the re-read is not reported; a malformed one is', async () => {
    const { pending, active } = validStories();
    const records = [
      pending.record({ status: 'APPROVED' }),
      active.record({ grant: { ...(active.request.grant as Grant), expiresAt: 'never' } }),
    ];
    const tables = tablesOf([pending, active], records);
    const { doc } = fakeDoc({ ...tables, records: { [requestKey(ID.active).pk]: records[1] as Item } });
    const result = await verifyAuditTables(doc, TABLES);
    expect(result.unproven).toEqual([
      { requestId: ID.active, reasons: ['malformed record: grant.expiresAt: Invalid ISO datetime'] },
    ]);
  });

  it('--chain on a request chain checks that chain and that request (record read first)', async () => {
    const { pending } = validStories();
    const flipped = pending.record({ status: 'ACTIVE' });
    const { doc, sent } = fakeDoc({
      scans: {},
      partitions: { [pending.chainId]: pending.chainItems() },
      records: { [requestKey(ID.pending).pk]: flipped },
    });
    const result = await verifyAuditTables(doc, TABLES, pending.chainId);
    expect(sent.map((s) => s.name)).toEqual(['GetCommand', 'QueryCommand']);
    expect(result).toEqual({
      ok: false,
      chains: 1,
      events: 1,
      requests: 1,
      broken: [],
      unproven: [
        {
          requestId: ID.pending,
          reasons: [
            'it is ACTIVE but its chain proves 0 distinct approval(s) of 1 required',
            'it is ACTIVE without grant.activated',
          ],
        },
      ],
    });
    // A chain that is not a request's needs no access table.
    expect(needsAccessTable('system')).toBe(false);
    expect(needsAccessTable(pending.chainId)).toBe(true);
    expect(needsAccessTable()).toBe(true);
  });
});

describe('pam audit verify: the access table', () => {
  it('is needed (exit 2) unless --chain names a chain that is not a request’s', async () => {
    const env = {
      PAM_API_URL: 'https://abc123.execute-api.eu-west-1.amazonaws.com/prod',
      PAM_AUDIT_TABLE: 'audit',
    };
    const all = await runCli(['audit', 'verify'], { env });
    expect(all).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'pam: audit verify needs --access-table <access table name> or PAM_ACCESS_TABLE (to check the request records)\n',
    });
    const request = await runCli(['audit', 'verify', '--chain', requestChainId(ID.pending)], { env });
    expect(request.code).toBe(2);
    // `system` needs no access table: it goes on to DynamoDB (none in this harness: exit 2, named).
    const system = await runCli(['audit', 'verify', '--chain', 'system'], { env });
    expect(system.stderr).not.toContain('--access-table');
  });
});
