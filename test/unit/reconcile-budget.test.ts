// A reconciler pass within its time budget: it pages through each status instead of loading every
// live request, takes what ends access first, stops taking up work at its deadline and says what it
// left. Time is the fake clock: each page read costs what the test says, and the invocation "ends"
// (every read fails, as when Lambda stops a function) at the moment the test sets.
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_MESSAGES,
  makeReconciler,
  passDeadline,
  RECONCILE_MARGIN_MS,
  type ReconcilePass,
  type WorkLeft,
} from '#app/grants/reconcile.ts';
import { tuplesOf } from '#app/grants/tuples.ts';
import type { AccessRequest, RequestStatus } from '#domain/model.ts';
import type { AssignmentTuple } from '#ports/grants.ts';
import type { AccessStore } from '#ports/index.ts';
import {
  at,
  type FixtureRequestOptions,
  fixtureConfig,
  fixtureRequest,
  fixtureRequestWithChain,
  grantOf,
  U,
} from '../support/fakes.ts';
import { fixtureLease, makeGrantTestDeps, seedRequest } from '../support/grant-fakes.ts';

const MINUTE = 60_000;
const SECOND = 1000;
const PASS_ID = 'rule-event-7';
const DELIVERY = { by: 'reconciler', pass: PASS_ID };

function harness(now: Date = at(70)) {
  // Grants from the fixtures start at minute 3 for an hour: overdue from minute 63.
  const t = makeGrantTestDeps({ config: fixtureConfig({ approvalTimeoutMs: 10 * MINUTE }), now });
  /** Page reads per status, in order, as the timed store served them. */
  const reads: RequestStatus[] = [];
  return {
    ...t,
    reads,
    async put(status: RequestStatus, options: FixtureRequestOptions = {}): Promise<AccessRequest> {
      const fixture = fixtureRequestWithChain(status, { ...options, id: t.ids.next() });
      return seedRequest(t.store, fixture.request, fixture.events);
    },
    /** Seeds an assigned lease held by the request (a healthy grant). */
    held(request: AccessRequest): AssignmentTuple {
      const tuple = tuplesOf(request, t.permissionSets)[0] as AssignmentTuple;
      t.tuples.seed(fixtureLease(tuple, { [request.id]: 'ACTIVE' }));
      t.identityCenter.assign(tuple);
      return tuple;
    },
    /** `count` PENDING requests from Erin created at `createdAt`, written as the store writes them. */
    async flood(count: number, createdAt: Date): Promise<void> {
      const template = fixtureRequest('PENDING', { requester: U.erin });
      for (let i = 0; i < count; i += 1)
        await seedRequest(t.store, { ...template, id: t.ids.next(), createdAt: createdAt.toISOString() });
    },
    /**
     * The store as the pass sees it under load: every page read takes `pageMs` of the clock, and
     * once the clock is past `endsAt` the invocation is over and every read fails.
     */
    timed(options: { pageMs: number; endsAt?: Date; failing?: RequestStatus }): AccessStore {
      const store = t.store;
      return {
        get: (id) => store.get(id),
        save: (change) => store.save(change),
        listByRequester: (id, page) => store.listByRequester(id, page),
        countByRequester: (id, statuses, atMost) => store.countByRequester(id, statuses, atMost),
        async listByStatus(status, page) {
          if (options.endsAt && t.clock.now() > options.endsAt)
            throw new Error('Task timed out: the invocation ended');
          t.clock.advance(options.pageMs);
          reads.push(status);
          if (status === options.failing) throw new Error('ProvisionedThroughputExceededException');
          return store.listByStatus(status, page);
        },
      };
    },
    pass(store: AccessStore, pass: Omit<ReconcilePass, 'passId'> = {}) {
      return makeReconciler({ ...t.deps, store })({ passId: PASS_ID, ...pass });
    },
  };
}

/** Every step a pass takes, in order, none of it begun. */
const EVERYTHING_LEFT: WorkLeft[] = [
  { step: 'end-access', status: 'ACTIVE', begun: false },
  { step: 'end-access', status: 'EXTENSION_PENDING', begun: false },
  { step: 'end-access', status: 'PROVISIONING', begun: false },
  { step: 'end-access', status: 'APPROVED', begun: false },
  { step: 'end-access', status: 'SCHEDULED', begun: false },
  { step: 'leases', begun: false },
  { step: 'deny-sweep', begun: false },
  { step: 'ps-provision', begun: false },
  { step: 'deny-restore', begun: false },
  { step: 'deny-widen', begun: false },
  { step: 'acquire', status: 'PROVISIONING', begun: false },
  { step: 'acquire', status: 'ACTIVE', begun: false },
  { step: 'acquire', status: 'EXTENSION_PENDING', begun: false },
  { step: 'start', status: 'APPROVED', begun: false },
  { step: 'start', status: 'SCHEDULED', begun: false },
  { step: 'timeout', status: 'EXTENSION_PENDING', begun: false },
  { step: 'timeout', status: 'PENDING', begun: false },
];

