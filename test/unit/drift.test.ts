// The drift sweep over in-memory ports: an assignment nothing holds is left alone for the grace
// period (counted from cloud-pam's first sighting) and then removed through the tuple's provisioning
// group with a verifiable drift-chain record, or only reported; in-flight grants are never drift;
// scoped sweeps list only their scope; Identity Center calls are paced. The sweep and provision-access
// are wired by the functions' own builders (shared/runtime/drift-sweep.ts, functions/*/build.ts).
// Plus the DynamoDB first-seen store's "first sighting wins", and sweep-drift's three ways in.
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { DynamoDriftSeenStore } from '#adapters/aws/dynamo-drift-seen.ts';
import { ACCESS_KEY_PREFIX } from '#adapters/aws/tables.ts';
import { driftSweepInput } from '#adapters/lambda-events/drift-sweep-input.ts';
import { GRANT_METRICS } from '#app/grants/deps.ts';
import { DRIFT_CHAIN, driftRecheckName, makeDriftSweep } from '#app/grants/drift.ts';
import { makeProvisioningWorker } from '#app/grants/provisioning.ts';
import { tupleGroup } from '#app/grants/tuples.ts';
import { verifyChain } from '#domain/audit.ts';
import type { DriftMode } from '#domain/model.ts';
import { type AssignmentTuple, tupleKey } from '#ports/grants.ts';
import { buildDriftSweep } from '#runtime/drift-sweep.ts';
import { buildProvisionAccess } from '../../functions/provision-access/build.ts';
import { buildSweepDrift } from '../../functions/sweep-drift/build.ts';
import { ACCOUNTS, at, fixtureConfig, U } from '../support/fakes.ts';
import {
  fixtureLease,
  InMemoryDriftSeenStore,
  makeGrantTestDeps,
  permissionSetArn,
  silentLogger,
} from '../support/grant-fakes.ts';

const MINUTE = 60_000;
const GRACE_MS = 10 * MINUTE;
const READ_ONLY_ARN = permissionSetArn('read-only');
const PROD_ADMIN_ARN = permissionSetArn('prod-admin');
const SANDBOX_ARN = permissionSetArn('sandbox');

/** The sweep and the provision-access function, wired as the functions wire them, over fakes. */
function harness(mode: DriftMode = 'remove') {
  const t = makeGrantTestDeps({ now: at(0), config: fixtureConfig({ drift: { mode, graceMs: GRACE_MS } }) });
  const seen = new InMemoryDriftSeenStore();
  const deps = { ...t.deps, seen, paceMs: 150 };
  const sweep = buildDriftSweep(deps);
  const provisionRecord = buildProvisionAccess(deps, { logger: silentLogger() });
  return {
    ...t,
    seen,
    sweep,
    /** Runs every queued provisioning message through provision-access, as the queue would. */
    async drainProvisioning() {
      const messages = [...t.provisioningQueue.sent];
      t.provisioningQueue.clear();
      for (const message of messages) await provisionRecord(JSON.stringify(message.body));
    },
    async driftEvents() {
      return t.audit.readChain(DRIFT_CHAIN);
    },
  };
}

const stray: AssignmentTuple = { userId: U.oscar, accountId: ACCOUNTS.prod, permissionSetArn: READ_ONLY_ARN };

