// The SlackStore port in the access table, one item per thing kept, each kind under its own key
// prefix (tables.ts) so IAM can scope each function to the kinds it writes (`dynamodb:LeadingKeys`):
// - `SLACKMSG#<requestId>` / `MESSAGE`: a request's approval message (channel, ts, the version it
//   shows). Written forward only: a render of an older version never replaces a newer one.
// - `SLACKLINK#<teamId>#<slackUserId>` / `LINK`: a strict-mode binding; a later link replaces it.
// - `SLACKCODE#<sha256 of the code>` / `CODE`: a one-time link code, by its hash only (a leaked table
//   item cannot be typed into Slack). Consumed by one conditional delete, so two consumers of the same
//   code cannot both win, and an expired one is refused at consumption (the access table has no TTL:
//   unconsumed codes stay, inert, a hundred bytes each).
// None carries `requesterId`, `status` or `createdAt`, so none enters the table's indexes; and the
// stream consumer (react-to-change) is filtered to `REQ#` keys, so none reaches it.
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { formatIssues } from '#domain/text.ts';
import * as z from '#domain/zod.ts';
import type { SlackLink, SlackMessageRef, SlackStore } from '#ports/slack.ts';
import { documentClient } from './audit-chain-writes.ts';
import { ACCESS_KEY_PREFIX, ACCESS_TABLE } from './tables.ts';

export interface DynamoSlackStoreOptions {
  readonly client: DynamoDBClient;
  readonly accessTable: string;
}

/** Sort key values, one per kind of Slack item. */
const SORT_KEY = { message: 'MESSAGE', link: 'LINK', code: 'CODE' } as const;

const nonEmpty = z.string().check(z.minLength(1));
const version = z.int().check(z.positive());

const MessageItem = z.object({
  requestId: nonEmpty,
  channel: nonEmpty,
  ts: nonEmpty,
  renderedVersion: version,
  requesterSlackId: z.optional(nonEmpty),
  notifiedVersion: z.optional(z.int().check(z.nonnegative())),
});
const LinkItem = z.object({ teamId: nonEmpty, slackUserId: nonEmpty, userId: nonEmpty, linkedAt: nonEmpty });
const CodeItem = z.object({ userId: nonEmpty, expiresAt: nonEmpty });

/** A stored Slack item that is not what this adapter writes. Never shown to a Slack user. */
export class SlackItemError extends Error {
  constructor(kind: string, error: z.core.$ZodError) {
    super(`unexpected ${kind} item in the access table: ${formatIssues(error.issues, '')}`);
    this.name = 'SlackItemError';
  }
}

function parse<T extends z.core.$ZodType>(schema: T, kind: string, item: unknown): z.output<T> {
  const result = z.safeParse(schema, item);
  if (!result.success) throw new SlackItemError(kind, result.error);
  return result.data;
}

export function slackMessageKey(requestId: string) {
  return {
    [ACCESS_TABLE.partitionKey]: `${ACCESS_KEY_PREFIX.slackMessage}${requestId}`,
    [ACCESS_TABLE.sortKey]: SORT_KEY.message,
  };
}

/** `#` separates the parts: Slack team and user ids are `[A-Z0-9]`, so the key is unambiguous. */
export function slackLinkKey(teamId: string, slackUserId: string) {
  return {
    [ACCESS_TABLE.partitionKey]: `${ACCESS_KEY_PREFIX.slackLink}${teamId}#${slackUserId}`,
    [ACCESS_TABLE.sortKey]: SORT_KEY.link,
  };
}

export function slackCodeKey(codeHash: string) {
  return {
    [ACCESS_TABLE.partitionKey]: `${ACCESS_KEY_PREFIX.slackCode}${codeHash}`,
    [ACCESS_TABLE.sortKey]: SORT_KEY.code,
  };
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** ISO-8601 UTC with milliseconds, so stored and compared times order as strings. */
function isoInstant(value: string | Date, field: string): string {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new RangeError(`${field}: expected an ISO-8601 time`);
  return date.toISOString();
}

export class DynamoSlackStore implements SlackStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;

  constructor(options: DynamoSlackStoreOptions) {
    this.doc = documentClient(options.client);
    this.table = options.accessTable;
  }

  async getMessage(requestId: string): Promise<SlackMessageRef | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: slackMessageKey(requestId), ConsistentRead: true }),
    );
    if (!Item) return undefined;
    const { pk: _pk, sk: _sk, ...fields } = Item;
    return parse(MessageItem, 'Slack message', fields);
  }

  async putMessage(ref: SlackMessageRef): Promise<boolean> {
    const item = parse(MessageItem, 'Slack message', ref);
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...item, ...slackMessageKey(ref.requestId) },
          ConditionExpression: 'attribute_not_exists(#pk) OR #version < :version',
          ExpressionAttributeNames: { '#pk': ACCESS_TABLE.partitionKey, '#version': 'renderedVersion' },
          ExpressionAttributeValues: { ':version': item.renderedVersion },
        }),
      );
      return true;
    } catch (error) {
      // A render of the same or a newer version was recorded first: it stands.
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async getLink(teamId: string, slackUserId: string): Promise<SlackLink | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: slackLinkKey(teamId, slackUserId), ConsistentRead: true }),
    );
    if (!Item) return undefined;
    const link = parse(LinkItem, 'Slack link', Item);
    // The key is what was looked up; fields that disagree with it are not a link of this user.
    if (link.teamId !== teamId || link.slackUserId !== slackUserId) {
      throw new Error('a Slack link item disagrees with its key');
    }
    return {
      teamId: link.teamId,
      slackUserId: link.slackUserId,
      userId: link.userId,
      linkedAt: link.linkedAt,
    };
  }

  async putLink(link: SlackLink): Promise<void> {
    const item = parse(LinkItem, 'Slack link', link);
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          ...slackLinkKey(item.teamId, item.slackUserId),
          teamId: item.teamId,
          slackUserId: item.slackUserId,
          userId: item.userId,
          linkedAt: isoInstant(item.linkedAt, 'linkedAt'),
        },
      }),
    );
  }

  async createLinkCode(code: {
    readonly codeHash: string;
    readonly userId: string;
    readonly expiresAt: string;
  }): Promise<void> {
    if (!SHA256_HEX.test(code.codeHash)) throw new RangeError('codeHash: expected a SHA-256 in hex');
    if (!code.userId) throw new RangeError('userId: expected an Identity Store user id');
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          ...slackCodeKey(code.codeHash),
          userId: code.userId,
          expiresAt: isoInstant(code.expiresAt, 'expiresAt'),
        },
        // A code is issued once: never overwrite one (a collision of 60 random bits is a bug).
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': ACCESS_TABLE.partitionKey },
      }),
    );
  }

  async consumeLinkCode(codeHash: string, now: Date): Promise<{ readonly userId: string } | undefined> {
    if (!SHA256_HEX.test(codeHash)) return undefined;
    try {
      const { Attributes } = await this.doc.send(
        new DeleteCommand({
          TableName: this.table,
          Key: slackCodeKey(codeHash),
          // Fails on a missing item too (no attribute to compare), so unknown, used and expired
          // codes all answer the same. An expired code is left where it is: it can never pass.
          ConditionExpression: '#expiresAt > :now',
          ExpressionAttributeNames: { '#expiresAt': 'expiresAt' },
          ExpressionAttributeValues: { ':now': now.toISOString() },
          ReturnValues: 'ALL_OLD',
        }),
      );
      if (!Attributes) return undefined;
      return { userId: parse(CodeItem, 'Slack link code', Attributes).userId };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }
}
