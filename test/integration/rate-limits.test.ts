// Per-caller rate limits against moto over HTTP: the DynamoDB counter (atomic ADD, a cap that stops
// counting, TTL, keys only under RATE#) and what the refusal budget is for — a non-approver flooding
// refused approvals onto a request's chain cannot make the legitimate approval's audit write lose
// its conditional race on the chain head. The race is made deterministic: before every transaction
// the approval attempts, one more refused approval runs to completion.
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoRateCounter } from '#adapters/aws/dynamo-rate-counter.ts';
import { IDEMPOTENCY_TABLE } from '#adapters/aws/tables.ts';
import { DEFAULT_RATE_LIMITS, makeRefusalLimiter } from '#app/rate-limit.ts';
import { makeCreateRequest, makeDecideRequest } from '#app/requests.ts';
import { verifyChain } from '#domain/audit.ts';
import { requestChainId } from '#domain/audit-types.ts';
import { buildCoreDeps } from '#runtime/aws-deps.ts';
import { ENV } from '#runtime/env-names.ts';
import { FakeClock } from '../support/fakes.ts';
import { motoClient } from '../support/moto.ts';
import { createPamWorld, DEV_ACCOUNT, type PamWorld } from '../support/pam-world.ts';

let world: PamWorld;

beforeAll(async () => {
  world = await createPamWorld();
});

describe('DynamoRateCounter', () => {
  function counter() {
    return new DynamoRateCounter({ client: world.dynamo, table: world.tables.idempotency });
  }
  const expiresAt = new Date('2026-03-02T09:01:00.000Z');

  async function stored(key: string) {
    const { Item } = await world.dynamo.send(
      new GetItemCommand({
        TableName: world.tables.idempotency,
        Key: { [IDEMPOTENCY_TABLE.partitionKey]: { S: `RATE#${key}` } },
        ConsistentRead: true,
      }),
    );
    return Item ? unmarshall(Item) : undefined;
  }

  it('counts concurrent adds exactly once each, under RATE#, with the TTL in epoch seconds', async () => {
    // Act
    const counts = await Promise.all(
      Array.from({ length: 12 }, () => counter().add('refusals#u-1#1000', { expiresAt })),
    );

    // Assess
    expect([...counts].sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual(
      Array.from({ length: 12 }, (_, i) => i + 1),
    );
    expect(await stored('refusals#u-1#1000')).toEqual({
      id: 'RATE#refusals#u-1#1000',
      hits: 12,
      expiration: expiresAt.getTime() / 1000,
    });
  });

  it('stops at the cap: adds past it answer undefined and leave the count alone', async () => {
    // Act
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => counter().add('requests-standard#alice#1000', { cap: 4, expiresAt })),
    );

    // Assess
    expect(answers.filter((answer) => answer === undefined)).toHaveLength(2);
    expect(answers.filter((answer) => answer !== undefined).sort()).toEqual([1, 2, 3, 4]);
    expect((await stored('requests-standard#alice#1000'))?.hits).toBe(4);
  });

  it('keeps the first expiry of a counter', async () => {
    await counter().add('refusals#u-2#1000', { expiresAt });
    await counter().add('refusals#u-2#1000', { expiresAt: new Date('2030-01-01T00:00:00.000Z') });
    expect((await stored('refusals#u-2#1000'))?.expiration).toBe(expiresAt.getTime() / 1000);
  });
});

describe('a flood of refused approvals by a non-approver', () => {
  it("does not make the legitimate approval's audit write fail", async () => {
    // Prepare: one clock for everyone (a fixed window), one counter table, two sets of deps on the
    // same tables — erin's, and bob's whose DynamoDB client lets one more of erin's refused
    // approvals finish before each transaction bob's approval sends.
    const clock = new FakeClock('2026-03-02T09:00:20.000Z');
    const env = {
      [ENV.ACCESS_TABLE_NAME]: world.tables.access,
      [ENV.AUDIT_TABLE_NAME]: world.tables.audit,
      [ENV.IDENTITY_STORE_ID]: world.identityStoreId,
      [ENV.PAM_CONFIG_FILE]: world.configFile,
    };
    const refusals = makeRefusalLimiter({
      counter: new DynamoRateCounter({ client: world.dynamo, table: world.tables.idempotency }),
      clock,
    });
    const core = (dynamo: DynamoDBClient) => ({
      ...buildCoreDeps(env, { dynamo, identityStore: world.identityStore, clock }),
      refusals,
    });
    const erinDeps = core(world.dynamo);
    const bobClient = motoClient(DynamoDBClient, world.accountId);
    const bobDeps = core(bobClient);
    const request = await makeCreateRequest(erinDeps)({
      actorId: world.userIds.alice,
      entitlementId: 'dev-readonly',
      accountId: DEV_ACCOUNT,
      durationMs: 3_600_000,
      reason: 'read the dev logs',
    });
    const erinApproves = makeDecideRequest(erinDeps);
    const refusedAttempt = async () => {
      await erinApproves({ actorId: world.userIds.erin, requestId: request.id, action: 'approve' }).then(
        () => {
          throw new Error('erin is no approver: her approval must be refused');
        },
        (error: { code?: string }) => error.code,
      );
    };
    // The flood so far: twice the refusals a window audits one by one.
    const answers: (string | undefined)[] = [];
    for (let i = 0; i < 2 * DEFAULT_RATE_LIMITS.refusalsAudited; i++)
      answers.push(
        (await erinApproves({ actorId: world.userIds.erin, requestId: request.id, action: 'approve' }).catch(
          (error: { code?: string }) => error.code,
        )) as string | undefined,
      );
    let interleaved = 0;
    bobClient.middlewareStack.add(
      (next) => async (args) => {
        if ((args.input as { TransactItems?: unknown }).TransactItems !== undefined) {
          interleaved += 1;
          await refusedAttempt();
        }
        return next(args);
      },
      { step: 'initialize', name: 'floodBeforeEachTransaction' },
    );

    // Act: bob (cloud-ops) approves while the flood goes on.
    const approved = await makeDecideRequest(bobDeps)({
      actorId: world.userIds.bob,
      requestId: request.id,
      action: 'approve',
    });

    // Assess: the approval committed; the chain holds only the refusals the budget audits.
    expect(approved.status).toBe('APPROVED');
    expect(interleaved).toBeGreaterThanOrEqual(1);
    expect(
      answers.slice(0, DEFAULT_RATE_LIMITS.refusalsAudited).every((code) => code === 'NOT_APPROVER'),
    ).toBe(true);
    expect(answers.slice(DEFAULT_RATE_LIMITS.refusalsAudited).every((code) => code === 'RATE_LIMITED')).toBe(
      true,
    );
    const chain = await erinDeps.audit.readChain(requestChainId(request.id));
    expect(chain.map((event) => event.type)).toEqual([
      'request.created',
      ...Array.from({ length: DEFAULT_RATE_LIMITS.refusalsAudited }, () => 'request.rejected'),
      'request.approved',
    ]);
    expect(verifyChain(chain)).toMatchObject({ ok: true });
    const aggregates = (await erinDeps.audit.readChain('system')).filter(
      (event) => event.actorId === world.userIds.erin && event.details.suppressed !== undefined,
    );
    expect(aggregates).toHaveLength(1);
    bobClient.destroy();
  });
});