describe('drift sweep', () => {
  it('schedules a re-check of a sighting for the moment its grace ends, which removes it then', async () => {
    // Prepare
    const t = harness('remove');
    t.identityCenter.assign(stray);

    // Act: the first sighting; a second sweep inside the grace period asks for the same schedule.
    await t.sweep();
    t.clock.set(at(5));
    await t.sweep();

    // Assess: one schedule, at first sighting + grace, to the tuple's provisioning group.
    const name = driftRecheckName(tupleKey(stray), at(0));
    expect(name.length).toBeLessThanOrEqual(64);
    expect([...t.scheduler.schedules.values()]).toEqual([
      {
        name,
        at: at(10),
        target: 'provisioning',
        messageGroupId: tupleGroup(stray),
        body: { op: 'drift-check', accountId: stray.accountId, permissionSetArn: stray.permissionSetArn },
      },
    ]);

    // Act: the schedule fires when the grace ends; the worker runs the scoped re-check.
    t.clock.set(at(10));
    const schedule = t.scheduler.schedules.get(name);
    await t.provisioningQueue.send({
      messageGroupId: schedule?.messageGroupId ?? '',
      body: schedule?.body ?? {},
    });
    await t.drainProvisioning();
    await t.drainProvisioning();

    // Assess: removed and recorded, without waiting for the next daily sweep.
    expect(t.identityCenter.has(stray)).toBe(false);
    expect((await t.driftEvents()).map((e) => e.type)).toEqual(['drift.detected', 'drift.removed']);
  });

  it('refuses a drift-check in a worker that has no drift sweep (retried and dead-lettered, never dropped)', async () => {
    const t = makeGrantTestDeps({ now: at(0) });
    const worker = makeProvisioningWorker(t.deps);
    await expect(
      worker({ op: 'drift-check', accountId: stray.accountId, permissionSetArn: stray.permissionSetArn }),
    ).rejects.toThrow(/no drift sweep/);
  });

  it('fails a drift-check whose sweep could not list its pair, so the message is retried', async () => {
    // Prepare
    const t = harness('remove');
    t.identityCenter.listUserAssignments = async () => {
      throw new Error('ThrottlingException');
    };
    await t.provisioningQueue.send({
      messageGroupId: tupleGroup(stray),
      body: { op: 'drift-check', accountId: stray.accountId, permissionSetArn: stray.permissionSetArn },
    });

    // Act + Assess: the sweep only reports the failure; the function throws it.
    await expect(t.drainProvisioning()).rejects.toThrow('drift-check failed: Error: ThrottlingException');
  });

  it('leaves an unheld assignment alone within the grace period, then removes it with a drift-chain record', async () => {
    // Prepare
    const t = harness('remove');
    t.identityCenter.assign(stray);

    // Act: first sighting.
    const first = await t.sweep();

    // Assess: seen, untouched.
    expect(first.withinGrace).toEqual([{ tuple: stray, eligibleAt: at(10).toISOString() }]);
    expect(first.drift).toEqual([]);
    expect(await t.seen.firstSeen(tupleKey(stray))).toEqual(at(0));
    expect(t.provisioningQueue.sent).toEqual([]);
    expect(await t.driftEvents()).toEqual([]);
    expect(t.metrics.counts[GRANT_METRICS.driftDetected]).toBeUndefined();

    // Act: still within grace a minute before it ends; a later sweep does not reset the clock.
    t.clock.set(at(9));
    expect((await t.sweep()).drift).toEqual([]);
    t.clock.set(at(10));
    const later = await t.sweep();

    // Assess: claimed in its lease and queued in the tuple's FIFO group, then recorded.
    expect(later.drift).toEqual([
      { tuple: stray, firstSeenAt: at(0).toISOString(), outcome: 'removal-queued' },
    ]);
    expect(await t.tuples.get(stray)).toMatchObject({ holders: {}, assigned: true, version: 1 });
    expect(t.provisioningQueue.sent).toEqual([
      { messageGroupId: tupleGroup(stray), body: { op: 'check', tuple: stray } },
    ]);
    const events = await t.driftEvents();
    expect(events.map((event) => event.type)).toEqual(['drift.detected', 'drift.removed']);
    expect(events[0]).toMatchObject({
      chainId: 'drift',
      accountId: ACCOUNTS.prod,
      permissionSetArn: READ_ONLY_ARN,
      details: { userId: U.oscar, firstSeenAt: at(0).toISOString(), mode: 'remove' },
    });
    expect(verifyChain(events).ok).toBe(true);
    expect(t.metrics.counts[GRANT_METRICS.driftDetected]).toBe(1);
    expect(t.identityCenter.count('deleteAssignment')).toBe(0);

    // The provisioning worker deletes it; the next sweep forgets the sighting.
    await t.drainProvisioning();
    expect(t.identityCenter.has(stray)).toBe(false);
    expect(t.identityCenter.count('deleteAssignment')).toBe(1);
    const after = await t.sweep();
    expect(after.forgotten).toBe(1);
    expect(t.seen.keys()).toEqual([]);
  });

  it('only reports in report mode: no lease, no message, no deletion', async () => {
    const t = harness('report');
    t.identityCenter.assign(stray);
    await t.sweep();
    t.clock.set(at(30));

    const report = await t.sweep();

    expect(report.drift).toEqual([{ tuple: stray, firstSeenAt: at(0).toISOString(), outcome: 'reported' }]);
    expect(t.identityCenter.has(stray)).toBe(true);
    expect(t.identityCenter.count('deleteAssignment')).toBe(0);
    expect(t.provisioningQueue.sent).toEqual([]);
    expect(t.tuples.puts).toEqual([]);
    const events = await t.driftEvents();
    expect(events.map((event) => [event.type, event.details.mode])).toEqual([['drift.detected', 'report']]);
    expect(verifyChain(events).ok).toBe(true);
    expect(t.metrics.counts[GRANT_METRICS.driftDetected]).toBe(1);
  });

  it('never takes an in-flight grant’s assignment for drift (lease holder PROVISIONING), however long it takes', async () => {
    const t = harness('remove');
    const inFlight: AssignmentTuple = {
      userId: U.eve,
      accountId: ACCOUNTS.dev,
      permissionSetArn: PROD_ADMIN_ARN,
    };
    t.tuples.seed(
      fixtureLease(inFlight, { '01JNQ0000000000000000000AA': 'PROVISIONING' }, { assigned: false }),
    );
    t.identityCenter.assign(inFlight);

    await t.sweep();
    t.clock.set(at(600));
    const report = await t.sweep();

    expect(report.drift).toEqual([]);
    expect(report.withinGrace).toEqual([]);
    expect(t.seen.keys()).toEqual([]);
    expect(t.provisioningQueue.sent).toEqual([]);
    expect(await t.driftEvents()).toEqual([]);
  });

  it('re-reads the lease before acting: an acquire that landed after the listing wins', async () => {
    const t = harness('remove');
    t.identityCenter.assign(stray);
    await t.sweep();
    t.clock.set(at(30));
    const tuples = t.tuples;
    const racing = makeDriftSweep({
      ...t.deps,
      driftMode: 'remove',
      graceMs: GRACE_MS,
      seen: t.seen,
      tuples: {
        // The sweep listed leases just before a grant's acquire wrote one.
        list: async () => [],
        get: async (tuple) => fixtureLease(tuple, { '01JNQ0000000000000000000AA': 'PROVISIONING' }),
        put: (lease, expected) => tuples.put(lease, expected),
      },
    });

    const report = await racing();

    expect(report.drift).toEqual([]);
    expect(t.provisioningQueue.sent).toEqual([]);
    expect(t.seen.keys()).toEqual([]);
  });

  it('a scoped sweep lists only that account and permission set', async () => {
    const t = harness('report');

    const report = await t.sweep({ accountId: ACCOUNTS.prod, permissionSetArn: READ_ONLY_ARN });

    expect(report.listed).toBe(1);
    expect(t.identityCenter.calls.map((call) => [call.op, ...call.args])).toEqual([
      ['listUserAssignments', ACCOUNTS.prod, READ_ONLY_ARN],
    ]);
  });

  it('sweeps every managed permission set in every account its entitlements target, pausing between calls', async () => {
    const t = harness('report');

    const report = await t.sweep();

    const listed = t.identityCenter.calls.map((call) => call.args.join(' '));
    expect(listed.sort()).toEqual(
      [
        `${ACCOUNTS.dev} ${PROD_ADMIN_ARN}`,
        `${ACCOUNTS.prod} ${PROD_ADMIN_ARN}`,
        `${ACCOUNTS.dev} ${READ_ONLY_ARN}`,
        `${ACCOUNTS.prod} ${READ_ONLY_ARN}`,
        `${ACCOUNTS.dev} ${SANDBOX_ARN}`,
      ].sort(),
    );
    expect(report.listed).toBe(5);
    expect(t.sleeps).toEqual([150, 150, 150, 150]);
  });

  it('stops early when told to, and keeps the sightings it did not revisit', async () => {
    const t = harness('report');
    t.identityCenter.assign({ ...stray, permissionSetArn: SANDBOX_ARN, accountId: ACCOUNTS.dev });
    await t.sweep();
    let calls = 0;

    const report = await t.sweep({}, { shouldStop: () => ++calls > 2 });

    expect(report).toMatchObject({ listed: 2, truncated: true, forgotten: 0 });
    expect(t.seen.keys()).toHaveLength(1);
  });

  it('forgets a sighting once a grant holds the assignment', async () => {
    const t = harness('remove');
    t.identityCenter.assign(stray);
    await t.sweep();
    t.tuples.seed(fixtureLease(stray, { '01JNQ0000000000000000000AA': 'ACTIVE' }));
    t.clock.set(at(30));

    const report = await t.sweep();

    expect(report).toMatchObject({ drift: [], forgotten: 1 });
    expect(t.seen.keys()).toEqual([]);
  });

  it('records a failing pair and goes on with the others', async () => {
    const t = harness('report');
    const list = t.identityCenter.listUserAssignments.bind(t.identityCenter);
    t.identityCenter.listUserAssignments = async (accountId, arn) => {
      if (arn === PROD_ADMIN_ARN && accountId === ACCOUNTS.dev) throw new Error('ThrottlingException');
      return list(accountId, arn);
    };

    const report = await t.sweep();

    expect(report.listed).toBe(5);
    expect(report.failures).toEqual([
      { accountId: ACCOUNTS.dev, permissionSetArn: PROD_ADMIN_ARN, error: 'Error: ThrottlingException' },
    ]);
  });
});

