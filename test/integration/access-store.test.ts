// DynamoAccessStore against moto over HTTP: a request and its audit events commit in one
// transaction, optimistic concurrency on `version`, fail-closed audit writes, and paginated lists.
//
// Moto deviation worked around here: moto 5.2.1 rolls a failed TransactWriteItems back by restoring a
// copy of the tables taken when it started, so on moto's threaded server a failing transaction can
// erase another one's committed write (without the workaround, 20 concurrent appends kept only ~15
// events). DynamoDB never does. The suite's moto (scripts/moto-server.py, started by the global
// setup and scripts/moto.sh) therefore applies one request at a time; the saves below are still
// sent concurrently and still race between reading and their conditional writes.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { monotonicFactory } from 'ulid';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoAccessStore } from '#adapters/aws/dynamo-access-store.ts';
import { DynamoAuditLog } from '#adapters/aws/dynamo-audit-log.ts';
import { requestKey } from '#adapters/aws/tables.ts';
import { verifyChain } from '#domain/audit.ts';
import { type AuditDraft, requestChainId } from '#domain/audit-types.ts';
import { AuditWriteError, ConcurrentModificationError, ValidationError } from '#domain/errors.ts';
import type { AccessRequest } from '#domain/model.ts';
import type { IdGenerator } from '#ports/index.ts';
import { motoClient, testAccountId } from '../support/moto.ts';
import { createTables, testTableNames } from '../support/tables.ts';

const names = testTableNames('access-store');
const client = motoClient(DynamoDBClient, testAccountId());
const ulid = monotonicFactory();
const ids: IdGenerator = { next: () => ulid() };
const store = new DynamoAccessStore({ client, accessTable: names.access, auditTable: names.audit, ids });
const log = new DynamoAuditLog({ client, auditTable: names.audit, ids });

let clock = Date.UTC(2025, 2, 1, 9, 0, 0);
function tick(): string {
  clock += 1000;
  return new Date(clock).toISOString();
}

function newRequest(overrides: Partial<AccessRequest> = {}): AccessRequest {
  const at = tick();
  return {
    id: ulid(),
    requesterId: 'user-requester',
    requesterPersonKeys: ['user:user-requester', 'emp:1001'],
    entitlementId: 'prod-readonly',
    accountId: '111122223333',
    durationMs: 3_600_000,
    reason: 'investigate INC-4711',
    ticket: 'INC-4711',
    status: 'PENDING',
    approvals: [],
    snapshot: {
      entitlementTitle: 'Production read-only',
      kind: 'aws-role',
      permissionSetName: 'ProdReadOnly',
      eligibleGroups: ['engineers'],
      approverGroups: ['cloud-ops'],
      required: 1,
      autoApprove: false,
      maxDurationMs: 14_400_000,
      maxTotalDurationMs: 28_800_000,
      requireReason: true,
      ticketPattern: '^INC-\\d+$',
      breakGlassGroups: [],
      strictExpiry: false,
      privileged: false,
      configHash: 'c'.repeat(64),
    },
    version: 1,
    createdAt: at,
    updatedAt: at,
    ...overrides,
  };
}

function event(request: AccessRequest, type: AuditDraft['type'], actorId: string): AuditDraft {
  return {
    chainId: requestChainId(request.id),
    at: tick(),
    type,
    actorId,
    requestId: request.id,
    entitlementId: request.entitlementId,
    accountId: request.accountId,
  };
}

async function create(overrides: Partial<AccessRequest> = {}): Promise<AccessRequest> {
  const request = newRequest(overrides);
  await store.save({
    request,
    expectedVersion: null,
    events: [event(request, 'request.created', request.requesterId)],
  });
  return request;
}

function approve(request: AccessRequest, approverId: string): AccessRequest {
  const at = tick();
  return {
    ...request,
    status: 'APPROVED',
    approvals: [{ approverId, at, comment: `ok from ${approverId}`, personKeys: [`user:${approverId}`] }],
    version: request.version + 1,
    updatedAt: at,
  };
}

beforeAll(async () => {
  await createTables(client, names);
});

