// The reconciler over in-memory ports: each of its steps sends exactly the follow-up work that was
// lost (and nothing for what is healthy or still in flight), it never writes state itself, a
// disabled user's access really ends through the provisioning worker, and a pass is bounded.
import { describe, expect, it } from 'vitest';
import { CommandMessageSchema } from '#app/commands.ts';
import type { GrantDeps } from '#app/grants/deps.ts';
import { CUTOFF_SKEW_MS, SESSION_DURATION_MS } from '#app/grants/deps.ts';
import { DISABLED_USER_REASON, makeReconciler, type ReconcilerOptions } from '#app/grants/reconcile.ts';
import { permissionSetGroup, tupleGroup, tuplesOf } from '#app/grants/tuples.ts';
import { applyDeny, denyRemovalTimes } from '#domain/deny-policy.ts';

const withDeny = (document: string | undefined, entry: { userId: string; cutoff: Date; removeAt: Date }) =>
  applyDeny(document, entry).document;

import type { AccessRequest, RequestStatus } from '#domain/model.ts';
import type { AssignmentTuple } from '#ports/grants.ts';
import type { AccessStore, Directory } from '#ports/index.ts';
import { buildProvisionAccess } from '../../functions/provision-access/build.ts';
import {
  ACCOUNTS,
  at,
  type FixtureRequestOptions,
  fixtureConfig,
  fixtureRequest,
  fixtureRequestWithChain,
  grantOf,
  U,
} from '../support/fakes.ts';
import {
  fixtureLease,
  fixturePermissionSets,
  type GrantTestDeps,
  InMemoryDriftSeenStore,
  makeGrantTestDeps,
  seedRequest,
  silentLogger,
} from '../support/grant-fakes.ts';

const MINUTE = 60_000;
/** Every command a pass sends names the pass as its delivery. */
const PASS_ID = 'rule-event-1';
const DELIVERY = { by: 'reconciler', pass: PASS_ID };

function harness(
  options: {
    approvalTimeoutMs?: number;
    now?: Date;
    reconciler?: ReconcilerOptions;
    deps?: Partial<GrantDeps>;
  } = {},
) {
  const t = makeGrantTestDeps({
    config: fixtureConfig({ approvalTimeoutMs: options.approvalTimeoutMs ?? 10 * MINUTE }),
    now: options.now ?? at(20),
  });
  const deps = { ...t.deps, ...options.deps };
  const pass = makeReconciler(deps, options.reconciler);
  const reconcile = () => pass({ passId: PASS_ID });
  const provisionRecord = buildProvisionAccess(
    { ...deps, seen: new InMemoryDriftSeenStore() },
    { logger: silentLogger() },
  );
  return {
    ...t,
    reconcile,
    /** A fixture request in `status`, stored under a fresh id. */
    async put(
      status: RequestStatus,
      options: FixtureRequestOptions & { patch?: Partial<AccessRequest> } = {},
    ): Promise<AccessRequest> {
      const fixture = fixtureRequestWithChain(status, { ...options, id: t.ids.next() });
      return seedRequest(t.store, { ...fixture.request, ...options.patch }, fixture.events);
    },
    tupleOf(request: AccessRequest): AssignmentTuple {
      const [tuple] = tuplesOf(request, t.permissionSets);
      if (!tuple) throw new Error('no tuple');
      return tuple;
    },
    /** Seeds an assigned lease held ACTIVE by the request (a healthy grant). */
    held(request: AccessRequest, extra: Parameters<typeof fixtureLease>[2] = {}) {
      const tuple = tuplesOf(request, t.permissionSets)[0] as AssignmentTuple;
      t.tuples.seed(fixtureLease(tuple, { [request.id]: 'ACTIVE' }, extra));
      t.identityCenter.assign(tuple);
      return tuple;
    },
    /** Runs every queued provisioning message through provision-access, as the queue would. */
    async drainProvisioning() {
      const messages = [...t.provisioningQueue.sent];
      t.provisioningQueue.clear();
      for (const message of messages) await provisionRecord(JSON.stringify(message.body));
    },
  };
}

function nothingSent(t: GrantTestDeps) {
  expect(t.commandsQueue.sent).toEqual([]);
  expect(t.provisioningQueue.sent).toEqual([]);
}

