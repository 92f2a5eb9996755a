// `POST /v1/slack/link` end to end inside one moto account: the real handle-api handler (middy,
// per-caller rate limit, caller mapping, route, use case, DynamoDB adapters) called with the events
// API Gateway produces for PamRequester sessions, in a deployment whose config has a strict-binding
// `slack` section. The code it answers, typed in Slack, links that Slack user to the caller through
// the same DynamoDB and Identity Store adapters, and strict identification then accepts them.
import { readFileSync, writeFileSync } from 'node:fs';
import { GetItemCommand, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { RATE_COUNTER_KEY_PREFIX } from '#adapters/aws/dynamo-rate-counter.ts';
import { DynamoSlackStore, slackCodeKey } from '#adapters/aws/dynamo-slack-store.ts';
import { IdentityStoreDirectory } from '#adapters/aws/identity-store-directory.ts';
import { ACCESS_KEY_PREFIX, IDEMPOTENCY_TABLE } from '#adapters/aws/tables.ts';
import { counterKey, DEFAULT_RATE_LIMITS, windowAt } from '#app/rate-limit.ts';
import { makeSlackActors } from '#app/slack/identity.ts';
import { linkCodeHash, makeConsumeSlackLinkCode } from '#app/slack/link.ts';
import { canonicalJson, sha256Hex } from '#domain/canonical-json.ts';
import type { SlackConfig } from '#domain/model.ts';
import { bundledConfigText, parseBundledConfig } from '#runtime/bundled-config.ts';
import { FakeClock } from '../support/fakes.ts';
import {
  type ApiHandler,
  apiClient,
  apiEvent,
  auditLogOf,
  createPamWorld,
  lambdaContext,
  type PamWorld,
} from '../support/pam-world.ts';
import { FakeSlackUsers, slackUser } from '../support/slack-identity-fakes.ts';

const SLACK: SlackConfig = {
  teamIds: ['T0EXAMPLE01'],
  enterpriseIds: [],
  approversChannel: 'C0APPROVALS',
  identityBinding: 'strict',
};

interface LinkAnswer {
  code: string;
  expiresAt: string;
  instructions: string;
  error?: { code: string; message: string };
}

let world: PamWorld;
let handler: ApiHandler;
let call: ReturnType<typeof apiClient>;

/** The world's bundled config with a `slack` section, as synth would write it. */
function addSlackSection(configFile: string): void {
  const { configHash: _old, ...config } = parseBundledConfig(readFileSync(configFile, 'utf8'));
  const withSlack = { ...config, slack: SLACK };
  writeFileSync(
    configFile,
    bundledConfigText({ ...withSlack, configHash: sha256Hex(canonicalJson(withSlack)) }),
  );
}

beforeAll(async () => {
  world = await createPamWorld();
  addSlackSection(world.configFile);
  handler = (await import('../../functions/handle-api/handler.ts')).handler as never;
  call = apiClient(handler, world.accountId);
});

async function storedCodes(): Promise<Record<string, unknown>[]> {
  const { Items } = await world.dynamo.send(
    new ScanCommand({ TableName: world.tables.access, ConsistentRead: true }),
  );
  return (Items ?? [])
    .map((item) => unmarshall(item))
    .filter((item) => String(item.pk).startsWith(ACCESS_KEY_PREFIX.slackCode));
}

describe('POST /v1/slack/link', () => {
  it('answers a one-time code for the caller, stored by its hash, valid ten minutes, audited', async () => {
    // Act
    const before = Date.now();
    const answer = await call<LinkAnswer>('alice', 'POST', '/v1/slack/link');

    // Assess
    expect(answer.status).toBe(201);
    const { code, expiresAt, instructions } = answer.body;
    expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
    expect(instructions).toBe(`In Slack, type: /pam link ${code}`);
    const validForMs = new Date(expiresAt).getTime() - before;
    expect(validForMs).toBeGreaterThanOrEqual(600_000);
    expect(validForMs).toBeLessThanOrEqual(600_000 + 60_000);
    const { Item } = await world.dynamo.send(
      new GetItemCommand({
        TableName: world.tables.access,
        Key: marshall(slackCodeKey(linkCodeHash(code))),
        ConsistentRead: true,
      }),
    );
    expect(Item && unmarshall(Item)).toMatchObject({ userId: world.userIds.alice, expiresAt });
    expect(JSON.stringify(await storedCodes())).not.toContain(code);
    const system = await auditLogOf(world).readChain('system');
    expect(system.filter((event) => event.type === 'slack.link_code_issued').at(-1)).toMatchObject({
      actorId: world.userIds.alice,
      details: { expiresAt },
    });
  });

  it('links the Slack user who types the code to the caller, and strict identification accepts them', async () => {
    // Prepare: a Slack account whose email is erin's; only the link may bind it, and it names alice.
    const { body } = await call<LinkAnswer>('alice', 'POST', '/v1/slack/link');
    const clock = new FakeClock(new Date());
    const slackStore = new DynamoSlackStore({ client: world.dynamo, accessTable: world.tables.access });
    const directory = new IdentityStoreDirectory({
      client: world.identityStore,
      identityStoreId: world.identityStoreId,
      groupIds: {},
    });
    const slack = new FakeSlackUsers([slackUser('U0ALICE', { email: 'erin@example.com' })]);
    const audit = auditLogOf(world);
    const actors = makeSlackActors({ config: SLACK, slack, directory, slackStore, clock });
    const origin = { teamId: 'T0EXAMPLE01', userId: 'U0ALICE' };
    const unlinked = await actors.identify(origin).catch((error: { reason?: string }) => error.reason);

    // Act
    const consume = makeConsumeSlackLinkCode({ config: SLACK, slack, slackStore, directory, audit, clock });
    const linked = await consume(body.code, origin);

    // Assess
    expect(unlinked).toBe('not-linked');
    expect(linked).toBe(world.userIds.alice);
    expect(await actors.identify(origin)).toBe(world.userIds.alice);
    await expect(consume(body.code, origin)).rejects.toMatchObject({ reason: 'not-linked' });
  });

  it('refuses a body it does not know, and stores nothing', async () => {
    const codes = (await storedCodes()).length;

    const answer = await call<LinkAnswer>('alice', 'POST', '/v1/slack/link', { userId: world.userIds.bob });

    expect(answer.status).toBe(400);
    expect(answer.body.error?.code).toBe('VALIDATION_FAILED');
    expect(await storedCodes()).toHaveLength(codes);
  });

  it('refuses a caller who is no cloud-pam user, and stores nothing', async () => {
    const codes = (await storedCodes()).length;

    const answer = await call<LinkAnswer>('nobody', 'POST', '/v1/slack/link');

    expect(answer.status).toBe(401);
    expect(await storedCodes()).toHaveLength(codes);
  });

  it("spends the caller's per-user request budget: past it, 429 with Retry-After and no code", async () => {
    // Prepare: erin's standard budget already spent, this window and the next.
    const { windowMs, standard } = DEFAULT_RATE_LIMITS;
    const current = windowAt(Date.now(), windowMs);
    for (const window of [current, { startMs: current.endMs, endMs: current.endMs + windowMs }]) {
      await world.dynamo.send(
        new PutItemCommand({
          TableName: world.tables.idempotency,
          Item: marshall({
            [IDEMPOTENCY_TABLE.partitionKey]: `${RATE_COUNTER_KEY_PREFIX}${counterKey('requests-standard', 'erin', window)}`,
            hits: standard,
            [IDEMPOTENCY_TABLE.ttlAttribute]: Math.floor(window.endMs / 1000),
          }),
        }),
      );
    }
    const codes = (await storedCodes()).length;

    // Act
    const answer = await handler(apiEvent(world.accountId, 'erin', 'POST', '/v1/slack/link'), lambdaContext);

    // Assess
    expect(answer.statusCode).toBe(429);
    expect(JSON.parse(answer.body).error.code).toBe('RATE_LIMITED');
    expect(Number(answer.headers?.['retry-after'])).toBeGreaterThan(0);
    expect(await storedCodes()).toHaveLength(codes);
  });
});