describe('save and get', () => {
  it('creates a request with its audit event and reads it back unchanged', async () => {
    // Prepare
    const request = newRequest({ startAt: '2025-03-02T08:00:00.000Z' });

    // Act
    const events = await store.save({
      request,
      expectedVersion: null,
      events: [event(request, 'request.created', request.requesterId)],
    });

    // Assess
    expect(await store.get(request.id)).toEqual(request);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ chainId: requestChainId(request.id), seq: 1, type: 'request.created' });
    expect(await log.readChain(requestChainId(request.id))).toEqual(events);
  });

  it('keeps the names recorded with each decision, and reads a record without names as it was', async () => {
    // Prepare: every place a name is recorded, and a record from before names were kept
    const request = await create({ requesterName: 'Eve Engineer' });
    const at = tick();
    const decided: AccessRequest = {
      ...approve(request, 'approver-1'),
      approvals: [
        { approverId: 'approver-1', approverName: 'Alice Approver', at, personKeys: ['user:approver-1'] },
      ],
      status: 'EXTENSION_PENDING',
      extension: {
        requestedBy: request.requesterId,
        at,
        additionalMs: 3_600_000,
        approvals: [{ approverId: 'approver-2', approverName: 'Bob Approver', at, personKeys: [] }],
      },
      breakGlass: {
        activatedBy: request.requesterId,
        reviewStatus: 'REVIEWED',
        review: { actorId: 'approver-2', actorName: 'Bob Approver', at, comment: 'justified' },
      },
      denial: { actorId: 'approver-1', actorName: 'Alice Approver', at },
      cancellation: { actorId: request.requesterId, actorName: 'Eve Engineer', at },
      revocation: { actorId: 'admin-1', actorName: 'Ada Admin', at, comment: 'left' },
    };
    const nameless = await create();

    // Act
    await store.save({
      request: decided,
      expectedVersion: 1,
      events: [event(request, 'request.approved', 'approver-1')],
    });

    // Assess
    expect(await store.get(request.id)).toEqual(decided);
    const old = await store.get(nameless.id);
    expect(old).toEqual(nameless);
    expect(old).not.toHaveProperty('requesterName');
    const { items } = await store.listByRequester(request.requesterId, { limit: 100 });
    expect(items.find((item) => item.id === request.id)).toEqual(decided);
  });

  it('returns undefined for an unknown request', async () => {
    expect(await store.get(ulid())).toBeUndefined();
  });

  it('refuses to create a request that already exists', async () => {
    const request = await create();
    await expect(store.save({ request, expectedVersion: null, events: [] })).rejects.toBeInstanceOf(
      ConcurrentModificationError,
    );
    expect(await log.readChain(requestChainId(request.id))).toHaveLength(1);
  });

  it('refuses a change whose version is not expectedVersion + 1, writing nothing', async () => {
    const request = await create();
    await expect(
      store.save({ request: { ...request, status: 'DENIED' }, expectedVersion: 1, events: [] }),
    ).rejects.toThrow(/version/);
    expect(await store.get(request.id)).toEqual(request);
  });

  it('chains several drafts on one chain in one transaction and writes other chains alongside', async () => {
    // Prepare
    const request = await create();
    const active = { ...approve(request, 'approver-1'), status: 'ACTIVE' as const };
    const systemHead = await log.head('system');

    // Act
    const events = await store.save({
      request: active,
      expectedVersion: 1,
      events: [
        event(request, 'request.approved', 'approver-1'),
        { chainId: 'system', at: tick(), type: 'system.rejected', details: { note: 'cross-chain' } },
        event(request, 'grant.activated', 'approver-1'),
      ],
    });

    // Assess
    expect(events.map((e) => [e.chainId, e.seq])).toEqual([
      [requestChainId(request.id), 2],
      ['system', (systemHead?.seq ?? 0) + 1],
      [requestChainId(request.id), 3],
    ]);
    const chain = await log.readChain(requestChainId(request.id));
    expect(chain.map((e) => e.type)).toEqual(['request.created', 'request.approved', 'grant.activated']);
    expect(verifyChain(chain)).toEqual({ ok: true, length: 3 });
    expect(verifyChain(await log.readChain('system'))).toMatchObject({ ok: true });
    expect(await store.get(request.id)).toEqual(active);
  });
});

