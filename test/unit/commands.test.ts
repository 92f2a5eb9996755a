// shared/app/commands.ts: the commands-queue contract and its dispatcher over in-memory ports
// (decisions, system commands, early deliveries, refusals that are final, errors that retry).
import { describe, expect, it } from 'vitest';
import {
  CommandMessageSchema,
  DeliveryTooEarlyError,
  deliveryKey,
  makeProcessCommand,
} from '#app/commands.ts';
import type { Delivery } from '#app/delivery.ts';
import type { AccessRequest } from '#domain/model.ts';
import { decide } from '#domain/state-machine.ts';
import { fixtureActor, grantOf, PROD_ADMIN, READ_ONLY, U } from '../support/fakes.ts';

import { codeOf, HOUR, harness, MINUTE } from '../support/use-case-harness.ts';

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

  it("records an extend command's `reason` as the extension's reason, in the request and on the chain", async () => {
    // Prepare
    const h = harness();
    const created = await h.open(U.eve, PROD_ADMIN);
    await h.decideAs(U.alice, created.id, 'approve');
    await h.decideAs(U.bob, created.id, 'approve');
    await h.activate(created.id);

    // Act
    const result = await makeProcessCommand(h.deps)({
      action: 'extend',
      requestId: created.id,
      actorId: U.eve,
      additionalMs: HOUR,
      reason: 'migration still running',
      delivery: API,
    });

    // Assess
    expect(result).toMatchObject({
      outcome: 'applied',
      request: { status: 'EXTENSION_PENDING', extension: { reason: 'migration still running' } },
    });
    expect((await h.chain(created.id)).at(-1)).toMatchObject({
      type: 'request.extension_requested',
      reason: 'migration still running',
    });
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
    expect(result).toMatchObject({ outcome: 'refused', code: 'NOT_APPROVER' });
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
    expect(result).toMatchObject({ outcome: 'refused', code: 'INVALID_STATE' });
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

  describe('CommandMessageSchema', () => {
    const requestId = '01JNQ0000000000000000000AA';

    it.each([
      { body: { action: 'approve', requestId, actorId: U.alice, delivery: API }, action: 'approve' },
      {
        body: {
          action: 'extend',
          requestId,
          actorId: U.eve,
          additionalMs: HOUR,
          reason: 'x',
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
      const parsed = CommandMessageSchema.safeParse(body);

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
      {
        name: 'a missing actor',
        body: { action: 'deny', requestId, delivery: { by: 'api', requestId: 'call-1' } },
        path: ['actorId'],
      },
      {
        name: 'both an actor and a Slack origin (who acts must be one person, named one way)',
        body: {
          action: 'approve',
          requestId,
          actorId: U.alice,
          slack: { teamId: 'T0EXAMPLE01', userId: 'U0BOB00001' },
          delivery: { by: 'slack', id: '398738663015.47445629121.803a0bc8' },
        },
        path: ['actorId'],
      },
      {
        name: 'a create without its Slack origin',
        body: {
          action: 'create',
          requestId,
          entitlementId: 'dev-readonly',
          accountId: '333333333333',
          delivery: { by: 'slack', id: '398738663015.47445629121.803a0bc8' },
        },
        path: ['slack'],
      },
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
      const parsed = CommandMessageSchema.safeParse(body);

      // Assess
      expect(parsed.success).toBe(false);
      expect(parsed.error?.issues.map((issue) => issue.path)).toContainEqual(path);
    });

    it('refuses an extend carrying `comment`, naming the field: its text is the `reason`', () => {
      // Prepare
      const body = {
        action: 'extend',
        requestId,
        actorId: U.eve,
        additionalMs: HOUR,
        comment: 'x',
        delivery: API,
      };

      // Act
      const parsed = CommandMessageSchema.safeParse(body);

      // Assess
      expect(parsed.success).toBe(false);
      expect(parsed.error?.issues).toEqual([
        expect.objectContaining({ code: 'unrecognized_keys', keys: ['comment'] }),
      ]);
    });

    it.each([
      { body: { action: 'approve', requestId, actorId: U.alice, grantVersion: 1 }, key: 'grantVersion' },
      { body: { action: 'timeout', requestId, actorId: U.alice }, key: 'actorId' },
    ])('rejects the unknown key $key', ({ body, key }) => {
      // Act
      const parsed = CommandMessageSchema.safeParse(body);

      // Assess
      expect(parsed.success).toBe(false);
      expect(parsed.error?.issues).toContainEqual(
        expect.objectContaining({ code: 'unrecognized_keys', keys: [key] }),
      );
    });
  });
});
