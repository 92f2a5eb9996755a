// Human output speaks of people and time as people do: names rather than user ids (the id where a
// record predates names), durations as `2h` or `1h 30m` rather than ISO-8601, and how long an
// active grant has left, counted on the server's clock (the `Date` of its answer) when it gives one,
// else on this machine's. `--json` stays the API's document.
import { describe, expect, it } from 'vitest';
import {
  DEPLOYED_ENV,
  fakeFetch,
  REQUEST_ID,
  type RecordedCall,
  requestView,
  runCli,
  testDeps,
} from './harness.ts';

const OLD_ID = '01JZ8Q3K4V7N2W5X6Y8Z9A0B1D';

type Answer = { status: number; body: unknown; headers?: Record<string, string> };

async function deployed(argv: string[], respond: (call: RecordedCall) => Answer) {
  const transport = fakeFetch(respond);
  return runCli(argv, { env: DEPLOYED_ENV, deps: testDeps({ fetch: transport.fetch }) });
}

/** Alice's prod-admin grant, approved by Bob and Carol, active 18:10–20:10 UTC. */
const activeGrant = (overrides: Record<string, unknown> = {}) =>
  requestView({
    status: 'ACTIVE',
    requesterName: 'Alice Engineer',
    approvals: [
      { approverId: 'user-bob', approverName: 'Bob Ops', at: '2026-11-26T18:03:00.000Z' },
      { approverId: 'user-carol', approverName: 'Carol Ops', at: '2026-11-26T18:05:00.000Z' },
    ],
    grant: {
      grantVersion: 1,
      startedAt: '2026-11-26T18:10:00.000Z',
      expiresAt: '2026-11-26T20:10:00.000Z',
      totalDuration: 'PT2H',
    },
    ...overrides,
  });

describe('a request as a block', () => {
  it('names the people, writes durations as people do, and counts the time left on the server’s clock', async () => {
    // Act: the server says 18:58; this machine's clock says 19:00 (testDeps)
    const run = await deployed(['show', REQUEST_ID], () => ({
      status: 200,
      body: activeGrant(),
      headers: { date: 'Thu, 26 Nov 2026 18:58:00 GMT' },
    }));

    // Assess
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe(
      [
        `${REQUEST_ID}  ACTIVE`,
        '  entitlement  prod-admin — Admin in prod (ProdAdmin)',
        '  accounts     444444444444',
        '  duration     2h',
        '  requester    Alice Engineer',
        '  approvals    2 of 2 (Bob Ops, Carol Ops); approver groups: cloud-ops',
        '  reason       Rotate the TLS certificate',
        '  ticket       OPS-1',
        '  grant        2026-11-26T18:10:00.000Z → 2026-11-26T20:10:00.000Z (v1), 1h 12m left',
        '  created      2026-11-26T18:00:00.000Z',
        '',
      ].join('\n'),
    );
  });

  it.each<[string, Record<string, string> | undefined, string]>([
    ['this machine’s clock when the answer has no Date', undefined, '1h 10m left'],
    ['this machine’s clock when the Date is not a date', { date: 'soon' }, '1h 10m left'],
    ['whole minutes, rounded down', { date: 'Thu, 26 Nov 2026 18:58:01 GMT' }, '1h 11m left'],
    ['under a minute', { date: 'Thu, 26 Nov 2026 20:09:30 GMT' }, 'under 1m left'],
    [
      '0m once the end has passed (its expiry is on its way)',
      { date: 'Thu, 26 Nov 2026 20:11:00 GMT' },
      '0m left',
    ],
  ])('counts the time left on %s', async (_, headers, left) => {
    const run = await deployed(['show', REQUEST_ID], () => ({
      status: 200,
      body: activeGrant(),
      ...(headers ? { headers } : {}),
    }));

    expect(run.stdout).toContain(
      `  grant        2026-11-26T18:10:00.000Z → 2026-11-26T20:10:00.000Z (v1), ${left}\n`,
    );
  });

  it('shows no time left on a grant that has ended', async () => {
    const run = await deployed(['show', REQUEST_ID], () => ({
      status: 200,
      body: activeGrant({ status: 'EXPIRED', endedAt: '2026-11-26T20:10:00.000Z' }),
    }));

    expect(run.stdout).toContain('  grant        2026-11-26T18:10:00.000Z → 2026-11-26T20:10:00.000Z (v1)\n');
  });

  it('names who asked for an extension, who approved it, who reviewed and who revoked', async () => {
    // Prepare: a break-glass grant with an extension pending, reviewed, then revoked
    const view = activeGrant({
      status: 'REVOKED',
      approvals: [],
      extension: {
        requestedBy: 'user-alice',
        at: '2026-11-26T19:00:00.000Z',
        additional: 'PT1H30M',
        reason: 'still rotating',
        approvals: [{ approverId: 'user-bob', approverName: 'Bob Ops', at: '2026-11-26T19:01:00.000Z' }],
      },
      breakGlass: {
        activatedBy: 'user-alice',
        reviewStatus: 'REVIEWED',
        review: { actorId: 'user-carol', actorName: 'Carol Ops', at: '2026-11-26T19:02:00.000Z' },
      },
      revocation: {
        actorId: 'user-dave',
        actorName: 'Dave Admin',
        at: '2026-11-26T19:03:00.000Z',
        comment: 'done',
      },
    });

    // Act
    const run = await deployed(['show', REQUEST_ID], () => ({ status: 200, body: view }));

    // Assess
    expect(run.stdout).toContain(
      '  extension    +1h 30m requested by Alice Engineer at 2026-11-26T19:00:00.000Z (1 of 2 approvals: Bob Ops) — still rotating\n',
    );
    expect(run.stdout).toContain('  break-glass  REVIEWED, activated by Alice Engineer\n');
    expect(run.stdout).toContain('  review       reviewed by Carol Ops at 2026-11-26T19:02:00.000Z\n');
    expect(run.stdout).toContain('  revocation   revoked by Dave Admin at 2026-11-26T19:03:00.000Z — done\n');
  });

  it('shows the ids of a record made before names were kept', async () => {
    const view = requestView({
      approvals: [{ approverId: 'user-bob', at: '2026-11-26T18:05:00.000Z' }],
      denial: { actorId: 'user-carol', at: '2026-11-26T18:06:00.000Z' },
    });

    const run = await deployed(['show', REQUEST_ID], () => ({ status: 200, body: view }));

    expect(run.stdout).toContain('  requester    user-alice\n');
    expect(run.stdout).toContain('  approvals    1 of 2 (user-bob); approver groups: cloud-ops\n');
    expect(run.stdout).toContain('  denial       denied by user-carol at 2026-11-26T18:06:00.000Z\n');
  });
});

