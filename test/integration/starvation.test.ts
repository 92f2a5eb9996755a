// No user can starve the rest, through the deployed handlers (test/support/grant-harness.ts) on moto:
// a user's open requests are capped at `limits.maxOpenRequestsPerUser` (TOO_MANY_OPEN_REQUESTS on
// /v1), and 20,000 PENDING requests from one user — written straight to the table, as requests
// made before the cap or by many hands would be — do not stop the reconciler from ending access.
//
// The reconciler's time is the harness clock: while a pass runs, each DynamoDB Query it makes costs
// the time the test says (a table under load), and when the pass has used its function's timeout
// (120 s) the invocation is over — every AWS call it still makes fails, as nothing of a function
// Lambda has stopped reaches AWS. The pass itself reads its budget from the Lambda context, as
// deployed.
import { DeleteScheduleCommand } from '@aws-sdk/client-scheduler';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { documentClient } from '#adapters/aws/audit-chain-writes.ts';
import { requestKey } from '#adapters/aws/tables.ts';
import { ulidGenerator } from '#adapters/system.ts';
import type { ReconcileReport } from '#app/grants/reconcile.ts';
import { type AccessRequest, OPEN_STATUSES } from '#domain/model.ts';
import { expiryScheduleName } from '#domain/schedule-names.ts';
import { createGrantHarness, ENGINE_FUNCTIONS } from '../support/grant-harness.ts';
import { createPamWorld, DEV_ACCOUNT, SCHEDULE_GROUP } from '../support/pam-world.ts';
import { perFile } from '../support/per-file.ts';

const SECOND = 1000;
const HOUR = 3_600_000;
const FLOOD = 20_000;
/** The reconciler's function timeout: when Lambda stops the invocation. */
const INVOCATION_MS = ENGINE_FUNCTIONS.reconcile.timeoutSeconds * SECOND;

const world = perFile(createPamWorld, (w) => w.stop());
const h = perFile(
  () =>
    createGrantHarness(world, {
      functions: ['handle-api', 'process-command', 'provision-access', 'react-to-change', 'reconcile'],
    }),
  (harness) => harness.stop(),
);

async function stored(id: string): Promise<AccessRequest> {
  return (await h.deps.store.get(id)) as AccessRequest;
}

function devRequest(actorId: string) {
  return { actorId, entitlementId: 'dev-readonly', accountId: DEV_ACCOUNT, durationMs: HOUR, reason: 'look' };
}

/** `POST /v1/requests` as `actorId`: the status and the body. */
async function post(actorId: string) {
  const { actorId: _actor, durationMs: _ms, ...body } = devRequest(actorId);
  const result = await h.api(actorId, 'POST', '/v1/requests', { ...body, duration: 'PT1H' });
  return { status: result.statusCode, body: JSON.parse(result.body) as Record<string, unknown> };
}

/** Writes `count` PENDING requests of `template`'s requester as the store writes them, 25 per batch. */
async function flood(template: AccessRequest, count: number): Promise<void> {
  const ids = ulidGenerator();
  const createdAt = h.clock.now().toISOString();
  const batches: AccessRequest[][] = [];
  for (let start = 0; start < count; start += 25)
    batches.push(
      Array.from({ length: Math.min(25, count - start) }, () => ({
        ...template,
        id: ids.next(),
        status: 'PENDING' as const,
        version: 1,
        createdAt,
        updatedAt: createdAt,
      })),
    );
  const doc = documentClient(world.dynamo);
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let batch = batches[next++]; batch; batch = batches[next++]) {
        await doc.send(
          new BatchWriteCommand({
            RequestItems: {
              [world.tables.access]: batch.map((request) => ({
                PutRequest: { Item: { ...request, ...requestKey(request.id) } },
              })),
            },
          }),
        );
      }
    }),
  );
}

let flooded = false;
/** Erin's flood, written once for the file (each test may run alone). */
async function floodOnce(): Promise<void> {
  if (flooded) return;
  const erin = world.userIds.erin;
  const mine = (await h.deps.store.listByRequester(erin, { limit: 20 })).items;
  const template =
    mine.find((request) => request.status === 'PENDING') ?? (await h.createRequest(devRequest(erin)));
  await flood(template, FLOOD);
  flooded = true;
}

