// shared/app/requests.ts over in-memory ports: the audit chain every decision leaves, refusals that
// change nothing but are audited, group membership read at decision time (and matched by the ids the
// snapshot pinned), the snapshot deciding rather than the current config, extension and break-glass.
import { describe, expect, it } from 'vitest';
import { type DecisionInput, makeActivateBreakGlass, makeDecideRequest } from '#app/requests.ts';
import { verifyChain } from '#domain/audit.ts';
import { requestChainId } from '#domain/audit-types.ts';
import {
  ACCOUNTS,
  type FixtureUser,
  fixtureCatalog,
  fixtureConfig,
  fixtureEntitlements,
  fixtureRequestWithChain,
  fixtureUsers,
  GROUPS,
  grantOf,
  PROD_ADMIN,
  READ_ONLY,
  SANDBOX,
  U,
  ULID_PATTERN,
  VALID_JUSTIFICATION,
} from '../support/fakes.ts';
import { seedRequest } from '../support/grant-fakes.ts';

import { codeOf, HOUR, harness } from '../support/use-case-harness.ts';

describe('a 2-of-2 request from creation to approval', () => {
  it('is approved by two distinct approvers and leaves a verifying audit chain', async () => {
    // Prepare
    const h = harness();

    // Act
    const created = await h.open(U.eve, PROD_ADMIN);
    const afterFirst = await h.decideAs(U.alice, created.id, 'approve', { comment: 'looks fine' });
    const afterSecond = await h.decideAs(U.bob, created.id, 'approve');

    // Assess
    expect(created.id).toMatch(ULID_PATTERN);
    expect(created).toMatchObject({ status: 'PENDING', version: 1 });
    expect(afterFirst).toMatchObject({ status: 'PENDING', version: 2 });
    expect(afterSecond).toMatchObject({ status: 'APPROVED', version: 3 });
    expect(await h.store.get(created.id)).toEqual(afterSecond);
    const chain = await h.chain(created.id);
    expect(chain.map((event) => [event.type, event.actorId])).toEqual([
      ['request.created', U.eve],
      ['request.approved', U.alice],
      ['request.approved', U.bob],
    ]);
    expect(verifyChain(chain)).toEqual({ ok: true, length: 3 });
    expect(verifyChain(chain, await h.audit.head(requestChainId(created.id)))).toEqual({
      ok: true,
      length: 3,
    });
  });

  it('auto-approves in one transaction with both events on the chain', async () => {
    // Prepare
    const h = harness();

    // Act
    const created = await h.open(U.eve, SANDBOX, { accountId: ACCOUNTS.dev });

    // Assess
    expect(created.status).toBe('APPROVED');
    expect((await h.chain(created.id)).map((event) => event.type)).toEqual([
      'request.created',
      'request.approved',
    ]);
  });
});