describe('reconcile: 1. overdue grants expire', () => {
  it('sends expire with the current grant version, grouped by request id, for ACTIVE and EXTENSION_PENDING', async () => {
    // Prepare: both grants started at minute 3 for an hour.
    const t = harness({ now: at(64), approvalTimeoutMs: 24 * 60 * MINUTE });
    const active = await t.put('ACTIVE');
    const extending = await t.put('EXTENSION_PENDING');
    t.held(active);
    t.held(extending);

    // Act
    const report = await t.reconcile();

    // Assess
    expect(t.commandsQueue.sent).toEqual(
      [active, extending].map((request) => ({
        messageGroupId: request.id,
        body: {
          action: 'expire',
          requestId: request.id,
          grantVersion: grantOf(request).grantVersion,
          expiresAt: grantOf(request).expiresAt,
          delivery: DELIVERY,
        },
      })),
    );
    for (const { body } of t.commandsQueue.sent)
      expect(CommandMessageSchema.safeParse(body).success).toBe(true);
    expect(report.sent.expire).toBe(2);
    expect(t.provisioningQueue.sent).toEqual([]);
  });

  it('sends nothing at all for a healthy ACTIVE grant', async () => {
    const t = harness({ now: at(30) });
    const active = await t.put('ACTIVE');
    t.held(active);

    const report = await t.reconcile();

    nothingSent(t);
    expect(report.revokeNeeded).toEqual([]);
    expect(report.unheld).toEqual([]);
    expect(report.failures).toEqual([]);
    expect(t.store.saves).toHaveLength(1); // the seed: the reconciler never writes a request
    expect(t.tuples.puts).toEqual([]);
  });
});

describe('reconcile: 2. approval timeouts', () => {
  it('times out a PENDING request older than approvalTimeout, not a fresh one', async () => {
    const t = harness({ now: at(0), approvalTimeoutMs: 10 * MINUTE });
    const old = await t.put('PENDING');
    t.clock.set(at(9));
    const fresh = await t.put('PENDING', { patch: { createdAt: at(9).toISOString() } });
    t.clock.set(at(10));

    const report = await t.reconcile();

    expect(t.commandsQueue.sent).toEqual([
      { messageGroupId: old.id, body: { action: 'timeout', requestId: old.id, delivery: DELIVERY } },
    ]);
    expect(t.commandsQueue.bodies().some((body) => body.requestId === fresh.id)).toBe(false);
    expect(report.sent.timeout).toBe(1);
  });

  it('times out an extension older than approvalTimeout, and not one still within it', async () => {
    // The extension was asked at minute 4; the grant runs to minute 63.
    const t = harness({ now: at(13), approvalTimeoutMs: 10 * MINUTE });
    const extending = await t.put('EXTENSION_PENDING');
    t.held(extending);

    await t.reconcile();
    expect(t.commandsQueue.sent).toEqual([]);

    t.clock.set(at(14));
    await t.reconcile();
    expect(t.commandsQueue.bodies()).toEqual([
      { action: 'timeout', requestId: extending.id, delivery: DELIVERY },
    ]);
  });

  it('expires an overdue EXTENSION_PENDING grant instead of also timing its extension out', async () => {
    const t = harness({ now: at(70), approvalTimeoutMs: 10 * MINUTE });
    const extending = await t.put('EXTENSION_PENDING');
    t.held(extending);

    await t.reconcile();

    expect(t.commandsQueue.bodies().map((body) => body.action)).toEqual(['expire']);
  });
});

describe('reconcile: 3. lost starts', () => {
  it('starts an APPROVED request stuck for over 2 minutes, not one approved a minute ago', async () => {
    // Approved at minute 1.
    const t = harness({ now: at(2) });
    const approved = await t.put('APPROVED');

    await t.reconcile();
    expect(t.commandsQueue.sent).toEqual([]);

    t.clock.set(at(3));
    const report = await t.reconcile();
    expect(t.commandsQueue.sent).toEqual([
      { messageGroupId: approved.id, body: { action: 'start', requestId: approved.id, delivery: DELIVERY } },
    ]);
    expect(report.sent.start).toBe(1);
  });

  it('starts a SCHEDULED request 2 minutes after its start time, never before', async () => {
    const t = harness({ now: at(0) });
    const scheduled = await t.put('SCHEDULED', { startAt: at(30) });

    t.clock.set(at(31));
    await t.reconcile();
    expect(t.commandsQueue.sent).toEqual([]);

    t.clock.set(at(32));
    await t.reconcile();
    expect(t.commandsQueue.bodies()).toEqual([
      { action: 'start', requestId: scheduled.id, delivery: DELIVERY },
    ]);
  });
});

