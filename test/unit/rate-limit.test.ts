// Per-caller rate limits (shared/app/rate-limit.ts) over in-memory counters: each caller's request
// budget per fixed window (narrowing actions on a budget of their own), refusals audited one by one
// up to a budget and then once per window, and the `/v1` edge that classes a call and names its caller.
import { describe, expect, it } from 'vitest';
import { rateClassOf, rateLimitedCaller, withRetryAfter } from '#adapters/http/v1-rate-limits.ts';
import {
  makeAdmitRequest,
  makeRefusalLimiter,
  RateLimitedError,
  type RateLimits,
  windowAt,
} from '#app/rate-limit.ts';
import { makeCreateRequest, makeDecideRequest } from '#app/requests.ts';
import { verifyChain } from '#domain/audit.ts';
import { requestChainId } from '#domain/audit-types.ts';
import { NotApproverError } from '#domain/errors.ts';
import { httpStatusOf } from '#runtime/error-responses.ts';
import { ACCOUNTS, FakeClock, InMemoryRateCounter, makeTestDeps, READ_ONLY, U } from '../support/fakes.ts';

const LIMITS: RateLimits = {
  windowMs: 60_000,
  standard: 3,
  narrowing: 5,
  refusalsAudited: 3,
  keepRefusalCountMs: 3_600_000,
};
/** 20 s into the window that starts at 09:00:00. */
const START = '2026-03-02T09:00:20.000Z';

function limiter(options: { clock?: FakeClock; counter?: InMemoryRateCounter } = {}) {
  const clock = options.clock ?? new FakeClock(START);
  const counter = options.counter ?? new InMemoryRateCounter();
  const failures: unknown[] = [];
  const admit = makeAdmitRequest({
    counter,
    clock,
    limits: LIMITS,
    onCounterFailure: (error) => failures.push(error),
  });
  return { admit, clock, counter, failures };
}

async function refusal(work: Promise<unknown>): Promise<unknown> {
  try {
    await work;
  } catch (error) {
    return error;
  }
  throw new Error('expected a refusal');
}

describe('each caller’s request budget', () => {
  it('admits a caller up to the budget of the window, then answers 429 until the window ends', async () => {
    // Prepare
    const { admit, counter } = limiter();

    // Act
    for (let i = 0; i < LIMITS.standard; i++) await admit('alice', 'standard');
    const over = await refusal(admit('alice', 'standard'));

    // Assess
    expect(over).toBeInstanceOf(RateLimitedError);
    expect(over).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: 40 });
    expect(httpStatusOf(over as RateLimitedError)).toBe(429);
    // A flood past the budget adds nothing to the counter.
    await refusal(admit('alice', 'standard'));
    const key = `requests-standard#alice#${Date.parse('2026-03-02T09:00:00.000Z')}`;
    expect(counter.count(key)).toBe(LIMITS.standard);
    expect(counter.expiresAt(key)?.toISOString()).toBe('2026-03-02T09:01:00.000Z');
  });

  it("keeps budgets per caller and narrowing apart: alice's flood leaves dave's revoke and her own cancel alone", async () => {
    // Prepare: alice spends her whole standard budget.
    const { admit } = limiter();
    for (let i = 0; i < LIMITS.standard; i++) await admit('alice', 'standard');
    await expect(admit('alice', 'standard')).rejects.toBeInstanceOf(RateLimitedError);

    // Act + Assess
    await expect(admit('dave', 'narrowing')).resolves.toBeUndefined();
    await expect(admit('dave', 'standard')).resolves.toBeUndefined();
    await expect(admit('alice', 'narrowing')).resolves.toBeUndefined();
  });

  it('gives a narrowing budget of its own size', async () => {
    const { admit } = limiter();
    for (let i = 0; i < LIMITS.narrowing; i++) await admit('dave', 'narrowing');
    await expect(admit('dave', 'narrowing')).rejects.toMatchObject({ code: 'RATE_LIMITED' });
  });

  it('starts a fresh budget when the window ends', async () => {
    // Prepare
    const { admit, clock } = limiter();
    for (let i = 0; i < LIMITS.standard; i++) await admit('alice', 'standard');
    await expect(admit('alice', 'standard')).rejects.toBeInstanceOf(RateLimitedError);

    // Act
    clock.set('2026-03-02T09:01:00.000Z');

    // Assess
    await expect(admit('alice', 'standard')).resolves.toBeUndefined();
  });

  it('lets a narrowing request through when the counters cannot be reached, and fails anything else', async () => {
    // Prepare
    const counter = new InMemoryRateCounter();
    counter.unavailable = true;
    const { admit, failures } = limiter({ counter });

    // Act + Assess
    await expect(admit('dave', 'narrowing')).resolves.toBeUndefined();
    expect(failures).toHaveLength(1);
    await expect(admit('alice', 'standard')).rejects.toThrow(/unavailable/);
  });

  it('aligns windows to the epoch, so every invocation agrees on them', () => {
    expect(windowAt(Date.parse(START), 60_000)).toEqual({
      startMs: Date.parse('2026-03-02T09:00:00.000Z'),
      endMs: Date.parse('2026-03-02T09:01:00.000Z'),
    });
  });
});