describe('refusals change nothing and are audited once', () => {
  interface Refusal {
    readonly name: string;
    readonly requester: string;
    readonly entitlementId: string;
    readonly approvedBy: readonly string[];
    readonly actorId: string;
    readonly action: DecisionInput['action'];
    readonly extra?: Partial<DecisionInput>;
    readonly code: string;
  }
  const prodWithOneApproval = { requester: U.eve, entitlementId: PROD_ADMIN, approvedBy: [U.alice] };
  const refusals: Refusal[] = [
    {
      name: 'self-approval',
      ...prodWithOneApproval,
      actorId: U.eve,
      action: 'approve',
      code: 'SELF_APPROVAL',
    },
    {
      name: 'approval by the same person as the requester',
      requester: U.aliceAlt,
      entitlementId: READ_ONLY,
      approvedBy: [],
      actorId: U.alice,
      action: 'approve',
      code: 'SAME_PERSON_APPROVAL',
    },
    {
      name: 'a repeated approval',
      ...prodWithOneApproval,
      actorId: U.alice,
      action: 'approve',
      code: 'ALREADY_APPROVED',
    },
    {
      name: "an approval by the approver's second account",
      ...prodWithOneApproval,
      actorId: U.aliceAlt,
      action: 'approve',
      code: 'ALREADY_APPROVED',
    },
    {
      name: 'an approval by a non-approver',
      ...prodWithOneApproval,
      actorId: U.erin,
      action: 'approve',
      code: 'NOT_APPROVER',
    },
    {
      name: 'a denial by a non-approver',
      ...prodWithOneApproval,
      actorId: U.oscar,
      action: 'deny',
      code: 'NOT_APPROVER',
    },
    {
      name: 'a cancellation by an approver',
      ...prodWithOneApproval,
      actorId: U.bob,
      action: 'cancel',
      code: 'FORBIDDEN',
    },
    {
      name: 'a revocation while pending',
      ...prodWithOneApproval,
      actorId: U.eve,
      action: 'revoke',
      code: 'INVALID_STATE',
    },
    {
      name: 'an extension while pending',
      ...prodWithOneApproval,
      actorId: U.eve,
      action: 'extend',
      extra: { additionalMs: HOUR },
      code: 'INVALID_STATE',
    },
    {
      name: 'an extension without a duration',
      ...prodWithOneApproval,
      actorId: U.eve,
      action: 'extend',
      code: 'VALIDATION_FAILED',
    },
    {
      name: 'a review of a normal request',
      ...prodWithOneApproval,
      actorId: U.bob,
      action: 'review',
      code: 'INVALID_STATE',
    },
    {
      name: 'an approval of an approved request',
      requester: U.eve,
      entitlementId: READ_ONLY,
      approvedBy: [U.alice],
      actorId: U.aliceAlt,
      action: 'approve',
      code: 'INVALID_STATE',
    },
  ];

  it.each(refusals)('$name: $code, request unchanged, one request.rejected', async (refusal) => {
    // Prepare
    const h = harness();
    const created = await h.open(refusal.requester, refusal.entitlementId);
    for (const approver of refusal.approvedBy) await h.decideAs(approver, created.id, 'approve');
    const before = JSON.stringify(await h.store.get(created.id));
    const chainBefore = await h.chain(created.id);

    // Act
    const code = await codeOf(h.decideAs(refusal.actorId, created.id, refusal.action, refusal.extra));

    // Assess
    expect(code).toBe(refusal.code);
    expect(JSON.stringify(await h.store.get(created.id))).toBe(before);
    const chainAfter = await h.chain(created.id);
    expect(chainAfter.slice(0, -1)).toEqual(chainBefore);
    expect(chainAfter.at(-1)).toMatchObject({
      type: 'request.rejected',
      actorId: refusal.actorId,
      requestId: created.id,
      entitlementId: refusal.entitlementId,
      details: { action: refusal.action, code: refusal.code },
    });
    expect(verifyChain(chainAfter).ok).toBe(true);
  });

  it.each([
    { name: 'a request by an ineligible user', actorId: U.alice, extra: {}, code: 'NOT_ELIGIBLE' },
    {
      name: 'a request without a valid ticket',
      actorId: U.eve,
      extra: { ticket: 'JIRA-1' },
      code: 'TICKET_INVALID',
    },
    {
      name: 'a request for a foreign account',
      actorId: U.eve,
      extra: { accountId: ACCOUNTS.other },
      code: 'INVALID_TARGET',
    },
    {
      name: 'a request that is too long',
      actorId: U.eve,
      extra: { durationMs: 3 * HOUR },
      code: 'DURATION_EXCEEDED',
    },
  ])('records $name on the system chain and stores nothing', async ({ actorId, extra, code }) => {
    // Prepare
    const h = harness();

    // Act
    const refused = await codeOf(h.open(actorId, PROD_ADMIN, extra));

    // Assess
    expect(refused).toBe(code);
    expect(h.store.all()).toEqual([]);
    const system = await h.audit.readChain('system');
    expect(system).toHaveLength(1);
    expect(system[0]).toMatchObject({
      type: 'request.rejected',
      actorId,
      requestId: null,
      entitlementId: PROD_ADMIN,
      details: { action: 'create', code },
    });
    expect(h.audit.chainIds()).toEqual(['system']);
  });

  it('records a refused break-glass activation on the system chain', async () => {
    // Prepare
    const h = harness();

    // Act
    const refused = await codeOf(
      makeActivateBreakGlass(h.deps)({
        actorId: U.erin,
        entitlementId: PROD_ADMIN,
        accountId: ACCOUNTS.prod,
        ...VALID_JUSTIFICATION,
      }),
    );

    // Assess
    expect(refused).toBe('NOT_BREAK_GLASS');
    expect(await h.audit.readChain('system')).toMatchObject([
      { type: 'request.rejected', details: { action: 'break-glass', code: 'NOT_BREAK_GLASS' } },
    ]);
  });

  it('still throws the original refusal when auditing it fails, and reports the failure', async () => {
    // Prepare
    const h = harness();
    const created = await h.open(U.eve, PROD_ADMIN);
    const before = JSON.stringify(await h.store.get(created.id));
    h.audit.unavailable = true;

    // Act
    const code = await codeOf(h.decideAs(U.erin, created.id, 'approve'));

    // Assess
    expect(code).toBe('NOT_APPROVER');
    expect(JSON.stringify(await h.store.get(created.id))).toBe(before);
    expect(await h.chain(created.id)).toHaveLength(1);
    expect(h.diagnostics.failedRejectionAudits).toMatchObject([
      { action: 'approve', code: 'NOT_APPROVER', requestId: created.id },
    ]);
  });

  it('fails closed when the audit log is unavailable: nothing changes and nothing is recorded', async () => {
    // Prepare
    const h = harness();
    const created = await h.open(U.eve, PROD_ADMIN);
    const before = JSON.stringify(await h.store.get(created.id));
    h.audit.unavailable = true;

    // Act
    const code = await codeOf(h.decideAs(U.alice, created.id, 'approve'));

    // Assess
    h.audit.unavailable = false;
    expect(code).toBe('AUDIT_UNAVAILABLE');
    expect(JSON.stringify(await h.store.get(created.id))).toBe(before);
    expect(await h.chain(created.id)).toHaveLength(1);
    expect(h.diagnostics.failedRejectionAudits).toEqual([]);
  });

  it.each([
    { name: 'a disabled user', actorId: U.dan, code: 'UNAUTHENTICATED' },
    { name: 'a deleted user', actorId: 'u-gone', code: 'UNAUTHENTICATED' },
  ])('does not audit a decision attempt by $name (not a person we know)', async ({ actorId, code }) => {
    // Prepare
    const h = harness();
    const created = await h.open(U.eve, READ_ONLY);

    // Act
    const refused = await codeOf(h.decideAs(actorId, created.id, 'approve'));

    // Assess
    expect(refused).toBe(code);
    expect(await h.chain(created.id)).toHaveLength(1);
  });

  it('answers NOT_FOUND for an unknown request without writing anything', async () => {
    // Prepare
    const h = harness();

    // Act
    const code = await codeOf(h.decideAs(U.alice, '01JNQ00000000000000000ZZZZ', 'approve'));

    // Assess
    expect(code).toBe('NOT_FOUND');
    expect(h.audit.all()).toEqual([]);
  });
});