describe('reconcile: 4. healing tuples', () => {
  it('acquires the tuple of a PROVISIONING request stuck without a lease, in the tuple group', async () => {
    // Provisioning since minute 2.
    const t = harness({ now: at(5) });
    const provisioning = await t.put('PROVISIONING');
    const tuple = t.tupleOf(provisioning);

    const report = await t.reconcile();

    expect(t.provisioningQueue.sent).toEqual([
      { messageGroupId: tupleGroup(tuple), body: { op: 'acquire', requestId: provisioning.id, tuple } },
    ]);
    expect(report.sent.acquire).toBe(1);
  });

  it('leaves a PROVISIONING request alone while its own acquire may still be queued', async () => {
    const t = harness({ now: at(3) });
    await t.put('PROVISIONING');

    await t.reconcile();

    nothingSent(t);
  });

  it('acquires again when the lease lists the holder but neither assigned nor busy (a crash before the create)', async () => {
    const t = harness({ now: at(30) });
    const active = await t.put('ACTIVE');
    const tuple = t.held(active, { assigned: false });

    await t.reconcile();

    expect(t.provisioningQueue.bodies()).toEqual([{ op: 'acquire', requestId: active.id, tuple }]);
  });

  it('checks an in-flight lease with a pending operation instead of re-creating it', async () => {
    const t = harness({ now: at(30) });
    const provisioning = await t.put('PROVISIONING');
    const tuple = t.tupleOf(provisioning);
    t.tuples.seed(
      fixtureLease(
        tuple,
        { [provisioning.id]: 'PROVISIONING' },
        {
          assigned: false,
          pending: { kind: 'create', operationId: 'op-9' },
          updatedAt: at(10).toISOString(),
        },
      ),
    );

    const report = await t.reconcile();

    expect(t.provisioningQueue.sent).toEqual([
      { messageGroupId: tupleGroup(tuple), body: { op: 'check', tuple } },
    ]);
    expect(report.sent.acquire).toBe(0);
  });

  it('does not re-acquire for a granted request whose holder was removed (a revocation whose commit is retried)', async () => {
    const t = harness({ now: at(30) });
    const active = await t.put('ACTIVE');
    const tuple = t.tupleOf(active);
    t.tuples.seed(fixtureLease(tuple, {}, { assigned: false }));
    const partly = await t.put('PROVISIONING', { patch: { provisioned: [ACCOUNTS.dev] } });

    const report = await t.reconcile();

    expect(t.provisioningQueue.bodies('acquire')).toEqual([]);
    expect(report.unheld).toEqual([
      { requestId: partly.id, accountId: ACCOUNTS.dev },
      { requestId: active.id, accountId: ACCOUNTS.dev },
    ]);
  });
});