describe('refused attempts per caller', () => {
  function world() {
    const t = makeTestDeps({ now: START });
    const counter = new InMemoryRateCounter();
    const deps = { ...t.deps, refusals: makeRefusalLimiter({ counter, clock: t.clock, limits: LIMITS }) };
    return { ...t, counter, deps, decide: makeDecideRequest(deps), create: makeCreateRequest(deps) };
  }

  it('audits the first refusals one by one, then one event on system, then answers 429 with no event', async () => {
    // Prepare: eve's read-only request; erin is no approver of it.
    const w = world();
    const request = await w.create({ actorId: U.eve, entitlementId: READ_ONLY, accountId: ACCOUNTS.dev });
    const attempt = () => w.decide({ actorId: U.erin, requestId: request.id, action: 'approve' });

    // Act: ten refused approvals by erin in one window.
    const answers: unknown[] = [];
    for (let i = 0; i < 10; i++) answers.push(await refusal(attempt()));

    // Assess: the first three are the refusal itself, the rest 429 (the refusal as their cause).
    expect(answers.slice(0, 3).every((error) => error instanceof NotApproverError)).toBe(true);
    for (const error of answers.slice(3)) {
      expect(error).toBeInstanceOf(RateLimitedError);
      expect((error as RateLimitedError).retryAfterSeconds).toBe(40);
      expect((error as RateLimitedError).cause).toBeInstanceOf(NotApproverError);
    }
    const chain = await w.audit.readChain(requestChainId(request.id));
    expect(chain.map((event) => event.type)).toEqual([
      'request.created',
      'request.rejected',
      'request.rejected',
      'request.rejected',
    ]);
    const system = await w.audit.readChain('system');
    expect(system).toHaveLength(1);
    expect(system[0]).toMatchObject({
      type: 'request.rejected',
      actorId: U.erin,
      requestId: request.id,
      details: {
        action: 'approve',
        code: 'NOT_APPROVER',
        suppressed: {
          afterRefusals: 3,
          windowStart: '2026-03-02T09:00:00.000Z',
          windowEnd: '2026-03-02T09:01:00.000Z',
        },
      },
    });
    // The counter still knows how many there were, for a day past the window.
    const key = `refusals#${U.erin}#${Date.parse('2026-03-02T09:00:00.000Z')}`;
    expect(w.counter.count(key)).toBe(10);
    expect(w.counter.expiresAt(key)?.toISOString()).toBe('2026-03-02T10:01:00.000Z');
    expect(verifyChain(chain)).toMatchObject({ ok: true });
    expect(verifyChain(system)).toMatchObject({ ok: true });
  });

  it("never touches another caller: alice's approval goes through while erin is suppressed", async () => {
    // Prepare
    const w = world();
    const request = await w.create({ actorId: U.eve, entitlementId: READ_ONLY, accountId: ACCOUNTS.dev });
    for (let i = 0; i < 6; i++)
      await refusal(w.decide({ actorId: U.erin, requestId: request.id, action: 'approve' }));

    // Act
    const approved = await w.decide({ actorId: U.alice, requestId: request.id, action: 'approve' });

    // Assess
    expect(approved.status).toBe('APPROVED');
    const chain = await w.audit.readChain(requestChainId(request.id));
    expect(chain.map((event) => event.type).filter((type) => type === 'request.rejected')).toHaveLength(3);
    expect(chain.at(-1)?.type).toBe('request.approved');
  });

  it("audits a caller's own refusals one by one again in the next window", async () => {
    // Prepare
    const w = world();
    const request = await w.create({ actorId: U.eve, entitlementId: READ_ONLY, accountId: ACCOUNTS.dev });
    for (let i = 0; i < 5; i++)
      await refusal(w.decide({ actorId: U.erin, requestId: request.id, action: 'approve' }));

    // Act
    w.clock.set('2026-03-02T09:01:00.000Z');
    const next = await refusal(w.decide({ actorId: U.erin, requestId: request.id, action: 'deny' }));

    // Assess
    expect(next).toBeInstanceOf(NotApproverError);
    const chain = await w.audit.readChain(requestChainId(request.id));
    expect(chain.at(-1)).toMatchObject({ type: 'request.rejected', details: { action: 'deny' } });
  });

  it('audits every refusal, as before, when the counters cannot be reached', async () => {
    // Prepare
    const w = world();
    w.counter.unavailable = true;
    const request = await w.create({ actorId: U.eve, entitlementId: READ_ONLY, accountId: ACCOUNTS.dev });

    // Act
    const answers: unknown[] = [];
    for (let i = 0; i < 5; i++)
      answers.push(await refusal(w.decide({ actorId: U.erin, requestId: request.id, action: 'approve' })));

    // Assess
    expect(answers.every((error) => error instanceof NotApproverError)).toBe(true);
    const chain = await w.audit.readChain(requestChainId(request.id));
    expect(chain.filter((event) => event.type === 'request.rejected')).toHaveLength(5);
  });
});