describe('DynamoDriftSeenStore', () => {
  const key = tupleKey(stray);

  it('records the first sighting with a conditional put, listable by account and permission set', async () => {
    const dynamo = mockClient(DynamoDBDocumentClient);
    dynamo.on(PutCommand).resolves({});
    const store = new DynamoDriftSeenStore({
      client: new DynamoDBClient({ region: 'us-east-1' }),
      accessTable: 'access',
    });

    expect(await store.markSeen(key, at(0), stray)).toEqual(at(0));

    const [put] = dynamo.commandCalls(PutCommand);
    expect(put?.args[0].input).toMatchObject({
      TableName: 'access',
      Item: {
        pk: `${ACCESS_KEY_PREFIX.sighting}${key}`,
        sk: 'SEEN',
        status: '#SEEN',
        createdAt: `${stray.accountId}|${stray.permissionSetArn}|${key}`,
        firstSeenAt: at(0).toISOString(),
      },
      ConditionExpression: 'attribute_not_exists(#pk)',
    });
    dynamo.restore();
  });

  it('keeps the earlier sighting when another sweep recorded one first', async () => {
    const dynamo = mockClient(DynamoDBDocumentClient);
    dynamo
      .on(PutCommand)
      .rejects(new ConditionalCheckFailedException({ message: 'exists', $metadata: {} }))
      .on(GetCommand)
      .resolves({ Item: { key, tuple: stray, firstSeenAt: at(-5).toISOString() } });
    const store = new DynamoDriftSeenStore({
      client: new DynamoDBClient({ region: 'us-east-1' }),
      accessTable: 'access',
    });

    expect(await store.markSeen(key, at(0), stray)).toEqual(at(-5));
    dynamo.restore();
  });

  it('lists one scope with a Query on the status index and deletes by key', async () => {
    const dynamo = mockClient(DynamoDBDocumentClient);
    dynamo
      .on(QueryCommand)
      .resolves({ Items: [{ key, tuple: stray, firstSeenAt: at(0).toISOString() }] })
      .on(DeleteCommand)
      .resolves({});
    const store = new DynamoDriftSeenStore({
      client: new DynamoDBClient({ region: 'us-east-1' }),
      accessTable: 'access',
    });

    expect(await store.listSeen(stray.accountId, stray.permissionSetArn)).toEqual([
      { key, tuple: stray, firstSeenAt: at(0).toISOString() },
    ]);
    await store.forget(key);

    expect(dynamo.commandCalls(QueryCommand)[0]?.args[0].input).toMatchObject({
      IndexName: 'byStatus',
      KeyConditionExpression: '#status = :status AND begins_with(#sort, :sort)',
      ExpressionAttributeValues: {
        ':status': '#SEEN',
        ':sort': `${stray.accountId}|${stray.permissionSetArn}|`,
      },
    });
    expect(dynamo.commandCalls(DeleteCommand)[0]?.args[0].input).toEqual({
      TableName: 'access',
      Key: { pk: `${ACCESS_KEY_PREFIX.sighting}${key}`, sk: 'SEEN' },
    });
    dynamo.restore();
  });
});