async function assigned(): Promise<readonly string[]> {
  return h.deps.identityCenter.listUserAssignments(
    DEV_ACCOUNT,
    world.permissionSetArns.DevReadOnly as string,
  );
}

/**
 * Runs the event sources a tick at a time until `done` (at most `maxTicks`). Not `settle`: the
 * flood's 20,000 stream records keep the sources busy for 2,000 ticks in which nothing happens.
 */
async function tickUntil(done: () => Promise<boolean>, maxTicks = 200) {
  const failures: unknown[] = [];
  for (let tick = 0; tick < maxTicks && !(await done()); tick += 1)
    failures.push(...(await h.sources.tick()).failures);
  return failures;
}

/**
 * The table under load while one pass runs: each Query costs `queryMs` of the clock, and once the
 * pass has used its invocation every call fails. Returns what was read, and the clean-up.
 */
function underLoad(queryMs: number) {
  const endsAt = h.clock.now().getTime() + INVOCATION_MS;
  let pendingPages = 0;
  const stop = h.proxy.answer(({ service, operation, input }) => {
    if (h.clock.now().getTime() >= endsAt) throw new Error('the invocation has ended');
    if (service === 'dynamodb' && operation === 'Query') {
      if (JSON.stringify(input).includes('"PENDING"')) pendingPages += 1;
      h.clock.advance(queryMs);
    }
    return undefined;
  });
  return { stop, pendingPages: () => pendingPages, startedAt: endsAt - INVOCATION_MS };
}