describe('the /v1 edge', () => {
  it.each([
    ['POST', '/v1/requests/01JNQ0000000000000000000AA/revoke', 'narrowing'],
    ['POST', '/v1/requests/01JNQ0000000000000000000AA/deny/', 'narrowing'],
    ['POST', '/prod/v1/requests/01JNQ0000000000000000000AA/cancel', 'narrowing'],
    ['GET', '/v1/requests/01JNQ0000000000000000000AA/revoke', 'standard'],
    ['POST', '/v1/requests/01JNQ0000000000000000000AA/approve', 'standard'],
    ['POST', '/v1/requests/01JNQ0000000000000000000AA/revoke/more', 'standard'],
    ['POST', '/v1/requests', 'standard'],
    ['POST', '/v1/break-glass', 'standard'],
  ] as const)('%s %s spends the %s budget', (httpMethod, path, rateClass) => {
    expect(rateClassOf({ httpMethod, path })).toBe(rateClass);
  });

  it('names the caller by the user name of a hub PamRequester session, and nobody else', () => {
    const event = (userArn: unknown) => ({ requestContext: { identity: { userArn } } }) as never;
    const role = 'AWSReservedSSO_PamRequester_0a1b2c3d4e5f6a7b';
    expect(
      rateLimitedCaller(event(`arn:aws:sts::111111111111:assumed-role/${role}/alice`), '111111111111'),
    ).toBe('alice');
    expect(
      rateLimitedCaller(event(`arn:aws:sts::222222222222:assumed-role/${role}/alice`), '111111111111'),
    ).toBeUndefined();
    expect(rateLimitedCaller(event('arn:aws:iam::111111111111:user/alice'), '111111111111')).toBeUndefined();
    expect(rateLimitedCaller(event(undefined), '111111111111')).toBeUndefined();
  });

  it('tells a rate-limited caller when to come back, and nobody else', () => {
    const response = { statusCode: 429, headers: { 'content-type': 'application/json' }, body: '{}' };
    expect(withRetryAfter(new RateLimitedError('slow down', 17), response).headers).toEqual({
      'content-type': 'application/json',
      'retry-after': '17',
    });
    expect(withRetryAfter(new NotApproverError('no'), response)).toBe(response);
  });
});
