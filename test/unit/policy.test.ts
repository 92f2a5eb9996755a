// Policy: each refusal carries its own code, so the caller (HTTP, Slack, CLI) can tell the person
// exactly why. Checked through openRequest / openBreakGlass / decide, the way the use cases call it.
import { describe, expect, it } from 'vitest';
import type { Actor } from '#domain/model.ts';
import { assertMayRevoke, samePerson, takeSnapshot } from '#domain/policy.ts';
import {
  type Command,
  decide,
  type OpenRequestInput,
  openBreakGlass,
  openRequest,
} from '#domain/state-machine.ts';
import {
  ACCOUNTS,
  at,
  FIXTURE_ID,
  fixtureActor,
  fixtureConfig,
  fixtureEntitlement,
  fixtureRequest,
  PROD_ADMIN,
  READ_ONLY,
  U,
  VALID_JUSTIFICATION,
} from '../support/fakes.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const config = fixtureConfig();
const entitlementOf = (id: string) => fixtureEntitlement(id);
const actor = (userId: string) => fixtureActor(userId);

function open(overrides: Partial<OpenRequestInput> & { entitlementId?: string } = {}) {
  const { entitlementId = READ_ONLY, ...rest } = overrides;
  return openRequest({
    id: FIXTURE_ID,
    requester: actor(U.eve),
    entitlement: entitlementOf(entitlementId),
    configHash: config.configHash,
    accountId: ACCOUNTS.prod,
    ...VALID_JUSTIFICATION,
    now: at(0),
    ...rest,
  });
}