describe('decisions read groups and policy at the right time', () => {
  it('refuses an approver removed from the group after the request was made', async () => {
    // Prepare
    const h = harness();
    const created = await h.open(U.eve, PROD_ADMIN);
    h.directory.removeFromGroup(U.alice, GROUPS.prodApprovers);
    const readsBefore = h.directory.groupsOfCount(U.alice);

    // Act
    const code = await codeOf(h.decideAs(U.alice, created.id, 'approve'));

    // Assess
    expect(code).toBe('NOT_APPROVER');
    expect(h.directory.groupsOfCount(U.alice)).toBe(readsBefore + 1);
  });

  it('counts an approver added to the group after the request was made', async () => {
    // Prepare
    const h = harness();
    const created = await h.open(U.eve, READ_ONLY);
    h.directory.setGroups(U.oscar, [GROUPS.approvers]);

    // Act
    const decided = await h.decideAs(U.oscar, created.id, 'approve');

    // Assess
    expect(decided.status).toBe('APPROVED');
  });

  it('reads the groups afresh on every decision (no cache between two calls)', async () => {
    // Prepare
    const h = harness();
    const first = await h.open(U.eve, READ_ONLY);
    const second = await h.open(U.erin, READ_ONLY);
    await h.decideAs(U.alice, first.id, 'approve');
    h.directory.removeFromGroup(U.alice, GROUPS.approvers);

    // Act
    const code = await codeOf(h.decideAs(U.alice, second.id, 'approve'));

    // Assess
    expect(code).toBe('NOT_APPROVER');
    expect(h.directory.groupsOfCount(U.alice)).toBe(2);
  });

  it('decides by the snapshot: a later config asking for 1 approval still needs 2', async () => {
    // Prepare
    const h = harness();
    const created = await h.open(U.eve, PROD_ADMIN);
    const relaxed = fixtureConfig({
      configHash: 'b'.repeat(64),
      entitlements: fixtureEntitlements().map((entry) =>
        entry.id === PROD_ADMIN
          ? { ...entry, approval: { approvers: ['someone-else'], required: 1, autoApprove: false } }
          : entry,
      ),
    });
    const later = makeDecideRequest({ ...h.deps, catalog: fixtureCatalog(relaxed) });

    // Act
    const afterFirst = await later({ actorId: U.alice, requestId: created.id, action: 'approve' });
    const afterSecond = await later({ actorId: U.bob, requestId: created.id, action: 'approve' });

    // Assess
    expect(afterFirst.status).toBe('PENDING');
    expect(afterSecond.status).toBe('APPROVED');
    expect(afterSecond.snapshot).toEqual(created.snapshot);
    expect(afterSecond.snapshot.configHash).toBe('a'.repeat(64));
  });
});