describe('reconcile: a pass within its time budget', () => {
  it('20,000 PENDING requests from one user do not stop a pass from expiring an overdue grant', async () => {
    // Prepare: Eve's grant is overdue; Erin has 20,000 PENDING requests, all old enough to
    // time out. A page read takes a second; the invocation ends 120 s after the pass starts.
    const t = harness();
    const overdue = await t.put('ACTIVE');
    t.held(overdue);
    await t.flood(20_000, at(0));
    const start = t.clock.now();
    const store = t.timed({ pageMs: SECOND, endsAt: new Date(start.getTime() + 120 * SECOND) });

    // Act: the deadline the handler gives it (120 s of invocation less the 20 s margin).
    const report = await t.pass(store, { deadline: new Date(start.getTime() + 100 * SECOND) });

    // Assess: the expiry went first; the flood got what was left of the messages and the time.
    expect(t.commandsQueue.sent[0]).toEqual({
      messageGroupId: overdue.id,
      body: {
        action: 'expire',
        requestId: overdue.id,
        grantVersion: grantOf(overdue).grantVersion,
        expiresAt: grantOf(overdue).expiresAt,
        delivery: DELIVERY,
      },
    });
    expect(report.sent.expire).toBe(1);
    expect(report.sent.timeout).toBe(DEFAULT_MAX_MESSAGES - 1);
    expect(report.truncated).toBe(true);
    expect(report.failures).toEqual([]);
    expect(report.left).toEqual([{ step: 'timeout', status: 'PENDING', begun: true }]);
    // It stopped at its deadline, with the margin still to spare.
    expect(t.clock.now().getTime() - start.getTime()).toBeLessThanOrEqual(101 * SECOND);
  });

  it('reads PENDING requests only up to the first one too young to time out', async () => {
    // Prepare: 150 PENDING past approvalTimeout (10 minutes), then 150 fresh ones.
    const t = harness();
    await t.flood(150, at(0));
    await t.flood(150, at(65));

    // Act
    const report = await t.pass(t.timed({ pageMs: 0 }));

    // Assess: two pages of PENDING (100 + 50 stale, then the first fresh one), not three.
    expect(t.reads.filter((status) => status === 'PENDING')).toHaveLength(2);
    expect(report.sent.timeout).toBe(150);
    expect(t.commandsQueue.bodies('timeout')).toHaveLength(150);
    expect(report.left).toEqual([]);
  });

  it('a pass that starts out of time reads nothing, sends nothing, and reports every step left in priority order', async () => {
    const t = harness();
    await t.put('ACTIVE');

    const report = await t.pass(t.timed({ pageMs: SECOND }), { deadline: t.clock.now() });

    expect(t.reads).toEqual([]);
    expect(t.commandsQueue.sent).toEqual([]);
    expect(t.provisioningQueue.sent).toEqual([]);
    expect(report.left).toEqual(EVERYTHING_LEFT);
  });

  it('stops between two items at its deadline, having ended access first, and the next pass takes up the rest', async () => {
    // Prepare: an overdue grant, and an APPROVED request whose start was lost. The deadline falls
    // while the pass is on the APPROVED page of end-access (the fourth page read).
    const t = harness();
    const overdue = await t.put('ACTIVE');
    t.held(overdue);
    const stuck = await t.put('APPROVED');
    const store = t.timed({ pageMs: SECOND });

    // Act
    const first = await t.pass(store, { deadline: new Date(t.clock.now().getTime() + 3.5 * SECOND) });

    // Assess
    expect(t.commandsQueue.bodies().map((body) => [body.action, body.requestId])).toEqual([
      ['expire', overdue.id],
    ]);
    expect(first.left).toEqual([
      { step: 'end-access', status: 'APPROVED', begun: true },
      ...EVERYTHING_LEFT.slice(4),
    ]);

    // The next pass starts again from the top, and finishes.
    const second = await t.pass(store, { deadline: new Date(t.clock.now().getTime() + 100 * SECOND) });
    expect(t.commandsQueue.bodies('start')).toEqual([
      { action: 'start', requestId: stuck.id, delivery: DELIVERY },
    ]);
    expect(second.left).toEqual([]);
  });

  it('a status whose page cannot be read is left to the next pass; the other statuses and steps go on', async () => {
    // Prepare: ACTIVE cannot be read (throttled); Dan (disabled) has an APPROVED request; a
    // PENDING request is past approvalTimeout.
    const t = harness();
    await t.put('ACTIVE');
    const dans = await t.put('APPROVED', { requester: U.dan });
    const old = await t.put('PENDING');

    // Act
    const report = await t.pass(t.timed({ pageMs: 0, failing: 'ACTIVE' }));

    // Assess
    expect(report.failures).toEqual([
      { step: 'end-access', subject: 'ACTIVE', error: 'Error: ProvisionedThroughputExceededException' },
      { step: 'acquire', subject: 'ACTIVE', error: 'Error: ProvisionedThroughputExceededException' },
    ]);
    expect(t.commandsQueue.bodies().map((body) => [body.action, body.requestId])).toEqual([
      ['system-revoke', dans.id],
      ['timeout', old.id],
    ]);
    expect(report.left).toEqual([]);
  });
});

describe('passDeadline', () => {
  it('leaves the margin of the invocation for the work in hand and the report', () => {
    expect(passDeadline(at(0), 120 * SECOND)).toEqual(new Date(at(0).getTime() + 100 * SECOND));
    expect(RECONCILE_MARGIN_MS).toBe(20 * SECOND);
  });

  it('is never before the pass starts, even with less than the margin left', () => {
    expect(passDeadline(at(0), 5 * SECOND)).toEqual(at(0));
  });
});
