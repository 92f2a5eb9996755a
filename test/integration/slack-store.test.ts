// DynamoSlackStore against moto over HTTP, in the access table: approval-message refs written forward
// only (a late render of an older version never replaces a newer one, even when they race), links
// replaced by a later link, link codes kept by their hash only, used once (two racing consumers: one
// wins) and refused from their expiry on. The items stay out of the table's indexes, and out of
// react-to-change: its stream filter (requests only) drops every one of their stream records.
import { DescribeTableCommand, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoSlackStore, slackCodeKey } from '#adapters/aws/dynamo-slack-store.ts';
import { requestFromImage } from '#adapters/aws/stream-images.ts';
import { ACCESS_KEY_PREFIX, ACCESS_TABLE } from '#adapters/aws/tables.ts';
import { linkCodeHash } from '#app/slack/link.ts';
import type { SlackMessageRef } from '#ports/slack.ts';
import { compilePattern } from '../../local/event-pattern.ts';
import { motoClient, testAccountId } from '../support/moto.ts';
import { createTables, testTableNames } from '../support/tables.ts';

const accountId = testAccountId();
const names = testTableNames('slack-store');
const client = motoClient(DynamoDBClient, accountId);
const store = new DynamoSlackStore({ client, accessTable: names.access });

beforeAll(async () => {
  await createTables(client, names);
});

let requestCounter = 0;
function newRequestId(): string {
  requestCounter += 1;
  return `01JSLACK0000000000000000${String(requestCounter).padStart(2, '0')}`;
}

function ref(
  requestId: string,
  renderedVersion: number,
  extra: Partial<SlackMessageRef> = {},
): SlackMessageRef {
  return {
    requestId,
    channel: 'C0APPROVALS',
    ts: `1700000000.00000${renderedVersion}`,
    renderedVersion,
    ...extra,
  };
}

async function rawItems(): Promise<Record<string, unknown>[]> {
  const { Items } = await client.send(new ScanCommand({ TableName: names.access, ConsistentRead: true }));
  return (Items ?? []).map((item) => unmarshall(item));
}

describe('approval message refs', () => {
  it('writes a newer render over an older one and never an older over a newer', async () => {
    // Prepare
    const requestId = newRequestId();

    // Act
    const first = await store.putMessage(ref(requestId, 2));
    const stale = await store.putMessage(ref(requestId, 1));
    const same = await store.putMessage(ref(requestId, 2, { ts: '1700000000.999999' }));
    const newer = await store.putMessage(
      ref(requestId, 3, { requesterSlackId: 'U0ALICE', notifiedVersion: 3 }),
    );

    // Assess
    expect([first, stale, same, newer]).toEqual([true, false, false, true]);
    expect(await store.getMessage(requestId)).toEqual(
      ref(requestId, 3, { requesterSlackId: 'U0ALICE', notifiedVersion: 3 }),
    );
  });

  it('keeps the newest of racing renders', async () => {
    // Prepare
    const requestId = newRequestId();
    const versions = [4, 1, 5, 3, 2];

    // Act
    await Promise.all(versions.map((version) => store.putMessage(ref(requestId, version))));

    // Assess
    expect((await store.getMessage(requestId))?.renderedVersion).toBe(5);
  });

  it('answers undefined for a request without a message', async () => {
    expect(await store.getMessage(newRequestId())).toBeUndefined();
  });
});

describe('links', () => {
  it('stores a link by Slack team and user, and a later link replaces it', async () => {
    // Act
    await store.putLink({
      teamId: 'T0EXAMPLE01',
      slackUserId: 'U0LINKED',
      userId: 'u-erin',
      linkedAt: '2026-03-02T09:00:00.000Z',
    });
    await store.putLink({
      teamId: 'T0EXAMPLE01',
      slackUserId: 'U0LINKED',
      userId: 'u-alice',
      linkedAt: '2026-03-02T09:05:00.000Z',
    });

    // Assess
    expect(await store.getLink('T0EXAMPLE01', 'U0LINKED')).toEqual({
      teamId: 'T0EXAMPLE01',
      slackUserId: 'U0LINKED',
      userId: 'u-alice',
      linkedAt: '2026-03-02T09:05:00.000Z',
    });
    expect(await store.getLink('T0OTHERTEAM', 'U0LINKED')).toBeUndefined();
    expect(await store.getLink('T0EXAMPLE01', 'U0NOBODY')).toBeUndefined();
  });
});