describe('groups are matched by the ids the snapshot pinned', () => {
  it('does not count an approver group whose id changed after the request was made', async () => {
    // Prepare: the config now points the approver group's name at another Identity Store group.
    const h = harness();
    const created = await h.open(U.eve, PROD_ADMIN);
    const base = fixtureConfig();
    const repointed = fixtureConfig({
      configHash: 'c'.repeat(64),
      identityCenter: {
        ...base.identityCenter,
        groupIds: { ...base.identityCenter.groupIds, [GROUPS.prodApprovers]: 'g-some-other-group' },
      },
    });
    const later = makeDecideRequest({ ...h.deps, catalog: fixtureCatalog(repointed) });

    // Act
    const code = await codeOf(later({ actorId: U.alice, requestId: created.id, action: 'approve' }));

    // Assess
    expect(created.snapshot.groupIds?.[GROUPS.prodApprovers]).toBe(`g-${GROUPS.prodApprovers}`);
    expect(code).toBe('NOT_APPROVER');
    expect((await h.store.get(created.id))?.approvals).toEqual([]);
  });

  it('maps a request made before ids were recorded through the config and says so in its trail', async () => {
    // Prepare: a request and chain as an earlier release wrote them (no group ids, no whole snapshot).
    const h = harness();
    const { request, events } = fixtureRequestWithChain('PENDING', { id: 'older-request' });
    const { groupIds: _dropped, ...older } = request.snapshot;
    const olderEvents = events.map((event) => {
      if (event.type !== 'request.created' || !event.details) return event;
      const { groupIds: _ids, snapshot: _snapshot, ...details } = event.details;
      return { ...event, details };
    });
    const created = await seedRequest(h.store, { ...request, snapshot: older }, olderEvents);

    // Act
    const decided = await h.decideAs(U.alice, created.id, 'approve');

    // Assess
    expect(decided.status).toBe('APPROVED');
    const approved = (await h.chain(created.id)).find((event) => event.type === 'request.approved');
    expect(approved?.details).toMatchObject({
      groupsMatchedBy: 'config',
      groupIds: { [GROUPS.approvers]: `g-${GROUPS.approvers}` },
    });
  });
});

