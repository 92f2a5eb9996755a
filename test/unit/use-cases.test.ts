// The request-core use cases over in-memory ports: the audit chain every decision leaves, refusals
// that change nothing but are audited, group membership read at decision time, the snapshot deciding
// rather than the current config, the listing queries, and the commands-queue dispatcher.
import { describe, expect, it } from 'vitest';
import { DeliveryTooEarlyError, deliveryKey, makeProcessCommand, QueueCommandSchema } from '#app/commands.ts';
import type { Delivery } from '#app/delivery.ts';
import { makeListRequestableEntitlements } from '#app/entitlements.ts';
import {
  type CreateRequestInput,
  type DecisionInput,
  makeActivateBreakGlass,
  makeApplySystemCommand,
  makeCreateRequest,
  makeDecideRequest,
  makeGetRequest,
  makeListAwaitingMyApproval,
  makeListMyRequests,
} from '#app/requests.ts';
import { verifyChain } from '#domain/audit.ts';
import { requestChainId } from '#domain/audit-types.ts';
import type { AccessRequest } from '#domain/model.ts';
import { decide } from '#domain/state-machine.ts';
import type { Page, PageRequest } from '#ports/index.ts';
import {
  ACCOUNTS,
  fixtureActor,
  fixtureCatalog,
  fixtureConfig,
  fixtureEntitlements,
  fixtureRequestWithChain,
  GROUPS,
  grantOf,
  makeTestDeps,
  PROD_ADMIN,
  READ_ONLY,
  SANDBOX,
  U,
  ULID_PATTERN,
  VALID_JUSTIFICATION,
} from '../support/fakes.ts';
import { seedRequest } from '../support/grant-fakes.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

function harness(options: Parameters<typeof makeTestDeps>[0] = {}) {
  const t = makeTestDeps(options);
  const createRequest = makeCreateRequest(t.deps);
  const decideRequest = makeDecideRequest(t.deps);
  const applySystem = makeApplySystemCommand(t.deps);
  return {
    ...t,
    createRequest,
    decideRequest,
    applySystem,
    /** Opens a request a minute after the previous one (so creation order is unambiguous). */
    async open(requester: string, entitlementId: string, extra: Partial<CreateRequestInput> = {}) {
      t.clock.advance(MINUTE);
      return createRequest({
        actorId: requester,
        entitlementId,
        accountId: ACCOUNTS.prod,
        ...VALID_JUSTIFICATION,
        ...extra,
      });
    },
    async decideAs(
      actorId: string,
      requestId: string,
      action: DecisionInput['action'],
      extra: Partial<DecisionInput> = {},
    ) {
      t.clock.advance(MINUTE);
      return decideRequest({ actorId, requestId, action, ...extra });
    },
    /** APPROVED → PROVISIONING → ACTIVE through the system commands. */
    async activate(requestId: string) {
      await applySystem(requestId, { type: 'start-provisioning' });
      return (await applySystem(requestId, { type: 'activate' })).request;
    },
    chain: (requestId: string) => t.audit.readChain(requestChainId(requestId)),
  };
}

