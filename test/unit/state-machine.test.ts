// The access-request state machine: every (status, command) pair of the diagram, the extension and
// break-glass sub-flows, and the expiry rules that make stale or duplicate schedules harmless.
import { describe, expect, it } from 'vitest';
import { requestChainId } from '#domain/audit-types.ts';
import { PamError } from '#domain/errors.ts';
import {
  type AccessRequest,
  type Actor,
  REQUEST_STATUSES,
  type RequestStatus,
  TERMINAL_STATUSES,
} from '#domain/model.ts';
import {
  type Command,
  type CommandType,
  decide,
  openBreakGlass,
  openRequest,
} from '#domain/state-machine.ts';
import {
  at,
  FIXTURE_ID,
  fixtureActor,
  fixtureConfig,
  fixtureEntitlement,
  fixtureRequest,
  grantOf,
  PROD_ADMIN,
  READ_ONLY,
  SANDBOX,
  U,
  VALID_JUSTIFICATION,
} from '../support/fakes.ts';

const HOUR = 3_600_000;
const LATER = at(24 * 60);
const config = fixtureConfig();
const entitlementOf = (id: string) => fixtureEntitlement(id);
const actor = (userId: string) => fixtureActor(userId);

/** One command of each type, by the actor who may normally give it on eve's read-only request. */
function commandOf(type: CommandType, request: AccessRequest): Command {
  switch (type) {
    case 'approve':
    case 'deny':
    case 'review':
      return { type, actor: actor(U.alice) };
    case 'cancel':
    case 'revoke':
      return { type, actor: actor(U.eve) };
    case 'extend':
      return { type, actor: actor(U.eve), additionalMs: HOUR };
    case 'fail':
      return { type, failure: 'assignment FAILED' };
    case 'expire':
      return { type, grantVersion: request.grant?.grantVersion ?? 1 };
    case 'timeout':
      return { type, approvalTimeoutMs: 0 };
    case 'assignment-succeeded':
      return { type, accountId: request.accountId };
    case 'assignment-failed':
      return { type, accountId: request.accountId, failure: 'assignment FAILED' };
    default:
      return { type };
  }
}

const COMMAND_TYPES: readonly CommandType[] = [
  'approve',
  'deny',
  'cancel',
  'revoke',
  'extend',
  'review',
  'timeout',
  'schedule',
  'start-provisioning',
  'activate',
  'assignment-succeeded',
  'assignment-failed',
  'fail',
  'expire',
];

type Expected = RequestStatus | 'no-op';

/** The diagram. A pair not listed here must be refused with INVALID_STATE. */
const DIAGRAM: Readonly<Record<CommandType, Partial<Record<RequestStatus, Expected>>>> = {
  approve: { PENDING: 'APPROVED', EXTENSION_PENDING: 'ACTIVE' },
  deny: { PENDING: 'DENIED', EXTENSION_PENDING: 'ACTIVE' },
  cancel: { PENDING: 'CANCELLED', SCHEDULED: 'CANCELLED' },
  revoke: {
    APPROVED: 'REVOKED',
    SCHEDULED: 'REVOKED',
    PROVISIONING: 'REVOKED',
    ACTIVE: 'REVOKED',
    EXTENSION_PENDING: 'REVOKED',
  },
  extend: { ACTIVE: 'EXTENSION_PENDING' },
  review: {},
  timeout: { PENDING: 'TIMED_OUT', SCHEDULED: 'TIMED_OUT', EXTENSION_PENDING: 'ACTIVE' },
  schedule: { APPROVED: 'SCHEDULED' },
  'start-provisioning': { APPROVED: 'PROVISIONING', SCHEDULED: 'PROVISIONING' },
  activate: { PROVISIONING: 'ACTIVE' },
  // Results arriving for a request no longer provisioning are harmless no-ops (the engine releases).
  'assignment-succeeded': Object.fromEntries(
    REQUEST_STATUSES.map((status) => [status, status === 'PROVISIONING' ? 'ACTIVE' : 'no-op']),
  ) as Partial<Record<RequestStatus, Expected>>,
  'assignment-failed': Object.fromEntries(
    REQUEST_STATUSES.map((status) => [status, status === 'PROVISIONING' ? 'FAILED' : 'no-op']),
  ) as Partial<Record<RequestStatus, Expected>>,
  fail: { PROVISIONING: 'FAILED' },
  expire: { ACTIVE: 'EXPIRED', EXTENSION_PENDING: 'EXPIRED', EXPIRED: 'no-op', REVOKED: 'no-op' },
};

