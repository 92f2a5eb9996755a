// What each command sends (ISO-8601 durations on the wire, the documented bodies and query) and what
// it prints: concise human lines by default, the API's JSON as one document with --json.
import { describe, expect, it } from 'vitest';
import {
  DEPLOYED_ENV,
  fakeFetch,
  localProject,
  REQUEST_ID,
  type RecordedCall,
  requestView,
  runCli,
  testDeps,
} from './harness.ts';

const OTHER_ID = '01JZ8Q3K4V7N2W5X6Y8Z9A0B1D';

async function deployed(argv: string[], respond: (call: RecordedCall) => { status: number; body: unknown }) {
  const transport = fakeFetch(respond);
  const run = await runCli(argv, { env: DEPLOYED_ENV, deps: testDeps({ fetch: transport.fetch }) });
  return { ...run, calls: transport.calls };
}

describe('what is sent', () => {
  it('request: POST /v1/requests with ISO duration, all accounts, reason, ticket and startAt', async () => {
    const run = await deployed(
      [
        'request',
        'prod-admin',
        '--account',
        '444444444444',
        '--accounts',
        '555555555555, 444444444444',
        '--for',
        '1h30m',
        '--reason',
        '  Rotate the TLS certificate  ',
        '--ticket',
        'OPS-1',
        '--start-at',
        '2026-12-01T09:00:00Z',
      ],
      () => ({ status: 201, body: requestView() }),
    );
    expect(run.code).toBe(0);
    expect(run.calls).toHaveLength(1);
    expect(run.calls[0]).toMatchObject({
      method: 'POST',
      body: {
        entitlementId: 'prod-admin',
        accountId: '444444444444',
        accountIds: ['444444444444', '555555555555'],
        duration: 'PT1H30M',
        reason: 'Rotate the TLS certificate',
        ticket: 'OPS-1',
        startAt: '2026-12-01T09:00:00Z',
      },
    });
    expect(run.calls[0]?.url.href).toBe(
      'https://abc123.execute-api.eu-west-1.amazonaws.com/prod/v1/requests',
    );
    expect(run.calls[0]?.headers['content-type']).toBe('application/json');
  });

  it('request without optional flags sends only the entitlement and account', async () => {
    const run = await deployed(['request', 'dev-readonly', '--account', '333333333333'], () => ({
      status: 201,
      body: requestView(),
    }));
    expect(run.calls[0]?.body).toEqual({ entitlementId: 'dev-readonly', accountId: '333333333333' });
  });

  it('break-glass: POST /v1/break-glass with the reason', async () => {
    const run = await deployed(
      ['break-glass', 'prod-admin', '--account', '444444444444', '--reason', 'INC-77', '--for', 'PT30M'],
      () => ({ status: 201, body: requestView({ status: 'APPROVED' }) }),
    );
    expect(run.calls[0]).toMatchObject({
      method: 'POST',
      body: { entitlementId: 'prod-admin', accountId: '444444444444', reason: 'INC-77', duration: 'PT30M' },
    });
    expect(run.calls[0]?.url.pathname).toBe('/prod/v1/break-glass');
  });

  it.each(['approve', 'deny', 'cancel', 'revoke', 'review'])(
    '%s: POST …/%s with the comment',
    async (action) => {
      const run = await deployed([action, REQUEST_ID, '--comment', 'looks right'], () => ({
        status: 200,
        body: requestView(),
      }));
      expect(run.code).toBe(0);
      expect(run.calls[0]).toMatchObject({ method: 'POST', body: { comment: 'looks right' } });
      expect(run.calls[0]?.url.pathname).toBe(`/prod/v1/requests/${REQUEST_ID}/${action}`);
    },
  );

  it('revoke says that the user’s other sessions of the permission set end too, in every account', async () => {
    const run = await deployed(['revoke', REQUEST_ID], () => ({
      status: 200,
      body: requestView({ status: 'REVOKED' }),
    }));
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /note: every session of \S+ that \S+ signed in to before this revocation now ends, in every account/,
    );
    const json = await deployed(['revoke', REQUEST_ID, '--json'], () => ({
      status: 200,
      body: requestView(),
    }));
    expect(json.stdout).not.toMatch(/note:/);
  });

  it('a decision without a comment sends an empty object', async () => {
    const run = await deployed(['approve', REQUEST_ID], () => ({ status: 200, body: requestView() }));
    expect(run.calls[0]?.body).toEqual({});
  });

  it('extend: POST …/extend with the additional time in ISO-8601', async () => {
    const run = await deployed(['extend', REQUEST_ID, '--by', '25h', '--reason', 'still rotating'], () => ({
      status: 200,
      body: requestView({ status: 'EXTENSION_PENDING' }),
    }));
    expect(run.calls[0]).toMatchObject({
      method: 'POST',
      body: { duration: 'P1DT1H', reason: 'still rotating' },
    });
    expect(run.calls[0]?.url.pathname).toBe(`/prod/v1/requests/${REQUEST_ID}/extend`);
  });

  it('list follows nextToken until it is null and prints one table', async () => {
    const pages: Record<string, unknown> = {
      '': { items: [requestView()], nextToken: 'page 2+/=' },
      'page 2+/=': { items: [], nextToken: 'three' },
      three: { items: [requestView({ id: OTHER_ID, status: 'ACTIVE' })], nextToken: null },
    };
    const run = await deployed(['list'], (call) => ({
      status: 200,
      body: pages[call.url.searchParams.get('nextToken') ?? ''],
    }));
    expect(run.code).toBe(0);
    expect(run.calls.map((call) => call.url.search)).toEqual([
      '',
      '?nextToken=page%202%2B%2F%3D',
      '?nextToken=three',
    ]);
    expect(
      run.calls.every((call) => call.method === 'GET' && call.url.pathname === '/prod/v1/requests'),
    ).toBe(true);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^ID\s+STATUS\s+ENTITLEMENT\s+ACCOUNT\s+DURATION\s+EXPIRES\s+LEFT\s+CREATED$/);
    expect(lines[1]).toMatch(
      new RegExp(`^${REQUEST_ID}\\s+PENDING\\s+prod-admin\\s+444444444444\\s+2h\\s+-`),
    );
    expect(lines[2]).toMatch(new RegExp(`^${OTHER_ID}\\s+ACTIVE`));
  });

  it('list --limit asks each page for what is still wanted and stops there', async () => {
    const run = await deployed(['list', '--approvals', '--limit', '150', '--json'], (call) => {
      const limit = Number(call.url.searchParams.get('limit'));
      const items = Array.from({ length: limit }, () => requestView());
      return {
        status: 200,
        body: { items, nextToken: `after-${call.url.searchParams.get('nextToken') ?? 'start'}` },
      };
    });
    expect(run.calls.map((call) => call.url.search)).toEqual([
      '?limit=100',
      '?limit=50&nextToken=after-start',
    ]);
    expect(run.calls[0]?.url.pathname).toBe('/prod/v1/approvals');
    const document = JSON.parse(run.stdout);
    expect(document.items).toHaveLength(150);
    expect(document.nextToken).toBe('after-after-start');
  });
});