describe('link codes', () => {
  const issuedAt = new Date('2026-03-02T09:00:00.000Z');
  const expiresAt = new Date(issuedAt.getTime() + 600_000);

  it('keeps only the hash of a code and gives it up once', async () => {
    // Prepare
    const code = 'ABCD-EFGH-JKMN';
    await store.createLinkCode({
      codeHash: linkCodeHash(code),
      userId: 'u-alice',
      expiresAt: expiresAt.toISOString(),
    });

    // Act
    const first = await store.consumeLinkCode(linkCodeHash(code), issuedAt);
    const second = await store.consumeLinkCode(linkCodeHash(code), issuedAt);

    // Assess
    expect(first).toEqual({ userId: 'u-alice' });
    expect(second).toBeUndefined();
    expect(JSON.stringify(await rawItems())).not.toContain(code);
  });

  it('lets exactly one of racing consumers have a code', async () => {
    const codeHash = linkCodeHash('RACE-RACE-RACE');
    await store.createLinkCode({ codeHash, userId: 'u-erin', expiresAt: expiresAt.toISOString() });

    const answers = await Promise.all(
      Array.from({ length: 6 }, () => store.consumeLinkCode(codeHash, issuedAt)),
    );

    expect(answers.filter((answer) => answer !== undefined)).toEqual([{ userId: 'u-erin' }]);
  });

  it('gives a code up until its expiry and refuses it from then on', async () => {
    // Prepare
    const inTime = linkCodeHash('0000-0000-0001');
    const expired = linkCodeHash('0000-0000-0002');
    for (const codeHash of [inTime, expired]) {
      await store.createLinkCode({ codeHash, userId: 'u-alice', expiresAt: expiresAt.toISOString() });
    }

    // Act
    const beforeExpiry = await store.consumeLinkCode(inTime, new Date(expiresAt.getTime() - 1));
    const atExpiry = await store.consumeLinkCode(expired, expiresAt);
    const later = await store.consumeLinkCode(expired, new Date(expiresAt.getTime() + 3_600_000));

    // Assess
    expect(beforeExpiry).toEqual({ userId: 'u-alice' });
    expect(atExpiry).toBeUndefined();
    expect(later).toBeUndefined();
  });

  it('refuses an unknown code and anything that is not a hash', async () => {
    expect(await store.consumeLinkCode(linkCodeHash('NONE-NONE-NONE'), issuedAt)).toBeUndefined();
    expect(await store.consumeLinkCode('ABCD-EFGH-JKMN', issuedAt)).toBeUndefined();
  });

  it('never overwrites a stored code', async () => {
    const codeHash = linkCodeHash('ONCE-ONCE-ONCE');
    await store.createLinkCode({ codeHash, userId: 'u-alice', expiresAt: expiresAt.toISOString() });

    await expect(
      store.createLinkCode({ codeHash, userId: 'u-mallory', expiresAt: expiresAt.toISOString() }),
    ).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });

    expect(await store.consumeLinkCode(codeHash, issuedAt)).toEqual({ userId: 'u-alice' });
  });
});

describe('the Slack items in the access table', () => {
  it('use their own key prefixes and none of the attributes the indexes are keyed by', async () => {
    // Prepare
    await store.putMessage(ref(newRequestId(), 1));
    await store.putLink({
      teamId: 'T0EXAMPLE01',
      slackUserId: 'U0KEYS',
      userId: 'u-a',
      linkedAt: '2026-03-02T09:00:00.000Z',
    });
    await store.createLinkCode({
      codeHash: linkCodeHash('KEYS-KEYS-KEYS'),
      userId: 'u-a',
      expiresAt: '2030-01-01T00:00:00.000Z',
    });

    // Act
    const items = await rawItems();

    // Assess
    const prefixes = [
      ACCESS_KEY_PREFIX.slackMessage,
      ACCESS_KEY_PREFIX.slackLink,
      ACCESS_KEY_PREFIX.slackCode,
    ];
    expect(items.length).toBeGreaterThan(0);
    for (const item of items) {
      expect(prefixes.some((prefix) => String(item.pk).startsWith(prefix))).toBe(true);
      for (const indexKey of [
        ACCESS_TABLE.byRequester.partitionKey,
        ACCESS_TABLE.byStatus.partitionKey,
        ACCESS_TABLE.byRequester.sortKey,
      ]) {
        expect(item).not.toHaveProperty(indexKey);
      }
    }
    expect(items).toContainEqual(
      expect.objectContaining({ ...slackCodeKey(linkCodeHash('KEYS-KEYS-KEYS')), userId: 'u-a' }),
    );
  });

  it('never reach react-to-change: its stream filter drops every record of theirs', async () => {
    // Prepare: every write above (puts, replacements, deletes) is on the table's stream.
    const streams = motoClient(DynamoDBStreamsClient, accountId);
    const { Table } = await client.send(new DescribeTableCommand({ TableName: names.access }));
    const streamArn = Table?.LatestStreamArn as string;
    const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
    const records: StreamRecord[] = [];
    for (const shard of StreamDescription?.Shards ?? []) {
      const { ShardIterator } = await streams.send(
        new GetShardIteratorCommand({
          StreamArn: streamArn,
          ShardId: shard.ShardId as string,
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      );
      const { Records } = await streams.send(new GetRecordsCommand({ ShardIterator, Limit: 1000 }));
      records.push(...(Records ?? []));
    }
    // The filter of react-to-change's event source mapping (infra/constructs/grant-engine.ts), as
    // the local runtime applies it.
    const requestsOnly = compilePattern({
      dynamodb: { Keys: { [ACCESS_TABLE.partitionKey]: { S: [{ prefix: ACCESS_KEY_PREFIX.request }] } } },
    });

    // Act
    const passing = records.filter((record) => requestsOnly(JSON.parse(JSON.stringify(record))));

    // Assess
    expect(records.map((record) => record.eventName)).toEqual(
      expect.arrayContaining(['INSERT', 'MODIFY', 'REMOVE']),
    );
    expect(passing).toEqual([]);
    for (const record of records) {
      expect(
        requestFromImage(record.dynamodb?.NewImage as Record<string, unknown> | undefined),
      ).toBeUndefined();
    }
    streams.destroy();
  });
});
