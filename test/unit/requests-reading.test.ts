// shared/app/requests.ts and entitlements.ts, the reading side: who may see a request, and the
// listing queries with their pagination.
import { describe, expect, it } from 'vitest';
import { makeListRequestableEntitlements } from '#app/entitlements.ts';
import { makeGetRequest, makeListAwaitingMyApproval, makeListMyRequests } from '#app/requests.ts';
import type { AccessRequest } from '#domain/model.ts';
import { GROUPS, PROD_ADMIN, READ_ONLY, SANDBOX, U } from '../support/fakes.ts';

import { codeOf, collect, HOUR, harness, ids } from '../support/use-case-harness.ts';

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