describe('optimistic concurrency', () => {
  it('lets exactly one of two decisions from the same read win; the other changes nothing', async () => {
    // Prepare: two approvers read version 1 and decide at the same moment.
    const request = await create();
    const read = (await store.get(request.id)) as AccessRequest;
    const byAlice = approve(read, 'alice');
    const byBob = { ...approve(read, 'bob'), status: 'DENIED' as const };

    // Act
    const results = await Promise.allSettled([
      store.save({
        request: byAlice,
        expectedVersion: 1,
        events: [event(read, 'request.approved', 'alice')],
      }),
      store.save({ request: byBob, expectedVersion: 1, events: [event(read, 'request.denied', 'bob')] }),
    ]);

    // Assess
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    const failure = (lost[0] as PromiseRejectedResult).reason as ConcurrentModificationError;
    expect(failure).toBeInstanceOf(ConcurrentModificationError);
    expect(failure.message).toBe('the request was changed by another decision; reload and retry');
    const winner = results[0]?.status === 'fulfilled' ? byAlice : byBob;
    const winnerActor = winner === byAlice ? 'alice' : 'bob';
    expect(await store.get(request.id)).toEqual(winner);
    const chain = await log.readChain(requestChainId(request.id));
    expect(chain.map((e) => [e.seq, e.actorId])).toEqual([
      [1, request.requesterId],
      [2, winnerActor],
    ]);
    expect(verifyChain(chain)).toEqual({ ok: true, length: 2 });
  });

  it('refuses a change based on a version that is no longer current', async () => {
    const request = await create();
    await store.save({ request: approve(request, 'alice'), expectedVersion: 1, events: [] });
    await expect(
      store.save({
        request: approve(request, 'bob'),
        expectedVersion: 1,
        events: [event(request, 'request.approved', 'bob')],
      }),
    ).rejects.toBeInstanceOf(ConcurrentModificationError);
    expect(await log.readChain(requestChainId(request.id))).toHaveLength(1);
  });
});