async function codeOf(work: Promise<unknown>): Promise<string | undefined> {
  try {
    await work;
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

async function collect<T>(
  list: (input: { actorId: string } & PageRequest) => Promise<Page<T>>,
  actorId: string,
  limit: number,
): Promise<{ items: T[]; pages: number }> {
  const items: T[] = [];
  let nextToken: string | undefined;
  let pages = 0;
  do {
    const page = await list({ actorId, limit, ...(nextToken === undefined ? {} : { nextToken }) });
    items.push(...page.items);
    nextToken = page.nextToken;
    pages += 1;
    if (pages > 50) throw new Error('pagination does not terminate');
  } while (nextToken !== undefined);
  return { items, pages };
}

const ids = (requests: readonly AccessRequest[]) => requests.map((request) => request.id);

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
    await h.decideAs(U.eve, created.id, 'extend', { additionalMs: HOUR, comment: 'migration still running' });
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

describe('reading and listing', () => {
  it.each([
    { name: 'the requester', viewer: U.eve, code: undefined },
    { name: 'an approver of the entitlement', viewer: U.alice, code: undefined },
    { name: 'an admin', viewer: U.adam, code: undefined },
    { name: 'another engineer', viewer: U.erin, code: 'NOT_FOUND' },
    { name: 'an approver of another entitlement', viewer: U.bob, code: 'NOT_FOUND' },
  ])('getRequest by $name → $code', async ({ viewer, code }) => {
    // Prepare
    const h = harness();
    const created = await h.open(U.eve, READ_ONLY);

    // Act
    const result = await codeOf(makeGetRequest(h.deps)({ actorId: viewer, requestId: created.id }));

    // Assess
    expect(result).toBe(code);
  });

  it('hides a request from a stranger exactly as it hides an unknown id', async () => {
    // Prepare
    const h = harness();
    const created = await h.open(U.eve, READ_ONLY);
    const get = makeGetRequest(h.deps);
    const messageOf = async (requestId: string) => {
      try {
        await get({ actorId: U.erin, requestId });
      } catch (error) {
        return (error as Error).message.replace(requestId, '<id>');
      }
      return 'visible';
    };

    // Act
    const hidden = await messageOf(created.id);
    const unknown = await messageOf('01JNQ00000000000000000ZZZZ');

    // Assess
    expect(hidden).toBe(unknown);
  });

  it('lists my requests newest first across pages', async () => {
    // Prepare
    const h = harness();
    const made: string[] = [];
    for (let i = 0; i < 5; i += 1) made.push((await h.open(U.eve, READ_ONLY)).id);
    await h.open(U.erin, READ_ONLY);

    // Act
    const { items, pages } = await collect(makeListMyRequests(h.deps), U.eve, 2);

    // Assess
    expect(ids(items)).toEqual([...made].reverse());
    expect(pages).toBe(3);
  });

  describe('awaiting my approval', () => {
    async function scene() {
      const h = harness();
      const readOnly = await h.open(U.eve, READ_ONLY);
      const prod = await h.open(U.eve, PROD_ADMIN);
      const aliceAltsOwn = await h.open(U.aliceAlt, READ_ONLY);
      const prodHalfApproved = await h.open(U.erin, PROD_ADMIN);
      await h.decideAs(U.alice, prodHalfApproved.id, 'approve');
      const approved = await h.open(U.erin, READ_ONLY);
      await h.decideAs(U.alice, approved.id, 'approve');
      const extension = await h.open(U.erin, READ_ONLY);
      await h.decideAs(U.aliceAlt, extension.id, 'approve');
      await h.activate(extension.id);
      await h.decideAs(U.erin, extension.id, 'extend', { additionalMs: HOUR });
      return { h, readOnly, prod, aliceAltsOwn, prodHalfApproved, approved, extension };
    }

    it.each([
      {
        viewer: U.alice,
        why: 'skips the request of her second account and the one she approved',
        expected: ['readOnly', 'prod', 'extension'],
      },
      {
        viewer: U.aliceAlt,
        why: 'skips her own request and the one her other account approved',
        expected: ['readOnly', 'prod', 'extension'],
      },
      { viewer: U.bob, why: "skips other groups' requests", expected: ['prod', 'prodHalfApproved'] },
      { viewer: U.erin, why: 'is empty for a non-approver', expected: [] },
      { viewer: U.adam, why: 'is empty for an admin outside the approver groups', expected: [] },
    ])('for $viewer $why', async ({ viewer, expected }) => {
      // Prepare
      const { h, ...requests } = await scene();
      const byName = requests as Record<string, AccessRequest>;

      // Act
      const { items } = await collect(makeListAwaitingMyApproval(h.deps), viewer, 25);

      // Assess
      expect(ids(items)).toEqual(expected.map((name) => byName[name]?.id));
    });

    it('returns the same requests one at a time through nextToken', async () => {
      // Prepare
      const { h } = await scene();
      const list = makeListAwaitingMyApproval(h.deps);
      const all = await collect(list, U.alice, 100);

      // Act
      const paged = await collect(list, U.alice, 1);

      // Assess
      expect(ids(paged.items)).toEqual(ids(all.items));
      expect(paged.pages).toBeGreaterThan(all.pages);
      expect(
        paged.items.every(
          (request) => request.status === 'PENDING' || request.status === 'EXTENSION_PENDING',
        ),
      ).toBe(true);
    });

    it('refuses a token it did not issue', async () => {
      // Prepare
      const h = harness();

      // Act
      const code = await codeOf(
        makeListAwaitingMyApproval(h.deps)({ actorId: U.alice, nextToken: 'bm90LWEtdG9rZW4' }),
      );

      // Assess
      expect(code).toBe('VALIDATION_FAILED');
    });

    it('refuses a forged token whose position is not a whole number', async () => {
      // Prepare
      const h = harness();
      const forged = Buffer.from(JSON.stringify({ s: 0.5 }), 'utf8').toString('base64url');

      // Act
      const code = await codeOf(makeListAwaitingMyApproval(h.deps)({ actorId: U.alice, nextToken: forged }));

      // Assess
      expect(code).toBe('VALIDATION_FAILED');
    });
  });

  describe('requestable entitlements', () => {
    it.each([
      {
        viewer: U.eve,
        expected: [
          [READ_ONLY, true, false],
          [PROD_ADMIN, true, true],
          [SANDBOX, true, false],
        ],
      },
      {
        viewer: U.erin,
        expected: [
          [READ_ONLY, true, false],
          [PROD_ADMIN, true, false],
          [SANDBOX, true, false],
        ],
      },
      { viewer: U.alice, expected: [] },
      { viewer: U.oscar, expected: [] },
    ])('for $viewer lists [id, eligible, breakGlass] = $expected', async ({ viewer, expected }) => {
      // Prepare
      const h = harness();

      // Act
      const page = await makeListRequestableEntitlements(h.deps)({ actorId: viewer });

      // Assess
      expect(page.items.map((item) => [item.id, item.eligible, item.breakGlass])).toEqual(expected);
      expect(page.nextToken).toBeUndefined();
    });

    it('lists a break-glass-only entitlement for a break-glass member who is not eligible', async () => {
      // Prepare
      const h = harness();
      h.directory.setGroups(U.oscar, [GROUPS.breakGlass]);

      // Act
      const page = await makeListRequestableEntitlements(h.deps)({ actorId: U.oscar });

      // Assess
      expect(page.items).toMatchObject([
        { id: PROD_ADMIN, eligible: false, breakGlass: true, approvalsRequired: 2 },
      ]);
    });

    it('paginates in config order', async () => {
      // Prepare
      const h = harness();
      const list = makeListRequestableEntitlements(h.deps);

      // Act
      const first = await list({ actorId: U.eve, limit: 2 });
      const second = await list({ actorId: U.eve, limit: 2, nextToken: first.nextToken as string });

      // Assess
      expect(first.items.map((item) => item.id)).toEqual([READ_ONLY, PROD_ADMIN]);
      expect(first.nextToken).toBeDefined();
      expect(second.items.map((item) => item.id)).toEqual([SANDBOX]);
      expect(second.nextToken).toBeUndefined();
    });
  });
});

describe('the commands queue', () => {
  const API = { by: 'api', requestId: 'apigw-request-1' } as const;
  const RECONCILER = { by: 'reconciler', pass: 'rule-event-1' } as const;
  const SCHEDULE = {
    by: 'schedule',
    schedule: 'arn:aws:scheduler:us-east-1:111111111111:schedule/cloud-pam/expire-x',
    at: '2026-03-02T10:00:00Z',
  } as const;

  async function pendingProd() {
    const h = harness();
    const created = await h.open(U.eve, PROD_ADMIN);
    return { h, created, process: makeProcessCommand(h.deps) };
  }

  it('applies a decision', async () => {
    // Prepare
    const { h, created, process } = await pendingProd();

    // Act
    const result = await process({
      action: 'approve',
      requestId: created.id,
      actorId: U.alice,
      delivery: API,
    });

    // Assess
    expect(result).toMatchObject({ outcome: 'applied', request: { version: 2, status: 'PENDING' } });
    expect(await h.chain(created.id)).toHaveLength(2);
  });

  it('answers a refusal with outcome "refused" instead of throwing (so SQS does not retry it)', async () => {
    // Prepare
    const { h, created, process } = await pendingProd();

    // Act
    const result = await process({
      action: 'approve',
      requestId: created.id,
      actorId: U.erin,
      delivery: API,
    });

    // Assess
    expect(result).toEqual({ outcome: 'refused', code: 'NOT_APPROVER' });
    expect((await h.chain(created.id)).at(-1)).toMatchObject({ type: 'request.rejected' });
  });

  it('throws on a concurrent modification so the message is retried', async () => {
    // Prepare: bob's approval lands between alice's read and alice's write
    const { h, created, process } = await pendingProd();
    h.store.beforeNextSave(async () => {
      const current = (await h.store.get(created.id)) as AccessRequest;
      const outcome = decide(current, { type: 'approve', actor: fixtureActor(U.bob) }, h.clock.now());
      await h.store.save({
        request: outcome.request,
        expectedVersion: current.version,
        events: outcome.events,
      });
    });

    // Act
    const code = await codeOf(
      process({ action: 'approve', requestId: created.id, actorId: U.alice, delivery: API }),
    );

    // Assess
    expect(code).toBe('CONCURRENT_MODIFICATION');
    const stored = await h.store.get(created.id);
    expect(stored?.approvals.map((approval) => approval.approverId)).toEqual([U.bob]);
    expect((await h.chain(created.id)).map((event) => event.type)).toEqual([
      'request.created',
      'request.approved',
    ]);
  });

  it('throws when the audit log is unavailable so the message is retried', async () => {
    // Prepare
    const { h, created, process } = await pendingProd();
    h.audit.unavailable = true;

    // Act
    const code = await codeOf(
      process({ action: 'approve', requestId: created.id, actorId: U.alice, delivery: API }),
    );

    // Assess
    expect(code).toBe('AUDIT_UNAVAILABLE');
  });

  it('answers a stale expiry (the grant was extended since) with "not-due" and writes nothing', async () => {
    // Prepare
    const h = harness();
    const created = await h.open(U.eve, READ_ONLY);
    await h.decideAs(U.alice, created.id, 'approve');
    const active = await h.activate(created.id);
    await h.decideAs(U.eve, created.id, 'extend', { additionalMs: HOUR });
    const extended = await h.decideAs(U.alice, created.id, 'approve');
    h.clock.set(grantOf(active).expiresAt);
    const eventsBefore = h.audit.all().length;

    // Act
    const result = await makeProcessCommand(h.deps)({
      action: 'expire',
      requestId: created.id,
      grantVersion: 1,
      expiresAt: grantOf(active).expiresAt,
      delivery: SCHEDULE,
    });

    // Assess: the chain proves the extended end, so the old schedule's expiry is not due.
    expect(result).toMatchObject({
      outcome: 'not-due',
      request: { version: extended.version, status: 'ACTIVE' },
      dueAt: grantOf(extended).expiresAt,
    });
    expect(h.audit.all()).toHaveLength(eventsBefore);
  });

  it('applies a timeout to a pending request once the approval timeout has passed', async () => {
    // Prepare
    const { h, created, process } = await pendingProd();
    const timeoutMs = h.deps.catalog.config.approvalTimeoutMs;

    // Act
    h.clock.advance(timeoutMs - 1000);
    const early = await process({ action: 'timeout', requestId: created.id, delivery: API });
    h.clock.advance(1000);
    const due = await process({ action: 'timeout', requestId: created.id, delivery: API });

    // Assess
    expect(early).toMatchObject({ outcome: 'no-op', request: { status: 'PENDING', version: 1 } });
    expect(due).toMatchObject({ outcome: 'applied', request: { status: 'TIMED_OUT' } });
  });

  it('refuses (without retry) an expiry of a request that never became active', async () => {
    // Prepare
    const { created, process } = await pendingProd();

    // Act
    const result = await process({
      action: 'expire',
      requestId: created.id,
      grantVersion: 1,
      expiresAt: '2026-03-02T10:00:00.000Z',
      delivery: SCHEDULE,
    });

    // Assess
    expect(result).toEqual({ outcome: 'refused', code: 'INVALID_STATE' });
  });

  describe('early deliveries', () => {
    async function scheduledReadOnly(h: ReturnType<typeof harness>) {
      const startAt = new Date(h.clock.now().getTime() + 2 * HOUR);
      const created = await h.open(U.eve, READ_ONLY, { startAt: startAt.toISOString() });
      await h.decideAs(U.alice, created.id, 'approve');
      await h.applySystem(created.id, { type: 'schedule' });
      return { created, startAt };
    }

    it('a start up to a minute early waits until its start time, then provisions', async () => {
      // Prepare
      const h = harness();
      const { created, startAt } = await scheduledReadOnly(h);
      h.clock.set(new Date(startAt.getTime() - 30_000));
      const waited: string[] = [];

      // Act
      const result = await makeProcessCommand(h.deps)(
        { action: 'start', requestId: created.id, delivery: SCHEDULE },
        {
          waitUntil: async (at) => {
            waited.push(at.toISOString());
            h.clock.set(at);
          },
        },
      );

      // Assess
      expect(waited).toEqual([startAt.toISOString()]);
      expect(result).toMatchObject({ outcome: 'applied', request: { status: 'PROVISIONING' } });
      expect((await h.store.get(created.id))?.updatedAt).toBe(startAt.toISOString());
    });

    it('a start more than a minute early is not due: nothing changes and nothing waits', async () => {
      // Prepare
      const h = harness();
      const { created, startAt } = await scheduledReadOnly(h);
      h.clock.set(new Date(startAt.getTime() - 61_000));
      const before = await h.store.get(created.id);

      // Act
      const result = await makeProcessCommand(h.deps)(
        { action: 'start', requestId: created.id, delivery: SCHEDULE },
        { waitUntil: async () => expect.unreachable('waited for a start that is not near') },
      );

      // Assess
      expect(result).toMatchObject({ outcome: 'not-due', dueAt: startAt.toISOString() });
      expect(await h.store.get(created.id)).toEqual(before);
    });

    it('an expiry 30 s early waits and ends the grant at its end time, not before', async () => {
      // Prepare
      const h = harness();
      const created = await h.open(U.eve, READ_ONLY);
      await h.decideAs(U.alice, created.id, 'approve');
      const active = await h.activate(created.id);
      const expiresAt = grantOf(active).expiresAt;
      h.clock.set(new Date(Date.parse(expiresAt) - 30_000));

      // Act
      const result = await makeProcessCommand(h.deps)(
        { action: 'expire', requestId: created.id, grantVersion: 1, expiresAt, delivery: SCHEDULE },
        { waitUntil: async (at) => h.clock.set(at) },
      );

      // Assess
      expect(result).toMatchObject({
        outcome: 'applied',
        request: { status: 'EXPIRED', endedAt: expiresAt },
      });
    });

    it('an expiry more than a minute early is not due and leaves the grant active', async () => {
      // Prepare
      const h = harness();
      const created = await h.open(U.eve, READ_ONLY);
      await h.decideAs(U.alice, created.id, 'approve');
      const active = await h.activate(created.id);
      const expiresAt = grantOf(active).expiresAt;
      h.clock.set(new Date(Date.parse(expiresAt) - 5 * MINUTE));

      // Act
      const result = await makeProcessCommand(h.deps)(
        { action: 'expire', requestId: created.id, grantVersion: 1, expiresAt, delivery: SCHEDULE },
        { waitUntil: async () => expect.unreachable('waited for an expiry that is not near') },
      );

      // Assess
      expect(result).toMatchObject({ outcome: 'not-due', request: { status: 'ACTIVE' } });
    });

    it('a near command that this invocation cannot wait for throws DeliveryTooEarlyError (retried when due)', async () => {
      // Prepare
      const h = harness();
      const created = await h.open(U.eve, READ_ONLY);
      await h.decideAs(U.alice, created.id, 'approve');
      const active = await h.activate(created.id);
      const expiresAt = grantOf(active).expiresAt;
      h.clock.set(new Date(Date.parse(expiresAt) - 10_000));

      // Act
      const outcome = makeProcessCommand(h.deps)({
        action: 'expire',
        requestId: created.id,
        grantVersion: 1,
        expiresAt,
        delivery: SCHEDULE,
      });

      // Assess
      await expect(outcome).rejects.toBeInstanceOf(DeliveryTooEarlyError);
      expect((await h.store.get(created.id))?.status).toBe('ACTIVE');
    });
  });

  describe('deliveryKey', () => {
    const requestId = '01JNQ0000000000000000000AA';
    const start = (delivery: Delivery) => ({ action: 'start' as const, requestId, delivery });

    it('differs for the same body from two senders, so each is processed', () => {
      expect(deliveryKey(start(SCHEDULE))).not.toBe(deliveryKey(start(RECONCILER)));
      expect(deliveryKey(start({ by: 'stream', eventId: 'e1' }))).not.toBe(
        deliveryKey(start({ by: 'stream', eventId: 'e2' })),
      );
    });

    it('is the same for two deliveries of one occurrence, so the second is answered from the record', () => {
      expect(deliveryKey(start({ ...SCHEDULE }))).toBe(deliveryKey(start(SCHEDULE)));
    });

    it('differs for two commands sent in one occurrence', () => {
      expect(deliveryKey(start(RECONCILER))).not.toBe(
        deliveryKey({ action: 'timeout', requestId, delivery: RECONCILER }),
      );
    });
  });

  describe('QueueCommandSchema', () => {
    const requestId = '01JNQ0000000000000000000AA';

    it.each([
      { body: { action: 'approve', requestId, actorId: U.alice, delivery: API }, action: 'approve' },
      {
        body: {
          action: 'extend',
          requestId,
          actorId: U.eve,
          additionalMs: HOUR,
          comment: 'x',
          delivery: API,
        },
        action: 'extend',
      },
      { body: { action: 'timeout', requestId, delivery: RECONCILER }, action: 'timeout' },
      {
        body: {
          action: 'expire',
          requestId,
          grantVersion: 2,
          expiresAt: '2026-03-02T10:00:00Z',
          delivery: SCHEDULE,
        },
        action: 'expire',
      },
    ])('accepts a well-formed $action command', ({ body, action }) => {
      // Act
      const parsed = QueueCommandSchema.safeParse(body);

      // Assess
      expect(parsed.success).toBe(true);
      expect(parsed.data?.action).toBe(action);
    });

    it.each([
      {
        name: 'a lower-case ULID',
        body: { action: 'approve', requestId: requestId.toLowerCase(), actorId: U.alice },
        path: ['requestId'],
      },
      {
        name: 'a ULID with a U',
        body: { action: 'approve', requestId: `${requestId.slice(0, 25)}U`, actorId: U.alice },
        path: ['requestId'],
      },
      {
        name: 'a short ULID',
        body: { action: 'timeout', requestId: requestId.slice(1) },
        path: ['requestId'],
      },
      { name: 'a missing actor', body: { action: 'deny', requestId }, path: ['actorId'] },
      {
        name: 'a zero grant version',
        body: { action: 'expire', requestId, grantVersion: 0, expiresAt: '2026-03-02T10:00:00Z' },
        path: ['grantVersion'],
      },
      {
        name: 'a non-ISO expiry',
        body: { action: 'expire', requestId, grantVersion: 1, expiresAt: 'tomorrow' },
        path: ['expiresAt'],
      },
      {
        name: 'a negative extension',
        body: { action: 'extend', requestId, actorId: U.eve, additionalMs: -1 },
        path: ['additionalMs'],
      },
      { name: 'an unknown action', body: { action: 'delete', requestId }, path: ['action'] },
      { name: 'a missing delivery', body: { action: 'start', requestId }, path: ['delivery'] },
      {
        name: 'a schedule whose context attributes were never filled in',
        body: {
          action: 'start',
          requestId,
          delivery: { by: 'schedule', schedule: '<aws.scheduler.schedule-arn>', at: '2026-03-02T10:00:00Z' },
        },
        path: ['delivery', 'schedule'],
      },
    ])('rejects $name naming the field $path', ({ body, path }) => {
      // Act
      const parsed = QueueCommandSchema.safeParse(body);

      // Assess
      expect(parsed.success).toBe(false);
      expect(parsed.error?.issues.map((issue) => issue.path)).toContainEqual(path);
    });

    it.each([
      { body: { action: 'approve', requestId, actorId: U.alice, grantVersion: 1 }, key: 'grantVersion' },
      { body: { action: 'timeout', requestId, actorId: U.alice }, key: 'actorId' },
    ])('rejects the unknown key $key', ({ body, key }) => {
      // Act
      const parsed = QueueCommandSchema.safeParse(body);

      // Assess
      expect(parsed.success).toBe(false);
      expect(parsed.error?.issues).toContainEqual(
        expect.objectContaining({ code: 'unrecognized_keys', keys: [key] }),
      );
    });
  });
});

describe('the in-memory ports keep the contracts the use cases rely on', () => {
  async function stored() {
    const h = harness();
    const created = await h.open(U.eve, READ_ONLY);
    return { h, created };
  }

  it.each([
    { name: 'a second create of the same id', expectedVersion: null, version: 1 },
    { name: 'a write against a stale version', expectedVersion: 0, version: 1 },
  ])(
    'refuses $name with CONCURRENT_MODIFICATION and changes nothing',
    async ({ expectedVersion, version }) => {
      // Prepare
      const { h, created } = await stored();
      const before = h.audit.all();

      // Act
      const code = await codeOf(
        h.store.save({ request: { ...created, version, status: 'DENIED' }, expectedVersion, events: [] }),
      );

      // Assess
      expect(code).toBe('CONCURRENT_MODIFICATION');
      expect(await h.store.get(created.id)).toEqual(created);
      expect(h.audit.all()).toEqual(before);
    },
  );

  it('writes neither the request nor any event when the audit append fails', async () => {
    // Prepare
    const { h, created } = await stored();
    const next = decide(created, { type: 'approve', actor: fixtureActor(U.alice) }, h.clock.now());
    h.audit.unavailable = true;

    // Act
    const code = await codeOf(
      h.store.save({ request: next.request, expectedVersion: 1, events: next.events }),
    );

    // Assess
    expect(code).toBe('AUDIT_UNAVAILABLE');
    expect(await h.store.get(created.id)).toEqual(created);
    expect(await h.chain(created.id)).toHaveLength(1);
  });

  it('issues valid, strictly increasing ULIDs', async () => {
    // Prepare
    const h = harness();

    // Act
    const issued = [h.ids.next(), h.ids.next()];
    h.clock.advance(1);
    issued.push(h.ids.next(), h.ids.next());

    // Assess
    for (const id of issued) expect(id).toMatch(ULID_PATTERN);
    expect([...issued].sort()).toEqual(issued);
    expect(new Set(issued).size).toBe(issued.length);
  });

  it('lists a status oldest first in pages and refuses a token from another list', async () => {
    // Prepare
    const h = harness();
    const made: string[] = [];
    for (let i = 0; i < 3; i += 1) made.push((await h.open(U.erin, READ_ONLY)).id);
    const first = await h.store.listByStatus('PENDING', { limit: 2 });

    // Act
    const second = await h.store.listByStatus('PENDING', { limit: 2, nextToken: first.nextToken as string });
    const foreign = await codeOf(h.store.listByStatus('APPROVED', { nextToken: first.nextToken as string }));

    // Assess
    expect([...ids(first.items), ...ids(second.items)]).toEqual(made);
    expect(second.nextToken).toBeUndefined();
    expect(foreign).toBe('VALIDATION_FAILED');
  });
});