describe('no user can starve the rest', () => {
  it('the open-request cap returns TOO_MANY_OPEN_REQUESTS through /v1, audited, and a cancel frees a place', async () => {
    // Prepare: Erin opens the ten the config allows (limits.maxOpenRequestsPerUser, default 10).
    const erin = world.userIds.erin;
    const opened: AccessRequest[] = [];
    for (let i = 0; i < 10; i += 1) opened.push(await h.createRequest(devRequest(erin)));

    // Act
    const refused = await post(erin);

    // Assess
    expect(refused).toEqual({
      status: 409,
      body: {
        error: {
          code: 'TOO_MANY_OPEN_REQUESTS',
          message: expect.stringContaining('you already have 10 open requests'),
        },
      },
    });
    expect((await h.deps.store.listByRequester(erin, { limit: 100 })).items).toHaveLength(10);
    expect((await h.deps.audit.readChain('system')).at(-1)).toMatchObject({
      type: 'request.rejected',
      actorId: erin,
      requestId: null,
      details: { action: 'create', code: 'TOO_MANY_OPEN_REQUESTS' },
    });
    // Another user is not held back by Erin's requests.
    expect((await post(world.userIds.alice)).status).toBe(201);

    // A cancelled request frees its place.
    await h.decide({ action: 'cancel', actorId: erin, requestId: (opened[0] as AccessRequest).id });
    expect((await post(erin)).status).toBe(201);
  });

  it('20,000 PENDING requests from one user do not stop a reconciler pass from expiring an overdue grant', async () => {
    // Prepare: Alice's grant for an hour, whose expiry schedule is lost.
    const request = await h.createRequest(devRequest(world.userIds.alice));
    await h.decide({ action: 'approve', actorId: world.userIds.bob, requestId: request.id });
    await h.settle();
    const grant = await stored(request.id);
    expect(grant.status).toBe('ACTIVE');
    await world.scheduler.send(
      new DeleteScheduleCommand({
        GroupName: SCHEDULE_GROUP,
        Name: expiryScheduleName(grant.id, grant.grant?.grantVersion as number),
      }),
    );
    h.clock.set(new Date(Date.parse(grant.grant?.expiresAt as string) + 60 * SECOND));
    await h.settle();
    expect((await stored(grant.id)).status).toBe('ACTIVE'); // only the reconciler can end it now
    // Erin's 20,000 PENDING requests, fresh (within approvalTimeout).
    await floodOnce();
    // A page read takes a second under this load.
    const load = underLoad(SECOND);

    // Act
    const pass = await h.reconcile().catch((error: unknown) => error);
    const passTook = h.clock.now().getTime() - load.startedAt;
    load.stop();
    const failures = await tickUntil(
      async () =>
        (await stored(grant.id)).status === 'EXPIRED' && !(await assigned()).includes(world.userIds.alice),
    );

    // Assess: the grant ended, its assignment is gone.
    expect((await stored(grant.id)).status).toBe('EXPIRED');
    expect(await assigned()).not.toContain(world.userIds.alice);
    expect(failures).toEqual([]);
    // The pass finished inside its invocation, reading one page of the flood: PENDING requests are
    // read oldest first, only as far as the first one too young to time out.
    expect(pass).toMatchObject({ sent: { expire: 1, timeout: 0 }, failures: [], left: [] });
    expect(load.pendingPages()).toBe(1);
    expect(passTook).toBeLessThan(INVOCATION_MS);
  }, 600_000);

  it('a pass out of time says what it left, and the next pass finishes it', async () => {
    // Prepare: the flood is still there (or is written now); a Query takes 15 s under this load.
    await floodOnce();
    const load = underLoad(15 * SECOND);

    // Act
    const starved = (await h.reconcile()) as ReconcileReport;
    const passTook = h.clock.now().getTime() - load.startedAt;
    load.stop();
    const next = (await h.reconcile()) as ReconcileReport;

    // Assess: the slow pass stopped before its invocation ended, at its deadline, and listed what
    // it did not reach, the approval timeouts last; the next pass reached everything.
    expect(passTook).toBeLessThan(INVOCATION_MS);
    expect(starved.failures).toEqual([]);
    expect(starved.left.length).toBeGreaterThan(0);
    expect(starved.left.at(-1)).toEqual({ step: 'timeout', status: 'PENDING', begun: false });
    expect(load.pendingPages()).toBe(0);
    expect(next).toMatchObject({ failures: [], left: [] });
  }, 300_000);

  it('the flooding user cannot open another request: one Query of the index tells', async () => {
    const erin = world.userIds.erin;
    await floodOnce();
    /** Queries of the byRequester index the functions made. */
    const queries = () =>
      h.proxy.calls.filter(
        (call) =>
          call.operation === 'Query' && (call.input as { IndexName?: string })?.IndexName === 'byRequester',
      ).length;
    const before = queries();

    // Act
    const refused = await post(erin);

    // Assess: refused after one page of Erin's requests, not 20,000 of them read.
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ error: { code: 'TOO_MANY_OPEN_REQUESTS' } });
    expect(queries() - before).toBe(1);
    // The count pages on when asked for more than a page holds (DynamoDB pages at 1 MB).
    expect(await h.deps.store.countByRequester(erin, ['PENDING'], FLOOD)).toBe(FLOOD);
  }, 300_000);

  it('the count names only the statuses asked for', async () => {
    // Prepare: Alice has at least one closed request, besides whatever else she has.
    const alice = world.userIds.alice;
    const request = await h.createRequest(devRequest(alice));
    await h.decide({ action: 'cancel', actorId: alice, requestId: request.id });
    const mine = (await h.deps.store.listByRequester(alice, { limit: 100 })).items;
    const open = mine.filter((item) => OPEN_STATUSES.includes(item.status)).length;
    const cancelled = mine.filter((item) => item.status === 'CANCELLED').length;

    // Act / Assess
    expect(await h.deps.store.countByRequester(alice, OPEN_STATUSES, 100)).toBe(open);
    expect(await h.deps.store.countByRequester(alice, ['CANCELLED'], 100)).toBe(cancelled);
    expect(cancelled).toBeGreaterThan(0);
    expect(await h.deps.store.countByRequester(alice, ['CANCELLED'], 1)).toBe(1);
    expect(await h.deps.store.countByRequester(alice, [], 1)).toBe(0);
  });
});