describe('extension and break-glass through the use cases', () => {
  it('extends an active grant after two approvals and ignores the superseded expiry', async () => {
    // Prepare
    const h = harness();
    const created = await h.open(U.eve, PROD_ADMIN);
    await h.decideAs(U.alice, created.id, 'approve');
    await h.decideAs(U.bob, created.id, 'approve');
    const active = await h.activate(created.id);
    await h.decideAs(U.eve, created.id, 'extend', { additionalMs: HOUR, reason: 'migration still running' });
    await h.decideAs(U.bob, created.id, 'approve');
    const extended = await h.decideAs(U.alice, created.id, 'approve');
    h.clock.set(grantOf(active).expiresAt);

    // Act
    const stale = await h.applySystem(created.id, { type: 'expire', grantVersion: 1 });

    // Assess
    expect(extended).toMatchObject({
      status: 'ACTIVE',
      grant: { grantVersion: 2, totalDurationMs: 2 * HOUR },
    });
    expect(stale.changed).toBe(false);
    expect((await h.store.get(created.id))?.version).toBe(extended.version);
    expect(verifyChain(await h.chain(created.id)).ok).toBe(true);
  });

  it('activates break-glass at once and lets another approver review it', async () => {
    // Prepare
    const h = harness();
    const breakGlass = makeActivateBreakGlass(h.deps);

    // Act
    const opened = await breakGlass({
      actorId: U.eve,
      entitlementId: PROD_ADMIN,
      accountId: ACCOUNTS.prod,
      ...VALID_JUSTIFICATION,
    });
    const selfReview = await codeOf(h.decideAs(U.eve, opened.id, 'review'));
    const reviewed = await h.decideAs(U.alice, opened.id, 'review', { comment: 'justified' });

    // Assess
    expect(opened).toMatchObject({ status: 'APPROVED', breakGlass: { reviewStatus: 'REVIEW_REQUIRED' } });
    expect(selfReview).toBe('SELF_APPROVAL');
    expect(reviewed.breakGlass).toMatchObject({ reviewStatus: 'REVIEWED', review: { actorId: U.alice } });
    expect((await h.chain(opened.id)).map((event) => event.type)).toEqual([
      'breakglass.activated',
      'request.rejected',
      'breakglass.reviewed',
    ]);
  });
});

describe('names of the people who act', () => {
  it('are read from the Identity Store when each acts and kept: display name, else user name', async () => {
    // Prepare: eve and alice have display names; bob has only a user name
    const users = fixtureUsers().map((user) => {
      if (user.userId === U.eve) return { ...user, displayName: 'Eve Engineer' };
      if (user.userId === U.alice) return { ...user, displayName: 'Alice Approver' };
      if (user.userId === U.bob) return { ...user, userName: 'bob@example.com' };
      return user;
    });
    const h = harness({ users });
    const created = await h.open(U.eve, PROD_ADMIN);
    // Renamed after asking: the request keeps the name it was made under.
    h.directory.add({
      ...(users.find((user) => user.userId === U.eve) as FixtureUser),
      displayName: 'Eve R.',
    });

    // Act
    await h.decideAs(U.alice, created.id, 'approve');
    const approved = await h.decideAs(U.bob, created.id, 'approve');
    const revoked = await h.decideAs(U.eve, created.id, 'revoke', { comment: 'done early' });

    // Assess
    expect(created.requesterName).toBe('Eve Engineer');
    expect(approved.requesterName).toBe('Eve Engineer');
    expect(approved.approvals.map((approval) => approval.approverName)).toEqual([
      'Alice Approver',
      'bob@example.com',
    ]);
    expect(revoked.revocation).toMatchObject({ actorId: U.eve, actorName: 'Eve R.', comment: 'done early' });
    expect(await h.store.get(created.id)).toEqual(revoked);
    expect(verifyChain(await h.chain(created.id)).ok).toBe(true);
  });
});