const MATRIX = REQUEST_STATUSES.flatMap((status) =>
  COMMAND_TYPES.map((command) => ({
    status,
    command,
    expected: DIAGRAM[command][status] ?? 'INVALID_STATE',
  })),
);

/** Every request is opened with a start time, so `schedule` applies once it is approved. */
const withStart = (status: RequestStatus) => fixtureRequest(status, { startAt: at(120) });

describe('decide over the whole diagram', () => {
  it.each(MATRIX)('$command on a $status request → $expected', ({ status, command, expected }) => {
    // Prepare
    const request = withStart(status);
    const act = () => decide(request, commandOf(command, request), LATER);

    // Act / Assess
    if (expected === 'INVALID_STATE') {
      expect(act).toThrowError(expect.objectContaining({ code: 'INVALID_STATE' }));
      return;
    }
    const outcome = act();
    if (expected === 'no-op') {
      expect(outcome).toEqual({ request, events: [], changed: false });
      return;
    }
    expect(outcome.changed).toBe(true);
    expect(outcome.request.status).toBe(expected);
    expect(outcome.request.version).toBe(request.version + 1);
    expect(outcome.events.length).toBeGreaterThanOrEqual(1);
    for (const event of outcome.events) {
      expect(event.chainId).toBe(requestChainId(request.id));
      expect(event.requestId).toBe(request.id);
    }
    expect(outcome.request.snapshot).toEqual(request.snapshot);
  });

  it.each([...TERMINAL_STATUSES].flatMap((status) => COMMAND_TYPES.map((command) => ({ status, command }))))(
    'a $status request never leaves its status on $command',
    ({ status, command }) => {
      // Prepare
      const request = withStart(status);

      // Act
      let result: RequestStatus | string;
      try {
        const outcome = decide(request, commandOf(command, request), LATER);
        result = outcome.changed ? outcome.request.status : 'no-op';
      } catch (error) {
        result = (error as PamError).code;
      }

      // Assess: refused, or a no-op (a duplicate expiry of an ended grant; a late assignment result)
      const lateResult = command === 'assignment-succeeded' || command === 'assignment-failed';
      const duplicateExpiry = command === 'expire' && (status === 'EXPIRED' || status === 'REVOKED');
      const expected = lateResult || duplicateExpiry ? 'no-op' : 'INVALID_STATE';
      expect(result).toBe(expected);
    },
  );

  it('refuses to schedule an approved request that has no start time', () => {
    // Prepare
    const request = fixtureRequest('APPROVED');

    // Act / Assess
    expect(() => decide(request, { type: 'schedule' }, LATER)).toThrowError(
      expect.objectContaining({ code: 'INVALID_STATE' }),
    );
  });

  it('keeps a request PENDING while its quorum is not reached', () => {
    // Prepare
    const request = fixtureRequest('PENDING', { entitlementId: PROD_ADMIN });

    // Act
    const outcome = decide(request, { type: 'approve', actor: actor(U.alice), comment: 'ok' }, at(1));

    // Assess
    expect(outcome.request.status).toBe('PENDING');
    expect(outcome.request.approvals).toEqual([
      { approverId: U.alice, at: at(1).toISOString(), comment: 'ok', personKeys: actor(U.alice).personKeys },
    ]);
    expect(outcome.events).toMatchObject([
      { type: 'request.approved', details: { approvals: 1, required: 2, quorumReached: false } },
    ]);
  });

  it('approves a 2-of-2 request on the second distinct approver', () => {
    // Prepare
    const first = decide(
      fixtureRequest('PENDING', { entitlementId: PROD_ADMIN }),
      {
        type: 'approve',
        actor: actor(U.alice),
      },
      at(1),
    ).request;

    // Act
    const outcome = decide(first, { type: 'approve', actor: actor(U.bob) }, at(2));

    // Assess
    expect(outcome.request.status).toBe('APPROVED');
    expect(outcome.request.approvals.map((approval) => approval.approverId)).toEqual([U.alice, U.bob]);
    expect(outcome.events).toMatchObject([{ type: 'request.approved', details: { quorumReached: true } }]);
  });

  it('records the denial, its time and the end of the request', () => {
    // Prepare
    const request = fixtureRequest('PENDING');

    // Act
    const outcome = decide(request, { type: 'deny', actor: actor(U.alice), comment: 'not now' }, at(5));

    // Assess
    expect(outcome.request).toMatchObject({
      status: 'DENIED',
      denial: { actorId: U.alice, at: at(5).toISOString(), comment: 'not now' },
      endedAt: at(5).toISOString(),
    });
    expect(outcome.events).toMatchObject([{ type: 'request.denied', actorId: U.alice, reason: 'not now' }]);
  });

  it('activates a grant for the requested duration with grant version 1', () => {
    // Prepare
    const request = fixtureRequest('PROVISIONING', { durationMs: 2 * HOUR });

    // Act
    const outcome = decide(request, { type: 'activate' }, at(10));

    // Assess
    expect(outcome.request.grant).toEqual({
      grantVersion: 1,
      startedAt: at(10).toISOString(),
      expiresAt: at(10 + 120).toISOString(),
      totalDurationMs: 2 * HOUR,
    });
    expect(outcome.events).toMatchObject([{ type: 'grant.activated', details: { grantVersion: 1 } }]);
  });
});