describe('fail closed', () => {
  it('throws AuditWriteError and leaves the request as it was when the audit append keeps conflicting', async () => {
    // Prepare: an item at (chain, seq 2) written behind the store's back, ahead of the head (seq 1),
    // so every append to this chain conflicts however often the head is re-read.
    const request = await create();
    const chainId = requestChainId(request.id);
    const doc = DynamoDBDocumentClient.from(client);
    await doc.send(new PutCommand({ TableName: names.audit, Item: { chainId, seq: 2, eventId: 'PLANTED' } }));
    const impatient = new DynamoAccessStore({
      client,
      accessTable: names.access,
      auditTable: names.audit,
      ids,
      maxAuditRetries: 2,
    });

    // Act
    const error = await impatient
      .save({
        request: approve(request, 'alice'),
        expectedVersion: 1,
        events: [event(request, 'request.approved', 'alice')],
      })
      .catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(AuditWriteError);
    expect((error as Error).message).not.toMatch(/Conditional|Transaction|DynamoDB/);
    const stored = (await store.get(request.id)) as AccessRequest;
    expect(stored).toEqual(request);
    expect([stored.version, stored.status, stored.approvals]).toEqual([1, 'PENDING', []]);
    expect((await log.readChain(chainId)).map((e) => e.eventId)).toEqual([expect.any(String), 'PLANTED']);
    expect(await log.head(chainId)).toMatchObject({ seq: 1 });
  });

  it('throws AuditWriteError, not the SDK error, when the audit table cannot be written at all', async () => {
    const broken = new DynamoAccessStore({
      client,
      accessTable: names.access,
      auditTable: 'no-such-table',
      ids,
    });
    const request = newRequest();
    const error = await broken
      .save({ request, expectedVersion: null, events: [event(request, 'request.created', 'user-requester')] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuditWriteError);
    expect((error as AuditWriteError).cause).toBeDefined();
    expect(await store.get(request.id)).toBeUndefined();
  });
});

describe('lists', () => {
  const requesterId = `user-${ulid()}`;
  let made: AccessRequest[] = [];

  beforeAll(async () => {
    made = [];
    for (let i = 0; i < 5; i++) made.push(await create({ requesterId, status: 'PENDING' }));
    // Another user's request and one in another status must not show up.
    await create({ requesterId: `user-${ulid()}` });
    await create({ requesterId, status: 'EXPIRED' });
  });

  it('lists a requester’s requests newest first, page by page', async () => {
    // Act
    const first = await store.listByRequester(requesterId, { limit: 2 });
    const second = await store.listByRequester(requesterId, { limit: 2, nextToken: first.nextToken });
    const third = await store.listByRequester(requesterId, { limit: 2, nextToken: second.nextToken });

    // Assess
    const all = [...first.items, ...second.items, ...third.items];
    expect(all.map((r) => r.createdAt)).toEqual([...all.map((r) => r.createdAt)].sort().reverse());
    expect(all).toHaveLength(6);
    expect(first.items[1]).toEqual(made[4]);
    expect(second.nextToken).toBeDefined();
    expect(third.nextToken).toBeUndefined();
    expect(first.nextToken).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it('gives no nextToken when the last page is exactly full', async () => {
    const page = await store.listByRequester(requesterId, { limit: 6 });
    expect(page.items).toHaveLength(6);
    expect(page.nextToken).toBeUndefined();
  });

  it('lists requests in one status oldest first', async () => {
    const items: AccessRequest[] = [];
    let nextToken: string | undefined;
    do {
      const page = await store.listByStatus('PENDING', { limit: 3, nextToken });
      expect(page.items.length).toBeLessThanOrEqual(3);
      items.push(...page.items);
      nextToken = page.nextToken;
    } while (nextToken);
    expect(items.every((r) => r.status === 'PENDING')).toBe(true);
    expect(items.map((r) => r.createdAt)).toEqual([...items.map((r) => r.createdAt)].sort());
    const mine = items.filter((r) => r.requesterId === requesterId);
    expect(mine).toEqual(made);
  });

  it('uses 25 as the default page size', async () => {
    for (let i = 0; i < 21; i++) await create({ requesterId, status: 'PENDING' });
    const page = await store.listByRequester(requesterId, {});
    expect(page.items).toHaveLength(25);
    expect(page.nextToken).toBeDefined();
  });

  const forged = (key: unknown) => Buffer.from(JSON.stringify(key)).toString('base64url');
  it.each([
    ['not base64url', '%%%'],
    ['not JSON', Buffer.from('{nope').toString('base64url')],
    ['an array', forged([requestKey('1').pk])],
    ['a key with a missing attribute', forged({ ...requestKey('1'), requesterId: 'x' })],
    [
      'a key with an extra attribute',
      forged({ ...requestKey('1'), requesterId: 'x', createdAt: 'y', status: 'PENDING' }),
    ],
    ['a key with a non-string value', forged({ ...requestKey('1'), requesterId: 'x', createdAt: 1 })],
    ['a key of another item type', forged({ pk: 'HEAD#1', sk: 'X', requesterId: 'x', createdAt: 'y' })],
    ['another requester’s key', forged({ ...requestKey('1'), requesterId: 'someone-else', createdAt: 'y' })],
    ['an over-long token', 'A'.repeat(5000)],
  ])('refuses a nextToken that is %s with a ValidationError', async (_name, nextToken) => {
    await expect(store.listByRequester(requesterId, { nextToken })).rejects.toBeInstanceOf(ValidationError);
  });

  it('refuses a token from the status list on the requester list', async () => {
    const page = await store.listByStatus('PENDING', { limit: 1 });
    await expect(store.listByRequester(requesterId, { nextToken: page.nextToken })).rejects.toBeInstanceOf(
      ValidationError,
    );
  });

  it.each([0, -1, 101, 2.5])('refuses the page size %s', async (limit) => {
    await expect(store.listByRequester(requesterId, { limit })).rejects.toThrow(/limit/);
  });
});