describe('what is printed', () => {
  it('human: a request as a block with its id, status and fields', async () => {
    const view = requestView({
      approvals: [{ approverId: 'user-bob', at: '2026-11-26T18:05:00.000Z' }],
      grant: null,
    });
    const run = await deployed(['show', REQUEST_ID], () => ({ status: 200, body: view }));
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe(
      [
        `${REQUEST_ID}  PENDING`,
        '  entitlement  prod-admin — Admin in prod (ProdAdmin)',
        '  accounts     444444444444',
        '  duration     2h',
        '  requester    user-alice',
        '  approvals    1 of 2 (user-bob); approver groups: cloud-ops',
        '  reason       Rotate the TLS certificate',
        '  ticket       OPS-1',
        '  created      2026-11-26T18:00:00.000Z',
        '',
      ].join('\n'),
    );
  });

  it('human: an active grant shows when it expires and the time it has left', async () => {
    const view = requestView({
      status: 'ACTIVE',
      grant: {
        grantVersion: 1,
        startedAt: '2026-11-26T18:10:00.000Z',
        expiresAt: '2026-11-26T20:10:00.000Z',
        totalDuration: 'PT2H',
      },
    });
    const run = await deployed(['show', REQUEST_ID], () => ({ status: 200, body: view }));
    // No server time in this answer: counted on the CLI's clock (19:00, testDeps).
    expect(run.stdout).toContain(
      '  grant        2026-11-26T18:10:00.000Z → 2026-11-26T20:10:00.000Z (v1), 1h 10m left\n',
    );
  });

  it('--json: exactly the API document, one line, nothing on stderr', async () => {
    const view = requestView({ status: 'APPROVED' });
    const run = await deployed(['approve', REQUEST_ID, '--json'], () => ({ status: 200, body: view }));
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout.endsWith('\n')).toBe(true);
    expect(run.stdout.trimEnd().split('\n')).toHaveLength(1);
    expect(JSON.parse(run.stdout)).toEqual(view);
  });

  it('approvals: a table with the quorum and the requester; an empty list says so', async () => {
    const pending = requestView({
      approvals: [{ approverId: 'user-carol', at: '2026-11-26T18:01:00.000Z' }],
    });
    const full = await deployed(['list', '--approvals'], () => ({ status: 200, body: { items: [pending] } }));
    expect(full.stdout.split('\n')[0]).toMatch(
      /^ID\s+STATUS\s+ENTITLEMENT\s+ACCOUNT\s+DURATION\s+APPROVALS\s+REQUESTER\s+REASON$/,
    );
    expect(full.stdout).toMatch(
      /PENDING\s+prod-admin\s+444444444444\s+2h\s+1\/2\s+user-alice\s+Rotate the TLS certificate/,
    );
    const empty = await deployed(['list', '--approvals'], () => ({
      status: 200,
      body: { items: [], nextToken: null },
    }));
    expect(empty.stdout).toBe('nothing awaits your approval\n');
  });

  it('entitlements: id, accounts, durations, approvals and what the caller may do', async () => {
    const entitlement = {
      id: 'dev-readonly',
      title: 'Read-only in dev',
      kind: 'aws-role',
      accounts: ['333333333333', '555555555555'],
      permissionSetName: 'DevReadOnly',
      maxDuration: 'PT8H',
      defaultDuration: 'PT1H',
      requireReason: false,
      approvalsRequired: 1,
      autoApprove: true,
      eligible: true,
      breakGlass: false,
    };
    const run = await deployed(['entitlements'], () => ({
      status: 200,
      body: { items: [entitlement], nextToken: null },
    }));
    expect(run.stdout.trimEnd().split('\n')).toEqual([
      'ID            ACCOUNTS         DEFAULT  MAX  APPROVALS  YOU MAY  TITLE',
      'dev-readonly  333333333333 +1  1h       8h   auto       request  Read-only in dev',
    ]);
    expect(run.calls[0]?.url.pathname).toBe('/prod/v1/entitlements');
  });

  it('control characters from the API never reach the terminal', async () => {
    const run = await deployed(['show', REQUEST_ID], () => ({
      status: 200,
      body: requestView({ reason: 'fine\u001b]0;pwned\u0007\nsecond line' }),
    }));
    const controls = [...run.stdout].filter(
      (c) => c !== '\n' && (c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f),
    );
    expect(controls).toEqual([]);
    expect(run.stdout).toContain('  reason       fine ]0;pwned second line\n');
  });
});

