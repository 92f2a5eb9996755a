// DynamoAuditLog against moto over HTTP: appends, chain reads, heads through the chainHeads GSI, and
// concurrent appends that must end as one linear chain.
//
// Moto deviation worked around here: moto 5.2.1 rolls a failed TransactWriteItems back by restoring a
// copy of the tables taken when it started, so on moto's threaded server a failing transaction can
// erase another one's committed write (without the workaround, 20 concurrent appends kept only ~15
// events). DynamoDB never does. The suite's moto (scripts/moto-server.py, started by the global
// setup and scripts/moto.sh) therefore applies one request at a time; the appends below are still
// sent concurrently and still race between reading and their conditional writes.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { monotonicFactory } from 'ulid';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoAuditLog } from '#adapters/aws/dynamo-audit-log.ts';
import { verifyChain } from '#domain/audit.ts';
import { type AuditDraft, GENESIS_HASH, requestChainId } from '#domain/audit-types.ts';
import { AuditWriteError } from '#domain/errors.ts';
import type { IdGenerator } from '#ports/index.ts';
import { motoClient, testAccountId } from '../support/moto.ts';
import { createTables, testTableNames } from '../support/tables.ts';

const names = testTableNames('audit-log');
const client = motoClient(DynamoDBClient, testAccountId());
const ulid = monotonicFactory();
const ids: IdGenerator = { next: () => ulid() };
const log = new DynamoAuditLog({ client, auditTable: names.audit, ids });

function draft(chainId: string, overrides: Partial<AuditDraft> = {}): AuditDraft {
  return {
    chainId,
    at: new Date().toISOString(),
    type: 'drift.detected',
    accountId: '111122223333',
    details: { note: 'integration' },
    ...overrides,
  };
}

beforeAll(async () => {
  await createTables(client, names);
  // Creating twice is harmless (the local runtime and several files may both do it).
  await createTables(client, names);
});

describe('DynamoAuditLog', () => {
  it('starts a chain at seq 1 from the genesis hash and reads it back exactly', async () => {
    // Prepare
    const chainId = requestChainId(ulid());

    // Act
    const first = await log.append(draft(chainId, { type: 'request.created', reason: 'needs logs' }));
    const second = await log.append(draft(chainId, { type: 'request.approved', actorId: 'approver-1' }));
    const chain = await log.readChain(chainId);

    // Assess
    expect(first).toMatchObject({ seq: 1, prevHash: GENESIS_HASH, reason: 'needs logs', sessionId: null });
    expect(second).toMatchObject({ seq: 2, prevHash: first.hash });
    expect(chain).toEqual([first, second]);
    expect(verifyChain(chain)).toEqual({ ok: true, length: 2 });
    expect(await log.head(chainId)).toEqual({ chainId, seq: 2, hash: second.hash });
  });

  it('round-trips details of every JSON shape without changing the hash', async () => {
    const chainId = `vault-${ulid()}`;
    const event = await log.append(
      draft(chainId, {
        details: {
          empty: {},
          list: [1, 'two', null, true, { x: 0.1 }],
          nested: { deep: { n: -12.5 } },
          blank: '',
        },
      }),
    );
    const [stored] = await log.readChain(chainId);
    expect(stored).toEqual(event);
    expect(verifyChain([stored as typeof event])).toEqual({ ok: true, length: 1 });
  });

  it('has no head and no events for a chain never written', async () => {
    expect(await log.head('never-written')).toBeUndefined();
    expect(await log.readChain('never-written')).toEqual([]);
  });

  it('turns 20 concurrent appends to one chain into one linear chain, seq 1..20, without fork or gap', async () => {
    // Prepare
    const chainId = `sessions-${ulid()}`;

    // Act
    const appended = await Promise.all(
      Array.from({ length: 20 }, (_, i) => log.append(draft(chainId, { sessionId: `s-${i}` }))),
    );
    const chain = await log.readChain(chainId);

    // Assess
    expect(chain.map((event) => event.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(verifyChain(chain)).toEqual({ ok: true, length: 20 });
    expect(new Set(chain.map((event) => event.sessionId)).size).toBe(20);
    expect([...appended].sort((a, b) => a.seq - b.seq)).toEqual(chain);
    expect(await log.head(chainId)).toEqual({ chainId, seq: 20, hash: chain[19]?.hash });
  });

  it('fails closed with AuditWriteError when a stray item occupies the next seq, adding nothing', async () => {
    // Prepare: an item at seq 2 written behind the log's back, ahead of the head (seq 1).
    const chainId = `drift-${ulid()}`;
    const first = await log.append(draft(chainId));
    const doc = DynamoDBDocumentClient.from(client);
    await doc.send(new PutCommand({ TableName: names.audit, Item: { chainId, seq: 2, eventId: 'PLANTED' } }));
    const impatient = new DynamoAuditLog({ client, auditTable: names.audit, ids, maxAuditRetries: 2 });

    // Act
    const error = await impatient.append(draft(chainId)).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(AuditWriteError);
    expect((error as AuditWriteError).message).not.toMatch(/Conditional|Transaction|DynamoDB/);
    expect((error as AuditWriteError).cause).toBeDefined();
    expect(await log.head(chainId)).toEqual({ chainId, seq: 1, hash: first.hash });
    const chain = await log.readChain(chainId);
    expect(chain.map((event) => event.eventId)).toEqual([first.eventId, 'PLANTED']);
  });

  it('lists the head of every chain through the chainHeads index, and no events', async () => {
    // Prepare
    const chains = ['system', 'vault', `request#${ulid()}`].map((name) => `${name}-heads-${ulid()}`);
    for (const chainId of chains) await log.append(draft(chainId));
    const last = await log.append(draft(chains[0] as string));

    // Act
    const heads = await log.listHeads();

    // Assess
    const mine = heads.filter((head) => chains.includes(head.chainId));
    expect(mine).toHaveLength(3);
    expect(mine.find((head) => head.chainId === chains[0])).toEqual({
      chainId: chains[0],
      seq: 2,
      hash: last.hash,
    });
    for (const head of heads) expect(await log.head(head.chainId)).toEqual(head);
    const chainIds = heads.map((head) => head.chainId);
    expect(chainIds).toEqual([...chainIds].sort());
  });
});
