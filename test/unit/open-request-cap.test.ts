// No user can starve the rest: a user may hold at most `limits.maxOpenRequestsPerUser` requests open
// (every status that is not final). One more is refused with its own code, audited like any other
// refusal, and changes nothing; a closed request frees its place; break-glass is never capped.
import { describe, expect, it } from 'vitest';
import { makeActivateBreakGlass, makeCreateRequest, makeDecideRequest } from '#app/requests.ts';
import { TooManyOpenRequestsError } from '#domain/errors.ts';
import { OPEN_STATUSES, type RequestStatus } from '#domain/model.ts';
import { httpStatusOf } from '#runtime/error-responses.ts';
import { errorResponse } from '#runtime/http.ts';
import {
  ACCOUNTS,
  at,
  fixtureConfig,
  fixtureRequestWithChain,
  makeTestDeps,
  PROD_ADMIN,
  READ_ONLY,
  U,
  VALID_JUSTIFICATION,
} from '../support/fakes.ts';
import { seedRequest } from '../support/grant-fakes.ts';

const MINUTE = 60_000;
/** What the cap counts: requests waiting for something, or holding access. */
const OPEN: RequestStatus[] = [
  'PENDING',
  'APPROVED',
  'SCHEDULED',
  'PROVISIONING',
  'ACTIVE',
  'EXTENSION_PENDING',
];
const CLOSED: RequestStatus[] = ['DENIED', 'CANCELLED', 'TIMED_OUT', 'FAILED', 'EXPIRED', 'REVOKED'];

function harness(maxOpenRequestsPerUser?: number) {
  const t = makeTestDeps({
    config: fixtureConfig(maxOpenRequestsPerUser === undefined ? {} : { limits: { maxOpenRequestsPerUser } }),
  });
  const createRequest = makeCreateRequest(t.deps);
  return {
    ...t,
    decide: makeDecideRequest(t.deps),
    breakGlass: makeActivateBreakGlass(t.deps),
    /** A read-only request from `requester`, a minute after the previous one. */
    open(requester: string = U.eve) {
      t.clock.advance(MINUTE);
      return createRequest({ actorId: requester, entitlementId: READ_ONLY, accountId: ACCOUNTS.dev });
    },
    /** A request of `requester` already in `status`, as the real state machine leaves it. */
    async seed(status: RequestStatus, requester: string = U.eve) {
      const fixture = fixtureRequestWithChain(status, {
        requester,
        id: t.ids.next(),
        // Only a request asked for later gets scheduled.
        ...(status === 'SCHEDULED' ? { startAt: at(60) } : {}),
      });
      return seedRequest(t.store, fixture.request, fixture.events);
    },
  };
}

describe('the open-request cap', () => {
  it('refuses the 11th open request with TOO_MANY_OPEN_REQUESTS when the config says nothing, and changes nothing', async () => {
    // Prepare: ten open requests, the default cap.
    const t = harness();
    for (let i = 0; i < 10; i += 1) await t.open();
    const saves = t.store.saves.length;

    // Act
    const refused = await t.open().catch((error: unknown) => error);

    // Assess
    expect(refused).toMatchObject({ code: 'TOO_MANY_OPEN_REQUESTS' });
    expect(httpStatusOf(refused as TooManyOpenRequestsError)).toBe(409);
    expect(refused).toBeInstanceOf(TooManyOpenRequestsError);
    expect((refused as Error).message).toMatch(/already have 10 open requests/);
    expect(t.store.saves).toHaveLength(saves);
    expect(t.store.all()).toHaveLength(10);
    // Audited like any refusal: on the system chain, no request.
    expect((await t.audit.readChain('system')).at(-1)).toMatchObject({
      type: 'request.rejected',
      actorId: U.eve,
      requestId: null,
      entitlementId: READ_ONLY,
      details: { action: 'create', code: 'TOO_MANY_OPEN_REQUESTS' },
    });
  });

  it('answers 409 with its code and message through the HTTP error mapping', () => {
    const response = errorResponse(new TooManyOpenRequestsError('you already have 10 open requests'), () => {
      throw new Error('not an internal error');
    });
    expect(response.statusCode).toBe(409);
    expect(JSON.parse(response.body)).toEqual({
      error: { code: 'TOO_MANY_OPEN_REQUESTS', message: 'you already have 10 open requests' },
    });
  });

  it('takes its number from limits.maxOpenRequestsPerUser', async () => {
    const t = harness(2);
    await t.open();
    await t.open();

    await expect(t.open()).rejects.toThrow(TooManyOpenRequestsError);
    expect(t.store.all()).toHaveLength(2);
  });

  it('counts every status that is not final as open, ACTIVE included', () => {
    expect(OPEN_STATUSES).toEqual(OPEN);
  });

  it.each(OPEN)('counts a %s request as open', async (status) => {
    const t = harness(1);
    await t.seed(status);

    await expect(t.open()).rejects.toThrow(TooManyOpenRequestsError);
  });

  it.each(CLOSED)('does not count a %s request', async (status) => {
    const t = harness(1);
    await t.seed(status);

    const opened = await t.open();

    expect(opened.status).toBe('PENDING');
  });

  it('frees a place when the user cancels an open request', async () => {
    const t = harness(1);
    const first = await t.open();
    await expect(t.open()).rejects.toThrow(TooManyOpenRequestsError);

    await t.decide({ action: 'cancel', actorId: U.eve, requestId: first.id });

    expect((await t.open()).status).toBe('PENDING');
  });

  it('counts per user: one user at the cap does not stop another', async () => {
    const t = harness(1);
    await t.open(U.eve);

    const erins = await t.open(U.erin);

    expect(erins.requesterId).toBe(U.erin);
    expect(erins.status).toBe('PENDING');
  });

  it('never caps break-glass: an emergency does not wait for the user to tidy up', async () => {
    // Prepare: Eve (in the break-glass group) is at her cap.
    const t = harness(1);
    await t.open(U.eve);

    // Act
    const activation = await t.breakGlass({
      actorId: U.eve,
      entitlementId: PROD_ADMIN,
      accountId: ACCOUNTS.prod,
      ...VALID_JUSTIFICATION,
    });

    // Assess
    expect(activation.status).toBe('APPROVED');
    expect(activation.breakGlass).toBeDefined();
    expect(t.store.counts).toEqual([U.eve]); // the create's count only
  });

  it('reports what policy refuses first, without reading the count', async () => {
    const t = harness(1);
    await t.open(U.eve);
    const counted = t.store.counts.length;

    // Oscar is in no eligible group: NOT_ELIGIBLE, whatever his open requests.
    const refused = await t.open(U.oscar).catch((error: unknown) => error);

    expect(refused).toMatchObject({ code: 'NOT_ELIGIBLE' });
    expect(t.store.counts).toHaveLength(counted);
  });
});