const codeOf = (work: () => unknown): string | undefined => {
  try {
    work();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
};

describe('who may request', () => {
  it.each([
    { name: 'an approver who is not in an eligible group', requester: U.alice },
    { name: 'an outsider', requester: U.oscar },
    { name: 'an admin (admins are not implicitly eligible)', requester: U.adam },
  ])('refuses $name with NOT_ELIGIBLE', ({ requester }) => {
    // Act / Assess
    expect(codeOf(() => open({ requester: actor(requester) }))).toBe('NOT_ELIGIBLE');
  });

  it('refuses an account that is not a target of the entitlement with INVALID_TARGET', () => {
    // Act / Assess
    expect(codeOf(() => open({ accountId: ACCOUNTS.other }))).toBe('INVALID_TARGET');
  });

  it.each([
    {
      name: 'a break-glass activation by a user outside every break-glass group',
      requester: U.erin,
      id: PROD_ADMIN,
    },
    {
      name: 'a break-glass activation of an entitlement without break-glass groups',
      requester: U.eve,
      id: READ_ONLY,
    },
  ])('refuses $name with NOT_BREAK_GLASS', ({ requester, id }) => {
    // Act / Assess
    expect(
      codeOf(() =>
        openBreakGlass({
          id: FIXTURE_ID,
          requester: actor(requester),
          entitlement: entitlementOf(id),
          configHash: config.configHash,
          accountId: ACCOUNTS.prod,
          ...VALID_JUSTIFICATION,
          now: at(0),
        }),
      ),
    ).toBe('NOT_BREAK_GLASS');
  });
});

describe('what a valid request looks like', () => {
  it.each([
    { name: 'over maxDuration', durationMs: 4 * HOUR + MINUTE, code: 'DURATION_EXCEEDED' },
    { name: 'under one minute', durationMs: MINUTE - 1, code: 'DURATION_EXCEEDED' },
    { name: 'zero', durationMs: 0, code: 'DURATION_EXCEEDED' },
    { name: 'negative', durationMs: -HOUR, code: 'DURATION_EXCEEDED' },
    { name: 'fractional', durationMs: HOUR + 0.5, code: 'DURATION_EXCEEDED' },
    { name: 'exactly maxDuration', durationMs: 4 * HOUR, code: undefined },
    { name: 'exactly one minute', durationMs: MINUTE, code: undefined },
  ])('a duration $name → $code', ({ durationMs, code }) => {
    // Act / Assess
    expect(codeOf(() => open({ durationMs }))).toBe(code);
  });

  it.each([
    { name: 'missing', reason: undefined, code: 'REASON_REQUIRED' },
    { name: 'empty', reason: '', code: 'REASON_REQUIRED' },
    { name: 'only whitespace', reason: '  \n\t', code: 'REASON_REQUIRED' },
    { name: 'given', reason: 'deploy hotfix', code: undefined },
  ])('a reason that is $name on an entitlement requiring one → $code', ({ reason, code }) => {
    // Act / Assess
    expect(codeOf(() => open({ entitlementId: PROD_ADMIN, reason }))).toBe(code);
  });

  it.each([
    { ticket: undefined, code: 'TICKET_INVALID' },
    { ticket: '', code: 'TICKET_INVALID' },
    { ticket: 'OPS-', code: 'TICKET_INVALID' },
    { ticket: 'ops-12', code: 'TICKET_INVALID' },
    { ticket: 'OPS-1234567', code: 'TICKET_INVALID' },
    { ticket: 'XOPS-12', code: 'TICKET_INVALID' },
    { ticket: 'OPS-12 and more', code: 'TICKET_INVALID' },
    { ticket: 'OPS-1', code: undefined },
    { ticket: '  OPS-123456  ', code: undefined },
  ])('ticket $ticket against ^OPS-[0-9]{1,6}$ → $code', ({ ticket, code }) => {
    // Act / Assess
    expect(codeOf(() => open({ entitlementId: PROD_ADMIN, ticket }))).toBe(code);
  });

  it('requires a reason for break-glass even where the entitlement would not', () => {
    // Act / Assess
    expect(
      codeOf(() =>
        openBreakGlass({
          id: FIXTURE_ID,
          requester: actor(U.eve),
          entitlement: { ...entitlementOf(PROD_ADMIN), requireReason: false },
          configHash: config.configHash,
          accountId: ACCOUNTS.prod,
          ticket: 'OPS-1',
          now: at(0),
        }),
      ),
    ).toBe('REASON_REQUIRED');
  });
});

describe('who may approve', () => {
  it.each<{ name: string; requester: string; entitlementId: string; approvers: string[]; code: string }>([
    {
      name: 'the requester approving their own request',
      requester: U.aliceAlt,
      entitlementId: READ_ONLY,
      approvers: [U.aliceAlt],
      code: 'SELF_APPROVAL',
    },
    {
      name: 'another Identity Store user with the same ExternalId as the requester',
      requester: U.aliceAlt,
      entitlementId: READ_ONLY,
      approvers: [U.alice],
      code: 'SAME_PERSON_APPROVAL',
    },
    {
      name: 'an engineer outside the approver groups',
      requester: U.eve,
      entitlementId: READ_ONLY,
      approvers: [U.erin],
      code: 'NOT_APPROVER',
    },
    {
      name: 'an approver of another entitlement',
      requester: U.eve,
      entitlementId: READ_ONLY,
      approvers: [U.bob],
      code: 'NOT_APPROVER',
    },
    {
      name: 'an admin outside the approver groups',
      requester: U.eve,
      entitlementId: READ_ONLY,
      approvers: [U.adam],
      code: 'NOT_APPROVER',
    },
    {
      name: 'the same approver twice',
      requester: U.eve,
      entitlementId: PROD_ADMIN,
      approvers: [U.alice, U.alice],
      code: 'ALREADY_APPROVED',
    },
    {
      name: 'a second account of an approver who already approved',
      requester: U.eve,
      entitlementId: PROD_ADMIN,
      approvers: [U.alice, U.aliceAlt],
      code: 'ALREADY_APPROVED',
    },
  ])('refuses $name with $code', ({ requester, entitlementId, approvers, code }) => {
    // Prepare
    let request = fixtureRequest('PENDING', { requester, entitlementId });
    const last = approvers.at(-1) as string;
    for (const approver of approvers.slice(0, -1)) {
      request = decide(request, { type: 'approve', actor: actor(approver) }, at(1)).request;
    }

    // Act / Assess
    expect(codeOf(() => decide(request, { type: 'approve', actor: actor(last) }, at(2)))).toBe(code);
  });

  it('refuses the same person a second time on an extension too', () => {
    // Prepare
    let request = fixtureRequest('EXTENSION_PENDING', { entitlementId: PROD_ADMIN });
    request = decide(request, { type: 'approve', actor: actor(U.aliceAlt) }, at(40)).request;

    // Act / Assess
    expect(codeOf(() => decide(request, { type: 'approve', actor: actor(U.alice) }, at(41)))).toBe(
      'ALREADY_APPROVED',
    );
  });

  it.each([
    { name: 'the requester', denier: U.aliceAlt, code: 'SELF_APPROVAL' },
    { name: 'the same person as the requester', denier: U.alice, code: 'SAME_PERSON_APPROVAL' },
    { name: 'a non-approver', denier: U.erin, code: 'NOT_APPROVER' },
  ])('refuses a denial by $name with $code', ({ denier, code }) => {
    // Prepare
    const request = fixtureRequest('PENDING', { requester: U.aliceAlt });

    // Act / Assess
    expect(codeOf(() => decide(request, { type: 'deny', actor: actor(denier) }, at(1)))).toBe(code);
  });

  it.each(['APPROVED', 'ACTIVE', 'DENIED', 'EXPIRED'] as const)(
    'refuses to decide on a %s request with INVALID_STATE',
    (status) => {
      // Prepare
      const request = fixtureRequest(status);

      // Act / Assess
      expect(codeOf(() => decide(request, { type: 'approve', actor: actor(U.alice) }, at(300)))).toBe(
        'INVALID_STATE',
      );
      expect(codeOf(() => decide(request, { type: 'deny', actor: actor(U.alice) }, at(300)))).toBe(
        'INVALID_STATE',
      );
    },
  );

  it('treats two users sharing an ExternalId key as the same person', () => {
    // Act / Assess
    expect(samePerson(actor(U.alice), actor(U.aliceAlt))).toBe(true);
    expect(samePerson(actor(U.alice), actor(U.bob))).toBe(false);
  });
});

describe('extensions', () => {
  const extend = (
    request: ReturnType<typeof fixtureRequest>,
    extra: Partial<Extract<Command, { type: 'extend' }>>,
  ) =>
    codeOf(() =>
      decide(
        request,
        { type: 'extend', actor: actor(U.eve), additionalMs: HOUR, reason: 'more', ...extra },
        at(30),
      ),
    );

  it('refuses an extension longer than maxDuration on its own', () => {
    // Prepare: read-only allows 4h per grant and 8h in total; 1h is already granted
    const request = fixtureRequest('ACTIVE');

    // Act / Assess
    expect(extend(request, { additionalMs: 4 * HOUR + MINUTE })).toBe('DURATION_EXCEEDED');
    expect(extend(request, { additionalMs: 4 * HOUR })).toBeUndefined();
  });

  it('refuses an extension that would take the total over maxTotalDuration', () => {
    // Prepare: prod-admin allows 2h per grant and 3h in total; 2h is already granted
    const request = fixtureRequest('ACTIVE', { entitlementId: PROD_ADMIN, durationMs: 2 * HOUR });

    // Act / Assess
    expect(extend(request, { additionalMs: HOUR + MINUTE })).toBe('DURATION_EXCEEDED');
    expect(extend(request, { additionalMs: HOUR })).toBeUndefined();
  });

  it('counts earlier extensions towards maxTotalDuration', () => {
    // Prepare: 1h granted + 1h extension approved = 2h of prod-admin's 3h
    let request = fixtureRequest('EXTENSION_PENDING', { entitlementId: PROD_ADMIN });
    request = decide(request, { type: 'approve', actor: actor(U.alice) }, at(40)).request;
    request = decide(request, { type: 'approve', actor: actor(U.bob) }, at(41)).request;

    // Act / Assess
    expect(request.grant?.totalDurationMs).toBe(2 * HOUR);
    expect(extend(request, { additionalMs: HOUR + MINUTE })).toBe('DURATION_EXCEEDED');
  });

  it('requires a reason to extend where the entitlement requires one', () => {
    // Prepare
    const request = fixtureRequest('ACTIVE', { entitlementId: PROD_ADMIN });

    // Act / Assess
    expect(extend(request, { reason: '   ' })).toBe('REASON_REQUIRED');
  });

  it.each([U.alice, U.adam, U.aliceAlt])(
    'refuses an extension asked by %s, who is not the requester',
    (userId) => {
      // Act / Assess
      expect(extend(fixtureRequest('ACTIVE'), { actor: actor(userId) })).toBe('FORBIDDEN');
    },
  );
});

describe('who may cancel and revoke', () => {
  it.each([
    { name: 'the requester', userId: U.eve },
    { name: 'an approver of the entitlement', userId: U.alice },
    { name: 'an approver of the entitlement who is not the one who approved', userId: U.aliceAlt },
    { name: 'an admin', userId: U.adam },
  ])('lets $name revoke', ({ userId }) => {
    // Prepare
    const request = fixtureRequest('ACTIVE');

    // Act
    const outcome = decide(request, { type: 'revoke', actor: actor(userId), comment: 'done' }, at(30));

    // Assess
    expect(outcome.request.status).toBe('REVOKED');
    expect(outcome.request.revocation).toEqual({
      actorId: userId,
      at: at(30).toISOString(),
      comment: 'done',
    });
  });

  it.each([
    { name: 'an unrelated engineer', userId: U.erin },
    { name: 'an outsider', userId: U.oscar },
    { name: 'an approver of another entitlement', userId: U.bob },
  ])('refuses a revocation by $name with FORBIDDEN', ({ userId }) => {
    // Act / Assess
    expect(
      codeOf(() => decide(fixtureRequest('ACTIVE'), { type: 'revoke', actor: actor(userId) }, at(30))),
    ).toBe('FORBIDDEN');
  });

  it('decides revocation rights from the snapshot groups, not a catalog lookup', () => {
    // Prepare: a snapshot that names bob's group
    const request = fixtureRequest('ACTIVE');
    const snapshot = takeSnapshot(entitlementOf(PROD_ADMIN), config.configHash);

    // Act / Assess
    expect(() => assertMayRevoke(actor(U.bob), { ...request, snapshot })).not.toThrow();
    expect(() => assertMayRevoke(actor(U.bob), request)).toThrowError(
      expect.objectContaining({ code: 'FORBIDDEN' }),
    );
  });

  it.each([
    { name: 'the requester', userId: U.eve, code: undefined },
    { name: 'an admin', userId: U.adam, code: undefined },
    { name: 'an approver', userId: U.alice, code: 'FORBIDDEN' },
    { name: 'another engineer', userId: U.erin, code: 'FORBIDDEN' },
  ])('cancel by $name → $code', ({ userId, code }) => {
    // Act / Assess
    expect(
      codeOf(() => decide(fixtureRequest('PENDING'), { type: 'cancel', actor: actor(userId) }, at(1))),
    ).toBe(code);
  });

  it('refuses any action by an actor with no groups at all', () => {
    // Prepare
    const nobody: Actor = { userId: 'u-nobody', groups: [], personKeys: ['user:u-nobody'], isAdmin: false };
    const request = fixtureRequest('PENDING');

    // Act / Assess
    expect(codeOf(() => decide(request, { type: 'approve', actor: nobody }, at(1)))).toBe('NOT_APPROVER');
    expect(codeOf(() => decide(request, { type: 'cancel', actor: nobody }, at(1)))).toBe('FORBIDDEN');
  });
});