describe('reconcile: 5. users disabled or deleted in the Identity Store', () => {
  it('ends a disabled user’s access at once (release + deny) and reports the request for revocation', async () => {
    // Prepare: Dan is disabled in the fixture directory.
    const t = harness({ now: at(30) });
    const active = await t.put('ACTIVE', { requester: U.dan });
    const tuple = t.held(active);

    // Act
    const report = await t.reconcile();

    // Assess: access is ending now, and a system revoke makes the record follow.
    expect(t.commandsQueue.sent).toEqual([
      {
        messageGroupId: active.id,
        body: {
          action: 'system-revoke',
          requestId: active.id,
          reason: DISABLED_USER_REASON,
          delivery: DELIVERY,
        },
      },
    ]);
    expect(report.revokeNeeded).toEqual([
      { requestId: active.id, userId: U.dan, status: 'ACTIVE', why: 'disabled', accessEnding: true },
    ]);
    expect(t.provisioningQueue.sent).toEqual([
      { messageGroupId: tupleGroup(tuple), body: { op: 'release', requestId: active.id, tuple } },
      {
        messageGroupId: permissionSetGroup(tuple.permissionSetArn),
        body: {
          op: 'deny-add',
          permissionSetArn: tuple.permissionSetArn,
          userId: U.dan,
          endedAt: at(30).toISOString(),
          requestId: active.id,
        },
      },
    ]);

    // The provisioning worker really removes the assignment and denies sessions already issued, from
    // the moment the deletion completed (plus the skew margin): here the pass's own time.
    await t.drainProvisioning();
    expect(t.identityCenter.has(tuple)).toBe(false);
    expect(denyRemovalTimes(t.identityCenter.policy(tuple.permissionSetArn))).toEqual([
      new Date(at(30).getTime() + CUTOFF_SKEW_MS + SESSION_DURATION_MS),
    ]);
    expect(await t.tuples.get(tuple)).toMatchObject({ holders: {}, assigned: false });

    // The next pass neither re-grants nor adds a second deny; it keeps reporting the request.
    t.clock.set(at(35));
    t.commandsQueue.sent.length = 0;
    const again = await t.reconcile();
    expect(t.provisioningQueue.sent).toEqual([]);
    expect(again.revokeNeeded).toEqual([
      expect.objectContaining({ requestId: active.id, accessEnding: false }),
    ]);
  });

  it('never starts, times out or heals a deleted user’s requests', async () => {
    const t = harness({ now: at(30) });
    const approved = await t.put('APPROVED', { requester: U.erin });
    const provisioning = await t.put('PROVISIONING', { requester: U.erin });
    t.directory.remove(U.erin);

    const report = await t.reconcile();

    // Only the system revokes: nothing starts, times out or is re-acquired.
    expect(t.provisioningQueue.sent).toEqual([]);
    expect(t.commandsQueue.sent.map((message) => message.body.action)).toEqual([
      'system-revoke',
      'system-revoke',
    ]);
    // Requests that may hold access first.
    expect(report.revokeNeeded.map((entry) => [entry.requestId, entry.why])).toEqual([
      [provisioning.id, 'deleted'],
      [approved.id, 'deleted'],
    ]);
  });

  it('reads each user once per pass', async () => {
    const t = harness({ now: at(30) });
    for (let i = 0; i < 3; i += 1) t.held(await t.put('ACTIVE'));
    const reads: string[] = [];
    const directory = t.directory;
    const counting: Directory = {
      getUser: async (userId) => {
        reads.push(userId);
        return directory.getUser(userId);
      },
      findUserByUserName: (name) => directory.findUserByUserName(name),
      findUserByEmail: (email) => directory.findUserByEmail(email),
      groupsOf: (userId) => directory.groupsOf(userId),
    };

    await makeReconciler({ ...t.deps, directory: counting })({ passId: PASS_ID });

    expect(reads).toEqual([U.eve]);
  });
});

describe('reconcile: 6. leases', () => {
  it('releases a holder whose request has ended, or no longer exists', async () => {
    const t = harness({ now: at(80) });
    const expired = await t.put('EXPIRED');
    const tuple = t.tupleOf(expired);
    const vanished = t.ids.next();
    t.tuples.seed(fixtureLease(tuple, { [expired.id]: 'ACTIVE', [vanished]: 'ACTIVE' }));

    const report = await t.reconcile();

    expect(t.provisioningQueue.bodies()).toEqual([
      { op: 'release', requestId: expired.id, tuple },
      { op: 'release', requestId: vanished, tuple },
    ]);
    expect(report.sent.release).toBe(2);
  });

  it('checks a lease left assigned without holders once it has been untouched for 2 minutes', async () => {
    const t = harness({ now: at(11) });
    const tuple = t.tupleOf(fixtureRequest('ACTIVE'));
    t.tuples.seed(fixtureLease(tuple, {}, { assigned: true, updatedAt: at(10).toISOString() }));

    await t.reconcile();
    expect(t.provisioningQueue.sent).toEqual([]);

    t.clock.set(at(12));
    await t.reconcile();
    expect(t.provisioningQueue.sent).toEqual([
      { messageGroupId: tupleGroup(tuple), body: { op: 'check', tuple } },
    ]);
  });

  it('keeps a holder whose request became PROVISIONING after the listing', async () => {
    const t = harness({ now: at(30) });
    const provisioning = await t.put('PROVISIONING');
    const tuple = t.held(provisioning);
    const store = t.store;
    const staleListing: AccessStore = {
      get: (id) => store.get(id),
      save: (change) => store.save(change),
      listByRequester: (id, page) => store.listByRequester(id, page),
      countByRequester: (id, statuses, atMost) => store.countByRequester(id, statuses, atMost),
      // The listing ran just before the request entered PROVISIONING.
      listByStatus: async (status, page) =>
        status === 'PROVISIONING' ? { items: [] } : store.listByStatus(status, page),
    };

    await makeReconciler({ ...t.deps, store: staleListing })({ passId: PASS_ID });

    expect(t.provisioningQueue.bodies('release')).toEqual([]);
    expect(await t.tuples.get(tuple)).toMatchObject({ holders: { [provisioning.id]: 'ACTIVE' } });
  });
});