describe('sweep-drift input', () => {
  const call = {
    version: '0',
    id: 'c0ffee00-0000-0000-0000-000000000000',
    'detail-type': 'AWS API Call via CloudTrail',
    source: 'aws.sso',
    account: '333333333333',
    time: '2026-03-02T09:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail: {
      eventVersion: '1.08',
      userIdentity: { type: 'AssumedRole', arn: 'arn:aws:sts::333333333333:assumed-role/Admin/someone' },
      eventTime: '2026-03-02T09:00:00Z',
      eventSource: 'sso.amazonaws.com',
      eventName: 'CreateAccountAssignment',
      awsRegion: 'us-east-1',
      requestParameters: {
        instanceArn: 'arn:aws:sso:::instance/ssoins-0000000000000000',
        targetId: ACCOUNTS.prod,
        targetType: 'AWS_ACCOUNT',
        permissionSetArn: READ_ONLY_ARN,
        principalType: 'USER',
        principalId: '94d00cd8-e9e6-4810-b177-b08e84775435',
      },
      responseElements: { accountAssignmentCreationStatus: { status: 'IN_PROGRESS', requestId: 'r-1' } },
    },
  };

  it('scopes a CloudTrail CreateAccountAssignment event to its account and permission set', () => {
    expect(driftSweepInput(call)).toEqual({
      scope: { accountId: ACCOUNTS.prod, permissionSetArn: READ_ONLY_ARN },
      principal: { principalType: 'USER', principalId: '94d00cd8-e9e6-4810-b177-b08e84775435' },
    });
  });

  it('sweeps everything on the schedule, and a given scope when invoked with one', () => {
    expect(driftSweepInput({ source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} })).toEqual({
      scope: {},
    });
    expect(driftSweepInput({ scope: { accountId: ACCOUNTS.dev } })).toEqual({
      scope: { accountId: ACCOUNTS.dev },
    });
  });

  it('refuses a malformed event, naming the field', () => {
    const bad = {
      ...call,
      detail: { ...call.detail, requestParameters: { ...call.detail.requestParameters, targetId: 'x' } },
    };

    expect(() => driftSweepInput(bad)).toThrow(
      /event\.detail\.requestParameters\.targetId: expected a 12-digit AWS account id/,
    );
    expect(() => driftSweepInput({ anything: true })).toThrow(/input/);
  });

  it('sweeps only the pair a CloudTrail call names, and fails the invocation when a pair failed', async () => {
    // Prepare: sweep-drift as its handler wires it; Identity Center refuses to list the pair.
    const t = makeGrantTestDeps({ now: at(0) });
    const listed: string[][] = [];
    t.identityCenter.listUserAssignments = async (accountId, arn) => {
      listed.push([accountId, arn]);
      throw new Error('ThrottlingException');
    };
    const sweepDrift = buildSweepDrift(
      { ...t.deps, seen: new InMemoryDriftSeenStore() },
      { logger: silentLogger() },
    );

    // Act
    const invocation = sweepDrift(call, { getRemainingTimeInMillis: () => 900_000 });

    // Assess: one pair tried, and the failure reaches Lambda (error alarm), not only the report.
    await expect(invocation).rejects.toThrow('drift sweep incomplete: 1 failure(s), truncated=false');
    expect(listed).toEqual([[ACCOUNTS.prod, READ_ONLY_ARN]]);
  });
});
