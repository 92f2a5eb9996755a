// verifyAuditTable's reading: every Scan page is followed, and a chain that fails on the Scan (a
// write raced it) is read again on its own before it is reported.
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { headOf, sealEvent } from '#domain/audit.ts';
import type { AuditEvent } from '#domain/audit-types.ts';
import { verifyAuditTable } from '../../../cli/audit-verify.ts';

type Item = Record<string, unknown>;

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

/** A document client answering Scan from `scanPages` in order and Query from `partitions`. */
function fakeDoc(scanPages: Item[][], partitions: Record<string, Item[]>) {
  const sent: { name: string; input: Record<string, unknown> }[] = [];
  const doc = {
    send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      sent.push({ name: command.constructor.name, input: command.input });
      if (command.constructor.name === 'ScanCommand') {
        const index = command.input.ExclusiveStartKey
          ? Number((command.input.ExclusiveStartKey as Item).page)
          : 0;
        const last = index === scanPages.length - 1;
        return { Items: scanPages[index], ...(last ? {} : { LastEvaluatedKey: { page: index + 1 } }) };
      }
      const values = command.input.ExpressionAttributeValues as Item;
      return { Items: partitions[String(values[':chainId'])] ?? [] };
    },
  } as unknown as DynamoDBDocumentClient;
  return { doc, sent };
}

describe('verifyAuditTable', () => {
  it('follows every Scan page, with consistent reads', async () => {
    // Prepare: two chains spread over three pages.
    const a = chain('a', 3);
    const b = chain('b', 2);
    const pages = [
      [headItem(a[2] as AuditEvent), a[0], a[1]],
      [a[2], headItem(b[1] as AuditEvent)],
      [b[0], b[1]],
    ] as Item[][];
    const { doc, sent } = fakeDoc(pages, {});
    // Act
    const result = await verifyAuditTable(doc, 'audit');
    // Assess
    expect(result).toEqual({ ok: true, chains: 2, events: 5, broken: [] });
    expect(sent.map((s) => s.name)).toEqual(['ScanCommand', 'ScanCommand', 'ScanCommand']);
    expect(sent.every((s) => s.input.ConsistentRead === true && s.input.TableName === 'audit')).toBe(true);
  });

  it('a chain that only looked broken during the Scan is read again and passes', async () => {
    // Prepare: the Scan saw the head before the third event was appended.
    const a = chain('a', 3);
    const { doc, sent } = fakeDoc([[headItem(a[1] as AuditEvent), ...a] as Item[]], {
      a: [headItem(a[2] as AuditEvent), ...a] as Item[],
    });
    // Act
    const result = await verifyAuditTable(doc, 'audit');
    // Assess
    expect(result).toEqual({ ok: true, chains: 1, events: 3, broken: [] });
    expect(sent.map((s) => s.name)).toEqual(['ScanCommand', 'QueryCommand']);
  });

  it('a chain still broken on the second read is reported; a chain with no head is broken', async () => {
    const a = chain('a', 2);
    const forged = { ...a[1], reason: 'edited' } as Item;
    const b = chain('b', 1);
    const { doc } = fakeDoc([[headItem(a[1] as AuditEvent), a[0], forged, b[0]] as unknown as Item[]], {
      a: [headItem(a[1] as AuditEvent), a[0], forged] as unknown as Item[],
      b: [b[0]] as unknown as Item[],
    });
    const result = await verifyAuditTable(doc, 'audit');
    expect(result).toEqual({
      ok: false,
      chains: 2,
      events: 3,
      broken: [
        { chainId: 'a', seq: 2, reason: 'hash does not match the event' },
        { chainId: 'b', seq: 1, reason: 'the chain has no head item (seq 0)' },
      ],
    });
  });
});