describe('reconcile: 7. deny statements past their removal time', () => {
  it('sends deny-sweep, in the permission set group, only where a deny is due', async () => {
    const t = harness({ now: at(90) });
    const [due, later] = t.permissionSets.all();
    if (!due || !later) throw new Error('fixture has permission sets');
    const entry = (removeAt: Date) => ({ userId: U.eve, cutoff: at(0), removeAt });
    t.identityCenter.setPolicy(due.arn, withDeny(undefined, entry(at(60))));
    t.identityCenter.setPolicy(later.arn, withDeny(undefined, entry(at(120))));

    const report = await t.reconcile();

    expect(t.provisioningQueue.sent).toEqual([
      { messageGroupId: permissionSetGroup(due.arn), body: { op: 'deny-sweep', permissionSetArn: due.arn } },
    ]);
    expect(report.sent['deny-sweep']).toBe(1);
  });
});

describe('reconcile: 7. denies in force that a policy rewrite dropped', () => {
  it('re-adds a deny the ledger holds and the policy lacks, and nothing for one present or past', async () => {
    // Prepare: three recorded denies on one permission set, at 30 min past `now`.
    const t = harness({ now: at(30) });
    const [set] = t.permissionSets.all();
    if (!set) throw new Error('fixture has permission sets');
    const record = (userId: string, endedAt: Date) => ({
      permissionSetArn: set.arn,
      userId,
      endedAt: endedAt.toISOString(),
      removeAt: new Date(endedAt.getTime() + SESSION_DURATION_MS).toISOString(),
      requestIds: [],
    });
    const dropped = record(U.eve, at(20));
    const present = record(U.oscar, at(25));
    const past = record(U.alice, at(-40));
    for (const deny of [dropped, present, past]) await t.denies.record(deny);
    // A deploy rewrote the policy: only `present` is there (it was re-added since, say).
    t.identityCenter.setPolicy(
      set.arn,
      withDeny(undefined, { userId: U.oscar, cutoff: at(25), removeAt: new Date(present.removeAt) }),
    );

    // Act
    const report = await t.reconcile();

    // Assess: exactly the dropped one, in the permission set's group; the worker puts it back.
    const { removeAt: _removeAt, requestIds: _ids, ...asSent } = dropped;
    expect(t.provisioningQueue.sent).toEqual([
      { messageGroupId: permissionSetGroup(set.arn), body: { op: 'deny-add', ...asSent } },
    ]);
    expect(report.sent['deny-add']).toBe(1);
    await t.drainProvisioning();
    expect(
      denyRemovalTimes(t.identityCenter.policy(set.arn))
        .map((d) => d.toISOString())
        .sort(),
    ).toEqual([dropped.removeAt, present.removeAt].sort());
    // The next pass finds nothing missing.
    t.provisioningQueue.clear();
    await t.reconcile();
    expect(t.provisioningQueue.sent.filter((m) => (m.body as { op: string }).op === 'deny-add')).toEqual([]);
  });
});

describe('reconcile: a bounded pass', () => {
  it('stops at maxMessages, narrowing first, and says it was truncated', async () => {
    const t = harness({ now: at(70), reconciler: { maxMessages: 2 } });
    const overdue = [await t.put('ACTIVE'), await t.put('ACTIVE')];
    for (const request of overdue) t.held(request);
    await t.put('APPROVED');
    await t.put('PENDING');

    const report = await t.reconcile();

    expect(t.commandsQueue.bodies().map((body) => body.action)).toEqual(['expire', 'expire']);
    expect(report.truncated).toBe(true);
    expect(report.skipped).toBe(2);
  });

  it('records a failing item and goes on with the others', async () => {
    // Prepare: the request's permission set is no longer managed by this deployment.
    const t = harness({ now: at(30), deps: { permissionSets: fixturePermissionSets(['sandbox']) } });
    const unmanaged = await t.put('ACTIVE');
    const other = await t.put('PENDING');

    const report = await t.reconcile();

    expect(report.failures).toEqual([expect.objectContaining({ step: 'acquire', subject: unmanaged.id })]);
    expect(t.commandsQueue.bodies()).toEqual([
      { action: 'timeout', requestId: other.id, delivery: DELIVERY },
    ]);
  });
});