describe('pam local clock', () => {
  it('advance: POST /local/clock/advance {"by": ISO} and one summary line', async () => {
    // Prepare
    const { cwd } = localProject();
    const transport = fakeFetch(() => ({
      status: 200,
      body: {
        now: '2026-11-26T20:00:00.000Z',
        offsetMs: 7_200_000,
        fired: { schedules: 1, rules: ['reconcile'] },
      },
    }));
    // Act
    const run = await runCli(['local', 'clock', 'advance', '2h'], {
      cwd,
      env: { PAM_USER: 'alice' },
      deps: testDeps({ fetch: transport.fetch }),
    });
    // Assess
    expect(run).toEqual({
      code: 0,
      stdout: 'clock: 2026-11-26T20:00:00.000Z (2h ahead of real time); fired 1 schedule, rules: reconcile\n',
      stderr: '',
    });
    expect(transport.calls).toHaveLength(1);
    expect(transport.calls[0]?.url.href).toBe('http://127.0.0.1:4010/local/clock/advance');
    expect(transport.calls[0]?.body).toEqual({ by: 'PT2H' });
  });

  it.each([
    ['25h', 'P1DT1H'],
    ['30m', 'PT30M'],
    ['1d', 'P1D'],
    ['PT2H', 'PT2H'],
  ])('advance %s sends %s', async (text, iso) => {
    const { cwd } = localProject();
    const transport = fakeFetch(() => ({
      status: 200,
      body: { now: '2026-11-27T20:00:00.000Z', offsetMs: 93_600_000, fired: { schedules: 3, rules: [] } },
    }));
    const run = await runCli(['local', 'clock', 'advance', text], {
      cwd,
      deps: testDeps({ fetch: transport.fetch }),
    });
    expect(transport.calls[0]?.body).toEqual({ by: iso });
    expect(run.stdout).toBe(
      'clock: 2026-11-27T20:00:00.000Z (1d 2h ahead of real time); fired 3 schedules, rules: none\n',
    );
  });

  it('clock: GET /local/clock', async () => {
    const { cwd } = localProject();
    const transport = fakeFetch(() => ({
      status: 200,
      body: { now: '2026-11-26T18:00:00.000Z', offsetMs: 0 },
    }));
    const run = await runCli(['local', 'clock'], { cwd, deps: testDeps({ fetch: transport.fetch }) });
    expect(run.stdout).toBe('clock: 2026-11-26T18:00:00.000Z (real time)\n');
    expect(transport.calls[0]).toMatchObject({ method: 'GET' });
    expect(transport.calls[0]?.url.href).toBe('http://127.0.0.1:4010/local/clock');
  });

  it('--json prints the clock document', async () => {
    const { cwd } = localProject();
    const answer = {
      now: '2026-11-26T18:30:00.000Z',
      offsetMs: 1_800_000,
      fired: { schedules: 0, rules: [] },
    };
    const transport = fakeFetch(() => ({ status: 200, body: answer }));
    const run = await runCli(['local', 'clock', 'advance', '30m', '--json'], {
      cwd,
      deps: testDeps({ fetch: transport.fetch }),
    });
    expect(JSON.parse(run.stdout)).toEqual(answer);
  });

  it('is refused in deployed mode', async () => {
    const run = await runCli(['local', 'clock', 'advance', '2h'], { env: DEPLOYED_ENV });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      'pam: `pam local` works only in local mode, and PAM_API_URL (or --api-url) selects a deployed API\n',
    );
  });
});