describe('opening a request', () => {
  it('opens a PENDING request at version 1 with a request.created event', () => {
    // Act
    const outcome = openRequest({
      id: FIXTURE_ID,
      requester: actor(U.eve),
      entitlement: entitlementOf(READ_ONLY),
      configHash: config.configHash,
      accountId: '111111111111',
      now: at(0),
    });

    // Assess
    expect(outcome.request).toMatchObject({ status: 'PENDING', version: 1, approvals: [], durationMs: HOUR });
    expect(outcome.events).toMatchObject([
      { type: 'request.created', chainId: requestChainId(FIXTURE_ID), actorId: U.eve },
    ]);
  });

  it('auto-approves at once when the entitlement says so, recording both events', () => {
    // Act
    const outcome = openRequest({
      id: FIXTURE_ID,
      requester: actor(U.eve),
      entitlement: entitlementOf(SANDBOX),
      configHash: config.configHash,
      accountId: '111111111111',
      now: at(0),
    });

    // Assess
    expect(outcome.request.status).toBe('APPROVED');
    expect(outcome.request.approvals).toEqual([]);
    expect(outcome.events.map((event) => event.type)).toEqual(['request.created', 'request.approved']);
  });

  it('refuses a start time more than a minute in the past', () => {
    // Act / Assess
    expect(() =>
      openRequest({
        id: FIXTURE_ID,
        requester: actor(U.eve),
        entitlement: entitlementOf(READ_ONLY),
        configHash: config.configHash,
        accountId: '111111111111',
        startAt: at(-2),
        now: at(0),
      }),
    ).toThrowError(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });
});

describe('extensions', () => {
  const prodActive = () => fixtureRequest('ACTIVE', { entitlementId: PROD_ADMIN });
  const extendBy = (request: AccessRequest, additionalMs: number) =>
    decide(request, { type: 'extend', actor: actor(U.eve), additionalMs, reason: 'more time' }, at(30))
      .request;

  it('moves expiry and bumps the grant version once the extension reaches quorum', () => {
    // Prepare
    const active = prodActive();
    const grant = grantOf(active);
    const pending = extendBy(active, HOUR);

    // Act
    const afterFirst = decide(pending, { type: 'approve', actor: actor(U.alice) }, at(31));
    const afterSecond = decide(afterFirst.request, { type: 'approve', actor: actor(U.bob) }, at(32));

    // Assess
    expect(pending.status).toBe('EXTENSION_PENDING');
    expect(afterFirst.request.status).toBe('EXTENSION_PENDING');
    expect(afterFirst.request.extension?.approvals).toHaveLength(1);
    expect(afterFirst.request.grant).toEqual(grant);
    expect(afterSecond.request.status).toBe('ACTIVE');
    expect(afterSecond.request.extension).toBeUndefined();
    expect(afterSecond.request.grant).toEqual({
      grantVersion: grant.grantVersion + 1,
      startedAt: grant.startedAt,
      expiresAt: new Date(Date.parse(grant.expiresAt) + HOUR).toISOString(),
      totalDurationMs: grant.totalDurationMs + HOUR,
    });
    expect(afterSecond.events).toMatchObject([
      { type: 'request.extension_approved', details: { grantVersion: grant.grantVersion + 1 } },
    ]);
  });

  it.each<{ name: string; command: Command; type: string }>([
    { name: 'denied', command: { type: 'deny', actor: actor(U.alice) }, type: 'request.extension_denied' },
    {
      name: 'timed out',
      command: { type: 'timeout', approvalTimeoutMs: 0 },
      type: 'request.extension_denied',
    },
  ])('returns to ACTIVE with the same expiry when the extension is $name', ({ command, type }) => {
    // Prepare
    const active = prodActive();
    const pending = extendBy(active, HOUR);

    // Act
    const outcome = decide(pending, command, at(31));

    // Assess
    expect(outcome.request.status).toBe('ACTIVE');
    expect(outcome.request.grant).toEqual(active.grant);
    expect(outcome.request.extension).toBeUndefined();
    expect(outcome.events).toMatchObject([{ type }]);
  });

  it('extends an auto-approved grant at once, recording the request and the approval', () => {
    // Prepare
    const active = fixtureRequest('ACTIVE', { entitlementId: SANDBOX });

    // Act
    const outcome = decide(active, { type: 'extend', actor: actor(U.eve), additionalMs: HOUR }, at(30));

    // Assess
    expect(outcome.request.status).toBe('ACTIVE');
    expect(outcome.request.version).toBe(active.version + 1);
    expect(outcome.request.grant?.grantVersion).toBe(2);
    expect(outcome.events.map((event) => event.type)).toEqual([
      'request.extension_requested',
      'request.extension_approved',
    ]);
  });
});

describe('expiry', () => {
  it('ignores an expiry carrying a grant version an extension superseded', () => {
    // Prepare: extended once (grant version 2), then the original schedule fires after the old expiry
    let request = fixtureRequest('EXTENSION_PENDING');
    const originalExpiry = new Date(grantOf(request).expiresAt);
    request = decide(request, { type: 'approve', actor: actor(U.alice) }, at(20)).request;

    // Act
    const outcome = decide(request, { type: 'expire', grantVersion: 1 }, originalExpiry);

    // Assess
    expect(request.grant?.grantVersion).toBe(2);
    expect(outcome.changed).toBe(false);
    expect(outcome.events).toEqual([]);
    expect(outcome.request).toBe(request);
    expect(outcome.request.version).toBe(request.version);
  });

  it('ignores an expiry delivered before the grant expires', () => {
    // Prepare
    const request = fixtureRequest('ACTIVE');
    const early = new Date(Date.parse(grantOf(request).expiresAt) - 1);

    // Act
    const outcome = decide(request, { type: 'expire', grantVersion: grantOf(request).grantVersion }, early);

    // Assess
    expect(outcome).toEqual({ request, events: [], changed: false });
  });

  it('expires at the exact expiry time and treats a second expiry as harmless', () => {
    // Prepare
    const request = fixtureRequest('ACTIVE');
    const expiry = new Date(grantOf(request).expiresAt);
    const command: Command = { type: 'expire', grantVersion: grantOf(request).grantVersion };

    // Act
    const first = decide(request, command, expiry);
    const second = decide(first.request, command, new Date(expiry.getTime() + HOUR));

    // Assess
    expect(first.request).toMatchObject({ status: 'EXPIRED', version: request.version + 1 });
    expect(first.events).toMatchObject([{ type: 'grant.expired' }]);
    expect(second).toEqual({ request: first.request, events: [], changed: false });
  });
});

describe('break-glass', () => {
  const openedBy = (userId: string) =>
    openBreakGlass({
      id: FIXTURE_ID,
      requester: actor(userId),
      entitlement: entitlementOf(PROD_ADMIN),
      configHash: config.configHash,
      accountId: '222222222222',
      ...VALID_JUSTIFICATION,
      now: at(0),
    });

  it('opens APPROVED without approvals, flagged for review', () => {
    // Act
    const outcome = openedBy(U.eve);

    // Assess
    expect(outcome.request).toMatchObject({
      status: 'APPROVED',
      approvals: [],
      version: 1,
      breakGlass: { activatedBy: U.eve, reviewStatus: 'REVIEW_REQUIRED' },
    });
    expect(outcome.events).toMatchObject([{ type: 'breakglass.activated', actorId: U.eve }]);
  });

  it.each([
    { reviewer: U.alice, who: 'an approver of the entitlement' },
    { reviewer: U.adam, who: 'an admin' },
  ])('is REVIEWED after a review by $who', ({ reviewer }) => {
    // Prepare
    const request = fixtureRequest('ACTIVE', { entitlementId: PROD_ADMIN, breakGlass: true });

    // Act
    const outcome = decide(request, { type: 'review', actor: actor(reviewer), comment: 'justified' }, at(60));

    // Assess
    expect(outcome.request.status).toBe('ACTIVE');
    expect(outcome.request.version).toBe(request.version + 1);
    expect(outcome.request.breakGlass).toEqual({
      activatedBy: U.eve,
      reviewStatus: 'REVIEWED',
      review: { actorId: reviewer, at: at(60).toISOString(), comment: 'justified' },
    });
    expect(outcome.events).toMatchObject([{ type: 'breakglass.reviewed', actorId: reviewer }]);
  });

  it.each([
    { name: 'the activator', activator: U.eve, reviewer: U.eve, code: 'SELF_APPROVAL' },
    {
      name: 'another account of the activator',
      activator: U.aliceAlt,
      reviewer: U.alice,
      code: 'SAME_PERSON_APPROVAL',
    },
    { name: 'someone neither approver nor admin', activator: U.eve, reviewer: U.erin, code: 'NOT_APPROVER' },
  ])('refuses a review by $name with $code', ({ activator, reviewer, code }) => {
    // Prepare
    const request = openedBy(activator).request;

    // Act / Assess
    expect(() => decide(request, { type: 'review', actor: actor(reviewer) }, at(1))).toThrowError(
      expect.objectContaining({ code }),
    );
  });

  it('refuses a second review', () => {
    // Prepare
    const reviewed = decide(
      openedBy(U.eve).request,
      { type: 'review', actor: actor(U.alice) },
      at(1),
    ).request;

    // Act / Assess
    expect(() => decide(reviewed, { type: 'review', actor: actor(U.bob) }, at(2))).toThrowError(
      expect.objectContaining({ code: 'INVALID_STATE' }),
    );
  });

  it('refuses to review a request that was not a break-glass activation', () => {
    // Act / Assess
    expect(() =>
      decide(fixtureRequest('ACTIVE'), { type: 'review', actor: actor(U.alice) }, at(1)),
    ).toThrowError(expect.objectContaining({ code: 'INVALID_STATE' }));
  });

  it('can still be reviewed after its grant ended, without leaving its terminal status', () => {
    // Prepare: reviews are after the fact; the grant may have expired long before
    const request = fixtureRequest('EXPIRED', { entitlementId: PROD_ADMIN, breakGlass: true });

    // Act
    const outcome = decide(request, { type: 'review', actor: actor(U.alice) }, LATER);

    // Assess
    expect(outcome.request.status).toBe('EXPIRED');
    expect(outcome.request.breakGlass?.reviewStatus).toBe('REVIEWED');
  });
});

describe('versions and audit drafts', () => {
  it('increases the version by exactly one per change along the whole happy path', () => {
    // Prepare
    const steps: Array<[Command, Date]> = [
      [{ type: 'approve', actor: actor(U.alice) }, at(1)],
      [{ type: 'approve', actor: actor(U.bob) }, at(2)],
      [{ type: 'start-provisioning' }, at(3)],
      [{ type: 'activate' }, at(4)],
      [{ type: 'extend', actor: actor(U.eve), additionalMs: HOUR, reason: 'more' }, at(5)],
      [{ type: 'approve', actor: actor(U.bob) }, at(6)],
      [{ type: 'approve', actor: actor(U.alice) }, at(7)],
      [{ type: 'expire', grantVersion: 2 }, at(4 + 120)],
    ];
    let request = fixtureRequest('PENDING', { entitlementId: PROD_ADMIN });
    const versions = [request.version];

    // Act
    for (const [command, now] of steps) {
      const outcome = decide(request, command, now);
      expect(outcome.events.length).toBeGreaterThanOrEqual(1);
      request = outcome.request;
      versions.push(request.version);
    }

    // Assess
    expect(versions).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(request.status).toBe('EXPIRED');
  });

  it('raises only PamErrors for refusals', () => {
    // Act
    let thrown: unknown;
    try {
      decide(fixtureRequest('DENIED'), { type: 'approve', actor: actor(U.alice) }, LATER);
    } catch (error) {
      thrown = error;
    }

    // Assess
    expect(thrown).toBeInstanceOf(PamError);
  });
});

describe('names: kept on the record for people to read, never deciding anything', () => {
  const NAMES: Readonly<Record<string, string>> = {
    [U.eve]: 'Eve Engineer',
    [U.alice]: 'Alice Approver',
    [U.bob]: 'Bob Approver',
    [U.adam]: 'Adam Admin',
  };
  /** The actor resolveActor builds: with the Identity Store display name. */
  const named = (userId: string): Actor => ({ ...actor(userId), displayName: NAMES[userId] ?? userId });
  const opening = (requester: Actor, entitlementId = READ_ONLY) => ({
    id: FIXTURE_ID,
    requester,
    entitlement: entitlementOf(entitlementId),
    configHash: config.configHash,
    accountId: entitlementOf(entitlementId).target.accounts[0] as string,
    ...VALID_JUSTIFICATION,
    now: at(0),
  });

  it.each([
    { name: 'a request', open: openRequest },
    { name: 'a break-glass activation', open: openBreakGlass },
  ])(
    '$name records the requester’s name, and its opening event is the one a nameless requester leaves',
    ({ open }) => {
      // Act
      const withName = open(opening(named(U.eve), PROD_ADMIN));
      const without = open(opening(actor(U.eve), PROD_ADMIN));

      // Assess
      expect(withName.request).toEqual({ ...without.request, requesterName: 'Eve Engineer' });
      expect(without.request).not.toHaveProperty('requesterName');
      expect(withName.events).toEqual(without.events);
    },
  );

  it.each<{
    name: string;
    request: () => AccessRequest;
    command: (who: (userId: string) => Actor) => Command;
    recorded: (request: AccessRequest) => unknown;
    expected: Record<string, unknown>;
  }>([
    {
      name: 'an approval',
      request: () => fixtureRequest('PENDING', { entitlementId: PROD_ADMIN }),
      command: (who) => ({ type: 'approve', actor: who(U.alice), comment: 'ok' }),
      recorded: (request) => request.approvals[0],
      expected: { approverId: U.alice, approverName: 'Alice Approver', comment: 'ok' },
    },
    {
      name: 'an extension’s approval',
      request: () => fixtureRequest('EXTENSION_PENDING', { entitlementId: PROD_ADMIN }),
      command: (who) => ({ type: 'approve', actor: who(U.bob) }),
      recorded: (request) => request.extension?.approvals[0],
      expected: { approverId: U.bob, approverName: 'Bob Approver' },
    },
    {
      name: 'a denial',
      request: () => fixtureRequest('PENDING'),
      command: (who) => ({ type: 'deny', actor: who(U.alice), comment: 'not now' }),
      recorded: (request) => request.denial,
      expected: { actorId: U.alice, actorName: 'Alice Approver', comment: 'not now' },
    },
    {
      name: 'a cancellation',
      request: () => fixtureRequest('PENDING'),
      command: (who) => ({ type: 'cancel', actor: who(U.eve) }),
      recorded: (request) => request.cancellation,
      expected: { actorId: U.eve, actorName: 'Eve Engineer' },
    },
    {
      name: 'a revocation',
      request: () => fixtureRequest('ACTIVE'),
      command: (who) => ({ type: 'revoke', actor: who(U.adam), comment: 'left the team' }),
      recorded: (request) => request.revocation,
      expected: { actorId: U.adam, actorName: 'Adam Admin', comment: 'left the team' },
    },
    {
      name: 'a break-glass review',
      request: () => fixtureRequest('ACTIVE', { entitlementId: PROD_ADMIN, breakGlass: true }),
      command: (who) => ({ type: 'review', actor: who(U.alice), comment: 'justified' }),
      recorded: (request) => request.breakGlass?.review,
      expected: { actorId: U.alice, actorName: 'Alice Approver', comment: 'justified' },
    },
  ])(
    '$name records who decided by name, and its audit event is the one a nameless actor leaves',
    ({ request, command, recorded, expected }) => {
      // Prepare
      const before = request();

      // Act
      const withName = decide(before, command(named), at(90));
      const without = decide(before, command(actor), at(90));

      // Assess
      expect(recorded(withName.request)).toMatchObject(expected);
      expect(recorded(without.request)).toBeDefined();
      expect(recorded(without.request)).not.toHaveProperty(Object.keys(expected)[1] as string);
      expect(withName.events).toEqual(without.events);
      expect(withName.request.status).toBe(without.request.status);
    },
  );

  it('a request made before names were kept is decided as before and gains only the decider’s name', () => {
    // Prepare: no requesterName, as every record made before this change
    const old = fixtureRequest('PENDING');
    expect(old).not.toHaveProperty('requesterName');

    // Act
    const outcome = decide(old, { type: 'approve', actor: named(U.alice) }, at(5));

    // Assess
    expect(outcome.request.status).toBe('APPROVED');
    expect(outcome.request).not.toHaveProperty('requesterName');
    expect(outcome.request.approvals).toEqual([
      {
        approverId: U.alice,
        approverName: 'Alice Approver',
        at: at(5).toISOString(),
        personKeys: actor(U.alice).personKeys,
      },
    ]);
  });

  it('an approver who shares the requester’s name still approves: a name is not a person', () => {
    // Prepare
    const request = openRequest(opening({ ...actor(U.eve), displayName: 'Sam Lee' })).request;

    // Act
    const outcome = decide(
      request,
      { type: 'approve', actor: { ...actor(U.alice), displayName: 'Sam Lee' } },
      at(1),
    );

    // Assess
    expect(outcome.request.status).toBe('APPROVED');
  });

  it('another account of the requester is refused under any name: person keys decide', () => {
    // Prepare: u-alice-alt and u-alice share an ExternalId
    const request = openRequest(opening({ ...actor(U.aliceAlt), displayName: 'A. Alt' })).request;

    // Act / Assess
    expect(() =>
      decide(request, { type: 'approve', actor: { ...actor(U.alice), displayName: 'Somebody Else' } }, at(1)),
    ).toThrowError(expect.objectContaining({ code: 'SAME_PERSON_APPROVAL' }));
  });
});