describe('lists', () => {
  it('approvals: the requester by name (the id for an old record), durations as people write them', async () => {
    // Prepare
    const named = requestView({ requesterName: 'Alice Engineer', duration: 'PT1H30M' });
    const old = requestView({ id: OLD_ID, requesterId: 'user-erin', duration: 'P1DT2H' });

    // Act
    const run = await deployed(['list', '--approvals'], () => ({
      status: 200,
      body: { items: [named, old], nextToken: null },
    }));

    // Assess
    expect(run.stdout.trimEnd().split('\n')).toEqual([
      'ID                          STATUS   ENTITLEMENT  ACCOUNT       DURATION  APPROVALS  REQUESTER       REASON',
      `${REQUEST_ID}  PENDING  prod-admin   444444444444  1h 30m    0/2        Alice Engineer  Rotate the TLS certificate`,
      `${OLD_ID}  PENDING  prod-admin   444444444444  1d 2h     0/2        user-erin       Rotate the TLS certificate`,
    ]);
  });

  it('my requests: the duration as people write it and how long an active grant has left', async () => {
    // Act
    const run = await deployed(['list'], () => ({
      status: 200,
      body: { items: [activeGrant(), requestView({ id: OLD_ID })], nextToken: null },
      headers: { date: 'Thu, 26 Nov 2026 18:58:00 GMT' },
    }));

    // Assess
    expect(run.stdout.trimEnd().split('\n')).toEqual([
      'ID                          STATUS   ENTITLEMENT  ACCOUNT       DURATION  EXPIRES                   LEFT    CREATED',
      `${REQUEST_ID}  ACTIVE   prod-admin   444444444444  2h        2026-11-26T20:10:00.000Z  1h 12m  2026-11-26T18:00:00.000Z`,
      `${OLD_ID}  PENDING  prod-admin   444444444444  2h        -                         -       2026-11-26T18:00:00.000Z`,
    ]);
  });

  it('--json keeps the API’s fields as they are, names included', async () => {
    const page = { items: [activeGrant()], nextToken: null };

    const run = await deployed(['list', '--json'], () => ({
      status: 200,
      body: page,
      headers: { date: 'Thu, 26 Nov 2026 18:58:00 GMT' },
    }));

    expect(JSON.parse(run.stdout)).toEqual(page);
    expect(run.stdout).toContain('"duration":"PT2H"');
    expect(run.stdout).toContain('"requesterName":"Alice Engineer"');
  });
});
